// Forward + backward of the layers around the convolutions, through the ops (graph included):
// 2×2 max pooling on LeNet's two pooled activations and on a VGG-sized one, batch norm on the
// convnet preset's activations, and softmax cross-entropy on a batch of 64 × 10 logits.
// Items are images; wall time.
//   build/bench/layers_bench --benchmark_min_time=0.5
//   NABLA_NUM_THREADS=1 build/bench/layers_bench ...   # one thread
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "nabla/ops.h"

namespace {

using nabla::Tensor;

// x (N, C, H, H) -> 2×2 max pool -> backward with a random gradient.
void BM_max_pool_2x2(benchmark::State& state) {
  const int64_t N = state.range(0), C = state.range(1), H = state.range(2);
  nabla::Generator gen(1);
  Tensor x = Tensor::randn({N, C, H, H}, gen).requires_grad_();
  Tensor dy = Tensor::randn({N, C, H / 2, H / 2}, gen);
  for (auto _ : state) {
    x.zero_grad();
    nabla::F::max_pool2d(x, nabla::F::MaxPool2dFuncOptions(2)).backward(dy);
    benchmark::DoNotOptimize(x.grad().data<float>());
  }
  state.SetItemsProcessed(state.iterations() * N);
}
BENCHMARK(BM_max_pool_2x2)
    ->Args({64, 6, 28})
    ->Args({64, 16, 10})
    ->Args({32, 64, 32})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Training-mode batch norm with affine parameters and running statistics.
void BM_batch_norm(benchmark::State& state) {
  const int64_t N = state.range(0), C = state.range(1), H = state.range(2);
  nabla::Generator gen(1);
  Tensor x = Tensor::randn({N, C, H, H}, gen).requires_grad_();
  Tensor gamma = Tensor::ones({C}).requires_grad_(), beta = Tensor::zeros({C}).requires_grad_();
  Tensor rm = Tensor::zeros({C}), rv = Tensor::ones({C});
  Tensor dy = Tensor::randn(x.shape(), gen);
  for (auto _ : state) {
    x.zero_grad(), gamma.zero_grad(), beta.zero_grad();
    nabla::batch_norm(x, rm, rv, gamma, beta, true, 0.1, 1e-5).backward(dy);
    benchmark::DoNotOptimize(x.grad().data<float>());
  }
  state.SetItemsProcessed(state.iterations() * N);
}
BENCHMARK(BM_batch_norm)
    ->Args({64, 32, 28})
    ->Args({64, 64, 14})
    ->Args({32, 64, 32})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Mean softmax cross-entropy over N rows of C logits.
void BM_softmax_cross_entropy(benchmark::State& state) {
  const int64_t N = state.range(0), C = state.range(1);
  nabla::Generator gen(1);
  Tensor logits = Tensor::randn({N, C}, gen).requires_grad_();
  std::vector<int64_t> labels(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) labels[static_cast<size_t>(i)] = (i * 7) % C;
  for (auto _ : state) {
    logits.zero_grad();
    nabla::cross_entropy(logits, labels).backward();
    benchmark::DoNotOptimize(logits.grad().data<float>());
  }
  state.SetItemsProcessed(state.iterations() * N);
}
BENCHMARK(BM_softmax_cross_entropy)
    ->Args({64, 10})
    ->Args({256, 1000})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
