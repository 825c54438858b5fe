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
// With `relu` (batch_norm_relu, whose forward ran with relu), dy is first taken through the
// ReLU: its mask, y > 0, is recomputed from x, mean, rstd, gamma and beta as the forward computed
// y, which needs rows long enough for the vector kernels (batch_norm_relu_recomputes_mask).
// The same bits as these kernels without relu on relu_mask(dy, y).
template <class T>
void batch_norm_backward(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean,
                         const T* rstd, const T* gamma, int64_t N, int64_t C, int64_t S,
                         bool batch_stats, const T* beta = nullptr, bool relu = false);
// Whether batch norm + ReLU's backward can recompute the mask (rows (n, c) of S values normalised
// by the vector kernels); for shorter rows, mask dy with the saved output and call it without.
bool batch_norm_relu_recomputes_mask(int64_t S);

// Synchronised batch norm (statistics over several ranks' batches) in steps, so a caller can sum
// the per-channel double buffers over the ranks in between; with one rank the steps give the
// same bits as batch_norm_stats and batch_norm_backward.
// sum[c] = Σ x and m2[c] = Σ (x - Σ x / M)² about this batch's own mean, in one pass (sums
// shifted by the channel's first value). Ranks combine them as Chan et al.'s parallel variance:
// Σ (x - global mean)² = m2 + M · (Σ x / M - global mean)², no second pass over x.
template <class T>
void batch_norm_moments(double* sum, double* m2, const T* x, int64_t N, int64_t C, int64_t S);
// sums[c] = Σ dy, sums[C + c] = Σ dy · xhat.
// gamma, beta and relu as in batch_norm_backward (gamma and beta are read only with relu).
template <class T>
void batch_norm_grad_sums(double* sums, const T* dy, const T* x, const T* mean, const T* rstd,
                          int64_t N, int64_t C, int64_t S, const T* gamma = nullptr,
                          const T* beta = nullptr, bool relu = false);
// dx = gamma · rstd · (dy - sums[c] / M - xhat · sums[C + c] / M), M the global count.
template <class T>
void batch_norm_grad_input(T* dx, const double* sums, double M, const T* dy, const T* x,
                           const T* mean, const T* rstd, const T* gamma, int64_t N, int64_t C,
                           int64_t S, const T* beta = nullptr, bool relu = false);

}  // namespace nabla::cpu
