// max_pool2d, avg_pool2d and global_avg_pool2d: forward values worked out by hand, what
// padding means for each (-inf for max, zeros counted in the mean for avg), where the gradient
// goes (ties included), the exact-fit rule, and error messages. Gradchecks are registered in
// tests/ops/conv_gradcheck.cpp; PyTorch comparisons in torch_fixtures_test.cpp.
// max_pool2d_relu (ReLU then max pool in one op): bitwise the two ops, kernel and layer level.
#include "kernels/cpu/pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "bit_patterns.h"
#include "nabla/detail/conv_params.h"
#include "nabla/gradcheck.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/pooling.h"
#include "nabla/nn/sequential.h"
#include "nabla/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

using nabla::testing::bit_patterns;
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

// ---- max_pool2d_relu ----

using detail::max_pool2d_relu;
using detail::Pool2dParams;

struct PoolCase {
  const char* what;
  Shape input;
  Pool2dParams params;
};

// The 2×2 fast path (even and odd sizes) and the general loop (padding, overlap, unequal dims).
const PoolCase kReluPoolCases[] = {
    {"2x2 even", {3, 4, 8, 10}, Pool2dParams().kernel(2)},
    {"2x2 odd, floor", {2, 3, 7, 9}, Pool2dParams().kernel(2).floor()},
    {"3x3 stride 2 pad 1", {2, 3, 9, 7}, Pool2dParams().kernel(3).stride(2).padding(1)},
    {"3x2 stride 1x2 pad 1x0",
     {1, 5, 6, 8},
     {.kernel_h = 3, .kernel_w = 2, .stride_h = 1, .stride_w = 2, .pad_h = 1}},
    {"3x3 stride 1 (overlapping)", {2, 2, 5, 6}, Pool2dParams().kernel(3).stride(1)},
};

// max_pool2d_relu is max_pool2d(relu(x)): the same values and input gradient bit for bit, on
// normal draws (so some windows are all negative: output 0, no gradient) in both dtypes.
TEST(MaxPoolReluTest, EqualsReluThenMaxPoolBitwise) {
  for (DType dtype : {kFloat32, kFloat64})
    for (const PoolCase& c : kReluPoolCases) {
      SCOPED_TRACE(std::string(c.what) + " " + dtype_name(dtype));
      Generator gen(11);
      // Shifted down so that about a quarter of the 2×2 windows hold no positive value.
      Tensor x = (Tensor::randn(c.input, gen, dtype) - 0.7).detach().requires_grad_();
      Tensor fused = max_pool2d_relu(x, c.params);
      EXPECT_EQ(fused.grad_fn_name(), "max_pool2d_relu");
      Tensor dy = Tensor::randn(fused.shape(), gen, dtype);
      fused.backward(dy);
      const Tensor fused_dx = x.grad().clone();
      x.zero_grad();
      Tensor composed = detail::max_pool2d(relu(x), c.params);
      composed.backward(dy);
      EXPECT_EQ(bit_patterns(fused), bit_patterns(composed));
      EXPECT_EQ(bit_patterns(fused_dx), bit_patterns(x.grad()));
      // The clamp did something: some windows are 0.
      const std::vector<double> y = fused.to_vector();
      EXPECT_GT(std::count(y.begin(), y.end(), 0.0), 0);
      EXPECT_GT(std::count_if(y.begin(), y.end(), [](double v) { return v > 0; }), 0);
    }
}

// ReLU maps NaN to 0 (x > 0 fails), so a NaN in a window loses to any positive value there and
// a window of NaN and negatives gives 0, as in ReLU then max pool (plain max_pool2d lets a NaN
// win both windows).
TEST(MaxPoolReluTest, NanCountsAsZeroAsReluMapsIt) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Windows (2×2): {nan, 2, nan, -3} and {-1, nan, -2, -4}.
  Tensor x =
      Tensor::from_vector(std::vector<double>{nan, 2, -1, nan, nan, -3, -2, -4}, {1, 1, 2, 4});
  Tensor fused = max_pool2d_relu(x, Pool2dParams().kernel(2));
  EXPECT_EQ(fused.to_vector(), (std::vector<double>{2, 0}));
  EXPECT_EQ(bit_patterns(fused),
            bit_patterns(detail::max_pool2d(relu(x), Pool2dParams().kernel(2))));
  for (double v : detail::max_pool2d(x, Pool2dParams().kernel(2)).to_vector())
    EXPECT_TRUE(std::isnan(v));
}

// The kernel's entry point (threaded, with the 2×2 fast path) against its serial reference, with
// the ReLU flag: the same outputs and argmax, -1 where the output is 0.
TEST(MaxPoolReluTest, FastKernelMatchesTheReference) {
  nabla::testing::ThreadCount threads(2);
  for (const PoolCase& c : kReluPoolCases) {
    SCOPED_TRACE(c.what);
    Generator gen(5);
    Tensor x = Tensor::randn(c.input, gen, kFloat32) - 0.7;
    Tensor out = max_pool2d_relu(x, c.params);
    cpu::Pool2dShape s;
    s.planes = c.input[0] * c.input[1], s.H = c.input[2], s.W = c.input[3];
    s.OH = out.size(2), s.OW = out.size(3);
    s.KH = c.params.kernel_h, s.KW = c.params.kernel_w;
    s.stride_h = c.params.stride_h ? c.params.stride_h : s.KH;
    s.stride_w = c.params.stride_w ? c.params.stride_w : s.KW;
    s.pad_h = c.params.pad_h, s.pad_w = c.params.pad_w;
    const size_t n = static_cast<size_t>(out.numel());
    std::vector<float> fast(n), ref(n);
    std::vector<int32_t> fast_at(n), ref_at(n);
    cpu::max_pool2d_forward(fast.data(), fast_at.data(), x.data<float>(), s, true);
    cpu::max_pool2d_forward_naive(ref.data(), ref_at.data(), x.data<float>(), s, true);
    EXPECT_EQ(fast, ref);
    EXPECT_EQ(fast_at, ref_at);
    EXPECT_EQ(bit_patterns(Tensor::from_vector(fast, out.shape())), bit_patterns(out));
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(ref[i] > 0, ref_at[i] >= 0) << i;
  }
}

// nn::Sequential runs a ReLU followed by a MaxPool2d as max_pool2d_relu, with the numbers of
// the layers run one by one; a forward hook sees the fused output once, as the MaxPool2d's.
TEST(MaxPoolReluTest, SequentialFusesReluFollowedByMaxPool) {
  Generator gen(9);
  nn::Sequential model(nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  std::vector<std::string> hooked;
  model.add_forward_hook([&](const std::string& name, const nn::Module& layer, const Tensor&) {
    hooked.push_back(name + " " + layer.name());
  });
  Tensor x = Tensor::randn({2, 3, 7, 6}, gen).requires_grad_();
  Tensor y = model.forward(x);
  EXPECT_EQ(y.grad_fn_name(), "max_pool2d_relu");
  EXPECT_EQ(hooked, (std::vector<std::string>{"1 MaxPool2d"}));
  Tensor dy = Tensor::randn(y.shape(), gen);
  y.backward(dy);
  const Tensor fused_dx = x.grad().clone();
  x.zero_grad();
  Tensor layered = model.at<nn::MaxPool2d>(1).forward(model.at<nn::ReLU>(0).forward(x));
  EXPECT_EQ(layered.grad_fn_name(), "max_pool2d");
  layered.backward(dy);
  EXPECT_EQ(bit_patterns(y), bit_patterns(layered));
  EXPECT_EQ(bit_patterns(fused_dx), bit_patterns(x.grad()));
}

}  // namespace
}  // namespace nabla
