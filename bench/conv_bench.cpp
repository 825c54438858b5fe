// conv2d forward + backward (input, weight and bias gradients) through the op, on the five
// configurations the PyTorch comparison uses, and the naive loops against im2col + GEMM on one
// small configuration. Items are images; wall time, since OpenBLAS runs its own threads.
//   OPENBLAS_NUM_THREADS=2 build/bench/conv_bench --benchmark_min_time=0.5
// Configurations (N, C, H×W, OC, kernel, padding, stride):
//   lenet_c1   64    1  28×28    6  5  2  1      lenet_c2   64    6  14×14   16  5  0  1
//   vgg_64     32   64  32×32   64  3  1  1      vgg_128    32  128  16×16  128  3  1  1
//   down_s2    32   64  32×32  128  3  1  2
#include <benchmark/benchmark.h>

#include <cstdint>

#include "nabla/ops.h"

namespace {

using nabla::Conv2dParams;
using nabla::Tensor;

struct Config {
  int64_t N, C, H, OC, K, pad, stride;
};

// (32 - 3 + 2)/2 + 1 = 16.5 for the stride-2 configuration: accepted, since the windows miss
// only a padding row.
Conv2dParams params_of(const Config& cfg) {
  return Conv2dParams().stride(cfg.stride).padding(cfg.pad);
}

constexpr Config kLenetC1{64, 1, 28, 6, 5, 2, 1};
constexpr Config kLenetC2{64, 6, 14, 16, 5, 0, 1};
constexpr Config kVgg64{32, 64, 32, 64, 3, 1, 1};
constexpr Config kVgg128{32, 128, 16, 128, 3, 1, 1};
constexpr Config kDownS2{32, 64, 32, 128, 3, 1, 2};

template <const Config& cfg, bool kNaive = false>
void BM_conv2d_fwd_bwd(benchmark::State& state) {
  nabla::Generator gen(1);
  Tensor x = Tensor::randn({cfg.N, cfg.C, cfg.H, cfg.H}, gen).requires_grad_();
  Tensor w = Tensor::normal({cfg.OC, cfg.C, cfg.K, cfg.K}, 0, 0.1, gen).requires_grad_();
  Tensor b = Tensor::zeros({cfg.OC}).requires_grad_();
  const Conv2dParams params = params_of(cfg).naive(kNaive);
  Tensor y = nabla::conv2d(x, w, b, params);
  Tensor dy = Tensor::randn(y.shape(), gen);
  for (auto _ : state) {
    x.zero_grad(), w.zero_grad(), b.zero_grad();
    nabla::conv2d(x, w, b, params).backward(dy);
    benchmark::DoNotOptimize(w.grad().data<float>());
  }
  state.SetItemsProcessed(state.iterations() * cfg.N);
}

template <const Config& cfg>
void BM_conv2d_fwd(benchmark::State& state) {
  nabla::Generator gen(1);
  Tensor x = Tensor::randn({cfg.N, cfg.C, cfg.H, cfg.H}, gen);
  Tensor w = Tensor::normal({cfg.OC, cfg.C, cfg.K, cfg.K}, 0, 0.1, gen);
  Tensor b = Tensor::zeros({cfg.OC});
  const Conv2dParams params = params_of(cfg);
  for (auto _ : state) {
    Tensor y = nabla::conv2d(x, w, b, params);
    benchmark::DoNotOptimize(y.data<float>());
  }
  state.SetItemsProcessed(state.iterations() * cfg.N);
}

#define NABLA_CONV_BENCH(cfg)                                                      \
  BENCHMARK(BM_conv2d_fwd_bwd<cfg>)->UseRealTime()->Unit(benchmark::kMillisecond); \
  BENCHMARK(BM_conv2d_fwd<cfg>)->UseRealTime()->Unit(benchmark::kMillisecond);
NABLA_CONV_BENCH(kLenetC1)
NABLA_CONV_BENCH(kLenetC2)
NABLA_CONV_BENCH(kVgg64)
NABLA_CONV_BENCH(kVgg128)
NABLA_CONV_BENCH(kDownS2)
#undef NABLA_CONV_BENCH

// The reference loops, on the smallest configuration only (they are 1-2 orders slower).
BENCHMARK(BM_conv2d_fwd_bwd<kLenetC2, true>)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
