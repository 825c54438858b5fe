// Small in-memory training setups shared by the steady-state and determinism tests: a random
// 28×28 uint8 image set with labels, and a preset model with SGD momentum, as `nabla train`
// builds them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/autograd_slices.h"
#include "nabla/data/dataloader.h"
#include "nabla/models.h"
#include "nabla/nn/sequential.h"
#include "nabla/ops.h"
#include "nabla/optim/sgd.h"
#include "nabla/random.h"
#include "nabla/threads.h"
#include "nabla/train/trainer.h"

namespace nabla::testing {

// n images of 1×28×28 random pixels; label = a function of the pixels' sum so the task is
// learnable, and every class appears.
inline data::Dataset random_images(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<uint8_t> pixels(static_cast<size_t>(n) * 28 * 28);
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    uint64_t sum = 0;
    for (int64_t k = 0; k < 28 * 28; ++k) {
      const auto v = static_cast<uint8_t>(gen.below(256));
      pixels[static_cast<size_t>(i * 28 * 28 + k)] = v;
      sum += v;
    }
    labels[static_cast<size_t>(i)] =
        static_cast<int64_t>((sum / 7 + static_cast<uint64_t>(i)) % 10);
  }
  std::vector<std::string> names;
  for (int c = 0; c < 10; ++c) names.push_back("class" + std::to_string(c));
  return data::Dataset::from_uint8("random", {1, 28, 28}, std::move(pixels), std::move(labels),
                                   std::move(names));
}

inline data::DataLoader shuffled_loader(const data::Dataset& d, int64_t batch_size) {
  return data::DataLoader(
      d, data::DataLoaderOptions(batch_size).shuffle(true).seed(3).normalize({{0.3f}, {0.35f}}));
}

inline std::shared_ptr<nn::Sequential> preset(const std::string& name, uint64_t seed) {
  ModelConfig config;
  config.seed = seed;
  return make_model(name, config);
}

// Preset `name` (weights from `model_seed`) after one epoch of `steps` batches of 64 random
// images (`data_seed`), SGD lr 0.05 momentum 0.9, sliced into `slice_rows` rows (0: whole), on
// `threads` threads.
inline std::shared_ptr<nn::Sequential> trained_preset(const std::string& name, uint64_t model_seed,
                                                      int64_t steps, uint64_t data_seed,
                                                      int threads, int64_t slice_rows) {
  set_num_threads(threads);
  const data::Dataset images = random_images(64 * steps, data_seed);
  const data::DataLoader loader = shuffled_loader(images, 64);
  auto model = preset(name, model_seed);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  train::Trainer(*model, opt, loader, train::TrainerOptions().epochs(1).slice_rows(slice_rows))
      .fit();
  return model;
}

// Every float64 parameter's .grad against central differences (h = 1e-6) of batch_loss(), a
// function of the parameters' current values; to within `tolerance`.
template <class F>
void expect_grads_match_central_differences(nn::Module& model, F&& batch_loss, double tolerance,
                                            const std::string& what = "") {
  const double h = 1e-6;
  for (Tensor p : model.parameters()) {
    const Tensor grad = p.grad();
    ASSERT_TRUE(grad.defined()) << what;
    double* w = p.data<double>();
    for (int64_t k = 0; k < p.numel(); ++k) {
      const double saved = w[k];
      w[k] = saved + h;
      const double up = batch_loss();
      w[k] = saved - h;
      const double down = batch_loss();
      w[k] = saved;
      EXPECT_NEAR(grad.data<double>()[k], (up - down) / (2 * h), tolerance)
          << what << " value " << k;
    }
  }
}

// The gradient BatchSlices sums for `model`'s batch-mean cross-entropy on 10 random rows of 4
// inputs (3 classes; `seed`), in slices of 3, 3 and 4 rows run `together` or apart, against
// central differences of the whole batch's loss (to 1e-8: `model` is float64).
inline void expect_sliced_gradient_matches_central_differences(nn::Sequential& model, uint64_t seed,
                                                               bool together,
                                                               const std::string& what = "") {
  Generator gen(seed);
  const Tensor x = Tensor::randn({10, 4}, gen, kFloat64);
  const std::vector<int64_t> labels = {0, 1, 2, 0, 1, 2, 2, 1, 0, 1};
  auto batch_loss = [&] {
    NoGradGuard no_grad;
    return cross_entropy(model.forward(x), labels).item();
  };
  std::vector<std::vector<int64_t>> slice_labels(3);
  autograd::BatchSlices slices;
  slices.run(
      10, 3,
      [&](int64_t s, int64_t begin, int64_t end) {
        slice_labels[static_cast<size_t>(s)].assign(labels.begin() + begin, labels.begin() + end);
        return cross_entropy(model.forward(x.slice(0, begin, end)),
                             slice_labels[static_cast<size_t>(s)]);
      },
      together);
  expect_grads_match_central_differences(model, batch_loss, 1e-8, what);
}

}  // namespace nabla::testing
