// Direct convolution with the output channels in vector lanes, for small stride-1 layers (LeNet-5's
// conv2: 6 → 16 channels, 5×5, 14×14 → 10×10), where im2col's copies of short rows cost more
// than the arithmetic. No `col` matrix: every kernel reads a zero-padded copy of one image and a
// weight packed as [OC block][C][KH][KW][lanes], so one vector holds one tap's weights for a block
// of output channels (16 floats or 8 doubles: one zmm, two ymm or four xmm registers).
//   forward        a row of R outputs × a block of channels in R vector accumulators; each
//                  tap broadcasts R inputs against one weight vector (no transposes inside).
//   input grad     the output gradient, transposed per image to [block][oh][ow][lanes] with a
//                  zero border of KH−1 rows and KW−1 columns, times the packed weight: R input
//                  positions in accumulators, lanes summed at the end in a fixed tree order.
//   weight grad    Σ over positions of that transposed gradient times a broadcast input, KW
//                  taps of one kernel row in accumulators per sweep, summed per run of images.
// The micro-kernels (conv_direct_block_kernel.h) are written once over GCC vectors and compiled
// for the baseline, AVX2 + FMA and AVX-512; active_isa() picks a copy. Every sum's order depends
// on the shape and the ISA only, never on the thread count.
#pragma once

#include <cstdint>

#include "kernels/cpu/conv.h"

namespace nabla::cpu::direct_block {

// Stride 1, no dilation, one group, kernels up to 7 wide: the shapes these kernels compute.
bool fits(const Conv2dShape& s);

// Elements of the packed weight (any T), and of one task's scratch (forward, input gradient and
// weight gradient alike).
int64_t weight_size(const Conv2dShape& s);
int64_t scratch_size(const Conv2dShape& s);

// wp = weight packed as [OC block][C][KH][KW][lanes], zero in the lanes past OC.
template <class T>
void pack_weight(T* wp, const T* weight, const Conv2dShape& s);

// Images [n0, n0 + nb): out = conv(inp, weight) + bias, then max(·, 0) when `relu`.
template <class T>
void forward_images(T* out, const T* inp, const T* wp, const T* bias, const Conv2dShape& s,
                    int64_t n0, int64_t nb, T* scratch, bool relu);
// Images [n0, n0 + nb): dinp += convᵀ(dout, weight) (the weight as given, not packed).
template <class T>
void input_grad_images(T* dinp, const T* dout, const T* weight, const Conv2dShape& s, int64_t n0,
                       int64_t nb, T* scratch);
// dw (OC, C, KH, KW) = Σ over images [first, last) of dout ⋆ input (overwritten).
template <class T>
void weight_grad_run(T* dw, const T* dout, const T* inp, const Conv2dShape& s, int64_t first,
                     int64_t last, T* scratch);

}  // namespace nabla::cpu::direct_block
