// XOR training, the seed's two-layer network: 2-8-1 (tanh hidden, sigmoid output), binary
// cross-entropy, Xavier/Glorot-uniform init, Adam lr 0.01, 5000 full-batch steps on the four
// points. At this size every op costs only its overhead (allocation, graph bookkeeping), so the
// benchmark measures exactly that. The training itself is in bench/xor_train.h, shared with
// bench/compare (`bench/compare --only xor` runs nabla and PyTorch side by side).
#include <benchmark/benchmark.h>

#include "xor_train.h"

namespace {

using nabla_bench::train_xor;

void BM_XorAdam5000(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(train_xor(5000, 1));
  state.counters["us_per_step"] =
      benchmark::Counter(5000.0 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_XorAdam5000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
