// The GEMM kernel for AVX2 + FMA (16 ymm registers): a 6×16 float tile (6×8 double) is 12
// accumulators, plus two for B's row and one broadcast of A.
#if defined(__x86_64__) || defined(__i386__)
#define NABLA_GEMM_TARGET __attribute__((target("avx2,fma")))
#include "kernels/cpu/gemm_kernel.h"

namespace nabla::cpu::gemm_detail {

template <class T>
Kernel<T> avx2_kernel() {
  return make_kernel<Config<T, 32, 6, 2>>();
}

// The AVX-512 configuration (see gemm_avx512.cpp) with 64-byte vectors lowered to ymm pairs.
template <class T>
Kernel<T> avx512_logic_on_avx2_kernel() {
  return make_kernel<Avx512Config<T>>();
}

template Kernel<float> avx2_kernel<float>();
template Kernel<double> avx2_kernel<double>();
template Kernel<float> avx512_logic_on_avx2_kernel<float>();
template Kernel<double> avx512_logic_on_avx2_kernel<double>();

}  // namespace nabla::cpu::gemm_detail
#endif  // x86
