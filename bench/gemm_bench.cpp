// SGEMM through nabla's kernel (cpu::gemm, which hands sizes this large to OpenBLAS), square
// n×n·n×n at n = 256 … 2048. The GFLOP/s counter is 2n³ per call; docs/performance.md quotes it.
// The naive loop is timed too at the small sizes, as the reference the BLAS path is paid against.
//   build/bench/gemm_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "nabla/random.h"

namespace {

std::vector<float> random_matrix(int64_t n, uint64_t seed) {
  nabla::Generator gen(seed);
  std::vector<float> m(static_cast<size_t>(n * n));
  for (float& v : m) v = static_cast<float>(gen.uniform(-1.0, 1.0));
  return m;
}

template <auto Gemm>
void run_sgemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> a = random_matrix(n, 1), b = random_matrix(n, 2);
  std::vector<float> c(static_cast<size_t>(n * n));
  for (auto _ : state) {
    Gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double flops_per_call = 2.0 * static_cast<double>(n) * static_cast<double>(n) * n;
  // kIsRate divides by seconds; kIs1000 prints it with k/M/G in powers of 1000.
  state.counters["FLOPS"] = benchmark::Counter(
      flops_per_call, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_sgemm(benchmark::State& state) {
  run_sgemm<nabla::cpu::gemm<float>>(state);
}
void BM_sgemm_naive(benchmark::State& state) {
  run_sgemm<nabla::cpu::gemm_naive<float>>(state);
}

// Wall time, not CPU time: OpenBLAS runs on its own threads, whose CPU time the main thread
// does not see.
BENCHMARK(BM_sgemm)->Arg(256)->Arg(512)->Arg(1024)->Arg(2048)->UseRealTime()->Unit(
    benchmark::kMillisecond);
BENCHMARK(BM_sgemm_naive)->Arg(256)->Arg(512)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
