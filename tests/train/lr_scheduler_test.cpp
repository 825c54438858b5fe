// Learning-rate schedules against torch.optim.lr_scheduler (torch 1.13). The expected sequences
// were printed by this script (PyTorch steps recursively, nabla uses the closed forms, so the two
// agree to rounding, not bit for bit):
//   p = [torch.nn.Parameter(torch.zeros(1))]; opt = torch.optim.SGD(p, lr=0.1); s = make(opt)
//   for e in range(8): print(opt.param_groups[0]['lr']); opt.step(); s.step()
#include "nabla/optim/lr_scheduler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/fixture_reader.h"
#include "nabla/optim/sgd.h"
#include "nabla/train/early_stopping.h"
#include "test_util.h"

namespace nabla::optim {
namespace {

class SchedulerTest : public ::testing::Test {
 protected:
  Tensor param = Tensor::zeros({1}).requires_grad_();
  SGD opt{{param}, SGDOptions(0.1)};

  // The lr the optimizer holds during each of the first `n` epochs.
  std::vector<double> trajectory(LRScheduler& sched, int n = 8) {
    std::vector<double> lrs;
    for (int e = 0; e < n; ++e) {
      lrs.push_back(opt.lr());
      EXPECT_DOUBLE_EQ(sched.lr(), opt.lr());
      sched.step();
    }
    return lrs;
  }
};

void expect_close(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], 1e-13) << "epoch " << i;
}

TEST_F(SchedulerTest, StepLRMatchesPyTorch) {
  StepLR sched(opt, StepLROptions(3).gamma(0.5));
  expect_close(trajectory(sched), {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025});
}

TEST_F(SchedulerTest, ExponentialLRMatchesPyTorch) {
  ExponentialLR sched(opt, ExponentialLROptions(0.9));
  expect_close(trajectory(sched),
               {0.1, 0.09, 0.081, 0.0729, 0.06561, 0.059049, 0.0531441, 0.04782969});
}

TEST_F(SchedulerTest, CosineAnnealingMatchesPyTorchIncludingPastTMax) {
  CosineAnnealingLR sched(opt, CosineAnnealingLROptions(6).eta_min(0.001));
  expect_close(trajectory(sched),
               {0.1, 0.09336825748732973, 0.07525000000000001, 0.0505, 0.025750000000000012,
                0.007631742512670284, 0.001, 0.007631742512670284});
}

// SequentialLR([LinearLR(start_factor=0.25, total_iters=2), CosineAnnealingLR(T_max=5)], [2]).
TEST_F(SchedulerTest, LinearWarmupThenCosineMatchesSequentialLR) {
  CosineAnnealingLR sched(opt, CosineAnnealingLROptions(5).warmup({2, 0.25}));
  expect_close(trajectory(sched), {0.025, 0.0625, 0.1, 0.09045084971874738, 0.06545084971874737,
                                   0.03454915028125263, 0.009549150281252633, 0.0});
}

TEST_F(SchedulerTest, LoadedStateContinuesWithTheSameBits) {
  StepLR first(opt, StepLROptions(2).gamma(0.3).warmup({1, 0.5}));
  for (int e = 0; e < 3; ++e) first.step();
  const auto saved = first.state();
  std::vector<double> uninterrupted;
  for (int e = 0; e < 4; ++e) {
    first.step();
    uninterrupted.push_back(opt.lr());
  }

  // A new optimizer whose lr is the command line's, as after a restart.
  Tensor p2 = Tensor::zeros({1}).requires_grad_();
  SGD opt2({p2}, SGDOptions(0.1));
  StepLR resumed(opt2, StepLROptions(2).gamma(0.3).warmup({1, 0.5}));
  resumed.load_state(saved);
  EXPECT_EQ(resumed.epoch(), 3);
  for (int e = 0; e < 4; ++e) {
    resumed.step();
    EXPECT_EQ(opt2.lr(), uninterrupted[static_cast<size_t>(e)]) << "epoch " << e;
  }
}

TEST_F(SchedulerTest, BadOptionsAndStatesThrow) {
  EXPECT_THROW(StepLR(opt, StepLROptions(0)), Error);
  EXPECT_THROW(ExponentialLR(opt, ExponentialLROptions(0)), Error);
  EXPECT_THROW(CosineAnnealingLR(opt, CosineAnnealingLROptions(0)), Error);
  EXPECT_THROW(CosineAnnealingLR(opt, CosineAnnealingLROptions(3).warmup({1, 0})), Error);
  StepLR sched(opt, StepLROptions(2));
  EXPECT_THROW(sched.load_state({{"epoch", 1.5}, {"base_lr", 0.1}}), Error);
  EXPECT_THROW(sched.load_state({{"epoch", 1}}), Error);
  EXPECT_THROW(sched.load_state({{"epoch", 1}, {"base_lr", 0.1}, {"gamma", 2}}), Error);
  EXPECT_EQ(sched.epoch(), 0) << "a failed load changes nothing";
}

// Options are private: options() reads them, and set_options() validates every change as the
// constructor does (as the optimizers' set_options do), naming the field and the value.
TEST_F(SchedulerTest, OptionsAreValidatedOnEveryChange) {
  const auto message = [](auto f) { return testing::error_message(f); };
  EXPECT_EQ(message([&] { StepLR(opt, StepLROptions(0)); }),
            "StepLROptions::step_size must be >= 1, got 0");
  EXPECT_EQ(message([&] { StepLR(opt, StepLROptions(2).gamma(0)); }),
            "StepLROptions::gamma must be > 0, got 0");
  EXPECT_EQ(message([&] { ExponentialLR(opt, ExponentialLROptions(-1)); }),
            "ExponentialLROptions::gamma must be > 0, got -1");
  EXPECT_EQ(message([&] { CosineAnnealingLR(opt, CosineAnnealingLROptions(0)); }),
            "CosineAnnealingLROptions::t_max must be >= 1, got 0");
  EXPECT_EQ(message([&] { CosineAnnealingLR(opt, CosineAnnealingLROptions(3).eta_min(-1)); }),
            "CosineAnnealingLROptions::eta_min must be >= 0, got -1");
  EXPECT_EQ(message([&] {
              CosineAnnealingLR(opt, CosineAnnealingLROptions(3).warmup({1, 0}));
            }),
            "CosineAnnealingLROptions::warmup.start_factor must be in (0, 1], got 0");
  EXPECT_EQ(message([&] {
              StepLR(opt, StepLROptions(2).warmup({-1, 0.5}));
            }),
            "StepLROptions::warmup.epochs must be >= 0, got -1");

  StepLR step(opt, StepLROptions(2).gamma(0.5));
  step.step(), step.step();  // epoch 2: 0.1 · 0.5
  EXPECT_DOUBLE_EQ(opt.lr(), 0.05);
  EXPECT_EQ(message([&] { step.set_options(StepLROptions(2).gamma(0)); }),
            "StepLROptions::gamma must be > 0, got 0");
  EXPECT_EQ(message([&] {
              step.set_options(StepLROptions(2).warmup({1, 2.0}));
            }),
            "StepLROptions::warmup.start_factor must be in (0, 1], got 2");
  EXPECT_EQ(step.options().gamma(), 0.5) << "a refused change changes nothing";
  EXPECT_DOUBLE_EQ(opt.lr(), 0.05);
  // An accepted change applies from the current epoch on, from the closed form.
  step.set_options(StepLROptions(1).gamma(0.1));
  EXPECT_EQ(step.options().step_size(), 1);
  EXPECT_DOUBLE_EQ(opt.lr(), 0.1 * 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(step.lr(), opt.lr());
  step.set_options(StepLROptions(1).gamma(0.1).warmup({4, 0.5}));  // epoch 2 of a 4-epoch warmup
  EXPECT_DOUBLE_EQ(opt.lr(), 0.1 * (0.5 + 0.5 * 2 / 4));

  CosineAnnealingLR cosine(opt, CosineAnnealingLROptions(4));
  EXPECT_THROW(cosine.set_options(CosineAnnealingLROptions(0)), Error);
  EXPECT_EQ(cosine.options().t_max(), 4);
  ExponentialLR exponential(opt, ExponentialLROptions(0.9));
  EXPECT_THROW(exponential.set_options(ExponentialLROptions(0)), Error);
  EXPECT_EQ(exponential.options().gamma(), 0.9);

  ReduceLROnPlateau plateau(opt, ReduceLROnPlateauOptions().patience(0));
  EXPECT_EQ(message([&] { plateau.set_options(ReduceLROnPlateauOptions().min_lr(-1)); }),
            "ReduceLROnPlateauOptions::min_lr must be >= 0, got -1");
  EXPECT_EQ(message([&] { plateau.set_options(ReduceLROnPlateauOptions().eps(-1)); }),
            "ReduceLROnPlateauOptions::eps must be >= 0, got -1");
  EXPECT_EQ(plateau.options().patience(), 0) << "a refused change changes nothing";
  plateau.step(1.0);
  EXPECT_EQ(plateau.best(), 1.0);
  plateau.set_options(ReduceLROnPlateauOptions().patience(3));
  EXPECT_EQ(plateau.best(), 1.0) << "the same mode keeps the best so far";
  plateau.set_options(ReduceLROnPlateauOptions().mode("max"));
  EXPECT_EQ(plateau.best(), -INFINITY) << "a new mode restarts from its worst";
}

// ---- ReduceLROnPlateau against tests/fixtures/plateau.txt (make_plateau_fixture.py) ----

struct PlateauCase {
  std::string label;
  std::map<std::string, std::string> options;
  std::vector<double> metrics, lrs;
};

std::vector<double> numbers(std::istringstream& words) {
  std::vector<double> out;
  std::string w;
  while (words >> w) out.push_back(w == "nan" ? std::nan("") : std::stod(w));
  return out;
}

std::vector<PlateauCase> load_plateau_fixture() {
  std::vector<PlateauCase> cases;
  fixtures::for_each_line(std::string(NABLA_FIXTURE_DIR) + "/plateau.txt",
                          [&cases](std::istringstream& words, int) {
                            std::string kind;
                            words >> kind;
                            if (kind == "case") {
                              cases.emplace_back();
                              words >> cases.back().label;
                              std::string kv;
                              while (words >> kv) {
                                const size_t eq = kv.find('=');
                                cases.back().options[kv.substr(0, eq)] = kv.substr(eq + 1);
                              }
                            } else if (kind == "metrics" && !cases.empty()) {
                              cases.back().metrics = numbers(words);
                            } else if (kind == "lrs" && !cases.empty()) {
                              cases.back().lrs = numbers(words);
                            } else {
                              throw std::runtime_error("unexpected record '" + kind + "'");
                            }
                          });
  return cases;
}

ReduceLROnPlateauOptions plateau_options(const PlateauCase& c) {
  ReduceLROnPlateauOptions o;
  for (const auto& [key, value] : c.options) {
    if (key == "mode")
      o.mode(value);
    else if (key == "factor")
      o.factor(std::stod(value));
    else if (key == "patience")
      o.patience(std::stoll(value));
    else if (key == "threshold")
      o.threshold(std::stod(value));
    else if (key == "threshold_mode")
      o.threshold_mode(value);
    else if (key == "cooldown")
      o.cooldown(std::stoll(value));
    else if (key == "min_lr")
      o.min_lr(std::stod(value));
    else if (key == "eps")
      o.eps(std::stod(value));
    else
      throw std::runtime_error("plateau.txt: case " + c.label + ": unknown option " + key);
  }
  return o;
}

// The saved-state checks of the schedulers (and of train::EarlyStopping) share optim::read_state;
// each names the scheduler, the entry and what was expected.
TEST_F(SchedulerTest, LoadStateMessagesNameTheSchedulerAndTheEntry) {
  const auto message = [](auto& scheduler, std::vector<std::pair<std::string, double>> state) {
    return testing::error_message([&] { scheduler.load_state(state); });
  };
  StepLR step(opt, StepLROptions(2));
  EXPECT_EQ(message(step, {{"epoch", 1}, {"base_lr", 0.1}, {"gamma", 2}}),
            "StepLR::load_state: unknown entry 'gamma' (expected epoch and base_lr)");
  EXPECT_EQ(message(step, {{"base_lr", 0.1}}), "StepLR::load_state: missing epoch");
  EXPECT_EQ(message(step, {{"epoch", 1.5}, {"base_lr", 0.1}}),
            "StepLR::load_state: epoch must be a non-negative integer, got 1.5");
  EXPECT_EQ(message(step, {{"epoch", 1}, {"base_lr", -1}}),
            "StepLR::load_state: base_lr must be >= 0, got -1");
  ReduceLROnPlateau plateau(opt, ReduceLROnPlateauOptions());
  EXPECT_EQ(message(plateau, {{"epochs", 1}}),
            "ReduceLROnPlateau::load_state: unknown entry 'epochs' (expected epoch, best, "
            "num_bad_epochs, cooldown_counter and lr)");
  EXPECT_EQ(message(plateau, {{"epoch", 1}, {"best", 0.5}, {"lr", 0.1}, {"num_bad_epochs", 0}}),
            "ReduceLROnPlateau::load_state: missing cooldown_counter");
  EXPECT_EQ(message(plateau, {{"epoch", 1},
                              {"best", 0.5},
                              {"num_bad_epochs", -1},
                              {"cooldown_counter", 0},
                              {"lr", 0.1}}),
            "ReduceLROnPlateau::load_state: num_bad_epochs must be a non-negative integer, got -1");
  train::EarlyStopping stopper(train::EarlyStoppingOptions(2));
  EXPECT_EQ(message(stopper, {{"best", 0.5}, {"patience", 2}}),
            "EarlyStopping::load_state: unknown entry 'patience' (expected best, best_epoch, "
            "bad_epochs, last_epoch and stopped_epoch)");
  EXPECT_EQ(message(stopper, {{"best", 0.5},
                              {"best_epoch", 1},
                              {"bad_epochs", 0.5},
                              {"last_epoch", 1},
                              {"stopped_epoch", 0}}),
            "EarlyStopping::load_state: bad_epochs must be a non-negative integer, got 0.5");
}

TEST_F(SchedulerTest, ReduceLROnPlateauMatchesPyTorch) {
  const std::vector<PlateauCase> cases = load_plateau_fixture();
  ASSERT_EQ(cases.size(), 10u) << "a fixture that lost cases must not pass quietly";
  for (const PlateauCase& c : cases) {
    SCOPED_TRACE(c.label);
    ASSERT_EQ(c.metrics.size(), c.lrs.size());
    Tensor p = Tensor::zeros({1}).requires_grad_();
    SGD sgd({p}, SGDOptions(0.1));
    ReduceLROnPlateau sched(sgd, plateau_options(c));
    for (size_t e = 0; e < c.metrics.size(); ++e) {
      sched.step(c.metrics[e]);
      // PyTorch multiplies the same doubles: the same bits.
      EXPECT_EQ(sgd.lr(), c.lrs[e]) << "after step " << e + 1;
    }
  }
}

TEST_F(SchedulerTest, ReduceLROnPlateauResumesFromItsStateWithTheSameDecisions) {
  const std::vector<PlateauCase> cases = load_plateau_fixture();
  for (const PlateauCase& c : cases) {
    SCOPED_TRACE(c.label);
    // Stop after each possible epoch, rebuild optimizer and scheduler, load, go on.
    for (size_t cut = 0; cut <= c.metrics.size(); ++cut) {
      Tensor p = Tensor::zeros({1}).requires_grad_();
      SGD sgd({p}, SGDOptions(0.1));
      ReduceLROnPlateau first(sgd, plateau_options(c));
      for (size_t e = 0; e < cut; ++e) first.step(c.metrics[e]);
      Tensor p2 = Tensor::zeros({1}).requires_grad_();
      SGD sgd2({p2}, SGDOptions(0.1));
      ReduceLROnPlateau resumed(sgd2, plateau_options(c));
      resumed.load_state(first.state());
      EXPECT_EQ(resumed.epoch(), static_cast<int64_t>(cut));
      for (size_t e = cut; e < c.metrics.size(); ++e) {
        resumed.step(c.metrics[e]);
        ASSERT_EQ(sgd2.lr(), c.lrs[e]) << "cut after " << cut << ", step " << e + 1;
      }
    }
  }
}

TEST_F(SchedulerTest, ReduceLROnPlateauRejectsBadOptionsAndStates) {
  const auto message = [&](ReduceLROnPlateauOptions o) {
    return testing::error_message([&] { ReduceLROnPlateau s(opt, o); });
  };
  EXPECT_EQ(message(ReduceLROnPlateauOptions().mode("lowest")),
            "ReduceLROnPlateauOptions::mode 'lowest' is not one of min, max");
  EXPECT_EQ(message(ReduceLROnPlateauOptions().factor(1.0)),
            "ReduceLROnPlateauOptions::factor must be in (0, 1), got 1");
  EXPECT_EQ(message(ReduceLROnPlateauOptions().patience(-1)),
            "ReduceLROnPlateauOptions::patience must be >= 0, got -1");
  EXPECT_EQ(message(ReduceLROnPlateauOptions().threshold_mode("relative")),
            "ReduceLROnPlateauOptions::threshold_mode 'relative' is not one of rel, abs");
  ReduceLROnPlateau sched(opt, ReduceLROnPlateauOptions().patience(0));
  EXPECT_TRUE(std::isinf(sched.best()));
  const auto fresh = sched.state();
  EXPECT_TRUE(std::isnan(fresh[1].second)) << "no best yet: NaN, which JSON can hold as null";
  EXPECT_THROW(sched.load_state({{"epoch", 1}}), Error);
  EXPECT_THROW(sched.load_state({{"epoch", 1},
                                 {"best", 0.5},
                                 {"num_bad_epochs", 0.5},
                                 {"cooldown_counter", 0},
                                 {"lr", 0.1}}),
               Error);
  EXPECT_EQ(sched.epoch(), 0) << "a failed load changes nothing";
  EXPECT_FALSE(sched.step(1.0));
  EXPECT_TRUE(sched.step(1.0)) << "patience 0: the first bad epoch reduces";
  EXPECT_DOUBLE_EQ(opt.lr(), 0.01);
}

}  // namespace
}  // namespace nabla::optim
