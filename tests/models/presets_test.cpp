// The presets: output shapes, parameter counts computed from the layer sizes, stable
// PyTorch-style parameter names, seeding, other input sizes, the dropout override, and that each
// preset is exactly its JSON description.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nabla/nabla.h"
#include "test_util.h"

using namespace nabla;
using nabla::testing::error_message;
using nabla::testing::names_of;

namespace {

int64_t parameter_count(const nn::Module& model) {
  int64_t count = 0;
  for (const Tensor& p : model.parameters()) count += p.numel();
  return count;
}

// conv: OC·C·K² (+ OC bias); linear: out·in (+ out); batch norm: 2·C.
int64_t conv_params(int64_t c, int64_t oc, int64_t k, bool bias = true) {
  return oc * c * k * k + (bias ? oc : 0);
}
int64_t linear_params(int64_t in, int64_t out, bool bias = true) {
  return out * in + (bias ? out : 0);
}

template <class M>
int count_of(const nn::Sequential& model) {
  int n = 0;
  for (const auto& child : model.children()) n += child->layer_type() == &M::description();
  return n;
}

}  // namespace

TEST(Presets, Lenet5HasTheClassicShapeAnd61706Parameters) {
  auto model = make_model("lenet5");
  Generator gen(1);
  EXPECT_EQ(model->forward(Tensor::randn({4, 1, 28, 28}, gen)).shape(), Shape({4, 10}));
  const int64_t expected = conv_params(1, 6, 5) + conv_params(6, 16, 5) +
                           linear_params(16 * 5 * 5, 120) + linear_params(120, 84) +
                           linear_params(84, 10);
  EXPECT_EQ(expected, 61706);
  EXPECT_EQ(parameter_count(*model), expected);
  EXPECT_EQ(names_of(model->named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "7.weight",
                                      "7.bias", "9.weight", "9.bias", "11.weight", "11.bias"}));
  EXPECT_EQ(nn::to_string(*(*model)[0]),
            "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
  EXPECT_EQ(model->at<nn::Linear>(7).weight.shape(), Shape({120, 400}));
}

TEST(Presets, Lenet5ComputesTheFlattenSizeFromTheInput) {
  // 32×32×3: conv 32 -> pool 16 -> conv 12 -> pool 6, so 16·6·6 = 576 features.
  auto rgb = make_model("lenet5", {.in_channels = 3, .height = 32, .width = 32, .num_classes = 7});
  EXPECT_EQ(rgb->at<nn::Linear>(7).weight.shape(), Shape({120, 576}));
  EXPECT_EQ(rgb->forward(Tensor::ones({2, 3, 32, 32})).shape(), Shape({2, 7}));
  // 30×30: odd sizes before a pool get floor_mode (15 -> conv 11 -> pool 5), no error.
  auto odd = make_model("lenet5", {.height = 30, .width = 30});
  EXPECT_EQ(odd->at<nn::Linear>(7).weight.shape(), Shape({120, 16 * 5 * 5}));
  EXPECT_EQ(odd->forward(Tensor::ones({1, 1, 30, 30})).shape(), Shape({1, 10}));
}

TEST(Presets, MlpIs784To256To256To10) {
  auto model = make_model("mlp");
  EXPECT_EQ(parameter_count(*model),
            linear_params(784, 256) + linear_params(256, 256) + linear_params(256, 10));
  EXPECT_EQ(
      names_of(model->named_parameters()),
      (std::vector<std::string>{"1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"}));
  EXPECT_EQ(model->forward(Tensor::ones({3, 1, 28, 28})).shape(), Shape({3, 10}));
  EXPECT_EQ(count_of<nn::Dropout>(*model), 0);
  auto dropped = make_model("mlp", {.dropout = 0.2});
  EXPECT_EQ(count_of<nn::Dropout>(*dropped), 2);
  EXPECT_EQ(dropped->at<nn::Dropout>(3).options.p(), 0.2);
}

TEST(Presets, ConvnetShapesParametersAndBuffers) {
  auto model = make_model("convnet");
  Generator gen(2);
  EXPECT_EQ(model->forward(Tensor::randn({2, 1, 28, 28}, gen)).shape(), Shape({2, 10}));
  // Convolutions and the hidden Linear feed a batch norm, so they have no bias.
  const int64_t expected = conv_params(1, 32, 3, false) + 2 * 32 + conv_params(32, 32, 3, false) +
                           2 * 32 + conv_params(32, 64, 3, false) + 2 * 64 +
                           conv_params(64, 64, 3, false) + 2 * 64 +
                           linear_params(64 * 7 * 7, 256, false) + 2 * 256 + linear_params(256, 10);
  EXPECT_EQ(parameter_count(*model), expected);
  EXPECT_EQ(count_of<nn::BatchNorm2d>(*model), 4);
  EXPECT_EQ(count_of<nn::BatchNorm1d>(*model), 1);
  EXPECT_EQ(count_of<nn::Dropout>(*model), 3);
  std::vector<std::string> buffers = names_of(model->named_buffers());
  ASSERT_EQ(buffers.size(), 15u);  // mean, variance and batch counter of 5 norms
  EXPECT_EQ(buffers[0], "1.running_mean");
  EXPECT_EQ(buffers[1], "1.running_var");
  EXPECT_EQ(buffers[2], "1.num_batches_tracked");
  // Evaluation mode works one image at a time (running statistics, no dropout).
  model->eval();
  EXPECT_EQ(model->forward(Tensor::randn({1, 1, 28, 28}, gen)).shape(), Shape({1, 10}));
  // dropout = 0 removes the dropout layers.
  EXPECT_EQ(count_of<nn::Dropout>(*make_model("convnet", {.dropout = 0.0})), 0);
}

TEST(Presets, TheSeedDecidesTheWeights) {
  auto a = make_model("lenet5", {.seed = 5}), b = make_model("lenet5", {.seed = 5});
  auto c = make_model("lenet5", {.seed = 6});
  EXPECT_EQ(a->parameters()[0].to_vector(), b->parameters()[0].to_vector());
  EXPECT_EQ(a->parameters()[8].to_vector(), b->parameters()[8].to_vector());
  EXPECT_NE(a->parameters()[0].to_vector(), c->parameters()[0].to_vector());
  // ... and the dropout masks.
  auto d = make_model("convnet", {.seed = 5}), e = make_model("convnet", {.seed = 5});
  EXPECT_EQ(d->at<nn::Dropout>(7).generator().state(), e->at<nn::Dropout>(7).generator().state());
}

TEST(Presets, EachPresetIsItsJsonDescription) {
  for (const std::string& name : preset_names()) {
    ModelConfig config{.in_channels = 3, .height = 32, .width = 32, .num_classes = 5};
    std::string text = preset_json(name, config);
    EXPECT_EQ(model_output_shape(text), std::vector<int64_t>{5}) << name;
    EXPECT_EQ(nn::to_string(*model_from_json(text)), nn::to_string(*make_model(name, config)))
        << name;
    // Writing the built model out gives back the preset's layers (the "name" line aside).
    std::string written = model_to_json(*make_model(name, config), {3, 32, 32});
    std::string without_name = text;
    const size_t line = without_name.find("  \"name\"");
    without_name.erase(line, without_name.find('\n', line) + 1 - line);
    EXPECT_EQ(written, without_name) << name;
  }
}

TEST(Presets, UnknownNamesAndBadConfigsAreErrors) {
  EXPECT_EQ(error_message([] { make_model("resnet"); }),
            "make_model: unknown preset 'resnet'; valid presets: mlp, lenet5, convnet");
  EXPECT_THROW(make_model("mlp", {.num_classes = 0}), Error);
  EXPECT_THROW(make_model("convnet", {.dropout = 1.0}), Error);
  // Too small for lenet5's second convolution: the message names the layer.
  std::string what = error_message([] { make_model("lenet5", {.height = 8, .width = 8}); });
  EXPECT_EQ(what.rfind("make_model(lenet5): layers[3] (conv2d): kernel_size 5 does not fit input "
                       "[6, 4, 4]",
                       0),
            0u)
      << what;
}
