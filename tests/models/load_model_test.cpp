// nabla::load_model: a weights file that carries its model description, class names and input
// normalisation is a model on its own; raw pixels in, probabilities out, through the one
// normalisation formula the data loader uses too.
#include "nabla/load_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "data/temp_dir.h"
#include "nabla/autograd.h"
#include "nabla/data/dataloader.h"
#include "nabla/io/checkpoint.h"
#include "nabla/models.h"
#include "nabla/ops.h"
#include "nabla/random.h"
#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using testing::error_message;
using testing::TempDir;

// A tiny convnet (batch norm included) for 1 x 6 x 6 inputs and 3 classes.
const char* kDescription = R"({"input": [1, 6, 6], "layers": [
  {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
  {"type": "batchnorm2d"}, {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
  {"type": "flatten"}, {"type": "linear", "out_features": 3}]})";

ModelCard tiny_card() {
  ModelCard card;
  card.description = kDescription;
  card.class_names = {"cat", "dog", "bird"};
  card.input_shape = {1, 6, 6};
  card.normalization = {{0.25f}, {0.5f}};
  return card;
}

std::vector<uint8_t> pixels(int64_t n, uint32_t seed) {
  std::vector<uint8_t> p(static_cast<size_t>(n));
  for (auto& v : p) v = static_cast<uint8_t>((seed = seed * 1664525u + 1013904223u) >> 24);
  return p;
}

// A trained-looking model: the running statistics moved by a few training forwards.
std::shared_ptr<nn::Sequential> tiny_model() {
  auto model = model_from_json(kDescription, 3);
  NoGradGuard no_grad;
  model->train(true);
  Generator gen(100);
  for (int i = 0; i < 3; ++i) model->forward(Tensor::randn({4, 1, 6, 6}, gen));
  model->eval();
  return model;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

TEST(LoadModel, AModelFileAloneGivesTheModelItsClassesAndItsInputs) {
  TempDir dir;
  auto model = tiny_model();
  save_model(dir.file("m.safetensors"), *model, tiny_card());
  const LoadedModel loaded = load_model(dir.file("m.safetensors"));
  EXPECT_EQ(loaded.class_names(), (std::vector<std::string>{"cat", "dog", "bird"}));
  EXPECT_EQ(loaded.input_shape(), (std::vector<int64_t>{1, 6, 6}));
  EXPECT_EQ(loaded.normalization().mean, std::vector<float>{0.25f});

  // Raw pixels, HxW: (p / 255 - 0.25) / 0.5 by hand, then the original model.
  const std::vector<uint8_t> image = pixels(36, 7);
  Tensor x = Tensor::empty({1, 1, 6, 6});
  for (size_t i = 0; i < image.size(); ++i)
    x.data<float>()[i] = (static_cast<float>(image[i]) / 255.0f - 0.25f) / 0.5f;
  NoGradGuard no_grad;
  const std::vector<double> want = softmax(model->forward(x), -1).to_vector();
  const std::vector<double> got = loaded.predict(image, {6, 6});
  EXPECT_LT(max_diff(got, want), 1e-6);
  EXPECT_EQ(loaded.predict(image, {1, 6, 6}), got);
  // The same values as floats in [0, 1].
  std::vector<float> unit(image.begin(), image.end());
  for (float& v : unit) v /= 255.0f;
  EXPECT_LT(max_diff(loaded.predict(unit, {6, 6}), got), 1e-6);
}

TEST(LoadModel, BatchesOfRawImagesAndShapesThatAreNotTheInput) {
  TempDir dir;
  save_model(dir.file("m.safetensors"), *tiny_model(), tiny_card());
  const LoadedModel loaded = load_model(dir.file("m.safetensors"));
  const std::vector<uint8_t> two = pixels(72, 9);
  const std::vector<double> batch = loaded.predict(two, {2, 6, 6});
  ASSERT_EQ(batch.size(), 6u);
  const std::vector<double> second =
      loaded.predict(std::vector<uint8_t>(two.begin() + 36, two.end()), {6, 6});
  EXPECT_EQ(std::vector<double>(batch.begin() + 3, batch.end()), second);
  EXPECT_EQ(loaded.predict(two, {2, 1, 6, 6}), batch);
  const std::string message = error_message([&] { loaded.predict(pixels(64, 1), {8, 8}); });
  EXPECT_NE(message.find("an input of shape [8, 8]"), std::string::npos) << message;
  EXPECT_NE(message.find("not the model's [1, 6, 6]"), std::string::npos) << message;
}

// The normalisation lives in one place: a data loader's batch and load_model's input agree bit
// for bit.
TEST(LoadModel, PreparesInputsExactlyAsTheDataLoaderFeedsThem) {
  TempDir dir;
  save_model(dir.file("m.safetensors"), *tiny_model(), tiny_card());
  const LoadedModel loaded = load_model(dir.file("m.safetensors"));
  const std::vector<uint8_t> raw = pixels(5 * 36, 11);
  const data::Dataset set =
      data::Dataset::from_uint8("raw", Shape({1, 6, 6}), raw, {0, 1, 2, 0, 1}, {"a", "b", "c"});
  const data::DataLoader loader(set, data::DataLoaderOptions(5).normalize(loaded.normalization()));
  const Tensor batch = loader.epoch(0).batch(0).images;
  EXPECT_EQ(loaded.prepare(raw.data(), {5, 6, 6}).to_vector(), batch.to_vector());
}

TEST(LoadModel, WeightsWithoutADescriptionAskForOneAndPresetsTakeTheClassCount) {
  TempDir dir;
  ModelConfig config;
  config.num_classes = 4;
  auto lenet = make_model("lenet5", config);
  io::save_weights(dir.file("torch.safetensors"), *lenet, {{"format", "pt"}});
  EXPECT_THROW(load_model(dir.file("torch.safetensors")), NoModelDescription);
  const std::string message = error_message([&] { load_model(dir.file("torch.safetensors")); });
  EXPECT_NE(message.find("no model description"), std::string::npos) << message;

  const LoadedModel loaded =
      load_model(dir.file("torch.safetensors"),
                 LoadModelOptions().model("lenet5").normalization(Normalization{{0.5f}, {0.25f}}));
  EXPECT_EQ(loaded.class_names(), (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(loaded.input_shape(), (std::vector<int64_t>{1, 28, 28}));
  const std::vector<uint8_t> image = pixels(28 * 28, 3);
  Tensor x = Tensor::empty({1, 1, 28, 28});
  for (size_t i = 0; i < image.size(); ++i)
    x.data<float>()[i] = (static_cast<float>(image[i]) / 255.0f - 0.5f) / 0.25f;
  NoGradGuard no_grad;
  lenet->eval();
  EXPECT_LT(max_diff(loaded.predict(image, {28, 28}), softmax(lenet->forward(x), -1).to_vector()),
            1e-6);
}

TEST(LoadModel, ADescriptionThatDoesNotFitNamesTheKeyAndBothShapes) {
  TempDir dir;
  save_model(dir.file("m.safetensors"), *tiny_model(), tiny_card());
  std::string wider = kDescription;
  wider.replace(wider.find("\"out_channels\": 4"), 17, "\"out_channels\": 5");
  const std::string message = error_message(
      [&] { load_model(dir.file("m.safetensors"), LoadModelOptions().model(wider)); });
  EXPECT_NE(message.find("size mismatch for 0.weight: " + dir.file("m.safetensors") +
                         " has shape [4, 1, 3, 3], the model [5, 1, 3, 3]"),
            std::string::npos)
      << message;
  // Missing and extra keys are named.
  io::NamedTensors odd = io::state_dict(*tiny_model());
  odd.erase(odd.begin());
  odd.emplace_back("9.weight", Tensor::zeros({2}));
  io::save_safetensors(dir.file("odd.safetensors"), odd, model_card_metadata(tiny_card()));
  const std::string keys = error_message([&] { load_model(dir.file("odd.safetensors")); });
  EXPECT_NE(keys.find("missing key(s): \"0.weight\""), std::string::npos) << keys;
  EXPECT_NE(keys.find("unexpected key(s): \"9.weight\""), std::string::npos) << keys;
}

TEST(LoadModel, ANormalisationIsRefusedForAFileThatCarriesItsOwn) {
  TempDir dir;
  save_model(dir.file("m.safetensors"), *tiny_model(), tiny_card());
  const std::string message = error_message([&] {
    load_model(dir.file("m.safetensors"),
               LoadModelOptions().normalization(Normalization{{0.5f}, {0.5f}}));
  });
  EXPECT_NE(message.find("carries the normalisation it was trained with"), std::string::npos)
      << message;
  ModelCard bare = tiny_card();
  bare.normalization = {};
  save_model(dir.file("bare.safetensors"), *tiny_model(), bare);
  const std::string zero = error_message([&] {
    load_model(dir.file("bare.safetensors"),
               LoadModelOptions().normalization(Normalization{{0.5f}, {0.0f}}));
  });
  EXPECT_NE(zero.find("channel 0 has std 0"), std::string::npos) << zero;
}

// Checkpoints of nabla train: the card is written from the trainer's config; files written before
// the card existed (the config alone) load the same way, from the directory or a copy anywhere.
TEST(LoadModel, CheckpointsOldAndNewAreModelFiles) {
  TempDir dir;
  auto model = tiny_model();
  io::TrainingState state;
  state.config = std::string(R"({"format": "nabla-train-run", "model": )") + kDescription +
                 R"(, "sample_shape": [1, 6, 6], "class_names": ["cat", "dog", "bird"],
                     "normalization": {"mean": [0.25], "std": [0.5]}})";
  io::save_checkpoint(dir.file("run/best"), *model, nullptr, state);
  io::save_checkpoint(dir.file("run/last"), *model, nullptr, state);
  const io::SafetensorsFile file = io::load_safetensors(dir.file("run/best/model.safetensors"));
  EXPECT_EQ(file.metadata.count("nabla.model"), 1u);
  EXPECT_EQ(file.metadata.at("nabla.classes"), R"(["cat","dog","bird"])");
  EXPECT_NE(file.metadata.at("nabla.input").find(R"("channels":1)"), std::string::npos);

  const std::vector<uint8_t> image = pixels(36, 5);
  const std::vector<double> want = load_model(dir.file("run")).predict(image, {6, 6});
  EXPECT_EQ(load_model(dir.file("run")).path(), dir.file("run/best/model.safetensors"));
  fs::copy_file(dir.file("run/best/model.safetensors"), dir.file("copy.safetensors"));
  EXPECT_EQ(load_model(dir.file("copy.safetensors")).predict(image, {6, 6}), want);

  // Before the card: only "nabla.config".
  io::Metadata old = file.metadata;
  for (const char* key : {"nabla.model", "nabla.classes", "nabla.input"}) old.erase(key);
  io::save_safetensors(dir.file("old.safetensors"), file.tensors, old);
  const LoadedModel from_old = load_model(dir.file("old.safetensors"));
  EXPECT_EQ(from_old.class_names(), (std::vector<std::string>{"cat", "dog", "bird"}));
  EXPECT_EQ(from_old.predict(image, {6, 6}), want);
}

TEST(LoadModel, OtherFormatsPlugInByTheirFirstBytes) {
  TempDir dir;
  testing::write_text(dir.file("model.toy"), "TOYMODEL");
  const std::string refused = error_message([&] { load_model(dir.file("model.toy")); });
  EXPECT_NE(refused.find("not a model file this nabla reads (safetensors"), std::string::npos)
      << refused;
  save_model(dir.file("m.safetensors"), *tiny_model(), tiny_card());
  register_model_format(
      {"toy", [](const std::string& first) { return first.rfind("TOY", 0) == 0; },
       [path = dir.file("m.safetensors")](const std::string&, const LoadModelOptions& options) {
         return load_model(path, options);
       }});
  EXPECT_EQ(load_model(dir.file("model.toy")).class_names()[2], "bird");
}

}  // namespace
}  // namespace nabla
