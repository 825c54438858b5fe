// The vector-math kernels for the baseline instruction set (SSE2 on x86-64): 16-byte vectors,
// no FMA.
#define NABLA_VECMATH_TARGET
#include "kernels/cpu/vecmath_kernel.h"

namespace nabla::cpu::vecmath_detail {

template <class T>
Table<T> generic_table() {
  return make_table<T, 16>();
}

template Table<float> generic_table<float>();
template Table<double> generic_table<double>();

}  // namespace nabla::cpu::vecmath_detail
