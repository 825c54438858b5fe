// 2-d convolution kernels (cross-correlation, as in every DL library), in two versions:
//   *_naive: the definition written as loops, one output element at a time. Slow, obviously
//            right, and the reference the fast path is tested against.
//   the rest: im2col + GEMM. The input patches of a chunk of images are unrolled into a matrix
//            `col` with one row per (channel, kh, kw) and one column per (image, oh, ow), so the
//            convolution of a whole chunk becomes one large GEMM per group (cpu::gemm). Stride-1
//            3×3 layers on 64 or more channels take Winograd F(2×2 or 4×4, 3×3) instead
//            (conv_winograd.h), 1×1 layers read the image in place, and other stride-1 layers
//            (LeNet's, the first layers) and stride-2 layers a direct convolution without im2col
//            (conv_direct_block.h), kernel by kernel as conv.cpp's use_direct_block measured it
//            faster; with AVX2, the forward and input gradient of stride-2 3×3 layers on 64 or
//            more channels take a Winograd along the columns (conv_winograd_cols.h).
//
// N = batch, C = input channels, H×W = input size, OC = output channels, KH×KW = kernel size,
// OH×OW = output size, G = groups (C/G input channels feed each of G blocks of OC/G outputs),
// P = OH·OW. Layouts are contiguous row-major: input (N, C, H, W), weight (OC, C/G, KH, KW),
// bias (OC), output (N, OC, OH, OW). Padding reads zeros.
//
// No allocation and no graph: the fast kernels take a caller-owned workspace of
// conv2d_workspace_size() elements, which the op reuses through the tensor allocator.
// Forward kernels overwrite `out`, and the input-gradient kernels `dinp` (the direct kernel
// stores each element once; the other paths zero each chunk of images just before adding into
// it); the weight-gradient kernels add into dweight / dbias (the caller zeroes them).
#pragma once

#include <cstdint>

namespace nabla::cpu {

struct Conv2dShape {
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t OC = 0, KH = 0, KW = 0;
  int64_t OH = 0, OW = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

// Images unrolled per im2col + GEMM step: as many as keep `col` under 256K elements, at least 1.
int64_t conv2d_images_per_chunk(const Conv2dShape& s);
// Elements of T the fast kernels need in `workspace` (the same for all three).
int64_t conv2d_workspace_size(const Conv2dShape& s);

// out = conv(inp, weight) + bias, then max(out, 0) when `relu`; bias may be null.
template <class T>
void conv2d_forward(T* out, const T* inp, const T* weight, const T* bias, const Conv2dShape& s,
                    T* workspace, bool relu = false);
// dinp = convᵀ(dout, weight): each output gradient flows back to the inputs its window read.
template <class T>
void conv2d_backward_input(T* dinp, const T* dout, const T* weight, const Conv2dShape& s,
                           T* workspace);
// dweight += Σ over images and positions of dout · input patch; dbias += Σ dout (dbias may be
// null).
template <class T>
void conv2d_backward_weight(T* dweight, T* dbias, const T* dout, const T* inp, const Conv2dShape& s,
                            T* workspace);

// Both of the above in one call: the same sums, except that the Winograd path transforms each
// output gradient once for the two (then the input gradient is cut into the weight gradient's
// runs of images, so it may round differently from conv2d_backward_input's).
template <class T>
void conv2d_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     const Conv2dShape& s, T* workspace);

template <class T>
void conv2d_forward_naive(T* out, const T* inp, const T* weight, const T* bias,
                          const Conv2dShape& s);
template <class T>
void conv2d_backward_input_naive(T* dinp, const T* dout, const T* weight, const Conv2dShape& s);
template <class T>
void conv2d_backward_weight_naive(T* dweight, T* dbias, const T* dout, const T* inp,
                                  const Conv2dShape& s);

}  // namespace nabla::cpu
