// Losses: mse_loss, l1_loss, binary_cross_entropy (on probabilities and on logits),
// cross_entropy and multi_margin_loss (on (N, C) scores with integer labels).
// N = samples, C = classes.
// Reduction follows PyTorch: None keeps one loss per element (per sample for the (N, C) losses),
// Sum adds them, Mean divides that sum by their count. Every loss records one node; its backward
// spreads dout over the per-element losses (spread) and multiplies by their local derivative.
// Element-wise losses also give the target a gradient, as PyTorch does.
#include "kernels/cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/cpu/activation.h"
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

namespace {

void check_input_target(const char* op, const Tensor& input, const Tensor& target) {
  NABLA_CHECK(input.shape() == target.shape(), op, ": input ", input.shape(), " and target ",
              target.shape(), " must have the same shape");
  check_same_dtype(op, input, target);
}

// (N, C) scores and N labels in [0, C); names the first bad label and its position.
void check_scores_labels(const char* op, const Tensor& scores, const std::vector<int64_t>& labels) {
  NABLA_CHECK(scores.dim() == 2, op, ": scores must be 2-d (N, C), got shape ", scores.shape());
  const int64_t N = scores.shape()[0], C = scores.shape()[1];
  NABLA_CHECK(static_cast<int64_t>(labels.size()) == N, op, ": got ", labels.size(),
              " labels for scores ", scores.shape(), " (expected N = ", N, ")");
  for (size_t i = 0; i < labels.size(); ++i)
    NABLA_CHECK(labels[i] >= 0 && labels[i] < C, op, ": label ", labels[i], " at position ", i,
                " is out of range [0, ", C, ") for scores ", scores.shape());
}

// Folds per-element losses (a fresh contiguous tensor) into the reduction (no autograd). The
// bits of sum(losses), then of that / count for Mean: one running total in element order added
// to a zeroed output, divided in T by the count as a T scalar. Written out, since the two ops
// cost a tiny network's loss more than its arithmetic (three tensors and their dispatch).
Tensor reduce(const Tensor& losses, Reduction r) {
  if (r == Reduction::None) return losses;
  NABLA_ASSERT(losses.is_contiguous());
  Tensor out = Tensor::empty({}, losses.dtype());
  dispatch(losses.dtype(), [&]<class T>() {
    const T* p = losses.data<T>();
    const int64_t n = losses.numel();
    T acc = 0;
    for (int64_t i = 0; i < n; ++i) acc += p[i];
    const T total = T(0) + acc;
    *out.data<T>() = r == Reduction::Mean ? total / static_cast<T>(static_cast<double>(n)) : total;
  });
  return out;
}

// The gradient that reaches each per-element loss of `shape` from dout: dout itself for None,
// dout (Sum) or dout / count (Mean) everywhere otherwise.
Tensor spread(const Tensor& dy, const Shape& shape, Reduction r) {
  if (r == Reduction::None) return contiguous_data(dy);
  const double scale = r == Reduction::Mean ? 1.0 / static_cast<double>(shape.numel()) : 1.0;
  return Tensor::full(shape, dy.item() * scale, dy.dtype());
}

// g · local(x, t) element-wise, g = spread(dy, x.shape(), r): the bits of
// mul(spread(...), binary_map(x, t, local)), but for Sum and Mean in one pass into one tensor,
// g being one value there.
template <class F>
Tensor spread_times(const Tensor& dy, Reduction r, const Tensor& x, const Tensor& t, F local) {
  if (r == Reduction::None) return mul(contiguous_data(dy), binary_map(x, t, local));
  const double scale = r == Reduction::Mean ? 1.0 / static_cast<double>(x.numel()) : 1.0;
  const double g = dy.item() * scale;
  Tensor xc = contiguous_data(x), tc = contiguous_data(t);
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&]<class T>() {
    cpu::map2(
        out.data<T>(), xc.data<T>(), tc.data<T>(), x.numel(),
        [gt = static_cast<T>(g), &local](T a, T b) { return gt * static_cast<T>(local(a, b)); });
  });
  return out;
}

// Gradients of an element-wise loss: dinput = g · local(x, t), dtarget = g · local_t(x, t),
// g = spread(dy, x.shape(), r), each only when that input wants one.
template <class Fx, class Ft>
Grads elementwise_grads(const Tensor& dy, Reduction r, const Tensor& x, const Tensor& t, bool rx,
                        bool rt, Fx local_x, Ft local_t) {
  return {rx ? spread_times(dy, r, x, t, local_x) : Tensor(),
          rt ? spread_times(dy, r, x, t, local_t) : Tensor()};
}

}  // namespace

// mse_loss: l = (x - t)².  x, t: same shape; out: that shape (None) or scalar.
// Saves x and t: dx = g · 2(x - t), dt = -dx.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_floating("mse_loss", input.dtype());
  check_input_target("mse_loss", input, target);
  Tensor losses = binary_map(input, target, [](auto x, auto t) { return (x - t) * (x - t); });
  return autograd::record(Op::mse_loss, reduce(losses, r), {input, target},
                          [x = input.detach(), t = target.detach(), r, rx = input.requires_grad(),
                           rt = target.requires_grad()](const Tensor& dy) {
                            return elementwise_grads(
                                dy, r, x, t, rx, rt, [](auto a, auto b) { return 2 * (a - b); },
                                [](auto a, auto b) { return 2 * (b - a); });
                          });
}

// l1_loss: l = |x - t|.  x, t: same shape; out: that shape (None) or scalar.
// Saves x and t: dx = g · sign(x - t) (0 where x = t, as PyTorch), dt = -dx.
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_floating("l1_loss", input.dtype());
  check_input_target("l1_loss", input, target);
  Tensor losses = binary_map(input, target, [](auto x, auto t) { return std::abs(x - t); });
  return autograd::record(Op::l1_loss, reduce(losses, r), {input, target},
                          [x = input.detach(), t = target.detach(), r, rx = input.requires_grad(),
                           rt = target.requires_grad()](const Tensor& dy) {
                            auto sign = [](auto a, auto b) {
                              return static_cast<decltype(a)>((a > b) - (a < b));
                            };
                            return elementwise_grads(dy, r, x, t, rx, rt, sign,
                                                     [sign](auto a, auto b) { return sign(b, a); });
                          });
}

// binary_cross_entropy: l = -(t · log p + (1 - t) · log(1 - p)), each log clamped at -100 as in
// PyTorch, so p = 0 or 1 gives a finite loss.  p, t: same shape, p in [0, 1].
// Saves p and t: dp = g · (p - t) / max(p(1 - p), 1e-12), dt = g · (log(1 - p) - log p).
Tensor binary_cross_entropy(const Tensor& prob, const Tensor& target, Reduction r) {
  check_floating("binary_cross_entropy", prob.dtype());
  check_input_target("binary_cross_entropy", prob, target);
  Tensor pc = contiguous_data(prob);
  dispatch(prob.dtype(), [&]<class T>() {
    const T* p = pc.data<T>();
    for (int64_t i = 0; i < prob.numel(); ++i)
      NABLA_CHECK(p[i] >= 0 && p[i] <= 1, "binary_cross_entropy: input ", prob.shape(),
                  " must hold probabilities in [0, 1], got ", p[i], " at flat index ", i);
  });
  Tensor losses = Tensor::empty(prob.shape(), prob.dtype());
  Tensor tc = contiguous_data(target);
  dispatch(prob.dtype(), [&]<class T>() {
    cpu::binary_cross_entropy_forward(losses.data<T>(), pc.data<T>(), tc.data<T>(), prob.numel());
  });
  return autograd::record(
      Op::binary_cross_entropy, reduce(losses, r), {prob, target},
      // Inputs saved as they are (no cycle, no header made): see linear().
      [x = pc, t = target, r, rx = prob.requires_grad(),
       rt = target.requires_grad()](const Tensor& dy) {
        Tensor dp =
            rx ? spread_times(dy, r, x, t,
                              [](auto v, auto tv) {
                                using T = decltype(v);
                                return (v - tv) / std::max(v * (1 - v), static_cast<T>(1e-12));
                              })
               : Tensor();
        if (!rt) return Grads{dp, Tensor()};
        Tensor g = spread(dy, x.shape(), r);
        Tensor local = Tensor::empty(x.shape(), x.dtype());
        dispatch(x.dtype(), [&]<class T>() {
          cpu::binary_cross_entropy_target_grad(local.data<T>(), x.data<T>(), x.numel());
        });
        return Grads{dp, mul(g, local)};
      });
}

// binary_cross_entropy_with_logits: l = max(z, 0) - z·t + log(1 + e^-|z|), which equals
// binary_cross_entropy(sigmoid(z), t) without overflow for any z.  z, t: same shape.
// Saves z and t: dz = g · (sigmoid(z) - t), dt = -g · z.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction r) {
  check_floating("binary_cross_entropy_with_logits", logits.dtype());
  check_input_target("binary_cross_entropy_with_logits", logits, target);
  Tensor zc = contiguous_data(logits), tc = contiguous_data(target);
  Tensor losses = Tensor::empty(logits.shape(), logits.dtype());
  dispatch(logits.dtype(), [&]<class T>() {
    cpu::binary_cross_entropy_with_logits_forward(losses.data<T>(), zc.data<T>(), tc.data<T>(),
                                                  logits.numel());
  });
  return autograd::record(Op::binary_cross_entropy_with_logits, reduce(losses, r), {logits, target},
                          [z = zc.detach(), t = tc.detach(), r, rz = logits.requires_grad(),
                           rt = target.requires_grad()](const Tensor& dy) {
                            Tensor g = spread(dy, z.shape(), r);
                            Tensor dz;
                            if (rz) {
                              Tensor local = Tensor::empty(z.shape(), z.dtype());  // sigmoid(z) - t
                              dispatch(z.dtype(), [&]<class T>() {
                                T* lp = local.data<T>();
                                const T* tp = t.data<T>();
                                cpu::sigmoid_forward(lp, z.data<T>(), z.numel());
                                for (int64_t i = 0; i < z.numel(); ++i) lp[i] -= tp[i];
                              });
                              dz = mul(g, local);
                            }
                            return Grads{dz, rt ? mul(g, neg(z)) : Tensor()};
                          });
}

// cross_entropy: l[n] = -log_softmax(logits)[n, labels[n]].  logits (N, C), labels N in [0, C);
// out (N) for None, else scalar. Softmax and the loss are one fused kernel that subtracts each
// row's max, so logits of any size give a finite loss.
// Saves the logits and each row's max and log Σ e^(x - max) (2 × N), nothing N × C:
// dlogits[n] = g[n] · (softmax[n] - onehot(labels[n])).
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels, Reduction r) {
  check_floating("cross_entropy", logits.dtype());
  check_scores_labels("cross_entropy", logits, labels);
  const int64_t N = logits.shape()[0], C = logits.shape()[1];
  Tensor xc = contiguous_data(logits).detach();
  Tensor stats = Tensor::empty({2, N}, logits.dtype());  // row max, then log Σ
  Tensor losses = Tensor::empty({N}, logits.dtype());
  dispatch(logits.dtype(), [&]<class T>() {
    cpu::softmax_cross_entropy_forward(losses.data<T>(), stats.data<T>(), stats.data<T>() + N,
                                       xc.data<T>(), labels.data(), N, C);
  });
  // The backward's copy of the labels lives in a tensor: its buffer comes from the storage
  // cache, where a std::vector would be one malloc per step (steady_state_test).
  Tensor kept_labels = Tensor::empty({N}, kInt64);
  std::copy(labels.begin(), labels.end(), kept_labels.data<int64_t>());
  return autograd::record(Op::cross_entropy, reduce(losses, r), {logits},
                          [xc, stats, labels = kept_labels, r](const Tensor& dy) {
                            const int64_t n = xc.shape()[0], c = xc.shape()[1];
                            Tensor g = spread(dy, {n}, r);
                            Tensor dx = Tensor::empty(xc.shape(), xc.dtype());
                            dispatch(dx.dtype(), [&]<class T>() {
                              cpu::softmax_cross_entropy_backward(
                                  dx.data<T>(), g.data<T>(), xc.data<T>(), stats.data<T>(),
                                  stats.data<T>() + n, labels.data<int64_t>(), n, c);
                            });
                            return Grads{dx};
                          });
}

// multi_margin_loss (multiclass SVM): l[n] = Σ_{j != y} max(0, margin - s[n, y] + s[n, j]) / C,
// or without the / C when per_class_divide is false (CS231n's form).  scores (N, C), labels N;
// out (N) for None, else scalar.
// Saves scores: each active hinge sends g[n] / divisor to s[n, j] and takes it from s[n, y].
Tensor multi_margin_loss(const Tensor& scores, const std::vector<int64_t>& labels, double margin,
                         Reduction r, bool per_class_divide) {
  check_floating("multi_margin_loss", scores.dtype());
  check_scores_labels("multi_margin_loss", scores, labels);
  const int64_t N = scores.shape()[0], C = scores.shape()[1];
  const double divisor = per_class_divide ? static_cast<double>(C) : 1.0;
  Tensor sc = contiguous_data(scores).detach();
  Tensor losses = Tensor::empty({N}, scores.dtype());
  dispatch(scores.dtype(), [&]<class T>() {
    cpu::multi_margin_forward(losses.data<T>(), sc.data<T>(), labels.data(), N, C,
                              static_cast<T>(margin), static_cast<T>(divisor));
  });
  return autograd::record(Op::multi_margin_loss, reduce(losses, r), {scores},
                          [sc, labels, r, margin, divisor](const Tensor& dy) {
                            const int64_t n = sc.shape()[0], c = sc.shape()[1];
                            Tensor g = spread(dy, {n}, r);
                            Tensor dx = Tensor::zeros(sc.shape(), sc.dtype());
                            dispatch(dx.dtype(), [&]<class T>() {
                              cpu::multi_margin_backward(
                                  dx.data<T>(), g.data<T>(), sc.data<T>(), labels.data(), n, c,
                                  static_cast<T>(margin), static_cast<T>(divisor));
                            });
                            return Grads{dx};
                          });
}

// Labels as a tensor, as PyTorch takes them: a 1-d int64 tensor of N class indices.
namespace {
std::vector<int64_t> label_values(const char* op, const Tensor& labels) {
  NABLA_CHECK(labels.dtype() == kInt64 && labels.dim() == 1, op,
              ": labels must be a 1-d int64 tensor, got ", dtype_name(labels.dtype()), " ",
              labels.shape());
  Tensor lc = contiguous_data(labels);
  const int64_t* p = lc.data<int64_t>();
  return std::vector<int64_t>(p, p + lc.numel());
}
}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, Reduction r) {
  return cross_entropy(logits, label_values("cross_entropy", labels), r);
}

Tensor multi_margin_loss(const Tensor& scores, const Tensor& labels, double margin, Reduction r,
                         bool per_class_divide) {
  return multi_margin_loss(scores, label_values("multi_margin_loss", labels), margin, r,
                           per_class_divide);
}

}  // namespace nabla
