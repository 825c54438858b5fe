// gradcheck itself: every registered case passes, every op has a case, and the checker catches
// (and precisely reports) a wrong backward.
#include "nabla/gradcheck.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "nabla/tensor.h"

namespace nabla {
namespace {

// The ops recorded in the graph that ends in `out`.
std::set<Op> ops_in_graph(const Tensor& out) {
  std::set<Op> ops;
  for (const Tensor& t : autograd::topological_order(out))
    if (t.impl().grad_fn) ops.insert(t.impl().grad_fn->op);
  return ops;
}

TEST(Gradcheck, EveryRegisteredCasePassesInFloat64) {
  const auto& cases = gradcheck_cases();
  ASSERT_FALSE(cases.empty());
  for (size_t i = 0; i < cases.size(); ++i) {
    const GradcheckCase& c = cases[i];
    SCOPED_TRACE(std::string(op_name(c.op)) + " " + c.shapes);
    Generator gen(1000 + i);
    std::vector<Tensor> inputs = c.make_inputs(gen);
    for (const Tensor& x : inputs) EXPECT_EQ(x.dtype(), kFloat64);
    GradcheckResult r = gradcheck(c.fn, inputs, c.options);
    EXPECT_TRUE(r.passed) << r.str();
    EXPECT_LT(r.max_rel_error, 1e-6) << r.str();
    EXPECT_GT(r.checked, 0);
  }
}

// A case registered under an op must actually run that op, or the registry could claim
// coverage it does not have.
TEST(Gradcheck, EveryCaseRecordsItsOp) {
  for (const GradcheckCase& c : gradcheck_cases()) {
    SCOPED_TRACE(std::string(op_name(c.op)) + " " + c.shapes);
    Generator gen(7);
    std::vector<Tensor> inputs = c.make_inputs(gen);
    for (Tensor& x : inputs) x.requires_grad_(true);
    std::set<Op> ops = ops_in_graph(c.fn(inputs));
    EXPECT_TRUE(ops.count(c.op)) << "the case's graph does not contain " << op_name(c.op);
  }
}

// Fails when an op is added to NABLA_OP_LIST without a gradcheck case in
// tests/ops/<family>_gradcheck.cpp.
TEST(Gradcheck, EveryOpHasACase) {
  std::set<Op> covered;
  for (const GradcheckCase& c : gradcheck_cases()) covered.insert(c.op);
  ASSERT_EQ(all_ops().size(), static_cast<size_t>(kNumOps));
  for (Op op : all_ops())
    EXPECT_TRUE(covered.count(op))
        << "op '" << op_name(op)
        << "' has no gradcheck case; add one to tests/ops/<family>_gradcheck.cpp";
}

// -y with a backward that is right everywhere except at flat index `wrong_at`, where it is
// doubled. Recorded as Op::neg so that it enters the graph like any op.
Tensor neg_with_wrong_backward(const Tensor& x, int64_t wrong_at) {
  Tensor y = neg(x.detach());
  return autograd::record(Op::neg, y, {x}, [wrong_at](const Tensor& dy) {
    Tensor dx = neg(dy).contiguous();
    dx.data<double>()[wrong_at] *= 2;
    return std::vector<Tensor>{dx};
  });
}

TEST(Gradcheck, DetectsAWrongBackwardAndReportsTheWorstElement) {
  Generator gen(3);
  Tensor x = Tensor::randn({3, 4}, gen, kFloat64);
  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) { return neg_with_wrong_backward(in[0], 6); }, {x});
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.input, 0);
  EXPECT_EQ(r.flat_index, 6);
  EXPECT_EQ(r.index, (std::vector<int64_t>{1, 2}));
  // analytic = 2·numeric there, so |a - n| / |a| = 1/2.
  EXPECT_NEAR(r.analytic, 2 * r.numeric, 1e-6);
  EXPECT_NEAR(r.max_rel_error, 0.5, 1e-6);
  EXPECT_EQ(r.checked, 12);
  EXPECT_NE(r.str().find("FAILED"), std::string::npos) << r.str();
}

TEST(Gradcheck, CorrectGradientPasses) {
  Tensor x = Tensor::from_vector(std::vector<double>{0.5, -1.0, 2.0, 1.5, -0.25, 3.0}, {2, 3});
  GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& in) { return sum(mul(in[0], in[0]), {1}); }, {x});
  EXPECT_TRUE(r.passed) << r.str();
  EXPECT_LT(r.max_rel_error, 1e-8);
  EXPECT_EQ(r.checked, 6);
  ASSERT_GE(r.input, 0);
  EXPECT_NEAR(r.analytic, r.numeric, 1e-8);
  EXPECT_NE(r.str().find("passed"), std::string::npos) << r.str();
}

// Two inputs; only the second's gradient is wrong, at [1, 2], by a factor 4: every field of the
// report is then known whatever the projection R is.
TEST(Gradcheck, ReportFieldsOnAKnownExample) {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector(std::vector<double>{-1, 0.5, 2, 3, -2, 1}, {2, 3});
  const Tensor a_before = a.clone();
  auto f = [](const std::vector<Tensor>& in) {
    Tensor doubled_wrong =
        autograd::record(Op::neg, neg(in[1].detach()), {in[1]}, [](const Tensor& dy) {
          Tensor dx = neg(dy).contiguous();
          dx.data<double>()[5] *= 4;
          return std::vector<Tensor>{dx};
        });
    return add(in[0], doubled_wrong);
  };
  GradcheckResult r = gradcheck(f, {a, b});
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.checked, 12);
  EXPECT_EQ(r.input, 1);
  EXPECT_EQ(r.flat_index, 5);
  EXPECT_EQ(r.index, (std::vector<int64_t>{1, 2}));
  EXPECT_NEAR(r.analytic / r.numeric, 4.0, 1e-6);
  EXPECT_NEAR(r.max_rel_error, 0.75, 1e-6);
  const std::string s = r.str();
  EXPECT_NE(s.find("input 1"), std::string::npos) << s;
  EXPECT_NE(s.find("[1, 2]"), std::string::npos) << s;
  EXPECT_NE(s.find("flat 5"), std::string::npos) << s;
  // The caller's tensors are neither perturbed nor given gradients.
  EXPECT_EQ(a.to_vector(), a_before.to_vector());
  EXPECT_FALSE(a.requires_grad());
  EXPECT_FALSE(a.grad().defined());
}

TEST(Gradcheck, FloatInputsAreCheckedInFloat64) {
  Tensor x = Tensor::from_vector(std::vector<float>{0.5f, 1.5f, 2.5f}, {3});
  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) {
        EXPECT_EQ(in[0].dtype(), kFloat64);
        return exp(in[0]);
      },
      {x});
  EXPECT_TRUE(r.passed) << r.str();
  EXPECT_LT(r.max_rel_error, 1e-8);
}

TEST(Gradcheck, MaxElementsSamplesDeterministically) {
  Generator gen(5);
  Tensor x = Tensor::randn({10, 10}, gen, kFloat64);
  auto f = [](const std::vector<Tensor>& in) { return neg_with_wrong_backward(in[0], 37); };
  GradcheckOptions opts;
  opts.max_elements = 4;
  opts.seed = 11;
  GradcheckResult r1 = gradcheck(f, {x}, opts);
  GradcheckResult r2 = gradcheck(f, {x}, opts);
  EXPECT_EQ(r1.checked, 4);
  EXPECT_EQ(r1.flat_index, r2.flat_index);
  EXPECT_EQ(r1.max_rel_error, r2.max_rel_error);
  // Sampling all 100 elements must find the wrong one.
  opts.max_elements = 100;
  GradcheckResult all = gradcheck(f, {x}, opts);
  EXPECT_EQ(all.checked, 100);
  EXPECT_EQ(all.flat_index, 37);
}

TEST(Gradcheck, FunctionIgnoringItsInputHasZeroAnalyticGradient) {
  Tensor x = Tensor::ones({2}, kFloat64);
  GradcheckResult r =
      gradcheck([](const std::vector<Tensor>&) { return Tensor::ones({3}, kFloat64); }, {x});
  EXPECT_TRUE(r.passed) << r.str();
  EXPECT_EQ(r.analytic, 0);
  EXPECT_EQ(r.numeric, 0);
}

// numeric_gradient is CS231n's eval_numerical_gradient: for f = Σ x², it must give 2x.
TEST(NumericGradient, MatchesKnownDerivative) {
  Generator gen(7);
  Tensor x = Tensor::randn({3, 2}, gen, kFloat64);
  std::vector<Tensor> g =
      numeric_gradient([](const std::vector<Tensor>& v) { return sum(v[0] * v[0]); }, {x});
  ASSERT_EQ(g.size(), 1u);
  EXPECT_LT(max_relative_error(x * 2.0, g[0]), 1e-8);
  EXPECT_FALSE(x.requires_grad());  // the caller's tensor is untouched
}

}  // namespace
}  // namespace nabla
