// dropout: identity outside training, inverted scaling of the survivors, the drop rate, one
// mask per seed, a gradient equal to the mask, and the bounds on p. Gradchecks are registered in
// tests/ops/conv_gradcheck.cpp (PyTorch's random stream differs, so there is no fixture).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nabla/ops.h"

namespace nabla {
namespace {

TEST(DropoutTest, EvaluationAndZeroProbabilityAreTheIdentity) {
  Generator gen(1);
  Tensor x = Tensor::randn({3, 4}, gen);
  EXPECT_TRUE(dropout(x, 0.5, /*training=*/false, gen).shares_storage(x));
  EXPECT_TRUE(dropout(x, 0.0, /*training=*/true, gen).shares_storage(x));
}

TEST(DropoutTest, SurvivorsAreScaledAndTheRestZeroed) {
  Generator gen(2);
  const int64_t n = 20000;
  const double p = 0.3;
  Tensor x = Tensor::uniform({n}, 1.0, 2.0, gen, kFloat64);
  Tensor y = dropout(x, p, true, gen);
  std::vector<double> xv = x.to_vector(), yv = y.to_vector();
  int64_t dropped = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (yv[i] == 0) {
      ++dropped;
    } else {
      EXPECT_NEAR(yv[i], xv[i] / (1 - p), 1e-15);
    }
  }
  // Binomial(n, p): standard deviation sqrt(n·p·(1-p)) ≈ 65; allow 5 of them.
  EXPECT_NEAR(static_cast<double>(dropped), p * n, 5 * std::sqrt(n * p * (1 - p)));
  // Inverted dropout keeps the expectation: the means agree to a few standard errors.
  EXPECT_NEAR(y.mean().item(), x.mean().item(), 0.02);
}

TEST(DropoutTest, OneSeedGivesOneMask) {
  Tensor x = Tensor::ones({5, 7});
  Generator a(42), b(42), c(43);
  EXPECT_EQ(dropout(x, 0.5, true, a).to_vector(), dropout(x, 0.5, true, b).to_vector());
  EXPECT_NE(dropout(x, 0.5, true, a).to_vector(), dropout(x, 0.5, true, c).to_vector());
}

TEST(DropoutTest, GradientIsTheMask) {
  Generator gen(3);
  Tensor x = Tensor::uniform({4, 6}, 1.0, 2.0, gen, kFloat64).requires_grad_();
  Tensor y = dropout(x, 0.5, true, gen);
  y.sum().backward();
  std::vector<double> xv = x.to_vector(), yv = y.to_vector(), g = x.grad().to_vector();
  for (size_t i = 0; i < g.size(); ++i) EXPECT_DOUBLE_EQ(g[i], yv[i] / xv[i]);
  EXPECT_EQ(y.grad_fn_name(), "dropout");
}

TEST(DropoutTest, ProbabilityOneDropsEverything) {
  Generator gen(4);
  Tensor y = dropout(Tensor::ones({3, 3}), 1.0, true, gen);
  for (double v : y.to_vector()) EXPECT_EQ(v, 0.0);
}

TEST(DropoutTest, ProbabilityOutsideZeroOneIsRejected) {
  Generator gen(5);
  Tensor x = Tensor::ones({2});
  for (double p : {-0.1, 1.5}) {
    try {
      dropout(x, p, true, gen);
      ADD_FAILURE() << "p = " << p << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("dropout: probability p = "), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace nabla
