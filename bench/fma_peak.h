// This CPU's single-precision peak, measured: independent chains of fused multiply-adds at the
// widest vector width the CPU has (AVX-512, else AVX2 + FMA, else SSE multiply + add), or at most
// `max_vector_bits` wide (256 gives AVX2's peak on an AVX-512 CPU, to compare a GEMM run with
// NABLA_ISA=avx2 against), on `threads` threads at once. A virtual machine's reported clock is not
// the clock it turbos to, so GEMM's GFLOP/s are given as a fraction of this number rather than of a
// computed one.
//   double peak = fma_peak_gflops(2);       // the widest vectors
//   double avx2 = fma_peak_gflops(2, 256);  // 256-bit vectors at most
// Header-only so that every benchmark program can include it; takes rounds × 4 ms.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace fma_peak_detail {

// More chains than FMA latency × FMA units on x86 cores (4 × 2), so the units never wait, yet
// few enough to stay in registers with the two constants (16 ymm or xmm, 32 zmm).
constexpr int kChainsNarrow = 12, kChainsAvx512 = 24;

template <int VB>
struct Vec {
  typedef float type __attribute__((vector_size(VB)));
};

// Each chain is x = x·m + a, which the compiler cannot shorten; returns a value that depends on
// all of them so the loop is not removed. 2 · lanes · chains FLOP per iteration. The chains are
// named variables, not an array: GCC kept an array of 24 vectors in memory and interchanged the
// two loops, running one chain at a time, so the "peak" was bound by FMA latency and store
// forwarding (on Zen 5 it measured 119 GFLOP/s per core, below the GEMM's 197).
#define NABLA_FMA_LO(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)
#define NABLA_FMA_HI(F) F(12) F(13) F(14) F(15) F(16) F(17) F(18) F(19) F(20) F(21) F(22) F(23)
#define NABLA_FMA_DECLARE(c) V x##c = V{} + (1.0f + 0.001f * float(c));
#define NABLA_FMA_STEP(c) x##c = x##c * m + a;
#define NABLA_FMA_SUM(c) sum += x##c;
#define NABLA_FMA_CHAINS_BODY(VB, kChains)          \
  typedef typename Vec<VB>::type V;                 \
  static_assert(kChains == 12 || kChains == 24);    \
  const V m = V{} + 0.999999f, a = V{} + 1e-7f;     \
  NABLA_FMA_LO(NABLA_FMA_DECLARE)                   \
  NABLA_FMA_HI(NABLA_FMA_DECLARE)                   \
  for (int64_t i = 0; i < iters; ++i) {             \
    NABLA_FMA_LO(NABLA_FMA_STEP)                    \
    if (kChains == 24) {                            \
      NABLA_FMA_HI(NABLA_FMA_STEP)                  \
    }                                               \
  }                                                 \
  V sum = V{};                                      \
  NABLA_FMA_LO(NABLA_FMA_SUM)                       \
  if (kChains == 24) {                              \
    NABLA_FMA_HI(NABLA_FMA_SUM)                     \
  }                                                 \
  float total = 0;                                  \
  for (int l = 0; l < VB / 4; ++l) total += sum[l]; \
  return total;

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) inline float chains_avx512(int64_t iters) {
  NABLA_FMA_CHAINS_BODY(64, kChainsAvx512)
}
__attribute__((target("avx2,fma"))) inline float chains_avx2(int64_t iters) {
  NABLA_FMA_CHAINS_BODY(32, kChainsNarrow)
}
#endif
inline float chains_baseline(int64_t iters) {
  NABLA_FMA_CHAINS_BODY(16, kChainsNarrow)
}
#undef NABLA_FMA_CHAINS_BODY
#undef NABLA_FMA_LO
#undef NABLA_FMA_HI
#undef NABLA_FMA_DECLARE
#undef NABLA_FMA_STEP
#undef NABLA_FMA_SUM

// FLOP per iteration of the widest loop this CPU runs with vectors of at most `max_bits`, and
// that loop.
inline int widest_flops_per_iter(int max_bits, float (**chains)(int64_t)) {
#if defined(__x86_64__) || defined(__i386__)
  if (max_bits >= 512 && __builtin_cpu_supports("avx512f"))
    return *chains = chains_avx512, 2 * 16 * kChainsAvx512;
  if (max_bits >= 256 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return *chains = chains_avx2, 2 * 8 * kChainsNarrow;
#endif
  return *chains = chains_baseline, 2 * 4 * kChainsNarrow;
}

}  // namespace fma_peak_detail

// How long each timed round of the probe runs. A GEMM's fastest call is taken over windows of
// consecutive calls at least this long (compare_nabla.cpp's and compare_torch.py's time_calls),
// so that both sides' best is over samples of the same length: the best of many short samples
// is faster than the best of fewer long ones on the same steady work, from timer and clock
// jitter alone (a 0.3 ms GEMM call once measured 103% of the best 1.7 ms probe round).
inline constexpr double kPeakRoundSeconds = 0.004;

// GFLOP/s of `threads` threads each running the chains: the best of `rounds` timed runs of about
// kPeakRoundSeconds (the iterations scaled from an untimed run), so that on a machine shared with
// other work one run that got the cores to itself is enough.
inline double fma_peak_gflops(int threads, int max_vector_bits = 512, int rounds = 15) {
  using namespace fma_peak_detail;
  float (*chains)(int64_t) = nullptr;
  const int flops_per_iter = widest_flops_per_iter(max_vector_bits, &chains);
  std::atomic<float> sink{0};
  int64_t iters = 200'000;
  {
    const auto start = std::chrono::steady_clock::now();
    sink.store(chains(iters));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    iters = std::max<int64_t>(1000,
                              int64_t(double(iters) * kPeakRoundSeconds / std::max(seconds, 1e-6)));
  }
  double best = 0;
  for (int round = 0; round < rounds; ++round) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    auto body = [&] {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      sink.store(chains(iters));
    };
    std::vector<std::thread> others;
    for (int t = 1; t < threads; ++t) others.emplace_back(body);
    while (ready.load() < threads - 1) std::this_thread::yield();
    ready.fetch_add(1);
    const auto start = std::chrono::steady_clock::now();
    go.store(true);
    sink.store(chains(iters));
    for (auto& t : others) t.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, double(flops_per_iter) * double(iters) * threads / seconds / 1e9);
  }
  return best;
}
