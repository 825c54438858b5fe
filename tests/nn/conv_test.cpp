// Conv2d layer: shapes (the seed's 32×32×3 example, per-dimension options, groups), agreement
// with the conv2d op and between algorithms, PyTorch's init and printing, errors naming the layer
// and shapes, and a gradcheck of a Conv2d–BatchNorm2d–ReLU–MaxPool2d–Flatten–Linear stack.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nabla/gradcheck.h"
#include "nabla/nabla.h"
#include "test_util.h"

using namespace nabla;
using nabla::testing::error_message;
using nabla::testing::names_of;

TEST(Conv2dLayer, SeedExampleSixFiltersOn32x32x3GiveA28x28x6Map) {
  Generator gen(1);
  nn::Conv2d conv(nn::Conv2dOptions(3, 6, 5).generator(&gen));
  EXPECT_EQ(conv.weight.shape(), Shape({6, 3, 5, 5}));
  EXPECT_EQ(conv.bias.shape(), Shape({6}));
  EXPECT_EQ(conv.forward(Tensor::randn({2, 3, 32, 32}, gen)).shape(), Shape({2, 6, 28, 28}));
  EXPECT_EQ(names_of(conv.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
}

TEST(Conv2dLayer, ForwardIsTheConvolutionOfWeightAndBias) {
  Generator gen(2);
  nn::Conv2d conv(nn::Conv2dOptions(2, 3, 3).stride(2).padding(1).generator(&gen));
  Tensor x = Tensor::randn({2, 2, 5, 5}, gen);
  Tensor y = conv.forward(x);
  ASSERT_EQ(y.shape(), Shape({2, 3, 3, 3}));
  // Output (n=1, oc=2, oh=1, ow=2) by the definition: rows 1..3 and columns 3..5 (5 is padding).
  double expected = conv.bias.at({2});
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t kh = 0; kh < 3; ++kh)
      for (int64_t kw = 0; kw < 3; ++kw) {
        int64_t h = 1 * 2 - 1 + kh, w = 2 * 2 - 1 + kw;
        if (h >= 0 && h < 5 && w >= 0 && w < 5)
          expected += x.at({1, c, h, w}) * conv.weight.at({2, c, kh, kw});
      }
  EXPECT_NEAR(y.at({1, 2, 1, 2}), expected, 1e-5);
}

TEST(Conv2dLayer, PerDimensionKernelStrideAndPadding) {
  nn::Conv2d conv(nn::Conv2dOptions(1, 4, {3, 5}).stride({2, 1}).padding({1, 2}));
  EXPECT_EQ(conv.weight.shape(), Shape({4, 1, 3, 5}));
  // OH = (7 + 2 - 3)/2 + 1 = 4, OW = (9 + 4 - 5)/1 + 1 = 9.
  EXPECT_EQ(conv.forward(Tensor::ones({1, 1, 7, 9})).shape(), Shape({1, 4, 4, 9}));
  nn::Conv2d dilated(nn::Conv2dOptions(1, 1, 3).dilation({2, 1}));
  EXPECT_EQ(dilated.forward(Tensor::ones({1, 1, 7, 7})).shape(), Shape({1, 1, 3, 5}));
}

TEST(Conv2dLayer, GroupsSplitTheChannels) {
  nn::Conv2d conv(nn::Conv2dOptions(4, 6, 3).groups(2).bias(false));
  EXPECT_EQ(conv.weight.shape(), Shape({6, 2, 3, 3}));
  EXPECT_FALSE(conv.bias.defined());
  EXPECT_EQ(conv.parameters().size(), 1u);
  EXPECT_EQ(conv.forward(Tensor::ones({1, 4, 5, 5})).shape(), Shape({1, 6, 3, 3}));
  EXPECT_NE(error_message([] {
              nn::Conv2d(nn::Conv2dOptions(4, 6, 3).groups(4));
            }).find("groups=4 must divide both in_channels 4 and out_channels 6"),
            std::string::npos);
}

TEST(Conv2dLayer, NaiveAlgorithmAgreesWithIm2col) {
  Generator a(3), b(3), gen(4);
  nn::Conv2d fast(nn::Conv2dOptions(3, 5, {3, 2}).stride({1, 2}).padding(1).generator(&a));
  nn::Conv2d naive(nn::Conv2dOptions(3, 5, {3, 2}).stride({1, 2}).padding(1).naive().generator(&b));
  Tensor x = Tensor::randn({2, 3, 6, 8}, gen);
  std::vector<double> y_fast = fast.forward(x).to_vector(), y_naive = naive.forward(x).to_vector();
  ASSERT_EQ(y_fast.size(), y_naive.size());
  for (size_t i = 0; i < y_fast.size(); ++i) EXPECT_NEAR(y_fast[i], y_naive[i], 1e-5);
}

TEST(Conv2dLayer, FloorModeDropsTheUncoveredRows) {
  nn::Conv2d strict(nn::Conv2dOptions(1, 1, 3).stride(2));
  std::string what = error_message([&] { strict.forward(Tensor::ones({1, 1, 6, 6})); });
  EXPECT_EQ(what.rfind("Conv2d(1, 1, kernel_size=3): input [1, 1, 6, 6]: ", 0), 0u) << what;
  EXPECT_NE(what.find("floor_mode"), std::string::npos) << what;
  nn::Conv2d floor(nn::Conv2dOptions(1, 1, 3).stride(2).floor_mode(true));
  EXPECT_EQ(floor.forward(Tensor::ones({1, 1, 6, 6})).shape(), Shape({1, 1, 2, 2}));
}

TEST(Conv2dLayer, DefaultInitIsPyTorchsKaimingUniform) {
  Generator a(11), b(11);
  nn::Conv2d first(nn::Conv2dOptions(8, 16, 5).generator(&a));
  nn::Conv2d second(nn::Conv2dOptions(8, 16, 5).generator(&b));
  EXPECT_EQ(first.weight.to_vector(), second.weight.to_vector());
  // fan_in = 8·5·5 = 200; weight and bias in U(±1/√200), the weight's std bound/√3.
  const double bound = 1.0 / std::sqrt(200.0);
  std::vector<double> w = first.weight.to_vector();
  double sum_sq = 0;
  for (double v : w) {
    EXPECT_LE(std::abs(v), bound);
    sum_sq += v * v;
  }
  EXPECT_NEAR(std::sqrt(sum_sq / static_cast<double>(w.size())), bound / std::sqrt(3.0),
              0.05 * bound);
  for (double v : first.bias.to_vector()) EXPECT_LE(std::abs(v), bound);
}

TEST(Conv2dLayer, PrintsLikePyTorch) {
  EXPECT_EQ(nn::to_string(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2))),
            "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
  EXPECT_EQ(nn::to_string(nn::Conv2d(
                nn::Conv2dOptions(4, 8, {3, 1}).stride({2, 1}).dilation(2).groups(2).bias(false))),
            "Conv2d(4, 8, kernel_size=(3, 1), stride=(2, 1), dilation=(2, 2), groups=2, "
            "bias=false)");
  EXPECT_EQ(nn::to_string(nn::Conv2d(nn::Conv2dOptions(1, 1, 3).floor_mode(true).naive())),
            "Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1), floor_mode=true, algorithm=naive)");
}

TEST(Conv2dLayer, ErrorsNameTheLayerAndShapes) {
  nn::Conv2d conv(nn::Conv2dOptions(1, 6, 5));
  EXPECT_EQ(error_message([&] {
              conv.forward(Tensor::ones({64, 3, 28, 28}));
            }),
            "Conv2d(1, 6, kernel_size=5): input [64, 3, 28, 28] has 3 channels but the layer "
            "expects 1");
  EXPECT_EQ(error_message([&] {
              conv.forward(Tensor::ones({1, 28, 28}));
            }),
            "Conv2d(1, 6, kernel_size=5): input [1, 28, 28] must be 4-d (N, C, H, W); add a batch "
            "dim with unsqueeze(0) for one image");
  std::string small = error_message([&] { conv.forward(Tensor::ones({1, 1, 3, 3})); });
  EXPECT_EQ(small.rfind("Conv2d(1, 6, kernel_size=5): input [1, 1, 3, 3]: ", 0), 0u) << small;
  EXPECT_NE(error_message([&] {
              conv.forward(Tensor::ones({1, 1, 8, 8}, kFloat64));
            }).find("is float64 but weight [6, 1, 5, 5] is float32"),
            std::string::npos);
  EXPECT_THROW(nn::Conv2d(0, 6, 5), Error);
  EXPECT_THROW(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).stride(0)), Error);
  EXPECT_THROW(nn::Conv2d(nn::Conv2dOptions(1, 6, {5, 0})), Error);
}

// The layers' float64 parameters are replaced by gradcheck's copies, as in module_test.cpp's
// LinearTanhStackPassesGradcheck. Batch 3 keeps batch-norm statistics non-degenerate; random
// inputs keep ReLU and max-pool away from their kinks.
TEST(Conv2dLayer, ConvBatchNormReluPoolFlattenLinearStackPassesGradcheck) {
  Generator gen(21);
  nn::Sequential model(
      nn::Conv2d(nn::Conv2dOptions(2, 3, 3).padding(1).dtype(kFloat64).generator(&gen)),
      nn::BatchNorm2d(nn::BatchNormOptions(3).dtype(kFloat64)), nn::ReLU(), nn::MaxPool2d(2),
      nn::Flatten(), nn::Linear(nn::LinearOptions(3 * 2 * 3, 2).dtype(kFloat64).generator(&gen)));
  auto& conv = model.at<nn::Conv2d>(0);
  auto& bn = model.at<nn::BatchNorm2d>(1);
  auto& fc = model.at<nn::Linear>(5);
  // Non-trivial affine parameters, so their gradients are not the special case γ = 1, β = 0.
  nn::init::uniform_(bn.weight, gen, 0.5, 1.5);
  nn::init::uniform_(bn.bias, gen, -0.5, 0.5);
  std::vector<Tensor> inputs{Tensor::randn({3, 2, 4, 6}, gen, kFloat64),
                             conv.weight,
                             conv.bias,
                             bn.weight,
                             bn.bias,
                             fc.weight,
                             fc.bias};
  GradcheckResult result = gradcheck(
      [&](const std::vector<Tensor>& in) {
        conv.weight = in[1];
        conv.bias = in[2];
        bn.weight = in[3];
        bn.bias = in[4];
        fc.weight = in[5];
        fc.bias = in[6];
        return model.forward(in[0]);
      },
      inputs);
  EXPECT_TRUE(result.passed) << result.str();
  EXPECT_EQ(result.checked, 3 * 2 * 4 * 6 + 3 * 2 * 9 + 3 + 3 + 3 + 2 * 18 + 2);
}
