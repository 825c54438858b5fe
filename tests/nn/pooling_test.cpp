// MaxPool2d, AvgPool2d, GlobalAvgPool2d and Flatten layers: values on a known input, options per
// dimension, printing as PyTorch, and errors that name the layer and the input shape.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nabla/nabla.h"
#include "test_util.h"

using namespace nabla;
using nabla::testing::error_message;

namespace {
// x[0, 0, h, w] = 4h + w: the maximum of each 2×2 window is its bottom-right element.
Tensor ramp_4x4() {
  return Tensor::arange(0, 16).reshape({1, 1, 4, 4});
}
}  // namespace

TEST(PoolingLayers, MaxPool2dTakesTheLargestOfEachWindow) {
  nn::MaxPool2d pool(2);
  Tensor y = pool.forward(ramp_4x4());
  ASSERT_EQ(y.shape(), Shape({1, 1, 2, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{5, 7, 13, 15}));
  EXPECT_TRUE(pool.parameters().empty());
}

TEST(PoolingLayers, AvgPool2dAveragesEachWindow) {
  nn::AvgPool2d pool(2);
  EXPECT_EQ(pool.forward(ramp_4x4()).to_vector(), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
  // Per-dimension windows: 3 rows by 2 columns, stride 1 -> (4 - 3 + 1) × (4 - 2 + 1).
  nn::AvgPool2d tall(nn::AvgPool2dOptions({3, 2}).stride(1));
  Tensor y = tall.forward(ramp_4x4());
  ASSERT_EQ(y.shape(), Shape({1, 1, 2, 3}));
  EXPECT_DOUBLE_EQ(y.at({0, 0, 0, 0}), (0 + 1 + 4 + 5 + 8 + 9) / 6.0);
}

TEST(PoolingLayers, FloorModeAndTheExactFitRule) {
  nn::MaxPool2d strict(2);
  EXPECT_EQ(error_message([&] {
              strict.forward(Tensor::ones({1, 1, 5, 5}));
            }).rfind("MaxPool2d(kernel_size=2, stride=2, padding=0): input [1, 1, 5, 5]: ", 0),
            0u);
  nn::MaxPool2d floor(nn::MaxPool2dOptions(2).floor_mode(true));
  EXPECT_EQ(floor.forward(Tensor::ones({1, 1, 5, 5})).shape(), Shape({1, 1, 2, 2}));
  nn::AvgPool2d avg(2);
  EXPECT_NE(error_message([&] {
              avg.forward(Tensor::ones({2, 5, 5}));
            }).find("AvgPool2d(kernel_size=2, stride=2, padding=0): input [2, 5, 5]"),
            std::string::npos);
}

TEST(PoolingLayers, PrintLikePyTorch) {
  EXPECT_EQ(nn::to_string(nn::MaxPool2d(2)), "MaxPool2d(kernel_size=2, stride=2, padding=0)");
  EXPECT_EQ(nn::to_string(nn::AvgPool2d(nn::AvgPool2dOptions({3, 2}).stride(1).padding({1, 0}))),
            "AvgPool2d(kernel_size=(3, 2), stride=1, padding=(1, 0))");
  EXPECT_EQ(nn::to_string(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).floor_mode(true))),
            "MaxPool2d(kernel_size=3, stride=2, padding=0, floor_mode=true)");
  EXPECT_EQ(nn::to_string(nn::GlobalAvgPool2d()), "GlobalAvgPool2d()");
  EXPECT_EQ(nn::to_string(nn::Flatten()), "Flatten(start_dim=1, end_dim=-1)");
}

TEST(PoolingLayers, GlobalAvgPool2dAveragesEachPlane) {
  Generator gen(5);
  Tensor x = Tensor::randn({2, 3, 4, 5}, gen);
  Tensor y = nn::GlobalAvgPool2d().forward(x);
  ASSERT_EQ(y.shape(), Shape({2, 3}));
  double sum = 0;
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t w = 0; w < 5; ++w) sum += x.at({1, 2, h, w});
  EXPECT_NEAR(y.at({1, 2}), sum / 20, 1e-6);
  nn::GlobalAvgPool2d keep(nn::GlobalAvgPool2dOptions().keepdim(true));
  EXPECT_EQ(keep.forward(x).shape(), Shape({2, 3, 1, 1}));
  EXPECT_EQ(nn::to_string(keep), "GlobalAvgPool2d(keepdim=true)");
  EXPECT_THROW(keep.forward(Tensor::ones({2, 3})), Error);
}

TEST(FlattenLayer, KeepsTheBatchDimAndPassesGradientsBack) {
  Tensor x = Tensor::ones({2, 3, 4, 5}).requires_grad_();
  Tensor y = nn::Flatten().forward(x);
  EXPECT_EQ(y.shape(), Shape({2, 60}));
  (y * 2.0).sum().backward();
  ASSERT_EQ(x.grad().shape(), x.shape());
  for (double g : x.grad().to_vector()) EXPECT_EQ(g, 2.0);
  EXPECT_EQ(nn::Flatten(nn::FlattenOptions().start_dim(2)).forward(x).shape(), Shape({2, 3, 20}));
  EXPECT_EQ(nn::Flatten(nn::FlattenOptions().end_dim(2)).forward(x).shape(), Shape({2, 12, 5}));
  // A non-contiguous input is copied, not rejected.
  EXPECT_EQ(nn::Flatten().forward(x.detach().transpose(1, 3)).shape(), Shape({2, 60}));
  EXPECT_EQ(error_message([&] { nn::Flatten(nn::FlattenOptions().start_dim(4)).forward(x); }),
            "Flatten(start_dim=4, end_dim=-1): input [2, 3, 4, 5] has only 4 dims");
}
