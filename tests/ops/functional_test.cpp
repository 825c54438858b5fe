// The functional API (nabla::nn::functional, alias F) in LibTorch's options style gives exactly
// what the ops give with the equivalent per-dimension parameters (nabla/detail/conv_params.h, not
// API), and the layers' options map to the same parameters.
#include <gtest/gtest.h>

#include "nabla/detail/conv_params.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/pooling.h"
#include "nabla/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

using detail::Conv2dParams;
using detail::Pool2dParams;

TEST(Functional, Conv2dMatchesTheOp) {
  Generator gen(3);
  Tensor x = Tensor::randn({2, 4, 7, 6}, gen), w = Tensor::randn({6, 2, 3, 3}, gen);
  Tensor b = Tensor::randn({6}, gen);
  Tensor got = F::conv2d(
      x, w, F::Conv2dFuncOptions().bias(b).stride({2, 1}).padding(1).groups(2).floor_mode(true));
  Conv2dParams p{.stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 1, .groups = 2};
  p.floor_mode = true;
  EXPECT_TRUE(equal(got, detail::conv2d(x, w, b, p)));
  EXPECT_EQ(got.shape(), (Shape{2, 6, 4, 6}));
  // Without a bias, dilated, naive kernels.
  Tensor w1 = Tensor::randn({3, 4, 2, 2}, gen);
  EXPECT_TRUE(
      equal(F::conv2d(x, w1, F::Conv2dFuncOptions().dilation(2).algorithm(ConvAlgorithm::Naive)),
            detail::conv2d(x, w1, {}, Conv2dParams().dilation(2).naive())));
  // Errors are the op's.
  EXPECT_EQ(testing::error_message([&] { F::conv2d(x, w1, F::Conv2dFuncOptions().stride(0)); }),
            testing::error_message([&] { detail::conv2d(x, w1, {}, Conv2dParams().stride(0)); }));
}

TEST(Functional, PoolingStrideDefaultsToTheKernel) {
  Generator gen(4);
  Tensor x = Tensor::randn({2, 3, 6, 4}, gen);
  EXPECT_TRUE(equal(F::max_pool2d(x, F::MaxPool2dFuncOptions(2)),
                    detail::max_pool2d(x, Pool2dParams().kernel(2))));
  EXPECT_TRUE(equal(F::avg_pool2d(x, F::AvgPool2dFuncOptions({3, 2}).stride(1).padding({1, 0})),
                    detail::avg_pool2d(x, Pool2dParams{.kernel_h = 3,
                                                       .kernel_w = 2,
                                                       .stride_h = 1,
                                                       .stride_w = 1,
                                                       .pad_h = 1,
                                                       .pad_w = 0})));
  EXPECT_EQ(F::MaxPool2dFuncOptions({3, 2}).stride(), Size2(3, 2));
}

TEST(Functional, LayerOptionsGiveTheSameParameters) {
  const Conv2dParams c = detail::conv2d_params(
      nn::Conv2dOptions(2, 4, 3).stride({1, 2}).padding(1).dilation(2).groups(2));
  EXPECT_EQ(c.stride_h, 1);
  EXPECT_EQ(c.stride_w, 2);
  EXPECT_EQ(c.pad_w, 1);
  EXPECT_EQ(c.dilation_h, 2);
  EXPECT_EQ(c.groups, 2);
  const Pool2dParams p = detail::pool2d_params(nn::MaxPool2dOptions({3, 2}).padding({1, 0}));
  EXPECT_EQ(p.kernel_h, 3);
  EXPECT_EQ(p.kernel_w, 2);
  EXPECT_EQ(p.stride_h, 3);  // stride 0 in the layer's options: the kernel size
  EXPECT_EQ(p.stride_w, 2);
  EXPECT_EQ(p.pad_h, 1);
}

}  // namespace
}  // namespace nabla
