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

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

// Every differentiable op, once. autograd::record() takes an Op, so an op cannot enter a graph
// without a name here, and gradcheck's registry test fails for a name with no gradcheck case.
// clang-format off
#define NABLA_OP_LIST(X)                                                                       \
  /* arithmetic */ X(add) X(sub) X(mul) X(div) X(neg) X(pow) X(exp) X(log) X(sqrt) X(abs)      \
                   X(clamp)                                                                    \
  /* linear algebra */ X(matmul) X(linear) X(linear_relu)                                     \
  /* reductions */ X(sum) X(mean) X(max)                                                       \
  /* shape */ X(reshape) X(transpose) X(permute) X(expand) X(slice) X(index_select) X(concat)  \
              X(contiguous) X(to_dtype)                                                        \
  /* activations */ X(sigmoid) X(tanh) X(relu) X(leaky_relu) X(elu) X(softmax) X(log_softmax) \
                    X(maxout)                                                                  \
  /* losses */ X(mse_loss) X(l1_loss) X(binary_cross_entropy)                                 \
               X(binary_cross_entropy_with_logits) X(cross_entropy) X(multi_margin_loss)       \
  /* convolutional networks */ X(conv2d) X(max_pool2d) X(avg_pool2d) X(batch_norm) X(dropout) \
                               X(conv2d_relu) X(max_pool2d_relu) X(batch_norm_relu)
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

// Up to kInline tensors held in place, more in a vector: a node's inputs and the gradients its
// backward returns (one per input), so that recording an op and running its backward allocate
// nothing for either (every op but a concat of many has at most 4 inputs).
class TensorList {
 public:
  static constexpr size_t kInline = 4;

  TensorList() = default;
  TensorList(std::initializer_list<Tensor> tensors) { assign(tensors.begin(), tensors.size()); }
  // Implicit, so a backward closure may build its gradients in a std::vector (concat's many).
  TensorList(const std::vector<Tensor>& tensors) { assign(tensors.data(), tensors.size()); }
  TensorList(const Tensor* first, size_t n) { assign(first, n); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Tensor& operator[](size_t i) const { return data()[i]; }
  Tensor& operator[](size_t i) { return data()[i]; }
  const Tensor* begin() const { return data(); }
  const Tensor* end() const { return data() + size_; }
  // Drops every reference (a node keeps no input alive once released).
  void clear() {
    for (Tensor& t : inline_) t = Tensor();
    heap_.clear();
    size_ = 0;
  }

 private:
  void assign(const Tensor* first, size_t n) {
    if (n <= kInline)
      std::copy(first, first + n, inline_.begin());
    else
      heap_.assign(first, first + n);
    size_ = n;
  }
  const Tensor* data() const { return size_ <= kInline ? inline_.data() : heap_.data(); }
  Tensor* data() { return size_ <= kInline ? inline_.data() : heap_.data(); }

  std::array<Tensor, kInline> inline_;
  std::vector<Tensor> heap_;
  size_t size_ = 0;
};

// Maps the gradient of a node's output to the gradients of its inputs (same order, same shapes;
// an undefined Tensor for an input that gets none). Like a move-only std::function, but a closure
// of up to kInline bytes (every op's closure today; the largest, conv2d's, holds three tensors
// and its 128-byte shape) is stored inside the node, so recording an op allocates nothing for it
// (std::function keeps only 16 bytes inline). The node stays a pooled block (src/core/pool.h).
class BackwardFn {
 public:
  static constexpr size_t kInline = 192;

  BackwardFn() noexcept = default;
  BackwardFn(std::nullptr_t) noexcept {}
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, BackwardFn> &&
           std::is_invocable_r_v<TensorList, std::decay_t<F>&, const Tensor&>) BackwardFn(F&& f) {
    construct(std::forward<F>(f));
  }
  // Replaces the closure with `f`, built in place (no move through a temporary BackwardFn).
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, BackwardFn> &&
           std::is_invocable_r_v<TensorList, std::decay_t<F>&, const Tensor&>) void emplace(F&& f) {
    reset();
    construct(std::forward<F>(f));
  }
  BackwardFn(BackwardFn&& other) noexcept { take(other); }
  BackwardFn& operator=(BackwardFn&& other) noexcept {
    if (this != &other) reset(), take(other);
    return *this;
  }
  BackwardFn& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  ~BackwardFn() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  TensorList operator()(const Tensor& dout) { return ops_->call(buf_, dout); }

 private:
  struct Ops {
    TensorList (*call)(void* self, const Tensor& dout);
    void (*move)(void* from, void* to) noexcept;  // leaves `from` destroyed
    void (*destroy)(void* self) noexcept;
  };
  template <class D>
  static constexpr bool fits_inline() {
    return sizeof(D) <= kInline && alignof(D) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<D>;
  }
  // Inline: the closure itself lives in buf_; otherwise buf_ holds a pointer to it.
  template <class D, bool Inline>
  static D& get(void* p) {
    if constexpr (Inline)
      return *std::launder(static_cast<D*>(p));
    else
      return **std::launder(static_cast<D**>(p));
  }
  template <class D, bool Inline>
  static constexpr Ops kOps = {
      [](void* p, const Tensor& dout) -> TensorList { return get<D, Inline>(p)(dout); },
      [](void* from, void* to) noexcept {
        if constexpr (Inline) {
          ::new (to) D(std::move(get<D, true>(from)));
          get<D, true>(from).~D();
        } else {
          ::new (to) D*(*std::launder(static_cast<D**>(from)));
        }
      },
      [](void* p) noexcept {
        if constexpr (Inline)
          get<D, true>(p).~D();
        else
          delete &get<D, false>(p);
      }};

  template <class F>
  void construct(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (fits_inline<D>()) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      ops_ = &kOps<D, true>;
    } else {
      ::new (static_cast<void*>(buf_)) D*(new D(std::forward<F>(f)));
      ops_ = &kOps<D, false>;
    }
  }
  void take(BackwardFn& other) noexcept {
    if (!other.ops_) return;
    other.ops_->move(other.buf_, buf_);
    ops_ = std::exchange(other.ops_, nullptr);
  }
  void reset() noexcept {
    if (ops_) std::exchange(ops_, nullptr)->destroy(buf_);
  }

  alignas(std::max_align_t) unsigned char buf_[kInline];
  const Ops* ops_ = nullptr;
};

struct Node {
  // User-provided, as TensorImpl's: value-initialisation would zero-fill the whole node (its
  // 192-byte closure buffer included) before constructing it.
  Node() noexcept {}
  Node(const Tensor* first, size_t n) : inputs(first, n) {}

  Op op = Op::add;
  TensorList inputs;
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

// Gives `out` a new Node for `op` with inputs [first, first + n), and returns the node for its
// closure. Copies the input handles straight into the node: the per-op cost of a tiny network
// (the XOR benchmark) is mostly such bookkeeping.
Node& attach(Op op, Tensor& out, const Tensor* first, size_t n);

// Attaches a Node to `out` if needed; returns `out`. `backward` is only turned into a
// BackwardFn when a node is made (built in place there), so inference pays nothing for it.
template <class F>
Tensor record(Op op, Tensor out, std::initializer_list<Tensor> inputs, F&& backward) {
  if (needs_grad(inputs))
    attach(op, out, inputs.begin(), inputs.size()).backward.emplace(std::forward<F>(backward));
  return out;
}
template <class F>
Tensor record(Op op, Tensor out, const std::vector<Tensor>& inputs, F&& backward) {
  if (needs_grad(inputs))
    attach(op, out, inputs.data(), inputs.size()).backward.emplace(std::forward<F>(backward));
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
