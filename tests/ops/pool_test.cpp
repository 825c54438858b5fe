// max_pool2d, avg_pool2d and global_avg_pool2d: forward values worked out by hand, what
// padding means for each (-inf for max, zeros counted in the mean for avg), where the gradient
// goes (ties included), the exact-fit rule, and error messages. Gradchecks are registered in
// tests/ops/conv_gradcheck.cpp; PyTorch comparisons in torch_fixtures_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nabla/gradcheck.h"
#include "nabla/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

using nabla::testing::error_message;

// 0 1 2 3 / 4 5 6 7 / 8 9 10 11 / 12 13 14 15 as (1, 1, 4, 4).
Tensor grid4(DType dtype = kFloat64) {
  return Tensor::arange(0, 16, 1, dtype).reshape({1, 1, 4, 4});
}

TEST(PoolTest, MaxPoolTwoByTwoKeepsEachBlocksLargest) {
  for (DType dtype : {kFloat64, kFloat32}) {
    Tensor y = F::max_pool2d(grid4(dtype), F::MaxPool2dFuncOptions(2));
    EXPECT_EQ(y.shape(), Shape({1, 1, 2, 2}));
    EXPECT_EQ(y.to_vector(), (std::vector<double>{5, 7, 13, 15}));
  }
}

TEST(PoolTest, AvgPoolTwoByTwoAveragesEachBlock) {
  Tensor y = F::avg_pool2d(grid4(), F::AvgPool2dFuncOptions(2));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
  // Overlapping windows: kernel 3, stride 1 on 4×4 -> 2×2.
  EXPECT_EQ(F::avg_pool2d(grid4(), F::AvgPool2dFuncOptions(3).stride(1)).to_vector(),
            (std::vector<double>{5, 6, 9, 10}));
}

TEST(PoolTest, MaxPoolPaddingNeverWins) {
  // All values negative: a zero-padded max would give 0 at the border; -inf padding does not.
  // Kernel 2, stride 2, padding 1 on 4×4: windows start at rows/columns -1, 1 and 3.
  Tensor y = F::max_pool2d(grid4() - 100.0, F::MaxPool2dFuncOptions(2).stride(2).padding(1));
  EXPECT_EQ(y.shape(), Shape({1, 1, 3, 3}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{-100, -98, -97, -92, -90, -89, -88, -86, -85}));
}

TEST(PoolTest, AvgPoolCountsPaddingAsZerosInTheMean) {
  // ones (2×2), kernel 2, stride 1, padding 1: a corner window holds 1 real pixel of 4, an edge
  // window 2, the centre 4 (PyTorch's count_include_pad = true).
  Tensor y = F::avg_pool2d(Tensor::ones({1, 1, 2, 2}, kFloat64),
                           F::AvgPool2dFuncOptions(2).stride(1).padding(1));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25}));
}

TEST(PoolTest, MaxPoolGradientGoesToTheFirstMaximumOfEachWindow) {
  Tensor x = Tensor::from_vector(std::vector<double>{3, 3, 1, 7, 3, 3, 7, 2}, {1, 1, 2, 4})
                 .requires_grad_();
  Tensor y = F::max_pool2d(x, F::MaxPool2dFuncOptions(2));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{3, 7}));
  y.backward(Tensor::from_vector(std::vector<double>{10, 20}, {1, 1, 1, 2}));
  // Ties in the first window: the first 3 in row-major order takes it all. The second window's
  // two 7s: (0, 3) comes before (1, 2).
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{10, 0, 0, 20, 0, 0, 0, 0}));
}

TEST(PoolTest, AvgPoolGradientSpreadsEvenlyOverEachWindow) {
  Tensor x = Tensor::ones({1, 1, 2, 2}, kFloat64).requires_grad_();
  F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(1).padding(1)).sum().backward();
  // Every pixel lies in 4 of the 9 windows, each passing back 1/4.
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{1, 1, 1, 1}));
}

TEST(PoolTest, UnequalKernelStrideAndPaddingPerDim) {
  Tensor x = Tensor::arange(0, 30, 1, kFloat64).reshape({1, 1, 5, 6});
  // kernel 1×3, stride 2×3, no padding: rows 0, 2, 4 and column blocks {0-2} {3-5}.
  Tensor y = F::max_pool2d(x, F::MaxPool2dFuncOptions({1, 3}).stride({2, 3}));
  EXPECT_EQ(y.shape(), Shape({1, 1, 3, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{2, 5, 14, 17, 26, 29}));
}

TEST(PoolTest, WindowsMustTileTheInputUnlessFloorMode) {
  Tensor x = Tensor::zeros({2, 3, 7, 7});
  const std::string msg = error_message([&] { F::max_pool2d(x, F::MaxPool2dFuncOptions(2)); });
  EXPECT_NE(msg.find("max_pool2d: input height 7 with kernel 2, padding 0 and stride 2 does not "
                     "fit evenly: (W - F + 2P)/S + 1 = (7 - 2 + 0)/2 + 1 = 3.5"),
            std::string::npos)
      << msg;
  EXPECT_NE(error_message([&] {
              F::avg_pool2d(x, F::AvgPool2dFuncOptions(2));
            }).find("avg_pool2d: input height 7"),
            std::string::npos);
  EXPECT_EQ(F::max_pool2d(x, F::MaxPool2dFuncOptions(2).floor_mode(true)).shape(),
            Shape({2, 3, 3, 3}));
  EXPECT_EQ(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).floor_mode(true)).shape(),
            Shape({2, 3, 3, 3}));
}

TEST(PoolTest, ErrorsNameTheOpAndTheShapes) {
  Tensor x = Tensor::zeros({2, 3, 8, 8});
  EXPECT_NE(error_message([&] {
              F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2).padding(2));
            }).find("max_pool2d: padding 2×2 must be between 0 and half the kernel 2×2"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              F::avg_pool2d(Tensor::zeros({3, 8, 8}), F::AvgPool2dFuncOptions(2));
            }).find("avg_pool2d: input [3, 8, 8] must be 4-d"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              F::max_pool2d(x, F::MaxPool2dFuncOptions(0));
            }).find("kernel 0×0 must be at least 1×1"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              F::max_pool2d(x, F::MaxPool2dFuncOptions(9));
            }).find("smaller than the kernel (9)"),
            std::string::npos);
}

TEST(PoolTest, GlobalAvgPoolIsTheMeanOfEachPlane) {
  Generator gen(2);
  Tensor x = Tensor::randn({3, 4, 5, 6}, gen, kFloat64);
  Tensor y = global_avg_pool2d(x);
  EXPECT_EQ(y.shape(), Shape({3, 4}));
  EXPECT_NEAR(y.at({2, 1}), x.select(0, 2).select(0, 1).mean().item(), 1e-14);
  EXPECT_EQ(global_avg_pool2d(x, /*keepdim=*/true).shape(), Shape({3, 4, 1, 1}));
  GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& in) { return global_avg_pool2d(in[0]); }, {x});
  EXPECT_TRUE(r.passed) << r.str();
}

TEST(PoolTest, StridedInputGivesTheSameResult) {
  Generator gen(3);
  Tensor x = Tensor::randn({4, 6, 2, 3}, gen, kFloat64).permute({2, 3, 0, 1});  // (2, 3, 4, 6)
  ASSERT_FALSE(x.is_contiguous());
  EXPECT_EQ(F::max_pool2d(x, F::MaxPool2dFuncOptions(2)).to_vector(),
            F::max_pool2d(x.contiguous(), F::MaxPool2dFuncOptions(2)).to_vector());
  EXPECT_EQ(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2)).to_vector(),
            F::avg_pool2d(x.contiguous(), F::AvgPool2dFuncOptions(2)).to_vector());
}

}  // namespace
}  // namespace nabla
