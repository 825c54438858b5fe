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
// The rule for what may run sliced: forward must not change state that other slices read (batch
// norm's running statistics, a dropout generator's position, a hook's record), since the slices
// run at the same time; train::Trainer slices only models without buffers, random generators or
// forward hooks (include/nabla/train/trainer.h).
#pragma once

#include <cstdint>
#include <memory>
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

class BatchSlices {
 public:
  // Runs loss = forward(s, begin, end) for every slice s in [0, slices) over the rows
  // [batch·s/slices, batch·(s+1)/slices), and its backward seeded with (end - begin) / batch, so
  // that with forward returning the slice's mean loss the gradients sum to the batch mean's.
  // Slices run in parallel, one per pool task; then each leaf's .grad gets the slices'
  // gradients added in slice order (to what it holds, as a backward would). forward must return
  // a scalar that requires grad, and may keep per-slice results of its own (logits, loss values)
  // indexed by s. An exception from a slice is rethrown once all have ended, and no .grad is
  // changed then. requires: 1 <= slices <= batch.
  template <class F>
  requires std::is_invocable_r_v<Tensor, F&, int64_t, int64_t, int64_t>
  void run(int64_t batch, int64_t slices, F&& forward) {
    run_erased(batch, slices, &call<std::remove_reference_t<F>>, &forward);
  }

 private:
  template <class F>
  static Tensor call(void* f, int64_t s, int64_t begin, int64_t end) {
    return (*static_cast<F*>(f))(s, begin, end);
  }
  void run_erased(int64_t batch, int64_t slices, Tensor (*fn)(void*, int64_t, int64_t, int64_t),
                  void* ctx);

  std::vector<LeafGradients> grads_;  // one per slice, kept between steps
};

}  // namespace nabla::autograd
