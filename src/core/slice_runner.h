// The threads behind autograd::BatchSlices' slices that run together (nabla/autograd_slices.h).
//
// Why threads of their own and not the pool: slices that meet (batch norm's statistics over the
// whole batch) must all be under way at once, since each waits for the others, and a pool with
// one thread would run them one after the other and wait forever. So every slice gets a thread,
// and turns keep the computing to num_threads(): a slice gives up its turn while it waits at a
// meeting and takes one again to go on. With one turn the slices take it in turns; results
// are the same, since each slice computes the same thing whichever thread runs it and a sum
// over the slices is added in slice order.
//
// The threads stay between runs, so a thread's storage cache keeps the buffers of its slice's
// activations from one step to the next.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace nabla::autograd {

class SliceRunner {
 public:
  SliceRunner() = default;
  ~SliceRunner();
  SliceRunner(const SliceRunner&) = delete;
  SliceRunner& operator=(const SliceRunner&) = delete;

  // Runs body(ctx, s) for every slice s in [0, slices): slice 0 on the caller, the others on
  // threads of their own, at most `turns` computing at once; returns when all have ended. The
  // exception of the first slice (in slice order) that failed by itself is rethrown; a slice
  // stopped only because another failed is passed over in favour of that one.
  void run(int64_t slices, int turns, void (*body)(void*, int64_t), void* ctx);

  // sum_over_slices and meet (autograd_slices.h); `values` empty for meet.
  void sum(int64_t slice, std::span<double> values);

 private:
  void work(int64_t slice);
  void run_slice(int64_t slice);
  // With the lock held: wait for a turn, and give it up.
  void take_turn(std::unique_lock<std::mutex>& lock);
  void give_turn();
  // With the lock held: stops every slice waiting at a meeting, with `why`.
  void abort(std::string why);

  std::mutex mutex_;
  std::condition_variable changed_;   // every change of the state below is announced on it
  std::vector<std::thread> threads_;  // threads_[i] runs slice i + 1
  bool stop_ = false;

  // The current run.
  uint64_t run_ = 0;  // counts runs, so a thread sees a new one
  int64_t slices_ = 0;
  void (*body_)(void*, int64_t) = nullptr;
  void* ctx_ = nullptr;
  int turns_ = 1;
  int running_ = 0;  // slices holding a turn
  int64_t ended_ = 0;
  std::vector<std::exception_ptr> errors_;

  // The current meeting.
  uint64_t meeting_ = 0;  // counts meetings, so a waiting slice sees its own end
  int64_t arrived_ = 0;
  std::vector<std::span<double>> values_;  // each arrived slice's
  std::vector<double> sum_;
  bool aborted_ = false;
  std::string abort_reason_;
};

}  // namespace nabla::autograd
