// Losses and their gradients stay finite, and right, for extreme logits (±1e4) in float32 and
// float64: softmax cross-entropy, binary cross-entropy with logits, log_softmax and softmax.
// The expected values are worked out by hand from the definitions (e.g. the cross-entropy of
// logits (1e4, -1e4) with label 1 is log(1 + e^(2e4)) = 2e4 + log(1 + e^(-2e4)) = 2e4 in any
// floating point type), so a naive exp() that overflows to inf, or inf - inf = NaN, fails them.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nabla/ops.h"
#include "nabla/random.h"

namespace nabla {
namespace {

using Values = std::vector<double>;

class ExtremeLogits : public ::testing::TestWithParam<DType> {
 protected:
  DType dtype() const { return GetParam(); }
  // Relative tolerance of the dtype for values computed in it.
  double tol() const { return dtype() == kFloat32 ? 1e-6 : 1e-12; }

  Tensor leaf(const Values& v, const Shape& shape) const {
    Tensor t = Tensor::from_vector(v, shape, dtype());
    t.requires_grad_();
    return t;
  }

  void expect_values(const Tensor& t, const Values& expected, const char* what) const {
    std::vector<double> got = t.to_vector();
    ASSERT_EQ(got.size(), expected.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(std::isfinite(got[i])) << what << "[" << i << "] = " << got[i];
      EXPECT_NEAR(got[i], expected[i], tol() * std::max(1.0, std::abs(expected[i])))
          << what << "[" << i << "]";
    }
  }
};

TEST_P(ExtremeLogits, CrossEntropyIsExactAndItsGradientIsSoftmaxMinusOneHot) {
  // Row 0: the label has the huge logit: loss 0. Row 1: the label has -1e4, the other 1e4: loss
  // 2e4. Row 2: two equal huge logits: loss log 2. Row 3: three classes, label on the smallest.
  Tensor logits = leaf({1e4, -1e4, 0,    //
                        1e4, -1e4, 0,    //
                        1e4, 1e4, -1e4,  //
                        1e4, 0, -1e4},
                       {4, 3});
  Tensor losses = cross_entropy(logits, {0, 1, 0, 2}, Reduction::None);
  expect_values(losses, {0, 2e4, std::log(2.0), 2e4}, "loss");
  sum(losses).backward();
  // softmax - onehot: softmax is (1, 0, 0), (1, 0, 0), (1/2, 1/2, 0), (1, 0, 0).
  expect_values(logits.grad(),
                {0, 0, 0,       //
                 1, -1, 0,      //
                 -0.5, 0.5, 0,  //
                 1, 0, -1},
                "dlogits");
}

TEST_P(ExtremeLogits, CrossEntropyMeanOverABatch) {
  Tensor logits = leaf({-1e4, 1e4, 1e4, -1e4}, {2, 2});
  Tensor loss = cross_entropy(logits, {1, 1});  // mean of 0 and 2e4
  expect_values(loss, {1e4}, "loss");
  loss.backward();
  expect_values(logits.grad(), {0, 0, 0.5, -0.5}, "dlogits");  // (softmax - onehot) / 2
}

TEST_P(ExtremeLogits, BinaryCrossEntropyWithLogits) {
  // l = max(z, 0) - z t + log(1 + e^-|z|): 0 when the sign agrees with the target, |z| when not;
  // dl/dz = sigmoid(z) - t.
  Tensor z = leaf({1e4, 1e4, -1e4, -1e4, 1e4}, {5});
  Tensor t = Tensor::from_vector({1, 0, 1, 0, 0.5}, {5}, dtype());
  Tensor losses = binary_cross_entropy_with_logits(z, t, Reduction::None);
  expect_values(losses, {0, 1e4, 1e4, 0, 5e3}, "loss");
  sum(losses).backward();
  expect_values(z.grad(), {0, 1, -1, 0, 0.5}, "dz");
}

TEST_P(ExtremeLogits, LogSoftmaxAndSoftmax) {
  Tensor x = leaf({1e4, 0, -1e4,  //
                   -1e4, -1e4, -1e4},
                  {2, 3});
  Tensor y = log_softmax(x, 1);
  expect_values(y,
                {0, -1e4, -2e4,  //
                 -std::log(3.0), -std::log(3.0), -std::log(3.0)},
                "log_softmax");
  // d sum(log_softmax(x)) / dx = 1 - C · softmax(x).
  sum(y).backward();
  expect_values(x.grad(), {-2, 1, 1, 0, 0, 0}, "dx of log_softmax");

  Tensor x2 = leaf({1e4, 0, -1e4}, {1, 3});
  Tensor p = softmax(x2, 1);
  expect_values(p, {1, 0, 0}, "softmax");
  // d p[1] / dx = p[1] (onehot(1) - p) = 0 here; selecting p[0] gives p0 (onehot(0) - p) = 0 too.
  sum(p * Tensor::from_vector({0, 1, 0}, {1, 3}, dtype())).backward();
  expect_values(x2.grad(), {0, 0, 0}, "dx of softmax");
}

// Large but not saturating logits (|z| up to 1e3): the float32 and float64 losses and gradients
// agree with a long-double reference computed from the definition with the max subtracted.
TEST_P(ExtremeLogits, CrossEntropyMatchesAReferenceForLargeRandomLogits) {
  const int64_t N = 16, C = 7;
  Generator gen(11);
  Tensor raw = Tensor::uniform({N, C}, -1e3, 1e3, gen, kFloat64);
  std::vector<double> v = raw.to_vector();
  if (dtype() == kFloat32)  // the reference sees exactly the values the op sees
    for (double& x : v) x = static_cast<float>(x);
  std::vector<int64_t> labels;
  for (int64_t n = 0; n < N; ++n) labels.push_back(n % C);
  Tensor logits = leaf(v, {N, C});
  Tensor losses = cross_entropy(logits, labels, Reduction::None);
  sum(losses).backward();
  Values want_loss, want_grad;
  for (int64_t n = 0; n < N; ++n) {
    long double mx = v[n * C];
    for (int64_t c = 1; c < C; ++c) mx = std::max<long double>(mx, v[n * C + c]);
    long double s = 0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<long double>(v[n * C + c]) - mx);
    const long double lse = mx + std::log(s);
    want_loss.push_back(static_cast<double>(lse - v[n * C + labels[n]]));
    for (int64_t c = 0; c < C; ++c)
      want_grad.push_back(static_cast<double>(std::exp(v[n * C + c] - lse)) -
                          (c == labels[n] ? 1.0 : 0.0));
  }
  // A loss of size ~1e3 carries the dtype's relative rounding at the logits' scale (1e3).
  std::vector<double> got = losses.to_vector();
  for (int64_t n = 0; n < N; ++n)
    EXPECT_NEAR(got[n], want_loss[n], (dtype() == kFloat32 ? 1e-5 : 1e-13) * 1e3) << "loss " << n;
  std::vector<double> grad = logits.grad().to_vector();
  for (size_t i = 0; i < grad.size(); ++i) {
    ASSERT_TRUE(std::isfinite(grad[i])) << i;
    EXPECT_NEAR(grad[i], want_grad[i], dtype() == kFloat32 ? 1e-4 : 1e-10) << "dlogits " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Numerics, ExtremeLogits, ::testing::Values(kFloat32, kFloat64),
                         [](const ::testing::TestParamInfo<DType>& param) {
                           return std::string(dtype_name(param.param));
                         });

}  // namespace
}  // namespace nabla
