// Element-wise kernels: binary ops with broadcasting (strides already broadcast, 0 on
// broadcast dims), and a unary map over contiguous arrays. Output first, no allocation.
#pragma once

#include <array>
#include <cstdint>

#include "kernels/cpu/strided.h"

namespace nabla::cpu {

enum class BinaryOp { Add, Sub, Mul, Div };

// out (contiguous, `shape`) = a ∘ b, with a and b read through their broadcast strides.
template <class T>
void binary_forward(BinaryOp op, T* out, const T* a, const Shape& a_strides, const T* b,
                    const Shape& b_strides, const Shape& shape);

// y[i] = f(x[i]) for i < n.
template <class T, class F>
inline void map(T* y, const T* x, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// z[i] = f(x[i], y[i]) for i < n.
template <class T, class F>
inline void map2(T* z, const T* x, const T* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], y[i]);
}

}  // namespace nabla::cpu
