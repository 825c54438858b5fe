// Batch normalisation kernels; see norm.h.
#include "kernels/cpu/norm.h"

#include <algorithm>
#include <cstdint>

#include "parallel.h"

namespace nabla::cpu {

namespace {

// Channels per task: about 16K values of work each, so small layers stay on one thread.
// Each channel's sums are computed by one thread, in the same order for any thread count.
int64_t channel_grain(int64_t N, int64_t S) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(N * S, 1));
}

// The per-channel loops, written once: the single-process kernels and the synchronised ones
// (whose sums are added over the ranks in between) call the same code, which is why one rank of
// synchronised batch norm is bitwise plain batch norm. Channel c of x (N, C, S) is N rows of S.
//
// Each sum runs in kLanes partial sums (element i of a row goes to lane i mod kLanes), added in
// lane order at the end: a fixed order that depends on the shape only, and independent chains
// the compiler can keep in vector registers instead of one long chain of dependent adds.
constexpr int kLanes = 8;

template <class F>
void for_each_lane_element(int64_t N, int64_t C, int64_t S, int64_t c, F f) {
  for (int64_t n = 0; n < N; ++n) {
    const int64_t base = (n * C + c) * S;
    int64_t i = 0;
    for (; i + kLanes <= S; i += kLanes)
      for (int l = 0; l < kLanes; ++l) f(l, base + i + l);
    for (int l = 0; i < S; ++i, ++l) f(l, base + i);
  }
}

double lane_total(const double (&acc)[kLanes]) {
  double total = 0;
  for (double a : acc) total += a;
  return total;
}

// One pass over channel c: Σ x and Σ (x - mean)², the latter from sums shifted by the channel's
// first value K (Σ (x-K)² - (Σ (x-K))² / M), which keeps the cancellation small when the mean is
// far from zero: K is within a few standard deviations of the mean.
struct Moments {
  double sum = 0, m2 = 0;
};

template <class T>
Moments channel_moments(const T* x, int64_t N, int64_t C, int64_t S, int64_t c) {
  const double K = x[c * S], M = static_cast<double>(N * S);
  double s1[kLanes] = {}, s2[kLanes] = {};
  for_each_lane_element(N, C, S, c, [&](int l, int64_t at) {
    const double d = double(x[at]) - K;
    s1[l] += d;
    s2[l] += d * d;
  });
  const double t1 = lane_total(s1), t2 = lane_total(s2);
  return {K * M + t1, std::max(0.0, t2 - t1 * t1 / M)};
}

struct GradSums {
  double dy = 0, dy_xhat = 0;  // Σ dy and Σ dy · xhat
};

template <class T>
GradSums channel_grad_sums(const T* dy, const T* x, double mu, double r, int64_t N, int64_t C,
                           int64_t S, int64_t c) {
  double a[kLanes] = {}, b[kLanes] = {};
  for_each_lane_element(N, C, S, c, [&](int l, int64_t at) {
    a[l] += dy[at];
    b[l] += dy[at] * (x[at] - mu);
  });
  return {lane_total(a), lane_total(b) * r};
}

// dx = k · (dy − mean_dy − xhat · mean_dy_xhat), k = gamma · rstd (written, not added).
template <class T>
void channel_grad_input(T* dx, const T* dy, const T* x, double mu, double r, double k,
                        double mean_dy, double mean_dy_xhat, int64_t N, int64_t C, int64_t S,
                        int64_t c) {
  // k · (dy − mean_dy − (x − mu) · r · mean_dy_xhat) = a · dy + b · (x − mu) + d, the factors
  // folded per channel (x − mu stays a difference, so a mean far from 0 costs no precision).
  const T a = static_cast<T>(k), b = static_cast<T>(-k * r * mean_dy_xhat),
          d = static_cast<T>(-k * mean_dy), m = static_cast<T>(mu);
  for (int64_t n = 0; n < N; ++n) {
    const T* xr = x + (n * C + c) * S;
    const T* dr = dy + (n * C + c) * S;
    T* dxr = dx + (n * C + c) * S;
    for (int64_t i = 0; i < S; ++i) dxr[i] = a * dr[i] + b * (xr[i] - m) + d;
  }
}

}  // namespace

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
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r % C;
      // y = x · scale + shift, folded per channel
      const T scale = rstd[c] * (gamma ? gamma[c] : T(1));
      const T shift = (beta ? beta[c] : T(0)) - mean[c] * scale;
      const T* xr = x + r * S;
      T* yr = y + r * S;
      // Two plain loops, each vectorised; the clamp is relu's own (x > 0 ? x : 0).
      if (relu)
        for (int64_t i = 0; i < S; ++i) {
          const T v = xr[i] * scale + shift;
          yr[i] = v > 0 ? v : T(0);
        }
      else
        for (int64_t i = 0; i < S; ++i) yr[i] = xr[i] * scale + shift;
    }
  });
}

template <class T>
void batch_norm_backward(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean,
                         const T* rstd, const T* gamma, int64_t N, int64_t C, int64_t S,
                         bool batch_stats) {
  const double M = static_cast<double>(N * S);
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mu = mean[c], r = rstd[c];
      const GradSums sums = channel_grad_sums(dy, x, mu, r, N, C, S, c);
      if (dbeta) dbeta[c] += static_cast<T>(sums.dy);
      if (dgamma) dgamma[c] += static_cast<T>(sums.dy_xhat);
      if (!dx) continue;
      const double k = (gamma ? gamma[c] : 1.0) * r;
      channel_grad_input(dx, dy, x, mu, r, k, batch_stats ? sums.dy / M : 0.0,
                         batch_stats ? sums.dy_xhat / M : 0.0, N, C, S, c);
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
                          int64_t N, int64_t C, int64_t S) {
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const GradSums g = channel_grad_sums(dy, x, double(mean[c]), double(rstd[c]), N, C, S, c);
      sums[c] = g.dy;
      sums[C + c] = g.dy_xhat;
    }
  });
}

template <class T>
void batch_norm_grad_input(T* dx, const double* sums, double M, const T* dy, const T* x,
                           const T* mean, const T* rstd, const T* gamma, int64_t N, int64_t C,
                           int64_t S) {
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double r = rstd[c];
      channel_grad_input(dx, dy, x, double(mean[c]), r, (gamma ? gamma[c] : 1.0) * r, sums[c] / M,
                         sums[C + c] / M, N, C, S, c);
    }
  });
}

#define NABLA_INSTANTIATE(T)                                                                      \
  template void batch_norm_stats<T>(T*, T*, const T*, int64_t, int64_t, int64_t);                 \
  template void batch_norm_forward<T>(T*, const T*, const T*, const T*, const T*, const T*,       \
                                      int64_t, int64_t, int64_t, bool);                           \
  template void batch_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*,        \
                                       const T*, int64_t, int64_t, int64_t, bool);                \
  template void batch_norm_moments<T>(double*, double*, const T*, int64_t, int64_t, int64_t);     \
  template void batch_norm_grad_sums<T>(double*, const T*, const T*, const T*, const T*, int64_t, \
                                        int64_t, int64_t);                                        \
  template void batch_norm_grad_input<T>(T*, const double*, double, const T*, const T*, const T*, \
                                         const T*, const T*, int64_t, int64_t, int64_t);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu
