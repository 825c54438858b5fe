// Batch normalisation kernels; see norm.h.
#include "kernels/cpu/norm.h"

#include <algorithm>

#include "parallel.h"

namespace nabla::cpu {

namespace {

// Channels per task: about 16K values of work each, so small layers stay on one thread.
// Each channel's sums are computed by one thread, in the same order for any thread count.
int64_t channel_grain(int64_t N, int64_t S) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(N * S, 1));
}

}  // namespace

template <class T>
void batch_norm_stats(T* mean, T* var, const T* x, int64_t N, int64_t C, int64_t S) {
  const double M = static_cast<double>(N * S);
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double sum = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* row = x + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) sum += row[i];
      }
      const double mu = sum / M;
      double sq = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* row = x + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) sq += (row[i] - mu) * (row[i] - mu);
      }
      mean[c] = static_cast<T>(mu);
      var[c] = static_cast<T>(sq / M);
    }
  });
}

template <class T>
void batch_norm_forward(T* y, const T* x, const T* mean, const T* rstd, const T* gamma,
                        const T* beta, int64_t N, int64_t C, int64_t S) {
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
      double sum_dy = 0, sum_dy_xhat = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + (n * C + c) * S;
        const T* dr = dy + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) {
          sum_dy += dr[i];
          sum_dy_xhat += dr[i] * (xr[i] - mu) * r;
        }
      }
      if (dbeta) dbeta[c] += static_cast<T>(sum_dy);
      if (dgamma) dgamma[c] += static_cast<T>(sum_dy_xhat);
      if (!dx) continue;
      const double k = (gamma ? gamma[c] : 1.0) * r;
      const double mean_dy = batch_stats ? sum_dy / M : 0.0;
      const double mean_dy_xhat = batch_stats ? sum_dy_xhat / M : 0.0;
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + (n * C + c) * S;
        const T* dr = dy + (n * C + c) * S;
        T* dxr = dx + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) {
          const double xhat = (xr[i] - mu) * r;
          dxr[i] += static_cast<T>(k * (dr[i] - mean_dy - xhat * mean_dy_xhat));
        }
      }
    }
  });
}

template <class T>
void batch_norm_sum(double* sum, const T* x, int64_t N, int64_t C, int64_t S) {
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* row = x + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) s += row[i];
      }
      sum[c] = s;
    }
  });
}

template <class T>
void batch_norm_sq(double* sq, const T* x, const double* mean, int64_t N, int64_t C, int64_t S) {
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mu = mean[c];
      double s = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* row = x + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) s += (row[i] - mu) * (row[i] - mu);
      }
      sq[c] = s;
    }
  });
}

template <class T>
void batch_norm_grad_sums(double* sums, const T* dy, const T* x, const T* mean, const T* rstd,
                          int64_t N, int64_t C, int64_t S) {
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mu = mean[c], r = rstd[c];
      double sum_dy = 0, sum_dy_xhat = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + (n * C + c) * S;
        const T* dr = dy + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) {
          sum_dy += dr[i];
          sum_dy_xhat += dr[i] * (xr[i] - mu) * r;
        }
      }
      sums[c] = sum_dy;
      sums[C + c] = sum_dy_xhat;
    }
  });
}

template <class T>
void batch_norm_grad_input(T* dx, const double* sums, double M, const T* dy, const T* x,
                           const T* mean, const T* rstd, const T* gamma, int64_t N, int64_t C,
                           int64_t S) {
  parallel::parallel_for(C, channel_grain(N, S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mu = mean[c], r = rstd[c];
      const double k = (gamma ? gamma[c] : 1.0) * r;
      const double mean_dy = sums[c] / M, mean_dy_xhat = sums[C + c] / M;
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + (n * C + c) * S;
        const T* dr = dy + (n * C + c) * S;
        T* dxr = dx + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) {
          const double xhat = (xr[i] - mu) * r;
          dxr[i] += static_cast<T>(k * (dr[i] - mean_dy - xhat * mean_dy_xhat));
        }
      }
    }
  });
}

#define NABLA_INSTANTIATE(T)                                                                      \
  template void batch_norm_stats<T>(T*, T*, const T*, int64_t, int64_t, int64_t);                 \
  template void batch_norm_forward<T>(T*, const T*, const T*, const T*, const T*, const T*,       \
                                      int64_t, int64_t, int64_t);                                 \
  template void batch_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*,        \
                                       const T*, int64_t, int64_t, int64_t, bool);                \
  template void batch_norm_sum<T>(double*, const T*, int64_t, int64_t, int64_t);                  \
  template void batch_norm_sq<T>(double*, const T*, const double*, int64_t, int64_t, int64_t);    \
  template void batch_norm_grad_sums<T>(double*, const T*, const T*, const T*, const T*, int64_t, \
                                        int64_t, int64_t);                                        \
  template void batch_norm_grad_input<T>(T*, const double*, double, const T*, const T*, const T*, \
                                         const T*, const T*, int64_t, int64_t, int64_t);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu
