// Winograd along the columns only, for stride-2 3×3 layers (VGG's and ResNet's downsampling):
// the forward and the input gradient; conv.cpp's rule says where they run.
//
// Along a row, a stride-2 3×3 kernel row (w0, w1, w2) gives output pair (2k, 2k + 1) from the
// padded input columns x̃[4k .. 4k + 4]. Its taps 0 and 2 read the even columns (a 2-tap
// correlation, Winograd's F(2, 2): 3 products for the 2 outputs instead of 4), tap 1 the odd ones:
//   m1 = (x̃[4k] − x̃[4k + 2])·w0   m2 = x̃[4k + 2]·(w0 + w2)   m3 = (x̃[4k + 4] − x̃[4k + 2])·w2
//   y[2k] = m1 + m2 + w1·x̃[4k + 1]            y[2k + 1] = m2 + m3 + w1·x̃[4k + 3]
// so 5 products for 2 outputs instead of 6, with coefficients 0 and ±1 (the only rounding beyond
// the direct sums' is that of w0 + w2, the two differences and the final additions). The kernel
// rows stay direct: each (input channel, kernel row) is a row of the products' inner dimension
// (3·C), so a chunk of images takes 4 GEMMs, M_p (OC, pairs) = U_p (OC, 3C) · V_p (3C, pairs),
// with U_0..3 = w0, w0 + w2, w2, w1 (the last over both odd columns of a pair). The input gradient
// is the adjoint: V_p = U_pᵀ · dM_p. The products are 5/6 of the direct kernels' multiply-adds;
// conv.cpp's use_winograd_cols gives the times bench/conv_bench measured.
#pragma once

#include <cstdint>

#include "kernels/cpu/conv.h"

namespace nabla::cpu::winograd_cols {

// 3×3, stride 2, padding 1, no dilation, one group, H even and W a multiple of 4 (whole pairs
// of outputs, OH = H/2 and OW = W/2): the shapes computed here.
bool fits(const Conv2dShape& s);

// Elements of the products' planes for one image (what a chunk's size is budgeted by).
int64_t elements_per_image(const Conv2dShape& s);
// Elements of one task's scratch for chunks of up to `chunk` images.
int64_t scratch_size(const Conv2dShape& s, int64_t chunk);
// Elements of the transformed weight: its 4 planes packed for the GEMMs, and their staging.
int64_t weight_size(const Conv2dShape& s);

// U_0..3 from the weight (OC, C, 3, 3), each packed once (cpu::gemm_pack_a) for the product it
// takes part in: U_p for the forward, U_pᵀ for the input gradient. U holds weight_size(s).
enum class Product { forward, input_grad };
template <class T>
void transform_weight(T* U, const T* weight, const Conv2dShape& s, Product product);

// Images [n0, n0 + nb): out = conv(inp, weight) + bias, then ReLU if `relu`; U from
// transform_weight(Product::forward).
template <class T>
void forward_images(T* out, const T* inp, const T* U, const T* bias, const Conv2dShape& s,
                    int64_t n0, int64_t nb, T* scratch, bool relu);
// Images [n0, n0 + nb): dinp = convᵀ(dout, weight), every element written; U from
// transform_weight(Product::input_grad).
template <class T>
void input_grad_images(T* dinp, const T* dout, const T* U, const Conv2dShape& s, int64_t n0,
                       int64_t nb, T* scratch);

}  // namespace nabla::cpu::winograd_cols
