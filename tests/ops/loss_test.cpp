// Loss ops: forward values against formulas evaluated here in double for every Reduction,
// gradients through nabla::gradcheck (the registered cases), finiteness at extreme logits, and
// error messages for mismatched shapes and bad labels.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gradcheck_util.h"
#include "nabla/gradcheck.h"
#include "nabla/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

using nabla::testing::error_message;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using LossFn = Tensor (*)(const Tensor&, const Tensor&, Reduction);
using Formula = std::function<double(double, double)>;

// Checks a loss on (input, target) of shape [2, 3] against a per-element formula: None gives
// the element losses, Sum their total, Mean their average.
void expect_reductions(LossFn loss, const Tensor& input, const Tensor& target, Formula formula,
                       double tol) {
  const std::vector<double> x = input.to_vector(), t = target.to_vector();
  std::vector<double> expected;
  double total = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    expected.push_back(formula(x[i], t[i]));
    total += expected.back();
  }
  Tensor none = loss(input, target, Reduction::None);
  ASSERT_EQ(none.shape(), input.shape());
  const std::vector<double> got = none.to_vector();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "element " << i;
  Tensor summed = loss(input, target, Reduction::Sum);
  EXPECT_EQ(summed.dim(), 0);
  EXPECT_NEAR(summed.item(), total, tol * x.size());
  EXPECT_NEAR(loss(input, target, Reduction::Mean).item(), total / x.size(), tol);
}

Tensor t23(std::vector<double> v, DType dtype = kFloat64) {
  return Tensor::from_vector(v, {2, 3}, dtype);
}

TEST(LossTest, MseAndL1MatchFormulas) {
  Tensor x = t23({0.5, -1.0, 2.0, 3.0, 0.0, -2.5});
  Tensor t = t23({1.0, -1.0, -1.0, 2.5, 0.25, 1.0});
  expect_reductions(
      mse_loss, x, t, [](double a, double b) { return (a - b) * (a - b); }, 1e-15);
  expect_reductions(
      l1_loss, x, t, [](double a, double b) { return std::abs(a - b); }, 1e-15);
  // The default reduction is the mean, as in PyTorch.
  EXPECT_DOUBLE_EQ(mse_loss(x, t).item(), mse_loss(x, t, Reduction::Mean).item());
}

// Sum and Mean fold the element losses in one pass, and their backward multiplies the spread
// gradient in as it goes: the same bits as the ops they replaced (sum, then / count; a filled
// gradient tensor times the local derivative), in float32 where rounding shows.
TEST(LossTest, ReductionsAndTheirGradientsKeepTheBitsOfTheOps) {
  Generator gen(7);
  const Tensor x = Tensor::uniform({5, 7}, 0.05, 0.95, gen);
  const Tensor t = Tensor::uniform({5, 7}, 0.0, 1.0, gen);
  const double n = 35;
  for (LossFn loss : {LossFn(mse_loss), LossFn(l1_loss), LossFn(binary_cross_entropy)}) {
    const Tensor none = loss(x, t, Reduction::None);
    EXPECT_EQ(loss(x, t, Reduction::Sum).item(), sum(none).item());
    EXPECT_EQ(loss(x, t, Reduction::Mean).item(), (sum(none) / n).item());
  }
  for (Reduction r : {Reduction::Sum, Reduction::Mean}) {
    const Tensor g = Tensor::full({5, 7}, r == Reduction::Mean ? 1.0 / n : 1.0);
    Tensor xg = x.detach().requires_grad_();
    mse_loss(xg, t, r).backward();
    EXPECT_TRUE(equal(xg.grad(), g * ((x - t) * 2.0)));
    xg = x.detach().requires_grad_();
    binary_cross_entropy(xg, t, r).backward();
    EXPECT_TRUE(equal(xg.grad(), g * ((x - t) / (x * (1.0 - x)))));
  }
}

TEST(LossTest, BinaryCrossEntropyMatchesFormulaAndClampsLog) {
  Tensor p = t23({0.1, 0.5, 0.9, 0.25, 0.7, 0.999});
  Tensor t = t23({0.0, 1.0, 1.0, 0.3, 0.0, 1.0});
  expect_reductions(
      binary_cross_entropy, p, t,
      [](double pv, double tv) { return -(tv * std::log(pv) + (1 - tv) * std::log(1 - pv)); },
      1e-14);
  // log 0 would be -inf; PyTorch clamps each log at -100, so a confident miss costs 100.
  Tensor edge_p = Tensor::from_vector({0.0, 1.0, 1.0, 0.0}, {4}, kFloat64).requires_grad_();
  Tensor edge_t = Tensor::from_vector({1.0, 0.0, 1.0, 0.0}, {4}, kFloat64);
  Tensor losses = binary_cross_entropy(edge_p, edge_t, Reduction::None);
  EXPECT_EQ(losses.to_vector(), (std::vector<double>{100, 100, 0, 0}));
  binary_cross_entropy(edge_p, edge_t).backward();
  for (double g : edge_p.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
}

TEST(LossTest, BinaryCrossEntropyWithLogitsEqualsBceOfSigmoid) {
  Tensor z = t23({-3.0, -0.5, 0.0, 0.25, 1.5, 4.0});
  Tensor t = t23({0.0, 1.0, 0.5, 0.2, 1.0, 0.0});
  expect_reductions(
      binary_cross_entropy_with_logits, z, t,
      [](double zv, double tv) {
        const double p = 1 / (1 + std::exp(-zv));
        return -(tv * std::log(p) + (1 - tv) * std::log(1 - p));
      },
      1e-14);
}

TEST(LossTest, BinaryCrossEntropyWithLogitsIsFiniteAtExtremeLogits) {
  for (DType dtype : {kFloat32, kFloat64}) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor z = Tensor::from_vector({1e4, -1e4, 1e4, -1e4}, {4}, dtype).requires_grad_();
    Tensor t = Tensor::from_vector({1.0, 0.0, 0.0, 1.0}, {4}, dtype);
    Tensor losses = binary_cross_entropy_with_logits(z, t, Reduction::None);
    // Right and confident costs ~0; wrong and confident costs |z|.
    EXPECT_EQ(losses.to_vector(), (std::vector<double>{0, 0, 1e4, 1e4}));
    binary_cross_entropy_with_logits(z, t, Reduction::Sum).backward();
    // d/dz = sigmoid(z) - t: 0, 0, 1, -1.
    EXPECT_EQ(z.grad().to_vector(), (std::vector<double>{0, 0, 1, -1}));
  }
}

TEST(LossTest, CrossEntropyMatchesLogSumExpFormula) {
  Tensor logits = Tensor::from_vector(
      {1.0, 2.0, 0.5, -1.0, 0.0, 3.0, 2.0, 2.0, -4.0, 1.0, 0.0, 0.0}, {3, 4}, kFloat64);
  const std::vector<int64_t> labels = {1, 3, 0};
  std::vector<double> expected;
  for (int64_t n = 0; n < 3; ++n) {
    double total = 0;
    for (int64_t c = 0; c < 4; ++c) total += std::exp(logits.at({n, c}));
    expected.push_back(std::log(total) - logits.at({n, labels[n]}));
  }
  Tensor none = cross_entropy(logits, labels, Reduction::None);
  ASSERT_EQ(none.shape(), Shape({3}));
  for (int64_t n = 0; n < 3; ++n) EXPECT_NEAR(none.at({n}), expected[n], 1e-14);
  const double total = expected[0] + expected[1] + expected[2];
  EXPECT_NEAR(cross_entropy(logits, labels, Reduction::Sum).item(), total, 1e-14);
  EXPECT_NEAR(cross_entropy(logits, labels).item(), total / 3, 1e-14);
}

TEST(LossTest, CrossEntropyGradientIsSoftmaxMinusOneHotOverN) {
  Tensor logits = Tensor::from_vector({0.2, -0.3, 1.1, 0.0, 0.4, -2.0}, {2, 3}, kFloat64);
  logits.requires_grad_();
  const std::vector<int64_t> labels = {2, 0};
  cross_entropy(logits, labels).backward();
  for (int64_t n = 0; n < 2; ++n) {
    double total = 0;
    for (int64_t c = 0; c < 3; ++c) total += std::exp(logits.at({n, c}));
    for (int64_t c = 0; c < 3; ++c) {
      const double expected = (std::exp(logits.at({n, c})) / total - (c == labels[n])) / 2;
      EXPECT_NEAR(logits.grad().at({n, c}), expected, 1e-15);
    }
  }
}

TEST(LossTest, CrossEntropyIsFiniteAtExtremeLogits) {
  for (DType dtype : {kFloat32, kFloat64}) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor logits = Tensor::from_vector({1e4, -1e4, 0.0, -1e4, 1e4, 1e4}, {2, 3}, dtype);
    logits.requires_grad_();
    Tensor losses = cross_entropy(logits, {1, 0}, Reduction::None);
    // Row 0: the label's logit is 2e4 below the max; row 1: 2e4 below two tied maxima.
    EXPECT_NEAR(losses.at({0}), 2e4, 1e-2);
    EXPECT_NEAR(losses.at({1}), 2e4 + std::log(2.0), 1e-2);
    cross_entropy(logits, {1, 0}).backward();
    for (double g : logits.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
    EXPECT_NEAR(logits.grad().at({0, 0}), 0.5, 1e-6);   // softmax 1, over N = 2
    EXPECT_NEAR(logits.grad().at({0, 1}), -0.5, 1e-6);  // softmax 0 - 1
  }
}

// CS231n's svm_loss_naive: per sample, Σ_{j != y} max(0, s_j - s_y + margin).
double svm_naive(const Tensor& s, int64_t n, int64_t y, double margin) {
  double total = 0;
  for (int64_t j = 0; j < s.shape()[1]; ++j)
    if (j != y) total += std::max(0.0, s.at({n, j}) - s.at({n, y}) + margin);
  return total;
}

TEST(LossTest, MultiMarginLossMatchesSvmLossBothDivisions) {
  Tensor s = Tensor::from_vector({3.2, 5.1, -1.7, 1.3, 4.9, 2.0, 2.2, 2.5, -3.1, 0.4, 1.0, 0.9},
                                 {3, 4}, kFloat64);
  const std::vector<int64_t> labels = {0, 1, 3};
  for (double margin : {1.0, 0.3}) {
    std::vector<double> per_sample;
    for (int64_t n = 0; n < 3; ++n) per_sample.push_back(svm_naive(s, n, labels[n], margin));
    const double total = per_sample[0] + per_sample[1] + per_sample[2];
    Tensor none = multi_margin_loss(s, labels, margin, Reduction::None, false);
    ASSERT_EQ(none.shape(), Shape({3}));
    for (int64_t n = 0; n < 3; ++n) EXPECT_NEAR(none.at({n}), per_sample[n], 1e-14);
    // CS231n: mean over samples of the plain sum; PyTorch divides each sample by C as well.
    EXPECT_NEAR(multi_margin_loss(s, labels, margin, Reduction::Mean, false).item(), total / 3,
                1e-14);
    EXPECT_NEAR(multi_margin_loss(s, labels, margin).item(), total / 3 / 4, 1e-14);
    EXPECT_NEAR(multi_margin_loss(s, labels, margin, Reduction::Sum).item(), total / 4, 1e-14);
  }
}

TEST(LossTest, FloatAndDoubleAgree) {
  Generator gen(2);
  Tensor x = Tensor::randn({4, 5}, gen, kFloat64), t = Tensor::rand({4, 5}, gen, kFloat64);
  const std::vector<int64_t> labels = {4, 0, 2, 2};
  auto both = [&](const std::function<Tensor(const Tensor&, const Tensor&)>& f) {
    EXPECT_NEAR(f(x.to(kFloat32), t.to(kFloat32)).item(), f(x, t).item(), 1e-5);
  };
  both([](const Tensor& a, const Tensor& b) { return mse_loss(a, b); });
  both([](const Tensor& a, const Tensor& b) { return l1_loss(a, b); });
  both([](const Tensor& a, const Tensor& b) { return binary_cross_entropy(sigmoid(a), b); });
  both([](const Tensor& a, const Tensor& b) { return binary_cross_entropy_with_logits(a, b); });
  both([&](const Tensor& a, const Tensor&) { return cross_entropy(a, labels); });
  both([&](const Tensor& a, const Tensor&) { return multi_margin_loss(a, labels); });
}

// Every gradcheck case in loss_gradcheck.cpp passes.
TEST(LossTest, RegisteredGradcheckCasesPass) {
  testing::expect_family_gradchecks_pass("loss");
}

TEST(LossTest, MismatchedShapesNameTheOpAndBothShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 2});
  const std::vector<std::pair<std::string, std::function<void()>>> losses = {
      {"mse_loss", [&] { mse_loss(a, b); }},
      {"l1_loss", [&] { l1_loss(a, b); }},
      {"binary_cross_entropy", [&] { binary_cross_entropy(a, b); }},
      {"binary_cross_entropy_with_logits", [&] { binary_cross_entropy_with_logits(a, b); }},
  };
  for (const auto& [name, call] : losses) {
    const std::string msg = error_message(call);
    EXPECT_TRUE(contains(msg, name + ":")) << msg;
    EXPECT_TRUE(contains(msg, "[2, 3]")) << msg;
    EXPECT_TRUE(contains(msg, "[3, 2]")) << msg;
  }
  const std::string msg = error_message([&] { mse_loss(a, Tensor::zeros({2, 3}, kFloat64)); });
  EXPECT_TRUE(contains(msg, "mse_loss")) << msg;
  EXPECT_TRUE(contains(msg, "float64")) << msg;
}

TEST(LossTest, BadLabelsAreReportedWithValueAndPosition) {
  Tensor logits = Tensor::zeros({3, 4});
  for (const char* name : {"cross_entropy", "multi_margin_loss"}) {
    SCOPED_TRACE(name);
    auto call = [&](const Tensor& s, const std::vector<int64_t>& labels) {
      return [&, name, labels] {
        if (std::string(name) == "cross_entropy")
          cross_entropy(s, labels);
        else
          multi_margin_loss(s, labels);
      };
    };
    std::string msg = error_message(call(logits, {0, 3, 7}));
    EXPECT_TRUE(contains(msg, name)) << msg;
    EXPECT_TRUE(contains(msg, "label 7")) << msg;
    EXPECT_TRUE(contains(msg, "position 2")) << msg;
    EXPECT_TRUE(contains(msg, "[3, 4]")) << msg;
    msg = error_message(call(logits, {-1, 0, 0}));
    EXPECT_TRUE(contains(msg, "label -1")) << msg;
    EXPECT_TRUE(contains(msg, "position 0")) << msg;
    msg = error_message(call(logits, {0, 1}));  // N = 3 but 2 labels
    EXPECT_TRUE(contains(msg, "2 labels")) << msg;
    EXPECT_TRUE(contains(msg, "[3, 4]")) << msg;
    msg = error_message(call(Tensor::zeros({4}), {0}));
    EXPECT_TRUE(contains(msg, "2-d")) << msg;
  }
}

TEST(LossTest, BinaryCrossEntropyRejectsValuesOutsideZeroOne) {
  const std::string msg = error_message([] {
    binary_cross_entropy(Tensor::from_vector({0.5, 1.5}, {2}, kFloat64),
                         Tensor::from_vector({0.0, 1.0}, {2}, kFloat64));
  });
  EXPECT_TRUE(contains(msg, "binary_cross_entropy")) << msg;
  EXPECT_TRUE(contains(msg, "1.5")) << msg;
}

}  // namespace
}  // namespace nabla
