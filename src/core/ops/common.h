// Helpers shared by the op files (not public API).
#pragma once

#include "kernels/cpu/activation.h"
#include "kernels/cpu/elementwise.h"
#include "nabla/autograd.h"
#include "nabla/tensor.h"

namespace nabla {

// What a backward closure returns: one gradient per input, held in place for up to 4 inputs, so
// running a node's backward allocates nothing for the list (autograd::TensorList).
using Grads = autograd::TensorList;

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  NABLA_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", dtype_name(a.dtype()), " ",
              a.shape(), " and ", dtype_name(b.dtype()), " ", b.shape());
}

// The data of x in row-major order, copied only when x is not contiguous; never recorded.
inline Tensor contiguous_data(const Tensor& x) {
  return x.is_contiguous() ? x : x.detach().contiguous();
}

// y = f(x) element-wise (f is a generic lambda, called with float or double); no autograd.
template <class F>
Tensor unary_map(const Tensor& x, F f) {
  Tensor xc = contiguous_data(x);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&]<class T>() { cpu::map(y.data<T>(), xc.data<T>(), x.numel(), f); });
  return y;
}

// z = f(x, y) element-wise on two tensors of the same shape and dtype; no autograd.
template <class F>
Tensor binary_map(const Tensor& x, const Tensor& y, F f) {
  NABLA_ASSERT(x.shape() == y.shape() && x.dtype() == y.dtype());
  Tensor xc = contiguous_data(x), yc = contiguous_data(y);
  Tensor z = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(),
           [&]<class T>() { cpu::map2(z.data<T>(), xc.data<T>(), yc.data<T>(), x.numel(), f); });
  return z;
}

// The gradient through a ReLU whose output is y: g where y > 0, else 0 (g contiguous, of y's
// shape). The fused ops that end in a ReLU (conv2d_relu, linear_relu, and batch_norm_relu on
// rows too short to recompute the mask) save y and start their backward with it.
inline Tensor through_relu(const Tensor& g, const Tensor& y) {
  Tensor masked = Tensor::empty(y.shape(), y.dtype());
  dispatch(y.dtype(), [&]<class T>() {
    cpu::relu_mask(masked.data<T>(), g.data<T>(), y.data<T>(), y.numel());
  });
  return masked;
}

}  // namespace nabla
