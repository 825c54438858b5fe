// The sanity checks (app/sanity.h): real presets on a small Fashion-MNIST-format subset pass
// all four; each check can fail on its own — a model with a wrong backward fails only the
// gradient check, oversized initial weights fail the init-loss check, too few steps fail the
// overfitting check — and `nabla sanity` prints the four verdicts and sets its exit code.
#include "app/sanity.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nabla/autograd.h"
#include "nabla/data/datasets.h"
#include "nabla/models.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/flatten.h"
#include "nabla/nn/linear.h"
#include "nabla/ops.h"
#include "test_util.h"
#include "train/fake_run_fixture.h"

namespace nabla::app {
namespace {

// y = 2x whose backward claims dy/dx = 3: the test-only broken op.
class WrongBackwardScale : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override {
    const Tensor y = mul(x.detach(), Tensor::scalar(2.0, x.dtype()));
    return autograd::record(Op::mul, y, {x}, [](const Tensor& dy) -> std::vector<Tensor> {
      return {mul(dy, Tensor::scalar(3.0, dy.dtype()))};
    });
  }
};

std::shared_ptr<nn::Sequential> small_mlp(bool broken, double last_scale = 1) {
  Generator gen(5);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Flatten>());
  model->push_back(std::make_shared<nn::Linear>(nn::LinearOptions(784, 32).generator(&gen)));
  if (broken) model->push_back(std::make_shared<WrongBackwardScale>());
  model->push_back(std::make_shared<nn::ReLU>());
  auto last = std::make_shared<nn::Linear>(nn::LinearOptions(32, 10).generator(&gen));
  if (last_scale != 1) {
    NoGradGuard no_grad;
    last->weight.copy_(mul(last->weight, Tensor::scalar(last_scale)));
  }
  model->push_back(last);
  return model;
}

class SanityTest : public nabla::testing::FakeFashionMnistTest {
 protected:
  SanityTest() : FakeFashionMnistTest(300, 20) {}
  SanityOptions options(const std::string& model) const {
    SanityOptions o;
    o.model = model;
    o.dataset = "fashion-mnist";
    o.data_dir = dir.file("data");
    o.seed = 1;
    return o;
  }
  data::Dataset train() const {
    return data::load_dataset("fashion-mnist", dir.file("data"), data::Split::Train);
  }
};

void expect_all_pass(const SanityReport& r, size_t parameter_tensors) {
  SCOPED_TRACE(r.str());
  EXPECT_TRUE(r.init_passed);
  EXPECT_NEAR(r.expected_init_loss, std::log(10.0), 1e-12);
  EXPECT_LT(std::abs(r.init_loss - std::log(10.0)), 0.1 * std::log(10.0));
  EXPECT_TRUE(r.reg_passed);
  EXPECT_GT(r.reg_loss, r.init_loss);
  EXPECT_NEAR(r.reg_loss, r.init_loss + r.reg_penalty, 1e-3 * r.reg_loss);
  EXPECT_TRUE(r.overfit_passed);
  EXPECT_EQ(r.overfit_accuracy, 1.0);
  EXPECT_LE(r.overfit_steps, 200);
  EXPECT_TRUE(r.gradcheck_passed);
  EXPECT_EQ(r.gradchecks.size(), parameter_tensors);
  for (const ParameterGradcheck& g : r.gradchecks) EXPECT_EQ(g.checked, 6) << g.name;
  EXPECT_LT(r.gradcheck_max_rel_error, 1e-5);
  EXPECT_TRUE(r.passed());
}

TEST_F(SanityTest, LeNet5PassesAllFourChecks) {
  expect_all_pass(run_sanity_checks(options("lenet5")), make_model("lenet5")->parameters().size());
}

TEST_F(SanityTest, MlpPassesAllFourChecks) {
  expect_all_pass(run_sanity_checks(options("mlp")), make_model("mlp")->parameters().size());
}

TEST_F(SanityTest, AWrongBackwardFailsOnlyTheGradientCheckAndNamesTheParameters) {
  const data::Dataset d = train();
  const SanityReport r = run_sanity_checks([] { return small_mlp(true); }, d,
                                           data::compute_normalization(d), options("broken"));
  SCOPED_TRACE(r.str());
  EXPECT_TRUE(r.init_passed);
  EXPECT_TRUE(r.reg_passed);
  EXPECT_TRUE(r.overfit_passed);  // a gradient 1.5 times too large still descends
  EXPECT_FALSE(r.gradcheck_passed);
  EXPECT_FALSE(r.passed());
  // Parameters before the broken op get gradients 1.5 times too large (relative error 1/3);
  // those after it are right.
  ASSERT_EQ(r.gradchecks.size(), 4u);
  EXPECT_EQ(r.gradchecks[0].name, "1.weight");
  EXPECT_NEAR(r.gradchecks[0].max_rel_error, 1.0 / 3, 1e-4);
  EXPECT_NEAR(r.gradchecks[0].analytic / r.gradchecks[0].numeric, 1.5, 1e-4);
  EXPECT_NEAR(r.gradchecks[1].max_rel_error, 1.0 / 3, 1e-4);
  EXPECT_LT(r.gradchecks[2].max_rel_error, 1e-5);
  EXPECT_LT(r.gradchecks[3].max_rel_error, 1e-5);
  EXPECT_NE(r.str().find("FAIL  (d)"), std::string::npos);
  EXPECT_NE(r.str().find("1.weight"), std::string::npos);

  // The same model with a correct backward passes: the failure is the op's, not the setup's.
  const SanityReport fixed = run_sanity_checks([] { return small_mlp(false); }, d,
                                               data::compute_normalization(d), options("fixed"));
  EXPECT_TRUE(fixed.passed()) << fixed.str();
}

TEST_F(SanityTest, OversizedInitialWeightsFailTheInitLossCheck) {
  const data::Dataset d = train();
  const SanityReport r = run_sanity_checks([] { return small_mlp(false, 30); }, d,
                                           data::compute_normalization(d), options("big"));
  EXPECT_FALSE(r.init_passed) << r.str();
  EXPECT_GT(r.init_logit_spread, 1.0);
  EXPECT_GT(r.init_loss, 1.1 * std::log(10.0));
  EXPECT_NE(r.str().find("FAIL  (a)"), std::string::npos);
}

TEST_F(SanityTest, TooFewStepsFailTheOverfittingCheck) {
  SanityOptions o = options("mlp");
  o.overfit_max_steps = 1;
  const SanityReport r = run_sanity_checks(o);
  EXPECT_FALSE(r.overfit_passed) << r.str();
  EXPECT_EQ(r.overfit_steps, 1);
  EXPECT_LT(r.overfit_accuracy, 1.0);
}

TEST_F(SanityTest, BadOptionsNameWhatIsWrong) {
  using nabla::testing::error_message;
  std::string m = error_message([&] { run_sanity_checks(options("lenet")); });
  EXPECT_NE(m.find("unknown model 'lenet'"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'lenet5'"), std::string::npos) << m;
  EXPECT_NE(m.find("expected mlp, lenet5 or convnet or the path"), std::string::npos) << m;
  SanityOptions o = options("mlp");
  o.overfit_samples = 0;
  m = error_message([&] { run_sanity_checks(o); });
  EXPECT_NE(m.find("overfit samples 0"), std::string::npos) << m;
}

TEST_F(SanityTest, CommandPrintsTheVerdictsAndExitsZeroOnlyWhenAllPass) {
  auto run = [&](const std::string& args) {
    const std::string cmd = std::string(NABLA_CLI) + " sanity --data-dir " + dir.file("data") +
                            " --threads 1 " + args + " >" + dir.file("out.txt") + " 2>&1";
    const int status = std::system(cmd.c_str());
    std::ifstream in(dir.file("out.txt"));
    std::stringstream s;
    s << in.rdbuf();
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, s.str());
  };
  auto [code, out] = run("--model mlp");
  EXPECT_EQ(code, 0) << out;
  for (const char* check : {"PASS  (a)", "PASS  (b)", "PASS  (c)", "PASS  (d)", "4 of 4"})
    EXPECT_NE(out.find(check), std::string::npos) << check << "\n" << out;
  std::tie(code, out) = run("--model mlp --overfit-steps 1");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("FAIL  (c)"), std::string::npos) << out;
  // A failed check says what to try; a passed one does not.
  EXPECT_NE(out.find("try: another --overfit-lr (x3 or /3), more --overfit-steps, a larger model"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("try: nabla gradcheck"), std::string::npos) << out;
  std::tie(code, out) = run("--model lenet");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("did you mean 'lenet5'"), std::string::npos) << out;
}

}  // namespace
}  // namespace nabla::app
