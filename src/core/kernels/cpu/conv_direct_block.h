// Direct convolution for small stride-1 layers (LeNet-5's conv2: 6 → 16 channels, 5×5, 14×14 →
// 10×10) and stride-2 ones (VGG's down_s2: 64 → 128 channels, 3×3, 32×32 → 16×16), where
// im2col's copies of short or strided rows cost more than the arithmetic. No `col` matrix: the
// kernels read a zero-padded copy of one image (or of its output gradient) at a time.
//   forward        output channels in vector lanes: the weight packed as
//                  [OC block][C][KH][KW][lanes], a row of R outputs (every S-th input) × B
//                  blocks of channels in B·R accumulators, each tap B weight vectors times R
//                  broadcast inputs; the bias and ReLU on the way out. Layers of at most 3/4
//                  of a block of output channels at stride 1 (LeNet-5's conv1: 6) put a row's
//                  outputs in lanes instead, all channels per tile (conv_direct_block_rows.h).
//   input grad     input positions in lanes: one vector of a row for R input channels, each
//                  (kh, kw, oc) one unaligned load of the zero-bordered output gradient's row times
//                  R broadcast weights; only the taps whose window covers the row count. With
//                  stride S a row splits into S phases (columns q·S + φ), each read from
//                  consecutive output columns.
//   weight grad    output channels in lanes: the output gradient transposed per image to
//                  [block][oh][ow][lanes], times broadcast inputs, the taps of up to three
//                  kernel rows of B blocks in accumulators per sweep, summed over a run of images.
// A block is one vector register of the active instruction set (16, 8 or 4 floats); B (blocks of
// output channels per forward tile or weight sweep, vectors per input-gradient tile: two
// neighbouring ones of a row, or of two rows S apart where a row is one vector) is 2 with AVX-512
// and AVX2 where the registers hold both, 1 on the baseline (conv_direct_block_kernel.h,
// kTileBlocks and kWeightBlocks). The micro-kernels (conv_direct_block_kernel.h) are written
// once over GCC vectors and compiled for the baseline, AVX2 + FMA and AVX-512; active_isa() picks
// a copy. Every sum's order depends on the shape and the ISA only, never on the thread count.
#pragma once

#include <cstdint>

#include "kernels/cpu/conv.h"

namespace nabla::cpu::direct_block {

// Stride 1 or 2 (the same along both axes), no dilation, one group, kernels up to 7×7: the
// shapes these kernels compute.
bool fits(const Conv2dShape& s);

// Whether the active instruction set's float forward puts a row's outputs in lanes
// (conv_direct_block_rows.h): stride 1, at most 3/4 of a block of output channels (6 with AVX2,
// 12 with AVX-512), rows of at least one vector.
bool forward_in_rows(const Conv2dShape& s);

// Elements of the packed weight, and of one task's scratch (forward, input gradient and weight
// gradient alike): for any T and any instruction set.
int64_t weight_size(const Conv2dShape& s);
int64_t scratch_size(const Conv2dShape& s);

// wp = weight packed as [OC block][C][KH][KW][lanes] for the active ISA, zero past OC; for the
// forward of rows in lanes (few output channels, see the top), as [C][KH][KW][OC].
template <class T>
void pack_weight(T* wp, const T* weight, const Conv2dShape& s);

// Images [n0, n0 + nb): out = conv(inp, weight) + bias, then max(·, 0) when `relu`; only output
// rows [oh0, oh1) of each (oh1 = -1: to the last), so that one image can be shared by tasks.
template <class T>
void forward_images(T* out, const T* inp, const T* wp, const T* bias, const Conv2dShape& s,
                    int64_t n0, int64_t nb, T* scratch, bool relu, int64_t oh0 = 0,
                    int64_t oh1 = -1);
// wq = weight as (C / R, KH, KW, OC, R) for the input gradient, in tiles of the R input channels
// the active ISA's kernel takes at once (zeros past C), within weight_size(s). Packed once per
// call, shared by the tasks.
template <class T>
void pack_input_weight(T* wq, const T* weight, const Conv2dShape& s);
// Images [n0, n0 + nb): dinp = convᵀ(dout, weight) (every element written), wq the weight from
// pack_input_weight.
template <class T>
void input_grad_images(T* dinp, const T* dout, const T* wq, const Conv2dShape& s, int64_t n0,
                       int64_t nb, T* scratch);
// dw (OC, C, KH, KW) = Σ over images [first, last) of dout ⋆ input, db (OC) = Σ dout, each sum
// over the images and then the positions in order (both overwritten).
template <class T>
void weight_grad_run(T* dw, T* db, const T* dout, const T* inp, const Conv2dShape& s, int64_t first,
                     int64_t last, T* scratch);
// The same weight gradient in the kernels' own layout, (OC / L, C·KH·KW, L) for the active ISA's
// L lanes of T, zeros past OC: weight_sums_size<T>(s) elements, at most weight_sums_bound(s) for
// any T and ISA. Several runs' sums added element by element, then add_weight_sums (dw += them
// as rows) once, give the bits that adding their weight_grad_run results would: a caller that
// sums runs transposes once instead of once per run.
int64_t weight_sums_bound(const Conv2dShape& s);
template <class T>
int64_t weight_sums_size(const Conv2dShape& s);
template <class T>
void weight_grad_sums(T* sums, T* db, const T* dout, const T* inp, const Conv2dShape& s,
                      int64_t first, int64_t last, T* scratch);
template <class T>
void add_weight_sums(T* dw, const T* sums, const Conv2dShape& s);

}  // namespace nabla::cpu::direct_block
