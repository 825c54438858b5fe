// The activation kernels declared in activation.h. Those with an exp, log or tanh run it through
// the vectorised kernels of vecmath.h; their plain loops over the C library's functions stay in
// namespace reference, which the tests compare them with. The axis kernels walk the reduced
// axis at stride `inner`; when the axis is the last one (inner = 1, the usual case) that is a
// contiguous row, which the fast paths take (inner > 1 runs the reference loops).
#include "kernels/cpu/activation.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/row_loop.h"
#include "kernels/cpu/vecmath.h"

namespace nabla::cpu {

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

namespace reference {

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
void tanh_forward(T* y, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

template <class T>
void elu_forward(T* y, const T* x, int64_t n, T alpha) {
  // expm1 keeps precision for small negative x, where e^x - 1 would cancel.
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : alpha * std::expm1(x[i]);
}

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

}  // namespace reference

namespace {

// Elements per stack buffer: kernels allocate nothing, so a transcendental applied to part of
// an expression goes through this much stack at a time.
constexpr int64_t kChunk = 256;

}  // namespace

template <class T>
void sigmoid_forward(T* y, const T* x, int64_t n) {
  vec::sigmoid(y, x, n);
}

template <class T>
void tanh_forward(T* y, const T* x, int64_t n) {
  vec::tanh(y, x, n);
}

template <class T>
void elu_forward(T* y, const T* x, int64_t n, T alpha) {
  T e[kChunk];
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t len = std::min(kChunk, n - i0);
    vec::expm1(e, x + i0, len);
    for (int64_t i = 0; i < len; ++i) y[i0 + i] = x[i0 + i] > 0 ? x[i0 + i] : alpha * e[i];
  }
}

template <class T>
void softmax_forward(T* y, const T* x, int64_t outer, int64_t n, int64_t inner) {
  if (n == 0) return;
  if (inner != 1) return reference::softmax_forward(y, x, outer, n, inner);
  for_each_row(outer, n, [&](int64_t o) {
    const T* xr = x + o * n;
    T* yr = y + o * n;
    const T scale = T(1) / vec::exp_sum(yr, xr, vec::max(xr, n), n);
    for (int64_t k = 0; k < n; ++k) yr[k] *= scale;
  });
}

template <class T>
void log_softmax_forward(T* y, const T* x, int64_t outer, int64_t n, int64_t inner) {
  if (n == 0) return;
  if (inner != 1) return reference::log_softmax_forward(y, x, outer, n, inner);
  for_each_row(outer, n, [&](int64_t o) {
    const T* xr = x + o * n;
    T* yr = y + o * n;
    const T m = vec::max(xr, n);
    const T log_total = std::log(vec::exp_sum<T>(nullptr, xr, m, n));
    for (int64_t k = 0; k < n; ++k) yr[k] = (xr[k] - m) - log_total;
  });
}

template <class T>
void log_softmax_backward(T* dx, const T* dy, const T* y, int64_t outer, int64_t n, int64_t inner) {
  if (inner != 1) return reference::log_softmax_backward(dx, dy, y, outer, n, inner);
  for_each_row(outer, n, [&](int64_t o) {
    const T* dr = dy + o * n;
    const T* yr = y + o * n;
    T* dxr = dx + o * n;
    T total = 0;
    for (int64_t k = 0; k < n; ++k) total += dr[k];
    T e[kChunk];
    for (int64_t k0 = 0; k0 < n; k0 += kChunk) {
      const int64_t len = std::min(kChunk, n - k0);
      vec::exp(e, yr + k0, len);
      for (int64_t k = 0; k < len; ++k) dxr[k0 + k] += dr[k0 + k] - e[k] * total;
    }
  });
}

template <class T>
void sigmoid_backward(T* dx, const T* dy, const T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * y[i] * (T(1) - y[i]);
}

template <class T>
void tanh_backward(T* dx, const T* dy, const T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * (T(1) - y[i] * y[i]);
}

template <class T>
void relu_forward(T* y, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : T(0);
}

// dy is read whatever y is: a load only on one side of the ?: kept GCC from turning the loop into
// vector selects, and the branch it compiled instead mispredicted on half the elements (the
// masks of conv2d_relu's backward took 10% of a LeNet-5 epoch that way).
template <class T>
void relu_backward(T* dx, const T* dy, const T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T g = dy[i];
    dx[i] += y[i] > 0 ? g : T(0);
  }
}

template <class T>
void relu_mask(T* out, const T* dy, const T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T g = dy[i];
    out[i] = y[i] > 0 ? g : T(0);
  }
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
void elu_backward(T* dx, const T* dy, const T* x, const T* y, int64_t n, T alpha) {
  for (int64_t i = 0; i < n; ++i) dx[i] += x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha);
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
  template void relu_mask<T>(T*, const T*, const T*, int64_t);                              \
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

#define NABLA_ACTIVATION_REFERENCE_INSTANTIATE(T)                                            \
  template void reference::sigmoid_forward<T>(T*, const T*, int64_t);                        \
  template void reference::tanh_forward<T>(T*, const T*, int64_t);                           \
  template void reference::elu_forward<T>(T*, const T*, int64_t, T);                         \
  template void reference::softmax_forward<T>(T*, const T*, int64_t, int64_t, int64_t);      \
  template void reference::log_softmax_forward<T>(T*, const T*, int64_t, int64_t, int64_t);  \
  template void reference::log_softmax_backward<T>(T*, const T*, const T*, int64_t, int64_t, \
                                                   int64_t);

NABLA_ACTIVATION_INSTANTIATE(float)
NABLA_ACTIVATION_INSTANTIATE(double)
NABLA_ACTIVATION_REFERENCE_INSTANTIATE(float)
NABLA_ACTIVATION_REFERENCE_INSTANTIATE(double)
#undef NABLA_ACTIVATION_INSTANTIATE
#undef NABLA_ACTIVATION_REFERENCE_INSTANTIATE

}  // namespace nabla::cpu
