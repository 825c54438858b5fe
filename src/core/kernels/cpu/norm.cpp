// Batch normalisation kernels; see norm.h.
#include "kernels/cpu/norm.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "kernels/cpu/vecmath.h"
#include "nabla/error.h"
#include "parallel.h"

namespace nabla::cpu {

namespace {

// Channels per task: about 16K values of work each, so small layers stay on one thread.
// Each channel's sums are computed by one thread, in the same order for any thread count.
int64_t channel_grain(int64_t N, int64_t S) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(N * S, 1));
}

// The per-channel sums, written once: the single-process kernels and the synchronised ones
// (whose sums are added over the ranks in between) call the same code, which is why one rank of
// synchronised batch norm is bitwise plain batch norm. Channel c of x (N, C, S) is N rows of S,
// C·S apart; vec::centered_sums adds them in double, vectorised for the instruction set, in an
// order fixed by the shape.

// Rows shorter than this (S = 1 for (N, C) features) are mapped by plain loops here: a
// vectorised call per handful of values costs more than it saves.
constexpr int64_t kShortRow = 16;

// Σ x and Σ (x - mean)² of channel c, the latter from sums shifted by the channel's first value
// K (Σ (x-K)² - (Σ (x-K))² / M), which keeps the cancellation small when the mean is far from
// zero: K is within a few standard deviations of the mean.
struct Moments {
  double sum = 0, m2 = 0;
};

template <class T>
Moments channel_moments(const T* x, int64_t N, int64_t C, int64_t S, int64_t c) {
  const double K = x[c * S], M = static_cast<double>(N * S);
  double t[2];
  vec::centered_sums<T>(t, nullptr, x + c * S, K, N, S, C * S);
  return {K * M + t[0], std::max(0.0, t[1] - t[0] * t[0] / M)};
}

// The normalise's per-channel factors, y = x · scale + shift: the forward's, and those of
// batch_norm_relu's backward, which recomputes the ReLU's mask from x with them (the same
// values, and vec::scale_shift and the gated kernels apply them with one expression).
template <class T>
struct Affine {
  T scale, shift;
};

template <class T>
Affine<T> channel_affine(int64_t c, const T* mean, const T* rstd, const T* gamma, const T* beta) {
  const T scale = rstd[c] * (gamma ? gamma[c] : T(1));
  return {scale, (beta ? beta[c] : T(0)) - mean[c] * scale};
}

struct GradSums {
  double dy = 0, dy_xhat = 0;  // Σ dy and Σ dy · xhat
};

// With `gate`, dy through the ReLU that followed the normalise (vec::centered_sums_relu).
template <class T>
GradSums channel_grad_sums(const T* dy, const T* x, double mu, double r, int64_t N, int64_t C,
                           int64_t S, int64_t c, const std::optional<Affine<T>>& gate) {
  double t[2];
  if (gate)
    vec::centered_sums_relu(t, dy + c * S, x + c * S, mu, N, S, C * S, gate->scale, gate->shift);
  else
    vec::centered_sums(t, dy + c * S, x + c * S, mu, N, S, C * S);
  return {t[0], t[1] * r};
}

// dx = k · (dy − mean_dy − xhat · mean_dy_xhat), k = gamma · rstd (written, not added); with
// `gate` (rows of at least kShortRow), dy through the ReLU as in channel_grad_sums.
template <class T>
void channel_grad_input(T* dx, const T* dy, const T* x, double mu, double r, double k,
                        double mean_dy, double mean_dy_xhat, int64_t N, int64_t C, int64_t S,
                        int64_t c, const std::optional<Affine<T>>& gate) {
  // k · (dy − mean_dy − (x − mu) · r · mean_dy_xhat) = a · dy + b · (x − mu) + d, the factors
  // folded per channel (x − mu stays a difference, so a mean far from 0 costs no precision).
  const T a = static_cast<T>(k), b = static_cast<T>(-k * r * mean_dy_xhat),
          d = static_cast<T>(-k * mean_dy), m = static_cast<T>(mu);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t at = (n * C + c) * S;
    if (gate)
      vec::centered_combination_relu(dx + at, dy + at, x + at, S, a, b, m, d, gate->scale,
                                     gate->shift);
    else if (S >= kShortRow)
      vec::centered_combination(dx + at, dy + at, x + at, S, a, b, m, d);
    else
      for (int64_t i = at; i < at + S; ++i) dx[i] = a * dy[i] + b * (x[i] - m) + d;
  }
}

// Row (n, c) of y from row (n, c) of x: y = x · scale + shift, folded per channel.
template <class T>
void normalize_row(T* y, const T* x, int64_t S, int64_t c, const T* mean, const T* rstd,
                   const T* gamma, const T* beta, bool relu) {
  const auto [scale, shift] = channel_affine(c, mean, rstd, gamma, beta);
  if (S >= kShortRow) return vec::scale_shift(y, x, S, scale, shift, relu);
  for (int64_t i = 0; i < S; ++i) {
    const T v = x[i] * scale + shift;
    y[i] = relu && !(v > 0) ? T(0) : v;
  }
}

// batch_norm_relu's gate for channel c, or none without the ReLU.
template <class T>
std::optional<Affine<T>> relu_gate(bool relu, int64_t S, int64_t c, const T* mean, const T* rstd,
                                   const T* gamma, const T* beta) {
  if (!relu) return std::nullopt;
  NABLA_CHECK(batch_norm_relu_recomputes_mask(S), "batch norm + ReLU's backward: rows of ", S,
              " values are too short to recompute the mask from x; mask dy with the output");
  return channel_affine(c, mean, rstd, gamma, beta);
}

}  // namespace

bool batch_norm_relu_recomputes_mask(int64_t S) {
  return S >= kShortRow;
}

template <class T>
void batch_norm_stats(T* mean, T* var, const T* x, int64_t N, int64_t C, int64_t S) {
  const double M = static_cast<double>(N * S);
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const Moments m = channel_moments(x, N, C, S, c);
      mean[c] = static_cast<T>(m.sum / M);
      var[c] = static_cast<T>(m.m2 / M);
    }
  });
}

template <class T>
void batch_norm_forward(T* y, const T* x, const T* mean, const T* rstd, const T* gamma,
                        const T* beta, int64_t N, int64_t C, int64_t S, bool relu) {
  // Rows (n, c) are independent: each is written by one thread.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(S, 1));
  parallel::parallel_for(N * C, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      normalize_row(y + r * S, x + r * S, S, r % C, mean, rstd, gamma, beta, relu);
  });
}

template <class T>
void batch_norm_backward(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean,
                         const T* rstd, const T* gamma, int64_t N, int64_t C, int64_t S,
                         bool batch_stats, const T* beta, bool relu) {
  const double M = static_cast<double>(N * S);
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mu = mean[c], r = rstd[c];
      const auto gate = relu_gate(relu, S, c, mean, rstd, gamma, beta);
      const GradSums sums = channel_grad_sums(dy, x, mu, r, N, C, S, c, gate);
      if (dbeta) dbeta[c] += static_cast<T>(sums.dy);
      if (dgamma) dgamma[c] += static_cast<T>(sums.dy_xhat);
      if (!dx) continue;
      const double k = (gamma ? gamma[c] : 1.0) * r;
      channel_grad_input(dx, dy, x, mu, r, k, batch_stats ? sums.dy / M : 0.0,
                         batch_stats ? sums.dy_xhat / M : 0.0, N, C, S, c, gate);
    }
  });
}

template <class T>
void batch_norm_moments(double* sum, double* m2, const T* x, int64_t N, int64_t C, int64_t S) {
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const Moments m = channel_moments(x, N, C, S, c);
      sum[c] = m.sum;
      m2[c] = m.m2;
    }
  });
}

template <class T>
void batch_norm_grad_sums(double* sums, const T* dy, const T* x, const T* mean, const T* rstd,
                          int64_t N, int64_t C, int64_t S, const T* gamma, const T* beta,
                          bool relu) {
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const auto gate = relu_gate(relu, S, c, mean, rstd, gamma, beta);
      const GradSums g =
          channel_grad_sums(dy, x, double(mean[c]), double(rstd[c]), N, C, S, c, gate);
      sums[c] = g.dy;
      sums[C + c] = g.dy_xhat;
    }
  });
}

template <class T>
void batch_norm_grad_input(T* dx, const double* sums, double M, const T* dy, const T* x,
                           const T* mean, const T* rstd, const T* gamma, int64_t N, int64_t C,
                           int64_t S, const T* beta, bool relu) {
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double r = rstd[c];
      const auto gate = relu_gate(relu, S, c, mean, rstd, gamma, beta);
      channel_grad_input(dx, dy, x, double(mean[c]), r, (gamma ? gamma[c] : 1.0) * r, sums[c] / M,
                         sums[C + c] / M, N, C, S, c, gate);
    }
  });
}

#define NABLA_INSTANTIATE(T)                                                                       \
  template void batch_norm_stats<T>(T*, T*, const T*, int64_t, int64_t, int64_t);                  \
  template void batch_norm_forward<T>(T*, const T*, const T*, const T*, const T*, const T*,        \
                                      int64_t, int64_t, int64_t, bool);                            \
  template void batch_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*,         \
                                       const T*, int64_t, int64_t, int64_t, bool, const T*, bool); \
  template void batch_norm_moments<T>(double*, double*, const T*, int64_t, int64_t, int64_t);      \
  template void batch_norm_grad_sums<T>(double*, const T*, const T*, const T*, const T*, int64_t,  \
                                        int64_t, int64_t, const T*, const T*, bool);               \
  template void batch_norm_grad_input<T>(T*, const double*, double, const T*, const T*, const T*,  \
                                         const T*, const T*, int64_t, int64_t, int64_t, const T*,  \
                                         bool);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu
