// Winograd convolution for conv2d's stride-1 3×3 layers (Lavin and Gray, 2015): every m×m block
// of outputs (a tile) is computed from the (m + 2)² input patch under it with (m + 2)²
// multiplications per (input channel, output channel) instead of 9m². F(2×2, 3×3) (m = 2, 16
// positions, 2.25× fewer than direct) or F(4×4, 3×3) (m = 4, 36 positions, 4×), chosen by the
// output's width (outputs_per_tile). In matrix form, per tile,
//   forward        y  = Aᵀ [ Σ_c U_c ⊙ V_c ] A         U = G g Gᵀ   V = Bᵀ d B
//   input grad     dd = B [ Σ_oc U ⊙ Y ] Bᵀ            Y = A dy Aᵀ  (the adjoint of the above)
//   weight grad    dg = Gᵀ [ Σ_tiles Y ⊙ V ] G
// so each of the three becomes (m + 2)² GEMMs, one per transform-domain position ξ, with the
// channel (or tile) sum as their inner dimension:
//   M_ξ (OC, tiles) = U_ξ (OC, C) · V_ξ (C, tiles)     X_ξ (C, tiles) = U_ξᵀ · Y_ξ (OC, tiles)
//   W_ξ (OC, C) = Σ Y_ξ · V_ξᵀ
// and no 9× unrolled `col` matrix: the transformed input is 4× (m = 2) or 2.25× (m = 4) the
// input. F(2×2)'s coefficients are 0, ±1 and ±½ (exact in binary), so its only extra rounding is
// that of the few additions in each transform; F(4×4)'s reach 8 in A and 5 in B and its G has
// sixths, which costs 2 to 3 bits more than F(2×2) in float (docs/performance.md gives the
// measured errors against float64).
//
// Tiles run along each image's rows; a tile past the output's edge reads zero padding and writes
// only its outputs that exist. Layout of the transformed buffers: [ξ][channel][tile], tiles of a
// chunk of images side by side, so each GEMM reads and writes contiguous rows.
#pragma once

#include <cstdint>

#include "kernels/cpu/conv.h"

namespace nabla::cpu::winograd {

// Stride 1, 3×3, no dilation, one group: the shapes Winograd computes (any padding, any size).
bool fits(const Conv2dShape& s);

// Outputs per tile side, m: 4 (F(4×4, 3×3)) or 2 (F(2×2, 3×3)), by the output's width.
int64_t outputs_per_tile(const Conv2dShape& s);

// Elements of the transformed weight U ((m + 2)² · OC · C) and its packed planes.
int64_t weight_size(const Conv2dShape& s);
// Elements of the transformed input and output of one image (what a chunk's size is budgeted by).
int64_t elements_per_image(const Conv2dShape& s);
// Tile rows of an output plane (ceil(OH / m)).
int64_t tile_rows(const Conv2dShape& s);
// Tile rows per step for chunks of `chunk` images: all of them, unless one image's transformed
// input and output exceed `budget` elements; then as many as fit (at least 1), so that a step's
// transforms and GEMMs stay in L2.
int64_t rows_per_step(const Conv2dShape& s, int64_t chunk, int64_t budget);
// Elements of one task's scratch for steps of up to `chunk` images × `rows` tile rows: the
// transformed input and output (gradient), rows for the transforms.
int64_t scratch_size(const Conv2dShape& s, int64_t chunk, int64_t rows);

// A step: tile rows [th0, th1) of images [n0, n0 + nb).
struct Step {
  int64_t n0, nb, th0, th1;
};

// U ((m + 2)², OC, C) = G g Gᵀ for every (output channel, input channel), followed by each of
// its planes packed once for the GEMMs of every step (cpu::gemm_pack_a): U_ξ for the forward,
// U_ξᵀ for the input gradient. U holds weight_size(s) elements.
enum class Product { forward, input_grad };
template <class T>
void transform_weight(T* U, const T* weight, const Conv2dShape& s, Product product);

// One step of out = conv(inp, g) + bias, then ReLU if `relu`, with U from
// transform_weight(Product::forward). Steps write disjoint outputs.
template <class T>
void forward_step(T* out, const T* inp, const T* U, const T* bias, const Conv2dShape& s,
                  int64_t chunk, int64_t rows, Step step, T* scratch, bool relu);
// Images [first, last), in steps of `chunk` images × `rows` tile rows (in order: neighbouring
// blocks share input rows), each step's output gradient transformed once for both gradients:
//   dinp += convᵀ(dout, g) from U (transform_weight(Product::input_grad)), unless dinp is null;
//   Wg (ξ, OC, C) = the weight gradient of these images in the transform domain, summed over
//   their tiles in a fixed order, unless Wg is null (then inp is not read).
// Wg is linear in the images, so the caller sums several runs' Wg before transforming back once
// (transform_weight_grad), rather than transforming each run's.
template <class T>
void backward_run(T* dinp, T* Wg, const T* dout, const T* inp, const T* U, const Conv2dShape& s,
                  int64_t chunk, int64_t rows, int64_t first, int64_t last, T* scratch);

// Elements of backward_run's Wg.
int64_t weight_grad_size(const Conv2dShape& s);
// dw (OC, C, 3, 3) += Gᵀ Wg G for every pair: the weight gradient from its transform.
template <class T>
void transform_weight_grad(T* dw, const T* Wg, const Conv2dShape& s);

}  // namespace nabla::cpu::winograd
