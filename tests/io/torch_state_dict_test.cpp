// PyTorch state dicts in and out, exactly: tests/fixtures/make_torch_fixtures.py trains the convnet
// preset's architecture in PyTorch (batch norm included) and saves its state dict and its eval-mode
// probabilities on five inputs; nabla loads the file strictly and gives the same probabilities.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "nabla/autograd.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/safetensors.h"
#include "nabla/load_model.h"
#include "nabla/models.h"
#include "nabla/ops.h"
#include "nabla/optim/sgd.h"
#include "nabla/random.h"
#include "test_util.h"

namespace nabla {
namespace {

using testing::error_message;

std::shared_ptr<nn::Sequential> small_convnet() {
  ModelConfig config;
  config.height = config.width = 4;
  config.num_classes = 3;
  return make_model("convnet", config);
}

TEST(TorchStateDict, ConvnetFromPyTorchLoadsStrictlyAndMatchesItsProbabilities) {
  auto model = small_convnet();
  io::load_weights(NABLA_FIXTURE_DIR "/torch_convnet.safetensors", *model, /*strict=*/true);
  model->eval();
  const io::SafetensorsFile io_file =
      io::load_safetensors(NABLA_FIXTURE_DIR "/torch_convnet_io.safetensors");
  const Tensor probabilities = softmax(model->forward(io_file.at("input")), 1);
  const Tensor& expected = io_file.at("probabilities");
  ASSERT_EQ(probabilities.shape(), expected.shape());
  const std::vector<double> got = probabilities.to_vector(), want = expected.to_vector();
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  EXPECT_LT(worst, 1e-5);
  std::printf("convnet (1x4x4, 3 classes): max |p_nabla - p_torch| = %.3g\n", worst);
  // PyTorch trained 3 batches; the counter came in as int64.
  for (const auto& [name, t] : io::state_dict(*model)) {
    if (name.ends_with("num_batches_tracked")) {
      EXPECT_EQ(*t.data<int64_t>(), 3) << name;
    }
  }
}

// The other way: nabla's state dict has PyTorch's keys, in its order, with its dtypes and shapes,
// so torch's load_state_dict(strict=True) takes it.
TEST(TorchStateDict, NablaStateDictHasPyTorchsKeysDtypesAndShapes) {
  const io::SafetensorsFile torch_file =
      io::load_safetensors(NABLA_FIXTURE_DIR "/torch_convnet.safetensors");
  const io::NamedTensors own = io::state_dict(*small_convnet());
  ASSERT_EQ(own.size(), torch_file.tensors.size());
  for (size_t i = 0; i < own.size(); ++i) {
    EXPECT_EQ(own[i].first, torch_file.tensors[i].first);
    EXPECT_EQ(own[i].second.dtype(), torch_file.tensors[i].second.dtype()) << own[i].first;
    EXPECT_EQ(own[i].second.shape(), torch_file.tensors[i].second.shape()) << own[i].first;
  }
  const std::string bytes = io::safetensors_bytes(own);
  EXPECT_NE(bytes.find(R"("1.num_batches_tracked":{"dtype":"I64","shape":[])"), std::string::npos);
}

// nabla -> PyTorch for real. tests/fixtures/nabla_convnet.safetensors is a model file nabla
// wrote (nabla_convnet_file() below; NABLA_WRITE_FIXTURES=1 writes it again);
// make_torch_fixtures.py loads it into torch.nn layers with load_state_dict(strict=True), PyTorch's
// version metadata included, and records PyTorch's probabilities for five raw uint8 images
// normalised as the file's card says. load_model must give the same.
void nabla_convnet_file(const std::string& path) {
  auto model = small_convnet();
  optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1));
  Generator gen(15);
  model->train(true);
  for (int step = 0; step < 3; ++step) {  // so running statistics and counters move
    const Tensor x = Tensor::randn({8, 1, 4, 4}, gen);
    std::vector<int64_t> labels(8);
    for (int64_t& y : labels) y = static_cast<int64_t>(gen.below(3));
    sgd.zero_grad();
    cross_entropy(model->forward(x), labels).backward();
    sgd.step();
  }
  model->eval();
  ModelConfig config;
  config.height = config.width = 4;
  config.num_classes = 3;
  save_model(
      path, *model,
      {preset_json("convnet", config), {"ant", "bee", "cicada"}, {1, 4, 4}, {{0.3f}, {0.6f}}});
}

TEST(TorchStateDict, NablaModelFileLoadsIntoPyTorchStrictlyWithTheSameProbabilities) {
  const std::string file = NABLA_FIXTURE_DIR "/nabla_convnet.safetensors";
  if (std::getenv("NABLA_WRITE_FIXTURES")) nabla_convnet_file(file);
  const LoadedModel model = load_model(file);
  const io::SafetensorsFile io_file =
      io::load_safetensors(NABLA_FIXTURE_DIR "/nabla_convnet_torch_io.safetensors");
  EXPECT_EQ(io_file.metadata.at("load_state_dict"), "strict=True, with PyTorch's _metadata");
  const Tensor& input = io_file.at("input");  // U8 [5, 1, 4, 4], read as int64
  std::vector<uint8_t> pixels;
  for (double v : input.to_vector()) pixels.push_back(static_cast<uint8_t>(v));
  const std::vector<double> got = model.predict(pixels, {5, 1, 4, 4});
  const std::vector<double> want = io_file.at("probabilities").to_vector();
  ASSERT_EQ(got.size(), want.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  EXPECT_LT(worst, 1e-6);
  std::printf("nabla -> PyTorch convnet (1x4x4, 3 classes): max |p_nabla - p_torch| = %.3g\n",
              worst);
}

// Files from before nabla counted batches have no num_batches_tracked: they load strictly and
// leave the counter as it was. Any other missing key, and every extra one, is named.
TEST(TorchStateDict, OldFilesWithoutTheCounterLoadAndOtherKeysAreNamed) {
  auto model = small_convnet();
  io::NamedTensors old;
  for (const auto& [name, t] : io::state_dict(*model))
    if (!name.ends_with("num_batches_tracked")) old.emplace_back(name, t.clone());
  *io::state_dict(*model)[5].second.data<int64_t>() = 7;  // "1.num_batches_tracked"
  io::load_state_dict(*model, old, /*strict=*/true);
  EXPECT_EQ(*io::state_dict(*model)[5].second.data<int64_t>(), 7);

  io::NamedTensors odd = old;
  odd.erase(odd.begin());  // "0.weight"
  odd.emplace_back("extra.weight", Tensor::zeros({1}));
  const std::string message =
      error_message([&] { io::load_state_dict(*model, odd, /*strict=*/true, "odd"); });
  EXPECT_NE(message.find("missing key(s): \"0.weight\"\n"), std::string::npos) << message;
  EXPECT_NE(message.find("unexpected key(s): \"extra.weight\""), std::string::npos) << message;
}

}  // namespace
}  // namespace nabla
