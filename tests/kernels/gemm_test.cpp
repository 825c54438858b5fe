// cpu::gemm (the BLAS path at these sizes) against cpu::gemm_naive, the reference loop: all four
// transpose combinations, padded leading dimensions, alpha and beta, float and double.
#include "kernels/cpu/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nabla/random.h"

namespace nabla {
namespace {

template <class T>
std::vector<T> random_values(int64_t n, Generator& gen) {
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(gen.uniform(-1, 1));
  return v;
}

template <class T>
void check_against_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                         T beta, double tol) {
  SCOPED_TRACE(testing::Message() << "trans_a " << trans_a << " trans_b " << trans_b << " M " << M
                                  << " N " << N << " K " << K << " alpha " << alpha << " beta "
                                  << beta);
  Generator gen(M * 1000 + N * 10 + K);
  // Stored shapes: A is M×K (K×M when transposed), B is K×N (N×K); each row padded by 3 so
  // that the leading dimension differs from the logical width.
  const int64_t a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
  const int64_t b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
  const int64_t lda = a_cols + 3, ldb = b_cols + 3, ldc = N + 3;
  std::vector<T> A = random_values<T>(a_rows * lda, gen), B = random_values<T>(b_rows * ldb, gen);
  std::vector<T> C0 = random_values<T>(M * ldc, gen);
  std::vector<T> fast = C0, reference = C0;
  cpu::gemm<T>(trans_a, trans_b, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, fast.data(),
               ldc);
  cpu::gemm_naive<T>(trans_a, trans_b, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta,
                     reference.data(), ldc);
  double worst = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      worst = std::max(worst, std::abs(static_cast<double>(fast[i * ldc + j]) -
                                       static_cast<double>(reference[i * ldc + j])));
  EXPECT_LT(worst, tol);
  // The padding between rows of C is never written.
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = N; j < ldc; ++j) ASSERT_EQ(fast[i * ldc + j], C0[i * ldc + j]);
}

TEST(Gemm, BlasMatchesNaiveForAllTransposesDouble) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_against_naive<double>(ta, tb, 67, 45, 129, 1.0, 0.0, 1e-11);
      check_against_naive<double>(ta, tb, 128, 96, 200, -0.5, 0.75, 1e-11);
    }
}

TEST(Gemm, BlasMatchesNaiveForAllTransposesFloat) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_against_naive<float>(ta, tb, 67, 45, 129, 1.0f, 0.0f, 1e-4);
      check_against_naive<float>(ta, tb, 150, 130, 257, 2.0f, 1.0f, 2e-4);
    }
}

TEST(Gemm, SmallAndDegenerateSizes) {
  // One of M, N, K is 1, yet each product is above the small-size cutoff: BLAS's vector edge cases.
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_against_naive<double>(ta, tb, 1, 300, 40, 1.0, 0.0, 1e-12);
      check_against_naive<double>(ta, tb, 300, 1, 40, 1.0, 0.5, 1e-12);
      check_against_naive<double>(ta, tb, 90, 100, 1, 1.0, 0.0, 1e-12);
    }
}

TEST(Gemm, ZeroKScalesCByBeta) {
  std::vector<double> C = {1, 2, 3, 4};
  const double unused = 0;
  cpu::gemm<double>(false, false, 2, 2, 0, 1.0, &unused, 1, &unused, 2, 0.5, C.data(), 2);
  EXPECT_EQ(C, (std::vector<double>{0.5, 1, 1.5, 2}));
}

}  // namespace
}  // namespace nabla
