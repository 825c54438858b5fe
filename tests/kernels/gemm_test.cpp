// cpu::gemm's fast kernels against cpu::gemm_naive, the reference loop: every compiled kernel
// this CPU can run (including the AVX-512 kernel's logic compiled for AVX2), all four transpose
// combinations, ragged edges of every blocking level, padded leading dimensions, alpha and beta
// (beta = 0 over a C full of NaN), float and double; and bitwise-equal results for any thread
// count.
#include "kernels/cpu/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/isa.h"
#include "nabla/error.h"
#include "nabla/random.h"
#include "nabla/tensor.h"
#include "nabla/threads.h"
#include "test_util.h"

namespace nabla {
namespace {

using cpu::GemmKernel;

using testing::ThreadCount;

std::vector<GemmKernel> runnable_kernels() {
  std::vector<GemmKernel> kernels;
  for (GemmKernel k : {GemmKernel::generic, GemmKernel::avx2, GemmKernel::avx512,
                       GemmKernel::avx512_logic_on_avx2})
    if (cpu::gemm_kernel_supported(k)) kernels.push_back(k);
  return kernels;
}

struct Case {
  bool trans_a, trans_b;
  int64_t M, N, K;
  double alpha, beta;
};

// Stored operands for one case: A is M×K (K×M when transposed), B is K×N (N×K), each row padded
// so that the leading dimensions differ from the logical widths.
template <class T>
struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<T> A, B, C0;

  Operands(const Case& c, uint64_t seed) {
    Generator gen(seed);
    const int64_t a_rows = c.trans_a ? c.K : c.M, a_cols = c.trans_a ? c.M : c.K;
    const int64_t b_rows = c.trans_b ? c.N : c.K, b_cols = c.trans_b ? c.K : c.N;
    lda = a_cols + 3;
    ldb = b_cols + 1;
    ldc = c.N + 5;
    A = random(a_rows * lda, gen);
    B = random(b_rows * ldb, gen);
    C0 = random(c.M * ldc, gen);
    if (c.beta == 0)  // C must not be read: NaN would leak into every element
      for (T& x : C0) x = std::numeric_limits<T>::quiet_NaN();
  }
  static std::vector<T> random(int64_t n, Generator& gen) {
    std::vector<T> v(static_cast<size_t>(n));
    for (T& x : v) x = static_cast<T>(gen.uniform(-1, 1));
    return v;
  }
};

std::string describe(const Case& c) {
  return ::testing::PrintToString(c.trans_a) + " " + ::testing::PrintToString(c.trans_b) + " M " +
         std::to_string(c.M) + " N " + std::to_string(c.N) + " K " + std::to_string(c.K) +
         " alpha " + std::to_string(c.alpha) + " beta " + std::to_string(c.beta);
}

// Runs `fast` (a call with gemm's arguments after the kernel) and gemm_naive on one case and
// checks the error against a bound that grows with K (operands lie in [-1, 1]).
template <class T, class Fast>
void check_case(const Case& c, Fast fast) {
  SCOPED_TRACE(describe(c));
  Operands<T> op(c, uint64_t(c.M * 7919 + c.N * 131 + c.K));
  std::vector<T> got = op.C0, want = op.C0;
  const T alpha = T(c.alpha), beta = T(c.beta);
  fast(c.trans_a, c.trans_b, c.M, c.N, c.K, alpha, op.A.data(), op.lda, op.B.data(), op.ldb, beta,
       got.data(), op.ldc);
  cpu::gemm_naive<T>(c.trans_a, c.trans_b, c.M, c.N, c.K, alpha, op.A.data(), op.lda, op.B.data(),
                     op.ldb, beta, want.data(), op.ldc);
  const double eps = std::numeric_limits<T>::epsilon();
  const double tol = 4 * eps * double(c.K + 2) * std::max({1.0, std::abs(c.alpha), c.beta});
  double worst = 0;
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) {
      const double d = std::abs(double(got[i * op.ldc + j]) - double(want[i * op.ldc + j]));
      worst = std::isnan(d) ? std::numeric_limits<double>::infinity() : std::max(worst, d);
    }
  EXPECT_LE(worst, tol);
  // The padding between rows of C is never written (NaN compared bitwise).
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = c.N; j < op.ldc; ++j)
      ASSERT_EQ(std::memcmp(&got[i * op.ldc + j], &op.C0[i * op.ldc + j], sizeof(T)), 0);
}

// Shapes that hit every edge: 1s, primes, sizes just past the register tiles (6×16, 12×32), the
// short tiles' heights left over (20 rows: 12 + 8; 10 rows: 6 + 4; batches of 64 rows: 60 + 4
// with either tile height, and of 32: 24 + 8 with 12, 30 + 2 with 6), the cache blocks (AVX2 and
// SSE2: KC 256, MC 144, NC 4096; AVX-512: KC 384 floats or 192 doubles, MC 1536, NC 384, with B
// packed only past 48 rows), the K-split paths (small C, K ≥ 4096; C of at most 64K elements,
// op(B) = B and K ≥ 256: 13×33×257, 150×131×300, 97×61×601) and A·Bᵀ as dot products (one
// row, and up to 64 rows from K = 384: rows not of 4, columns not of 3, 4 or 8, K not a whole
// number of vectors).
std::vector<Case> shapes() {
  std::vector<Case> cases;
  const int64_t dims[][3] = {
      {1, 1, 1},      {1, 37, 5},     {29, 1, 17},    {5, 7, 1},       {6, 16, 8},
      {12, 32, 9},    {13, 33, 257},  {67, 45, 129},  {150, 131, 300}, {7, 4100, 3},
      {97, 61, 601},  {5, 7, 5000},   {33, 31, 4100}, {2, 300, 40},    {300, 2, 40},
      {49, 389, 386}, {1540, 40, 20}, {20, 70, 33},   {10, 40, 19},    {1, 203, 1003},
      {64, 96, 50},   {32, 64, 30},   {64, 130, 400}, {3, 50, 500},    {23, 17, 777}};
  const double scales[][2] = {{1, 0}, {-0.5, 0.75}, {2, 1}};
  int pick = 0;
  for (auto& d : dims)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        auto& s = scales[pick++ % 3];
        cases.push_back({ta, tb, d[0], d[1], d[2], s[0], s[1]});
      }
  return cases;
}

template <class T>
void check_every_kernel() {
  for (GemmKernel kernel : runnable_kernels()) {
    SCOPED_TRACE(cpu::gemm_kernel_name(kernel));
    for (const Case& c : shapes())
      check_case<T>(c, [&](auto... args) { cpu::gemm_with<T>(kernel, args...); });
  }
}

TEST(Gemm, EveryKernelMatchesNaiveFloat) {
  check_every_kernel<float>();
}

TEST(Gemm, EveryKernelMatchesNaiveDouble) {
  check_every_kernel<double>();
}

TEST(Gemm, PublicEntryMatchesNaive) {
  // gemm itself: its small-size loop and the kernel the CPU was given.
  for (const Case& c : shapes()) {
    check_case<float>(c, cpu::gemm<float>);
    check_case<double>(c, cpu::gemm<double>);
  }
}

TEST(Gemm, SharedBPathMatchesNaive) {
  // Products large enough for AVX-512's shared B (cpu::gemm's run_shared_b), on 1 thread (more
  // rows than one block of A) and 2, every transpose, ragged tiles.
  for (int threads : {1, 2}) {
    ThreadCount tc(threads);
    for (GemmKernel kernel : runnable_kernels()) {
      SCOPED_TRACE(cpu::gemm_kernel_name(kernel));
      for (const Case& c :
           {Case{false, false, 1550, 40, 560, 1, 0}, Case{true, true, 1543, 45, 500, -0.5, 0.75}})
        check_case<float>(c, [&](auto... args) { cpu::gemm_with<float>(kernel, args...); });
    }
  }
}

// check(kernel, c, T{}) for float and double, every case and runnable kernel, on 1 and 2 threads.
template <class Check>
void on_every_kernel_and_thread_count(const std::vector<Case>& cases, Check check) {
  for (int threads : {1, 2}) {
    ThreadCount tc(threads);
    for (GemmKernel kernel : runnable_kernels()) {
      SCOPED_TRACE(cpu::gemm_kernel_name(kernel) + std::string(" on ") + std::to_string(threads) +
                   " threads");
      for (const Case& c : cases) check(kernel, c, float{}), check(kernel, c, double{});
    }
  }
}

// gemm_packed_a on A packed once by gemm_pack_a: against the naive loop on every shape, and bit
// for bit against gemm_with wherever that does not split K (gemm_k_pieces), on 1 and 2 threads
// (the packed path splits only C's columns).
template <class T>
void check_packed_a(GemmKernel kernel, const Case& c) {
  const auto packed = [&](bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
    std::vector<T> a(static_cast<size_t>(cpu::gemm_packed_a_size<T>(kernel, M, K)));
    cpu::gemm_pack_a<T>(kernel, ta, M, K, A, lda, a.data());
    cpu::gemm_packed_a<T>(kernel, M, N, K, alpha, a.data(), tb, B, ldb, beta, C, ldc);
  };
  check_case<T>(c, packed);
  // gemm_with's own orders for these (K cut into pieces; A·Bᵀ as dot products).
  if (cpu::gemm_k_pieces(c.trans_b, c.M, c.N, c.K) > 1 ||
      cpu::gemm_dot_products<T>(kernel, c.trans_a, c.trans_b, c.M, c.K))
    return;
  SCOPED_TRACE(describe(c));
  Operands<T> op(c, 5);
  std::vector<T> got = op.C0, want = op.C0;
  packed(c.trans_a, c.trans_b, c.M, c.N, c.K, T(c.alpha), op.A.data(), op.lda, op.B.data(), op.ldb,
         T(c.beta), got.data(), op.ldc);
  cpu::gemm_with<T>(kernel, c.trans_a, c.trans_b, c.M, c.N, c.K, T(c.alpha), op.A.data(), op.lda,
                    op.B.data(), op.ldb, T(c.beta), want.data(), op.ldc);
  EXPECT_EQ(std::memcmp(got.data(), want.data(), sizeof(T) * got.size()), 0);
}

// The bound workspaces are sized by before a kernel is chosen covers every kernel's packed A.
TEST(Gemm, PackedABoundCoversEveryKernel) {
  for (GemmKernel kernel : {GemmKernel::generic, GemmKernel::avx2, GemmKernel::avx512,
                            GemmKernel::avx512_logic_on_avx2})
    for (const auto& [M, K] :
         {std::pair<int64_t, int64_t>{1, 1}, {5, 7}, {64, 192}, {128, 64}, {130, 67}, {1000, 3}}) {
      SCOPED_TRACE(cpu::gemm_kernel_name(kernel));
      for (const auto& [m, k] : {std::pair{M, K}, std::pair{K, M}}) {
        EXPECT_LE(cpu::gemm_packed_a_size<float>(kernel, m, k), cpu::gemm_packed_a_bound(M, K));
        EXPECT_LE(cpu::gemm_packed_a_size<double>(kernel, m, k), cpu::gemm_packed_a_bound(M, K));
      }
    }
}

TEST(Gemm, PackedAMatchesGemmWith) {
  std::vector<Case> cases = shapes();
  cases.push_back({false, false, 128, 130, 128, 1, 0});   // Winograd's per-step product
  cases.push_back({true, false, 1600, 70, 400, 1, 0.5});  // two blocks of MC rows, two K slices
  on_every_kernel_and_thread_count(cases, [](GemmKernel kernel, const Case& c, auto t) {
    check_packed_a<decltype(t)>(kernel, c);
  });
}

// gemm_packed_ab on B in GemmPanelsB's layout: each element put at offset(k, n) one by one (the
// layout a producer writes), the same as gemm_pack_b's, and the product bit for bit
// gemm_packed_a's on the same operands, on 1 and 2 threads.
template <class T>
void check_packed_ab(GemmKernel kernel, const Case& c) {
  SCOPED_TRACE(describe(c));
  Operands<T> op(c, 7);
  const auto b_at = [&](int64_t k, int64_t n) {
    return c.trans_b ? op.B[size_t(n * op.ldb + k)] : op.B[size_t(k * op.ldb + n)];
  };
  const cpu::GemmPanelsB layout = cpu::gemm_panels_b<T>(kernel, c.K, c.N);
  ASSERT_LE(layout.size(), cpu::gemm_panels_b_bound(c.K, c.N));
  std::vector<T> by_offset(size_t(layout.size()), T(7)), packed(size_t(layout.size()), T(7));
  for (int64_t k = 0; k < c.K; ++k)
    for (int64_t n = 0; n < c.N; ++n)
      by_offset[size_t(layout.row(k) + layout.column(n))] = b_at(k, n);
  layout.zero_padding(by_offset.data());
  cpu::gemm_pack_b<T>(kernel, c.trans_b, c.K, c.N, op.B.data(), op.ldb, packed.data());
  EXPECT_EQ(by_offset, packed);
  std::vector<T> a(size_t(cpu::gemm_packed_a_size<T>(kernel, c.M, c.K)));
  cpu::gemm_pack_a<T>(kernel, c.trans_a, c.M, c.K, op.A.data(), op.lda, a.data());
  std::vector<T> got = op.C0, want = op.C0;
  cpu::gemm_packed_ab<T>(kernel, c.M, c.N, c.K, T(c.alpha), a.data(), packed.data(), T(c.beta),
                         got.data(), op.ldc);
  cpu::gemm_packed_a<T>(kernel, c.M, c.N, c.K, T(c.alpha), a.data(), c.trans_b, op.B.data(), op.ldb,
                        T(c.beta), want.data(), op.ldc);
  EXPECT_EQ(std::memcmp(got.data(), want.data(), sizeof(T) * got.size()), 0);
}

TEST(Gemm, PackedABMatchesPackedA) {
  // Ragged tiles and panels, few rows (where gemm reads B in place), deep K in two to five
  // slices (the last shallower with 514 and 1100), the column Winograd's products, and a product
  // on both threads.
  const std::vector<Case> cases = {
      {false, false, 7, 5, 3, 1, 0},       {false, true, 13, 37, 29, 0.5, 0.25},
      {true, false, 20, 100, 70, -1, 1},   {false, false, 130, 77, 600, 1, 0},
      {true, true, 50, 45, 1100, 1, 0.5},  {false, false, 40, 70, 514, 1, 0},
      {false, false, 128, 512, 192, 1, 0}, {false, false, 192, 1024, 128, 1, 0}};
  on_every_kernel_and_thread_count(cases, [](GemmKernel kernel, const Case& c, auto t) {
    check_packed_ab<decltype(t)>(kernel, c);
  });
}

TEST(Gemm, DoubleIsAccurateEnoughForGradcheck) {
  // gradcheck compares float64 finite differences with backward, so the product must be good to
  // about 1e-14 relative, as a straightforward sum is.
  Operands<double> op({false, false, 64, 70, 500, 1, 0}, 5);
  std::vector<double> got(64 * op.ldc), want(64 * op.ldc);
  for (GemmKernel kernel : runnable_kernels()) {
    cpu::gemm_with<double>(kernel, false, false, 64, 70, 500, 1.0, op.A.data(), op.lda, op.B.data(),
                           op.ldb, 0.0, got.data(), op.ldc);
    cpu::gemm_naive<double>(false, false, 64, 70, 500, 1.0, op.A.data(), op.lda, op.B.data(),
                            op.ldb, 0.0, want.data(), op.ldc);
    double num = 0, den = 0;
    for (int64_t i = 0; i < 64; ++i)
      for (int64_t j = 0; j < 70; ++j) {
        num = std::max(num, std::abs(got[i * op.ldc + j] - want[i * op.ldc + j]));
        den = std::max(den, std::abs(want[i * op.ldc + j]));
      }
    EXPECT_LT(num / den, 1e-14) << cpu::gemm_kernel_name(kernel);
  }
}

// The same product on 1, 2 and 3 threads must agree bit for bit.
template <class T>
void check_thread_counts(GemmKernel kernel, const Case& c) {
  SCOPED_TRACE(describe(c));
  Operands<T> op(c, 11);
  std::vector<std::vector<T>> results;
  for (int threads : {1, 2, 3}) {
    ThreadCount tc(threads);
    std::vector<T> out = op.C0;
    cpu::gemm_with<T>(kernel, c.trans_a, c.trans_b, c.M, c.N, c.K, T(c.alpha), op.A.data(), op.lda,
                      op.B.data(), op.ldb, T(c.beta), out.data(), op.ldc);
    results.push_back(std::move(out));
  }
  for (size_t r = 1; r < results.size(); ++r)
    EXPECT_EQ(std::memcmp(results[0].data(), results[r].data(), sizeof(T) * results[0].size()), 0)
        << "1 thread vs " << r + 1;
}

TEST(Gemm, BitwiseIdenticalForAnyThreadCount) {
  const Case cases[] = {
      {false, false, 300, 260, 530, 1, 0},    // square-ish: split over rows and columns
      {true, true, 300, 290, 400, 1, 0.5},    // AVX-512's shared B on 2 and 3 threads, transposed
      {false, false, 100, 400, 390, 1, 0.5},  // past AVX-512's NC and KC: blocks of B and K
      {false, false, 6, 5000, 25, 1, 0},      // conv1 forward: one row strip, split over columns
      {true, false, 25, 3001, 6, 1, 0.5},     // conv1 input gradient
      {false, true, 6, 25, 9000, 1, 1},       // conv1 weight gradient: K split
      {false, true, 64, 120, 400, 1, 1},      // a linear layer: dot products, rows split
      {false, true, 50, 77, 500, 1, 0.5},     // the same with rows and columns left over
      {false, true, 64, 120, 200, 1, 1},      // a shallow one: block()
      {true, false, 120, 400, 64, -1, 0.25},  // its weight gradient
      {false, true, 1, 250, 3136, 1, 0},      // a batch-1 Linear: dot products, columns split
      {false, false, 64, 256, 256, 1, 0},     // the MLP's input gradient dY·W: K in 2 pieces
      {true, false, 48, 100, 390, -1, 0.5}    // 3 pieces, columns not whole lines, transposed A
  };
  for (GemmKernel kernel : runnable_kernels()) {
    SCOPED_TRACE(cpu::gemm_kernel_name(kernel));
    for (const Case& c : cases) {
      check_thread_counts<float>(kernel, c);
      check_thread_counts<double>(kernel, c);
    }
  }
}

// The dot-product path splits C's columns between threads when its rows are whole cache lines
// (a Linear's output tensor), its rows otherwise: both give the naive product, bit for bit the
// same on 1, 2 and 3 threads.
TEST(Gemm, DotProductsSplitEitherWayIsBitwiseTheSame) {
  const int64_t M = 22, N = 100, K = 450;
  for (int64_t ldc : {int64_t{112}, int64_t{101}}) {  // whole lines of floats; not
    SCOPED_TRACE("ldc " + std::to_string(ldc));
    Generator gen(3);
    std::vector<float> a(M * K), b(N * K);
    for (float& x : a) x = float(gen.uniform(-1, 1));
    for (float& x : b) x = float(gen.uniform(-1, 1));
    // C in a Tensor's storage, 64-byte aligned as a Linear's output is.
    Tensor out = Tensor::zeros({M * ldc});
    float* c = out.data<float>();
    std::vector<float> want(size_t(M * ldc));
    cpu::gemm_naive<float>(false, true, M, N, K, 1.0f, a.data(), K, b.data(), K, 0.0f, want.data(),
                           ldc);
    for (GemmKernel kernel : runnable_kernels()) {
      SCOPED_TRACE(cpu::gemm_kernel_name(kernel));
      ASSERT_TRUE(cpu::gemm_dot_products<float>(kernel, false, true, M, K));
      std::vector<float> first;
      for (int threads : {1, 2, 3}) {
        ThreadCount tc(threads);
        cpu::gemm_with<float>(kernel, false, true, M, N, K, 1.0f, a.data(), K, b.data(), K, 0.0f, c,
                              ldc);
        std::vector<float> got(c, c + M * ldc);
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j)
            ASSERT_NEAR(got[i * ldc + j], want[i * ldc + j], 1e-4) << i << ", " << j;
        if (threads == 1)
          first = got;
        else
          EXPECT_EQ(std::memcmp(first.data(), got.data(), sizeof(float) * size_t(M * ldc)), 0)
              << threads << " threads";
      }
    }
  }
}

TEST(Gemm, SharedBInChunksOfColumnsIsBitwiseTheSame) {
  // A B too wide for one packed slice (past 4 MiB: 2688 columns of 384-deep float slices) is
  // shared in chunks of columns on 2 threads; 1 thread computes it in block().
  const Case c{false, false, 192, 2700, 384, 1, 0.5};
  for (GemmKernel kernel : {GemmKernel::avx512, GemmKernel::avx512_logic_on_avx2}) {
    if (!cpu::gemm_kernel_supported(kernel)) continue;
    SCOPED_TRACE(cpu::gemm_kernel_name(kernel));
    check_thread_counts<float>(kernel, c);
  }
}

TEST(Gemm, FollowsTheActiveInstructionSet) {
  // gemm runs the kernel of active_isa(): under each ScopedIsa it matches that kernel bit for bit.
  const Case c{false, true, 70, 90, 300, 1, 0};
  Operands<float> op(c, 3);
  for (auto [isa, kernel] : {std::pair{cpu::Isa::generic, GemmKernel::generic},
                             std::pair{cpu::Isa::avx2, GemmKernel::avx2},
                             std::pair{cpu::Isa::avx512, GemmKernel::avx512}}) {
    if (!cpu::isa_supported(isa)) continue;
    std::vector<float> via_gemm = op.C0, direct = op.C0;
    {
      cpu::ScopedIsa scoped(isa);
      cpu::gemm<float>(c.trans_a, c.trans_b, c.M, c.N, c.K, 1.0f, op.A.data(), op.lda, op.B.data(),
                       op.ldb, 0.0f, via_gemm.data(), op.ldc);
    }
    cpu::gemm_with<float>(kernel, c.trans_a, c.trans_b, c.M, c.N, c.K, 1.0f, op.A.data(), op.lda,
                          op.B.data(), op.ldb, 0.0f, direct.data(), op.ldc);
    EXPECT_EQ(std::memcmp(via_gemm.data(), direct.data(), sizeof(float) * direct.size()), 0)
        << cpu::isa_name(isa);
  }
}

TEST(Gemm, UnsupportedKernelIsAnError) {
  if (cpu::gemm_kernel_supported(GemmKernel::avx512)) GTEST_SKIP() << "this CPU has AVX-512";
  float a = 1, b = 1, c = 0;
  EXPECT_THROW(cpu::gemm_with<float>(GemmKernel::avx512, false, false, 1, 1, 1, 1.0f, &a, 1, &b, 1,
                                     0.0f, &c, 1),
               Error);
}

TEST(Gemm, ZeroKScalesCByBeta) {
  std::vector<double> C = {1, 2, 3, 4};
  const double unused = 0;
  cpu::gemm<double>(false, false, 2, 2, 0, 1.0, &unused, 1, &unused, 2, 0.5, C.data(), 2);
  EXPECT_EQ(C, (std::vector<double>{0.5, 1, 1.5, 2}));
  for (GemmKernel kernel : runnable_kernels()) {
    std::vector<double> D = {1, 2, 3, 4};
    cpu::gemm_with<double>(kernel, false, false, 2, 2, 0, 1.0, &unused, 1, &unused, 2, 0.0,
                           D.data(), 2);
    EXPECT_EQ(D, (std::vector<double>{0, 0, 0, 0}));
  }
}

// gemm_bias_relu against its definition: C's rows filled with the bias, gemm with beta = 1 (0
// without a bias), then relu_forward over C; bit for bit, under every instruction set this CPU
// has, on 1, 2 and 3 threads, on a shape for each of gemm's paths. C is a Tensor's storage (64-byte
// aligned, as a Linear's output), so the dot products split by columns where rows are whole lines.
template <class T>
void check_bias_relu(const Case& c, bool with_bias, bool relu, int64_t ldc) {
  SCOPED_TRACE(describe(c) + " ldc " + std::to_string(ldc) + (with_bias ? " bias" : "") +
               (relu ? " relu" : ""));
  Operands<T> op(c, 23);
  Generator gen(29);
  const std::vector<T> bias = Operands<T>::random(c.N, gen);
  const T* b = with_bias ? bias.data() : nullptr;
  std::vector<T> want(size_t(c.M * ldc), T(7));
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) want[i * ldc + j] = with_bias ? bias[j] : T(-1);
  cpu::gemm<T>(c.trans_a, c.trans_b, c.M, c.N, c.K, T(1), op.A.data(), op.lda, op.B.data(), op.ldb,
               with_bias ? T(1) : T(0), want.data(), ldc);
  if (relu)
    for (int64_t i = 0; i < c.M; ++i) cpu::relu_forward(&want[i * ldc], &want[i * ldc], c.N);
  for (int threads : {1, 2, 3}) {
    ThreadCount tc(threads);
    Tensor out = Tensor::full({c.M * ldc}, 7.0, std::is_same_v<T, float> ? kFloat32 : kFloat64);
    T* got = out.data<T>();
    for (int64_t i = 0; i < c.M; ++i)
      std::fill(got + i * ldc, got + i * ldc + c.N, std::numeric_limits<T>::quiet_NaN());
    cpu::gemm_bias_relu<T>(c.trans_a, c.trans_b, c.M, c.N, c.K, op.A.data(), op.lda, op.B.data(),
                           op.ldb, b, relu, got, ldc);
    EXPECT_EQ(std::memcmp(got, want.data(), sizeof(T) * want.size()), 0) << threads << " threads";
  }
}

TEST(GemmBiasRelu, EqualsBiasFillGemmThenReluBitwise) {
  struct Path {
    Case c;
    int64_t ldc;
  };
  const Path paths[] = {
      {{false, true, 3, 5, 4, 1, 0}, 5},          // the triple loop (tiny)
      {{false, true, 64, 256, 784, 1, 0}, 256},   // the MLP's fc1: dot products by columns
      {{false, true, 50, 77, 500, 1, 0}, 77},     // dot products by rows (ragged lines)
      {{false, true, 64, 256, 256, 1, 0}, 256},   // the MLP's fc2: block(), split over threads
      {{false, true, 64, 10, 256, 1, 0}, 10},     // its output layer
      {{false, false, 5, 7, 5000, 1, 0}, 7},      // K split into pieces
      {{false, false, 64, 256, 256, 1, 0}, 256},  // a Linear's input gradient: pieces of B's rows
      {{false, false, 1550, 40, 560, 1, 0}, 41},  // AVX-512's shared B
      {{false, true, 1, 250, 3136, 1, 0}, 250}};  // batch 1: dot products by columns
  for (cpu::Isa isa : {cpu::Isa::generic, cpu::Isa::avx2, cpu::Isa::avx512}) {
    if (!cpu::isa_supported(isa)) continue;
    cpu::ScopedIsa scoped(isa);
    SCOPED_TRACE(cpu::isa_name(isa));
    for (const Path& path : paths)
      for (auto [with_bias, relu] : {std::pair{true, true}, {true, false}, {false, true}}) {
        check_bias_relu<float>(path.c, with_bias, relu, path.ldc);
        check_bias_relu<double>(path.c, with_bias, relu, path.ldc);
      }
  }
}

}  // namespace
}  // namespace nabla
