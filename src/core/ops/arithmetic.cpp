// Element-wise arithmetic: add, sub, mul, div (broadcasting), neg, pow, exp, log, sqrt, abs, clamp.
// Shapes: a, b broadcast to out (NumPy rules); unary ops keep the shape.
// Backward of a broadcast input sums the gradient back down to its shape (sum_to).
#include <cmath>

#include "kernels/cpu/elementwise.h"
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

namespace {

Tensor binary(Op op, cpu::BinaryOp kernel, const Tensor& a, const Tensor& b) {
  const char* name = op_name(op).data();
  check_same_dtype(name, a, b);
  check_floating(name, a.dtype());
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype());
  dispatch(a.dtype(), [&]<class T>() {
    cpu::binary_forward<T>(kernel, out.data<T>(), a.data<T>(),
                           broadcast_strides(a.shape(), a.strides(), shape), b.data<T>(),
                           broadcast_strides(b.shape(), b.strides(), shape), shape);
  });
  return out;
}

}  // namespace

// add: out = a + b; da = dout, db = dout (each summed to its own shape).
Tensor add(const Tensor& a, const Tensor& b) {
  return autograd::record(Op::add, binary(Op::add, cpu::BinaryOp::Add, a, b), {a, b},
                          [sa = a.shape(), sb = b.shape()](const Tensor& dy) {
                            return Grads{sum_to(dy, sa), sum_to(dy, sb)};
                          });
}

// sub: out = a - b; da = dout, db = -dout.
Tensor sub(const Tensor& a, const Tensor& b) {
  return autograd::record(Op::sub, binary(Op::sub, cpu::BinaryOp::Sub, a, b), {a, b},
                          [sa = a.shape(), sb = b.shape()](const Tensor& dy) {
                            return Grads{sum_to(dy, sa), sum_to(neg(dy), sb)};
                          });
}

// mul: out = a·b; da = dout·b, db = dout·a. Saves a and b.
Tensor mul(const Tensor& a, const Tensor& b) {
  return autograd::record(Op::mul, binary(Op::mul, cpu::BinaryOp::Mul, a, b), {a, b},
                          [a = a.detach(), b = b.detach(), ra = a.requires_grad(),
                           rb = b.requires_grad()](const Tensor& dy) {
                            return Grads{ra ? sum_to(mul(dy, b), a.shape()) : Tensor(),
                                         rb ? sum_to(mul(dy, a), b.shape()) : Tensor()};
                          });
}

// div: out = a / b; da = dout / b, db = -dout·a / b². Saves a and b.
Tensor div(const Tensor& a, const Tensor& b) {
  return autograd::record(Op::div, binary(Op::div, cpu::BinaryOp::Div, a, b), {a, b},
                          [a = a.detach(), b = b.detach(), ra = a.requires_grad(),
                           rb = b.requires_grad()](const Tensor& dy) {
                            Tensor da = ra ? sum_to(div(dy, b), a.shape()) : Tensor();
                            Tensor db =
                                rb ? sum_to(neg(div(mul(dy, a), mul(b, b))), b.shape()) : Tensor();
                            return Grads{da, db};
                          });
}

// neg: out = -x; dx = -dout.
Tensor neg(const Tensor& x) {
  check_floating("neg", x.dtype());
  Tensor y = unary_map(x, [](auto v) { return -v; });
  return autograd::record(Op::neg, y, {x}, [](const Tensor& dy) { return Grads{neg(dy)}; });
}

// pow: out = x^p; dx = dout·p·x^(p-1). Saves x.
Tensor pow(const Tensor& x, double p) {
  check_floating("pow", x.dtype());
  Tensor y = unary_map(x, [p](auto v) { return static_cast<decltype(v)>(std::pow(v, p)); });
  return autograd::record(Op::pow, y, {x}, [x = x.detach(), p](const Tensor& dy) {
    Tensor local =
        unary_map(x, [p](auto v) { return static_cast<decltype(v)>(p * std::pow(v, p - 1)); });
    return Grads{mul(dy, local)};
  });
}

// exp: out = e^x; dx = dout·out. Saves out (detached).
Tensor exp(const Tensor& x) {
  check_floating("exp", x.dtype());
  Tensor y = unary_map(x, [](auto v) { return std::exp(v); });
  return autograd::record(Op::exp, y, {x},
                          [y = y.detach()](const Tensor& dy) { return Grads{mul(dy, y)}; });
}

// log: out = ln x; dx = dout / x. Saves x.
Tensor log(const Tensor& x) {
  check_floating("log", x.dtype());
  Tensor y = unary_map(x, [](auto v) { return std::log(v); });
  return autograd::record(Op::log, y, {x},
                          [x = x.detach()](const Tensor& dy) { return Grads{div(dy, x)}; });
}

// sqrt: out = √x; dx = dout / (2·out). Saves out.
Tensor sqrt(const Tensor& x) {
  check_floating("sqrt", x.dtype());
  Tensor y = unary_map(x, [](auto v) { return std::sqrt(v); });
  return autograd::record(Op::sqrt, y, {x},
                          [y = y.detach()](const Tensor& dy) { return Grads{div(dy, y * 2.0)}; });
}

// abs: out = |x|; dx = dout·sign(x) (0 at x = 0, as PyTorch). Saves x.
Tensor abs(const Tensor& x) {
  check_floating("abs", x.dtype());
  Tensor y = unary_map(x, [](auto v) { return std::abs(v); });
  return autograd::record(Op::abs, y, {x}, [x = x.detach()](const Tensor& dy) {
    Tensor sign = unary_map(x, [](auto v) { return static_cast<decltype(v)>((v > 0) - (v < 0)); });
    return Grads{mul(dy, sign)};
  });
}

// clamp: out = min(max(x, lo), hi); dx = dout where lo <= x <= hi, else 0 (as PyTorch). Saves x.
Tensor clamp(const Tensor& x, double lo, double hi) {
  check_floating("clamp", x.dtype());
  NABLA_CHECK(lo <= hi, "clamp: lo ", lo, " is greater than hi ", hi);
  Tensor y = unary_map(x, [lo, hi](auto v) {
    using T = decltype(v);
    return std::min(std::max(v, static_cast<T>(lo)), static_cast<T>(hi));
  });
  return autograd::record(Op::clamp, y, {x}, [x = x.detach(), lo, hi](const Tensor& dy) {
    Tensor inside =
        unary_map(x, [lo, hi](auto v) { return static_cast<decltype(v)>(v >= lo && v <= hi); });
    return Grads{mul(dy, inside)};
  });
}

// ---- operators ----
Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator-(const Tensor& x) {
  return neg(x);
}
Tensor operator+(const Tensor& a, double b) {
  return add(a, Tensor::scalar(b, a.dtype()));
}
Tensor operator-(const Tensor& a, double b) {
  return sub(a, Tensor::scalar(b, a.dtype()));
}
Tensor operator*(const Tensor& a, double b) {
  return mul(a, Tensor::scalar(b, a.dtype()));
}
Tensor operator/(const Tensor& a, double b) {
  return div(a, Tensor::scalar(b, a.dtype()));
}
Tensor operator+(double a, const Tensor& b) {
  return add(Tensor::scalar(a, b.dtype()), b);
}
Tensor operator-(double a, const Tensor& b) {
  return sub(Tensor::scalar(a, b.dtype()), b);
}
Tensor operator*(double a, const Tensor& b) {
  return mul(Tensor::scalar(a, b.dtype()), b);
}
Tensor operator/(double a, const Tensor& b) {
  return div(Tensor::scalar(a, b.dtype()), b);
}

Tensor Tensor::pow(double exponent) const {
  return nabla::pow(*this, exponent);
}
Tensor Tensor::exp() const {
  return nabla::exp(*this);
}
Tensor Tensor::log() const {
  return nabla::log(*this);
}

}  // namespace nabla
