// 2-d pooling kernels over (N·C) independent planes of H×W, written as plain loops: pooling
// does a handful of comparisons or adds per output, so it is memory-bound and a GEMM would not
// help. Layouts are contiguous: input (N·C, H, W), output (N·C, OH, OW).
//
// Windows are KH×KW, step stride_h×stride_w, over the input padded by pad_h×pad_w on each side.
// Max pooling reads the padding as -inf (it never wins); average pooling reads it as 0 and
// always divides by KH·KW (PyTorch's count_include_pad = true). Forward kernels and the max
// pool's backward overwrite their output; the average pool's backward adds into dinp (the caller
// zeroes it). No allocation, no graph.
#pragma once

#include <cstdint>

namespace nabla::cpu {

struct Pool2dShape {
  int64_t planes = 0;  // N·C
  int64_t H = 0, W = 0, OH = 0, OW = 0;
  int64_t KH = 0, KW = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
};

// out = the largest element of each window; argmax = its index within the plane (ih·W + iw), the
// first one in row-major order on ties, so backward needs no second scan. A NaN wins.
// With `relu`, out = max_pool(relu(x)) in one pass: the largest element clamped at 0, a NaN
// counting as 0 (as relu maps it), and argmax = -1 where out is 0: ReLU then pool gives such a
// window's elements no gradient, so backward skips it.
template <class T>
void max_pool2d_forward(T* out, int32_t* argmax, const T* inp, const Pool2dShape& s,
                        bool relu = false);
// dinp = 0, then dinp[argmax] += dout where argmax >= 0 (all of dinp is written). 2×2 windows
// at stride 2 without padding write each element once instead (vecmath.h), with the same bits.
template <class T>
void max_pool2d_backward(T* dinp, const T* dout, const int32_t* argmax, const Pool2dShape& s);

// out = Σ window / (KH·KW)
template <class T>
void avg_pool2d_forward(T* out, const T* inp, const Pool2dShape& s);
// dinp += dout / (KH·KW) over each window's elements that lie inside the input
template <class T>
void avg_pool2d_backward(T* dinp, const T* dout, const Pool2dShape& s);

// The forward definitions, serial, one window at a time: the references the entry points above
// (threaded over planes, with a 2×2 stride-2 fast path) are tested against. The backward
// kernels run the same per-plane loops as these, only split over the pool.
template <class T>
void max_pool2d_forward_naive(T* out, int32_t* argmax, const T* inp, const Pool2dShape& s,
                              bool relu = false);
template <class T>
void avg_pool2d_forward_naive(T* out, const T* inp, const Pool2dShape& s);

}  // namespace nabla::cpu
