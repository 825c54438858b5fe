// Direct convolution with output channels in vector lanes (see conv_direct_block.h): the image
// copies, transposes and weight packing here, the micro-kernels in conv_direct_block_kernel.h
// (their moves of lanes in registers in conv_direct_block_lanes.h), compiled once per
// instruction set.
#include "kernels/cpu/conv_direct_block.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

#include "kernels/cpu/isa.h"

namespace nabla::cpu::direct_block {

namespace {

// The most lanes of a vector (16 floats in a zmm register): what the workspace is sized for.
constexpr int64_t kMaxLanes = 16;
constexpr int kMaxKernel = 7;

// Outputs per tile at most (each an accumulator register): what fits beside the weight vector and
// a broadcast, 32 zmm registers with AVX-512 and 16 ymm or xmm otherwise. A block of output
// channels is one register: 16, 8 or 4 floats (8, 4 or 2 doubles).
constexpr int kRmaxGeneric = 12, kRmaxAvx2 = 12, kRmaxAvx512 = 14;
// AVX2's forward tiles where the output channels fill two blocks: 2 × 6 accumulators, beside two
// weight vectors and a broadcast (kTileBlocks), so each broadcast input serves two multiply-adds.
constexpr int kRmaxPairedAvx2 = 6;
// The same at stride 2, since session 21 (the VGG stride-2 layer's forward, 1 thread,
// conv_bench): its 16-wide rows as 6 + 6 + 4 took 11.3–11.8 ms against tiles of 4 (8
// accumulators, too few to hide the multiply-add latency) 12.5–12.9. Before, GCC carried one
// tap's broadcasts into the next and spilled (forward_tile), and tiles of 6 took 25 ms; through
// im2col + GEMM it took 12.7–13.7.
constexpr int kRmaxPairedStride2Avx2 = 6;
// Input channels per input-gradient tile, whose tiles take two rows at once: 2·12 accumulators
// with AVX-512, 2·6 with AVX2 (conv_direct_block_kernel.h, kTileBlocks). With AVX2, tiles of 11
// channels and one row lost to pairs of 6 (1 thread: convnet C32 14.2 → 12.4 ms, VGG's stride-2
// layer 16.5 → 12.3).
constexpr int kRmaxInputAvx512 = 12, kRmaxInputAvx2 = kRmaxPairedAvx2;

// n outputs (or channels) cut into `blocks` tiles of r, r at most rmax and as even as the count
// allows: 10 → one 10 (AVX-512) or two 5 (AVX2). The forward runs a row's last tile only as wide
// as the outputs left; the input gradient's last tile of channels runs whole on zero weights.
struct Tiles {
  int64_t r, blocks;
};
Tiles tiles_of(int64_t n, int64_t rmax) {
  const int64_t blocks = (n + rmax - 1) / rmax;
  return {(n + blocks - 1) / blocks, blocks};
}

// Whether the forward and the weight gradient take conv_direct_block_rows.h's kernels, a row's
// outputs in the L lanes: at stride 1 (consecutive inputs per vector), on rows of at least one
// vector, for at most 3/4 of a block of output channels, where the channel kernels leave a quarter
// or more of each block's multiply-adds on zero weights. bench/conv_bench, 1 thread: LeNet-5's
// conv1 (6 channels) 0.12–0.14 against 0.28 ms with AVX-512, 0.19–0.25 against im2col's 0.47–0.64
// with AVX2; narrow8 (8 → 8 channels, 3×3 on 28²) with AVX-512 0.42–0.48 against 0.71–0.72.
bool rows_fit(const Conv2dShape& s, int64_t L) {
  return s.stride_w == 1 && 4 * s.OC <= 3 * L && s.OW >= L;
}

// Buffers of one task, for lanes L and tiles of at most rmax:
//   xp (C, HP, WP)           the image, zero-padded (the last output's window ends inside it)
//   G  (OH, OC, GW)          input gradient: the output gradient with a zero border of KW − 1
//                            columns on the left, room for the last vector's reads on the right,
//                            each output row's channels together (a tap reads them in a stream)
//   Gt (OCB, OH, OW, L)      weight gradient: the output gradient transposed, or where `rows`
//                            (rows_fit) the rows kernels' sums with positions in lanes:
//                            (OC, C·KH·KW, L), then (OC, L) the bias gradient's
//   sums (OCB, C·KH·KW, L)   weight gradient: the partial sums of a run of images, then
//                            (OCB, L) the bias gradient's
struct Geometry {
  int64_t L, OCB, K, HP, WP, GW;
  bool rows;
  Tiles fw, ic;  // forward: outputs per tile along a row; input gradient: channels per tile
  int64_t image, grad_in, grad_w, sums;
  Geometry(const Conv2dShape& s, int64_t lanes_, int64_t rmax, int64_t rmax_input)
      : L(lanes_),
        OCB((s.OC + lanes_ - 1) / lanes_),
        K(s.C * s.KH * s.KW),
        HP(s.H + 2 * s.pad_h),
        rows(rows_fit(s, lanes_)),
        fw(tiles_of(s.OW, rmax)),
        ic(tiles_of(s.C, rmax_input)) {
    const int64_t S = s.stride_w;
    WP = s.W + 2 * s.pad_w;
    // The input gradient reads vectors of output columns q + (φ + pw − kw) / S for the input
    // columns q·S + φ of a row: q below W / S rounded up to whole vectors.
    const int64_t q_end = ((s.W + S - 1) / S + L - 1) / L * L;
    GW = s.KW - 1 + std::max(q_end + (S - 1 + s.pad_w) / S, s.OW);
    image = s.C * HP * WP;
    grad_in = s.OC * s.OH * GW;
    grad_w = rows ? (s.OC * K + s.OC) * L : OCB * s.OH * s.OW * L;
    sums = OCB * K * L;
  }
  int64_t size() const { return image + std::max(grad_in, grad_w + sums + OCB * L); }
};

// One instruction set's kernels for one geometry and kernel width.
template <class T>
struct Kernels {
  using Forward = void (*)(T*, const T*, const T*, const T*, const Conv2dShape&, const Geometry&,
                           bool, int64_t, int64_t);
  using Input = void (*)(T*, const T*, const T*, const Conv2dShape&, const Geometry&);
  using Weight = void (*)(T*, T*, const T*, const T*, const Conv2dShape&, const Geometry&);
  using Transpose = void (*)(T*, const T*, int64_t, int64_t);
  using RowsWeight = void (*)(T*, const T*, const T*, const Conv2dShape&, const Geometry&);
  Forward forward;
  Input input;
  Weight weight;
  RowsWeight rows_weight;  // where the geometry's `rows`, else null
  Transpose transpose_grad, sums_to_rows, add_sums_to_rows;
};

}  // namespace

namespace generic {
#define NABLA_DIRECT_TARGET
#define NABLA_DIRECT_BYTES 16
#define NABLA_DIRECT_RMAX kRmaxGeneric
#define NABLA_DIRECT_BLOCKS 1
#include "kernels/cpu/conv_direct_block_kernel.h"
#undef NABLA_DIRECT_BYTES
#undef NABLA_DIRECT_RMAX
#undef NABLA_DIRECT_BLOCKS
#undef NABLA_DIRECT_TARGET
}  // namespace generic

#if defined(__x86_64__) || defined(__i386__)
namespace avx2 {
#define NABLA_DIRECT_TARGET __attribute__((target("avx2,fma")))
#define NABLA_DIRECT_BYTES 32
#define NABLA_DIRECT_RMAX kRmaxAvx2
#define NABLA_DIRECT_BLOCKS 2
#include "kernels/cpu/conv_direct_block_kernel.h"
#undef NABLA_DIRECT_BYTES
#undef NABLA_DIRECT_RMAX
#undef NABLA_DIRECT_BLOCKS
#undef NABLA_DIRECT_TARGET
}  // namespace avx2

namespace avx512 {
#define NABLA_DIRECT_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#define NABLA_DIRECT_BYTES 64
#define NABLA_DIRECT_RMAX kRmaxAvx512
#define NABLA_DIRECT_BLOCKS 2
#include "kernels/cpu/conv_direct_block_kernel.h"
#undef NABLA_DIRECT_BYTES
#undef NABLA_DIRECT_RMAX
#undef NABLA_DIRECT_BLOCKS
#undef NABLA_DIRECT_TARGET
}  // namespace avx512
#endif

namespace {

int rmax_of(Isa isa) {
  return isa == Isa::avx512 ? kRmaxAvx512 : isa == Isa::avx2 ? kRmaxAvx2 : kRmaxGeneric;
}
template <class T>
int64_t lanes_of(Isa isa) {
  return (isa == Isa::avx512 ? 64 : isa == Isa::avx2 ? 32 : 16) / int64_t(sizeof(T));
}

// Outputs per forward tile at most: with AVX2, tiles that pair blocks of output channels where
// there are two (bench/conv_bench, one thread: the convnet's C32 28² layer 11.4 against 13.3 ms,
// LeNet-5's conv2 0.37 against 0.40), of 6 at stride 1 and 4 at stride 2.
int forward_rmax(Isa isa, const Conv2dShape& s, int64_t lanes) {
  if (isa != Isa::avx2 || s.OC <= lanes) return rmax_of(isa);
  return s.stride_w == 1 ? kRmaxPairedAvx2 : kRmaxPairedStride2Avx2;
}

// An instruction set's geometry for elements of type T.
template <class T>
Geometry geometry_of(const Conv2dShape& s, Isa isa) {
  return Geometry(s, lanes_of<T>(isa), forward_rmax(isa, s, lanes_of<T>(isa)),
                  isa == Isa::avx512 ? kRmaxInputAvx512
                  : isa == Isa::avx2 ? kRmaxInputAvx2
                                     : rmax_of(isa));
}

// The active instruction set's geometry and kernels.
template <class T>
struct Setup {
  Geometry g;
  Kernels<T> k;
  Setup(const Conv2dShape& s, Isa isa) : g(geometry_of<T>(s, isa)), k(pick_kernels(s, isa)) {}

 private:
  Kernels<T> pick_kernels(const Conv2dShape& s, Isa isa) const {
#if defined(__x86_64__) || defined(__i386__)
    if (isa == Isa::avx512) return avx512::kernels<T>(g, s);
    if (isa == Isa::avx2) return avx2::kernels<T>(g, s);
#endif
    return generic::kernels<T>(g, s);
  }
};

// xp's interior = rows [h0, h1) of image n (C, H, W); its border stays as the caller zeroed it.
template <class T>
void pad_image(T* xp, const T* inp, const Conv2dShape& s, const Geometry& g, int64_t h0 = 0,
               int64_t h1 = -1) {
  if (h1 < 0) h1 = s.H;
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t h = h0; h < h1; ++h)
      std::memcpy(xp + (c * g.HP + h + s.pad_h) * g.WP + s.pad_w, inp + (c * s.H + h) * s.W,
                  sizeof(T) * s.W);
}

}  // namespace

bool fits(const Conv2dShape& s) {
  const int64_t S = s.stride_h;
  return s.groups == 1 && (S == 1 || S == 2) && s.stride_w == S && s.dilation_h == 1 &&
         s.dilation_w == 1 && s.KH <= kMaxKernel && s.KW <= kMaxKernel && s.pad_h < s.KH &&
         s.pad_w < s.KW && s.H + 2 * s.pad_h >= s.KH && s.W + 2 * s.pad_w >= s.KW &&
         s.OH == (s.H + 2 * s.pad_h - s.KH) / S + 1 && s.OW == (s.W + 2 * s.pad_w - s.KW) / S + 1;
}

// The input gradient's weight holds whole tiles of input channels, zeros past C: fewer than
// the largest tile's count more than C, whichever instruction set packs it.
int64_t input_weight_size(const Conv2dShape& s) {
  return s.OC * s.KH * s.KW * (s.C + std::max({kRmaxGeneric, kRmaxAvx2, kRmaxInputAvx512}));
}

bool forward_in_rows(const Conv2dShape& s) {
  return rows_fit(s, lanes_of<float>(active_isa()));
}

int64_t weight_sums_bound(const Conv2dShape& s) {
  return Geometry(s, kMaxLanes, 1, 1).sums;
}

int64_t weight_size(const Conv2dShape& s) {
  return std::max(weight_sums_bound(s), input_weight_size(s));
}

template <class T>
int64_t weight_sums_size(const Conv2dShape& s) {
  return Geometry(s, lanes_of<T>(active_isa()), 1, 1).sums;
}

int64_t scratch_size(const Conv2dShape& s) {
  // No buffer depends on the tiles. Fewer lanes per block take fewer elements than 16, except
  // where the rows kernels take a shape only at fewer lanes (rows narrower than 16).
  int64_t most = 0;
  for (int64_t L = 2; L <= kMaxLanes; L *= 2) most = std::max(most, Geometry(s, L, 1, 1).size());
  return most;
}

template <class T>
void pack_weight(T* wp, const T* weight, const Conv2dShape& s) {
  const int64_t L = lanes_of<T>(active_isa());
  const Geometry g(s, L, 1, 1);
  if (g.rows) {  // (C·KH·KW, OC): a tap's weights for every channel together
    for (int64_t oc = 0; oc < s.OC; ++oc)
      for (int64_t k = 0; k < g.K; ++k) wp[k * s.OC + oc] = weight[oc * g.K + k];
    return;
  }
  std::fill(wp, wp + g.sums, T(0));
  for (int64_t oc = 0; oc < s.OC; ++oc)
    for (int64_t k = 0; k < g.K; ++k) wp[((oc / L) * g.K + k) * L + oc % L] = weight[oc * g.K + k];
}

template <class T>
void forward_images(T* out, const T* inp, const T* wp, const T* bias, const Conv2dShape& s,
                    int64_t n0, int64_t nb, T* scratch, bool relu, int64_t oh0, int64_t oh1) {
  const Setup<T> setup(s, active_isa());
  const Geometry& g = setup.g;
  if (oh1 < 0) oh1 = s.OH;
  // The input rows that output rows [oh0, oh1) read.
  const int64_t h0 = std::max<int64_t>(0, oh0 * s.stride_h - s.pad_h);
  const int64_t h1 = std::min<int64_t>(s.H, (oh1 - 1) * s.stride_h - s.pad_h + s.KH);
  std::fill(scratch, scratch + g.image, T(0));
  for (int64_t n = n0; n < n0 + nb; ++n) {
    pad_image(scratch, inp + n * s.C * s.H * s.W, s, g, h0, h1);
    setup.k.forward(out + n * s.OC * s.OH * s.OW, scratch, wp, bias, s, g, relu, oh0, oh1);
  }
}

template <class T>
void pack_input_weight(T* wq, const T* weight, const Conv2dShape& s) {
  const Geometry g = geometry_of<T>(s, active_isa());
  const int64_t R = g.ic.r, KK = s.KH * s.KW;
  for (int64_t t = 0; t < g.ic.blocks; ++t)
    for (int64_t k = 0; k < KK; ++k)
      for (int64_t oc = 0; oc < s.OC; ++oc)
        for (int64_t r = 0; r < R; ++r) {
          const int64_t c = t * R + r;
          wq[((t * KK + k) * s.OC + oc) * R + r] = c < s.C ? weight[(oc * s.C + c) * KK + k] : T(0);
        }
}

template <class T>
void input_grad_images(T* dinp, const T* dout, const T* wq, const Conv2dShape& s, int64_t n0,
                       int64_t nb, T* scratch) {
  const Setup<T> setup(s, active_isa());
  const Geometry& g = setup.g;
  T* G = scratch;
  std::fill(G, G + g.grad_in, T(0));  // the copies below never touch the border
  for (int64_t n = n0; n < n0 + nb; ++n) {
    for (int64_t oc = 0; oc < s.OC; ++oc)
      for (int64_t oh = 0; oh < s.OH; ++oh)
        std::memcpy(G + (oh * s.OC + oc) * g.GW + s.KW - 1,
                    dout + ((n * s.OC + oc) * s.OH + oh) * s.OW, sizeof(T) * s.OW);
    setup.k.input(dinp + n * s.C * s.H * s.W, G, wq, s, g);
  }
}

namespace {

// sums (the kernels' layout, overwritten) and db (OC, overwritten) for images [first, last);
// sums = nullptr: into the scratch's own. Returns where the sums are.
template <class T>
T* weight_sums_run(const Setup<T>& setup, T* sums, T* db, const T* dout, const T* inp,
                   const Conv2dShape& s, int64_t first, int64_t last, T* scratch) {
  const Geometry& g = setup.g;
  const int64_t L = g.L, P = s.OH * s.OW;
  T* xp = scratch;
  T* Gt = xp + g.image;
  if (!sums) sums = Gt + g.grad_w;
  T* bias = Gt + g.grad_w + g.sums;
  if (g.rows) {  // a row's positions in lanes, each lane summed apart until the run ends
    T* part = Gt;
    std::fill(xp, Gt + g.grad_w, T(0));
    for (int64_t n = first; n < last; ++n) {
      pad_image(xp, inp + n * s.C * s.H * s.W, s, g);
      setup.k.rows_weight(part, dout + n * s.OC * P, xp, s, g);
    }
    // Then each lane sum in order: the kernels' layout (one block: OC ≤ L), zeros past OC.
    const auto lane_sum = [L](const T* v) {
      T t = v[0];
      for (int64_t l = 1; l < L; ++l) t += v[l];
      return t;
    };
    std::fill(sums, sums + g.sums, T(0));
    for (int64_t oc = 0; oc < s.OC; ++oc) {
      for (int64_t k = 0; k < g.K; ++k) sums[k * L + oc] = lane_sum(part + (oc * g.K + k) * L);
      db[oc] = lane_sum(part + (s.OC * g.K + oc) * L);
    }
    return sums;
  }
  // xp's border and the sums start at zero; Gt is written whole, zero lanes included, per image.
  std::fill(xp, Gt, T(0));
  std::fill(sums, sums + g.sums, T(0));
  std::fill(bias, bias + g.OCB * L, T(0));
  for (int64_t n = first; n < last; ++n) {
    pad_image(xp, inp + n * s.C * s.H * s.W, s, g);
    setup.k.transpose_grad(Gt, dout + n * s.OC * P, s.OC, P);
    setup.k.weight(sums, bias, Gt, xp, s, g);
  }
  std::copy_n(bias, s.OC, db);
  return sums;
}

}  // namespace

template <class T>
void weight_grad_run(T* dw, T* db, const T* dout, const T* inp, const Conv2dShape& s, int64_t first,
                     int64_t last, T* scratch) {
  const Setup<T> setup(s, active_isa());
  const T* sums = weight_sums_run<T>(setup, nullptr, db, dout, inp, s, first, last, scratch);
  setup.k.sums_to_rows(dw, sums, s.OC, setup.g.K);
}

template <class T>
void weight_grad_sums(T* sums, T* db, const T* dout, const T* inp, const Conv2dShape& s,
                      int64_t first, int64_t last, T* scratch) {
  weight_sums_run<T>(Setup<T>(s, active_isa()), sums, db, dout, inp, s, first, last, scratch);
}

template <class T>
void add_weight_sums(T* dw, const T* sums, const Conv2dShape& s) {
  const Setup<T> setup(s, active_isa());
  setup.k.add_sums_to_rows(dw, sums, s.OC, setup.g.K);
}

#define NABLA_INSTANTIATE(T)                                                                       \
  template void pack_weight<T>(T*, const T*, const Conv2dShape&);                                  \
  template void forward_images<T>(T*, const T*, const T*, const T*, const Conv2dShape&, int64_t,   \
                                  int64_t, T*, bool, int64_t, int64_t);                            \
  template void pack_input_weight<T>(T*, const T*, const Conv2dShape&);                            \
  template void input_grad_images<T>(T*, const T*, const T*, const Conv2dShape&, int64_t, int64_t, \
                                     T*);                                                          \
  template void weight_grad_run<T>(T*, T*, const T*, const T*, const Conv2dShape&, int64_t,        \
                                   int64_t, T*);                                                   \
  template int64_t weight_sums_size<T>(const Conv2dShape&);                                        \
  template void weight_grad_sums<T>(T*, T*, const T*, const T*, const Conv2dShape&, int64_t,       \
                                    int64_t, T*);                                                  \
  template void add_weight_sums<T>(T*, const T*, const Conv2dShape&);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu::direct_block
