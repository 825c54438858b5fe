// Early stopping (train/early_stopping.h) on crafted loss sequences, and the schedules and
// regularisation of `nabla train` end to end: early stopping with OUT/best and resume,
// reduce-on-plateau with its state in the checkpoint, cosine with warmup, weight decay, clipping.
#include "nabla/train/early_stopping.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "app/run.h"
#include "nabla/io/checkpoint.h"
#include "nabla/models.h"
#include "nabla/optim/lr_scheduler.h"
#include "nabla/optim/sgd.h"
#include "test_util.h"
#include "train/fake_run_fixture.h"

namespace nabla::train {
namespace {

// The epoch (1-based) after which `stopper` says stop, feeding `losses` in order; 0 if never.
int64_t stop_epoch(EarlyStopping& stopper, const std::vector<double>& losses) {
  for (size_t i = 0; i < losses.size(); ++i)
    if (stopper.update(static_cast<int64_t>(i) + 1, losses[i])) return static_cast<int64_t>(i) + 1;
  return 0;
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  EarlyStopping stopper(EarlyStoppingOptions(3));
  //                          1    2    3     4    5    6    7    8
  EXPECT_EQ(stop_epoch(stopper, {1.0, 0.8, 0.81, 0.7, 0.75, 0.7, 0.72, 0.6}), 7);
  EXPECT_EQ(stopper.best_epoch(), 4);
  EXPECT_DOUBLE_EQ(stopper.best(), 0.7) << "an equal loss (epoch 6) is not an improvement";
  EXPECT_EQ(stopper.bad_epochs(), 3);
  EXPECT_EQ(stopper.reason(), "validation loss did not improve for 3 epochs (best 0.7 at epoch 4)");
  EXPECT_THROW(stopper.update(8, 0.6), Error) << "no updates after the stop";
}

TEST(EarlyStopping, MinDeltaAndNanLossesCountAsBadEpochs) {
  EarlyStopping stopper(EarlyStoppingOptions(2).min_delta(0.05));
  //                          1    2     3    4    5
  EXPECT_EQ(stop_epoch(stopper, {1.0, 0.97, 0.9, NAN, 0.86}), 5);
  EXPECT_EQ(stopper.best_epoch(), 3) << "0.97 is within min_delta of 1.0; 0.86 of 0.9";
  EXPECT_NE(stopper.reason().find("by more than 0.05 for 2 epochs"), std::string::npos);

  EarlyStopping patient(EarlyStoppingOptions(1));
  EXPECT_TRUE(patient.update(1, NAN)) << "patience 1: a NaN first epoch is already a bad one";
  EXPECT_EQ(patient.reason(), "validation loss did not improve for 1 epoch (no finite loss yet)");
}

TEST(EarlyStopping, PatienceOneStopsAtTheFirstBadEpoch) {
  EarlyStopping stopper(EarlyStoppingOptions(1));
  EXPECT_EQ(stop_epoch(stopper, {0.5, 0.4, 0.3, 0.35, 0.2}), 4);
  EXPECT_TRUE(stopper.stopped());
  EXPECT_EQ(stopper.stopped_epoch(), 4);
}

TEST(EarlyStopping, StateRoundTripGivesTheSameDecisions) {
  const std::vector<double> losses = {1.0, 0.9, 0.95, 0.92, 0.89, 0.9, 0.9, 0.9};
  EarlyStopping straight(EarlyStoppingOptions(3));
  const int64_t expected = stop_epoch(straight, losses);
  ASSERT_EQ(expected, 8);
  for (size_t cut = 0; cut < losses.size(); ++cut) {
    EarlyStopping first(EarlyStoppingOptions(3));
    for (size_t i = 0; i < cut; ++i) first.update(static_cast<int64_t>(i) + 1, losses[i]);
    EarlyStopping resumed(EarlyStoppingOptions(3));
    resumed.load_state(first.state());
    int64_t stopped = 0;
    for (size_t i = cut; i < losses.size() && !stopped; ++i)
      if (resumed.update(static_cast<int64_t>(i) + 1, losses[i]))
        stopped = static_cast<int64_t>(i) + 1;
    EXPECT_EQ(stopped, expected) << "cut after epoch " << cut;
  }
}

TEST(EarlyStopping, BadOptionsAndStatesAreNamed) {
  try {
    EarlyStopping s(EarlyStoppingOptions(0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "EarlyStoppingOptions::patience must be >= 1, got 0");
  }
  EXPECT_THROW(EarlyStopping(EarlyStoppingOptions(2).min_delta(-1)), Error);
  EarlyStopping s(EarlyStoppingOptions(2));
  EXPECT_THROW(s.load_state({{"best", 0.5}}), Error);
  EXPECT_THROW(s.load_state({{"best", NAN},
                             {"best_epoch", 3},
                             {"bad_epochs", 0},
                             {"last_epoch", 3},
                             {"stopped_epoch", 0}}),
               Error);
  s.update(1, 1.0);
  EXPECT_THROW(s.update(1, 0.5), Error) << "epochs must increase";
}

// ---- end to end: nabla train ----

class ScheduleRunTest : public nabla::testing::FakeFashionMnistTest {
 protected:
  ScheduleRunTest() : FakeFashionMnistTest(300, 60) {}
  app::RunOptions small(const std::string& out, int64_t epochs) const {
    app::RunOptions o = run_options(out, epochs);
    o.model = "mlp";
    o.batch_size = 40;
    o.optimizer = "sgd";
    o.lr = 0.05;
    o.train_subset = 200;
    o.test_subset = 60;
    return o;
  }
  static app::ResumeOptions resume(int64_t epochs) {
    app::ResumeOptions r;
    r.epochs = epochs;
    r.threads = 1;
    return r;
  }
};

// min_delta 100: only the first epoch improves, so with patience 2 the run stops after epoch 3.
TEST_F(ScheduleRunTest, EarlyStoppingEndsTheRunKeepsTheBestLossAndSurvivesResume) {
  app::RunOptions o = small("stop", 10);
  o.early_stopping = 2;
  o.early_stopping_min_delta = 100;
  const app::RunResult r = app::run_training(o, log);
  EXPECT_EQ(r.stopped_early, 3);
  ASSERT_EQ(r.history.size(), 3u);
  EXPECT_EQ(r.best_epoch, 1) << "OUT/best follows early stopping's metric";
  EXPECT_NE(log.str().find("early stopping after epoch 3 of 10: validation loss did not improve by "
                           "more than 100 for 2 epochs (best "),
            std::string::npos)
      << log.str();
  EXPECT_EQ(io::read_training_state(o.out_dir + "/best").epoch, 1);
  EXPECT_EQ(io::read_training_state(o.out_dir + "/final").epoch, 3);

  std::ostringstream again;
  const app::RunResult resumed = app::resume_training(o.out_dir, resume(12), again);
  EXPECT_EQ(resumed.history.size(), 3u) << "a stopped run stays stopped";
  EXPECT_EQ(resumed.stopped_early, 3);
  EXPECT_NE(again.str().find("early stopping: the run already stopped after epoch 3"),
            std::string::npos)
      << again.str();
}

TEST_F(ScheduleRunTest, WithoutEarlyStoppingBestIsTheBestValidationAccuracy) {
  app::RunOptions o = small("acc", 2);
  const app::RunResult r = app::run_training(o, log);
  const size_t best = r.history[0].val_acc >= r.history[1].val_acc ? 1 : 2;
  EXPECT_EQ(r.best_epoch, static_cast<int64_t>(best));
}

// The plateau's state (best, bad epochs, cooldown, lr) is in the checkpoint: 2 epochs + resume
// to 4 give the lrs of 4 straight epochs. A tiny threshold makes it reduce once the loss flattens.
TEST_F(ScheduleRunTest, PlateauScheduleResumesWithTheSameLearningRates) {
  app::RunOptions o = small("plateau", 4);
  o.lr_schedule = "plateau";
  o.lr_patience = 0;
  o.lr_gamma = 0.5;
  const app::RunResult straight = app::run_training(o, log);
  app::RunOptions part = o;
  part.epochs = 2;
  part.out_dir = dir.file("plateau_part");
  app::run_training(part, log);
  const app::RunResult resumed = app::resume_training(part.out_dir, resume(4), log);
  ASSERT_EQ(straight.history.size(), 4u);
  ASSERT_EQ(resumed.history.size(), 4u);
  for (size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(resumed.history[e].lr, straight.history[e].lr) << "epoch " << e + 1;
    EXPECT_EQ(resumed.history[e].val_loss, straight.history[e].val_loss) << "epoch " << e + 1;
  }
  // The lrs follow ReduceLROnPlateau fed the same validation losses.
  Tensor p = Tensor::zeros({1}).requires_grad_();
  optim::SGD sgd({p}, optim::SGDOptions(0.05));
  optim::ReduceLROnPlateau ref(sgd, optim::ReduceLROnPlateauOptions().patience(0).factor(0.5));
  for (size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(straight.history[e].lr, sgd.lr()) << "epoch " << e + 1;
    ref.step(straight.history[e].val_loss);
  }
}

TEST_F(ScheduleRunTest, CosineWithWarmupRunsEndToEnd) {
  app::RunOptions o = small("cosine", 5);
  o.lr_schedule = "cosine";
  o.warmup_epochs = 2;
  const app::RunResult r = app::run_training(o, log);
  // Warmup from lr/3 over 2 epochs, then cosine over the remaining 3 (T_max = 3).
  const std::vector<double> expected = {0.05 / 3, 0.05 * (1.0 / 3 + (2.0 / 3) / 2), 0.05,
                                        0.05 * (1 + std::cos(M_PI / 3)) / 2,
                                        0.05 * (1 + std::cos(2 * M_PI / 3)) / 2};
  ASSERT_EQ(r.history.size(), 5u);
  for (size_t e = 0; e < 5; ++e) EXPECT_NEAR(r.history[e].lr, expected[e], 1e-15) << e;
  EXPECT_GT(r.test.accuracy, 0.3);
}

// L2 weight decay shrinks the weights: the same run with --weight-decay ends with a smaller norm.
TEST_F(ScheduleRunTest, WeightDecayShrinksTheWeightsAndClippingBoundsTheSteps) {
  const auto weight_norm = [&](const app::RunResult& r) {
    const app::TrainedModel m = app::load_trained_model(r.out_dir + "/final");
    double s = 0;
    for (const auto& [name, t] : m.model->named_parameters())
      if (name.find("weight") != std::string::npos)
        for (double v : t.to_vector()) s += v * v;
    return std::sqrt(s);
  };
  app::RunOptions plain = small("plain", 2);
  app::RunOptions decayed = small("decayed", 2);
  decayed.weight_decay = 0.5;
  app::RunOptions clipped = small("clipped", 2);
  clipped.clip_grad_norm = 1e-3;
  const double n_plain = weight_norm(app::run_training(plain, log));
  const double n_decayed = weight_norm(app::run_training(decayed, log));
  EXPECT_LT(n_decayed, 0.95 * n_plain);

  // Plain SGD with gradients clipped to norm 1e-3: each of the 8 steps moves the parameters by at
  // most lr · 1e-3, measured from the initial weights (the preset with the run's seed).
  const app::RunResult c = app::run_training(clipped, log);
  const auto initial = make_model("mlp", ModelConfig{});
  const app::TrainedModel final_model = app::load_trained_model(c.out_dir + "/final");
  double moved = 0;
  const auto before = initial->parameters(), after = final_model.model->parameters();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    const auto b = before[i].to_vector(), a = after[i].to_vector();
    for (size_t k = 0; k < a.size(); ++k) moved += (a[k] - b[k]) * (a[k] - b[k]);
  }
  moved = std::sqrt(moved);
  EXPECT_GT(moved, 0.0);
  EXPECT_LE(moved, 8 * 0.05 * 1e-3 * (1 + 1e-4));
}

TEST_F(ScheduleRunTest, BadScheduleOptionsAreNamed) {
  const auto message = [&](app::RunOptions o) {
    return nabla::testing::error_message([&] { app::run_training(o, log); });
  };
  app::RunOptions o = small("bad", 1);
  o.lr_schedule = "plateau";
  o.warmup_epochs = 1;
  EXPECT_NE(message(o).find("--warmup-epochs does not combine with --lr-schedule plateau"),
            std::string::npos);
  o = small("bad2", 1);
  o.lr_patience = 3;
  EXPECT_NE(message(o).find("--lr-patience, --lr-cooldown and --min-lr apply to --lr-schedule "
                            "plateau, not none"),
            std::string::npos);
  o = small("bad3", 1);
  o.early_stopping = 2;
  o.val_fraction = 0;
  EXPECT_NE(message(o).find("--early-stopping watches the validation loss"), std::string::npos);
  // The library names its option field; the run checks the flag first and names the flag.
  o = small("bad4", 1);
  o.early_stopping = 2;
  o.early_stopping_min_delta = -1;
  EXPECT_EQ(message(o), "--early-stopping-min-delta must be a finite number >= 0, got -1");
  EXPECT_EQ(
      nabla::testing::error_message([] { EarlyStopping(EarlyStoppingOptions(2).min_delta(-1)); }),
      "EarlyStoppingOptions::min_delta must be a finite number >= 0, got -1");
}

}  // namespace
}  // namespace nabla::train
