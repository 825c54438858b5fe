// The backward engine: accumulation, shared inputs, upstream gradients, grad mode, graph release
// (and its error messages), retain_graph, retain_grad, and a training loop whose memory stays flat.
#include "nabla/autograd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "nabla/ops.h"
#include "nabla/tensor.h"
#include "sanitizers.h"
#include "test_util.h"

namespace nabla {
namespace {

using Values = std::vector<double>;

Tensor leaf(const Values& v, const Shape& shape = {}) {
  Tensor t = Tensor::from_vector(v, shape);
  t.requires_grad_();
  return t;
}

using nabla::testing::error_message;

TEST(Autograd, BackwardAccumulatesAcrossCalls) {
  Tensor x = leaf({1, 2, 3});
  sum(x * 3.0).backward();
  EXPECT_EQ(x.grad().to_vector(), (Values{3, 3, 3}));
  sum(x * x).backward();  // adds 2x
  EXPECT_EQ(x.grad().to_vector(), (Values{5, 7, 9}));
}

TEST(Autograd, TensorUsedTwiceGetsBothContributions) {
  Tensor x = leaf({2, -1});
  Tensor y = x * x + x;  // dy/dx = 2x + 1; x feeds mul twice and add once
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector(), (Values{5, -1}));
  // Through two branches that meet again later.
  Tensor a = leaf({3});
  Tensor b = exp(a);
  Tensor c = b * b + b;
  c.backward();
  const double e3 = std::exp(3.0);
  EXPECT_NEAR(a.grad().item(), 2 * e3 * e3 + e3, 1e-9 * e3 * e3);
}

TEST(Autograd, BackwardFromNonScalarWithUpstreamGradient) {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  Tensor y = x * x;
  y.backward(Tensor::from_vector(Values{1, 0, -1, 0.5}, {2, 2}));
  EXPECT_EQ(x.grad().to_vector(), (Values{2, 0, -6, 4}));
  Tensor z = x * 2.0;
  const std::string msg = error_message([&] { z.backward(); });
  EXPECT_NE(msg.find("not a scalar"), std::string::npos) << msg;
  EXPECT_NE(error_message([&] { z.backward(Tensor::ones({4}, kFloat64)); }).find("[4]"),
            std::string::npos);
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = leaf({1, 2});
  {
    NoGradGuard guard;
    EXPECT_FALSE(autograd::grad_mode_enabled());
    Tensor y = x * x + 1.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
    { NoGradGuard nested; }
    EXPECT_FALSE(autograd::grad_mode_enabled());  // the inner guard restores "off"
  }
  EXPECT_TRUE(autograd::grad_mode_enabled());
  Tensor y = x * x;
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn_name(), "mul");
}

TEST(Autograd, ZeroGradDropsTheGradient) {
  Tensor x = leaf({1, 2});
  sum(x).backward();
  ASSERT_TRUE(x.grad().defined());
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  sum(x * 4.0).backward();
  EXPECT_EQ(x.grad().to_vector(), (Values{4, 4}));  // not 5: the old gradient is gone
}

TEST(Autograd, BackwardTwiceThrowsReleased) {
  Tensor x = leaf({1, 2});
  Tensor loss = sum(x * x);
  loss.backward();
  const std::string msg = error_message([&] { loss.backward(); });
  EXPECT_NE(msg.find("released"), std::string::npos) << msg;
  EXPECT_NE(msg.find("retain_graph"), std::string::npos) << msg;
  // A second root that reaches the released part of the graph fails too, naming the op.
  Tensor y = x * x;
  Tensor a = y * 2.0;
  Tensor b = y * 3.0;
  sum(a).backward();
  const std::string inner = error_message([&] { sum(b).backward(); });
  EXPECT_NE(inner.find("released"), std::string::npos) << inner;
}

TEST(Autograd, BackwardOnTensorWithoutGradThrows) {
  Tensor x = Tensor::ones({2});
  Tensor y = sum(x * x);
  const std::string msg = error_message([&] { y.backward(); });
  EXPECT_NE(msg.find("does not require grad"), std::string::npos) << msg;
}

TEST(Autograd, RetainGraphAllowsASecondBackward) {
  Tensor x = leaf({1, -2});
  Tensor loss = sum(x * x);
  loss.backward(/*retain_graph=*/true);
  EXPECT_EQ(x.grad().to_vector(), (Values{2, -4}));
  loss.backward();
  EXPECT_EQ(x.grad().to_vector(), (Values{4, -8}));
  EXPECT_THROW(loss.backward(), Error);
}

TEST(Autograd, RetainGradOnANonLeaf) {
  Tensor x = leaf({1, 2, 3});
  Tensor h = x * 2.0;
  h.retain_grad();
  Tensor k = x + 1.0;  // not retained
  Tensor loss = sum(h * h + k);
  loss.backward();
  EXPECT_FALSE(h.is_leaf());
  EXPECT_EQ(h.grad().to_vector(), (Values{4, 8, 12}));  // 2h
  EXPECT_FALSE(k.grad().defined());
  EXPECT_EQ(x.grad().to_vector(), (Values{9, 17, 25}));  // 2h·2 + 1
}

TEST(Autograd, GradientsOfOneOpAreNotAliased) {
  // add passes dout straight through to both inputs; editing one .grad must not edit the other.
  Tensor a = leaf({1, 2}), b = leaf({3, 4});
  sum(a + b).backward();
  a.grad().fill_(100);
  EXPECT_EQ(b.grad().to_vector(), (Values{1, 1}));
}

TEST(Autograd, TopologicalOrderPutsInputsFirst) {
  Tensor x = leaf({1});
  Tensor y = exp(x);
  Tensor z = y * x;
  std::vector<Tensor> order = autograd::topological_order(z);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order.back().impl_ptr(), z.impl_ptr());
  EXPECT_EQ(order.front().impl_ptr(), x.impl_ptr());
}

// ---------------------------------------------------------------- memory stays flat

// Resident set size in bytes, from /proc/self/statm (second field, in pages).
int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4096;
}

// tanh from primitives, so that this test depends on the core ops only.
Tensor tanh_of(const Tensor& z) {
  return 1.0 - 2.0 / (exp(z * 2.0) + 1.0);
}

TEST(AutogradMemory, TrainingLoopReleasesItsGraphAndStaysFlat) {
  Generator gen(0);
  Tensor x = Tensor::randn({16, 8}, gen);
  Tensor target = Tensor::randn({16, 4}, gen);
  Tensor w = Tensor::randn({8, 4}, gen) * 0.1;
  Tensor b = Tensor::zeros({4});
  w.requires_grad_();
  b.requires_grad_();
  int64_t rss_at_200 = 0;
  double first_loss = 0, last_loss = 0;
  for (int step = 1; step <= 2000; ++step) {
    Tensor y = tanh_of(matmul(x, w) + b);
    Tensor loss = mean(pow(y - target, 2));
    // Watch this step's graph: the output's node and an intermediate tensor.
    std::weak_ptr<autograd::Node> node = loss.impl().grad_fn;
    std::weak_ptr<TensorImpl> hidden = y.impl_ptr();
    loss.backward();
    {
      NoGradGuard no_grad;
      w.copy_(w - w.grad() * 0.1);
      b.copy_(b - b.grad() * 0.1);
    }
    w.zero_grad();
    b.zero_grad();
    if (step == 1) first_loss = loss.item();
    last_loss = loss.item();
    y = Tensor();
    loss = Tensor();
    // No reference cycle keeps a step's graph alive once its handles are gone.
    ASSERT_TRUE(node.expired()) << "step " << step;
    ASSERT_TRUE(hidden.expired()) << "step " << step;
    if (step == 200) rss_at_200 = resident_bytes();
  }
  const int64_t rss_at_2000 = resident_bytes();
  EXPECT_LT(last_loss, first_loss);  // it trained
  // Under AddressSanitizer freed memory sits in a quarantine instead of being reused, so RSS
  // grows anyway; there the expired() checks above are the test.
  constexpr bool rss_is_meaningful = !NABLA_UNDER_ASAN;
  if (rss_is_meaningful) {
    EXPECT_LT(rss_at_2000 - rss_at_200, int64_t{1} << 20)
        << "RSS grew from " << rss_at_200 << " to " << rss_at_2000 << " bytes";
  }
}

// backward drops each node's closure and input references even while the root is still alive.
TEST(AutogradMemory, BackwardReleasesTheGraphWhileTheRootLives) {
  Tensor x = leaf({1, 2, 3});
  Tensor h = exp(x);  // saves its output (detached) in the closure
  std::weak_ptr<TensorImpl> h_impl = h.impl_ptr();
  Tensor loss = sum(h * x);
  h = Tensor();
  EXPECT_FALSE(h_impl.expired());  // the graph still holds it
  loss.backward();
  EXPECT_TRUE(h_impl.expired());
  EXPECT_TRUE(loss.impl().grad_fn->released);
  EXPECT_TRUE(loss.impl().grad_fn->inputs.empty());
}

}  // namespace
}  // namespace nabla
