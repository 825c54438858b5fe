// Reference loops for the loss kernels declared in loss.h.
#include "kernels/cpu/loss.h"

#include <cmath>

namespace nabla::cpu {

template <class T>
void cross_entropy_forward(T* loss, const T* log_probs, const int64_t* labels, int64_t N,
                           int64_t C) {
  for (int64_t n = 0; n < N; ++n) loss[n] = -log_probs[n * C + labels[n]];
}

template <class T>
void cross_entropy_backward(T* dlogits, const T* dloss, const T* log_probs, const int64_t* labels,
                            int64_t N, int64_t C) {
  for (int64_t n = 0; n < N; ++n) {
    const T* lp = log_probs + n * C;
    T* d = dlogits + n * C;
    for (int64_t c = 0; c < C; ++c) d[c] += dloss[n] * std::exp(lp[c]);
    d[labels[n]] -= dloss[n];
  }
}

template <class T>
void multi_margin_forward(T* loss, const T* scores, const int64_t* labels, int64_t N, int64_t C,
                          T margin, T divisor) {
  for (int64_t n = 0; n < N; ++n) {
    const T* s = scores + n * C;
    const int64_t y = labels[n];
    T total = 0;
    for (int64_t j = 0; j < C; ++j) {
      const T hinge = margin - s[y] + s[j];
      if (j != y && hinge > 0) total += hinge;
    }
    loss[n] = total / divisor;
  }
}

template <class T>
void multi_margin_backward(T* dscores, const T* dloss, const T* scores, const int64_t* labels,
                           int64_t N, int64_t C, T margin, T divisor) {
  for (int64_t n = 0; n < N; ++n) {
    const T* s = scores + n * C;
    T* d = dscores + n * C;
    const int64_t y = labels[n];
    const T g = dloss[n] / divisor;
    for (int64_t j = 0; j < C; ++j) {
      if (j != y && margin - s[y] + s[j] > 0) {
        d[j] += g;
        d[y] -= g;
      }
    }
  }
}

#define NABLA_LOSS_INSTANTIATE(T)                                                                  \
  template void cross_entropy_forward<T>(T*, const T*, const int64_t*, int64_t, int64_t);          \
  template void cross_entropy_backward<T>(T*, const T*, const T*, const int64_t*, int64_t,         \
                                          int64_t);                                                \
  template void multi_margin_forward<T>(T*, const T*, const int64_t*, int64_t, int64_t, T, T);     \
  template void multi_margin_backward<T>(T*, const T*, const T*, const int64_t*, int64_t, int64_t, \
                                         T, T);

NABLA_LOSS_INSTANTIATE(float)
NABLA_LOSS_INSTANTIATE(double)
#undef NABLA_LOSS_INSTANTIATE

}  // namespace nabla::cpu
