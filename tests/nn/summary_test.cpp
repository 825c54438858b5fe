// nn::summary (nabla/nn/summary.h): LeNet-5's rows and totals, checked against PyTorch's counts
// (Debian's python3-torch 1.13: sum(p.numel()) is 61,706, and the twelve outputs of one 1x28x28
// sample hold 15,002 values) and two layers' multiply-adds worked by hand; frozen parameters;
// and a container that does not say how it routes its input.
#include "nabla/nn/summary.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nabla/error.h"
#include "nabla/models.h"
#include "nabla/nn/sequential.h"

namespace nabla::nn {
namespace {

using Dims = std::vector<int64_t>;

TEST(ModelSummary, LeNet5RowsMatchPyTorch) {
  const auto model = make_model("lenet5");
  const ModelSummary s = summary(*model, {1, 28, 28}, 64);
  ASSERT_EQ(s.rows.size(), 12u);
  const std::vector<std::string> types = {"Conv2d", "ReLU",      "MaxPool2d", "Conv2d",
                                          "ReLU",   "MaxPool2d", "Flatten",   "Linear",
                                          "ReLU",   "Linear",    "ReLU",      "Linear"};
  const std::vector<Dims> outputs = {{64, 6, 28, 28},  {64, 6, 28, 28},  {64, 6, 14, 14},
                                     {64, 16, 10, 10}, {64, 16, 10, 10}, {64, 16, 5, 5},
                                     {64, 400},        {64, 120},        {64, 120},
                                     {64, 84},         {64, 84},         {64, 10}};
  const std::vector<int64_t> parameters = {156, 0, 0, 2416, 0, 0, 0, 48120, 0, 10164, 0, 850};
  for (size_t i = 0; i < s.rows.size(); ++i) {
    EXPECT_EQ(s.rows[i].name, std::to_string(i));
    EXPECT_EQ(s.rows[i].type, types[i]) << i;
    EXPECT_EQ(s.rows[i].output, outputs[i]) << i;
    EXPECT_EQ(s.rows[i].parameters, parameters[i]) << i;
  }
  // By hand: each output value of a convolution is one dot product of in_channels x kernel
  // values; of a linear layer, of in_features values.
  EXPECT_EQ(s.rows[0].multiply_adds, 6 * 28 * 28 * (1 * 5 * 5));      // 117,600
  EXPECT_EQ(s.rows[3].multiply_adds, 16 * 10 * 10 * (6 * 5 * 5));     // 240,000
  EXPECT_EQ(s.rows[7].multiply_adds, 120 * 400);                      // 48,000
  EXPECT_EQ(s.rows[1].multiply_adds, 0);                              // ReLU: none
  EXPECT_EQ(s.multiply_adds, 117600 + 240000 + 48000 + 10080 + 840);  // 416,520

  EXPECT_EQ(s.total_parameters, 61706);
  EXPECT_EQ(s.trainable_parameters, 61706);
  EXPECT_EQ(s.input, (Dims{64, 1, 28, 28}));
  EXPECT_EQ(s.element_bytes, 4);
  EXPECT_EQ(s.input_bytes, 64 * 784 * 4);
  EXPECT_EQ(s.activation_bytes, 15002 * 4 * 64);  // 3,840,512
  EXPECT_EQ(s.forward_backward_bytes(), 2 * s.activation_bytes);
  EXPECT_EQ(s.parameter_bytes, 61706 * 4);
  EXPECT_EQ(s.estimated_total_bytes(), s.input_bytes + 2 * s.activation_bytes + 61706 * 4);
}

TEST(ModelSummary, FormatsTheTableAndTotals) {
  const std::string text = format_summary(summary(*make_model("lenet5"), {1, 28, 28}, 64));
  for (const char* line :
       {"Layer (type)", "Output shape", "Param #", "Mult-adds/sample", "0 (Conv2d)",
        "[64, 6, 28, 28]", "2,416", "117,600", "11 (Linear)", "[64, 10]", "Total params: 61,706\n",
        "Trainable params: 61,706\n", "Non-trainable params: 0\n",
        "Total mult-adds: 416,520 per sample, 26,657,280 per batch of 64\n",
        "Forward pass size: 3.66 MiB (3,840,512 bytes)",
        "Forward/backward pass size: 7.33 MiB (7,681,024 bytes)",
        "Params size: 241 KiB (246,824 bytes)"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
}

TEST(ModelSummary, FrozenParametersAreCountedButNotTrainable) {
  const auto model = make_model("lenet5");
  for (const auto& [name, p] : model->named_parameters())
    if (name.rfind("0.", 0) == 0) {
      Tensor frozen = p;
      frozen.requires_grad_(false);
    }
  const ModelSummary s = summary(*model, {1, 28, 28}, 1);
  EXPECT_EQ(s.total_parameters, 61706);
  EXPECT_EQ(s.trainable_parameters, 61706 - 156);
  EXPECT_NE(format_summary(s).find("Non-trainable params: 156\n"), std::string::npos);
}

TEST(ModelSummary, NestedSequentialsNameTheirPlaceAndAnInputThatDoesNotFitIsAnError) {
  auto inner = std::make_shared<Sequential>();
  inner->push_back(make_model("mlp"));
  const ModelSummary s = summary(*inner, {1, 28, 28}, 2);
  ASSERT_FALSE(s.rows.empty());
  EXPECT_EQ(s.rows.front().name, "0.0");
  EXPECT_EQ(s.rows.back().output, (Dims{2, 10}));
  EXPECT_THROW(summary(*make_model("lenet5"), {3, 8, 8}, 1), Error);
  EXPECT_THROW(summary(*make_model("lenet5"), {1, 28, 28}, 0), Error);
}

TEST(ModelSummary, AContainerThatIsNotASequentialIsRefusedByName) {
  struct TwoBranches : Module {
    TwoBranches() { register_module("a", make_model("mlp")); }
  };
  TwoBranches model;
  try {
    summary(model, {1, 28, 28}, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the model is a TwoBranches, which neither describes "
                                         "itself"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace nabla::nn
