#include "kernels/cpu/elementwise.h"

namespace nabla::cpu {
namespace {

// One broadcast loop per operator, so each inner loop is a plain vectorisable expression.
template <class T, class F>
void broadcast_loop(T* out, const T* a, const Shape& a_strides, const T* b, const Shape& b_strides,
                    const Shape& shape, F f) {
  Shape out_strides = contiguous_strides(shape);
  for_each_row<T, 3>(shape, {out, const_cast<T*>(a), const_cast<T*>(b)},
                     {out_strides, a_strides, b_strides},
                     [f](std::array<T*, 3> p, std::array<int64_t, 3> s, int64_t n) {
                       T* o = p[0];
                       const T* x = p[1];
                       const T* y = p[2];
                       if (s[1] == 1 && s[2] == 1) {
                         for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
                       } else if (s[1] == 1 && s[2] == 0) {
                         const T yv = *y;
                         for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
                       } else if (s[1] == 0 && s[2] == 1) {
                         const T xv = *x;
                         for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
                       } else {
                         for (int64_t i = 0; i < n; ++i) o[i] = f(x[i * s[1]], y[i * s[2]]);
                       }
                     });
}

}  // namespace

template <class T>
void binary_forward(BinaryOp op, T* out, const T* a, const Shape& a_strides, const T* b,
                    const Shape& b_strides, const Shape& shape) {
  switch (op) {
    case BinaryOp::Add:
      return broadcast_loop(out, a, a_strides, b, b_strides, shape, [](T x, T y) { return x + y; });
    case BinaryOp::Sub:
      return broadcast_loop(out, a, a_strides, b, b_strides, shape, [](T x, T y) { return x - y; });
    case BinaryOp::Mul:
      return broadcast_loop(out, a, a_strides, b, b_strides, shape, [](T x, T y) { return x * y; });
    case BinaryOp::Div:
      return broadcast_loop(out, a, a_strides, b, b_strides, shape, [](T x, T y) { return x / y; });
  }
}

template void binary_forward<float>(BinaryOp, float*, const float*, const Shape&, const float*,
                                    const Shape&, const Shape&);
template void binary_forward<double>(BinaryOp, double*, const double*, const Shape&, const double*,
                                     const Shape&, const Shape&);

}  // namespace nabla::cpu
