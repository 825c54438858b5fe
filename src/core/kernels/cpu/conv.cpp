// Convolution kernels: im2col/col2im and the GEMM versions built on them, and the choice between
// them and the direct and Winograd kernels (the naive loops, the definition, are in
// conv_naive.cpp). See conv.h for layouts and conventions.
#include "kernels/cpu/conv.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "kernels/cpu/conv_direct_block.h"
#include "kernels/cpu/conv_winograd.h"
#include "kernels/cpu/conv_winograd_cols.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "parallel.h"

namespace nabla::cpu {

// ---- im2col + GEMM ----

namespace {

// The input gradients of images [n0, n1), zeroed by the unit about to add into them: in
// parallel and just before use, where a zeroed tensor from the op was one thread's memset of the
// whole gradient (2% of a stride-2 VGG layer's forward + backward on 2 threads).
template <class T>
void zero_images(T* dinp, const Conv2dShape& s, int64_t n0, int64_t n1) {
  const int64_t image = s.C * s.H * s.W;
  std::fill(dinp + n0 * image, dinp + n1 * image, T(0));
}

// Above this many `col` elements a chunk stops growing: the GEMM is already large, and a
// bigger buffer only falls out of cache between im2col and the GEMM.
constexpr int64_t kColBudget = int64_t{1} << 18;
// Backward-weight partial sums: enough pieces to keep 2 or 3 threads busy to the end
// (8 = 4 + 4 = 3 + 3 + 2), few enough that adding them up costs little.
constexpr int64_t kWeightPieces = 8;
// With fewer images than threads, the direct and Winograd forwards split an image's rows between
// threads from this many multiply-adds per image (the convnet's 3×3 layers have 7 and 14 million,
// LeNet-5's conv2 a quarter million, whose image stays whole).
constexpr int64_t kBandMinMacs = int64_t{1} << 21;

// The outputs o in [lo, hi) whose input index o·stride + offset lies in [0, size): outside it
// a window reads padding.
struct Range {
  int64_t lo, hi;
};
Range valid_outputs(int64_t offset, int64_t stride, int64_t size, int64_t outputs) {
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  hi = std::min(hi, outputs);
  return {std::min(lo, hi), hi};
}

// Calls fn(tap, c, h_off, rh, w_off, rw) for every kernel tap (c, kh, kw), tap being its row of
// im2col's matrix: the tap reads input row oh·sh + h_off and column ow·sw + w_off, which lie
// inside the image for oh in rh and ow in rw. im2col and its adjoint col2im both walk this.
template <class F>
void for_each_tap(const Conv2dShape& s, F&& fn) {
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t h_off = kh * s.dilation_h - s.pad_h;
      const Range rh = valid_outputs(h_off, s.stride_h, s.H, s.OH);
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t w_off = kw * s.dilation_w - s.pad_w;
        fn((c * s.KH + kh) * s.KW + kw, c, h_off, rh, w_off,
           valid_outputs(w_off, s.stride_w, s.W, s.OW));
      }
    }
}

// col (C·KH·KW, nb·P) = the patches of images [n0, n0 + nb): row (c, kh, kw), column
// (image, oh, ow) holds inp[n, c, oh·sh - ph + kh·dh, ow·sw - pw + kw·dw], 0 in the padding.
template <class T>
void im2col(T* col, const T* inp, const Conv2dShape& s, int64_t n0, int64_t nb) {
  const int64_t P = s.OH * s.OW, cols = nb * P;
  for_each_tap(s, [&](int64_t tap, int64_t c, int64_t h_off, Range rh, int64_t w_off, Range rw) {
    T* row = col + tap * cols;
    for (int64_t i = 0; i < nb; ++i) {
      const T* plane = inp + ((n0 + i) * s.C + c) * s.H * s.W;
      T* dst = row + i * P;
      std::fill(dst, dst + rh.lo * s.OW, T(0));
      for (int64_t oh = rh.lo; oh < rh.hi; ++oh) {
        const T* src = plane + (oh * s.stride_h + h_off) * s.W + w_off;
        T* d = dst + oh * s.OW;
        std::fill(d, d + rw.lo, T(0));
        if (s.stride_w == 1) {
          std::memcpy(d + rw.lo, src + rw.lo, sizeof(T) * (rw.hi - rw.lo));
        } else if (s.stride_w == 2) {  // a constant stride: the loop vectorises
          for (int64_t ow = rw.lo; ow < rw.hi; ++ow) d[ow] = src[2 * ow];
        } else {
          for (int64_t ow = rw.lo; ow < rw.hi; ++ow) d[ow] = src[ow * s.stride_w];
        }
        std::fill(d + rw.hi, d + s.OW, T(0));
      }
      std::fill(dst + rh.hi * s.OW, dst + P, T(0));
    }
  });
}

// The adjoint of im2col: dinp[n, c, ih, iw] += every col entry that im2col copied from there.
template <class T>
void col2im(T* dinp, const T* col, const Conv2dShape& s, int64_t n0, int64_t nb) {
  const int64_t P = s.OH * s.OW, cols = nb * P;
  for_each_tap(s, [&](int64_t tap, int64_t c, int64_t h_off, Range rh, int64_t w_off, Range rw) {
    const T* row = col + tap * cols;
    for (int64_t i = 0; i < nb; ++i) {
      T* plane = dinp + ((n0 + i) * s.C + c) * s.H * s.W;
      for (int64_t oh = rh.lo; oh < rh.hi; ++oh) {
        T* d = plane + (oh * s.stride_h + h_off) * s.W + w_off;
        const T* src = row + i * P + oh * s.OW;
        if (s.stride_w == 1) {
          for (int64_t ow = rw.lo; ow < rw.hi; ++ow) d[ow] += src[ow];
        } else if (s.stride_w == 2) {
          for (int64_t ow = rw.lo; ow < rw.hi; ++ow) d[2 * ow] += src[ow];
        } else {
          for (int64_t ow = rw.lo; ow < rw.hi; ++ow) d[ow * s.stride_w] += src[ow];
        }
      }
    }
  });
}

// dout[n0 : n0 + nb] as one (OC, nb·P) matrix, so that each group's output gradient has a
// column per (image, position). One image already has that layout and is read in place; more are
// gathered into tmp with the image and channel axes swapped.
template <class T>
const T* dout_chunk(T* tmp, const T* dout, const Conv2dShape& s, int64_t n0, int64_t nb) {
  const int64_t P = s.OH * s.OW;
  if (nb == 1) return dout + n0 * s.OC * P;
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t oc = 0; oc < s.OC; ++oc)
      std::memcpy(tmp + oc * nb * P + i * P, dout + ((n0 + i) * s.OC + oc) * P, sizeof(T) * P);
  return tmp;
}

}  // namespace

namespace {

// 1×1 kernel, stride 1, no padding: an image's (C, P) block already is its `col` matrix.
bool pointwise(const Conv2dShape& s) {
  return s.KH == 1 && s.KW == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 &&
         s.pad_w == 0;
}

// Winograd F(2×2, 3×3) or F(4×4, 3×3) (conv_winograd.h) for stride-1 3×3 layers with enough
// channels on both sides: its (m + 2)² products per tile are GEMMs whose inner dimension is C
// (forward), OC (input gradient) or the tiles (weight gradient), and on few channels those are too
// thin to beat im2col + GEMM. bench/conv_bench: faster on the C64 and C128 VGG layers, level with
// im2col on the convnet's C64 14² layer (slower than the direct kernels with AVX-512, below),
// slower on its C32 28² layer and on C16 (docs/performance.md).
constexpr int64_t kWinogradMinChannels = 64;
// F(2×2) with AVX-512 from 128 channels. Its transforms run along rows of tiles, and F(2×2) is
// chosen for outputs under 29 wide, rows of at most 14 tiles: 16-lane vectors run them half empty,
// so their cost (per tile, in C + OC) doubles against AVX2's, while the products (in C · OC) save
// only 2.25× the direct kernels' multiply-adds. On the convnet's C64 14² layer the direct kernels
// took 14.7-18.8 ms against Winograd's 20.5-31.3 (fwd+bwd, 1 thread; 8.3-8.8 against 12.3-12.9
// on 2); on the VGG C128 16² layer Winograd stays ahead (24.2-28.7 against 35.3-46.3 ms). With
// AVX2 Winograd keeps the C64 14² layer (24.2 against 32.5-33.7 ms).
constexpr int64_t kWinogradF2MinChannelsAvx512 = 128;
// Transformed input and output elements per step (2 MiB of float): chunks of small images, or
// blocks of a large image's tile rows. 2^18 and 2^20 measured the same or slower on the VGG layers.
constexpr int64_t kWinogradBudget = int64_t{1} << 19;

bool use_winograd(const Conv2dShape& s) {
  if (!winograd::fits(s)) return false;
  const int64_t least = active_isa() == Isa::avx512 && winograd::outputs_per_tile(s) == 2
                            ? kWinogradF2MinChannelsAvx512
                            : kWinogradMinChannels;
  return s.C >= least && s.OC >= least;
}

// The column Winograd (conv_winograd_cols.h) for the forward and input gradient of stride-2 3×3
// layers with AVX2, on as many channels as Winograd's: 5/6 of the direct kernels' multiply-adds,
// as GEMMs at the same share of the peak. bench/conv_bench, VGG's down_s2 layer (C64 32² → 128),
// AVX2 on Zen 5 (docs/performance.md, session 30): forward 11.1-12.0 ms against the direct
// kernels' 12.3-13.3, input gradient 11.0-11.7 against 12.2-12.3 (1 thread); forward and backward
// 34.7 against 37.4 ms on 1 thread, 19.0 against 20.4 on 2 (medians of 5). With AVX-512 the direct
// forward stays ahead (6.1-6.4 against 6.5-6.7 ms), and the layer's forward and backward with it
// (19.6-19.8 against 20.1-20.8). The weight gradient stays with the direct kernels. Since its
// transforms write gemm's panels (session 31), AVX-512 still loses on 2 threads, where
// bench/compare measures: forward and backward 12.7-13.2 ms against 11.9-12.3 (and 12.1-12.5
// with the input gradient alone taken here), though it won on 1 (19.9-20.3 against 20.6-22.9).
bool use_winograd_cols(const Conv2dShape& s) {
  return winograd_cols::fits(s) && active_isa() == Isa::avx2 && s.C >= kWinogradMinChannels &&
         s.OC >= kWinogradMinChannels;
}

// Direct convolution without im2col (conv_direct_block.h), per kernel, where bench/conv_bench
// measured it faster than im2col + GEMM (docs/performance.md, 1 thread unless said):
// - forward: where each output sums at least 16 taps (a 3×3 first layer's im2col is cheap) and,
//   except with AVX-512, over at least 2 input channels or with a row's outputs in lanes (LeNet's
//   conv1 with AVX2: 0.19–0.25 ms that way, im2col 0.47–0.64, the channel kernels slower). At
//   stride 2 (VGG's down_s2) where tiles take two blocks of output channels: with AVX-512, and with
//   AVX2 on more than 8 output channels (tiles of 4 outputs, session 14: 12.1–12.7 against im2col's
//   12.7–13.7 ms; with one block 18–20; tiles of 6 + 6 + 4 since session 21, 11.3–11.8).
// - input gradient: with AVX-512 or AVX2 on at least 2 channels (a first layer's input needs no
//   gradient in training). AVX2: convnet C32 12.7 against im2col's 14.6 ms, narrow8 1.1 against
//   1.9; the stride-2 layer level, 14.3 against 14.2 (7.2 against 7.5 on 2 threads).
// - weight gradient: on every shape it fits (on first layers it also beat session 4's sweep with
//   8 lanes along the row, which it replaced); at stride 2 with AVX2 too, whose sweeps take two
//   blocks of output channels as well (15.6 against im2col's 18.7 ms; the baseline's lost, 46
//   against 41).
struct DirectBlock {
  bool forward, input, weight;
};
DirectBlock use_direct_block(const Conv2dShape& s) {
  if (!direct_block::fits(s) || use_winograd(s)) return {false, false, false};
  const bool avx512 = active_isa() == Isa::avx512;
  const bool taps = s.C * s.KH * s.KW >= 16;
  const bool vector = active_isa() != Isa::generic, input = s.C >= 2 && vector;
  const bool paired = active_isa() == Isa::avx2 && s.OC > 8;  // two blocks of 8 floats
  if (s.stride_h != 1) return {taps && (avx512 || paired), input, vector};
  return {taps && (s.C >= 2 || avx512 || direct_block::forward_in_rows(s)), input, true};
}

// How the fast kernels cut the work. Everything here depends on the shape alone, never on the
// thread count, so every output element (and every partial sum) is computed in the same order
// whatever the pool size; only `slots` (workspace copies, one per task running at once) follows
// num_threads().
struct Plan {
  int64_t chunk;   // images per im2col + GEMM step
  int64_t units;   // ceil(N / chunk): the independent steps of forward and backward-input
  int64_t pieces;  // backward-weight partial sums, each over a fixed run of images
  int64_t slots;   // tasks run at once, each with its own col and tmp buffers
  int64_t col_size, tmp_size, piece_size;
  int64_t weight_size;   // Winograd's transformed weight, shared by the tasks (0 otherwise)
  int64_t rows, blocks;  // Winograd: tile rows per step, and steps per image (1 and 1 otherwise)
  int64_t bands;         // the forward's bands of output rows per image (direct) or per step's tile
                         // rows (Winograd), a unit each, for fewer images than threads (else 1)
  int64_t total() const {
    return slots * (col_size + tmp_size) + pieces * piece_size + weight_size;
  }
};

// Images per step for a shape whose step needs `per_image` workspace elements per image.
int64_t images_per_chunk(int64_t N, int64_t per_image, int64_t budget = kColBudget) {
  N = std::max<int64_t>(N, 1);
  per_image = std::max<int64_t>(per_image, 1);
  // As many chunks as the budget asks for, rounded up to a multiple of 6 so that 1, 2 or 3
  // threads get equal shares, then spread the images evenly over them.
  int64_t units = (N * per_image + budget - 1) / budget;
  units = std::min(N, (units + 5) / 6 * 6);
  return (N + units - 1) / units;
}

Plan plan_of(const Conv2dShape& s) {
  Plan p;
  p.weight_size = 0;
  const int64_t P = s.OH * s.OW;
  const bool wino = use_winograd(s);
  p.chunk = pointwise(s) ? 1
            : wino       ? images_per_chunk(s.N, winograd::elements_per_image(s), kWinogradBudget)
                         : conv2d_images_per_chunk(s);
  p.units = (s.N + p.chunk - 1) / p.chunk;
  p.pieces = std::min<int64_t>(s.N, kWeightPieces);
  p.col_size = pointwise(s) ? 0 : s.C * s.KH * s.KW * p.chunk * P;
  // Sized by the shape alone: which kernels take the direct path also depends on the ISA.
  if (direct_block::fits(s) && !wino) {
    p.col_size = std::max(p.col_size, direct_block::scratch_size(s));
    p.weight_size = direct_block::weight_size(s);
  }
  p.tmp_size = s.OC * p.chunk * P;
  p.rows = 1, p.blocks = 1, p.bands = 1;
  // Fewer images than threads (batch-1 inference): the direct and Winograd forwards share each
  // image's output rows out in bands, where an image has enough work to pay for waking a thread.
  // The result is the same for any bands: each output is computed whole by one of them (a
  // Winograd tile's products sum over the channels only). The backward keeps its steps: its
  // weight gradient sums over a step's tiles.
  if ((direct_block::fits(s) || wino) && p.units < num_threads() &&
      s.OC * s.C * s.KH * s.KW * P >= kBandMinMacs)
    p.bands = std::min<int64_t>(wino ? winograd::tile_rows(s) : s.OH,
                                (num_threads() + p.units - 1) / p.units);
  if (wino) {
    p.rows = winograd::rows_per_step(s, p.chunk, kWinogradBudget);
    p.blocks = (winograd::tile_rows(s) + p.rows - 1) / p.rows;
    p.col_size = winograd::scratch_size(s, p.chunk, p.rows), p.tmp_size = 0;
    p.weight_size = winograd::weight_size(s);
  }
  // dweight (Winograd's transformed; the direct kernels' in lanes, at most this), then dbias
  p.piece_size = s.OC + (wino                    ? winograd::weight_grad_size(s)
                         : direct_block::fits(s) ? direct_block::weight_sums_bound(s)
                                                 : s.OC * (s.C / s.groups) * s.KH * s.KW);
  // Winograd's forward runs a task per block of tile rows, so one large image still splits.
  p.slots = std::clamp<int64_t>(num_threads(), 1, std::max(p.units * p.blocks * p.bands, p.pieces));
  // The column Winograd's chunks (sized, as the rest, by the shape alone, whichever ISA runs).
  if (winograd_cols::fits(s)) {
    const int64_t chunk =
        images_per_chunk(s.N, winograd_cols::elements_per_image(s), kWinogradBudget);
    p.col_size = std::max(p.col_size, winograd_cols::scratch_size(s, chunk));
    p.weight_size = std::max(p.weight_size, winograd_cols::weight_size(s));
    if (use_winograd_cols(s)) p.chunk = chunk, p.units = (s.N + chunk - 1) / chunk;
  }
  return p;
}

// Runs fn(unit, col, tmp) for every unit in [0, units), `slots` tasks at once, each with its own
// slice of the workspace. The tasks claim units one at a time, so a thread on a slower core (a
// virtual machine's core shared with other work) takes fewer of them, rather than a fixed share
// that the other thread then waits for. A unit's result never depends on the task that
// computes it, so the claiming order changes no bit of the result.
template <class T, class F>
void for_each_unit(int64_t units, const Plan& p, T* workspace, F&& fn) {
  const int64_t tasks = std::min(p.slots, units);
  std::atomic<int64_t> next{0};
  parallel::parallel_tasks(tasks, [&](int64_t t) {
    T* col = workspace + t * (p.col_size + p.tmp_size);
    T* tmp = col + p.col_size;
    for (int64_t u = next.fetch_add(1, std::memory_order_relaxed); u < units;
         u = next.fetch_add(1, std::memory_order_relaxed))
      fn(u, col, tmp);
  });
}

}  // namespace

int64_t conv2d_images_per_chunk(const Conv2dShape& s) {
  return images_per_chunk(s.N, s.C * s.KH * s.KW * s.OH * s.OW);
}

int64_t conv2d_workspace_size(const Conv2dShape& s) {
  return plan_of(s).total();
}

// Per chunk and group g: out_g (OC/G, nb·P) = weight_g (OC/G, C/G·KH·KW) · col_g, then the bias
// (and the ReLU) while the result is still in cache. Chunks run in parallel, each GEMM serially
// inside its task.
template <class T>
void conv2d_forward(T* out, const T* inp, const T* weight, const T* bias, const Conv2dShape& s,
                    T* workspace, bool relu) {
  const int64_t G = s.groups, OCg = s.OC / G, K = s.C / G * s.KH * s.KW, P = s.OH * s.OW;
  const Plan plan = plan_of(s);
  if (use_winograd(s)) {
    T* U = workspace + plan.total() - plan.weight_size;
    winograd::transform_weight(U, weight, s, winograd::Product::forward);
    // A unit per step: chunks of images, or blocks of one image's tile rows, in bands.
    const int64_t TH = winograd::tile_rows(s);
    const int64_t rows = (plan.rows + plan.bands - 1) / plan.bands, blocks = (TH + rows - 1) / rows;
    for_each_unit(plan.units * blocks, plan, workspace, [&](int64_t u, T* scratch, T*) {
      const int64_t n0 = u / blocks * plan.chunk, th0 = u % blocks * rows;
      const winograd::Step step{n0, std::min(plan.chunk, s.N - n0), th0, std::min(th0 + rows, TH)};
      winograd::forward_step(out, inp, U, bias, s, plan.chunk, plan.rows, step, scratch, relu);
    });
    return;
  }
  if (use_winograd_cols(s)) {
    T* U = workspace + plan.total() - plan.weight_size;
    winograd_cols::transform_weight(U, weight, s, winograd_cols::Product::forward);
    for_each_unit(plan.units, plan, workspace, [&](int64_t u, T* scratch, T*) {
      const int64_t n0 = u * plan.chunk, nb = std::min(plan.chunk, s.N - n0);
      winograd_cols::forward_images(out, inp, U, bias, s, n0, nb, scratch, relu);
    });
    return;
  }
  if (use_direct_block(s).forward) {
    T* packed = workspace + plan.total() - plan.weight_size;
    direct_block::pack_weight(packed, weight, s);
    for_each_unit(plan.units * plan.bands, plan, workspace, [&](int64_t u, T* scratch, T*) {
      const int64_t n0 = u / plan.bands * plan.chunk, band = u % plan.bands;
      direct_block::forward_images(out, inp, packed, bias, s, n0, std::min(plan.chunk, s.N - n0),
                                   scratch, relu, s.OH * band / plan.bands,
                                   s.OH * (band + 1) / plan.bands);
    });
    return;
  }
  for_each_unit(plan.units, plan, workspace, [&](int64_t u, T* col, T* tmp) {
    const int64_t n0 = u * plan.chunk, nb = std::min(plan.chunk, s.N - n0), cols = nb * P;
    const T* c = col;
    if (pointwise(s))
      c = inp + n0 * s.C * P;
    else
      im2col(col, inp, s, n0, nb);
    // One image: the GEMM writes (OC, P) straight into the output.
    T* dst = nb == 1 ? out + n0 * s.OC * P : tmp;
    for (int64_t g = 0; g < G; ++g)
      gemm<T>(false, false, OCg, cols, K, T(1), weight + g * OCg * K, K, c + g * K * cols, cols,
              T(0), dst + g * OCg * cols, cols);
    for (int64_t i = 0; i < nb; ++i)
      for (int64_t oc = 0; oc < s.OC; ++oc) {
        const T* src = dst + oc * cols + i * P;
        T* o = out + ((n0 + i) * s.OC + oc) * P;
        const T b = bias ? bias[oc] : T(0);
        if (relu)
          for (int64_t p = 0; p < P; ++p) o[p] = std::max(src[p] + b, T(0));
        else
          for (int64_t p = 0; p < P; ++p) o[p] = src[p] + b;
      }
  });
}

// Per chunk and group g: dcol_g = weight_gᵀ · dout_g, then col2im adds it into dinp. Chunks
// write disjoint images, so they run in parallel.
template <class T>
void conv2d_backward_input(T* dinp, const T* dout, const T* weight, const Conv2dShape& s,
                           T* workspace) {
  const int64_t G = s.groups, OCg = s.OC / G, K = s.C / G * s.KH * s.KW, P = s.OH * s.OW;
  const Plan plan = plan_of(s);
  if (use_winograd(s)) {
    T* U = workspace + plan.total() - plan.weight_size;
    winograd::transform_weight(U, weight, s, winograd::Product::input_grad);
    for_each_unit(plan.units, plan, workspace, [&](int64_t u, T* scratch, T*) {
      const int64_t n0 = u * plan.chunk, n1 = std::min(n0 + plan.chunk, s.N);
      zero_images(dinp, s, n0, n1);
      winograd::backward_run(dinp, static_cast<T*>(nullptr), dout, static_cast<const T*>(nullptr),
                             U, s, plan.chunk, plan.rows, n0, n1, scratch);
    });
    return;
  }
  if (use_winograd_cols(s)) {
    T* U = workspace + plan.total() - plan.weight_size;
    winograd_cols::transform_weight(U, weight, s, winograd_cols::Product::input_grad);
    for_each_unit(plan.units, plan, workspace, [&](int64_t u, T* scratch, T*) {
      const int64_t n0 = u * plan.chunk, nb = std::min(plan.chunk, s.N - n0);
      winograd_cols::input_grad_images(dinp, dout, U, s, n0, nb, scratch);
    });
    return;
  }
  if (use_direct_block(s).input) {
    T* wq = workspace + plan.total() - plan.weight_size;
    direct_block::pack_input_weight(wq, weight, s);
    for_each_unit(plan.units, plan, workspace, [&](int64_t u, T* scratch, T*) {
      const int64_t n0 = u * plan.chunk, nb = std::min(plan.chunk, s.N - n0);
      direct_block::input_grad_images(dinp, dout, wq, s, n0, nb, scratch);
    });
    return;
  }
  for_each_unit(plan.units, plan, workspace, [&](int64_t u, T* col, T* tmp) {
    const int64_t n0 = u * plan.chunk, nb = std::min(plan.chunk, s.N - n0), cols = nb * P;
    const T* d = dout_chunk(tmp, dout, s, n0, nb);
    // 1×1: the image's gradient is dcol itself, written in place (a group at a time).
    T* dst = pointwise(s) ? dinp + n0 * s.C * P : col;
    if (!pointwise(s)) zero_images(dinp, s, n0, n0 + nb);
    for (int64_t g = 0; g < G; ++g)
      gemm<T>(true, false, K, cols, OCg, T(1), weight + g * OCg * K, K, d + g * OCg * cols, cols,
              T(0), dst + g * K * cols, cols);
    if (!pointwise(s)) col2im(dinp, col, s, n0, nb);
  });
}

namespace {

// Σ v[0 .. n), as 16 interleaved running sums added up in a fixed order: the compiler vectorises
// it, which it may not do to one running sum, and the rounding depends on n alone.
template <class T>
T sum_of(const T* v, int64_t n) {
  constexpr int64_t kLanes = 16;
  T acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) acc[j] += v[i + j];
  for (; i < n; ++i) acc[i % kLanes] += v[i];
  T total = 0;
  for (T a : acc) total += a;
  return total;
}

// dweight += Σ over images of dout_g · col_gᵀ; dbias += Σ dout. The sum over images is cut
// into plan.pieces fixed runs of images; each piece accumulates its own partial sums (in
// parallel with the others), and the pieces are then added in piece order, so the rounding is
// the same for any thread count. With Winograd and a non-null dinp, the pieces also add the input
// gradient of their images (conv2d_backward), from the output gradient they transform anyway.
// Winograd's pieces hold the weight gradient in the transform domain, and their sum is
// transformed back once (transforming each piece's was 4% of the VGG C128 layer's forward and
// backward); the direct kernels' hold it in their lanes, and their sum is turned into rows once
// (each piece's was 1.5% of the VGG stride-2 layer's forward and backward with AVX2).
template <class T>
void backward_weight_pieces(T* dweight, T* dbias, const T* dout, const T* inp, const Conv2dShape& s,
                            T* workspace, T* dinp, const T* weight) {
  const int64_t G = s.groups, OCg = s.OC / G, K = s.C / G * s.KH * s.KW, P = s.OH * s.OW;
  const Plan plan = plan_of(s);
  const bool block = use_direct_block(s).weight, wino = use_winograd(s);
  // Elements of a piece's weight gradient before its bias's (pieces are plan.piece_size apart).
  const int64_t WK = wino    ? winograd::weight_grad_size(s)
                     : block ? direct_block::weight_sums_size<T>(s)
                             : OCg * K * G;
  T* partial = workspace + plan.slots * (plan.col_size + plan.tmp_size);
  T* U = nullptr;
  if (wino && dinp) {
    U = workspace + plan.total() - plan.weight_size;
    winograd::transform_weight(U, weight, s, winograd::Product::input_grad);
  }
  for_each_unit(plan.pieces, plan, workspace, [&](int64_t r, T* col, T* tmp) {
    T* dw = partial + r * plan.piece_size;
    T* db = dw + WK;
    std::fill(db, db + s.OC, T(0));
    const int64_t first = s.N * r / plan.pieces, last = s.N * (r + 1) / plan.pieces;
    if (block) {
      direct_block::weight_grad_sums(dw, db, dout, inp, s, first, last, col);
      return;
    }
    if (wino) {
      if (dinp) zero_images(dinp, s, first, last);
      winograd::backward_run(dinp, dw, dout, inp, U, s, plan.chunk, plan.rows, first, last, col);
      for (int64_t oc = 0; oc < s.OC; ++oc) {
        T acc = 0;
        for (int64_t n = first; n < last; ++n) acc += sum_of(dout + (n * s.OC + oc) * P, P);
        db[oc] = acc;
      }
      return;
    }
    for (int64_t n0 = first; n0 < last; n0 += plan.chunk) {
      const int64_t nb = std::min(plan.chunk, last - n0), cols = nb * P;
      const T* d = dout_chunk(tmp, dout, s, n0, nb);
      const T* c = col;
      if (pointwise(s))
        c = inp + n0 * s.C * P;
      else
        im2col(col, inp, s, n0, nb);
      const T beta = n0 == first ? T(0) : T(1);
      for (int64_t g = 0; g < G; ++g)
        gemm<T>(false, true, OCg, K, cols, T(1), d + g * OCg * cols, cols, c + g * K * cols, cols,
                beta, dw + g * OCg * K, K);
      for (int64_t oc = 0; oc < s.OC; ++oc) {
        const T* row = d + oc * cols;
        T acc = 0;
        for (int64_t p = 0; p < cols; ++p) acc += row[p];
        db[oc] += acc;
      }
    }
  });
  // Element i of the result is summed by one thread, over the pieces in order. A run of elements
  // at a time, piece after piece, so that the additions vectorise (one element at a time over
  // the pieces, they did not: 3% of a VGG C128 layer's backward). Winograd's and the direct
  // kernels' sums go to the first piece, from there (transformed, or as rows) into dweight.
  parallel::parallel_for(WK + s.OC, 4096, [&](int64_t begin, int64_t end) {
    constexpr int64_t kRun = 256;
    T acc[kRun];
    for (int64_t i0 = begin; i0 < end; i0 += kRun) {
      const int64_t n = std::min(kRun, end - i0);
      std::fill_n(acc, n, T(0));
      for (int64_t r = 0; r < plan.pieces; ++r) {
        const T* part = partial + r * plan.piece_size + i0;
        for (int64_t j = 0; j < n; ++j) acc[j] += part[j];
      }
      for (int64_t j = 0; j < n; ++j) {
        if (i0 + j >= WK) {
          if (dbias) dbias[i0 + j - WK] += acc[j];
        } else if (wino || block) {
          partial[i0 + j] = acc[j];
        } else {
          dweight[i0 + j] += acc[j];
        }
      }
    }
  });
  if (wino) winograd::transform_weight_grad(dweight, partial, s);
  if (block) direct_block::add_weight_sums(dweight, partial, s);
}

}  // namespace

template <class T>
void conv2d_backward_weight(T* dweight, T* dbias, const T* dout, const T* inp, const Conv2dShape& s,
                            T* workspace) {
  backward_weight_pieces(dweight, dbias, dout, inp, s, workspace, static_cast<T*>(nullptr),
                         static_cast<const T*>(nullptr));
}

template <class T>
void conv2d_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     const Conv2dShape& s, T* workspace) {
  if (use_winograd(s)) {
    backward_weight_pieces(dweight, dbias, dout, inp, s, workspace, dinp, weight);
    return;
  }
  conv2d_backward_input(dinp, dout, weight, s, workspace);
  conv2d_backward_weight(dweight, dbias, dout, inp, s, workspace);
}

#define NABLA_INSTANTIATE(T)                                                                       \
  template void conv2d_forward<T>(T*, const T*, const T*, const T*, const Conv2dShape&, T*, bool); \
  template void conv2d_backward_input<T>(T*, const T*, const T*, const Conv2dShape&, T*);          \
  template void conv2d_backward_weight<T>(T*, T*, const T*, const T*, const Conv2dShape&, T*);     \
  template void conv2d_backward<T>(T*, T*, T*, const T*, const T*, const T*, const Conv2dShape&,   \
                                   T*);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu
