// PyTorch state dicts in and out, exactly: tests/fixtures/make_torch_fixtures.py trains the convnet
// preset's architecture in PyTorch (batch norm included) and saves its state dict and its eval-mode
// probabilities on five inputs; nabla loads the file strictly and gives the same probabilities.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "nabla/io/checkpoint.h"
#include "nabla/io/safetensors.h"
#include "nabla/models.h"
#include "nabla/ops.h"
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
