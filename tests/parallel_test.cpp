// The thread pool (src/parallel.h): every index is visited once whatever the thread count,
// nested loops run serially, and a task's exception reaches the caller.
#include "parallel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "nabla/error.h"
#include "nabla/threads.h"
#include "test_util.h"

namespace nabla {
namespace {

using testing::ThreadCount;

TEST(Parallel, ForVisitsEveryIndexOnceForAnyThreadCount) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadCount count(threads);
    for (int64_t n : {0, 1, 7, 1000, 100003}) {
      std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
      parallel::parallel_for(n, 16, [&](int64_t begin, int64_t end) {
        ASSERT_LE(0, begin);
        ASSERT_LE(begin, end);
        ASSERT_LE(end, n);
        for (int64_t i = begin; i < end; ++i) visits[size_t(i)]++;
      });
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(visits[size_t(i)].load(), 1)
            << "index " << i << " of " << n << ", " << threads << " threads";
    }
  }
}

// Arrays: each element of each array once, whether the arrays run on the pool (enough elements)
// or on the caller; and parallel_ranges, the pool's public entry.
TEST(Parallel, ArraysAndRangesVisitEveryElementOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadCount count(threads);
    // Two arrays cut on their own (Arrays::kOwnCut and more), one not a whole number of lines.
    const int64_t own = parallel::Arrays::kOwnCut;
    const std::vector<int64_t> sizes = {5, 0, 8192, own + 37, 20000, 1, own};
    for (int64_t grain : {int64_t{1}, int64_t{1} << 20}) {
      std::vector<std::vector<std::atomic<int>>> visits;
      for (int64_t n : sizes) visits.emplace_back(static_cast<size_t>(n));
      parallel::Arrays arrays;
      for (size_t i = 0; i < sizes.size(); ++i) arrays.add(int64_t(i), sizes[i]);
      arrays.run(grain, [&](int64_t item, int64_t begin, int64_t end) {
        ASSERT_LE(0, begin);
        ASSERT_LT(begin, end);
        ASSERT_LE(end, sizes[size_t(item)]);
        for (int64_t k = begin; k < end; ++k) visits[size_t(item)][size_t(k)]++;
      });
      for (size_t i = 0; i < sizes.size(); ++i)
        for (int64_t k = 0; k < sizes[i]; ++k)
          ASSERT_EQ(visits[i][size_t(k)].load(), 1) << "array " << i << " element " << k;
    }
    std::vector<std::atomic<int>> visits(1000);
    parallel_ranges(1000, 8, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) visits[size_t(k)]++;
    });
    for (const std::atomic<int>& v : visits) ASSERT_EQ(v.load(), 1);
  }
}

// A large array is cut on its own into one part per range, in whole cache lines of 16 floats
// and as even as lines allow: the rows a thread updates are the rows it produced (parallel.h).
TEST(Parallel, ArraysCutEachLargeArrayIntoEvenLinesPerRange) {
  ThreadCount count(2);
  const int64_t own = parallel::Arrays::kOwnCut, odd = own + 37;
  parallel::Arrays arrays;
  arrays.add(0, 100);
  arrays.add(1, odd);
  arrays.add(2, 300);
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> parts;
  arrays.run(1, [&](int64_t item, int64_t begin, int64_t end) {
    if (item != 1) return;
    std::lock_guard<std::mutex> lock(mutex);
    parts.emplace_back(begin, end);
  });
  std::sort(parts.begin(), parts.end());
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].first, 0);
  EXPECT_EQ(parts[0].second % 16, 0);
  EXPECT_EQ(parts[0].second, parts[1].first);
  EXPECT_EQ(parts[1].second, odd);
  EXPECT_LE(std::abs((parts[1].second - parts[1].first) - (parts[0].second - parts[0].first)), 16);
}

TEST(Parallel, ManyShortJobsInARowAllComplete) {
  ThreadCount count(2);
  std::atomic<int64_t> sum{0};
  for (int job = 0; job < 20000; ++job)
    parallel::parallel_tasks(3, [&](int64_t t) { sum += t + 1; });
  EXPECT_EQ(sum.load(), 20000 * 6);
}

// A job of one task per thread gives task k to thread k (the caller being thread 0), so one
// range of the data stays on one thread from job to job. Each task here waits until both have
// started, so no thread can run both: a worker takes another's task only once its own has ended,
// and a caller only once its own has (stealing, so a late thread never holds a job up).
TEST(Parallel, JobOfOneTaskPerThreadGivesEachThreadItsOwnTask) {
  ThreadCount count(2);
  const std::thread::id caller = std::this_thread::get_id();
  for (int job = 0; job < 500; ++job) {
    std::thread::id ran[2];
    std::atomic<int> started{0};
    parallel::parallel_tasks(2, [&](int64_t t) {
      ran[t] = std::this_thread::get_id();
      ++started;
      while (started.load() < 2) std::this_thread::yield();
    });
    ASSERT_EQ(ran[0], caller) << "job " << job;
    ASSERT_NE(ran[1], caller) << "job " << job;
  }
}

// Jobs of up to 24 tasks claim by mask, larger ones by counter: on 3 threads, 1..30 tasks each
// run once (with threads > tasks, == tasks and < tasks).
TEST(Parallel, EveryTaskRunsOnceWhicheverWayItIsClaimed) {
  ThreadCount count(3);
  for (int64_t tasks = 1; tasks <= 30; ++tasks) {
    std::vector<std::atomic<int>> runs(static_cast<size_t>(tasks));
    for (int job = 0; job < 50; ++job)
      parallel::parallel_tasks(tasks, [&](int64_t t) { ++runs[static_cast<size_t>(t)]; });
    for (int64_t t = 0; t < tasks; ++t)
      ASSERT_EQ(runs[static_cast<size_t>(t)].load(), 50) << tasks << " tasks, task " << t;
  }
}

// A loop inside a pool task covers its range once, in region, whichever threads run its parts.
TEST(Parallel, NestedLoopCoversItsRangeOnceInsideTheOuterTask) {
  ThreadCount count(2);
  std::vector<std::atomic<int>> hits(4 * 1000);
  parallel::parallel_tasks(4, [&](int64_t outer) {
    EXPECT_TRUE(parallel::in_parallel_region());
    parallel::parallel_for(1000, 1, [&](int64_t begin, int64_t end) {
      EXPECT_TRUE(parallel::in_parallel_region());
      for (int64_t i = begin; i < end; ++i) hits[outer * 1000 + i]++;
    });
  });
  for (const auto& h : hits) EXPECT_EQ(h.load(), 1);
  EXPECT_FALSE(parallel::in_parallel_region());
}

// A loop started in a task of a pool job is offered to the pool's idle threads: here the outer
// job's other task ends at once, and once the thread that ran it waits for work, it must take
// the inner loop's task 1, because inner task 0 (taken first, by the offering thread) waits until
// task 1 has started. Outer task 0 waits for task 1 to end and then for an idle thread: one that
// finished task 1 stays idle until the offer itself wakes it (idle_threads() seen before task 1
// ended may be the other thread still idle from before the job, about to leave for task 1, and
// an offer made then may find no idle thread). No clock is involved: without the offer this test
// would hang, not fail by chance.
TEST(Parallel, IdleThreadTakesTasksOfALoopOfferedInsideATask) {
  ThreadCount count(2);
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> second_started{false}, other_ended{false};
    std::atomic<int> offered{0};
    parallel::parallel_tasks(2, [&](int64_t outer) {
      if (outer != 0) {
        other_ended = true;
        return;
      }
      while (!other_ended) std::this_thread::yield();
      while (parallel::idle_threads() == 0) std::this_thread::yield();
      parallel::parallel_tasks(2, [&](int64_t inner) {
        if (inner == 1) {
          second_started = true;
        } else {
          while (!second_started) std::this_thread::yield();
        }
        offered++;
      });
    });
    EXPECT_EQ(offered.load(), 2);
  }
}

// While every thread of the pool runs a task, no one could take an offer, so none is made: the
// loop's tasks are left to the caller (share_tasks returns false, running nothing) instead of
// writing the offer's shared state for nothing. The two outer tasks meet before and after, so
// neither thread waits for work meanwhile.
TEST(Parallel, NoOfferWhileEveryThreadRunsATask) {
  ThreadCount count(2);
  std::barrier meet(2);
  std::atomic<int> idle[2], shared[2], ran{0};
  std::thread::id owner[2];
  parallel::parallel_tasks(2, [&](int64_t outer) {
    meet.arrive_and_wait();
    owner[outer] = std::this_thread::get_id();
    idle[outer] = parallel::idle_threads();
    auto count_task = [](void* n, int64_t) { ++*static_cast<std::atomic<int>*>(n); };
    shared[outer] = parallel::share_tasks(2, count_task, &ran);
    meet.arrive_and_wait();
  });
  EXPECT_NE(owner[0], owner[1]);
  for (int outer : {0, 1}) {
    EXPECT_EQ(idle[outer].load(), 0) << "outer task " << outer;
    EXPECT_FALSE(shared[outer].load()) << "outer task " << outer;
  }
  EXPECT_EQ(ran.load(), 0);
  // Between jobs the worker waits for work; the caller does not count.
  while (parallel::idle_threads() != 1) std::this_thread::yield();
}

// A thread of its own in a SerialRegion (a slice run beside others) offers nothing: its loops run
// whole on it.
TEST(Parallel, SerialRegionLoopsRunWhole) {
  ThreadCount count(2);
  std::thread t([] {
    parallel::SerialRegion serial;
    int ranges = 0;
    parallel::parallel_for(1000, 1, [&](int64_t begin, int64_t end) {
      EXPECT_EQ(begin, 0);
      EXPECT_EQ(end, 1000);
      ranges++;
    });
    EXPECT_EQ(ranges, 1);
  });
  t.join();
}

TEST(Parallel, TaskExceptionReachesTheCallerAfterAllTasksEnd) {
  ThreadCount count(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel::parallel_tasks(8,
                                        [&](int64_t t) {
                                          ran++;
                                          if (t == 3) throw std::runtime_error("task 3");
                                        }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 8);
  // The pool still works afterwards.
  std::atomic<int> again{0};
  parallel::parallel_tasks(8, [&](int64_t) { again++; });
  EXPECT_EQ(again.load(), 8);
}

TEST(Parallel, RejectsAThreadCountBelowOne) {
  EXPECT_THROW(set_num_threads(0), Error);
}

}  // namespace
}  // namespace nabla
