// The vector-math kernels for AVX-512F: 64-byte vectors (16 floats, 8 doubles).
#if defined(__x86_64__) || defined(__i386__)
#define NABLA_VECMATH_TARGET __attribute__((target("avx512f,fma")))
#include "kernels/cpu/vecmath_kernel.h"

namespace nabla::cpu::vecmath_detail {

template <class T>
Table<T> avx512_table() {
  return make_table<T, 64>();
}

template Table<float> avx512_table<float>();
template Table<double> avx512_table<double>();

}  // namespace nabla::cpu::vecmath_detail
#endif  // x86
