// The Trainer on a small multi-layer perceptron and three Gaussian blobs: it learns, it reports
// what it measured, evaluate() counts correctly, and an interrupted run continued from saved
// states ends with the same bits as one never stopped.
#include "nabla/train/trainer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "nabla/nn/activation.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/sequential.h"
#include "nabla/ops.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/sgd.h"

namespace nabla::train {
namespace {

// n points per class around (0, 3), (3, -2), (-3, -2), unit spread.
data::Dataset blobs(int64_t n, uint64_t seed) {
  Generator gen(seed);
  const double centres[3][2] = {{0, 3}, {3, -2}, {-3, -2}};
  std::vector<float> x;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < 3; ++c) {
      x.push_back(static_cast<float>(centres[c][0] + gen.normal()));
      x.push_back(static_cast<float>(centres[c][1] + gen.normal()));
      y.push_back(c);
    }
  return data::Dataset::from_float("blobs", {2}, x, y, {"top", "right", "left"});
}

std::shared_ptr<nn::Sequential> mlp(uint64_t seed) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(nn::Linear(nn::LinearOptions(2, 16).generator(&gen)));
  model->push_back(nn::ReLU());
  model->push_back(nn::Linear(nn::LinearOptions(16, 3).generator(&gen)));
  return model;
}

data::DataLoader loader(const data::Dataset& d, bool shuffle) {
  return data::DataLoader(d, data::DataLoaderOptions(16).shuffle(shuffle).seed(5));
}

TEST(Trainer, LearnsBlobsAndReportsEachEpoch) {
  auto model = mlp(1);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  optim::StepLR sched(opt, optim::StepLROptions(2).gamma(0.5));
  const auto train_loader = loader(blobs(60, 2), true);
  const auto val_loader = loader(blobs(20, 3), false);
  std::ostringstream progress;
  Trainer trainer(*model, opt, train_loader,
                  TrainerOptions().epochs(4).progress(&progress).interactive(false));
  trainer.validation(&val_loader).scheduler(&sched);
  std::vector<int64_t> seen_epochs;
  int64_t batches = 0;
  trainer.on_epoch_end = [&](const EpochMetrics& m) { seen_epochs.push_back(m.epoch); };
  trainer.on_batch_end = [&](const ProgressState&) { ++batches; };
  const auto rows = trainer.fit();

  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(seen_epochs, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(batches, 4 * train_loader.num_batches());
  EXPECT_DOUBLE_EQ(rows[0].lr, 0.1);
  EXPECT_DOUBLE_EQ(rows[2].lr, 0.05);
  EXPECT_LT(rows.back().train_loss, rows.front().train_loss);
  EXPECT_GT(rows.back().val_acc, 0.9);
  EXPECT_TRUE(rows.back().has_validation());
  EXPECT_GT(rows.back().images_per_s, 0);
  EXPECT_TRUE(model->is_training()) << "validation must hand the model back in training mode";
  EXPECT_NE(progress.str().find("epoch 4/4"), std::string::npos);
}

TEST(Trainer, EvaluateCountsEverySampleOnceAndRestoresTheMode) {
  auto model = mlp(4);
  const data::Dataset d = blobs(11, 6);  // 33 samples: the last batch is short
  const auto l = loader(d, false);
  model->eval();
  const EvalResult r = evaluate(*model, l);
  EXPECT_FALSE(model->is_training());
  EXPECT_EQ(r.samples, 33);
  EXPECT_EQ(r.confusion.total(), 33);
  for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(r.confusion.support(c), 11);
  EXPECT_DOUBLE_EQ(r.accuracy, r.confusion.accuracy());
  // The loss is the mean cross-entropy of the whole set computed in one batch.
  NoGradGuard no_grad;
  const data::Batch all = data::DataLoader(d, data::DataLoaderOptions(100)).epoch(0).batch(0);
  EXPECT_NEAR(r.loss, cross_entropy(model->forward(all.images), all.labels).item(), 1e-6);
}

std::vector<std::vector<double>> weights(const nn::Module& m) {
  std::vector<std::vector<double>> out;
  for (const Tensor& p : m.parameters()) out.push_back(p.to_vector());
  return out;
}

TEST(Trainer, ResumingFromSavedStatesGivesBitwiseTheUninterruptedWeights) {
  const auto train_loader = loader(blobs(30, 7), true);
  auto make = [](nn::Module& m) {
    return std::make_unique<optim::Adam>(m.parameters(), optim::AdamOptions(0.01));
  };

  auto straight = mlp(8);
  auto opt_straight = make(*straight);
  optim::ExponentialLR sched_straight(*opt_straight, optim::ExponentialLROptions(0.7));
  Trainer(*straight, *opt_straight, train_loader, TrainerOptions().epochs(3))
      .scheduler(&sched_straight)
      .fit();

  auto first = mlp(8);
  auto opt_first = make(*first);
  optim::ExponentialLR sched_first(*opt_first, optim::ExponentialLROptions(0.7));
  Trainer(*first, *opt_first, train_loader, TrainerOptions().epochs(2))
      .scheduler(&sched_first)
      .fit();

  // A fresh process would rebuild everything from other initial values and load the states.
  auto resumed = mlp(99);
  {
    NoGradGuard no_grad;
    for (size_t i = 0; i < first->parameters().size(); ++i)
      resumed->parameters()[i].copy_(first->parameters()[i]);
  }
  auto opt_resumed = make(*resumed);
  opt_resumed->load_state(opt_first->state());
  optim::ExponentialLR sched_resumed(*opt_resumed, optim::ExponentialLROptions(0.7));
  sched_resumed.load_state(sched_first.state());
  Trainer(*resumed, *opt_resumed, train_loader, TrainerOptions().epochs(3))
      .scheduler(&sched_resumed)
      .fit(/*first_epoch=*/2);

  EXPECT_EQ(weights(*resumed), weights(*straight));
  EXPECT_NE(weights(*first), weights(*straight)) << "the third epoch must change something";
}

TEST(Trainer, ADivergingLossStopsWithAHint) {
  auto model = mlp(1);
  optim::SGD opt(model->parameters(), optim::SGDOptions(1e30));
  const auto l = loader(blobs(20, 2), true);
  Trainer trainer(*model, opt, l, TrainerOptions().epochs(3));
  try {
    trainer.fit();
    FAIL() << "expected the loss to diverge";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--lr"), std::string::npos) << e.what();
  }
}

// The hooks run in order around optimizer.step(): after_backward sees the step's gradients
// before the update, after_step sees the updated weights; steps count across epochs.
TEST(Trainer, StepHooksRunAroundEachUpdateInOrder) {
  auto model = mlp(1);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.1));
  const auto l = loader(blobs(20, 2), true);  // 60 samples: 4 batches of 16
  Trainer trainer(*model, opt, l, TrainerOptions().epochs(2));
  Tensor weight = model->parameters()[0];
  std::vector<std::string> calls;
  std::vector<int64_t> steps;
  Tensor before;
  trainer.after_backward.push_back([&](const StepInfo& s) {
    ASSERT_TRUE(weight.grad().defined());
    before = weight.detach().clone();
    calls.push_back("backward");
    steps.push_back(s.step);
    EXPECT_EQ(s.input->labels.size(), static_cast<size_t>(s.logits->size(0)));
  });
  trainer.after_backward.push_back([&](const StepInfo&) { calls.push_back("backward2"); });
  trainer.after_step.push_back([&](const StepInfo& s) {
    // SGD without momentum: w_new = w_old - lr * grad, exactly as the hook saw them.
    const std::vector<double> expected = (before - weight.grad() * 0.1).to_vector();
    const std::vector<double> now = weight.detach().to_vector();
    ASSERT_EQ(now.size(), expected.size());
    for (size_t j = 0; j < now.size(); ++j) EXPECT_NEAR(now[j], expected[j], 1e-6) << s.step;
    calls.push_back("step");
  });
  trainer.fit();
  ASSERT_EQ(steps.size(), 8u);
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i], static_cast<int64_t>(i));
  ASSERT_EQ(calls.size(), 24u);
  EXPECT_EQ(calls[0], "backward");
  EXPECT_EQ(calls[1], "backward2");
  EXPECT_EQ(calls[2], "step");
}

}  // namespace
}  // namespace nabla::train
