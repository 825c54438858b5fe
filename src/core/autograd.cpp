// The backward engine: topological order, gradient accumulation, graph release.
#include "nabla/autograd.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <utility>

#include "kernels/cpu/elementwise.h"
#include "nabla/autograd_slices.h"
#include "nabla/memory.h"
#include "parallel.h"
#include "pool.h"
#include "slice_runner.h"

namespace nabla {

std::string_view op_name(Op op) {
  static constexpr std::string_view names[] = {
#define NABLA_OP_NAME(name) #name,
      NABLA_OP_LIST(NABLA_OP_NAME)
#undef NABLA_OP_NAME
  };
  static_assert(std::size(names) == kNumOps);
  return names[static_cast<int>(op)];
}

const std::vector<Op>& all_ops() {
  static const std::vector<Op> ops = {
#define NABLA_OP_VALUE(name) Op::name,
      NABLA_OP_LIST(NABLA_OP_VALUE)
#undef NABLA_OP_VALUE
  };
  return ops;
}

namespace autograd {
namespace {
thread_local bool grad_enabled = true;
}

bool grad_mode_enabled() {
  return grad_enabled;
}

NoGradGuard::NoGradGuard() : previous_(grad_enabled) {
  grad_enabled = false;
}
NoGradGuard::~NoGradGuard() {
  grad_enabled = previous_;
}

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Node& attach(Op op, Tensor& out, const Tensor* first, size_t n) {
  auto node = std::allocate_shared<Node>(detail::PoolAllocator<Node>(), first, n);
  node->op = op;
  Node& made = *node;
  // The output is a fresh tensor or a fresh view: it gets the node and requires grad.
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
  return made;
}

namespace {
// The leaf-gradient collection installed on this thread (autograd_slices.h), or null.
thread_local LeafGradients* installed_leaf_gradients = nullptr;
}  // namespace

LeafGradients::Installed::Installed(LeafGradients& g)
    : previous_(std::exchange(installed_leaf_gradients, &g)) {}
LeafGradients::Installed::~Installed() {
  installed_leaf_gradients = previous_;
}
LeafGradients* LeafGradients::current() {
  return installed_leaf_gradients;
}

void LeafGradients::clear_grads() {
  for (Entry& e : entries_) e.grad = Tensor(), e.filled = false;
}

namespace {
using Stack = std::vector<std::pair<Tensor, size_t>>;  // tensor, next input to visit

// Fills `order` (cleared first) with the graph of `root`, inputs before outputs.
void topological_order_into(const Tensor& root, std::vector<Tensor>& order, Stack& stack) {
  // Iterative depth-first search (a deep network would overflow a recursive one).
  // Each traversal takes a fresh mark; a tensor carrying it has been seen in this one.
  // With leaf gradients collected (autograd_slices.h), leaves are not visited: other threads
  // may be walking graphs that share them, so nothing is written into them.
  static std::atomic<uint64_t> last_mark{0};
  const uint64_t mark = ++last_mark;
  const bool skip_leaves = LeafGradients::current() != nullptr;
  order.clear();
  stack.clear();
  stack.emplace_back(root, 0);
  root.impl().backward_scratch.visit_mark = mark;
  while (!stack.empty()) {
    auto& [t, next] = stack.back();
    const auto& node = t.impl().grad_fn;
    if (node && next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (in.defined() && in.requires_grad() && !(skip_leaves && !in.impl().grad_fn) &&
          in.impl().backward_scratch.visit_mark != mark) {
        in.impl().backward_scratch.visit_mark = mark;
        stack.emplace_back(in, 0);
      }
      continue;
    }
    order.push_back(std::move(t));  // its stack entry goes next: no reference-count traffic
    stack.pop_back();
  }
}

// The traversal's vectors, kept per thread between backward passes so that a training step
// reuses their capacity instead of allocating. `busy` guards against a backward started from
// inside another one on the same thread, which gets vectors of its own.
struct Scratch {
  std::vector<Tensor> order;
  Stack stack;
  bool busy = false;
};
}  // namespace

std::vector<Tensor> topological_order(const Tensor& root) {
  std::vector<Tensor> order;
  Stack stack;
  topological_order_into(root, order, stack);
  return order;
}

namespace {
// Two gradients of one tensor, about to be added. Both have the tensor's shape (the engine checks
// each gradient's, set_grad the one a user sets); the dtypes can differ only through set_grad,
// which the add op refused with this message.
void check_addable_gradients(const Tensor& a, const Tensor& b) {
  NABLA_ASSERT(a.shape() == b.shape());
  NABLA_CHECK(a.dtype() == b.dtype(), "add: dtypes differ: ", dtype_name(a.dtype()), " ", a.shape(),
              " and ", dtype_name(b.dtype()), " ", b.shape());
}

// a + b for two gradients of one tensor, with the add op's kernel (so the same bits) but no graph
// node: the engine sits below the ops and does not call them.
Tensor sum_gradients(const Tensor& a, const Tensor& b) {
  check_addable_gradients(a, b);
  const Shape& shape = a.shape();
  Tensor out = Tensor::empty(shape, a.dtype());
  dispatch(a.dtype(), [&]<class T>() {
    cpu::binary_forward<T>(cpu::BinaryOp::Add, out.data<T>(), a.data<T>(),
                           broadcast_strides(shape, a.strides(), shape), b.data<T>(),
                           broadcast_strides(shape, b.strides(), shape), shape);
  });
  return out;
}

// Sums gradients into a running slot. A gradient an op passed straight through can be shared by
// several inputs; `own` makes the first one a private copy, so that a user who edits one
// tensor's .grad in place (clipping, say) does not edit another's. A gradient that nothing else
// can see (its header and its buffer each held once, by `g`) is already private and is taken
// as it is.
void accumulate(std::shared_ptr<TensorImpl>& slot, const Tensor& g, bool own) {
  if (!slot) {
    const bool is_private =
        g.impl_ptr().use_count() == 1 && g.impl().storage.use_count() == 1 && g.offset() == 0;
    slot = own && !is_private ? g.clone().impl_ptr() : g.impl_ptr();
  } else {
    slot = sum_gradients(Tensor(slot), g).impl_ptr();
  }
}
}  // namespace

void LeafGradients::add(const Tensor& leaf, const Tensor& g) {
  // A linear search: a network has tens of parameters, and the entries stay put from one step
  // to the next, so this allocates only in the first step.
  Entry* e = nullptr;
  for (Entry& candidate : entries_)
    if (candidate.leaf.impl_ptr() == leaf.impl_ptr()) e = &candidate;
  if (!e) e = &entries_.emplace_back(Entry{leaf, Tensor(), false});
  std::shared_ptr<TensorImpl> slot = e->grad.impl_ptr();
  e->grad = Tensor();                 // so that slot holds the gradient alone
  accumulate(slot, g, /*own=*/true);  // as a leaf's .grad: taken if private, else copied
  e->grad = Tensor(std::move(slot));
  e->filled = true;
}

void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph) {
  NABLA_CHECK(root.requires_grad(),
              "backward: this tensor does not require grad and has no grad_fn; call "
              "requires_grad_() on the parameters before computing it");
  if (root.impl().grad_fn) {
    NABLA_CHECK(!root.impl().grad_fn->released, "backward: the graph of this tensor (made by '",
                root.grad_fn_name(),
                "') was already released by an earlier backward(); run the forward pass again, "
                "or pass retain_graph = true to the first backward()");
  }
  NoGradGuard no_grad;  // backward closures compute with ops; they must not build a graph
  thread_local Scratch scratch;
  Scratch own_scratch;
  Scratch& buffers = scratch.busy ? own_scratch : scratch;
  buffers.busy = true;
  struct Release {  // empties the vectors (keeping their capacity) however the pass ends
    Scratch& s;
    ~Release() {
      s.order.clear();
      s.stack.clear();
      s.busy = false;
    }
  } release{buffers};
  std::vector<Tensor>& order = buffers.order;
  LeafGradients* const leaf_grads = LeafGradients::current();
  topological_order_into(root, order, buffers.stack);
  // Running gradients live in each tensor's backward_scratch.pending_grad slot (cleared again as it
  // is used).
  for (const Tensor& t : order) t.impl().backward_scratch.pending_grad.reset();
  root.impl().backward_scratch.pending_grad = seed.impl_ptr();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Tensor& t = *it;
    if (!t.impl().backward_scratch.pending_grad) continue;  // no path carries a gradient here
    Tensor g(std::move(t.impl().backward_scratch.pending_grad));
    auto& node = t.impl().grad_fn;
    if (leaf_grads && !node)
      leaf_grads->add(t, g);
    else if (!node || t.impl().retains_grad)
      accumulate(t.impl().grad, g, /*own=*/true);
    if (!node) continue;
    NABLA_CHECK(!node->released, "backward: part of this graph (op '", op_name(node->op),
                "') was already released by an earlier backward(); run the forward pass again");
    // Names the op in a memory-limit error from its backward (memory.h); allocates nothing.
    MemoryContext context(node.get(), [](const void* n) {
      return "backward of " + std::string(op_name(static_cast<const Node*>(n)->op));
    });
    const TensorList input_grads = node->backward(g);
    NABLA_ASSERT(input_grads.size() == node->inputs.size());
    for (size_t i = 0; i < input_grads.size(); ++i) {
      const Tensor& in = node->inputs[i];
      const Tensor& gi = input_grads[i];
      if (!in.defined() || !in.requires_grad() || !gi.defined()) continue;
      NABLA_CHECK(gi.shape() == in.shape(), "backward of ", op_name(node->op),
                  ": gradient for input ", i, " has shape ", gi.shape(),
                  " but the input has shape ", in.shape());
      if (leaf_grads && !in.impl().grad_fn)
        leaf_grads->add(in, gi);  // a leaf: summed where collected
      else
        accumulate(in.impl().backward_scratch.pending_grad, gi, /*own=*/false);
    }
    if (!retain_graph) {
      node->backward = nullptr;
      node->inputs.clear();
      node->released = true;
    }
  }
}

namespace {
thread_local const Slice* t_slice = nullptr;
}

const Slice* current_slice() {
  return t_slice;
}

void sum_over_slices(const Slice& slice, std::span<double> values) {
  NABLA_CHECK(slice.together, "BatchSlices: slice ", slice.index, " of ", slice.count,
              " runs apart from the others and cannot meet them; run the slices together");
  slice.together->sum(slice.index, values);
}

void meet(const Slice& slice) {
  sum_over_slices(slice, {});
}

// The slices' gradients of each leaf, in slice order, and where their sum goes.
//
// The pool's threads read only `out`, `dtype` and `values`: plain pointers gathered on the
// calling thread. Reaching the data through the tensors instead (tensor, storage, buffer) made a
// worker chase lines that the caller had just written, one after the other, several per leaf:
// LeNet-5's sum took a third longer on 2 threads for it.
struct BatchSlices::GradientSums {
  struct Leaf {
    std::shared_ptr<TensorImpl>* grad;  // the leaf's .grad
    Tensor sum;
    size_t first = 0, count = 0;  // its addends: addends[first, first + count)
    size_t rank = 0;              // its place in the cut (BatchSlices::cut_sums_as)
    void* out = nullptr;          // sum's values
    DType dtype = kFloat32;
  };
  std::vector<Leaf> leaves;
  std::vector<Tensor> addends;
  std::vector<const void*> values;  // each addend's values, as addends
  parallel::Arrays arrays;
};

namespace {
// The fewest values of the gradient sum worth a thread: LeNet-5's 61,706 take two, a tiny
// model's stay on the calling thread.
constexpr int64_t kSumGrain = 1 << 14;
}  // namespace

BatchSlices::BatchSlices() = default;
BatchSlices::~BatchSlices() = default;
BatchSlices::BatchSlices(BatchSlices&&) noexcept = default;
BatchSlices& BatchSlices::operator=(BatchSlices&&) noexcept = default;

void BatchSlices::run_erased(int64_t batch, int64_t slices,
                             Tensor (*fn)(void*, int64_t, int64_t, int64_t), void* ctx,
                             bool together) {
  NABLA_CHECK(slices >= 1 && slices <= batch, "BatchSlices: cannot cut a batch of ", batch,
              " into ", slices, " slices; need 1 <= slices <= batch");
  if (grads_.size() < static_cast<size_t>(slices)) grads_.resize(static_cast<size_t>(slices));
  together = together && slices > 1;
  if (together && !runner_) runner_ = std::make_unique<SliceRunner>();
  slices_.resize(static_cast<size_t>(slices));
  for (int64_t s = 0; s < slices; ++s)
    slices_[static_cast<size_t>(s)] = Slice{s,
                                            slices,
                                            batch * s / slices,
                                            batch * (s + 1) / slices,
                                            batch,
                                            together ? runner_.get() : nullptr};
  durations_.assign(static_cast<size_t>(slices), 0.0);
  using Clock = std::chrono::steady_clock;
  auto one_slice = [&](int64_t s) {
    const Clock::time_point slice_start = Clock::now();
    const Slice& slice = slices_[static_cast<size_t>(s)];
    LeafGradients& grads = grads_[static_cast<size_t>(s)];
    grads.clear_grads();  // the previous step's, freed on a thread that makes them too
    LeafGradients::Installed collecting = grads.collect();
    struct SliceScope {
      explicit SliceScope(const Slice* s) : previous(std::exchange(t_slice, s)) {}
      ~SliceScope() { t_slice = previous; }
      const Slice* previous;
    } in_slice(&slice);
    const Tensor loss = fn(ctx, s, slice.begin, slice.end);
    NABLA_CHECK(loss.defined() && loss.numel() == 1, "BatchSlices: slice ", s,
                " returned a loss of shape ", loss.defined() ? loss.shape() : Shape{},
                "; expected a scalar");
    const double weight = static_cast<double>(slice.end - slice.begin) / static_cast<double>(batch);
    run_backward(loss, Tensor::full(loss.shape(), weight, loss.dtype()), false);
    durations_[static_cast<size_t>(s)] =
        std::chrono::duration<double>(Clock::now() - slice_start).count();
  };
  const Clock::time_point start = Clock::now();
  if (together) {
    using Fn = decltype(one_slice);
    runner_->run(
        slices, static_cast<int>(std::min<int64_t>(num_threads(), slices)),
        [](void* f, int64_t s) { (*static_cast<Fn*>(f))(s); }, &one_slice);
  } else {
    parallel::parallel_tasks(slices, one_slice);
  }
  const Clock::time_point ran = Clock::now();
  sum_leaf_gradients(slices);
  times_.slices = std::chrono::duration<double>(ran - start).count();
  times_.slice_work = together ? 0.0 : std::accumulate(durations_.begin(), durations_.end(), 0.0);
  times_.gradient_sum = std::chrono::duration<double>(Clock::now() - ran).count();
}

void BatchSlices::cut_sums_as(std::vector<Tensor> leaves) {
  sum_order_ = std::move(leaves);
}

size_t BatchSlices::rank_of(const Tensor& leaf, size_t found) const {
  // A linear search, like LeafGradients::add's: a network has tens of parameters.
  for (size_t i = 0; i < sum_order_.size(); ++i)
    if (sum_order_[i].impl_ptr() == leaf.impl_ptr()) return i;
  return sum_order_.size() + found;  // after the listed ones, in the order found
}

void BatchSlices::sum_leaf_gradients(int64_t slices) {
  // Each leaf's .grad += its gradients in slice order, whichever thread ran which slice: the
  // sum is the same for any thread count. .grad never is a slice's tensor itself (a slice's
  // collection is the next step's): one new tensor per leaf, computed element by element by the
  // pool, all the leaves as one job (the same bits as adding whole tensors one after the other).
  NoGradGuard no_grad;
  if (!sums_) sums_ = std::make_unique<GradientSums>();
  GradientSums& sums = *sums_;
  struct Clear {  // drops the references, keeping the capacity, however this ends
    GradientSums& s;
    ~Clear() {
      s.leaves.clear();
      s.addends.clear();
      s.values.clear();
      s.arrays.clear();
    }
  } clear{sums};
  for (int64_t s = 0; s < slices; ++s)
    for (LeafGradients::Entry& first : grads_[static_cast<size_t>(s)].entries()) {
      if (!first.filled) continue;
      GradientSums::Leaf leaf{&first.leaf.impl().grad, Tensor(), sums.addends.size(), 0,
                              rank_of(first.leaf, sums.leaves.size())};
      if (*leaf.grad) sums.addends.emplace_back(*leaf.grad);
      for (int64_t t = s; t < slices; ++t)
        for (LeafGradients::Entry& e : grads_[static_cast<size_t>(t)].entries())
          if (e.filled && e.leaf.impl_ptr() == first.leaf.impl_ptr()) {
            e.filled = false;
            sums.addends.push_back(e.grad);
          }
      leaf.count = sums.addends.size() - leaf.first;
      const Tensor& a = sums.addends[leaf.first];
      bool contiguous = true;
      for (size_t j = leaf.first; j < leaf.first + leaf.count; ++j) {
        const Tensor& b = sums.addends[j];
        check_addable_gradients(a, b);
        contiguous = contiguous && b.is_contiguous();
      }
      if (!contiguous) {  // a .grad set by hand, say: the add kernel follows its strides
        Tensor sum = a;
        for (size_t j = leaf.first + 1; j < leaf.first + leaf.count; ++j)
          sum = sum_gradients(sum, sums.addends[j]);
        *leaf.grad = leaf.count > 1 ? sum.impl_ptr() : sum.clone().impl_ptr();
        continue;
      }
      leaf.sum = Tensor::empty(a.shape(), a.dtype());
      sums.leaves.push_back(std::move(leaf));
    }
  // In the optimizer's order, so that each thread sums the part of the values it updates next.
  std::sort(
      sums.leaves.begin(), sums.leaves.end(),
      [](const GradientSums::Leaf& a, const GradientSums::Leaf& b) { return a.rank < b.rank; });
  sums.values.resize(sums.addends.size());
  for (size_t l = 0; l < sums.leaves.size(); ++l) {
    GradientSums::Leaf& leaf = sums.leaves[l];
    leaf.dtype = leaf.sum.dtype();
    dispatch(leaf.dtype, [&]<class T>() {
      leaf.out = leaf.sum.data<T>();
      for (size_t j = leaf.first; j < leaf.first + leaf.count; ++j)
        sums.values[j] = sums.addends[j].data<T>();
    });
    sums.arrays.add(static_cast<int64_t>(l), leaf.sum.numel());
  }
  sums.arrays.run(kSumGrain, [&](int64_t l, int64_t begin, int64_t end) {
    const GradientSums::Leaf& leaf = sums.leaves[static_cast<size_t>(l)];
    dispatch(leaf.dtype, [&]<class T>() {
      T* out = static_cast<T*>(leaf.out) + begin;
      const T* a = static_cast<const T*>(sums.values[leaf.first]) + begin;
      std::copy(a, a + (end - begin), out);
      for (size_t j = leaf.first + 1; j < leaf.first + leaf.count; ++j) {
        const T* b = static_cast<const T*>(sums.values[j]) + begin;
        for (int64_t k = 0; k < end - begin; ++k) out[k] += b[k];
      }
    });
  });
  for (GradientSums::Leaf& leaf : sums.leaves) *leaf.grad = leaf.sum.impl_ptr();
}

}  // namespace autograd
}  // namespace nabla
