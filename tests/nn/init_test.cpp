// nn::init: bounds and spread of each initialiser on a big tensor, fans, gains, determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nabla/nabla.h"

using namespace nabla;
using nn::init::FanMode;
using nn::init::Nonlinearity;

namespace {

struct Stats {
  double mean = 0, std = 0, max_abs = 0;
};

Stats stats_of(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  for (double x : v) {
    s.std += (x - s.mean) * (x - s.mean);
    s.max_abs = std::max(s.max_abs, std::abs(x));
  }
  s.std = std::sqrt(s.std / v.size());
  return s;
}

}  // namespace

TEST(Init, FansAndGains) {
  EXPECT_EQ(nn::init::calculate_fan_in_and_fan_out({40, 30}),
            (std::pair<int64_t, int64_t>(30, 40)));
  EXPECT_EQ(nn::init::calculate_fan_in_and_fan_out({6, 3, 5, 5}),
            (std::pair<int64_t, int64_t>(75, 150)));
  EXPECT_THROW(nn::init::calculate_fan_in_and_fan_out({7}), Error);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::Linear), 1.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::Sigmoid), 1.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::LeakyReLU), std::sqrt(2.0 / 1.0001));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::LeakyReLU, std::sqrt(5.0)),
                   std::sqrt(1.0 / 3.0));
}

TEST(Init, XavierUniformBoundAndStd) {
  Generator gen(1);
  Tensor w = Tensor::empty({300, 200});
  nn::init::xavier_uniform_(w, gen);
  double bound = std::sqrt(6.0 / 500.0);
  Stats s = stats_of(w);
  EXPECT_LE(s.max_abs, bound);
  EXPECT_GT(s.max_abs, 0.99 * bound);  // the draws reach the ends of the interval
  EXPECT_NEAR(s.std, bound / std::sqrt(3.0), 0.01 * bound);
  EXPECT_NEAR(s.mean, 0, 0.01 * bound);
  nn::init::xavier_uniform_(w, gen, 2.0);
  EXPECT_NEAR(stats_of(w).std, 2.0 * bound / std::sqrt(3.0), 0.02 * bound);
}

TEST(Init, XavierNormalStd) {
  Generator gen(2);
  Tensor w = Tensor::empty({300, 200}, kFloat64);
  nn::init::xavier_normal_(w, gen, 5.0 / 3.0);
  double expected = 5.0 / 3.0 * std::sqrt(2.0 / 500.0);
  Stats s = stats_of(w);
  EXPECT_NEAR(s.std, expected, 0.01 * expected);
  EXPECT_NEAR(s.mean, 0, 0.01 * expected);
}

TEST(Init, KaimingUniformUsesTheChosenFan) {
  Generator gen(3);
  Tensor w = Tensor::empty({100, 400});
  nn::init::kaiming_uniform_(w, gen);  // a = 0, leaky_relu: gain √2, fan_in 400
  double bound = std::sqrt(6.0 / 400.0);
  Stats s = stats_of(w);
  EXPECT_LE(s.max_abs, bound);
  EXPECT_NEAR(s.std, bound / std::sqrt(3.0), 0.01 * bound);
  nn::init::kaiming_uniform_(w, gen, 0, FanMode::FanOut, Nonlinearity::ReLU);
  double bound_out = std::sqrt(6.0 / 100.0);
  s = stats_of(w);
  EXPECT_LE(s.max_abs, bound_out);
  EXPECT_GT(s.max_abs, bound);  // fan_out = 100 gives a wider interval than fan_in = 400
  EXPECT_NEAR(s.std, bound_out / std::sqrt(3.0), 0.01 * bound_out);
}

TEST(Init, KaimingNormalStdOnAConvWeight) {
  Generator gen(4);
  Tensor w = Tensor::empty({64, 32, 3, 3});  // fan_in 288, fan_out 576
  nn::init::kaiming_normal_(w, gen, 0, FanMode::FanOut, Nonlinearity::ReLU);
  double expected = std::sqrt(2.0 / 576.0);
  EXPECT_NEAR(stats_of(w).std, expected, 0.02 * expected);
  nn::init::kaiming_normal_(w, gen, 0.2, FanMode::FanIn, Nonlinearity::LeakyReLU);
  expected = std::sqrt(2.0 / 1.04) / std::sqrt(288.0);
  EXPECT_NEAR(stats_of(w).std, expected, 0.02 * expected);
}

TEST(Init, SimpleFillers) {
  Generator gen(5);
  Tensor t = Tensor::empty({200, 100});
  nn::init::uniform_(t, gen, -2, 3);
  Stats s = stats_of(t);
  EXPECT_NEAR(s.mean, 0.5, 0.05);
  EXPECT_LE(s.max_abs, 3.0);
  nn::init::normal_(t, gen, 1.5, 0.25);
  s = stats_of(t);
  EXPECT_NEAR(s.mean, 1.5, 0.01);
  EXPECT_NEAR(s.std, 0.25, 0.01);
  nn::init::constant_(t, 0.75);
  s = stats_of(t);
  EXPECT_EQ(s.mean, 0.75);
  EXPECT_EQ(s.std, 0);
  nn::init::zeros_(t);
  EXPECT_EQ(stats_of(t).max_abs, 0);
}

TEST(Init, SameSeedSameNumbers) {
  Tensor a = Tensor::empty({8, 6}), b = Tensor::empty({8, 6}), c = Tensor::empty({8, 6});
  Generator g1(42), g2(42), g3(43);
  nn::init::xavier_uniform_(a, g1);
  nn::init::xavier_uniform_(b, g2);
  nn::init::xavier_uniform_(c, g3);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NE(a.to_vector(), c.to_vector());
}

TEST(Init, FillsParametersWithoutRecordingAndViewsInPlace) {
  Generator gen(6);
  Tensor p = Tensor::zeros({4, 6}).requires_grad_();
  nn::init::kaiming_uniform_(p, gen);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_GT(stats_of(p).max_abs, 0);
  // A view is filled in place: only the selected columns of its base change.
  Tensor base = Tensor::zeros({4, 6});
  nn::init::constant_(base.slice(1, 0, 2), 1.0);
  EXPECT_EQ(base.sum().item(), 8.0);
  EXPECT_THROW(nn::init::xavier_uniform_(Tensor::empty({5}), gen), Error);
}
