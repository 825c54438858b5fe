// conv2d: the output-size rule on CS231n's examples (and its strict exact-fit check), forward
// values worked out by hand, the im2col + GEMM kernels against the naive loops on many
// configurations in float32 and float64 (forward and all three gradients), gradients only for
// the inputs that want them, and error messages. Gradient checks of awkward configurations are
// registered in tests/ops/conv_gradcheck.cpp and run by gradcheck_test.cpp; PyTorch comparisons
// are in torch_fixtures_test.cpp.
#include "nabla/nn/conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nabla/detail/conv_params.h"
#include "nabla/gradcheck.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/pooling.h"
#include "nabla/nn/sequential.h"
#include "nabla/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

using nabla::testing::error_message;
// The op in the per-dimension form its kernels read; functional_test.cpp checks that the public
// F::conv2d and nn::Conv2dOptions give the same.
using detail::conv2d;
using detail::Conv2dParams;

Shape conv_out_shape(const Shape& input, const Shape& weight, const Conv2dParams& p = {}) {
  Generator gen(1);
  return conv2d(Tensor::randn(input, gen), Tensor::randn(weight, gen), {}, p).shape();
}

// CS231n's spatial arrangement examples: a 7×7 input and a 3×3 filter.
TEST(Conv2dTest, SevenBySevenInputThreeByThreeFilter) {
  EXPECT_EQ(conv_out_shape({1, 1, 7, 7}, {1, 1, 3, 3}), Shape({1, 1, 5, 5}));
  EXPECT_EQ(conv_out_shape({1, 1, 7, 7}, {1, 1, 3, 3}, Conv2dParams().stride(2)),
            Shape({1, 1, 3, 3}));
  EXPECT_EQ(conv_out_shape({1, 1, 7, 7}, {1, 1, 3, 3}, Conv2dParams().padding(1)),
            Shape({1, 1, 7, 7}));
}

TEST(Conv2dTest, StrideThreeOnSevenBySevenIsRejectedWithTheArithmetic) {
  const std::string msg = error_message([] {
    conv_out_shape({1, 1, 7, 7}, {1, 1, 3, 3}, Conv2dParams().stride(3));
  });
  EXPECT_NE(msg.find("conv2d: input height 7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not fit evenly"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(7 - 3 + 0)/3 + 1 = 2.33333"), std::string::npos) << msg;
  EXPECT_NE(msg.find("floor_mode"), std::string::npos) << msg;
}

// ResNet's downsampling conv (kernel 3, padding 1, stride 2 on an even size) misfits only by a
// padding row: no input is lost, so it is accepted; a misfit that would drop input is not.
TEST(Conv2dTest, MisfitThatDropsOnlyPaddingIsAccepted) {
  EXPECT_EQ(conv_out_shape({1, 2, 8, 8}, {2, 2, 3, 3}, Conv2dParams().stride(2).padding(1)),
            Shape({1, 2, 4, 4}));
  EXPECT_EQ(conv_out_shape({1, 2, 8, 8}, {2, 2, 3, 3}, Conv2dParams().stride(2).padding(1).floor()),
            Shape({1, 2, 4, 4}));
  const std::string lossy = error_message([] {
    conv_out_shape({1, 1, 7, 7}, {1, 1, 3, 3}, Conv2dParams().stride(3));
  });
  EXPECT_NE(lossy.find("input data would be ignored"), std::string::npos) << lossy;
  EXPECT_NE(lossy.find("never reach the last 1 row(s)"), std::string::npos) << lossy;
}

TEST(Conv2dTest, FloorModeFloorsAsPyTorchDoes) {
  EXPECT_EQ(conv_out_shape({1, 1, 7, 7}, {1, 1, 3, 3}, Conv2dParams().stride(3).floor()),
            Shape({1, 1, 2, 2}));
  // Only the width misfits here: (9 - 3)/4 + 1 = 2.5.
  EXPECT_EQ(conv_out_shape({2, 1, 7, 9}, {1, 1, 3, 3},
                           {.stride_h = 2, .stride_w = 4, .floor_mode = true}),
            Shape({2, 1, 3, 2}));
  EXPECT_NE(error_message([] {
              conv_out_shape({2, 1, 7, 9}, {1, 1, 3, 3}, {.stride_h = 2, .stride_w = 4});
            }).find("conv2d: input width 9"),
            std::string::npos);
}

TEST(Conv2dTest, ThirtyTwoByThirtyTwoRgbWithSixFiveByFiveFilters) {
  EXPECT_EQ(conv_out_shape({2, 3, 32, 32}, {6, 3, 5, 5}), Shape({2, 6, 28, 28}));
}

TEST(Conv2dTest, OutputSizeRuleWithDilationAndUnequalDims) {
  // dilation 2 spreads a 3-tap kernel over 5 pixels: (9 - 5 + 2)/1 + 1 = 7.
  EXPECT_EQ(conv_out_shape({1, 2, 9, 8}, {3, 2, 3, 2},
                           {.stride_w = 2, .pad_h = 1, .dilation_h = 2, .dilation_w = 1}),
            Shape({1, 3, 7, 4}));
  EXPECT_EQ(conv_output_size(31, 3, 1, 2, 1, false, "x"), 16);
  EXPECT_EQ(conv_output_size(28, 5, 2, 1, 1, false, "x"), 28);
}

TEST(Conv2dTest, ForwardMatchesHandComputedValues) {
  for (ConvAlgorithm algo : {ConvAlgorithm::Im2colGemm, ConvAlgorithm::Naive}) {
    Conv2dParams p;
    p.algorithm = algo;
    // x = [[1 2 3] [4 5 6] [7 8 9]], w = [[1 0] [0 -1]]: out = x[i, j] - x[i+1, j+1] = -4.
    Tensor x = Tensor::arange(1, 10, 1, kFloat64).reshape({1, 1, 3, 3});
    Tensor w = Tensor::from_vector(std::vector<double>{1, 0, 0, -1}, {1, 1, 2, 2});
    EXPECT_EQ(conv2d(x, w, {}, p).to_vector(), std::vector<double>(4, -4.0));
    // Two output channels, one all-ones with bias 0.5: window sums 12 16 24 28.
    Tensor w2 = Tensor::from_vector(std::vector<double>{1, 0, 0, -1, 1, 1, 1, 1}, {2, 1, 2, 2});
    Tensor b = Tensor::from_vector(std::vector<double>{0, 0.5});
    EXPECT_EQ(conv2d(x, w2, b, p).to_vector(),
              (std::vector<double>{-4, -4, -4, -4, 12.5, 16.5, 24.5, 28.5}));
    // Padding 1, stride 3: windows start at -1 and 2, so each sees one real pixel or none.
    //   (-1,-1): x[0,0]·(-1) = -1   (-1,2) and (2,-1): only padding   (2,2): x[2,2]·1 = 9
    Tensor y = conv2d(x, w, {}, Conv2dParams(p).padding(1).stride(3));
    EXPECT_EQ(y.shape(), Shape({1, 1, 2, 2}));
    EXPECT_EQ(y.to_vector(), (std::vector<double>{-1, 0, 0, 9}));
  }
}

struct AgreeCase {
  const char* name;
  Shape input, weight;
  bool bias;
  Conv2dParams params;
};

// The im2col + GEMM kernels against the definition, forward and backward. Includes batches big
// enough to be split into several im2col chunks, and 1×1 kernels.
TEST(Conv2dTest, Im2colGemmAgreesWithNaiveLoops) {
  const AgreeCase cases[] = {
      {"seed 7x7 k3", {1, 1, 7, 7}, {1, 1, 3, 3}, false, {}},
      {"batch 3, stride 2, pad 1",
       {3, 3, 9, 7},
       {4, 3, 3, 3},
       true,
       Conv2dParams().stride(2).padding(1)},
      {"unequal stride and pad",
       {2, 2, 8, 11},
       {5, 2, 3, 4},
       true,
       {.stride_h = 1, .stride_w = 3, .pad_h = 2, .pad_w = 1}},
      {"dilation 2", {2, 3, 10, 9}, {2, 3, 3, 3}, true, Conv2dParams().dilation(2).padding(2)},
      {"dilation 2×3, stride 2",
       {1, 2, 11, 13},
       {3, 2, 2, 3},
       false,
       {.stride_h = 2, .stride_w = 2, .dilation_h = 2, .dilation_w = 3}},
      {"groups 2", {3, 4, 6, 5}, {6, 2, 3, 3}, true, {.pad_h = 1, .pad_w = 1, .groups = 2}},
      {"depthwise (groups = C)",
       {2, 3, 5, 5},
       {3, 1, 3, 3},
       true,
       {.pad_h = 1, .pad_w = 1, .groups = 3}},
      {"1×1 kernel", {2, 5, 4, 6}, {7, 5, 1, 1}, true, {}},
      {"kernel as large as the padded input",
       {2, 2, 3, 4},
       {3, 2, 5, 6},
       true,
       Conv2dParams().padding(1)},
      {"several im2col chunks", {13, 32, 24, 24}, {8, 32, 3, 3}, true, Conv2dParams().padding(1)},
      {"floor_mode", {2, 3, 10, 9}, {4, 3, 3, 3}, true, Conv2dParams().stride(4).floor()},
      {"LeNet conv1", {4, 1, 28, 28}, {6, 1, 5, 5}, true, Conv2dParams().padding(2)},
  };
  for (const AgreeCase& c : cases)
    for (DType dtype : {kFloat64, kFloat32}) {
      SCOPED_TRACE(std::string(c.name) + " " + dtype_name(dtype));
      Generator gen(11);
      auto leaf = [&](const Shape& s) { return Tensor::randn(s, gen, dtype).requires_grad_(); };
      Tensor x = leaf(c.input), w = leaf(c.weight);
      Tensor b = c.bias ? leaf({c.weight[0]}) : Tensor();
      struct Result {
        Tensor y, dx, dw, db;
      };
      auto run = [&](bool naive) {
        x.zero_grad(), w.zero_grad();
        if (b.defined()) b.zero_grad();
        Tensor y = conv2d(x, w, b, Conv2dParams(c.params).naive(naive));
        Generator up_gen(5);
        y.backward(Tensor::randn(y.shape(), up_gen, dtype));
        return Result{y, x.grad(), w.grad(), b.defined() ? b.grad() : Tensor()};
      };
      const Result fast = run(false), naive = run(true);
      // Both versions round differently (the naive loop sums one term at a time, the GEMM in
      // blocks), so the allowed difference grows with the length L of the sum behind each
      // value: 50 · machine epsilon · sqrt(L), relative to max(1, |value|).
      const double unit = dtype == kFloat64 ? 2.2e-16 : 1.2e-7;
      const int64_t G = c.params.groups, taps = c.weight[2] * c.weight[3];
      const int64_t positions = c.input[0] * fast.y.size(2) * fast.y.size(3);
      auto expect_close = [&](const Tensor& got, const Tensor& want, int64_t L, const char* what) {
        const double tol = 50 * unit * std::sqrt(static_cast<double>(L));
        ASSERT_TRUE(got.defined() && want.defined()) << what;
        ASSERT_EQ(got.shape(), want.shape()) << what;
        std::vector<double> g = got.to_vector(), r = want.to_vector();
        double worst = 0;
        for (size_t i = 0; i < g.size(); ++i)
          worst = std::max(worst, std::abs(g[i] - r[i]) / std::max(1.0, std::abs(r[i])));
        EXPECT_LE(worst, tol) << what << ", sums of " << L << " terms";
      };
      expect_close(fast.y, naive.y, c.input[1] / G * taps, "output");
      expect_close(fast.dx, naive.dx, c.weight[0] / G * taps, "dinput");
      expect_close(fast.dw, naive.dw, positions, "dweight");
      if (c.bias) expect_close(fast.db, naive.db, positions, "dbias");
    }
}

// Gradients flow only to the inputs that require them; the others get none and backward does
// not fail on them.
TEST(Conv2dTest, GradientsOnlyForInputsThatRequireThem) {
  Generator gen(3);
  Tensor x = Tensor::randn({2, 3, 6, 6}, gen, kFloat64);
  Tensor w = Tensor::randn({4, 3, 3, 3}, gen, kFloat64).requires_grad_();
  Tensor b = Tensor::randn({4}, gen, kFloat64);
  conv2d(x, w, b).sum().backward();
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  ASSERT_TRUE(w.grad().defined());
  // dweight of Σ conv is Σ over images and positions of the input patch.
  EXPECT_NEAR(w.grad().at({1, 2, 0, 0}),
              x.slice(1, 2, 3).slice(2, 0, 4).slice(3, 0, 4).sum().item(), 1e-12);

  Tensor x2 = x.clone().requires_grad_();
  Tensor b2 = b.clone().requires_grad_();
  conv2d(x2, w.detach(), b2).sum().backward();
  ASSERT_TRUE(b2.grad().defined());
  // dbias of Σ conv counts the output positions: 2 images × 4 × 4.
  for (double v : b2.grad().to_vector()) EXPECT_DOUBLE_EQ(v, 32.0);
  ASSERT_TRUE(x2.grad().defined());
}

TEST(Conv2dTest, NonContiguousInputsGiveTheSameResult) {
  Generator gen(4);
  Tensor x = Tensor::randn({5, 2, 3, 4}, gen, kFloat64);  // permuted to (2, 3, 5, 4) below
  Tensor w = Tensor::randn({3, 4, 2, 2}, gen, kFloat64);
  Tensor xt = x.permute({1, 3, 0, 2});  // (2, 4, 5, 3), strided
  ASSERT_FALSE(xt.is_contiguous());
  EXPECT_EQ(conv2d(xt, w).to_vector(), conv2d(xt.contiguous(), w).to_vector());
}

TEST(Conv2dTest, GradcheckOnStridedInput) {
  Generator gen(6);
  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) {
        return conv2d(in[0].transpose(2, 3), in[1], in[2], Conv2dParams().stride(2).padding(1));
      },
      {Tensor::randn({2, 2, 5, 3}, gen, kFloat64), Tensor::randn({3, 2, 3, 3}, gen, kFloat64),
       Tensor::randn({3}, gen, kFloat64)});
  EXPECT_TRUE(r.passed) << r.str();
}

TEST(Conv2dTest, ErrorsNameTheOpTheShapesAndTheRule) {
  Generator gen(9);
  auto t = [&](const Shape& s, DType d = kFloat32) { return Tensor::randn(s, gen, d); };
  EXPECT_EQ(error_message([&] {
              conv2d(t({64, 3, 32, 32}), t({6, 1, 5, 5}));
            }),
            "conv2d: input [64, 3, 32, 32] has 3 channels but weight [6, 1, 5, 5] expects 1");
  EXPECT_EQ(
      error_message([&] {
        conv2d(t({2, 4, 8, 8}), t({6, 1, 3, 3}), {}, {.groups = 2});
      }),
      "conv2d: input [2, 4, 8, 8] has 4 channels but weight [6, 1, 3, 3] with 2 groups expects "
      "1 × 2 = 2");
  EXPECT_NE(error_message([&] {
              conv2d(t({2, 3, 8, 8}), t({6, 1, 3, 3}), {}, {.groups = 2});
            }).find("3 channels, which do not split into 2 groups"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              conv2d(t({3, 32, 32}), t({6, 3, 5, 5}));
            }).find("conv2d: input [3, 32, 32] must be 4-d"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              conv2d(t({1, 3, 8, 8}), t({6, 3, 3, 3}), t({5}));
            })
                .find("conv2d: bias [5] must have one value per output channel of weight "
                      "[6, 3, 3, 3]"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              conv2d(t({1, 1, 4, 4}), t({1, 1, 5, 5}));
            })
                .find("conv2d: input height 4 padded by 0 on each side is smaller than the "
                      "kernel (5)"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              conv2d(t({1, 1, 6, 6}), t({1, 1, 3, 3}), {}, Conv2dParams().dilation(3));
            }).find("dilated kernel (7)"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              conv2d(t({1, 1, 6, 6}), t({1, 1, 3, 3}), {}, Conv2dParams().stride(0));
            }).find("stride 0×0 must be at least 1"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              conv2d(t({1, 1, 6, 6}), t({1, 1, 3, 3}, kFloat64));
            }).find("conv2d: dtypes differ"),
            std::string::npos);
}

}  // namespace
}  // namespace nabla

namespace nabla {
namespace {

using detail::conv2d;
using detail::conv2d_relu;
using detail::Conv2dParams;

// conv2d_relu is relu(conv2d(...)) computed in one op: the same numbers bit for bit (the
// epilogue adds the same bias, the mask is the same), on both kernels, with every gradient.
TEST(Conv2dReluTest, EqualsConvThenReluBitwise) {
  for (bool naive : {false, true}) {
    SCOPED_TRACE(naive ? "naive" : "im2col");
    Generator gen(17);
    Tensor x = Tensor::randn({3, 4, 9, 8}, gen).requires_grad_();
    Tensor w = Tensor::randn({5, 4, 3, 3}, gen).requires_grad_();
    Tensor b = Tensor::randn({5}, gen).requires_grad_();
    const Conv2dParams p = Conv2dParams().padding(1).stride(2).floor().naive(naive);
    Tensor dy = Tensor::randn(conv2d(x, w, b, p).shape(), gen);
    auto grads = [&](const Tensor& y) {
      x.zero_grad(), w.zero_grad(), b.zero_grad();
      y.backward(dy);
      return std::vector<std::vector<double>>{y.to_vector(), x.grad().to_vector(),
                                              w.grad().to_vector(), b.grad().to_vector()};
    };
    const auto fused = grads(conv2d_relu(x, w, b, p));
    const auto composed = grads(relu(conv2d(x, w, b, p)));
    EXPECT_EQ(fused, composed);
    // The ReLU did something: some outputs are clamped, some gradients masked.
    EXPECT_GT(std::count(fused[0].begin(), fused[0].end(), 0.0), 0);
  }
}

// nn::Sequential runs Conv2d followed by ReLU as the fused op, with the same result; a ReLU
// that follows something else stays a ReLU.
TEST(Conv2dReluTest, SequentialFusesConvFollowedByRelu) {
  Generator gen(3);
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(2, 3, 3).padding(1).generator(&gen)),
                       nn::ReLU());
  Tensor x = Tensor::randn({2, 2, 6, 6}, gen).requires_grad_();
  Tensor y = model.forward(x);
  EXPECT_EQ(y.grad_fn_name(), "conv2d_relu");
  const auto& conv = model.at<nn::Conv2d>(0);
  EXPECT_EQ(
      y.to_vector(),
      relu(conv2d(x, conv.weight, conv.bias, detail::conv2d_params(conv.options))).to_vector());
  nn::Sequential plain(nn::MaxPool2d(2), nn::ReLU());
  EXPECT_EQ(plain.forward(x).grad_fn_name(), "relu");
}

}  // namespace
}  // namespace nabla
