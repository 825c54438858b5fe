// Gradient clipping by norm (optim/clip_grad.h) against numbers worked out by hand, with
// torch.nn.utils.clip_grad_norm_'s rule: scale = max_norm / (total_norm + 1e-6) when below 1.
#include "nabla/optim/clip_grad.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nabla::optim {
namespace {

struct Params {
  Tensor a = Tensor::zeros({2}).requires_grad_();
  Tensor b = Tensor::zeros({1, 1}).requires_grad_();
  Tensor unused = Tensor::zeros({3}).requires_grad_();  // no gradient: skipped
  Params(float a0, float a1, float b0) {
    a.set_grad(Tensor::from_vector(std::vector<float>{a0, a1}, {2}));
    b.set_grad(Tensor::from_vector(std::vector<float>{b0}, {1, 1}));
  }
  std::vector<Tensor> all() const { return {a, b, unused}; }
};

TEST(ClipGradNorm, ScalesTheWholeVectorToMaxNormAndReturnsTheNormBefore) {
  Params p(3, 4, 12);  // ‖(3, 4, 12)‖ = 13
  EXPECT_DOUBLE_EQ(grad_norm(p.all()), 13.0);
  EXPECT_DOUBLE_EQ(clip_grad_norm(p.all(), 6.5), 13.0);
  const double scale = 6.5 / (13.0 + 1e-6);
  EXPECT_FLOAT_EQ(p.a.grad().to_vector()[0], static_cast<float>(3 * scale));
  EXPECT_FLOAT_EQ(p.a.grad().to_vector()[1], static_cast<float>(4 * scale));
  EXPECT_FLOAT_EQ(p.b.grad().to_vector()[0], static_cast<float>(12 * scale));
  EXPECT_NEAR(grad_norm(p.all()), 6.5, 1e-5);
  EXPECT_FALSE(p.unused.grad().defined());
}

TEST(ClipGradNorm, LeavesGradientsBelowTheLimitAlone) {
  Params p(3, 4, 12);
  EXPECT_DOUBLE_EQ(clip_grad_norm(p.all(), 13.5), 13.0);
  EXPECT_EQ(p.a.grad().to_vector(), (std::vector<double>{3, 4}));
  EXPECT_EQ(p.b.grad().to_vector(), (std::vector<double>{12}));
}

TEST(ClipGradNorm, InfinityNormUsesTheLargestMagnitude) {
  Params p(3, -20, 12);
  EXPECT_DOUBLE_EQ(clip_grad_norm(p.all(), 10, INFINITY), 20.0);
  EXPECT_FLOAT_EQ(p.a.grad().to_vector()[1], static_cast<float>(-20 * (10 / (20 + 1e-6))));
}

TEST(ClipGradNorm, ANonFiniteNormIsReturnedAndNothingIsScaled) {
  Params p(3, NAN, 12);
  EXPECT_TRUE(std::isnan(clip_grad_norm(p.all(), 1.0)));
  EXPECT_EQ(p.b.grad().to_vector(), (std::vector<double>{12}));
  Params q(3, INFINITY, 12);
  EXPECT_EQ(clip_grad_norm(q.all(), 1.0), INFINITY);
  EXPECT_TRUE(std::isnan(grad_norm(p.all(), INFINITY)));
}

TEST(ClipGradNorm, BadArgumentsAreNamed) {
  Params p(1, 1, 1);
  try {
    clip_grad_norm(p.all(), 0);
    FAIL() << "max_norm 0 accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "clip_grad_norm: max_norm must be > 0, got 0");
  }
  EXPECT_THROW(clip_grad_norm(p.all(), 1, 1), Error);
}

}  // namespace
}  // namespace nabla::optim
