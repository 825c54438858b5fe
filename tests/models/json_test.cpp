// JSON model descriptions: building the documented example, shape inference, the round trip
// through model_to_json, and one row per kind of mistake, each asserting its message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nabla/nabla.h"
#include "test_util.h"

using namespace nabla;
using nabla::testing::error_message;
using nabla::testing::names_of;

namespace {

const char* kExample = R"({"input": [1, 28, 28], "layers": [
  {"type": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2}, {"type": "relu"},
  {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"},
  {"type": "linear", "out_features": 10}]})";

// A description whose layers are `layers` (JSON text of the list's items) on `input`.
std::string model(const std::string& layers, const std::string& input = "[1, 28, 28]") {
  return R"({"input": )" + input + R"(, "layers": [)" + layers + "]}";
}

}  // namespace

TEST(ModelJson, BuildsTheDocumentedExampleWithInferredSizes) {
  auto net = model_from_json(kExample);
  ASSERT_EQ(net->size(), 5u);
  EXPECT_EQ(nn::to_string(*(*net)[0]),
            "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
  EXPECT_EQ(net->at<nn::Linear>(4).weight.shape(), Shape({10, 6 * 14 * 14}));
  EXPECT_EQ(names_of(net->named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "4.weight", "4.bias"}));
  EXPECT_EQ(net->forward(Tensor::ones({2, 1, 28, 28})).shape(), Shape({2, 10}));
  EXPECT_EQ(model_output_shape(kExample), std::vector<int64_t>{10});
  // Same seed, same weights.
  EXPECT_EQ(model_from_json(kExample, 9)->parameters()[0].to_vector(),
            model_from_json(kExample, 9)->parameters()[0].to_vector());
  EXPECT_NE(model_from_json(kExample, 9)->parameters()[0].to_vector(),
            model_from_json(kExample, 10)->parameters()[0].to_vector());
}

TEST(ModelJson, EveryLayerTypeAndOptionSurvivesTheRoundTrip) {
  const std::string text = model(
      R"({"type": "conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": [3, 5],
          "stride": [1, 2], "padding": [1, 2], "bias": false, "algorithm": "naive"},
         {"type": "batchnorm2d", "eps": 0.001, "momentum": 0.01, "track_num_batches": true},
         {"type": "leakyrelu", "negative_slope": 0.2},
         {"type": "conv2d", "out_channels": 8, "kernel_size": 3, "dilation": 2, "groups": 4,
          "floor_mode": true},
         {"type": "elu", "alpha": 0.5},
         {"type": "avgpool2d", "kernel_size": 3, "stride": 1, "padding": 1},
         {"type": "maxpool2d", "kernel_size": [2, 1], "floor_mode": true},
         {"type": "dropout", "p": 0.3},
         {"type": "globalavgpool2d", "keepdim": true},
         {"type": "flatten", "start_dim": 1, "end_dim": 3},
         {"type": "linear", "out_features": 6, "bias": false},
         {"type": "batchnorm1d", "affine": false, "track_running_stats": false},
         {"type": "tanh"}, {"type": "sigmoid"}, {"type": "relu"},
         {"type": "linear", "in_features": 6, "out_features": 8},
         {"type": "maxout", "pieces": 2}, {"type": "softplus", "beta": 0.5},
         {"type": "logsoftmax", "dim": -1}, {"type": "softmax"})",
      "[3, 16, 20]");
  auto net = model_from_json(text);
  EXPECT_EQ(net->size(), 20u);
  // conv1: 16×10; conv2 (dilated 5, floor): 12×6; avgpool same; maxpool [2, 1]: 6×6.
  EXPECT_EQ(net->forward(Tensor::ones({2, 3, 16, 20})).shape(), Shape({2, 4}));
  EXPECT_EQ(model_output_shape(text), std::vector<int64_t>{4});
  const std::string written = model_to_json(*net, {3, 16, 20});
  auto rebuilt = model_from_json(written);
  EXPECT_EQ(nn::to_string(*rebuilt), nn::to_string(*net));
  EXPECT_EQ(names_of(rebuilt->named_buffers()), names_of(net->named_buffers()));
  EXPECT_EQ(model_to_json(*rebuilt, {3, 16, 20}), written);
  // Defaults are left out, non-defaults written, one layer per line.
  EXPECT_NE(written.find(R"({"type": "conv2d", "out_channels": 8, "kernel_size": [3, 5], )"
                         R"("stride": [1, 2], "padding": [1, 2], "bias": false, )"
                         R"("algorithm": "naive"})"),
            std::string::npos)
      << written;
  EXPECT_NE(written.find("\n    {\"type\": \"tanh\"},\n"), std::string::npos) << written;
}

TEST(ModelJson, ModelToJsonRejectsWhatItCannotDescribe) {
  nn::Sequential net(nn::Conv2d(3, 4, 3), nn::ReLU());
  EXPECT_EQ(error_message([&] {
              model_to_json(net, {1, 8, 8});
            }),
            "model_to_json: input [1, 8, 8] does not fit the model: layer 0 is Conv2d(3, 4, "
            "kernel_size=(3, 3), stride=(1, 1)) but the input makes it Conv2d(1, 4, "
            "kernel_size=(3, 3), stride=(1, 1))");
  nn::Sequential nested(nn::Linear(2, 2), nn::Sequential(nn::ReLU()));
  EXPECT_NE(error_message([&] { model_to_json(nested, {2}); })
                .find("model_to_json: layer 1 is a Sequential, which a model description cannot "
                      "hold"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              model_to_json(nn::Linear(2, 2), {2});
            }).find("model_to_json: the model is a Linear"),
            std::string::npos);
}

namespace {

struct BadCase {
  std::string text;
  std::string message;  // the whole message, or its start when prefix is set
  bool prefix = false;
};

}  // namespace

TEST(ModelJson, MistakesAreReportedWithLayerFieldAndShape) {
  const std::vector<BadCase> cases{
      // JSON syntax, with the byte offset.
      {R"({"input": [1, 28, 28], "layers": [})",
       "model.json: invalid JSON at byte offset 34: syntax error while parsing value - unexpected "
       "'}'; "
       "expected '[', '{', or a literal (line 1, column 35)"},
      // Bad UTF-8 inside a string.
      {"{\"name\": \"\xff\", \"input\": [1], \"layers\": []}",
       "model.json: invalid JSON at byte offset 10: ", true},
      {"[1, 2]",
       "model.json: a model description is a JSON object {\"input\": [C, H, W], \"layers\": "
       "[...]}, got [1,2] (an array)"},
      {R"({"input": [1, 28, 28], "layer": []})",
       "model.json: unknown field 'layer' (did you mean 'layers'?); valid fields: name, input, "
       "layers"},
      {R"({"layers": [{"type": "relu"}]})",
       "model.json: missing required field 'input' (e.g. [1, 28, 28])"},
      {R"({"input": [1, 0, 28], "layers": [{"type": "relu"}]})",
       "model.json: field 'input' must hold positive integers, got 0 (a number) in [1,0,28]"},
      {model(""),
       "model.json: field 'layers' must be a non-empty list of layer objects, got [] (an "
       "array)"},
      {model(R"("relu")"),
       "model.json: layers[0]: a layer is an object such as {\"type\": \"relu\"}, got \"relu\" (a "
       "string)"},
      {model(R"({"type": "conv", "out_channels": 6, "kernel_size": 5})"),
       "model.json: layers[0]: unknown layer type 'conv' (did you mean 'conv2d'?); valid types: "
       "conv2d, linear, maxpool2d, avgpool2d, globalavgpool2d, batchnorm1d, batchnorm2d, dropout, "
       "flatten, relu, sigmoid, tanh, leakyrelu, elu, softmax, logsoftmax, maxout, softplus"},
      {model(R"({"out_channels": 6})"),
       "model.json: layers[0]: missing required field 'type' (one of conv2d, linear, maxpool2d, "
       "avgpool2d, globalavgpool2d, batchnorm1d, batchnorm2d, dropout, flatten, relu, sigmoid, "
       "tanh, leakyrelu, elu, softmax, logsoftmax, maxout, softplus)"},
      {model(R"({"type": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2},
                {"type": "relu"}, {"type": "flatten"}, {"type": "linear", "out_feature": 10})"),
       "model.json: layers[3] (linear): unknown field 'out_feature' (did you mean "
       "'out_features'?); valid fields: in_features, out_features, bias"},
      {model(R"({"type": "relu", "inplace": true})"),
       "model.json: layers[0] (relu): unknown field 'inplace'; this layer takes no fields"},
      {model(R"({"type": "linear"})", "[10]"),
       "model.json: layers[0] (linear): missing required field 'out_features'"},
      {model(R"({"type": "conv2d", "out_channels": 6, "kernel_size": "5"})"),
       "model.json: layers[0] (conv2d): field 'kernel_size' must be an integer or a pair [h, w] "
       "of integers, got \"5\" (a string)"},
      {model(R"({"type": "conv2d", "out_channels": 6.5, "kernel_size": 5})"),
       "model.json: layers[0] (conv2d): field 'out_channels' must be an integer, got 6.5 (a "
       "number)"},
      {model(R"({"type": "conv2d", "out_channels": 0, "kernel_size": 5})"),
       "model.json: layers[0] (conv2d): field 'out_channels' must be at least 1, got 0"},
      {model(R"({"type": "conv2d", "out_channels": 6, "kernel_size": 5, "bias": 1})"),
       "model.json: layers[0] (conv2d): field 'bias' must be true or false, got 1 (a number)"},
      {model(R"({"type": "conv2d", "out_channels": 6, "kernel_size": 5, "algorithm": "fast"})"),
       "model.json: layers[0] (conv2d): field 'algorithm' is 'fast'; valid values: im2col, naive"},
      {model(R"({"type": "conv2d", "in_channels": 3, "out_channels": 6, "kernel_size": 5})"),
       "model.json: layers[0] (conv2d): in_channels 3 does not match the input [1, 28, 28], which "
       "gives 1"},
      {model(R"({"type": "conv2d", "out_channels": 6, "kernel_size": 7})", "[16, 5, 5]"),
       "model.json: layers[0] (conv2d): kernel_size 7 does not fit input [16, 5, 5]: its height 5 "
       "plus 2·0 padding is less than 7"},
      {model(R"({"type": "maxpool2d", "kernel_size": 2})", "[6, 7, 8]"),
       "model.json: layers[0] (maxpool2d): input [6, 7, 8]: height 7 with kernel 2, padding 0 and "
       "stride 2 does not fit evenly",
       true},
      {model(R"({"type": "conv2d", "out_channels": 6, "kernel_size": 5}, {"type": "linear",
                "out_features": 10})"),
       "model.json: layers[1] (linear): expects a per-sample input [features] but gets [6, 24, "
       "24]; add {\"type\": \"flatten\"} before it"},
      {model(R"({"type": "batchnorm1d"})"),
       "model.json: layers[0] (batchnorm1d): expects a per-sample input [features] but gets [1, "
       "28, 28]; use batchnorm2d for images"},
      {model(R"({"type": "dropout", "p": 1.5})"),
       "model.json: layers[0] (dropout): field 'p' must lie in [0, 1], got 1.5"},
      {model(R"({"type": "flatten", "start_dim": 0})"),
       "model.json: layers[0] (flatten): start_dim 0 would merge the batch dim; use 1 or more"},
      {model(R"({"type": "conv2d", "out_channels": 6, "kernel_size": 3, "groups": 4})",
             "[6, 9, 9]"),
       "model.json: layers[0] (conv2d): groups 4 must divide both in_channels 6 and out_channels "
       "6"},
      {model(R"({"type": "maxout"})", "[10]"),
       "model.json: layers[0] (maxout): missing required field 'pieces'"},
      {model(R"({"type": "maxout", "pieces": 3})", "[10]"),
       "model.json: layers[0] (maxout): pieces 3 does not divide the 10 entries of dim 1 of input "
       "[10]"},
      {model(R"({"type": "maxout", "pieces": 2, "dim": 0})", "[10]"),
       "model.json: layers[0] (maxout): dim 0 would take the maximum over the batch"},
      {model(R"({"type": "softplus", "beta": 0})", "[10]"),
       "model.json: layers[0] (softplus): beta 0 must be positive"},
      {model(R"({"type": "softplus", "treshold": 5})", "[10]"),
       "model.json: layers[0] (softplus): unknown field 'treshold' (did you mean 'threshold'?); "
       "valid fields: beta, threshold"},
      {model(R"({"type": "linear", "out_features": 100000000})", "[784]"),
       "model.json: layers[0] (linear): the weight would hold 7.84e+10 values, more than 2^31; "
       "check the sizes"},
  };
  for (const BadCase& c : cases) {
    std::string what = error_message([&] { model_from_json(c.text); });
    if (c.prefix) {
      EXPECT_EQ(what.substr(0, c.message.size()), c.message) << c.text;
    } else {
      EXPECT_EQ(what, c.message) << c.text;
    }
  }
}

TEST(ModelJson, ErrorsNameTheSource) {
  EXPECT_EQ(error_message([] {
              model_from_json("{", 0, "nets/lenet.json");
            }).rfind("nets/lenet.json: invalid JSON at byte offset 1: ", 0),
            0u);
  EXPECT_NE(error_message([] {
              model_output_shape(model(R"({"type": "softmax", "dim": 3})", "[10]"), "cfg.json");
            }).find("cfg.json: layers[0] (softmax): dim 3 is out of range for input [10]"),
            std::string::npos);
  // The bad UTF-8 message says what is wrong, not only where, and shows the bytes escaped.
  std::string utf8 = error_message(
      [] { model_from_json("{\"name\": \"\xc3\x28\", \"input\": [1], \"layers\": []}"); });
  EXPECT_NE(utf8.find("ill-formed UTF-8"), std::string::npos) << utf8;
  EXPECT_NE(utf8.find("\\xc3("), std::string::npos) << utf8;
}
