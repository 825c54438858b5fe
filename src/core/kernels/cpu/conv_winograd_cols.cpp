// The stride-2 column Winograd (see conv_winograd_cols.h for the algebra): the row transforms are
// in conv_winograd_cols_kernel.h, compiled here once per instruction set; the products are
// cpu::gemm's, on weight planes packed once per call and, where the shape allows, transformed
// planes the transforms wrote straight into the GEMM kernel's panels (BPlane).
#include "kernels/cpu/conv_winograd_cols.h"

#include <algorithm>
#include <bit>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "parallel.h"

namespace nabla::cpu::winograd_cols {

namespace {

// Where the transforms put element (row r, column n) of a plane that is a GEMM's B: in gemm's own
// panels (GemmPanelsB), which gemm_packed_ab multiplies as they are, when every run of TW columns
// the transforms write lies within one panel (TW divides the panel width: VGG's TW of 8 against
// 8 to 32, but not the baseline kernel's 4 doubles); else in plain rows, which gemm_packed_a
// packs. Packing B was a pass over each plane just written: 4% of the AVX2 forward and input
// gradient. An offset is a row's part plus a column's; the column's, taken for every run
// written, by a shift where a division would cost more than the run (panels are 2^k wide).
struct BPlane {
  GemmPanelsB panels;  // K rows, N columns
  bool in_panels;
  int shift;  // log2(panels.nr)
  int64_t row(int64_t r) const { return in_panels ? panels.row(r) : r * panels.N; }
  int64_t column(int64_t n) const {
    return in_panels ? (n >> shift) * panels.panel() + (n & (panels.nr - 1)) : n;
  }
};
struct BPlanes {
  BPlane pairs, odd;  // planes 0-2 (ld columns) and plane 3 (2·ld)
};

// The four row transforms, one copy per instruction set (conv_winograd_cols_kernel.h).
template <class T>
struct ColsTransforms {
  void (*input)(T* B, int64_t xs, const BPlanes& at, const T* plane, const Conv2dShape& s,
                int64_t i, int64_t c, T* work);
  void (*output)(T* plane, const T* M, int64_t xs, int64_t ld, const Conv2dShape& s, int64_t i,
                 int64_t oc, T bias, bool relu, T* work);
  void (*output_grad)(T* B, int64_t xs, const BPlanes& at, const T* plane, const Conv2dShape& s,
                      int64_t i, int64_t oc, T* work);
  void (*input_grad)(T* plane, const T* G, int64_t xs, int64_t ld, const Conv2dShape& s, int64_t i,
                     int64_t c, T* work);
};

}  // namespace

namespace generic {
#define NABLA_WINOGRAD_COLS_TARGET
#include "kernels/cpu/conv_winograd_cols_kernel.h"
#undef NABLA_WINOGRAD_COLS_TARGET
}  // namespace generic

#if defined(__x86_64__) || defined(__i386__)
namespace avx2 {
#define NABLA_WINOGRAD_COLS_TARGET __attribute__((target("avx2,fma")))
#include "kernels/cpu/conv_winograd_cols_kernel.h"
#undef NABLA_WINOGRAD_COLS_TARGET
}  // namespace avx2

namespace avx512 {
#define NABLA_WINOGRAD_COLS_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#include "kernels/cpu/conv_winograd_cols_kernel.h"
#undef NABLA_WINOGRAD_COLS_TARGET
}  // namespace avx512
#endif

namespace {

template <class T>
ColsTransforms<T> transforms_for(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == Isa::avx512) return avx512::cols_transforms<T>();
  if (isa == Isa::avx2) return avx2::cols_transforms<T>();
#endif
  (void)isa;
  return generic::cols_transforms<T>();
}

// Elements of one weight plane (OC, 3C) packed for a GEMM (gemm_pack_a, in either orientation),
// by the shape alone, as conv.cpp's workspace is.
int64_t packed_plane(const Conv2dShape& s) {
  return gemm_packed_a_bound(s.OC, 3 * s.C);
}

// Where one task's buffers lie in its scratch: the chunk's transformed input (or input gradient)
// V (4 planes of 3C rows) and products (or output gradient) M (4 planes of OC rows), and the
// transforms' rows. Planes 0-2 have ld columns, plane 3 2·ld; each is sized for gemm's panels
// (gemm_panels_b_bound), which hold at least its plain rows. A plane is a line longer than that:
// the plain stride is a multiple of 4 KiB on VGG-like layers, which would put the rows a
// transform writes at once in one cache set.
constexpr int64_t kLine = 16;

struct Layout {
  int64_t ld, xv, xm;        // columns (pairs of the chunk); plane strides of V and M
  int64_t V, M, work, size;  // offsets, and the total
  Layout(const Conv2dShape& s, int64_t chunk) {
    ld = chunk * s.OH * (s.W / 4);
    xv = gemm_panels_b_bound(3 * s.C, ld) + kLine, xm = gemm_panels_b_bound(s.OC, ld) + kLine;
    V = 0, M = 3 * xv + gemm_panels_b_bound(3 * s.C, 2 * ld);
    work = M + 3 * xm + gemm_panels_b_bound(s.OC, 2 * ld);
    size = work + 5 * (s.W / 4) + 1;
  }
};

// The layout of a product's B planes, K rows each, for the kernel that multiplies them.
template <class T>
BPlanes b_planes(GemmKernel kernel, int64_t K, const Conv2dShape& s, int64_t ld) {
  const GemmPanelsB pairs = gemm_panels_b<T>(kernel, K, ld);
  const GemmPanelsB odd = gemm_panels_b<T>(kernel, K, 2 * ld);
  const bool in_panels = std::has_single_bit(uint64_t(pairs.nr)) && pairs.nr % (s.W / 4) == 0;
  const int shift = std::countr_zero(uint64_t(pairs.nr));
  return {{pairs, in_panels, shift}, {odd, in_panels, shift}};
}

// The 4 products of a chunk, C_p = U_p · B_p: from B's panels (with their padding columns zeroed)
// or from its plain rows.
template <class T>
void products(GemmKernel kernel, const T* U, int64_t u_plane, T* B, int64_t xb, const BPlanes& at,
              T* C, int64_t xc, int64_t M) {
  for (int64_t p = 0; p < 4; ++p) {
    const BPlane& b = p < 3 ? at.pairs : at.odd;
    const int64_t N = b.panels.N, K = b.panels.K;
    if (b.in_panels) {
      b.panels.zero_padding(B + p * xb);
      gemm_packed_ab<T>(kernel, M, N, K, T(1), U + p * u_plane, B + p * xb, T(0), C + p * xc, N);
    } else {
      gemm_packed_a<T>(kernel, M, N, K, T(1), U + p * u_plane, false, B + p * xb, N, T(0),
                       C + p * xc, N);
    }
  }
}

}  // namespace

bool fits(const Conv2dShape& s) {
  return s.KH == 3 && s.KW == 3 && s.stride_h == 2 && s.stride_w == 2 && s.pad_h == 1 &&
         s.pad_w == 1 && s.dilation_h == 1 && s.dilation_w == 1 && s.groups == 1 && s.H % 2 == 0 &&
         s.W % 4 == 0 && s.H > 0 && s.W > 0 && s.OH == s.H / 2 && s.OW == s.W / 2;
}

int64_t elements_per_image(const Conv2dShape& s) {
  return 5 * s.OH * (s.W / 4) * (3 * s.C + s.OC);
}

int64_t scratch_size(const Conv2dShape& s, int64_t chunk) {
  return Layout(s, chunk).size;
}

int64_t weight_size(const Conv2dShape& s) {
  return 4 * packed_plane(s) + 4 * s.OC * 3 * s.C;
}

template <class T>
void transform_weight(T* U, const T* weight, const Conv2dShape& s, Product product) {
  // U_p (OC, 3C): row oc, column 3c + kh holds w0, w0 + w2, w2 or w1 of kernel row (oc, c, kh).
  const int64_t R = 3 * s.C, plane = s.OC * R;
  T* staged = U + 4 * packed_plane(s);
  parallel::parallel_for(s.OC, 8, [&](int64_t oc0, int64_t oc1) {
    for (int64_t oc = oc0; oc < oc1; ++oc)
      for (int64_t r = 0; r < R; ++r) {
        const T* w = weight + (oc * R + r) * 3;
        const int64_t at = oc * R + r;
        staged[at] = w[0], staged[plane + at] = w[0] + w[2], staged[2 * plane + at] = w[2];
        staged[3 * plane + at] = w[1];
      }
  });
  const GemmKernel kernel = gemm_active_kernel();
  const bool forward = product == Product::forward;
  parallel::parallel_for(4, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      gemm_pack_a<T>(kernel, !forward, forward ? s.OC : R, forward ? R : s.OC, staged + p * plane,
                     R, U + p * packed_plane(s));
  });
}

template <class T>
void forward_images(T* out, const T* inp, const T* U, const T* bias, const Conv2dShape& s,
                    int64_t n0, int64_t nb, T* scratch, bool relu) {
  const ColsTransforms<T> f = transforms_for<T>(active_isa());
  const GemmKernel kernel = gemm_active_kernel();
  const Layout L(s, nb);
  const BPlanes at = b_planes<T>(kernel, 3 * s.C, s, L.ld);
  T *V = scratch + L.V, *M = scratch + L.M, *work = scratch + L.work;
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t c = 0; c < s.C; ++c)
      f.input(V, L.xv, at, inp + ((n0 + i) * s.C + c) * s.H * s.W, s, i, c, work);
  products(kernel, U, packed_plane(s), V, L.xv, at, M, L.xm, s.OC);
  const int64_t P = s.OH * s.OW;
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t oc = 0; oc < s.OC; ++oc)
      f.output(out + ((n0 + i) * s.OC + oc) * P, M, L.xm, L.ld, s, i, oc, bias ? bias[oc] : T(0),
               relu, work);
}

template <class T>
void input_grad_images(T* dinp, const T* dout, const T* U, const Conv2dShape& s, int64_t n0,
                       int64_t nb, T* scratch) {
  const ColsTransforms<T> f = transforms_for<T>(active_isa());
  const GemmKernel kernel = gemm_active_kernel();
  const Layout L(s, nb);
  const BPlanes at = b_planes<T>(kernel, s.OC, s, L.ld);
  // The output gradient goes where the forward's products were, the input gradient where its
  // transformed input was.
  T *G = scratch + L.V, *D = scratch + L.M, *work = scratch + L.work;
  const int64_t P = s.OH * s.OW;
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t oc = 0; oc < s.OC; ++oc)
      f.output_grad(D, L.xm, at, dout + ((n0 + i) * s.OC + oc) * P, s, i, oc, work);
  products(kernel, U, packed_plane(s), D, L.xm, at, G, L.xv, 3 * s.C);
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t c = 0; c < s.C; ++c)
      f.input_grad(dinp + ((n0 + i) * s.C + c) * s.H * s.W, G, L.xv, L.ld, s, i, c, work);
}

#define NABLA_INSTANTIATE(T)                                                                       \
  template void transform_weight<T>(T*, const T*, const Conv2dShape&, Product);                    \
  template void forward_images<T>(T*, const T*, const T*, const T*, const Conv2dShape&, int64_t,   \
                                  int64_t, T*, bool);                                              \
  template void input_grad_images<T>(T*, const T*, const T*, const Conv2dShape&, int64_t, int64_t, \
                                     T*);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu::winograd_cols
