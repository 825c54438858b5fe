// SGEMM: nabla's own kernel (cpu::gemm) and OpenBLAS (the baseline, when CMake found it) side by
// side in one run, on square n×n·n×n at n = 256 … 2048 and on the products LeNet-5 and the MLP
// train with at batch 64, at 1 and 2 threads; and the FMA peak (bench/fma_peak.h) that the
// `of_peak` column divides by. GFLOP/s = 2·M·N·K per call (`FLOPS` column).
//   build/bench/gemm_bench --benchmark_min_time=0.5
//   build/bench/gemm_bench --benchmark_filter='sgemm(_openblas)?/' --benchmark_repetitions=5
// NABLA_ISA=generic|avx2|avx512 picks nabla's kernel (default: the widest this CPU has).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>

#include "fma_peak.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "nabla/random.h"
#include "nabla/tensor.h"
#include "nabla/threads.h"

#ifdef NABLA_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

struct Shape {
  const char* name;
  bool trans_a, trans_b;
  int64_t M, N, K;
};

// The products of one training step at batch 64 (conv through im2col: a whole batch is one
// product; src/kernels/cpu/conv.cpp, src/ops/matmul.cpp).
const Shape kShapes[] = {
    {"lenet_conv1_fwd", false, false, 6, 50176, 25},
    {"lenet_conv1_dinput", true, false, 25, 50176, 6},
    {"lenet_conv1_dweight", false, true, 6, 25, 50176},
    {"lenet_conv2_fwd", false, false, 16, 6400, 150},
    {"lenet_conv2_dinput", true, false, 150, 6400, 16},
    {"lenet_conv2_dweight", false, true, 16, 150, 6400},
    {"lenet_fc1_fwd", false, true, 64, 120, 400},
    {"lenet_fc1_dinput", false, false, 64, 400, 120},
    {"lenet_fc1_dweight", true, false, 120, 400, 64},
    {"mlp_fc1_fwd", false, true, 64, 256, 784},
    {"mlp_fc1_dinput", false, false, 64, 784, 256},
    {"mlp_fc1_dweight", true, false, 256, 784, 64},
    {"mlp_fc2_fwd", false, true, 64, 256, 256},
    // Linear forwards (X·Wᵀ) beyond a batch of 64: LeNet-5's slices of 32, the convnet's
    // 3136-feature input (nn::infer's slices of 32 rows among them), inference at batch 256, and
    // the MLP's at 128 and 256.
    {"lenet_fc2_fwd", false, true, 64, 84, 120},
    {"lenet_slice_fc1_fwd", false, true, 32, 120, 400},
    {"convnet_fc1_fwd", false, true, 64, 256, 3136},
    {"convnet_fc1_fwd_b256", false, true, 256, 256, 3136},
    {"convnet_slice_fc1_fwd", false, true, 32, 256, 3136},
    {"mlp_fc1_fwd_b128", false, true, 128, 256, 784},
    {"mlp_fc1_fwd_b256", false, true, 256, 256, 784},
};

// In a Tensor's storage, 64-byte aligned as a model's operands are: a kernel that reads its
// operands in place (the dot-product path) would otherwise split every AVX-512 load across two
// cache lines.
nabla::Tensor random_values(int64_t n, uint64_t seed) {
  nabla::Generator gen(seed);
  nabla::Tensor m = nabla::Tensor::empty({n});
  float* v = m.data<float>();
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(gen.uniform(-1.0, 1.0));
  return m;
}

// Measured once per thread count, at the width the kernels run with (NABLA_ISA), then reused by
// every benchmark's of_peak counter.
double peak_gflops(int threads) {
  static std::map<int, double> cache;
  auto [it, fresh] = cache.try_emplace(threads, 0.0);
  if (fresh)
    it->second = fma_peak_gflops(threads, nabla::cpu::isa_vector_bits(nabla::cpu::active_isa()));
  return it->second;
}

using GemmFn = void (*)(const Shape&, const float*, const float*, float*);

void nabla_gemm(const Shape& s, const float* a, const float* b, float* c) {
  nabla::cpu::gemm<float>(s.trans_a, s.trans_b, s.M, s.N, s.K, 1.0f, a, s.trans_a ? s.M : s.K, b,
                          s.trans_b ? s.K : s.N, 0.0f, c, s.N);
}

#ifdef NABLA_BENCH_OPENBLAS
void openblas_gemm(const Shape& s, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans,
              s.trans_b ? CblasTrans : CblasNoTrans, int(s.M), int(s.N), int(s.K), 1.0f, a,
              int(s.trans_a ? s.M : s.K), b, int(s.trans_b ? s.K : s.N), 0.0f, c, int(s.N));
}
#endif

void run(benchmark::State& state, GemmFn gemm, const Shape& s, int threads) {
  nabla::set_num_threads(threads);
#ifdef NABLA_BENCH_OPENBLAS
  openblas_set_num_threads(threads);
#endif
  const double peak = peak_gflops(threads);
  nabla::Tensor a = random_values(s.M * s.K, 1), b = random_values(s.K * s.N, 2);
  nabla::Tensor c = nabla::Tensor::empty({s.M * s.N});
  for (auto _ : state) {
    gemm(s, a.data<float>(), b.data<float>(), c.data<float>());
    benchmark::DoNotOptimize(c.data<float>());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * double(s.M) * double(s.N) * double(s.K);
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
  state.counters["of_peak"] =
      benchmark::Counter(flops / (peak * 1e9), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(nabla::cpu::isa_name(nabla::cpu::active_isa()));
}

Shape square(int64_t n) {
  return {"square", false, false, n, n, n};
}

// Args: {n, threads} for the square products, {shape index, threads} for the training ones.
void BM_sgemm(benchmark::State& state) {
  run(state, nabla_gemm, square(state.range(0)), int(state.range(1)));
}
void BM_sgemm_shape(benchmark::State& state) {
  const Shape& s = kShapes[state.range(0)];
  state.SetLabel(s.name);
  run(state, nabla_gemm, s, int(state.range(1)));
  state.SetLabel(s.name);
}
#ifdef NABLA_BENCH_OPENBLAS
void BM_sgemm_openblas(benchmark::State& state) {
  run(state, openblas_gemm, square(state.range(0)), int(state.range(1)));
  state.SetLabel("openblas");
}
void BM_sgemm_shape_openblas(benchmark::State& state) {
  const Shape& s = kShapes[state.range(0)];
  run(state, openblas_gemm, s, int(state.range(1)));
  state.SetLabel(s.name);
}
#endif

void BM_sgemm_naive(benchmark::State& state) {
  const int64_t n = state.range(0);
  nabla::Tensor a = random_values(n * n, 1), b = random_values(n * n, 2);
  nabla::Tensor c = nabla::Tensor::empty({n * n});
  for (auto _ : state) {
    nabla::cpu::gemm_naive<float>(false, false, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(),
                                  n, 0.0f, c.data<float>(), n);
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * double(n) * double(n) * double(n),
                                               benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}

// The peak itself, as a benchmark row (FLOPS column) for the record.
void BM_fma_peak(benchmark::State& state) {
  double gflops = 0;
  for (auto _ : state)
    gflops =
        fma_peak_gflops(int(state.range(0)), nabla::cpu::isa_vector_bits(nabla::cpu::active_isa()));
  state.counters["FLOPS"] =
      benchmark::Counter(gflops * 1e9, benchmark::Counter::kDefaults, benchmark::Counter::kIs1000);
}

void square_args(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2})
    for (int n : {256, 512, 1024, 2048}) b->Args({n, threads});
}
void shape_args(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2})
    for (int i = 0; i < int(std::size(kShapes)); ++i) b->Args({i, threads});
}

// Wall time, not CPU time: both libraries compute on threads other than the timing one.
BENCHMARK(BM_fma_peak)->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();
BENCHMARK(BM_sgemm)->Apply(square_args)->UseRealTime()->Unit(benchmark::kMillisecond);
#ifdef NABLA_BENCH_OPENBLAS
BENCHMARK(BM_sgemm_openblas)->Apply(square_args)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif
BENCHMARK(BM_sgemm_shape)->Apply(shape_args)->UseRealTime()->Unit(benchmark::kMicrosecond);
#ifdef NABLA_BENCH_OPENBLAS
BENCHMARK(BM_sgemm_shape_openblas)->Apply(shape_args)->UseRealTime()->Unit(benchmark::kMicrosecond);
#endif
BENCHMARK(BM_sgemm_naive)->Arg(256)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
