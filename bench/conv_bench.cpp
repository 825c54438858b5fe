// conv2d forward + backward (input, weight and bias gradients) through the op, on the five
// configurations the PyTorch comparison uses, and the naive loops against im2col + GEMM on one
// small configuration, and each of the three kernels alone (BM_conv2d_kernel, with a FLOPS
// column; BM_conv2d_direct_block: the direct kernels without im2col, whatever the rule picks).
// Items are images; wall time, since the work runs on nabla's thread pool.
//   NABLA_NUM_THREADS=2 build/bench/conv_bench --benchmark_min_time=0.5
// Configurations (N, C, H×W, OC, kernel, padding, stride):
//   lenet_c1   64    1  28×28    6  5  2  1      lenet_c2   64    6  14×14   16  5  0  1
//   vgg_64     32   64  32×32   64  3  1  1      vgg_128    32  128  16×16  128  3  1  1
//   down_s2    32   64  32×32  128  3  1  2
// and the convnet preset's 3×3 layers past the first (convnet_c2, convnet_c4), and two narrow
// 3×3 layers (narrow8, narrow16) on each side of the Winograd path's channel floor.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "kernels/cpu/conv.h"
#include "kernels/cpu/conv_direct_block.h"
#include "kernels/cpu/gemm.h"
#include "nabla/ops.h"

namespace {

namespace F = nabla::F;
using nabla::Tensor;

struct Config {
  int64_t N, C, H, OC, K, pad, stride;
};

// (32 - 3 + 2)/2 + 1 = 16.5 for the stride-2 configuration: accepted, since the windows miss
// only a padding row.
F::Conv2dFuncOptions options_of(const Config& cfg, const Tensor& bias) {
  return F::Conv2dFuncOptions().bias(bias).stride(cfg.stride).padding(cfg.pad);
}

constexpr Config kLenetC1{64, 1, 28, 6, 5, 2, 1};
constexpr Config kLenetC2{64, 6, 14, 16, 5, 0, 1};
constexpr Config kConvnetC1{64, 1, 28, 32, 3, 1, 1};  // convnet's first layer
constexpr Config kVgg64{32, 64, 32, 64, 3, 1, 1};
constexpr Config kVgg128{32, 128, 16, 128, 3, 1, 1};
constexpr Config kDownS2{32, 64, 32, 128, 3, 1, 2};
constexpr Config kConvnetC2{64, 32, 28, 32, 3, 1, 1};
constexpr Config kConvnetC4{64, 64, 14, 64, 3, 1, 1};
constexpr Config kNarrow8{64, 8, 28, 8, 3, 1, 1};
constexpr Config kNarrow16{64, 16, 28, 16, 3, 1, 1};

template <const Config& cfg, bool kNaive = false>
void BM_conv2d_fwd_bwd(benchmark::State& state) {
  nabla::Generator gen(1);
  Tensor x = Tensor::randn({cfg.N, cfg.C, cfg.H, cfg.H}, gen).requires_grad_();
  Tensor w = Tensor::normal({cfg.OC, cfg.C, cfg.K, cfg.K}, 0, 0.1, gen).requires_grad_();
  Tensor b = Tensor::zeros({cfg.OC}).requires_grad_();
  const F::Conv2dFuncOptions options = options_of(cfg, b).algorithm(
      kNaive ? nabla::ConvAlgorithm::Naive : nabla::ConvAlgorithm::Im2colGemm);
  Tensor y = F::conv2d(x, w, options);
  Tensor dy = Tensor::randn(y.shape(), gen);
  for (auto _ : state) {
    x.zero_grad(), w.zero_grad(), b.zero_grad();
    F::conv2d(x, w, options).backward(dy);
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
  const F::Conv2dFuncOptions options = options_of(cfg, b);
  for (auto _ : state) {
    Tensor y = F::conv2d(x, w, options);
    benchmark::DoNotOptimize(y.data<float>());
  }
  state.SetItemsProcessed(state.iterations() * cfg.N);
}

// The three kernels one at a time, called directly (no graph, no allocation), so a profile shows
// which of them a configuration's time goes to.
enum class Kernel { forward, backward_input, backward_weight };

nabla::cpu::Conv2dShape shape_of(const Config& cfg) {
  nabla::cpu::Conv2dShape s;
  s.N = cfg.N, s.C = cfg.C, s.H = s.W = cfg.H, s.OC = cfg.OC, s.KH = s.KW = cfg.K;
  s.stride_h = s.stride_w = cfg.stride, s.pad_h = s.pad_w = cfg.pad;
  s.OH = s.OW = (cfg.H + 2 * cfg.pad - cfg.K) / cfg.stride + 1;
  return s;
}

std::vector<float> random_floats(int64_t n, nabla::Generator& gen) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(gen.uniform(-1, 1));
  return v;
}

template <const Config& cfg, Kernel kernel>
void BM_conv2d_kernel(benchmark::State& state) {
  const nabla::cpu::Conv2dShape s = shape_of(cfg);
  nabla::Generator gen(1);
  std::vector<float> x = random_floats(s.N * s.C * s.H * s.W, gen);
  std::vector<float> w = random_floats(s.OC * s.C * s.KH * s.KW, gen);
  std::vector<float> b = random_floats(s.OC, gen), y = random_floats(s.N * s.OC * s.OH * s.OW, gen);
  std::vector<float> dx(x.size()), dw(w.size()), db(b.size());
  std::vector<float> ws(static_cast<size_t>(nabla::cpu::conv2d_workspace_size(s)));
  for (auto _ : state) {
    if (kernel == Kernel::forward)
      nabla::cpu::conv2d_forward(y.data(), x.data(), w.data(), b.data(), s, ws.data());
    else if (kernel == Kernel::backward_input)
      nabla::cpu::conv2d_backward_input(dx.data(), y.data(), w.data(), s, ws.data());
    else
      nabla::cpu::conv2d_backward_weight(dw.data(), db.data(), y.data(), x.data(), s, ws.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * cfg.N);
  // FLOPS column: the multiply-adds of the convolution, 2 per tap.
  state.counters["FLOPS"] = benchmark::Counter(static_cast<double>(state.iterations()) * 2.0 *
                                                   static_cast<double>(s.N * s.OC * s.OH * s.OW) *
                                                   static_cast<double>(s.C * s.KH * s.KW),
                                               benchmark::Counter::kIsRate);
}

// The direct kernels without im2col (kernels/cpu/conv_direct_block.h) called directly, whatever
// conv.cpp's rule picks for the shape: beside BM_conv2d_kernel on a shape the rule leaves to
// im2col + GEMM (or under NABLA_ISA=avx2|generic), this is the other side of the rule's A/B.
template <const Config& cfg, Kernel kernel>
void BM_conv2d_direct_block(benchmark::State& state) {
  namespace db = nabla::cpu::direct_block;
  const nabla::cpu::Conv2dShape s = shape_of(cfg);
  if (!db::fits(s)) {
    state.SkipWithError("the direct kernels do not fit this shape");
    return;
  }
  nabla::Generator gen(1);
  std::vector<float> x = random_floats(s.N * s.C * s.H * s.W, gen);
  std::vector<float> w = random_floats(s.OC * s.C * s.KH * s.KW, gen);
  std::vector<float> b = random_floats(s.OC, gen), y = random_floats(s.N * s.OC * s.OH * s.OW, gen);
  std::vector<float> dx(x.size()), dw(w.size()), packed(static_cast<size_t>(db::weight_size(s)));
  std::vector<float> scratch(static_cast<size_t>(db::scratch_size(s)));
  for (auto _ : state) {
    if (kernel == Kernel::forward) {
      db::pack_weight(packed.data(), w.data(), s);
      db::forward_images(y.data(), x.data(), packed.data(), b.data(), s, 0, s.N, scratch.data(),
                         false);
    } else if (kernel == Kernel::backward_input) {
      db::pack_input_weight(packed.data(), w.data(), s);
      db::input_grad_images(dx.data(), y.data(), packed.data(), s, 0, s.N, scratch.data());
    } else {
      db::weight_grad_run(dw.data(), b.data(), y.data(), x.data(), s, 0, s.N, scratch.data());
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * cfg.N);
}

#define NABLA_CONV_BENCH(cfg)                                                                      \
  BENCHMARK(BM_conv2d_fwd_bwd<cfg>)->UseRealTime()->Unit(benchmark::kMillisecond);                 \
  BENCHMARK(BM_conv2d_fwd<cfg>)->UseRealTime()->Unit(benchmark::kMillisecond);                     \
  BENCHMARK(BM_conv2d_kernel<cfg, Kernel::forward>)->UseRealTime()->Unit(benchmark::kMillisecond); \
  BENCHMARK(BM_conv2d_kernel<cfg, Kernel::backward_input>)                                         \
      ->UseRealTime()                                                                              \
      ->Unit(benchmark::kMillisecond);                                                             \
  BENCHMARK(BM_conv2d_kernel<cfg, Kernel::backward_weight>)                                        \
      ->UseRealTime()                                                                              \
      ->Unit(benchmark::kMillisecond);
NABLA_CONV_BENCH(kLenetC1)
NABLA_CONV_BENCH(kLenetC2)
#define NABLA_DIRECT_BENCH(cfg)                                   \
  BENCHMARK(BM_conv2d_direct_block<cfg, Kernel::forward>)         \
      ->UseRealTime()                                             \
      ->Unit(benchmark::kMillisecond);                            \
  BENCHMARK(BM_conv2d_direct_block<cfg, Kernel::backward_input>)  \
      ->UseRealTime()                                             \
      ->Unit(benchmark::kMillisecond);                            \
  BENCHMARK(BM_conv2d_direct_block<cfg, Kernel::backward_weight>) \
      ->UseRealTime()                                             \
      ->Unit(benchmark::kMillisecond);
NABLA_DIRECT_BENCH(kLenetC1)
NABLA_DIRECT_BENCH(kLenetC2)
NABLA_DIRECT_BENCH(kConvnetC1)
NABLA_DIRECT_BENCH(kConvnetC2)
NABLA_DIRECT_BENCH(kConvnetC4)
NABLA_DIRECT_BENCH(kVgg128)
NABLA_DIRECT_BENCH(kNarrow8)
NABLA_DIRECT_BENCH(kNarrow16)
NABLA_DIRECT_BENCH(kDownS2)
#undef NABLA_DIRECT_BENCH
NABLA_CONV_BENCH(kConvnetC1)
NABLA_CONV_BENCH(kVgg64)
NABLA_CONV_BENCH(kVgg128)
NABLA_CONV_BENCH(kDownS2)
NABLA_CONV_BENCH(kConvnetC2)
NABLA_CONV_BENCH(kConvnetC4)
NABLA_CONV_BENCH(kNarrow8)
NABLA_CONV_BENCH(kNarrow16)
#undef NABLA_CONV_BENCH

// The reference loops, on the smallest configuration only (they are 1-2 orders slower).
BENCHMARK(BM_conv2d_fwd_bwd<kLenetC2, true>)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
