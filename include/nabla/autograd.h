// Reverse-mode automatic differentiation, define-by-run.
//
// Every differentiable op builds its output, then calls autograd::record(op, output, inputs,
// backward). When grad mode is on and some input requires grad, record() attaches a Node to the
// output: the op's id, the inputs, and a closure mapping the output's gradient to one gradient
// per input. Tensor::backward() then visits the nodes reachable from the root once, in reverse
// topological order, adds each returned gradient into its input's running gradient, stores the
// sum in .grad() of leaves (and of tensors that retain_grad()), and releases each node (closure,
// saved tensors, input references) as soon as it has run.
//
// Ownership: output -> Node -> inputs, never back. A backward closure must not capture the output
// tensor itself (capture output.detach() instead), or the output would own itself.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

// Every differentiable op, once. autograd::record() takes an Op, so an op cannot enter a graph
// without a name here, and gradcheck's registry test fails for a name with no gradcheck case.
// clang-format off
#define NABLA_OP_LIST(X)                                                                       \
  /* arithmetic */ X(add) X(sub) X(mul) X(div) X(neg) X(pow) X(exp) X(log) X(sqrt) X(abs)      \
                   X(clamp)                                                                    \
  /* linear algebra */ X(matmul) X(linear)                                                     \
  /* reductions */ X(sum) X(mean) X(max)                                                       \
  /* shape */ X(reshape) X(transpose) X(permute) X(expand) X(slice) X(index_select) X(concat)  \
              X(contiguous) X(to_dtype)                                                        \
  /* activations */ X(sigmoid) X(tanh) X(relu) X(leaky_relu) X(elu) X(softmax) X(log_softmax) \
                    X(maxout)                                                                  \
  /* losses */ X(mse_loss) X(l1_loss) X(binary_cross_entropy)                                 \
               X(binary_cross_entropy_with_logits) X(cross_entropy) X(multi_margin_loss)       \
  /* convolutional networks */ X(conv2d) X(max_pool2d) X(avg_pool2d) X(batch_norm) X(dropout) \
                               X(conv2d_relu)
// clang-format on

enum class Op : uint16_t {
#define NABLA_OP_ENUM(name) name,
  NABLA_OP_LIST(NABLA_OP_ENUM)
#undef NABLA_OP_ENUM
};
inline constexpr int kNumOps = 0
#define NABLA_OP_COUNT(name) +1
    NABLA_OP_LIST(NABLA_OP_COUNT)
#undef NABLA_OP_COUNT
    ;
std::string_view op_name(Op op);
// All ops, in list order.
const std::vector<Op>& all_ops();

namespace autograd {

// Maps the gradient of a node's output to the gradients of its inputs (same order, same shapes;
// an undefined Tensor for an input that gets none).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& dout)>;

struct Node {
  Op op;
  std::vector<Tensor> inputs;
  BackwardFn backward;
  bool released = false;
};

// Whether ops record graph nodes now (false inside a NoGradGuard).
bool grad_mode_enabled();

// Disables graph recording for its lifetime, like torch.no_grad().
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when grad mode is on and some input requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Attaches a Node to `out` if needed; returns `out`. `backward` is only turned into a
// std::function when a node is made, so inference pays nothing for it.
void attach(Op op, Tensor& out, std::vector<Tensor> inputs, BackwardFn backward);
template <class F>
Tensor record(Op op, Tensor out, std::initializer_list<Tensor> inputs, F&& backward) {
  if (needs_grad(inputs))
    attach(op, out, std::vector<Tensor>(inputs), BackwardFn(std::forward<F>(backward)));
  return out;
}
template <class F>
Tensor record(Op op, Tensor out, const std::vector<Tensor>& inputs, F&& backward) {
  if (needs_grad(inputs)) attach(op, out, inputs, BackwardFn(std::forward<F>(backward)));
  return out;
}

// Runs backward from `root` with upstream gradient `seed` (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph);

// Visits the graph that ends in `root`, in topological order (inputs before outputs).
// Each tensor is reported once; leaves have no node.
std::vector<Tensor> topological_order(const Tensor& root);

}  // namespace autograd

using autograd::NoGradGuard;

}  // namespace nabla
