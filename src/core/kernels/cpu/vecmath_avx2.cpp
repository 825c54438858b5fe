// The vector-math kernels for AVX2 + FMA: 32-byte vectors, and (tests only) the AVX-512 width
// lowered to ymm pairs.
#if defined(__x86_64__) || defined(__i386__)
#define NABLA_VECMATH_TARGET __attribute__((target("avx2,fma")))
// The 64-byte copy passes zmm-sized vectors between functions of this file only (all internal
// and inlined), so GCC's note that their ABI differs without AVX-512 does not concern anyone.
#pragma GCC diagnostic ignored "-Wpsabi"
#include "kernels/cpu/vecmath_kernel.h"

namespace nabla::cpu::vecmath_detail {

template <class T>
Table<T> avx2_table() {
  return make_table<T, 32>();
}

template <class T>
Table<T> avx512_logic_on_avx2_table() {
  return make_table<T, 64>();
}

template Table<float> avx2_table<float>();
template Table<double> avx2_table<double>();
template Table<float> avx512_logic_on_avx2_table<float>();
template Table<double> avx512_logic_on_avx2_table<double>();

}  // namespace nabla::cpu::vecmath_detail
#endif  // x86
