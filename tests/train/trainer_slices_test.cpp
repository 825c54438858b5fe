// The Trainer's sliced step (trainer.h, "Threads"; autograd_slices.h): a batch cut into slices
// that run forward and backward on threads of their own gives the same bits on any thread count,
// the gradient of the unsliced step up to float rounding, and the gradient that central
// differences measure; models that cannot run sliced run whole.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <span>

#include "nabla/autograd_slices.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/inference.h"
#include "nabla/nn/linear.h"
#include "nabla/ops.h"
#include "nabla/optim/sgd.h"
#include "nabla/threads.h"
#include "nabla/train/trainer.h"
#include "threads_guard.h"
#include "train/train_test_util.h"

namespace nabla::train {
namespace {

using testing::ThreadsGuard;

std::vector<std::vector<float>> weights_of(const nn::Module& model) {
  std::vector<std::vector<float>> out;
  for (const Tensor& p : model.parameters()) {
    const float* data = p.data<float>();
    out.emplace_back(data, data + p.numel());
  }
  return out;
}

// LeNet-5 after 8 steps of batch 64 with SGD momentum, slices of `slice_rows`, on `threads`.
std::vector<std::vector<float>> lenet_after_8_steps(int threads, int64_t slice_rows) {
  return weights_of(*testing::trained_preset("lenet5", 4, 8, 5, threads, slice_rows));
}

size_t differing_values(const std::vector<std::vector<float>>& a,
                        const std::vector<std::vector<float>>& b) {
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < a[i].size(); ++k)
      differing += std::memcmp(&a[i][k], &b[i][k], sizeof(float)) != 0;
  return differing;
}

// 4 slices of 16 on 1, 2 and 3 threads (3 threads share 4 slices unevenly): the same bits.
TEST(TrainerSlices, SameWeightsBitwiseOnOneTwoAndThreeThreads) {
  ThreadsGuard restore;
  const auto one = lenet_after_8_steps(1, 16);
  const auto two = lenet_after_8_steps(2, 16);
  const auto three = lenet_after_8_steps(3, 16);
  ASSERT_EQ(one.size(), two.size());
  ASSERT_EQ(one.size(), three.size());
  EXPECT_EQ(differing_values(one, two), 0u);
  EXPECT_EQ(differing_values(one, three), 0u);
  // And slicing did something: the unsliced run differs (by rounding) somewhere.
  EXPECT_GT(differing_values(one, lenet_after_8_steps(2, 0)), 0u);
}

// The first step's gradients, sliced in 4 and whole, through the after_backward hook.
std::vector<std::vector<float>> first_gradients(int64_t slice_rows) {
  const data::Dataset images = testing::random_images(64, 6);
  const data::DataLoader loader = testing::shuffled_loader(images, 64);
  auto model = testing::preset("lenet5", 7);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.05));
  Trainer trainer(*model, opt, loader, TrainerOptions().epochs(1).slice_rows(slice_rows));
  std::vector<std::vector<float>> grads;
  trainer.after_backward.push_back([&](const StepInfo& info) {
    EXPECT_EQ(info.logits->size(0), 64);  // the hooks see the whole batch's logits
    for (const Tensor& p : model->parameters()) {
      const Tensor g = p.grad().contiguous();
      grads.emplace_back(g.data<float>(), g.data<float>() + g.numel());
    }
  });
  trainer.fit();
  return grads;
}

// Float rounding only: the slices' gradients are summed after each slice's backward instead of
// inside each op's. Tolerance: 1e-5 of the parameter's largest gradient, plus 1e-7.
TEST(TrainerSlices, GradientsMatchTheUnslicedStepToFloatRounding) {
  const auto sliced = first_gradients(16);
  const auto whole = first_gradients(0);
  ASSERT_EQ(sliced.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    ASSERT_EQ(sliced[i].size(), whole[i].size());
    float largest = 0;
    for (float g : whole[i]) largest = std::max(largest, std::fabs(g));
    ASSERT_GT(largest, 0.f) << "parameter " << i << " got no gradient";
    for (size_t k = 0; k < whole[i].size(); ++k)
      ASSERT_NEAR(sliced[i][k], whole[i][k], 1e-5f * largest + 1e-7f)
          << "parameter " << i << ", value " << k;
  }
}

// Gradcheck-style, in float64: BatchSlices' summed gradient of a small MLP's batch-mean loss
// against central differences of that loss; slices of 3, 3 and 4 rows (10 = 3 + 3 + 4).
TEST(TrainerSlices, SlicedGradientMatchesCentralDifferences) {
  ThreadsGuard restore;
  set_num_threads(2);
  nn::Sequential model(nn::Linear(nn::LinearOptions(4, 5).dtype(kFloat64)), nn::Tanh(),
                       nn::Linear(nn::LinearOptions(5, 3).dtype(kFloat64)));
  testing::expect_sliced_gradient_matches_central_differences(model, 9, /*together=*/false);
}

// A second run adds to what .grad holds, as a second backward would; a slice that throws leaves
// every .grad as it was; slice counts outside [1, batch] are refused.
TEST(TrainerSlices, BatchSlicesAccumulatesRethrowsAndChecksItsCount) {
  ThreadsGuard restore;
  set_num_threads(2);
  Tensor w = Tensor::from_vector({1.0, 2.0}).requires_grad_();
  const Tensor x = Tensor::from_vector({1.0, 2.0, 3.0, 4.0}, {2, 2});
  autograd::BatchSlices slices;
  auto mean_of_rows = [&](int64_t, int64_t begin, int64_t end) {
    return mul(x.slice(0, begin, end), w).sum() * (1.0 / static_cast<double>(end - begin));
  };
  slices.run(2, 2, mean_of_rows);
  // d/dw of the batch mean of x·w: the column means of x, (2, 3).
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{2.0, 3.0}));
  slices.run(2, 2, mean_of_rows);
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{4.0, 6.0}));
  EXPECT_THROW(slices.run(2, 2,
                          [&](int64_t s, int64_t begin, int64_t end) -> Tensor {
                            if (s == 1) detail::throw_error("slice 1 fails");
                            return mean_of_rows(s, begin, end);
                          }),
               Error);
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{4.0, 6.0}));
  EXPECT_THROW(slices.run(2, 3, mean_of_rows), Error);
  EXPECT_THROW(slices.run(2, 0, mean_of_rows), Error);
}

// Sets a one-rank SumAcrossRanks on every batch norm (synchronised batch norm, alone).
void synchronise_batch_norms(nn::Module& m) {
  m.sync_statistics([](std::span<double>) {});
  for (const auto& child : m.named_children()) synchronise_batch_norms(*child.second);
}

// Models that cannot run sliced run each batch whole: a forward hook sees all 64 rows at once;
// synchronised batch norm (the convnet's, summed over ranks: slices would need summing over
// both) and too little work per parameter (the MLP: 32 multiply-adds per parameter in a slice
// of 32) give bit for bit the weights of slicing off. LeNet-5, with or without a dropout layer,
// is sliced (its weights differ by rounding).
TEST(TrainerSlices, ModelsWithHooksRankSyncOrLittleWorkRunWhole) {
  const data::Dataset images = testing::random_images(64 * 2, 8);
  const data::DataLoader loader = testing::shuffled_loader(images, 64);
  {
    auto model = testing::preset("lenet5", 1);
    optim::SGD opt(model->parameters(), optim::SGDOptions(0.05));
    std::vector<int64_t> rows;
    model->add_forward_hook([&](const std::string&, const nn::Module&, const Tensor& out) {
      rows.push_back(out.size(0));
    });
    Trainer(*model, opt, loader, TrainerOptions().epochs(1)).fit();
    ASSERT_FALSE(rows.empty());
    for (int64_t r : rows) EXPECT_EQ(r, 64);
  }
  std::string lenet_dropout = preset_json("lenet5");
  const size_t flatten = lenet_dropout.find("\"flatten\"");
  ASSERT_NE(flatten, std::string::npos);
  lenet_dropout.insert(lenet_dropout.rfind('{', flatten), "{\"type\": \"dropout\", \"p\": 0.5}, ");
  struct Case {
    std::string name, json;
    bool synchronised, sliced;
  };
  const std::vector<Case> cases = {{"convnet, synchronised", preset_json("convnet"), true, false},
                                   {"mlp", preset_json("mlp"), false, false},
                                   {"lenet5 + dropout", lenet_dropout, false, true},
                                   {"lenet5", preset_json("lenet5"), false, true}};
  for (const Case& c : cases) {
    std::vector<std::vector<float>> runs[2];
    for (int64_t slice_rows : {int64_t{32}, int64_t{0}}) {
      auto model = model_from_json(c.json, 1);
      if (c.synchronised) synchronise_batch_norms(*model);
      optim::SGD opt(model->parameters(), optim::SGDOptions(0.05));
      Trainer(*model, opt, loader, TrainerOptions().epochs(1).slice_rows(slice_rows)).fit();
      runs[slice_rows == 0] = weights_of(*model);
    }
    if (c.sliced) {
      EXPECT_GT(differing_values(runs[0], runs[1]), 0u) << c.name;
    } else {
      EXPECT_EQ(differing_values(runs[0], runs[1]), 0u) << c.name;
    }
  }
}

// Holds the calling thread until `seconds` have passed on the clock EpochTimes reads: a hook that
// takes a known least time, whatever the machine's speed.
void spend(double seconds) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
         seconds) {
  }
}

// Trainer::epoch_times(): every step counted, each part where its time went (the hooks put known
// least times into the optimizer's part and the rest), the parts within the epoch's seconds, and
// the slices' part only when the step ran sliced.
TEST(TrainerSlices, EpochTimesSayWhereTheStepsWent) {
  ThreadsGuard restore;
  set_num_threads(2);
  const data::Dataset images = testing::random_images(192, 6);
  const data::DataLoader loader = testing::shuffled_loader(images, 64);
  for (int64_t slice_rows : {int64_t{32}, int64_t{0}}) {
    SCOPED_TRACE("slice_rows " + std::to_string(slice_rows));
    auto model = testing::preset("lenet5", 7);
    optim::SGD opt(model->parameters(), optim::SGDOptions(0.05));
    Trainer trainer(*model, opt, loader, TrainerOptions().epochs(1).slice_rows(slice_rows));
    trainer.after_backward.push_back([](const StepInfo&) { spend(0.003); });
    trainer.after_step.push_back([](const StepInfo&) { spend(0.002); });
    const EpochMetrics m = trainer.run_epoch(0);
    const EpochTimes& t = trainer.epoch_times();
    EXPECT_EQ(t.steps, 3);
    EXPECT_GE(t.optimizer, 3 * 0.003);
    EXPECT_GE(t.other, 3 * 0.002);
    EXPECT_GT(t.forward_backward, 0.0);
    EXPECT_GE(t.data, 0.0);
    EXPECT_LE(t.data + t.forward_backward + t.optimizer + t.other, m.seconds);
    EXPECT_LE(t.slices + t.gradient_sum, t.forward_backward);
    if (slice_rows > 0) {
      EXPECT_GT(t.slices, 0.0);
      // Two slices of LeNet-5's forward and backward per step, each timed on its own thread.
      EXPECT_GT(t.slice_work, 0.0);
      EXPECT_GE(t.gradient_sum, 0.0);
    } else {
      EXPECT_EQ(t.slices, 0.0);
      EXPECT_EQ(t.slice_work, 0.0);
      EXPECT_EQ(t.gradient_sum, 0.0);
    }
  }
  // Slices that run together (LeNet-5 with dropout, whose slices meet to share one mask): their
  // span counted, not their summed durations, which include waiting for each other.
  {
    std::string json = preset_json("lenet5");
    json.insert(json.rfind('{', json.find("\"flatten\"")), "{\"type\": \"dropout\", \"p\": 0.5}, ");
    auto model = model_from_json(json, 1);
    optim::SGD opt(model->parameters(), optim::SGDOptions(0.05));
    Trainer trainer(*model, opt, loader, TrainerOptions().epochs(1));
    trainer.run_epoch(0);
    ASSERT_EQ(nn::slicing(*model), nn::Slicing::together);
    EXPECT_GT(trainer.epoch_times().slices, 0.0);
    EXPECT_EQ(trainer.epoch_times().slice_work, 0.0);
  }
  // A new epoch starts its own count.
  auto model = testing::preset("lenet5", 7);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.05));
  Trainer trainer(*model, opt, loader, TrainerOptions().epochs(2));
  trainer.fit();
  EXPECT_EQ(trainer.epoch_times().steps, 3);
}

}  // namespace
}  // namespace nabla::train
