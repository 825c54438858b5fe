// Differentiable operations on tensors. Each one's forward and backward sit side by side in
// src/core/ops/<family>.cpp; every op here has a gradcheck case (tests/ops/<family>_gradcheck.cpp).
//
// Shapes: element-wise binary ops broadcast as NumPy does. Reductions take a list of dims
// (negative counts from the end; an empty list means all dims) and keepdim.
// Every shape error throws nabla::Error naming the op and the shapes involved.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/tensor.h"

namespace nabla {

// ---- element-wise arithmetic (src/ops/arithmetic.cpp) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
// Limits x to [lo, hi]; the gradient is 1 strictly inside, 0 outside.
Tensor clamp(const Tensor& x, double lo, double hi);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);

// ---- linear algebra (src/ops/matmul.cpp) ----
// a (..., M, K) · b (..., K, N) -> (..., M, N), batch dims broadcast. A 1-d a is a row (K),
// a 1-d b a column (K); that dim is removed from the result, as in numpy.matmul.
Tensor matmul(const Tensor& a, const Tensor& b);
// The fully connected layer in one op: x (..., in) · weight (out, in)ᵀ + bias (out) -> (..., out).
// bias may be undefined. One graph node instead of three (transpose, matmul, add), which is
// what a small network's step time is made of.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
namespace detail {
// relu(linear(x, weight, bias)) as one op: the bias and the ReLU are applied by the GEMM's threads
// to the blocks each computes (cpu::gemm_bias_relu), and backward masks the gradient with the
// saved output. The same values and gradients as the two ops, bit for bit; nn::Sequential uses it
// for a Linear then a ReLU (Module::forward_relu).
Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
}  // namespace detail

// ---- reductions (src/ops/reduce.cpp) ----
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Largest value over dims; the gradient goes to the first maximal element of each group.
Tensor max(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Index of the first largest value along dim (not differentiable; an int64 tensor).
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
// Sums `g` down to `shape` (the inverse of broadcasting); used by backward passes.
Tensor sum_to(const Tensor& g, const Shape& shape);

// ---- shape ops (src/ops/shape.cpp; views are Tensor members) ----
Tensor concat(const std::vector<Tensor>& tensors, int64_t dim);
// Rows of x (first dim) picked by integer `indices` (a gather; differentiable in x).
Tensor index_select(const Tensor& x, int64_t dim, const std::vector<int64_t>& indices);

// ---- activations (src/ops/activation.cpp) ----
// Element-wise ones keep x's shape. relu, leaky_relu and elu take the x <= 0 branch's slope at 0.
// softmax and log_softmax subtract the max along dim first, so any finite logits give finite
// results and gradients.
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);
// Maximum over groups of `pieces` consecutive features along dim: x (..., F·pieces, ...) ->
// (..., F, ...). Goodfellow et al. 2013; CS231n lecture 4.
Tensor maxout(const Tensor& x, int64_t pieces, int64_t dim = 1);

// ---- losses (src/ops/loss.cpp) ----
// As in PyTorch: None returns one loss per element (per sample for cross_entropy and
// multi_margin_loss), Sum their total, Mean their average (a 0-d tensor for Sum and Mean).
// Element-wise losses need input and target of the same shape and dtype, and give the target a
// gradient too. Labels must number N and lie in [0, C); errors name the bad label and position.
enum class Reduction { Mean, Sum, None };
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);
// Probabilities in [0, 1] (others throw); each log is clamped at -100 as in PyTorch.
Tensor binary_cross_entropy(const Tensor& prob, const Tensor& target,
                            Reduction r = Reduction::Mean);
// Stable form: max(z, 0) - z·t + log(1 + exp(-|z|)).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction r = Reduction::Mean);
// logits (N, C), labels N integers in [0, C): mean of -log_softmax(logits)[n, label[n]].
// labels: a 1-d int64 tensor (as PyTorch's), or a std::vector<int64_t>.
Tensor cross_entropy(const Tensor& logits, const Tensor& labels, Reduction r = Reduction::Mean);
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels,
                     Reduction r = Reduction::Mean);
// Multiclass SVM (CS231n): mean over n of sum over j != y of max(0, s_j - s_y + margin) / C
// as PyTorch's multi_margin_loss (divides by C); `per_class_divide` = false gives CS231n's sum.
Tensor multi_margin_loss(const Tensor& scores, const std::vector<int64_t>& labels,
                         double margin = 1.0, Reduction r = Reduction::Mean,
                         bool per_class_divide = true);
Tensor multi_margin_loss(const Tensor& scores, const Tensor& labels, double margin = 1.0,
                         Reduction r = Reduction::Mean, bool per_class_divide = true);

}  // namespace nabla

// ---- convolutional networks: conv2d, pooling, batch_norm, dropout ----
#include "nabla/ops/conv.h"
