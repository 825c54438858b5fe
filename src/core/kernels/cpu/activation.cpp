// Reference loops for the activation kernels declared in activation.h: plain C++, one pass per
// quantity, no intrinsics. The axis kernels walk the reduced axis at stride `inner`; when the
// axis is the last one (inner = 1, the usual case) that is a contiguous row.
#include "kernels/cpu/activation.h"

#include <algorithm>
#include <cmath>

namespace nabla::cpu {

template <class T>
void sigmoid_forward(T* y, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    // e^-x overflows for very negative x; there e^x / (1 + e^x) is the safe form.
    if (x[i] >= 0) {
      y[i] = T(1) / (T(1) + std::exp(-x[i]));
    } else {
      const T e = std::exp(x[i]);
      y[i] = e / (T(1) + e);
    }
  }
}

template <class T>
void sigmoid_backward(T* dx, const T* dy, const T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * y[i] * (T(1) - y[i]);
}

template <class T>
void tanh_forward(T* y, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

template <class T>
void tanh_backward(T* dx, const T* dy, const T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * (T(1) - y[i] * y[i]);
}

template <class T>
void relu_forward(T* y, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : T(0);
}

template <class T>
void relu_backward(T* dx, const T* dy, const T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] += y[i] > 0 ? dy[i] : T(0);
}

template <class T>
void leaky_relu_forward(T* y, const T* x, int64_t n, T slope) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : slope * x[i];
}

template <class T>
void leaky_relu_backward(T* dx, const T* dy, const T* x, int64_t n, T slope) {
  for (int64_t i = 0; i < n; ++i) dx[i] += x[i] > 0 ? dy[i] : slope * dy[i];
}

template <class T>
void elu_forward(T* y, const T* x, int64_t n, T alpha) {
  // expm1 keeps precision for small negative x, where e^x - 1 would cancel.
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : alpha * std::expm1(x[i]);
}

template <class T>
void elu_backward(T* dx, const T* dy, const T* x, const T* y, int64_t n, T alpha) {
  for (int64_t i = 0; i < n; ++i) dx[i] += x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha);
}

namespace {

// The axis kernels' loop: calls f(base) for each of the outer · inner slices along the axis;
// element k of a slice is at base + k · inner.
template <class F>
void for_each_slice(int64_t outer, int64_t n, int64_t inner, F f) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) f(o * n * inner + i);
}

// Index p in [0, pieces) of the first largest of x[0], x[stride], ..., x[(pieces-1)·stride].
template <class T>
int64_t first_max(const T* x, int64_t pieces, int64_t stride) {
  int64_t best = 0;
  for (int64_t p = 1; p < pieces; ++p)
    if (x[p * stride] > x[best * stride]) best = p;
  return best;
}

}  // namespace

template <class T>
void softmax_forward(T* y, const T* x, int64_t outer, int64_t n, int64_t inner) {
  if (n == 0) return;
  for_each_slice(outer, n, inner, [&](int64_t base) {
    const T* xr = x + base;
    T* yr = y + base;
    // Subtract the max so that e^(x - max) <= 1 never overflows.
    const T m = xr[first_max(xr, n, inner) * inner];
    T total = 0;
    for (int64_t k = 0; k < n; ++k) total += yr[k * inner] = std::exp(xr[k * inner] - m);
    const T scale = T(1) / total;
    for (int64_t k = 0; k < n; ++k) yr[k * inner] *= scale;
  });
}

template <class T>
void softmax_backward(T* dx, const T* dy, const T* y, int64_t outer, int64_t n, int64_t inner) {
  for_each_slice(outer, n, inner, [&](int64_t base) {
    T dot = 0;
    for (int64_t k = 0; k < n; ++k) dot += dy[base + k * inner] * y[base + k * inner];
    for (int64_t k = 0; k < n; ++k) {
      const int64_t at = base + k * inner;
      dx[at] += y[at] * (dy[at] - dot);
    }
  });
}

template <class T>
void log_softmax_forward(T* y, const T* x, int64_t outer, int64_t n, int64_t inner) {
  if (n == 0) return;
  for_each_slice(outer, n, inner, [&](int64_t base) {
    const T* xr = x + base;
    T* yr = y + base;
    const T m = xr[first_max(xr, n, inner) * inner];
    // The max term contributes e^0 = 1, so the sum is >= 1 and its log is never -inf.
    T total = 0;
    for (int64_t k = 0; k < n; ++k) total += std::exp(xr[k * inner] - m);
    // (x - max) first: folding log(total) into the max would round it to the max's ulp,
    // which for float32 logits near 1e4 is about 1e-3.
    const T log_total = std::log(total);
    for (int64_t k = 0; k < n; ++k) yr[k * inner] = (xr[k * inner] - m) - log_total;
  });
}

template <class T>
void log_softmax_backward(T* dx, const T* dy, const T* y, int64_t outer, int64_t n, int64_t inner) {
  for_each_slice(outer, n, inner, [&](int64_t base) {
    T total = 0;
    for (int64_t k = 0; k < n; ++k) total += dy[base + k * inner];
    for (int64_t k = 0; k < n; ++k) {
      const int64_t at = base + k * inner;
      dx[at] += dy[at] - std::exp(y[at]) * total;
    }
  });
}

template <class T>
void maxout_forward(T* y, const T* x, int64_t outer, int64_t features, int64_t pieces,
                    int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t f = 0; f < features; ++f)
      for (int64_t i = 0; i < inner; ++i) {
        const T* group = x + ((o * features + f) * pieces) * inner + i;
        y[(o * features + f) * inner + i] = group[first_max(group, pieces, inner) * inner];
      }
}

template <class T>
void maxout_backward(T* dx, const T* dy, const T* x, int64_t outer, int64_t features,
                     int64_t pieces, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t f = 0; f < features; ++f)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t group = ((o * features + f) * pieces) * inner + i;
        dx[group + first_max(x + group, pieces, inner) * inner] +=
            dy[(o * features + f) * inner + i];
      }
}

#define NABLA_ACTIVATION_INSTANTIATE(T)                                                     \
  template void sigmoid_forward<T>(T*, const T*, int64_t);                                  \
  template void sigmoid_backward<T>(T*, const T*, const T*, int64_t);                       \
  template void tanh_forward<T>(T*, const T*, int64_t);                                     \
  template void tanh_backward<T>(T*, const T*, const T*, int64_t);                          \
  template void relu_forward<T>(T*, const T*, int64_t);                                     \
  template void relu_backward<T>(T*, const T*, const T*, int64_t);                          \
  template void leaky_relu_forward<T>(T*, const T*, int64_t, T);                            \
  template void leaky_relu_backward<T>(T*, const T*, const T*, int64_t, T);                 \
  template void elu_forward<T>(T*, const T*, int64_t, T);                                   \
  template void elu_backward<T>(T*, const T*, const T*, const T*, int64_t, T);              \
  template void softmax_forward<T>(T*, const T*, int64_t, int64_t, int64_t);                \
  template void softmax_backward<T>(T*, const T*, const T*, int64_t, int64_t, int64_t);     \
  template void log_softmax_forward<T>(T*, const T*, int64_t, int64_t, int64_t);            \
  template void log_softmax_backward<T>(T*, const T*, const T*, int64_t, int64_t, int64_t); \
  template void maxout_forward<T>(T*, const T*, int64_t, int64_t, int64_t, int64_t);        \
  template void maxout_backward<T>(T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t);

NABLA_ACTIVATION_INSTANTIATE(float)
NABLA_ACTIVATION_INSTANTIATE(double)
#undef NABLA_ACTIVATION_INSTANTIATE

}  // namespace nabla::cpu
