// What vecmath.cpp (dispatch) and the per-instruction-set copies of vecmath_kernel.h share.
#pragma once

#include <cstdint>

#include "kernels/cpu/vecmath.h"

namespace nabla::cpu::vecmath_detail {

enum class Fn { exp, expm1, log, log1p, tanh, sigmoid };

// One compiled set of array functions: y[i] = f(x[i]) for i < n (y may equal x), the two row
// reductions softmax needs and batch norm's channel sums and row maps.
template <class T>
struct Table {
  void (*exp)(T* y, const T* x, int64_t n);
  void (*expm1)(T* y, const T* x, int64_t n);
  void (*log)(T* y, const T* x, int64_t n);
  void (*log1p)(T* y, const T* x, int64_t n);
  void (*tanh)(T* y, const T* x, int64_t n);
  void (*sigmoid)(T* y, const T* x, int64_t n);
  T (*exp_sum)(T* y, const T* x, T shift, int64_t n);
  T (*max)(const T* x, int64_t n);
  void (*centered_sums)(double* out, const T* dy, const T* x, double m, int64_t rows, int64_t n,
                        int64_t stride);
  void (*scale_shift)(T* y, const T* x, int64_t n, T a, T b, bool relu);
  void (*centered_combination)(T* y, const T* dy, const T* x, int64_t n, T a, T b, T m, T d);
  void (*centered_sums_relu)(double* out, const T* dy, const T* x, double m, int64_t rows,
                             int64_t n, int64_t stride, T ga, T gb);
  void (*centered_combination_relu)(T* y, const T* dy, const T* x, int64_t n, T a, T b, T m, T d,
                                    T ga, T gb);
  void (*max_pool_2x2)(T* out, int32_t* argmax, const T* inp, int64_t planes, int64_t H, int64_t W,
                       int64_t OH, int64_t OW, bool relu);
  void (*max_pool_2x2_backward)(T* dinp, const T* dout, const int32_t* argmax, int64_t planes,
                                int64_t H, int64_t W, int64_t OH, int64_t OW);
  void (*adam)(T* p, const T* g, T* m, T* v, int64_t n, const vec::AdamStep<T>& s);
  void (*sgd)(T* p, const T* g, T* buf, int64_t n, const vec::SgdStep<T>& s);
  void (*dropout)(T* mask, T* out, const T* in, const uint64_t* draws, int64_t n,
                  uint64_t threshold, T scale);
};

// Per instruction set (each defined in its own file, compiled for that set): 16-byte vectors
// on the baseline, 32 with AVX2 + FMA, 64 with AVX-512F.
template <class T>
Table<T> generic_table();
template <class T>
Table<T> avx2_table();
template <class T>
Table<T> avx512_table();
// The AVX-512 vector width compiled for AVX2 (each 64-byte vector becomes two ymm), so that
// the 16-lane code is tested on machines without AVX-512.
template <class T>
Table<T> avx512_logic_on_avx2_table();

}  // namespace nabla::cpu::vecmath_detail
