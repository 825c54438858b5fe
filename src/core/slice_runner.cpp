// SliceRunner (slice_runner.h): threads, turns and meetings of slices that run together.
#include "slice_runner.h"

#include <algorithm>
#include <utility>

#include "nabla/error.h"
#include "parallel.h"

namespace nabla::autograd {
namespace {

// What a slice throws when it was stopped because another slice failed; run() prefers the
// other slice's own error.
class SliceStopped : public Error {
 public:
  using Error::Error;
};

// Why the others stop when a slice ends while they wait for it at a meeting.
constexpr const char* kMissedMeeting =
    " ended without taking part in a meeting of the others (slices must meet in the same order)";

[[noreturn]] void throw_stopped(int64_t slice, const std::string& reason) {
  throw SliceStopped("BatchSlices: slice " + std::to_string(slice) + " stopped: " + reason);
}

}  // namespace

SliceRunner::~SliceRunner() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void SliceRunner::run(int64_t slices, int turns, void (*body)(void*, int64_t), void* ctx) {
  NABLA_ASSERT(slices >= 1 && turns >= 1);
  {
    std::lock_guard lock(mutex_);
    slices_ = slices;
    body_ = body;
    ctx_ = ctx;
    turns_ = turns;
    running_ = 0;
    ended_ = 0;
    errors_.assign(static_cast<size_t>(slices), nullptr);
    arrived_ = 0;
    values_.assign(static_cast<size_t>(slices), {});
    aborted_ = false;
    abort_reason_.clear();
    ++run_;
    while (static_cast<int64_t>(threads_.size()) < slices - 1) {
      const auto slice = static_cast<int64_t>(threads_.size()) + 1;
      threads_.emplace_back([this, slice] { work(slice); });
    }
  }
  changed_.notify_all();
  run_slice(0);
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return ended_ == slices_; });
  std::exception_ptr first_stopped;
  for (const std::exception_ptr& e : errors_) {
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const SliceStopped&) {
      if (!first_stopped) first_stopped = e;
    } catch (...) {
      throw;
    }
  }
  if (first_stopped) std::rethrow_exception(first_stopped);
}

void SliceRunner::work(int64_t slice) {
  uint64_t seen = 0;
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stop_ || run_ != seen; });
    if (stop_) return;
    seen = run_;
    if (slice >= slices_) continue;  // a run of fewer slices than there are threads
    lock.unlock();
    run_slice(slice);
    lock.lock();
  }
}

void SliceRunner::run_slice(int64_t slice) {
  {
    std::unique_lock lock(mutex_);
    take_turn(lock);
  }
  std::exception_ptr error;
  try {
    // Each slice is one of several running side by side: its kernels run serially.
    parallel::SerialRegion serial;
    body_(ctx_, slice);
  } catch (...) {
    error = std::current_exception();
  }
  {
    std::lock_guard lock(mutex_);
    --running_;
    ++ended_;
    if (error) {
      errors_[static_cast<size_t>(slice)] = error;
      abort("slice " + std::to_string(slice) + " failed");
    } else if (arrived_ > 0 && arrived_ + ended_ == slices_) {
      // The others wait at a meeting this slice will never come to.
      abort("slice " + std::to_string(slice) + kMissedMeeting);
    }
  }
  changed_.notify_all();
}

void SliceRunner::take_turn(std::unique_lock<std::mutex>& lock) {
  changed_.wait(lock, [&] { return running_ < turns_; });
  ++running_;
}

void SliceRunner::give_turn() {
  --running_;
  changed_.notify_all();
}

void SliceRunner::abort(std::string why) {
  if (aborted_) return;
  aborted_ = true;
  abort_reason_ = std::move(why);
}

void SliceRunner::sum(int64_t slice, std::span<double> values) {
  std::unique_lock lock(mutex_);
  if (aborted_) throw_stopped(slice, abort_reason_);
  values_[static_cast<size_t>(slice)] = values;
  if (++arrived_ + ended_ < slices_) {
    // Wait for the others, giving up this slice's turn meanwhile.
    const uint64_t meeting = meeting_;
    give_turn();
    changed_.wait(lock, [&] { return meeting_ != meeting || aborted_; });
    if (meeting_ == meeting) throw_stopped(slice, abort_reason_);
    take_turn(lock);
  } else if (arrived_ < slices_) {
    abort(std::string("a slice") + kMissedMeeting);
    changed_.notify_all();
    throw_stopped(slice, abort_reason_);
  } else {
    // The last to arrive adds everyone's values in slice order and ends the meeting.
    const size_t n = values.size();
    for (int64_t s = 0; s < slices_; ++s)
      if (values_[static_cast<size_t>(s)].size() != n) {
        abort("slices " + std::to_string(s) + " and " + std::to_string(slice) + " brought " +
              std::to_string(values_[static_cast<size_t>(s)].size()) + " and " + std::to_string(n) +
              " values to one sum");
        changed_.notify_all();
        throw_stopped(slice, abort_reason_);
      }
    sum_.assign(values_[0].begin(), values_[0].end());
    for (int64_t s = 1; s < slices_; ++s)
      for (size_t i = 0; i < n; ++i) sum_[i] += values_[static_cast<size_t>(s)][i];
    arrived_ = 0;
    ++meeting_;
    changed_.notify_all();
  }
  // sum_ stays until the next meeting ends, which needs this slice to arrive first.
  std::copy(sum_.begin(), sum_.end(), values.begin());
}

}  // namespace nabla::autograd
