// XOR training, the seed's two-layer network: 2-8-1 (tanh hidden, sigmoid output), binary
// cross-entropy, Xavier/Glorot-uniform init, Adam lr 0.01, 5000 full-batch steps on the four
// points. At this size every op costs only its overhead (allocation, graph bookkeeping), so the
// benchmark measures exactly that. bench/xor_torch.py is the same training in PyTorch, and
// bench/compare_xor.sh runs both side by side.
#include <benchmark/benchmark.h>

#include "nabla/nabla.h"

namespace {

using namespace nabla;

double train_xor(int64_t steps, uint64_t seed) {
  Tensor x = Tensor::from_vector(std::vector<float>{0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor y = Tensor::from_vector(std::vector<float>{0, 1, 1, 0}, {4, 1});
  Generator gen(seed);
  nn::Sequential model(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1), nn::Sigmoid());
  for (auto& [name, p] : model.named_parameters()) {
    if (name.ends_with("weight"))
      nn::init::xavier_uniform_(p, gen);
    else
      nn::init::zeros_(p);
  }
  optim::Adam adam(model.parameters(), optim::AdamOptions(0.01));
  Tensor loss;
  for (int64_t i = 0; i < steps; ++i) {
    adam.zero_grad();
    loss = binary_cross_entropy(model(x), y);
    loss.backward();
    adam.step();
  }
  return loss.item();
}

void BM_XorAdam5000(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(train_xor(5000, 1));
  state.counters["us_per_step"] =
      benchmark::Counter(5000.0 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_XorAdam5000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
