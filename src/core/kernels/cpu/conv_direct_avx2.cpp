// conv_direct.h's sweep for AVX2 + FMA: kLanes-wide GCC vectors (one ymm register of float, two
// of double), KW accumulators, one load of the gradient and KW unaligned loads of the image per
// step.
#include "kernels/cpu/conv_direct.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cstring>

namespace nabla::cpu::conv_detail {

namespace {

template <class T>
struct LaneVector {
  typedef T type __attribute__((vector_size(kLanes * sizeof(T))));
};
template <class T>
using Lanes = typename LaneVector<T>::type;

template <class T, int KW>
__attribute__((target("avx2,fma"))) void sweep(T* sums, const T* grad, const T* image, int64_t OH,
                                               int64_t OWL, int64_t WP) {
  Lanes<T> acc[KW] = {};
  for (int64_t oh = 0; oh < OH; ++oh) {
    const T* g = grad + oh * OWL;
    const T* x = image + oh * WP;
    for (int64_t ow = 0; ow < OWL; ow += kLanes) {
      Lanes<T> gv;
      std::memcpy(&gv, g + ow, sizeof gv);  // memcpy: an unaligned vector load
      for (int kw = 0; kw < KW; ++kw) {
        Lanes<T> xv;
        std::memcpy(&xv, x + ow + kw, sizeof xv);
        acc[kw] += gv * xv;
      }
    }
  }
  for (int kw = 0; kw < KW; ++kw) {
    Lanes<T> total;
    std::memcpy(&total, sums + kw * kLanes, sizeof total);
    total += acc[kw];
    std::memcpy(sums + kw * kLanes, &total, sizeof total);
  }
}

}  // namespace

template <class T>
void weight_sweep_avx2(T* sums, const T* grad, const T* image, int64_t KW, int64_t OH, int64_t OWL,
                       int64_t WP) {
  if (KW == 5)
    sweep<T, 5>(sums, grad, image, OH, OWL, WP);
  else
    sweep<T, 3>(sums, grad, image, OH, OWL, WP);
}

template void weight_sweep_avx2<float>(float*, const float*, const float*, int64_t, int64_t,
                                       int64_t, int64_t);
template void weight_sweep_avx2<double>(double*, const double*, const double*, int64_t, int64_t,
                                        int64_t, int64_t);

}  // namespace nabla::cpu::conv_detail
#endif  // x86
