// Pooling: max_pool2d and avg_pool2d (forward and backward side by side), and global average
// pooling composed from mean. x (N, C, H, W) -> (N, C, OH, OW), with conv2d's output-size rule
// (kernel KH×KW, stride, padding; exact fit unless floor_mode). Loops in kernels/cpu/pool.cpp.
#include "kernels/cpu/pool.h"

#include <cstdio>
#include <limits>

#include "nabla/detail/conv_params.h"
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

using detail::Pool2dParams;

namespace {

cpu::Pool2dShape pool_shape(const Tensor& x, const Pool2dParams& p, const char* op) {
  NABLA_CHECK(x.dim() == 4, op, ": input ", x.shape(),
              " must be 4-d (N, C, H, W); add a batch dim with unsqueeze(0) for one image");
  NABLA_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1, op, ": kernel ", p.kernel_h, "×", p.kernel_w,
              " must be at least 1×1");
  NABLA_CHECK(p.stride_h >= 0 && p.stride_w >= 0, op, ": stride ", p.stride_h, "×", p.stride_w,
              " must be positive (or 0 for 'equal to the kernel')");
  NABLA_CHECK(
      p.pad_h >= 0 && p.pad_w >= 0 && 2 * p.pad_h <= p.kernel_h && 2 * p.pad_w <= p.kernel_w, op,
      ": padding ", p.pad_h, "×", p.pad_w, " must be between 0 and half the kernel ", p.kernel_h,
      "×", p.kernel_w, ", so that every window overlaps the input");
  cpu::Pool2dShape s;
  s.planes = x.size(0) * x.size(1), s.H = x.size(2), s.W = x.size(3);
  s.KH = p.kernel_h, s.KW = p.kernel_w;
  s.stride_h = p.stride_h ? p.stride_h : p.kernel_h;
  s.stride_w = p.stride_w ? p.stride_w : p.kernel_w;
  s.pad_h = p.pad_h, s.pad_w = p.pad_w;
  // Names for conv_output_size's errors, in fixed buffers: std::strings here were three mallocs
  // per pooling call (steady_state_test).
  char height[64], width[64];
  std::snprintf(height, sizeof height, "%s: input height", op);
  std::snprintf(width, sizeof width, "%s: input width", op);
  s.OH = conv_output_size(s.H, s.KH, s.pad_h, s.stride_h, 1, p.floor_mode, height);
  s.OW = conv_output_size(s.W, s.KW, s.pad_w, s.stride_w, 1, p.floor_mode, width);
  NABLA_CHECK(s.H * s.W <= std::numeric_limits<int32_t>::max(), op, ": input ", x.shape(),
              " has planes too large for 32-bit argmax indices");
  return s;
}

}  // namespace

// max_pool2d: out = max over each window (padding is -inf).
// Saves the argmax of each window (an index into its plane): dx = 0, dx[argmax] += dout.
//
// With `relu` (max_pool2d_relu) it is max_pool2d(relu(x)) in one pass: each window's max clamped
// at 0, which is relu(max_pool2d(x)) too (max is monotone, so the first maximum of a window is the
// same element) except that ReLU maps a NaN to 0. The argmax of a window whose output is 0 is -1,
// so backward adds dout only where the output is > 0, as relu's backward would after the pool's.
namespace {

Tensor max_pool2d_maybe_relu(const Tensor& x, const Pool2dParams& params, bool relu) {
  const char* op = relu ? "max_pool2d_relu" : "max_pool2d";
  check_floating(op, x.dtype());
  const cpu::Pool2dShape s = pool_shape(x, params, op);
  Tensor xc = contiguous_data(x);
  Tensor out = Tensor::empty({x.size(0), x.size(1), s.OH, s.OW}, x.dtype());
  // The int32 argmax indices live in an int64 tensor's buffer (two per element; nabla has no
  // int32 dtype), which comes from the storage cache: a std::vector was a malloc per call.
  Tensor argmax = Tensor::empty({(out.numel() + 1) / 2}, kInt64);
  auto* indices = reinterpret_cast<int32_t*>(argmax.data<int64_t>());
  dispatch(x.dtype(), [&]<class T>() {
    cpu::max_pool2d_forward(out.data<T>(), indices, xc.data<T>(), s, relu);
  });
  return autograd::record(
      relu ? Op::max_pool2d_relu : Op::max_pool2d, out, {x},
      [argmax, s, in = x.shape()](const Tensor& dout) {
        Tensor dx = Tensor::empty(in, dout.dtype());  // the kernel writes all of it
        Tensor g = contiguous_data(dout);
        const auto* saved = reinterpret_cast<const int32_t*>(argmax.data<int64_t>());
        dispatch(dout.dtype(),
                 [&]<class T>() { cpu::max_pool2d_backward(dx.data<T>(), g.data<T>(), saved, s); });
        return Grads{dx};
      });
}

}  // namespace

Tensor detail::max_pool2d(const Tensor& x, const Pool2dParams& params) {
  return max_pool2d_maybe_relu(x, params, false);
}

Tensor detail::max_pool2d_relu(const Tensor& x, const Pool2dParams& params) {
  return max_pool2d_maybe_relu(x, params, true);
}

// avg_pool2d: out = Σ window / (KH·KW) (padding counts as zeros).
// Saves nothing but shapes: dx += dout / (KH·KW) over each window's in-bounds elements.
Tensor detail::avg_pool2d(const Tensor& x, const Pool2dParams& params) {
  check_floating("avg_pool2d", x.dtype());
  const cpu::Pool2dShape s = pool_shape(x, params, "avg_pool2d");
  Tensor xc = contiguous_data(x);
  Tensor out = Tensor::empty({x.size(0), x.size(1), s.OH, s.OW}, x.dtype());
  dispatch(x.dtype(), [&]<class T>() { cpu::avg_pool2d_forward(out.data<T>(), xc.data<T>(), s); });
  return autograd::record(Op::avg_pool2d, out, {x}, [s, in = x.shape()](const Tensor& dout) {
    Tensor dx = Tensor::zeros(in, dout.dtype());
    Tensor g = contiguous_data(dout);
    dispatch(dout.dtype(),
             [&]<class T>() { cpu::avg_pool2d_backward(dx.data<T>(), g.data<T>(), s); });
    return Grads{dx};
  });
}

Tensor global_avg_pool2d(const Tensor& x, bool keepdim) {
  NABLA_CHECK(x.dim() == 4, "global_avg_pool2d: input ", x.shape(), " must be 4-d (N, C, H, W)");
  return mean(x, {2, 3}, keepdim);
}

}  // namespace nabla
