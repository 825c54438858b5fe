// Loss kernels over (N, C) score rows and integer labels: the per-sample losses and their
// gradients for cross-entropy and the multiclass SVM (multi-margin) loss. Raw contiguous arrays,
// output first, no allocation; backward kernels add into dscores (the caller zeroes it).
// N = samples, C = classes. Labels are validated by the caller.
#pragma once

#include <cstdint>

namespace nabla::cpu {

// loss[n] = -log_probs[n, labels[n]]; log_probs is log_softmax of the logits.
template <class T>
void cross_entropy_forward(T* loss, const T* log_probs, const int64_t* labels, int64_t N,
                           int64_t C);
// dlogits[n, c] += dloss[n] · (softmax[n, c] - [c == labels[n]]), softmax = e^log_probs.
template <class T>
void cross_entropy_backward(T* dlogits, const T* dloss, const T* log_probs, const int64_t* labels,
                            int64_t N, int64_t C);

// loss[n] = Σ_{j != y} max(0, margin - s[n, y] + s[n, j]) / divisor, y = labels[n].
template <class T>
void multi_margin_forward(T* loss, const T* scores, const int64_t* labels, int64_t N, int64_t C,
                          T margin, T divisor);
// Each active hinge (margin - s_y + s_j > 0) adds dloss[n] / divisor to ds_j and takes it from
// ds_y.
template <class T>
void multi_margin_backward(T* dscores, const T* dloss, const T* scores, const int64_t* labels,
                           int64_t N, int64_t C, T margin, T divisor);

}  // namespace nabla::cpu
