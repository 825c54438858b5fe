// LeNet-5 on Fashion-MNIST, the way a C++ program uses nabla as a library: a model written as
// its own nn::Module, a DataLoader, the Trainer, and a checkpoint saved and loaded back.
// It links nabla::train (which brings nabla::core and nabla::data) and nothing else.
//
//   example_lenet OUT_DIR [FASHION_MNIST_DIR] [EPOCHS]
//
// FASHION_MNIST_DIR defaults to data::kFashionMnistDir; when it holds no Fashion-MNIST it trains on
// a small synthetic set of the same shape instead, where class c is a bright band of rows, so the
// example runs anywhere in a second. Exits non-zero when the reloaded model does not predict
// exactly what the trained one does.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nabla/data/dataloader.h"
#include "nabla/data/datasets.h"
#include "nabla/io/checkpoint.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/pooling.h"
#include "nabla/ops.h"
#include "nabla/optim/adam.h"
#include "nabla/random.h"
#include "nabla/train/trainer.h"

using namespace nabla;

// A model is a Module subclass: register its layers (as register_module) so parameters(),
// train()/eval() and checkpoints find them, and write forward().
class LeNet : public nn::Module {
 public:
  explicit LeNet(int64_t classes) {
    conv1_ = register_module(
        "conv1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 6, 5).padding(2)));  // 6x28x28
    conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(6, 16, 5));          // 16x10x10
    fc1_ = register_module("fc1", std::make_shared<nn::Linear>(nn::LinearOptions(16 * 5 * 5, 120)));
    fc2_ = register_module("fc2", std::make_shared<nn::Linear>(nn::LinearOptions(120, 84)));
    fc3_ = register_module("fc3", std::make_shared<nn::Linear>(nn::LinearOptions(84, classes)));
  }

  // x: (B, 1, 28, 28) -> logits (B, classes)
  Tensor forward(const Tensor& x) override {
    Tensor h = pool_(relu((*conv1_)(x)));  // (B, 6, 14, 14)
    h = pool_(relu((*conv2_)(h)));         // (B, 16, 5, 5)
    h = h.reshape({h.shape()[0], 16 * 5 * 5});
    h = relu((*fc1_)(h));
    h = relu((*fc2_)(h));
    return (*fc3_)(h);
  }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::Linear> fc1_, fc2_, fc3_;
  nn::MaxPool2d pool_{2};  // no parameters, so it need not be registered
};

// `n` 28x28 images, class c a bright band over rows 2c .. 2c+7 on faint noise.
data::Dataset synthetic_set(const std::string& name, int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 10;
    labels.push_back(label);
    for (int64_t y = 0; y < 28; ++y)
      for (int64_t x = 0; x < 28; ++x) {
        const bool band = y >= 2 * label && y < 2 * label + 8;
        pixels.push_back(static_cast<uint8_t>((band ? 180 : 0) + gen.below(60)));
      }
  }
  std::vector<std::string> classes;
  for (int c = 0; c < 10; ++c) classes.push_back("band " + std::to_string(c));
  return data::Dataset::from_uint8(name, {1, 28, 28}, std::move(pixels), std::move(labels),
                                   classes);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [FASHION_MNIST_DIR] [EPOCHS]\n", argv[0]);
    return 2;
  }
  const std::string out_dir = argv[1];
  const std::string data_dir = argc > 2 ? argv[2] : data::kFashionMnistDir;
  const int64_t epochs = argc > 3 ? std::atoll(argv[3]) : 1;

  data::Dataset train_set, test_set;
  const std::filesystem::path images = std::filesystem::path(data_dir) / "train-images-idx3-ubyte";
  if (std::filesystem::exists(images) || std::filesystem::exists(images.string() + ".gz")) {
    train_set = data::load_fashion_mnist(data_dir, data::Split::Train);
    test_set = data::load_fashion_mnist(data_dir, data::Split::Test).first(2000);
  } else {
    std::printf("no Fashion-MNIST in '%s': training on synthetic images\n", data_dir.c_str());
    train_set = synthetic_set("synthetic train", 400, 1);
    test_set = synthetic_set("synthetic test", 100, 2);
  }

  // Normalise with the training set's statistics; shuffle with a seed, so runs repeat.
  const data::Normalization norm = data::compute_normalization(train_set);
  data::DataLoader train_loader(train_set,
                                data::DataLoaderOptions(32).shuffle(true).seed(1).normalize(norm));
  data::DataLoader test_loader(test_set, data::DataLoaderOptions(100).normalize(norm));

  LeNet model(train_set.num_classes());
  optim::Adam opt(model.parameters(), optim::AdamOptions(1e-3));
  train::Trainer trainer(model, opt, train_loader, train::TrainerOptions().epochs(epochs));
  trainer.validation(&test_loader);
  trainer.on_epoch_end = [](const train::EpochMetrics& m) {
    std::printf("epoch %lld: train loss %.4f, test accuracy %.2f%%\n",
                static_cast<long long>(m.epoch), m.train_loss, 100 * m.val_acc);
  };
  trainer.fit();

  // Save weights and optimizer state, then load them into a fresh model and optimizer.
  io::TrainingState state;
  state.epoch = epochs;
  io::save_checkpoint(out_dir, model, &opt, state);
  LeNet restored(train_set.num_classes());
  optim::Adam restored_opt(restored.parameters(), optim::AdamOptions(1e-3));
  io::load_checkpoint(out_dir, restored, &restored_opt);

  const train::EvalResult before = train::evaluate(model, test_loader);
  const train::EvalResult after = train::evaluate(restored, test_loader);
  std::printf("saved to %s; reloaded model: test accuracy %.2f%% (trained: %.2f%%)\n",
              out_dir.c_str(), 100 * after.accuracy, 100 * before.accuracy);
  return after.loss == before.loss && after.accuracy == before.accuracy ? 0 : 1;
}
