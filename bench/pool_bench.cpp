// The thread pool's cost for a loop started inside a busy task: what each of a batch slice's
// kernels pays when both slices run and no thread is free to help (src/core/threads.cpp: such a
// loop is not offered). Two pool tasks, one per thread, each run kLoops small loops of two
// tasks (about 0.3 µs of arithmetic each); the baseline runs the same tasks directly, without
// parallel_tasks. The difference per loop is the pool's overhead.
//   NABLA_NUM_THREADS=2 build/bench/pool_bench
#include <benchmark/benchmark.h>

#include <cstdint>

#include "nabla/threads.h"
#include "parallel.h"

namespace {

constexpr int kLoops = 10000;

// About 0.3 µs of dependent integer arithmetic, kept by its result.
int64_t small_task(int64_t t) {
  uint64_t x = static_cast<uint64_t>(t);
  for (uint64_t k = 0; k < 300; ++k) x = x * 2654435761u + k;
  return static_cast<int64_t>(x & 1);
}

template <bool kThroughPool>
void BM_loops_inside_two_busy_tasks(benchmark::State& state) {
  nabla::set_num_threads(2);
  for (auto _ : state) {
    nabla::parallel::parallel_tasks(2, [&](int64_t) {
      int64_t local = 0;
      for (int l = 0; l < kLoops; ++l) {
        if constexpr (kThroughPool)
          nabla::parallel::parallel_tasks(2, [&](int64_t t) { local += small_task(t); });
        else
          for (int64_t t = 0; t < 2; ++t) local += small_task(t);
      }
      benchmark::DoNotOptimize(local);
    });
  }
  state.SetItemsProcessed(state.iterations() * kLoops);  // loops per second on each thread
}
BENCHMARK(BM_loops_inside_two_busy_tasks<false>)->Name("inline")->UseRealTime();
BENCHMARK(BM_loops_inside_two_busy_tasks<true>)->Name("parallel_tasks")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
