// Activations: sigmoid, tanh, relu, leaky_relu, elu (element-wise), softmax and log_softmax
// (along one dim), maxout (max over groups of features).
// Shapes: element-wise ops and softmax keep x's shape; maxout divides one extent by `pieces`.
// The loops live in kernels/cpu/activation.cpp; this file decides shapes, what backward saves,
// and records the graph node. Saved tensors are contiguous and detached.
#include "kernels/cpu/activation.h"

#include <type_traits>

#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

namespace {

// Runs kernel(y, x, n) on x's data (made contiguous) into a new tensor shaped like x.
template <class F>
Tensor forward_into(const Tensor& x, F kernel) {
  Tensor xc = contiguous_data(x);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&]<class T>() { kernel(y.data<T>(), xc.data<T>(), x.numel()); });
  return y;
}

// dx = 0, then kernel(dx, dy, saved, n) adds into it; dx is shaped like `saved`.
template <class F>
Tensor backward_into(const Tensor& dy, const Tensor& saved, F kernel) {
  Tensor dx = Tensor::zeros(saved.shape(), saved.dtype());
  Tensor g = contiguous_data(dy);
  dispatch(saved.dtype(),
           [&]<class T>() { kernel(dx.data<T>(), g.data<T>(), saved.data<T>(), saved.numel()); });
  return dx;
}

// x's layout as (outer, n, inner) around `dim`; a 0-d tensor is one element.
struct Axis {
  int64_t outer = 1, n = 1, inner = 1;
};
Axis split_at(const Shape& shape, int d) {
  Axis a;
  for (int i = 0; i < shape.size(); ++i) {
    if (i < d) a.outer *= shape[i];
    if (i == d) a.n = shape[i];
    if (i > d) a.inner *= shape[i];
  }
  return a;
}

}  // namespace

// sigmoid: y = 1 / (1 + e^-x).  x: any shape, y: same shape.
// Saves y: dx = dy · y · (1 - y).
Tensor sigmoid(const Tensor& x) {
  check_floating("sigmoid", x.dtype());
  Tensor y =
      forward_into(x, [](auto* yp, const auto* xp, int64_t n) { cpu::sigmoid_forward(yp, xp, n); });
  return autograd::record(Op::sigmoid, y, {x}, [y = y.detach()](const Tensor& dy) {
    return Grads{backward_into(dy, y, [](auto* dx, const auto* g, const auto* yp, int64_t n) {
      cpu::sigmoid_backward(dx, g, yp, n);
    })};
  });
}

// tanh: y = tanh x.  x: any shape, y: same shape.
// Saves y: dx = dy · (1 - y²).
Tensor tanh(const Tensor& x) {
  check_floating("tanh", x.dtype());
  Tensor y =
      forward_into(x, [](auto* yp, const auto* xp, int64_t n) { cpu::tanh_forward(yp, xp, n); });
  return autograd::record(Op::tanh, y, {x}, [y = y.detach()](const Tensor& dy) {
    return Grads{backward_into(dy, y, [](auto* dx, const auto* g, const auto* yp, int64_t n) {
      cpu::tanh_backward(dx, g, yp, n);
    })};
  });
}

// relu: y = max(x, 0).  x: any shape, y: same shape.
// Saves y (not x): dx = dy where y > 0.
Tensor relu(const Tensor& x) {
  check_floating("relu", x.dtype());
  Tensor y =
      forward_into(x, [](auto* yp, const auto* xp, int64_t n) { cpu::relu_forward(yp, xp, n); });
  return autograd::record(Op::relu, y, {x}, [y = y.detach()](const Tensor& dy) {
    return Grads{backward_into(dy, y, [](auto* dx, const auto* g, const auto* yp, int64_t n) {
      cpu::relu_backward(dx, g, yp, n);
    })};
  });
}

// leaky_relu: y = x for x > 0, slope · x otherwise.  x: any shape, y: same shape.
// Saves x (y alone cannot tell the branch when slope <= 0): dx = dy or slope · dy.
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  check_floating("leaky_relu", x.dtype());
  Tensor xc = contiguous_data(x).detach();
  Tensor y = forward_into(xc, [negative_slope](auto* yp, const auto* xp, int64_t n) {
    using T = std::remove_cvref_t<decltype(*xp)>;
    cpu::leaky_relu_forward(yp, xp, n, static_cast<T>(negative_slope));
  });
  return autograd::record(Op::leaky_relu, y, {x}, [xc, negative_slope](const Tensor& dy) {
    return Grads{
        backward_into(dy, xc, [negative_slope](auto* dx, const auto* g, const auto* xp, int64_t n) {
          using T = std::remove_cvref_t<decltype(*xp)>;
          cpu::leaky_relu_backward(dx, g, xp, n, static_cast<T>(negative_slope));
        })};
  });
}

// elu: y = x for x > 0, alpha · (e^x - 1) otherwise.  x: any shape, y: same shape.
// Saves x and y: dx = dy for x > 0, dy · (y + alpha) otherwise.
Tensor elu(const Tensor& x, double alpha) {
  check_floating("elu", x.dtype());
  Tensor xc = contiguous_data(x).detach();
  Tensor y = forward_into(xc, [alpha](auto* yp, const auto* xp, int64_t n) {
    using T = std::remove_cvref_t<decltype(*xp)>;
    cpu::elu_forward(yp, xp, n, static_cast<T>(alpha));
  });
  return autograd::record(Op::elu, y, {x}, [xc, y = y.detach(), alpha](const Tensor& dy) {
    return Grads{
        backward_into(dy, xc, [&y, alpha](auto* dx, const auto* g, const auto* xp, int64_t n) {
          using T = std::remove_cvref_t<decltype(*xp)>;
          cpu::elu_backward(dx, g, xp, y.data<T>(), n, static_cast<T>(alpha));
        })};
  });
}

// softmax: y = e^x / Σ e^x along dim.  x: any shape, y: same shape.
// Saves y: dx = y · (dy - Σ dy·y), the sum along dim.
Tensor softmax(const Tensor& x, int64_t dim) {
  check_floating("softmax", x.dtype());
  const Axis a = split_at(x.shape(), normalize_dim(dim, x.dim(), "softmax"));
  Tensor y = forward_into(x, [a](auto* yp, const auto* xp, int64_t) {
    cpu::softmax_forward(yp, xp, a.outer, a.n, a.inner);
  });
  return autograd::record(Op::softmax, y, {x}, [y = y.detach(), a](const Tensor& dy) {
    return Grads{backward_into(dy, y, [a](auto* dx, const auto* g, const auto* yp, int64_t) {
      cpu::softmax_backward(dx, g, yp, a.outer, a.n, a.inner);
    })};
  });
}

// log_softmax: y = x - log Σ e^x along dim, computed with the max subtracted, so it stays finite
// for logits of any size.  x: any shape, y: same shape.
// Saves y: dx = dy - e^y · Σ dy, the sum along dim.
Tensor log_softmax(const Tensor& x, int64_t dim) {
  check_floating("log_softmax", x.dtype());
  const Axis a = split_at(x.shape(), normalize_dim(dim, x.dim(), "log_softmax"));
  Tensor y = forward_into(x, [a](auto* yp, const auto* xp, int64_t) {
    cpu::log_softmax_forward(yp, xp, a.outer, a.n, a.inner);
  });
  return autograd::record(Op::log_softmax, y, {x}, [y = y.detach(), a](const Tensor& dy) {
    return Grads{backward_into(dy, y, [a](auto* dx, const auto* g, const auto* yp, int64_t) {
      cpu::log_softmax_backward(dx, g, yp, a.outer, a.n, a.inner);
    })};
  });
}

// maxout: x (..., F·pieces, ...) -> y (..., F, ...), the max over each run of `pieces`
// consecutive entries along dim.
// Saves x: dx = dy at the first maximal entry of each group, 0 elsewhere.
Tensor maxout(const Tensor& x, int64_t pieces, int64_t dim) {
  check_floating("maxout", x.dtype());
  NABLA_CHECK(x.dim() > 0, "maxout: input must have at least 1 dim, got shape ", x.shape());
  const int d = normalize_dim(dim, x.dim(), "maxout");
  NABLA_CHECK(pieces >= 1, "maxout: pieces must be at least 1, got ", pieces);
  NABLA_CHECK(x.shape()[d] % pieces == 0, "maxout: dim ", d, " of input ", x.shape(), " has ",
              x.shape()[d], " entries, not a multiple of pieces = ", pieces);
  const Axis a = split_at(x.shape(), d);
  const int64_t features = a.n / pieces;
  Shape out_shape = x.shape();
  out_shape[d] = features;
  Tensor xc = contiguous_data(x).detach();
  Tensor y = Tensor::empty(out_shape, x.dtype());
  dispatch(x.dtype(), [&]<class T>() {
    cpu::maxout_forward(y.data<T>(), xc.data<T>(), a.outer, features, pieces, a.inner);
  });
  return autograd::record(Op::maxout, y, {x}, [xc, a, features, pieces](const Tensor& dy) {
    Tensor dx = Tensor::zeros(xc.shape(), xc.dtype());
    Tensor g = contiguous_data(dy);
    dispatch(xc.dtype(), [&]<class T>() {
      cpu::maxout_backward(dx.data<T>(), g.data<T>(), xc.data<T>(), a.outer, features, pieces,
                           a.inner);
    });
    return Grads{dx};
  });
}

}  // namespace nabla
