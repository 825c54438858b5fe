// Loss kernels: cross-entropy over (N, C) logits and the multiclass SVM (multi-margin) loss over
// (N, C) scores with integer labels, and binary cross-entropy element-wise. Raw contiguous arrays,
// output first, no allocation; backward kernels add into their gradient (the caller zeroes it),
// except where a comment says the kernel writes it. N = samples, C = classes. Labels are
// validated by the caller.
#pragma once

#include <cstdint>

namespace nabla::cpu {

// Softmax and cross-entropy fused: each row of logits is read once from memory (its max, then
// its exponentials summed while the row is in cache), and nothing N × C is written.
//   loss[n] = log Σ_c e^(x[n, c] - max[n]) - (x[n, labels[n]] - max[n])
// row_max[n] and log_sum[n] (the log of that sum) are what the backward needs besides the logits.
template <class T>
void softmax_cross_entropy_forward(T* loss, T* row_max, T* log_sum, const T* logits,
                                   const int64_t* labels, int64_t N, int64_t C);
// Writes (does not add) dlogits[n, c] = dloss[n] · (softmax[n, c] - [c == labels[n]]), with
// softmax = e^((x - row_max) - log_sum): one pass, no zeroed buffer needed.
template <class T>
void softmax_cross_entropy_backward(T* dlogits, const T* dloss, const T* logits, const T* row_max,
                                    const T* log_sum, const int64_t* labels, int64_t N, int64_t C);

// Binary cross-entropy on probabilities, each log clamped at -100 (as PyTorch):
// loss[i] = -(t · max(log p, -100) + (1 - t) · max(log(1 - p), -100)).
template <class T>
void binary_cross_entropy_forward(T* loss, const T* p, const T* t, int64_t n);
// out[i] = max(log(1 - p), -100) - max(log p, -100): the loss's derivative in t.
template <class T>
void binary_cross_entropy_target_grad(T* out, const T* p, int64_t n);
// On logits: loss[i] = max(z, 0) - z · t + log(1 + e^-|z|), finite for any z.
template <class T>
void binary_cross_entropy_with_logits_forward(T* loss, const T* z, const T* t, int64_t n);

// loss[n] = Σ_{j != y} max(0, margin - s[n, y] + s[n, j]) / divisor, y = labels[n].
template <class T>
void multi_margin_forward(T* loss, const T* scores, const int64_t* labels, int64_t N, int64_t C,
                          T margin, T divisor);
// Each active hinge (margin - s_y + s_j > 0) adds dloss[n] / divisor to ds_j and takes it from
// ds_y.
template <class T>
void multi_margin_backward(T* dscores, const T* dloss, const T* scores, const int64_t* labels,
                           int64_t N, int64_t C, T margin, T divisor);

// The plain loops the fused and vectorised kernels replaced, for the tests to compare with.
namespace reference {
// loss[n] = -log_probs[n, labels[n]]; log_probs is log_softmax of the logits.
template <class T>
void cross_entropy_forward(T* loss, const T* log_probs, const int64_t* labels, int64_t N,
                           int64_t C);
// dlogits[n, c] += dloss[n] · (softmax[n, c] - [c == labels[n]]), softmax = e^log_probs.
template <class T>
void cross_entropy_backward(T* dlogits, const T* dloss, const T* log_probs, const int64_t* labels,
                            int64_t N, int64_t C);
template <class T>
void binary_cross_entropy_forward(T* loss, const T* p, const T* t, int64_t n);
template <class T>
void binary_cross_entropy_with_logits_forward(T* loss, const T* z, const T* t, int64_t n);
}  // namespace reference

}  // namespace nabla::cpu
