// Winograd F(2×2, 3×3) and F(4×4, 3×3): the steps (see conv_winograd.h for the algebra). The
// tile transforms and the weight transforms (G g Gᵀ, Gᵀ W G, once per call) are in
// conv_winograd_kernel.h (F(4×4)'s tile transforms in conv_winograd4_kernel.h), compiled here
// once per instruction set; the products are cpu::gemm's, on weight planes packed once per call.
#include "kernels/cpu/conv_winograd.h"

#include <algorithm>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "parallel.h"

namespace nabla::cpu::winograd {

// F(4×4, 3×3) where a row of its tiles is at least 8 long (outputs at least 29 wide), else
// F(2×2, 3×3). The transforms run along rows of tiles: on shorter rows F(4×4) leaves most of each
// vector empty, and bench/conv_bench measured it slower (docs/performance.md).
int64_t outputs_per_tile(const Conv2dShape& s) {
  return (s.OW + 3) / 4 >= 8 ? 4 : 2;
}

namespace {

struct Geometry {
  int64_t m, xi;              // outputs per tile side, transform-domain positions (m + 2)²
  int64_t TH, TW, per_image;  // tile rows, tile columns, tiles
  explicit Geometry(const Conv2dShape& s)
      : m(outputs_per_tile(s)),
        xi((m + 2) * (m + 2)),
        TH((s.OH + m - 1) / m),
        TW((s.OW + m - 1) / m),
        per_image(TH * TW) {}
  // The transforms' row buffers (conv_winograd*_kernel.h; input_grad_tiles needs the most).
  int64_t work() const {
    if (m == 4) return 40 * TW + 8 + (4 * TH + 2) * (10 * TW + 4);
    return 18 * TW + 2 + (2 * TH + 2) * (6 * TW + 2);
  }
};

// Elements of one plane of U packed for a GEMM (gemm_pack_a, in either orientation), by the shape
// alone, as conv.cpp's workspace is. The packed planes follow U's own.
int64_t packed_plane(const Conv2dShape& s) {
  return gemm_packed_a_bound(s.OC, s.C);
}
template <class T>
T* packed_weight(T* U, const Conv2dShape& s) {
  return U + Geometry(s).xi * s.OC * s.C;
}

// The four tile transforms, one copy per instruction set (conv_winograd_kernel.h).
template <class T>
struct Transforms {
  using Rows = void (*)(T*, int64_t, const T*, const Conv2dShape&, const Geometry&, int64_t,
                        int64_t, T*);
  Rows input, output_grad;
  void (*output)(T* plane, const T* src, int64_t xs, const Conv2dShape& s, const Geometry& t,
                 int64_t th0, int64_t th1, T bias, bool relu, T* work);
  void (*input_grad)(T* plane, const T* src, int64_t xs, const Conv2dShape& s, const Geometry& t,
                     int64_t th0, int64_t th1, T* work);
  // The weight's transforms, for the pairs of blocks [b0, b1) of kPairBlock pairs: U's planes,
  // and the weight gradient (added to dw) from its transform Wg.
  void (*weight)(T* U, const T* weight, int64_t plane, int64_t b0, int64_t b1);
  void (*weight_grad)(T* dw, const T* Wg, int64_t plane, int64_t b0, int64_t b1);
};

// Pairs are handled in blocks whose transform-domain values are gathered in a small buffer and
// then written to (or read from) the ξ planes as contiguous runs: one pair's values straight
// into the planes (OC·C apart, a multiple of 4 KiB on 64 × 64 layers) share one cache set, which
// made the weight transform a fifth of a batch-1 convnet inference.
constexpr int64_t kPairBlock = 64;

}  // namespace

namespace generic {
#define NABLA_WINOGRAD_TARGET
#include "kernels/cpu/conv_winograd_kernel.h"
#undef NABLA_WINOGRAD_TARGET
}  // namespace generic

#if defined(__x86_64__) || defined(__i386__)
namespace avx2 {
#define NABLA_WINOGRAD_TARGET __attribute__((target("avx2,fma")))
#include "kernels/cpu/conv_winograd_kernel.h"
#undef NABLA_WINOGRAD_TARGET
}  // namespace avx2

namespace avx512 {
#define NABLA_WINOGRAD_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#include "kernels/cpu/conv_winograd_kernel.h"
#undef NABLA_WINOGRAD_TARGET
}  // namespace avx512
#endif

namespace {

template <class T>
Transforms<T> transforms_for(Isa isa, int64_t m) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == Isa::avx512) return avx512::transforms<T>(m);
  if (isa == Isa::avx2) return avx2::transforms<T>(m);
#endif
  (void)isa;
  return generic::transforms<T>(m);
}

// Where one task's buffers lie in its scratch: the chunk's transformed input (or input
// gradient) V (ξ, C, ld) and output (or output gradient) M (ξ, OC, ld), and the transforms' rows.
// Rows of V and M hold a step's tiles, rounded up to whole cache lines; one ξ block is a line
// longer than its rows, because the plain stride is a multiple of 4 KiB on VGG-like layers, which
// put the rows a transform writes at once in one cache set.
constexpr int64_t kLine = 16;

struct Layout {
  int64_t ld, xv, xm;        // row length; ξ strides of V and M
  int64_t V, M, work, size;  // offsets, and the total
  Layout(const Conv2dShape& s, int64_t chunk, int64_t rows) {
    const Geometry t(s);
    ld = (chunk * rows * t.TW + kLine - 1) / kLine * kLine;
    xv = s.C * ld + kLine, xm = s.OC * ld + kLine;
    V = 0, M = t.xi * xv, work = M + t.xi * xm;
    size = work + t.work();
  }
};

}  // namespace

bool fits(const Conv2dShape& s) {
  return s.KH == 3 && s.KW == 3 && s.stride_h == 1 && s.stride_w == 1 && s.dilation_h == 1 &&
         s.dilation_w == 1 && s.groups == 1;
}

int64_t weight_size(const Conv2dShape& s) {
  const Geometry t(s);
  return t.xi * s.OC * s.C + t.xi * packed_plane(s);
}

int64_t weight_grad_size(const Conv2dShape& s) {
  return Geometry(s).xi * s.OC * s.C;
}

int64_t elements_per_image(const Conv2dShape& s) {
  const Geometry t(s);
  return t.xi * (s.C + s.OC) * t.per_image;
}

int64_t tile_rows(const Conv2dShape& s) {
  return Geometry(s).TH;
}

int64_t rows_per_step(const Conv2dShape& s, int64_t chunk, int64_t budget) {
  const Geometry t(s);
  if (chunk > 1) return t.TH;
  // As few steps as keep each under budget, with their rows spread evenly.
  const int64_t per_row = t.xi * (s.C + s.OC) * t.TW;
  const int64_t steps = std::clamp<int64_t>((t.TH * per_row + budget - 1) / budget, 1, t.TH);
  return (t.TH + steps - 1) / steps;
}

int64_t scratch_size(const Conv2dShape& s, int64_t chunk, int64_t rows) {
  return Layout(s, chunk, rows).size;
}

template <class T>
void transform_weight(T* U, const T* weight, const Conv2dShape& s, Product product) {
  // U_ξ = (G g Gᵀ)_ξ for every (output channel, input channel) pair, stored as planes of OC·C.
  // It runs before a call's steps, with the pool otherwise idle: the blocks are split over the
  // threads (each block's values are the same whichever thread computes them).
  const Geometry t(s);
  const int64_t plane = s.OC * s.C;
  const Transforms<T> f = transforms_for<T>(active_isa(), t.m);
  parallel::parallel_for((plane + kPairBlock - 1) / kPairBlock, 8,
                         [&](int64_t b0, int64_t b1) { f.weight(U, weight, plane, b0, b1); });
  // Then each plane packed for the product it takes part in, once for all the steps' GEMMs.
  const GemmKernel kernel = gemm_active_kernel();
  const bool forward = product == Product::forward;
  parallel::parallel_for(t.xi, 1, [&](int64_t x0, int64_t x1) {
    for (int64_t xi = x0; xi < x1; ++xi)
      gemm_pack_a<T>(kernel, !forward, forward ? s.OC : s.C, forward ? s.C : s.OC, U + xi * plane,
                     s.C, packed_weight(U, s) + xi * packed_plane(s));
  });
}

// Where a step's tiles go: image i's tile row th, tile k is column (i·(th1 - th0) + th - th0)·TW
// + k of V and M.
template <class T>
void forward_step(T* out, const T* inp, const T* U, const T* bias, const Conv2dShape& s,
                  int64_t chunk, int64_t rows, Step st, T* scratch, bool relu) {
  const Geometry t(s);
  const Transforms<T> f = transforms_for<T>(active_isa(), t.m);
  const Layout L(s, chunk, rows);
  T *V = scratch + L.V, *M = scratch + L.M, *work = scratch + L.work;
  const int64_t P = s.OH * s.OW, block = (st.th1 - st.th0) * t.TW;
  for (int64_t i = 0; i < st.nb; ++i)
    for (int64_t c = 0; c < s.C; ++c)
      f.input(V + c * L.ld + i * block, L.xv, inp + ((st.n0 + i) * s.C + c) * s.H * s.W, s, t,
              st.th0, st.th1, work);
  const GemmKernel kernel = gemm_active_kernel();
  const T* Up = packed_weight(U, s);
  for (int64_t xi = 0; xi < t.xi; ++xi)
    gemm_packed_a<T>(kernel, s.OC, st.nb * block, s.C, T(1), Up + xi * packed_plane(s), false,
                     V + xi * L.xv, L.ld, T(0), M + xi * L.xm, L.ld);
  for (int64_t i = 0; i < st.nb; ++i)
    for (int64_t oc = 0; oc < s.OC; ++oc)
      f.output(out + ((st.n0 + i) * s.OC + oc) * P, M + oc * L.ld + i * block, L.xm, s, t, st.th0,
               st.th1, bias ? bias[oc] : T(0), relu, work);
}

template <class T>
void backward_run(T* dinp, T* Wg, const T* dout, const T* inp, const T* U, const Conv2dShape& s,
                  int64_t chunk, int64_t rows, int64_t first, int64_t last, T* scratch) {
  const Geometry t(s);
  const Transforms<T> f = transforms_for<T>(active_isa(), t.m);
  const Layout L(s, chunk, rows);
  T *V = scratch + L.V, *M = scratch + L.M, *work = scratch + L.work;
  const int64_t P = s.OH * s.OW, plane = s.OC * s.C;
  const GemmKernel kernel = gemm_active_kernel();
  const T* Up = dinp ? packed_weight(U, s) : nullptr;
  for (int64_t n0 = first; n0 < last; n0 += chunk) {
    const int64_t nb = std::min(chunk, last - n0);
    for (int64_t th0 = 0; th0 < t.TH; th0 += rows) {  // in order: blocks share input rows
      const int64_t th1 = std::min(th0 + rows, t.TH), block = (th1 - th0) * t.TW;
      for (int64_t i = 0; i < nb; ++i) {
        for (int64_t oc = 0; oc < s.OC; ++oc)
          f.output_grad(M + oc * L.ld + i * block, L.xm, dout + ((n0 + i) * s.OC + oc) * P, s, t,
                        th0, th1, work);
        if (Wg)
          for (int64_t c = 0; c < s.C; ++c)
            f.input(V + c * L.ld + i * block, L.xv, inp + ((n0 + i) * s.C + c) * s.H * s.W, s, t,
                    th0, th1, work);
      }
      if (Wg) {
        const T beta = n0 == first && th0 == 0 ? T(0) : T(1);
        for (int64_t xi = 0; xi < t.xi; ++xi)
          gemm<T>(false, true, s.OC, s.C, nb * block, T(1), M + xi * L.xm, L.ld, V + xi * L.xv,
                  L.ld, beta, Wg + xi * plane, s.C);
      }
      if (!dinp) continue;
      // The weight gradient has read V: it now takes the transformed input gradient.
      for (int64_t xi = 0; xi < t.xi; ++xi)
        gemm_packed_a<T>(kernel, s.C, nb * block, s.OC, T(1), Up + xi * packed_plane(s), false,
                         M + xi * L.xm, L.ld, T(0), V + xi * L.xv, L.ld);
      for (int64_t i = 0; i < nb; ++i)
        for (int64_t c = 0; c < s.C; ++c)
          f.input_grad(dinp + ((n0 + i) * s.C + c) * s.H * s.W, V + c * L.ld + i * block, L.xv, s,
                       t, th0, th1, work);
    }
  }
}

template <class T>
void transform_weight_grad(T* dw, const T* Wg, const Conv2dShape& s) {
  const Geometry t(s);
  const Transforms<T> f = transforms_for<T>(active_isa(), t.m);
  const int64_t plane = s.OC * s.C;
  parallel::parallel_for((plane + kPairBlock - 1) / kPairBlock, 8,
                         [&](int64_t b0, int64_t b1) { f.weight_grad(dw, Wg, plane, b0, b1); });
}

#define NABLA_INSTANTIATE(T)                                                                       \
  template void transform_weight_grad<T>(T*, const T*, const Conv2dShape&);                        \
  template void transform_weight<T>(T*, const T*, const Conv2dShape&, Product);                    \
  template void forward_step<T>(T*, const T*, const T*, const T*, const Conv2dShape&, int64_t,     \
                                int64_t, Step, T*, bool);                                          \
  template void backward_run<T>(T*, T*, const T*, const T*, const T*, const Conv2dShape&, int64_t, \
                                int64_t, int64_t, int64_t, T*);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu::winograd
