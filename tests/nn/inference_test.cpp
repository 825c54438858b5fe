// nn::infer (nabla/nn/inference.h): a batch in row slices, one thread each, gives the same bits
// on any thread count and the whole forward's numbers up to float rounding; models that cannot
// run sliced (forward hooks, little work per weight) run whole, and training mode is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "nabla/nabla.h"
#include "threads_guard.h"

namespace nabla::nn {
namespace {

using testing::ThreadsGuard;

std::shared_ptr<Sequential> eval_preset(const std::string& name) {
  ModelConfig config;
  config.seed = 3;
  auto model = make_model(name, config);
  model->eval();
  return model;
}

Tensor images(int64_t rows) {
  Generator gen(7);
  return Tensor::randn({rows, 1, 28, 28}, gen);
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data<float>(), b.data<float>(), sizeof(float) * a.numel()) == 0;
}

// LeNet-5 (no buffers) and the convnet (batch norm and dropout, in evaluation mode), 100 rows:
// 4 slices of 25, on 1, 2 and 3 threads.
TEST(Infer, SlicedGivesTheSameBitsOnAnyThreadCountAndTheWholeForwardsNumbers) {
  ThreadsGuard guard;
  for (const std::string preset : {"lenet5", "convnet"}) {
    auto model = eval_preset(preset);
    const Tensor x = images(100);
    ASSERT_EQ(inference_slices(*model, x), 4) << preset;
    Tensor whole;
    {
      NoGradGuard no_grad;
      whole = model->forward(x);
    }
    Tensor first;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      const Tensor sliced = infer(*model, x);
      EXPECT_FALSE(sliced.requires_grad());
      ASSERT_EQ(sliced.shape(), whole.shape()) << preset;
      if (!first.defined()) first = sliced;
      EXPECT_TRUE(same_bits(sliced, first)) << preset << " on " << threads << " threads";
      double worst = 0;
      for (int64_t i = 0; i < whole.numel(); ++i)
        worst = std::max(
            worst, std::abs(double(sliced.data<float>()[i]) - double(whole.data<float>()[i])));
      EXPECT_LT(worst, 1e-4) << preset << ": sliced against whole";
    }
  }
}

TEST(Infer, SlicesFollowTheRowsAndTheModelNotTheThreads) {
  ThreadsGuard guard;
  auto lenet = eval_preset("lenet5");
  set_num_threads(1);
  EXPECT_EQ(inference_slices(*lenet, images(256)), 8);
  set_num_threads(2);
  EXPECT_EQ(inference_slices(*lenet, images(256)), 8);
  EXPECT_EQ(inference_slices(*lenet, images(33)), 2);
  EXPECT_EQ(inference_slices(*lenet, images(32)), 1);  // rows <= slice_rows: whole
  EXPECT_EQ(inference_slices(*lenet, images(256), 64), 4);
  // The MLP does 1 multiply-add per weight and image: 32 rows are not worth a thread.
  EXPECT_EQ(inference_slices(*eval_preset("mlp"), images(256)), 1);
  // A forward hook would see slices, at the same time: whole, and the hook sees every row.
  std::vector<int64_t> rows;
  lenet->add_forward_hook(
      [&](const std::string&, const Module&, const Tensor& out) { rows.push_back(out.size(0)); });
  EXPECT_EQ(inference_slices(*lenet, images(256)), 1);
  infer(*lenet, images(256));
  ASSERT_FALSE(rows.empty());
  for (int64_t r : rows) EXPECT_EQ(r, 256);
}

TEST(Infer, RefusesTrainingModeAndBadArguments) {
  auto model = eval_preset("lenet5");
  model->train();
  try {
    infer(*model, images(64));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is in training mode; call eval() first"),
              std::string::npos)
        << e.what();
  }
  model->eval();
  EXPECT_THROW(infer(*model, images(64), 0), Error);
  EXPECT_THROW(infer(*model, Tensor::scalar(1.0f)), Error);
}

}  // namespace
}  // namespace nabla::nn
