// The GEMM kernel for the baseline instruction set (SSE2 on x86-64, 16 xmm registers): a 6×8
// float tile (6×4 double) is 12 accumulators. No FMA: each product is rounded before it is added.
#define NABLA_GEMM_TARGET
#include "kernels/cpu/gemm_kernel.h"

namespace nabla::cpu::gemm_detail {

template <class T>
Kernel<T> generic_kernel() {
  return make_kernel<Config<T, 16, 6, 2>>();
}

template Kernel<float> generic_kernel<float>();
template Kernel<double> generic_kernel<double>();

}  // namespace nabla::cpu::gemm_detail
