// nabla's one thread pool, and the loops every kernel parallelises with.
//
// Determinism rule: a kernel's result must not depend on the thread count. parallel_for hands
// out disjoint index ranges, so each output element is computed by exactly one thread in a fixed
// order; a sum across ranges (a reduction) must be split into pieces whose number and bounds
// depend on the problem only (never on num_threads()), with the partial results combined in
// piece order afterwards. parallel_tasks with a fixed task count is the tool for that.
//
// The caller's thread works too, so num_threads() == 1 starts no thread at all. A parallel loop
// started from inside another one runs on the calling thread (no nested pools, no deadlock),
// offering its tasks to the pool's idle threads when it was started in a task of a pool job
// (share_tasks). An exception thrown by a task is rethrown on the caller once every task has
// ended.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "nabla/threads.h"

namespace nabla::parallel {

// Runs fn(ctx, task) for every task in [0, tasks), spread over the pool; returns when all ended.
void run_tasks(int64_t tasks, void (*fn)(void*, int64_t), void* ctx);

// True on a pool worker, or on the caller while it runs its share of a parallel loop.
bool in_parallel_region();

// Inside a task of a pool job (and only there): whether a loop may be offered to the pool's idle
// threads, and the offer itself. share_tasks runs fn(ctx, task) for every task on this thread and
// any idle one, returning false (running nothing) when it cannot: not in a pool task, no thread
// is idle (all of them are running tasks: no one could take the offer), or another loop's offer
// holds the slot. For the loops below; a kernel calls those.
bool may_share();
bool share_tasks(int64_t tasks, void (*fn)(void*, int64_t), void* ctx);
// The pool's threads waiting for work now (a job's caller waiting for its tasks to end, workers
// between jobs): those an offer can reach. 0 without a pool. For tests.
int idle_threads();

// While it lives, parallel loops on this thread run serially, as inside a pool task: for a
// thread that is itself one of several running side by side (autograd::BatchSlices' slices).
class SerialRegion {
 public:
  SerialRegion();
  ~SerialRegion();
  SerialRegion(const SerialRegion&) = delete;
  SerialRegion& operator=(const SerialRegion&) = delete;

 private:
  bool previous_;
};

// fn(task) for task in [0, tasks). Tasks are taken dynamically by whichever thread is free, so
// a task must compute the same thing whichever thread runs it.
template <class F>
void parallel_tasks(int64_t tasks, F&& fn) {
  if (tasks <= 0) return;
  using Fn = std::remove_reference_t<F>;
  const auto call = [](void* ctx, int64_t t) { (*static_cast<Fn*>(ctx))(t); };
  void* ctx = const_cast<void*>(static_cast<const void*>(&fn));
  if (tasks == 1 || num_threads() == 1 || in_parallel_region()) {
    if (tasks > 1 && share_tasks(tasks, call, ctx)) return;
    for (int64_t t = 0; t < tasks; ++t) fn(t);
    return;
  }
  run_tasks(tasks, call, ctx);
}

// How many ranges of at least `grain` (the smallest worth waking a thread for) n indices take:
// at most num_threads(), and 1 where the loop runs on the calling thread (inside a pool task
// with no offer possible).
inline int64_t ranges_for(int64_t n, int64_t grain) {
  const int64_t max_ranges = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
  const int64_t ranges = std::min<int64_t>(num_threads(), max_ranges);
  return ranges <= 1 || (in_parallel_region() && !may_share()) ? 1 : ranges;
}

// fn(begin, end) over [0, n) cut into ranges_for(n, grain) contiguous ranges.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& fn) {
  if (n <= 0) return;
  const int64_t ranges = ranges_for(n, grain);
  if (ranges == 1) {
    fn(int64_t{0}, n);
    return;
  }
  parallel_tasks(ranges, [&](int64_t r) { fn(n * r / ranges, n * (r + 1) / ranges); });
}

// Element-wise work over several arrays (a model's parameters, their gradients), cut into at
// most num_threads() ranges of at least `grain` elements in all: one hand-off for all the arrays.
// Each range takes the same share of
//  - every large array (kOwnCut elements or more): the part of its rows that the same thread
//    mostly produced and will read next (a Linear weight's GEMMs split its output features the
//    same way), so an MLP's optimizer step on two threads updates lines already in its cache;
//  - the small arrays laid end to end, as one: few long runs, and balanced however their sizes
//    differ (LeNet-5's largest weight holds 78% of its values). Cutting each small array on its
//    own was measured slower for LeNet-5 on two threads.
// From one step to the next the same part lands on the same thread (a job of one range per
// thread gives range k to thread k, threads.cpp), so it stays in its cache. For element-wise work
// only, where any cut gives the same bits. The list keeps its capacity, so a training step that
// refills it allocates nothing.
class Arrays {
 public:
  // The size from which an array is cut on its own: 256 KiB of floats.
  static constexpr int64_t kOwnCut = int64_t{1} << 16;

  void clear() {
    arrays_.clear();
    total_ = small_total_ = 0;
  }
  // Appends array `item`, of n elements.
  void add(int64_t item, int64_t n) {
    arrays_.push_back({item, small_total_, n});
    if (n < kOwnCut) small_total_ += n;
    total_ += n;
  }
  // fn(item, begin, end) for the parts of the arrays' elements [begin, end) in each range.
  template <class F>
  void run(int64_t grain, F&& fn) const {
    const int64_t ranges = ranges_for(total_, grain);
    if (ranges == 1) {
      for (const Array& a : arrays_)
        if (a.n > 0) fn(a.item, int64_t{0}, a.n);
      return;
    }
    parallel_tasks(ranges, [&](int64_t r) {
      const int64_t lo = small_total_ * r / ranges, hi = small_total_ * (r + 1) / ranges;
      for (const Array& a : arrays_) {
        int64_t begin, end;
        if (a.n >= kOwnCut) {  // in whole cache lines (16 floats)
          begin = (a.n + 15) / 16 * r / ranges * 16;
          end = std::min(a.n, (a.n + 15) / 16 * (r + 1) / ranges * 16);
        } else {
          begin = std::max(lo, a.offset) - a.offset;
          end = std::min(hi, a.offset + a.n) - a.offset;
        }
        if (begin < end) fn(a.item, begin, end);
      }
    });
  }

 private:
  struct Array {
    int64_t item;
    int64_t offset;  // among the small arrays laid end to end
    int64_t n;
  };
  std::vector<Array> arrays_;
  int64_t total_ = 0, small_total_ = 0;
};

}  // namespace nabla::parallel
