// Batch normalisation kernels. x and y are contiguous (N, C, S): S = H·W for images, 1 for
// (N, C) features; statistics are per channel over the M = N·S values of that channel.
// Sums run in double whatever T is, because a channel of a real batch holds tens of thousands of
// values and float sums would lose the variance's low digits. No allocation, no graph; the
// forward overwrites y, the backward overwrites dx and adds into dgamma and dbeta (each may be
// null). Training reads x twice (statistics, then normalise) and the backward reads x and dy
// twice (sums, then dx).
#pragma once

#include <cstdint>

namespace nabla::cpu {

// mean[c] and the biased variance var[c] = Σ (x - mean)² / M, in one pass (batch_norm_moments).
template <class T>
void batch_norm_stats(T* mean, T* var, const T* x, int64_t N, int64_t C, int64_t S);

// y = (x - mean[c]) · rstd[c] · gamma[c] + beta[c]; gamma null means 1, beta null means 0.
// With `relu`, y = max(0, that) in the same pass, bitwise relu of the result without it.
template <class T>
void batch_norm_forward(T* y, const T* x, const T* mean, const T* rstd, const T* gamma,
                        const T* beta, int64_t N, int64_t C, int64_t S, bool relu = false);

// With xhat = (x - mean) · rstd and dxhat = dy · gamma:
//   dbeta[c] += Σ dy,  dgamma[c] += Σ dy · xhat
//   batch_stats (mean, rstd came from this batch, so they depend on x):
//     dx = gamma · rstd · (dy - Σ dy / M - xhat · Σ (dy · xhat) / M)
//   otherwise (running statistics, constants):
//     dx = gamma · rstd · dy
template <class T>
void batch_norm_backward(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean,
                         const T* rstd, const T* gamma, int64_t N, int64_t C, int64_t S,
                         bool batch_stats);

// Synchronised batch norm (statistics over several ranks' batches) in steps, so a caller can sum
// the per-channel double buffers over the ranks in between; with one rank the steps give the
// same bits as batch_norm_stats and batch_norm_backward.
// sum[c] = Σ x and m2[c] = Σ (x - Σ x / M)² about this batch's own mean, in one pass (sums
// shifted by the channel's first value). Ranks combine them as Chan et al.'s parallel variance:
// Σ (x - global mean)² = m2 + M · (Σ x / M - global mean)², no second pass over x.
template <class T>
void batch_norm_moments(double* sum, double* m2, const T* x, int64_t N, int64_t C, int64_t S);
// sums[c] = Σ dy, sums[C + c] = Σ dy · xhat.
template <class T>
void batch_norm_grad_sums(double* sums, const T* dy, const T* x, const T* mean, const T* rstd,
                          int64_t N, int64_t C, int64_t S);
// dx = gamma · rstd · (dy - sums[c] / M - xhat · sums[C + c] / M), M the global count.
template <class T>
void batch_norm_grad_input(T* dx, const double* sums, double M, const T* dy, const T* x,
                           const T* mean, const T* rstd, const T* gamma, int64_t N, int64_t C,
                           int64_t S);

}  // namespace nabla::cpu
