// The layer descriptions (nabla/nn/layer.h): every registered layer type goes through JSON and
// back unchanged, and its declared output shape and parameter count match a real forward pass;
// multiply-adds, the hooks other parts ask a layer, and Softplus's values and gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "nabla/gradcheck.h"
#include "nabla/nabla.h"
#include "test_util.h"

using namespace nabla;
using nabla::testing::error_message;

namespace {

// A layer as JSON text (non-default fields where it has any) and one sample's input shape.
struct Example {
  std::string layer;
  std::vector<int64_t> input;
};

// One example per registered type; LayerRegistry.EveryTypeHasAnExample keeps it complete.
const std::map<std::string, Example>& examples() {
  static const std::map<std::string, Example> table{
      {"conv2d",
       {R"({"type": "conv2d", "out_channels": 4, "kernel_size": [3, 2], "stride": [1, 2],
            "padding": 1, "dilation": [2, 1], "groups": 2, "bias": false, "floor_mode": true,
            "algorithm": "naive"})",
        {2, 7, 9}}},
      {"linear", {R"({"type": "linear", "out_features": 3, "bias": false})", {5}}},
      {"maxpool2d",
       {R"({"type": "maxpool2d", "kernel_size": [2, 3], "stride": 1, "padding": 1,
            "floor_mode": true})",
        {2, 5, 6}}},
      {"avgpool2d",
       {R"({"type": "avgpool2d", "kernel_size": 3, "stride": 2, "padding": 1})", {3, 7, 7}}},
      {"globalavgpool2d", {R"({"type": "globalavgpool2d", "keepdim": true})", {3, 4, 5}}},
      {"batchnorm1d",
       {R"({"type": "batchnorm1d", "eps": 0.001, "momentum": 0.2, "track_num_batches": true})",
        {4}}},
      {"batchnorm2d",
       {R"({"type": "batchnorm2d", "affine": false, "track_running_stats": false})", {3, 4, 4}}},
      {"dropout", {R"({"type": "dropout", "p": 0.25})", {6}}},
      {"flatten", {R"({"type": "flatten", "start_dim": 2, "end_dim": 3})", {2, 3, 4}}},
      {"relu", {R"({"type": "relu"})", {5}}},
      {"sigmoid", {R"({"type": "sigmoid"})", {5}}},
      {"tanh", {R"({"type": "tanh"})", {2, 3}}},
      {"leakyrelu", {R"({"type": "leakyrelu", "negative_slope": 0.2})", {5}}},
      {"elu", {R"({"type": "elu", "alpha": 0.5})", {5}}},
      {"softmax", {R"({"type": "softmax", "dim": -1})", {3, 4}}},
      {"logsoftmax", {R"({"type": "logsoftmax", "dim": 2})", {3, 4}}},
      {"maxout", {R"({"type": "maxout", "pieces": 3, "dim": 2})", {2, 6, 5}}},
      {"softplus", {R"({"type": "softplus", "beta": 2, "threshold": 10})", {5}}},
  };
  return table;
}

std::string description(const Example& e) {
  std::string input;
  for (int64_t d : e.input) input += (input.empty() ? "" : ", ") + std::to_string(d);
  return R"({"input": [)" + input + R"(], "layers": [)" + e.layer + "]}";
}

int64_t parameter_count(const nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

TEST(LayerRegistry, EveryTypeHasAnExample) {
  EXPECT_EQ(nn::layer_types().size(), examples().size());
  for (const nn::LayerType* type : nn::layer_types()) {
    EXPECT_TRUE(examples().contains(type->name)) << type->name;
    EXPECT_EQ(nn::find_layer_type(type->name), type);
  }
  EXPECT_EQ(nn::find_layer_type("conv"), nullptr);
}

TEST(LayerRegistry, EveryLayerRoundTripsThroughJson) {
  for (const nn::LayerType* type : nn::layer_types()) {
    SCOPED_TRACE(type->name);
    const Example& e = examples().at(type->name);
    auto net = model_from_json(description(e), 3);
    ASSERT_EQ(net->size(), 1u);
    const nn::Module& layer = *(*net)[0];
    EXPECT_EQ(layer.layer_type(), type);
    const std::string written = model_to_json(*net, e.input);
    auto rebuilt = model_from_json(written, 3);
    EXPECT_EQ(model_to_json(*rebuilt, e.input), written);
    EXPECT_TRUE((*rebuilt)[0]->config() == layer.config()) << written;
    EXPECT_EQ(nn::to_string(*rebuilt), nn::to_string(*net));
    EXPECT_EQ(parameter_count(*rebuilt), parameter_count(*net));
    // The config holds every field of the type: the reader's defaults, the inferred sizes.
    EXPECT_EQ(layer.config().values().size(), type->fields.size());
  }
}

TEST(LayerRegistry, DeclaredShapeAndParametersMatchAForwardPass) {
  Generator gen(5);
  for (const nn::LayerType* type : nn::layer_types()) {
    SCOPED_TRACE(type->name);
    const Example& e = examples().at(type->name);
    auto net = model_from_json(description(e), 4);
    nn::Module& layer = *(*net)[0];
    std::vector<int64_t> input{3};
    input.insert(input.end(), e.input.begin(), e.input.end());
    const nn::LayerShape declared = layer.describe(input);
    const Tensor y = layer.forward(Tensor::randn(Shape(input), gen));
    EXPECT_EQ(Shape(declared.output), y.shape());
    EXPECT_EQ(declared.parameters, parameter_count(layer));
    EXPECT_EQ(model_output_shape(description(e)),
              std::vector<int64_t>(declared.output.begin() + 1, declared.output.end()));
  }
}

TEST(LayerRegistry, BuildsALayerFromItsFieldsWithoutJson) {
  const nn::LayerType* type = nn::find_layer_type("conv2d");
  ASSERT_NE(type, nullptr);
  nn::LayerConfig config = type->with_defaults(
      nn::LayerConfig().set("out_channels", int64_t{4}).set("kernel_size", nn::Size2(3)));
  EXPECT_EQ(config.size2("stride"), nn::Size2(1));
  EXPECT_EQ(config.choice("algorithm"), "im2col");
  EXPECT_FALSE(config.has("in_channels"));  // inferred: no default
  const nn::LayerShape shape = type->infer(config, {2, 8, 8});
  EXPECT_EQ(shape.output, (std::vector<int64_t>{4, 6, 6}));
  EXPECT_EQ(config.integer("in_channels"), 2);
  Generator gen(1);
  auto conv = type->make(config, gen);
  EXPECT_EQ(nn::to_string(*conv), "Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1))");
  EXPECT_TRUE(conv->config() == config);
  EXPECT_EQ(error_message([&] { config.number("groups"); }),
            "LayerConfig: field 'groups' holds another kind of value");
  EXPECT_EQ(error_message([&] { config.boolean("keepdim"); }), "LayerConfig: no field 'keepdim'");
}

TEST(LayerRegistry, MultiplyAddsOfTheWeightedLayers) {
  // LeNet's first layer: 6 filters of 1·5·5 at 28·28 positions.
  EXPECT_EQ(
      nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)).describe({8, 1, 28, 28}).multiply_adds,
      6 * 28 * 28 * 25);
  // Groups split the input channels: each output reads 4 / 2 of them.
  EXPECT_EQ(nn::Conv2d(nn::Conv2dOptions(4, 6, 3).groups(2)).describe({1, 4, 5, 5}).multiply_adds,
            6 * 3 * 3 * (2 * 3 * 3));
  EXPECT_EQ(nn::Linear(784, 10).describe({1, 784}).multiply_adds, 7840);
  EXPECT_EQ(nn::ReLU().describe({1, 10}).multiply_adds, 0);
  EXPECT_EQ(nn::Linear(784, 10).describe({1, 784}).parameters, 7850);
  EXPECT_EQ(error_message([] {
              nn::Linear(4, 2).describe({2, 5});
            }),
            "in_features 4 does not match the input [5], which gives 5");
  EXPECT_NE(error_message([] {
              nn::Sequential().describe({1, 2});
            }).find("Sequential: a model description cannot hold this layer"),
            std::string::npos);
}

TEST(LayerHooks, OnlyTheLayersThatHaveOneAnswer) {
  nn::Dropout drop(0.5);
  EXPECT_EQ(drop.random_generator(), &drop.generator());
  nn::Linear fc(2, 3);
  EXPECT_EQ(fc.random_generator(), nullptr);
  EXPECT_FALSE(fc.filters().defined());
  EXPECT_FALSE(fc.sync_statistics({}));
  EXPECT_FALSE(drop.forward_relu(Tensor::ones({1, 2})).defined());

  nn::Conv2d conv(1, 2, 3);
  EXPECT_TRUE(conv.filters().shares_storage(conv.weight));

  nn::BatchNorm2d bn(2);
  int calls = 0;
  EXPECT_TRUE(bn.sync_statistics([&](std::span<double>) { ++calls; }));
  bn.forward(Tensor::ones({2, 2, 3, 3}));
  EXPECT_GT(calls, 0);
  EXPECT_TRUE(bn.sync_statistics({}));
  EXPECT_FALSE(static_cast<bool>(bn.sum_across_ranks));
}

TEST(Softplus, MatchesPyTorchsFormulaAndGradient) {
  // PyTorch: log(1 + exp(beta·x)) / beta, and x itself where beta·x > threshold.
  const std::vector<double> xs{-30, -1, 0, 0.5, 3, 4.9, 5.1, 30};
  nn::Softplus softplus(nn::SoftplusOptions(2).threshold(10));
  EXPECT_EQ(nn::to_string(softplus), "Softplus(beta=2.0, threshold=10.0)");
  Tensor x = Tensor::from_vector(xs, {8}, kFloat64).requires_grad_();
  Tensor y = softplus.forward(x);
  sum(y).backward();
  const std::vector<double> values = y.to_vector(), grads = x.grad().to_vector();
  for (size_t i = 0; i < xs.size(); ++i) {
    const double z = 2 * xs[i];
    const bool linear = z > 10;
    EXPECT_NEAR(values[i], linear ? xs[i] : std::log1p(std::exp(z)) / 2, 1e-12) << xs[i];
    EXPECT_NEAR(grads[i], linear ? 1.0 : 1 / (1 + std::exp(-z)), 1e-12) << xs[i];
  }
  EXPECT_EQ(values[7], 30.0);  // exactly x above the threshold
  // The composed form's gradient against central differences, on both sides of the threshold.
  const GradcheckResult check = gradcheck(
      [](const std::vector<Tensor>& in) {
        return nn::Softplus(nn::SoftplusOptions(1.5).threshold(4)).forward(in[0]);
      },
      {Tensor::from_vector({-2.0, -0.3, 0.4, 1.7, 3.5}, {5}, kFloat64)});
  EXPECT_TRUE(check.passed) << check.max_rel_error;
}
