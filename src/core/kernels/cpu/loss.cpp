// The loss kernels declared in loss.h. Cross-entropy and binary cross-entropy run their exp and
// log through vecmath.h; the plain loops they replaced stay in namespace reference.
#include "kernels/cpu/loss.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/row_loop.h"
#include "kernels/cpu/vecmath.h"

namespace nabla::cpu {

namespace {

// Elements per stack buffer (kernels allocate nothing).
constexpr int64_t kChunk = 256;

// f(i0, len) over [0, n) in chunks of at most kChunk.
template <class F>
void for_each_chunk(int64_t n, F f) {
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) f(i0, std::min(kChunk, n - i0));
}

template <class T>
T clamp_log(T v) {
  return std::max(v, T(-100));
}

}  // namespace

// Rows shorter than this (LeNet's 10 classes) are too short for a vector call each: their
// exponentials are taken over chunks of the whole (N, C) array instead, and each row summed in
// order.
constexpr int64_t kShortRow = 32;

template <class T>
void softmax_cross_entropy_forward(T* loss, T* row_max, T* log_sum, const T* logits,
                                   const int64_t* labels, int64_t N, int64_t C) {
  // -((x - max) - log Σ), the same rounding as the reference's -log_softmax[label]. The max term
  // contributes e^0 = 1, so the sum is >= 1 and its log is never -inf.
  auto finish = [&](int64_t n, T m, T total) {
    const T lt = std::log(total);
    row_max[n] = m;
    log_sum[n] = lt;
    loss[n] = -((logits[n * C + labels[n]] - m) - lt);
  };
  if (C < kShortRow) {
    const int64_t rows_per_chunk = kChunk / C;
    T e[kChunk];
    for (int64_t n0 = 0; n0 < N; n0 += rows_per_chunk) {
      const int64_t rows = std::min(rows_per_chunk, N - n0);
      for (int64_t r = 0; r < rows; ++r) {
        const T* x = logits + (n0 + r) * C;
        const T m = *std::max_element(x, x + C);
        row_max[n0 + r] = m;
        for (int64_t c = 0; c < C; ++c) e[r * C + c] = x[c] - m;
      }
      vec::exp(e, e, rows * C);
      for (int64_t r = 0; r < rows; ++r) {
        T total = 0;
        for (int64_t c = 0; c < C; ++c) total += e[r * C + c];
        finish(n0 + r, row_max[n0 + r], total);
      }
    }
    return;
  }
  for_each_row(N, C, [&](int64_t n) {
    const T* x = logits + n * C;
    const T m = vec::max(x, C);
    finish(n, m, vec::exp_sum<T>(nullptr, x, m, C));
  });
}

template <class T>
void softmax_cross_entropy_backward(T* dlogits, const T* dloss, const T* logits, const T* row_max,
                                    const T* log_sum, const int64_t* labels, int64_t N, int64_t C) {
  // d = g · e^((x - max) - log Σ) = g · softmax, the log-softmax formed as the reference does.
  if (C < kShortRow) {
    T p[kChunk], g[kChunk];
    for_each_chunk(N * C, [&](int64_t i0, int64_t len) {
      for (int64_t i = 0, n = i0 / C, c = i0 % C; i < len; ++i) {
        p[i] = (logits[i0 + i] - row_max[n]) - log_sum[n];
        g[i] = dloss[n];
        if (++c == C) c = 0, ++n;
      }
      vec::exp(p, p, len);
      for (int64_t i = 0; i < len; ++i) dlogits[i0 + i] = g[i] * p[i];
    });
  } else {
    for_each_row(N, C, [&](int64_t n) {
      const T* x = logits + n * C;
      T* d = dlogits + n * C;
      const T m = row_max[n], lt = log_sum[n], g = dloss[n];
      T p[kChunk];
      for_each_chunk(C, [&](int64_t c0, int64_t len) {
        for (int64_t c = 0; c < len; ++c) p[c] = (x[c0 + c] - m) - lt;
        vec::exp(p, p, len);
        for (int64_t c = 0; c < len; ++c) d[c0 + c] = g * p[c];
      });
    });
  }
  for (int64_t n = 0; n < N; ++n) dlogits[n * C + labels[n]] -= dloss[n];
}

template <class T>
void binary_cross_entropy_forward(T* loss, const T* p, const T* t, int64_t n) {
  T log_p[kChunk], log_1mp[kChunk];
  for_each_chunk(n, [&](int64_t i0, int64_t len) {
    vec::log(log_p, p + i0, len);
    for (int64_t i = 0; i < len; ++i) log_1mp[i] = -p[i0 + i];
    vec::log1p(log_1mp, log_1mp, len);
    for (int64_t i = 0; i < len; ++i) {
      const T ti = t[i0 + i];
      loss[i0 + i] = -(ti * clamp_log(log_p[i]) + (1 - ti) * clamp_log(log_1mp[i]));
    }
  });
}

template <class T>
void binary_cross_entropy_target_grad(T* out, const T* p, int64_t n) {
  T log_p[kChunk], log_1mp[kChunk];
  for_each_chunk(n, [&](int64_t i0, int64_t len) {
    vec::log(log_p, p + i0, len);
    for (int64_t i = 0; i < len; ++i) log_1mp[i] = -p[i0 + i];
    vec::log1p(log_1mp, log_1mp, len);
    for (int64_t i = 0; i < len; ++i) out[i0 + i] = clamp_log(log_1mp[i]) - clamp_log(log_p[i]);
  });
}

template <class T>
void binary_cross_entropy_with_logits_forward(T* loss, const T* z, const T* t, int64_t n) {
  T e[kChunk];
  for_each_chunk(n, [&](int64_t i0, int64_t len) {
    for (int64_t i = 0; i < len; ++i) e[i] = -std::abs(z[i0 + i]);
    vec::exp(e, e, len);
    vec::log1p(e, e, len);
    for (int64_t i = 0; i < len; ++i) {
      const T zi = z[i0 + i];
      loss[i0 + i] = std::max(zi, T(0)) - zi * t[i0 + i] + e[i];
    }
  });
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

namespace reference {

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
void binary_cross_entropy_forward(T* loss, const T* p, const T* t, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    loss[i] = -(t[i] * clamp_log(std::log(p[i])) + (1 - t[i]) * clamp_log(std::log1p(-p[i])));
}

template <class T>
void binary_cross_entropy_with_logits_forward(T* loss, const T* z, const T* t, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    loss[i] = std::max(z[i], T(0)) - z[i] * t[i] + std::log1p(std::exp(-std::abs(z[i])));
}

}  // namespace reference

#define NABLA_LOSS_INSTANTIATE(T)                                                                  \
  template void softmax_cross_entropy_forward<T>(T*, T*, T*, const T*, const int64_t*, int64_t,    \
                                                 int64_t);                                         \
  template void softmax_cross_entropy_backward<T>(T*, const T*, const T*, const T*, const T*,      \
                                                  const int64_t*, int64_t, int64_t);               \
  template void binary_cross_entropy_forward<T>(T*, const T*, const T*, int64_t);                  \
  template void binary_cross_entropy_target_grad<T>(T*, const T*, int64_t);                        \
  template void binary_cross_entropy_with_logits_forward<T>(T*, const T*, const T*, int64_t);      \
  template void multi_margin_forward<T>(T*, const T*, const int64_t*, int64_t, int64_t, T, T);     \
  template void multi_margin_backward<T>(T*, const T*, const T*, const int64_t*, int64_t, int64_t, \
                                         T, T);                                                    \
  template void reference::cross_entropy_forward<T>(T*, const T*, const int64_t*, int64_t,         \
                                                    int64_t);                                      \
  template void reference::cross_entropy_backward<T>(T*, const T*, const T*, const int64_t*,       \
                                                     int64_t, int64_t);                            \
  template void reference::binary_cross_entropy_forward<T>(T*, const T*, const T*, int64_t);       \
  template void reference::binary_cross_entropy_with_logits_forward<T>(T*, const T*, const T*,     \
                                                                       int64_t);

NABLA_LOSS_INSTANTIATE(float)
NABLA_LOSS_INSTANTIATE(double)
#undef NABLA_LOSS_INSTANTIATE

}  // namespace nabla::cpu
