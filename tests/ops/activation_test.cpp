// Activation ops: forward values against formulas evaluated here in double, gradients through
// nabla::gradcheck (the registered cases plus a few compositions), stability at extreme inputs,
// and error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gradcheck_util.h"
#include "nabla/gradcheck.h"
#include "nabla/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

const std::vector<double> kSamples = {-30.0, -3.5, -1.0, -0.25, 0.0, 0.3, 1.0, 2.5, 40.0};

Tensor samples(DType dtype = kFloat64) {
  return Tensor::from_vector(kSamples, {3, 3}, dtype);
}

using nabla::testing::error_message;

void expect_elementwise(const Tensor& y, double (*formula)(double), double tol) {
  ASSERT_EQ(y.shape(), Shape({3, 3}));
  const std::vector<double> got = y.to_vector();
  for (size_t i = 0; i < kSamples.size(); ++i)
    EXPECT_NEAR(got[i], formula(kSamples[i]), tol) << "at x = " << kSamples[i];
}

TEST(ActivationTest, ElementwiseForwardMatchesFormulas) {
  for (DType dtype : {kFloat64, kFloat32}) {
    const double tol = dtype == kFloat64 ? 1e-14 : 1e-6;
    SCOPED_TRACE(dtype_name(dtype));
    expect_elementwise(
        sigmoid(samples(dtype)), [](double x) { return 1 / (1 + std::exp(-x)); }, tol);
    expect_elementwise(
        tanh(samples(dtype)), [](double x) { return std::tanh(x); }, tol);
    expect_elementwise(
        relu(samples(dtype)), [](double x) { return x > 0 ? x : 0.0; }, tol);
    expect_elementwise(
        leaky_relu(samples(dtype), 0.2), [](double x) { return x > 0 ? x : 0.2 * x; }, tol);
    expect_elementwise(
        leaky_relu(samples(dtype)), [](double x) { return x > 0 ? x : 0.01 * x; }, tol);
    expect_elementwise(
        elu(samples(dtype), 1.5), [](double x) { return x > 0 ? x : 1.5 * (std::exp(x) - 1); },
        tol);
  }
}

TEST(ActivationTest, SigmoidIsFiniteAndSaturatesAtHugeInputs) {
  for (DType dtype : {kFloat32, kFloat64}) {
    Tensor x = Tensor::from_vector({-1e4, -800.0, 800.0, 1e4}, {4}, dtype).requires_grad_();
    Tensor y = sigmoid(x);
    const std::vector<double> v = y.to_vector();
    EXPECT_EQ(v[0], 0.0);
    EXPECT_EQ(v[1], 0.0);
    EXPECT_EQ(v[2], 1.0);
    EXPECT_EQ(v[3], 1.0);
    y.sum().backward();
    for (double g : x.grad().to_vector()) EXPECT_EQ(g, 0.0);
  }
}

TEST(ActivationTest, ForwardReadsNonContiguousInput) {
  Tensor x = samples().t();  // a transposed view: strides (1, 3)
  const std::vector<double> got = sigmoid(x).to_vector();
  const std::vector<double> xs = x.contiguous().to_vector();
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_NEAR(got[i], 1 / (1 + std::exp(-xs[i])), 1e-14);
}

// softmax / log_softmax of x [2, 3, 4] along `dim`, element by element from the definition.
double softmax_at(const Tensor& x, int dim, std::vector<int64_t> at) {
  double total = 0, max_value = -INFINITY;
  for (int64_t k = 0; k < x.shape()[dim]; ++k) {
    std::vector<int64_t> idx = at;
    idx[dim] = k;
    max_value = std::max(max_value, x.at({idx[0], idx[1], idx[2]}));
  }
  for (int64_t k = 0; k < x.shape()[dim]; ++k) {
    std::vector<int64_t> idx = at;
    idx[dim] = k;
    total += std::exp(x.at({idx[0], idx[1], idx[2]}) - max_value);
  }
  return std::exp(x.at({at[0], at[1], at[2]}) - max_value) / total;
}

TEST(ActivationTest, SoftmaxAndLogSoftmaxMatchDefinitionAlongEveryDim) {
  Generator gen(7);
  Tensor x = Tensor::randn({2, 3, 4}, gen, kFloat64) * 3.0;
  for (int dim = 0; dim < 3; ++dim) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    Tensor s = softmax(x, dim);
    Tensor ls = log_softmax(x, dim - 3);  // the same dim, counted from the end
    ASSERT_EQ(s.shape(), x.shape());
    ASSERT_EQ(ls.shape(), x.shape());
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j)
        for (int64_t k = 0; k < 4; ++k) {
          const double expected = softmax_at(x, dim, {i, j, k});
          EXPECT_NEAR(s.at({i, j, k}), expected, 1e-14);
          EXPECT_NEAR(ls.at({i, j, k}), std::log(expected), 1e-13);
        }
    // Each slice along dim is a distribution.
    for (double total : sum(s, {dim}).to_vector()) EXPECT_NEAR(total, 1.0, 1e-14);
  }
}

TEST(ActivationTest, ExtremeLogitsGiveFiniteLogSoftmaxSoftmaxAndGradients) {
  for (DType dtype : {kFloat32, kFloat64}) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor x = Tensor::from_vector({1e4, -1e4, 0.0, -1e4, -1e4, 1e4}, {2, 3}, dtype);
    x.requires_grad_();
    Tensor ls = log_softmax(x, 1);
    const std::vector<double> v = ls.to_vector();
    const std::vector<double> expected = {0.0, -2e4, -1e4, -2e4, -2e4, 0.0};
    for (size_t i = 0; i < v.size(); ++i) {
      ASSERT_TRUE(std::isfinite(v[i])) << i;
      EXPECT_NEAR(v[i], expected[i], 1e-3) << i;
    }
    Tensor w = Tensor::from_vector({1.0, 2.0, 3.0, -1.0, 0.5, 2.0}, {2, 3}, dtype);
    (ls * w).sum().backward();
    for (double g : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
    // The winning logit of each row takes softmax ≈ 1: d/dx = w - Σw · softmax.
    EXPECT_NEAR(x.grad().at({0, 0}), 1.0 - 6.0, 1e-5);

    x.zero_grad();
    Tensor s = softmax(x, 1);
    for (double p : s.to_vector()) EXPECT_TRUE(std::isfinite(p));
    EXPECT_NEAR(s.at({0, 0}), 1.0, 1e-6);
    (s * w).sum().backward();
    for (double g : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
  }
}

TEST(ActivationTest, MaxoutTakesGroupMaxima) {
  // x (2, 6): pieces 2 -> groups {0,1}, {2,3}, {4,5}; pieces 3 -> {0,1,2}, {3,4,5}.
  Tensor x = Tensor::from_vector({1, 5, -2, -3, 4, 4.5, 0, -1, 7, 2, 3, 9}, {2, 6}, kFloat64);
  Tensor two = maxout(x, 2);
  ASSERT_EQ(two.shape(), Shape({2, 3}));
  const std::vector<double> xv = x.to_vector();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t f = 0; f < 3; ++f)
      EXPECT_EQ(two.at({n, f}), std::max(xv[n * 6 + 2 * f], xv[n * 6 + 2 * f + 1]));
  Tensor three = maxout(x, 3, -1);
  ASSERT_EQ(three.shape(), Shape({2, 2}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t f = 0; f < 2; ++f)
      EXPECT_EQ(three.at({n, f}),
                std::max({xv[n * 6 + 3 * f], xv[n * 6 + 3 * f + 1], xv[n * 6 + 3 * f + 2]}));
}

TEST(ActivationTest, MaxoutOverMiddleDimMatchesReshapeAndMax) {
  Generator gen(3);
  Tensor x = Tensor::randn({2, 6, 5}, gen, kFloat64);
  Tensor y = maxout(x, 3, 1);
  ASSERT_EQ(y.shape(), Shape({2, 2, 5}));
  // Independent route: split dim 1 into (features, pieces) and take max over pieces.
  Tensor expected = max(x.reshape({2, 2, 3, 5}), {2});
  const std::vector<double> a = y.to_vector(), b = expected.to_vector();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]);
}

TEST(ActivationTest, MaxoutGradientGoesToTheFirstMaximum) {
  Tensor x = Tensor::from_vector({2.0, 2.0, 1.0, 3.0}, {1, 4}, kFloat64).requires_grad_();
  maxout(x, 2).sum().backward();
  const std::vector<double> g = x.grad().to_vector();
  EXPECT_EQ(g, (std::vector<double>{1, 0, 0, 1}));
}

TEST(ActivationTest, GradientsAccumulateWhenAnInputIsUsedTwice) {
  Generator gen(11);
  Tensor x = Tensor::randn({3, 4}, gen, kFloat64);
  for (auto f : std::vector<TensorFn>{
           [](const std::vector<Tensor>& v) { return mul(sigmoid(v[0]), tanh(v[0])); },
           [](const std::vector<Tensor>& v) { return add(softmax(v[0], 0), log_softmax(v[0], 1)); },
           [](const std::vector<Tensor>& v) { return mul(elu(v[0]), v[0]); }}) {
    GradcheckResult r = gradcheck(f, {x});
    EXPECT_TRUE(r.passed) << r.str();
  }
}

TEST(ActivationTest, GradcheckOnNonContiguousInput) {
  Generator gen(5);
  Tensor x = Tensor::randn({4, 3}, gen, kFloat64);
  GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& v) { return softmax(v[0].t(), 1); }, {x});
  EXPECT_TRUE(r.passed) << r.str();
  r = gradcheck([](const std::vector<Tensor>& v) { return log_softmax(v[0].t(), 0); }, {x});
  EXPECT_TRUE(r.passed) << r.str();
}

// Every gradcheck case in activation_gradcheck.cpp passes.
TEST(ActivationTest, RegisteredGradcheckCasesPass) {
  testing::expect_family_gradchecks_pass("activation");
}

TEST(ActivationTest, BadArgumentsThrowWithShapes) {
  Tensor x = Tensor::zeros({3, 5});
  std::string msg = error_message([&] { softmax(x, 2); });
  EXPECT_NE(msg.find("softmax"), std::string::npos) << msg;
  msg = error_message([&] { log_softmax(x, -3); });
  EXPECT_NE(msg.find("log_softmax"), std::string::npos) << msg;
  msg = error_message([&] { maxout(x, 2); });
  EXPECT_NE(msg.find("maxout"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[3, 5]"), std::string::npos) << msg;
  msg = error_message([&] { maxout(x, 0, 0); });
  EXPECT_NE(msg.find("pieces"), std::string::npos) << msg;
}

}  // namespace
}  // namespace nabla
