// The GEMM kernel for AVX-512F (32 zmm registers): a 12×32 float tile (12×16 double) is 24
// accumulators, plus two for B's row and one broadcast of A; its blocking is Avx512Config's
// (gemm_kernel.h). Twice the tile of the AVX2 kernel keeps as many FMAs in flight with half the
// instructions (Zen 4 issues each 512-bit FMA as two 256-bit halves; Zen 5 has full-width
// units). avx512_logic_on_avx2_kernel (gemm_avx2.cpp) runs this very configuration on AVX2-only
// machines, so the tests cover it there too.
#if defined(__x86_64__) || defined(__i386__)
#define NABLA_GEMM_TARGET __attribute__((target("avx512f,fma")))
#include "kernels/cpu/gemm_kernel.h"

namespace nabla::cpu::gemm_detail {

template <class T>
Kernel<T> avx512_kernel() {
  return make_kernel<Avx512Config<T>>();
}

template Kernel<float> avx512_kernel<float>();
template Kernel<double> avx512_kernel<double>();

}  // namespace nabla::cpu::gemm_detail
#endif  // x86
