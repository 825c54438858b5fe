// Training gives the same bits whatever the thread count: LeNet-5 and the MLP, trained for 30
// batches with SGD momentum (and LeNet-5 with Adam, `nabla train`'s default, AdamW, RMSprop and
// Adagrad) on 1, 2 and 3 threads, end with bitwise identical weights and the same per-batch losses.
// This holds only if every kernel on the path splits its work by the problem size, never by
// num_threads() (src/parallel.h's rule).
#include <gtest/gtest.h>

#include <cstring>

#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"
#include "nabla/threads.h"
#include "nabla/train/trainer.h"
#include "train/train_test_util.h"

namespace nabla::train {
namespace {

struct Outcome {
  std::vector<std::vector<float>> weights;
  std::vector<double> losses;
};

// The optimizer a run uses: "sgd" (momentum 0.9), "adam", "adamw" (weight decay 0.01),
// "rmsprop" (centred, momentum 0.9) or "adagrad" (lr decay 0.01).
std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, nn::Module& model) {
  if (name == "adam")
    return std::make_unique<optim::Adam>(model.parameters(), optim::AdamOptions(1e-3));
  if (name == "adamw")
    return std::make_unique<optim::AdamW>(model.parameters(),
                                          optim::AdamWOptions(1e-3).weight_decay(0.01));
  if (name == "rmsprop")
    return std::make_unique<optim::RMSprop>(
        model.parameters(), optim::RMSpropOptions(1e-3).momentum(0.9).centered(true));
  if (name == "adagrad")
    return std::make_unique<optim::Adagrad>(model.parameters(),
                                            optim::AdagradOptions(1e-2).lr_decay(0.01));
  return std::make_unique<optim::SGD>(model.parameters(), optim::SGDOptions(0.05).momentum(0.9));
}

Outcome train_with_threads(const std::string& model_name, int threads,
                           const std::string& optimizer) {
  set_num_threads(threads);
  const data::Dataset images = testing::random_images(64 * 30, 11);
  const data::DataLoader loader = testing::shuffled_loader(images, 64);
  auto model = testing::preset(model_name, 2);
  const std::unique_ptr<optim::Optimizer> opt = make_optimizer(optimizer, *model);
  Trainer trainer(*model, *opt, loader, TrainerOptions().epochs(1));
  Outcome out;
  trainer.on_batch_end = [&](const ProgressState& s) { out.losses.push_back(s.loss); };
  trainer.fit();
  for (const Tensor& p : model->parameters()) {
    const float* data = p.data<float>();
    out.weights.emplace_back(data, data + p.numel());
  }
  return out;
}

// Bitwise comparison (memcmp), so -0 vs +0 or two NaN payloads would count as different.
void expect_same_bits(const Outcome& a, const Outcome& b, const std::string& what) {
  ASSERT_EQ(a.weights.size(), b.weights.size()) << what;
  for (size_t i = 0; i < a.weights.size(); ++i) {
    ASSERT_EQ(a.weights[i].size(), b.weights[i].size()) << what;
    size_t differing = 0;
    for (size_t k = 0; k < a.weights[i].size(); ++k)
      differing += std::memcmp(&a.weights[i][k], &b.weights[i][k], sizeof(float)) != 0;
    EXPECT_EQ(differing, 0u) << what << ": parameter " << i << " differs in " << differing << " of "
                             << a.weights[i].size() << " values";
  }
  ASSERT_EQ(a.losses.size(), b.losses.size()) << what;
  for (size_t s = 0; s < a.losses.size(); ++s)
    EXPECT_EQ(std::memcmp(&a.losses[s], &b.losses[s], sizeof(double)), 0)
        << what << ": running loss after batch " << s + 1 << " is " << a.losses[s] << " vs "
        << b.losses[s];
}

void check_model(const std::string& model_name, const std::string& optimizer = "sgd") {
  const int threads = num_threads();
  const Outcome one = train_with_threads(model_name, 1, optimizer);
  const Outcome two = train_with_threads(model_name, 2, optimizer);
  const Outcome three = train_with_threads(model_name, 3, optimizer);
  set_num_threads(threads);
  ASSERT_EQ(one.losses.size(), 30u);
  // Training moved the weights (a run that did nothing would agree trivially).
  const Outcome untrained = [&] {
    Outcome u;
    for (const Tensor& p : testing::preset(model_name, 2)->parameters())
      u.weights.emplace_back(p.data<float>(), p.data<float>() + p.numel());
    return u;
  }();
  EXPECT_NE(one.weights, untrained.weights);
  expect_same_bits(one, two, model_name + " 1 vs 2 threads");
  expect_same_bits(one, three, model_name + " 1 vs 3 threads");
}

TEST(Determinism, LeNetWeightsAreBitwiseEqualFor1To3Threads) {
  check_model("lenet5");
}

TEST(Determinism, MlpWeightsAreBitwiseEqualFor1To3Threads) {
  check_model("mlp");
}

// Every optimizer's update is shared out over the threads too (LeNet-5's 61,706 values take two
// ranges, optim/step_parts.h): element-wise, so the same bits.
TEST(Determinism, LeNetWithEachAdaptiveOptimizerIsBitwiseEqualFor1To3Threads) {
  for (const char* optimizer : {"adam", "adamw", "rmsprop", "adagrad"}) {
    SCOPED_TRACE(optimizer);
    check_model("lenet5", optimizer);
  }
}

}  // namespace
}  // namespace nabla::train
