// Data parallelism inside one process: a batch cut into slices, each slice's forward and backward
// run as one task of the thread pool, the slices' parameter gradients summed afterwards.
//
// Why: a small network's ops (LeNet-5's at batch 64) are too small to split each over the
// threads; splitting per op gains 1.2x on 2 threads, while two processes that each run half the
// batch (mpirun -np 2) gain 1.84x. BatchSlices does what those processes do, in one process.
//
//   autograd::BatchSlices slices;
//   slices.run(batch, slices_for(batch), [&](int64_t s, int64_t begin, int64_t end) {
//     Tensor logits = model.forward(images.slice(0, begin, end));
//     return cross_entropy(logits, labels_of_slice[s]);   // the slice's mean loss
//   });                                                   // params' .grad: the batch's gradient
//
// Results do not depend on the thread count: the slices are fixed by the caller (from the batch
// size, never from num_threads()), every slice computes the same thing whichever thread runs it
// (the kernels inside run serially, one slice per thread), and the gradients are added up in
// slice order. They differ from one unsliced backward by float rounding only (the sum of the
// slices' gradients against the sum inside each op's backward).
//
// Slices run apart or together. Apart (the default), each slice is one pool task and must not
// change state that other slices read: LeNet-5's layers. Together, each slice runs on a thread of
// its own (at most num_threads() of them computing at once) and the slices may meet inside the
// forward and backward: batch norm sums its statistics over the whole batch, dropout draws the
// masks it would draw for the whole batch (nn::slicing says which models need that). A layer
// finds its slice with current_slice().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::autograd {

// The leaf gradients of the backward passes run on one thread while it is installed (collect()),
// kept here instead of in each leaf's .grad: what lets several threads run backward at once
// through graphs that share their leaves (the parameters). BatchSlices clears a slice's
// collection on the thread about to run the slice, so a gradient's buffer mostly goes back to
// the storage cache of the thread that made it (the cache is per thread).
class LeafGradients {
 public:
  struct Entry {
    Tensor leaf;
    Tensor grad;          // undefined until a backward reaches the leaf
    bool filled = false;  // grad holds a gradient not yet added into the leaf's .grad
  };
  // Installs this collection on the calling thread until the returned guard ends.
  class Installed {
   public:
    explicit Installed(LeafGradients& g);
    ~Installed();
    Installed(const Installed&) = delete;
    Installed& operator=(const Installed&) = delete;

   private:
    LeafGradients* previous_;
  };
  Installed collect() { return Installed(*this); }

  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }
  // Drops the gradients (keeps the leaves, so the next step finds its slots without allocating).
  void clear_grads();
  // Adds `g` to the gradient of `leaf` (the backward engine's call; grad mode must be off).
  void add(const Tensor& leaf, const Tensor& g);
  // The collection installed on this thread, or null.
  static LeafGradients* current();

 private:
  std::vector<Entry> entries_;
};

class SliceRunner;

// The slice this thread is running, inside BatchSlices::run.
struct Slice {
  int64_t index = 0;  // of count, in batch order
  int64_t count = 1;
  int64_t begin = 0;  // its rows [begin, end) of the batch's `rows`
  int64_t end = 0;
  int64_t rows = 0;
  SliceRunner* together = nullptr;  // set when the slices run together (and may meet)
};

// The slice the calling thread runs now, or null outside BatchSlices::run.
const Slice* current_slice();

// For slices that run together (slice.together set; an Error otherwise). Every slice of the
// batch must make the same calls in the same order, since each waits for all the others:
// sum_over_slices returns once every slice has called it, with `values` holding the sum of all
// the slices' values (the same length on each), added in slice order, so the same bits whichever
// thread ran which slice; meet only waits. If another slice failed (threw, or ended without
// making the call), they throw instead of waiting forever.
void sum_over_slices(const Slice& slice, std::span<double> values);
void meet(const Slice& slice);

class BatchSlices {
 public:
  BatchSlices();
  ~BatchSlices();
  BatchSlices(BatchSlices&&) noexcept;
  BatchSlices& operator=(BatchSlices&&) noexcept;

  // Runs loss = forward(s, begin, end) for every slice s in [0, slices) over the rows
  // [batch·s/slices, batch·(s+1)/slices), and its backward seeded with (end - begin) / batch, so
  // that with forward returning the slice's mean loss the gradients sum to the batch mean's.
  // Slices run in parallel, one per pool task; then each leaf's .grad gets the slices'
  // gradients added in slice order (to what it holds, as a backward would). forward must return
  // a scalar that requires grad, and may keep per-slice results of its own (logits, loss values)
  // indexed by s. An exception from a slice is rethrown once all have ended, and no .grad is
  // changed then. requires: 1 <= slices <= batch. `together`: the slices run together (see
  // above), for a model whose forward meets across the slices.
  template <class F>
  requires std::is_invocable_r_v<Tensor, F&, int64_t, int64_t, int64_t>
  void run(int64_t batch, int64_t slices, F&& forward, bool together = false) {
    run_erased(batch, slices, &call<std::remove_reference_t<F>>, &forward, together);
  }

  // Where the last run()'s time went, in seconds: from the slices' start to the last one's end
  // (`slices`: what the caller waited), the slices' own durations added up (`slice_work`: the
  // compute, whichever threads did it; n threads kept busy give n × `slices`), and the gradient
  // sum after them. A profile of the step, for train::Trainer::epoch_times(). `slice_work` is 0
  // for slices that ran together: their durations include the waits at their meetings (on one
  // thread each spans the whole step), so they do not measure work.
  struct Times {
    double slices = 0, slice_work = 0, gradient_sum = 0;
  };
  const Times& last_times() const { return times_; }

  // The gradient sum runs on the pool, its values cut among the threads as parallel::Arrays cuts
  // them: `leaves` first, in this order, then any other leaf in the order the slices reached it.
  // Given the parameters in the optimizer's order, each thread then sums the values that it
  // updates next (the optimizer cuts them the same way), instead of handing a third of them to
  // the other core. The bits are the same in any order: the sum is element-wise.
  void cut_sums_as(std::vector<Tensor> leaves);

 private:
  template <class F>
  static Tensor call(void* f, int64_t s, int64_t begin, int64_t end) {
    return (*static_cast<F*>(f))(s, begin, end);
  }
  void run_erased(int64_t batch, int64_t slices, Tensor (*fn)(void*, int64_t, int64_t, int64_t),
                  void* ctx, bool together);
  // Adds the slices' leaf gradients into each leaf's .grad (after the slices have run).
  void sum_leaf_gradients(int64_t slices);
  // A leaf's place in the cut (cut_sums_as); `found`: how many leaves were found before it.
  size_t rank_of(const Tensor& leaf, size_t found) const;

  struct GradientSums;

  std::vector<LeafGradients> grads_;     // one per slice, kept between steps
  std::vector<Slice> slices_;            // what current_slice() points to, while a slice runs
  std::unique_ptr<SliceRunner> runner_;  // the threads of slices that run together
  std::unique_ptr<GradientSums> sums_;   // kept between steps, so a step allocates nothing
  std::vector<double> durations_;        // each slice's seconds in the last run
  std::vector<Tensor> sum_order_;        // cut_sums_as's leaves
  Times times_;
};

}  // namespace nabla::autograd
