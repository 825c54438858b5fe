// Optimizers against torch.optim: ten-step trajectories from tests/fixtures/optim_trajectories.txt
// (made by make_optim_fixtures.py, which documents the format), option checks, and skipping
// parameters that have no gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "fixtures/fixture_reader.h"
#include "nabla/nabla.h"
#include "test_util.h"

using namespace nabla;

namespace {

struct TrajectoryCase {
  std::string label, dtype, optimizer;
  std::map<std::string, double> options;
  std::vector<std::vector<double>> steps;  // W then b, flattened, after k steps
};

struct Fixture {
  std::map<std::string, std::pair<Shape, std::vector<double>>> tensors;
  std::vector<TrajectoryCase> cases;
};

Fixture load_fixture() {
  Fixture f;
  fixtures::for_each_line(std::string(NABLA_FIXTURE_DIR) + "/optim_trajectories.txt",
                          [&f](std::istringstream& words, int) {
                            std::string kind;
                            words >> kind;
                            if (kind == "tensor") {
                              std::string name;
                              int ndim;
                              words >> name >> ndim;
                              Shape shape;
                              for (int d = 0; d < ndim; ++d) {
                                int64_t extent;
                                words >> extent;
                                shape.push_back(extent);
                              }
                              std::vector<double> values(shape.numel());
                              for (double& v : values) words >> v;
                              if (!words) throw std::runtime_error("short tensor line for " + name);
                              f.tensors[name] = {shape, values};
                            } else if (kind == "case") {
                              TrajectoryCase c;
                              words >> c.label >> c.dtype >> c.optimizer;
                              std::string option;
                              while (words >> option) {
                                size_t eq = option.find('=');
                                if (eq == std::string::npos)
                                  throw std::runtime_error("bad option " + option);
                                c.options[option.substr(0, eq)] = std::stod(option.substr(eq + 1));
                              }
                              f.cases.push_back(c);
                            } else if (kind == "step") {
                              if (f.cases.empty()) throw std::runtime_error("step before any case");
                              int k;
                              words >> k;
                              std::vector<double> values;
                              for (double v; words >> v;) values.push_back(v);
                              f.cases.back().steps.push_back(values);
                            } else {
                              throw std::runtime_error("unknown record " + kind);
                            }
                          });
  return f;
}

// Builds the optimizer a case names, consuming each option so that an unknown one fails.
std::unique_ptr<optim::Optimizer> make_optimizer(const TrajectoryCase& c,
                                                 std::vector<Tensor> params) {
  std::map<std::string, double> left = c.options;
  auto take = [&](const std::string& key, double fallback) {
    auto it = left.find(key);
    if (it == left.end()) return fallback;
    double v = it->second;
    left.erase(it);
    return v;
  };
  std::unique_ptr<optim::Optimizer> opt;
  if (c.optimizer == "SGD") {
    opt = std::make_unique<optim::SGD>(params, optim::SGDOptions(take("lr", -1))
                                                   .momentum(take("momentum", 0))
                                                   .dampening(take("dampening", 0))
                                                   .weight_decay(take("weight_decay", 0))
                                                   .nesterov(take("nesterov", 0) != 0));
  } else if (c.optimizer == "Adagrad") {
    optim::AdagradOptions o;
    o.lr(take("lr", o.lr()))
        .lr_decay(take("lr_decay", o.lr_decay()))
        .weight_decay(take("weight_decay", o.weight_decay()))
        .initial_accumulator_value(take("initial_accumulator_value", 0))
        .eps(take("eps", o.eps()));
    opt = std::make_unique<optim::Adagrad>(params, o);
  } else if (c.optimizer == "RMSprop") {
    optim::RMSpropOptions o;
    o.lr(take("lr", o.lr()))
        .alpha(take("alpha", o.alpha()))
        .eps(take("eps", o.eps()))
        .weight_decay(take("weight_decay", o.weight_decay()))
        .momentum(take("momentum", o.momentum()))
        .centered(take("centered", 0) != 0);
    opt = std::make_unique<optim::RMSprop>(params, o);
  } else if (c.optimizer == "Adam") {
    optim::AdamOptions o;
    o.lr(take("lr", o.lr()))
        .betas({take("beta1", o.betas().first), take("beta2", o.betas().second)})
        .eps(take("eps", o.eps()))
        .weight_decay(take("weight_decay", o.weight_decay()))
        .amsgrad(take("amsgrad", 0) != 0);
    opt = std::make_unique<optim::Adam>(params, o);
  } else if (c.optimizer == "AdamW") {
    optim::AdamWOptions o;
    o.lr(take("lr", o.lr()))
        .betas({take("beta1", o.betas().first), take("beta2", o.betas().second)})
        .eps(take("eps", o.eps()))
        .weight_decay(take("weight_decay", o.weight_decay()))
        .amsgrad(take("amsgrad", 0) != 0);
    opt = std::make_unique<optim::AdamW>(params, o);
  }
  EXPECT_NE(opt, nullptr) << "unknown optimizer " << c.optimizer;
  EXPECT_TRUE(left.empty()) << c.label << ": option " << left.begin()->first << " not used";
  return opt;
}

}  // namespace

TEST(Optim, MatchesTorchTrajectories) {
  Fixture f = load_fixture();
  // 16 configurations in float32 and float64: a fixture that lost cases must not pass quietly.
  ASSERT_EQ(f.cases.size(), 32u);
  auto tensor = [&](const std::string& name, DType dtype) {
    const auto& [shape, values] = f.tensors.at(name);
    return Tensor::from_vector(values, shape, dtype);
  };
  for (const TrajectoryCase& c : f.cases) {
    SCOPED_TRACE(c.label + " " + c.dtype);
    DType dtype = c.dtype == "float64" ? kFloat64 : kFloat32;
    double tolerance = dtype == kFloat64 ? 1e-10 : 1e-5;
    Tensor a = tensor("A", dtype), y = tensor("Y", dtype);
    Tensor w = tensor("W", dtype).requires_grad_(), b = tensor("b", dtype).requires_grad_();
    auto opt = make_optimizer(c, {w, b});
    ASSERT_NE(opt, nullptr);
    ASSERT_EQ(c.steps.size(), 11u);
    for (size_t k = 0; k < c.steps.size(); ++k) {
      if (k > 0) {
        opt->zero_grad();
        Tensor loss = (matmul(a, w) + b - y).pow(2).mean() + 0.05 * w.pow(4).sum();
        loss.backward();
        opt->step();
      }
      std::vector<double> got = w.to_vector(), got_b = b.to_vector();
      got.insert(got.end(), got_b.begin(), got_b.end());
      ASSERT_EQ(got.size(), c.steps[k].size());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], c.steps[k][i], tolerance) << "step " << k << ", element " << i;
    }
  }
}

using nabla::testing::error_message;

TEST(Optim, RejectsBadOptions) {
  std::vector<Tensor> params{Tensor::zeros({2}).requires_grad_()};
  EXPECT_EQ(error_message([&] { optim::Adam(params, optim::AdamOptions(-1)); }),
            "Adam: invalid learning rate: -1");
  EXPECT_EQ(error_message([&] { optim::SGD(params, optim::SGDOptions(-0.5)); }),
            "SGD: invalid learning rate: -0.5");
  EXPECT_NE(error_message([&] {
              optim::SGD(params, optim::SGDOptions(0.1).nesterov(true));
            }).find("Nesterov momentum requires a momentum and zero dampening"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              optim::SGD(params,
                         optim::SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true));
            }),
            "");
  EXPECT_EQ(error_message([&] { optim::SGD(params, optim::SGDOptions(0.1).momentum(-1)); }),
            "SGD: invalid momentum value: -1");
  EXPECT_EQ(error_message([&] {
              optim::Adam(params, optim::AdamOptions().betas({1.0, 0.999}));
            }),
            "Adam: invalid beta parameter at index 0: 1");
  EXPECT_EQ(error_message([&] {
              optim::AdamW(params, optim::AdamWOptions().betas({0.9, -0.1}));
            }),
            "AdamW: invalid beta parameter at index 1: -0.1");
  EXPECT_EQ(error_message([&] { optim::AdamW(params, optim::AdamWOptions().eps(-1e-8)); }),
            "AdamW: invalid epsilon value: -1e-08");
  EXPECT_EQ(error_message([&] { optim::Adam(params, optim::AdamOptions().weight_decay(-1)); }),
            "Adam: invalid weight_decay value: -1");
  EXPECT_EQ(error_message([&] {
              optim::Adagrad(params, optim::AdagradOptions().initial_accumulator_value(-1));
            }),
            "Adagrad: invalid initial_accumulator_value value: -1");
  EXPECT_EQ(error_message([&] { optim::Adagrad(params, optim::AdagradOptions().lr_decay(-1)); }),
            "Adagrad: invalid lr_decay value: -1");
  EXPECT_EQ(error_message([&] { optim::RMSprop(params, optim::RMSpropOptions().alpha(-0.1)); }),
            "RMSprop: invalid alpha value: -0.1");
  EXPECT_EQ(error_message([&] { optim::RMSprop(params, optim::RMSpropOptions().momentum(-1)); }),
            "RMSprop: invalid momentum value: -1");
  // Good options construct.
  EXPECT_NO_THROW(optim::SGD(params, optim::SGDOptions(0.1).momentum(0.9).nesterov(true)));
}

// Options are read through options() and changed only through set_options() / set_lr(), which
// check them as the constructor does: `opt.options().lr(-1)` does not compile (a const reference).
TEST(Optim, RejectsBadOptionsSetAfterConstruction) {
  std::vector<Tensor> params{Tensor::zeros({2}).requires_grad_()};
  optim::SGD sgd(params, optim::SGDOptions(0.1).momentum(0.9));
  EXPECT_EQ(error_message([&] { sgd.set_lr(-1); }), "SGD: invalid learning rate: -1");
  EXPECT_EQ(sgd.lr(), 0.1);  // unchanged by the refused change
  EXPECT_EQ(error_message([&] { sgd.set_options(optim::SGDOptions(sgd.options()).momentum(-2)); }),
            "SGD: invalid momentum value: -2");
  EXPECT_EQ(sgd.options().momentum(), 0.9);
  EXPECT_NE(error_message([&] {
              sgd.set_options(optim::SGDOptions(sgd.options()).dampening(0.5).nesterov(true));
            }).find("Nesterov momentum requires a momentum and zero dampening"),
            std::string::npos);
  EXPECT_FALSE(sgd.options().nesterov());
  sgd.set_lr(0.25);
  EXPECT_EQ(sgd.options().lr(), 0.25);
  sgd.set_options(optim::SGDOptions(0.5).momentum(0.5).nesterov(true));
  EXPECT_TRUE(sgd.options().nesterov());

  optim::Adam adam(params);
  EXPECT_EQ(error_message([&] {
              adam.set_options(optim::AdamOptions().betas({1.0, 0.9}));
            }),
            "Adam: invalid beta parameter at index 0: 1");
  EXPECT_EQ(error_message([&] { adam.set_lr(-0.5); }), "Adam: invalid learning rate: -0.5");
  optim::AdamW adamw(params);
  EXPECT_EQ(error_message([&] { adamw.set_options(optim::AdamWOptions().eps(-1)); }),
            "AdamW: invalid epsilon value: -1");
  EXPECT_EQ(adamw.options().eps(), 1e-8);
  optim::RMSprop rmsprop(params);
  EXPECT_EQ(error_message([&] { rmsprop.set_options(optim::RMSpropOptions().alpha(-0.1)); }),
            "RMSprop: invalid alpha value: -0.1");
  optim::Adagrad adagrad(params);
  EXPECT_EQ(error_message([&] { adagrad.set_lr(-3); }), "Adagrad: invalid learning rate: -3");
  EXPECT_EQ(adagrad.lr(), 1e-2);
  // Through the base class, as schedules change it.
  optim::Optimizer& base = adagrad;
  EXPECT_EQ(error_message([&] { base.set_lr(-1); }), "Adagrad: invalid learning rate: -1");
  static_assert(!std::is_assignable_v<decltype((sgd.options())), optim::SGDOptions>);
}

TEST(Optim, RejectsBadParameters) {
  EXPECT_EQ(error_message([] { optim::Adam({}, {}); }), "Adam: got an empty parameter list");
  Tensor leaf = Tensor::ones({2, 3}).requires_grad_();
  Tensor made = leaf * 2.0;
  EXPECT_NE(error_message([&] {
              optim::SGD({made}, optim::SGDOptions(0.1));
            }).find("parameter 0 [2, 3] was made by 'mul'"),
            std::string::npos);
  Tensor transposed = Tensor::zeros({3, 2}).t();  // a leaf view, not contiguous
  EXPECT_NE(
      error_message([&] { optim::SGD({transposed}, optim::SGDOptions(0.1)); }).find("contiguous"),
      std::string::npos);
}

TEST(Optim, SkipsParametersWithoutGradient) {
  for (DType dtype : {kFloat32, kFloat64}) {
    Tensor used = Tensor::full({3}, 1.0, dtype).requires_grad_();
    Tensor unused = Tensor::full({2}, 1.0, dtype).requires_grad_();
    optim::Adam opt({used, unused}, optim::AdamOptions(0.1));
    for (int k = 0; k < 3; ++k) {
      opt.zero_grad();
      (used * used).sum().backward();
      opt.step();
    }
    EXPECT_EQ(unused.to_vector(), std::vector<double>({1.0, 1.0}));
    EXPECT_LT(used.to_vector()[0], 1.0);
    // Its first real step must be a first step (bias-corrected m/√v = sign(g)): moving by lr.
    opt.zero_grad();
    (unused * 3.0).sum().backward();
    opt.step();
    EXPECT_NEAR(unused.to_vector()[0], 0.9, 1e-6);
  }
}

// Adam works out its bias corrections once per step count (they depend on nothing else); a
// parameter whose count lags (it had no gradient for a while) must still get its own. The same
// updates as two optimizers with one parameter each, bit for bit.
TEST(Optim, AdamBiasCorrectionFollowsEachParametersStepCount) {
  for (DType dtype : {kFloat32, kFloat64}) {
    Tensor a = Tensor::full({3}, 1.0, dtype).requires_grad_();
    Tensor b = Tensor::full({2}, 1.0, dtype).requires_grad_();
    Tensor a_alone = Tensor::full({3}, 1.0, dtype).requires_grad_();
    Tensor b_alone = Tensor::full({2}, 1.0, dtype).requires_grad_();
    optim::Adam both({a, b}, optim::AdamOptions(0.1));
    optim::Adam only_a({a_alone}, optim::AdamOptions(0.1));
    optim::Adam only_b({b_alone}, optim::AdamOptions(0.1));
    for (int k = 0; k < 5; ++k) {
      const bool b_steps = k >= 3;  // b's count starts two steps behind a's
      both.zero_grad();
      only_a.zero_grad();
      only_b.zero_grad();
      ((a * a).sum() + (b_steps ? (b * b * b).sum() : Tensor::scalar(0, dtype))).backward();
      (a_alone * a_alone).sum().backward();
      if (b_steps) (b_alone * b_alone * b_alone).sum().backward();
      both.step();
      only_a.step();
      only_b.step();
      EXPECT_EQ(a.to_vector(), a_alone.to_vector()) << "step " << k;
      EXPECT_EQ(b.to_vector(), b_alone.to_vector()) << "step " << k;
    }
    EXPECT_NE(b.to_vector(), std::vector<double>({1.0, 1.0}));
  }
}

TEST(Optim, ZeroGradDropsGradients) {
  Tensor p = Tensor::ones({2}).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(0.5));
  (p * p).sum().backward();
  ASSERT_TRUE(p.grad().defined());
  opt.step();
  EXPECT_EQ(p.to_vector(), std::vector<double>({0.0, 0.0}));  // 1 - 0.5·2
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  opt.set_lr(0.25);
  EXPECT_EQ(opt.lr(), 0.25);
}

TEST(Optim, TrainsALinearModel) {
  // y = 3x - 1 is reachable by one Linear; Adam must drive the loss close to zero.
  Generator gen(7);
  nn::Linear fc(nn::LinearOptions(1, 1).generator(&gen));
  Tensor x = Tensor::from_vector(std::vector<float>{-1, 0, 1, 2}, {4, 1});
  Tensor y = 3.0 * x - 1.0;
  optim::Adam opt(fc.parameters(), optim::AdamOptions(0.1));
  double loss_value = 0;
  for (int step = 0; step < 500; ++step) {
    opt.zero_grad();
    Tensor loss = (fc.forward(x) - y).pow(2).mean();
    loss.backward();
    opt.step();
    loss_value = loss.item();
  }
  EXPECT_LT(loss_value, 1e-6);
  EXPECT_NEAR(fc.weight.item(), 3.0, 1e-3);
  EXPECT_NEAR(fc.bias.item(), -1.0, 1e-3);
}
