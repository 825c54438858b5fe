// The fast convolution and batch-norm kernels against their references, called directly
// (no graph): random shapes (strides, padding, dilation, groups, 1×1, odd sizes, batches that
// span several chunks and partial-sum pieces), and the same inputs at 1, 2 and 3 threads giving
// bitwise identical results, since every reduction is split by the shape, not the pool size.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/conv_test_util.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/conv_winograd_cols.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/norm.h"
#include "nabla/random.h"
#include "nabla/threads.h"
#include "test_util.h"

namespace nabla {
namespace {

using testing::pick;
using testing::random_operands;
using testing::random_values;
using testing::ThreadCount;

cpu::Conv2dShape random_conv_shape(Generator& gen) {
  cpu::Conv2dShape s;
  s.groups = pick(gen, 1, 4) == 4 ? pick(gen, 2, 3) : 1;
  s.N = pick(gen, 1, 19);
  s.C = s.groups * pick(gen, 1, 5);
  s.OC = s.groups * pick(gen, 1, 6);
  s.KH = pick(gen, 1, 5), s.KW = pick(gen, 1, 5);
  s.stride_h = pick(gen, 1, 3), s.stride_w = pick(gen, 1, 3);
  s.dilation_h = pick(gen, 1, 2), s.dilation_w = pick(gen, 1, 2);
  s.pad_h = pick(gen, 0, 2), s.pad_w = pick(gen, 0, 2);
  const int64_t span_h = s.dilation_h * (s.KH - 1) + 1, span_w = s.dilation_w * (s.KW - 1) + 1;
  s.H = std::max<int64_t>(span_h - 2 * s.pad_h, 1) + pick(gen, 0, 12);
  s.W = std::max<int64_t>(span_w - 2 * s.pad_w, 1) + pick(gen, 0, 12);
  s.OH = (s.H + 2 * s.pad_h - span_h) / s.stride_h + 1;
  s.OW = (s.W + 2 * s.pad_w - span_w) / s.stride_w + 1;
  return s;
}

// One image whose transformed input and output exceed a Winograd step's budget, so that the
// kernels cut it into blocks of tile rows: wide enough for F(4×4, 3×3) (at least 29 outputs), or
// (narrow) F(2×2, 3×3).
cpu::Conv2dShape large_winograd_shape(bool wide = true) {
  const int64_t C = 64, H = wide ? 39 : 38, W = wide ? 45 : 27;
  return testing::conv3x3(1, C, H, W, C);
}

// Enough wide images (F(4×4, 3×3)) for steps of 2 images and weight-gradient pieces of 1 or 2.
cpu::Conv2dShape wide_batch_shape() {
  return testing::conv3x3(9, 64, 3, 30, 64);
}

// The convnet's conv4 (C64 14², 3×3, padding 1) on one image: on more threads than images its
// Winograd forward (its direct one with AVX-512) runs in bands of tile rows (output rows).
cpu::Conv2dShape one_image_winograd_shape() {
  return testing::conv3x3(1, 64, 14, 14, 64);
}

struct ConvResult {
  std::vector<float> out, out_relu, dinp, dweight, dbias;
  std::vector<float> fused_dinp, fused_dweight, fused_dbias;  // from one conv2d_backward call
};

ConvResult run_fast(const cpu::Conv2dShape& s, const std::vector<float>& x,
                    const std::vector<float>& w, const std::vector<float>& b,
                    const std::vector<float>& dy) {
  std::vector<float> ws(static_cast<size_t>(cpu::conv2d_workspace_size(s)), std::nanf(""));
  ConvResult r;
  r.out.assign(dy.size(), 0), r.out_relu.assign(dy.size(), 0);
  // The input-gradient kernels write all of dinp: NaN left anywhere would fail the comparisons.
  r.dinp.assign(x.size(), std::nanf("")), r.dweight.assign(w.size(), 0),
      r.dbias.assign(b.size(), 0);
  cpu::conv2d_forward(r.out.data(), x.data(), w.data(), b.data(), s, ws.data());
  cpu::conv2d_forward(r.out_relu.data(), x.data(), w.data(), b.data(), s, ws.data(), true);
  cpu::conv2d_backward_input(r.dinp.data(), dy.data(), w.data(), s, ws.data());
  cpu::conv2d_backward_weight(r.dweight.data(), r.dbias.data(), dy.data(), x.data(), s, ws.data());
  r.fused_dinp.assign(x.size(), std::nanf("")), r.fused_dweight.assign(w.size(), 0);
  r.fused_dbias.assign(b.size(), 0);
  cpu::conv2d_backward(r.fused_dinp.data(), r.fused_dweight.data(), r.fused_dbias.data(), dy.data(),
                       x.data(), w.data(), s, ws.data());
  return r;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, int64_t terms,
                  const char* what, double scale = 1) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const double tol =
      scale * 50 * 1.2e-7 * std::sqrt(static_cast<double>(std::max<int64_t>(terms, 1)));
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst,
                     std::abs(double(got[i]) - want[i]) / std::max(1.0, std::abs(double(want[i]))));
  EXPECT_LE(worst, tol) << what << ", sums of " << terms << " terms";
}

std::string describe(const cpu::Conv2dShape& s) {
  std::ostringstream os;
  os << "N" << s.N << " C" << s.C << " " << s.H << "x" << s.W << " OC" << s.OC << " k" << s.KH
     << "x" << s.KW << " s" << s.stride_h << "x" << s.stride_w << " p" << s.pad_h << "x" << s.pad_w
     << " d" << s.dilation_h << "x" << s.dilation_w << " g" << s.groups;
  return os.str();
}

TEST(ConvKernelsTest, FastMatchesNaiveOnRandomShapes) {
  Generator gen(2024);
  std::vector<cpu::Conv2dShape> shapes;
  for (int i = 0; i < 40; ++i) shapes.push_back(random_conv_shape(gen));
  // 1×1 over a batch (the pointwise path), and a batch that spans several chunks and pieces.
  shapes.push_back({.N = 5, .C = 6, .H = 7, .W = 5, .OC = 4, .KH = 1, .KW = 1, .OH = 7, .OW = 5});
  shapes.push_back(testing::conv3x3(23, 16, 20, 20, 8));
  for (const cpu::Conv2dShape& s : shapes) {
    SCOPED_TRACE(describe(s));
    const int64_t Cg = s.C / s.groups;
    const auto [x, w, b, dy] = random_operands(s, gen);
    const ConvResult fast = run_fast(s, x, w, b, dy);
    std::vector<float> out(dy.size()), dinp(x.size(), 0), dweight(w.size(), 0), dbias(b.size(), 0);
    cpu::conv2d_forward_naive(out.data(), x.data(), w.data(), b.data(), s);
    cpu::conv2d_backward_input_naive(dinp.data(), dy.data(), w.data(), s);
    cpu::conv2d_backward_weight_naive(dweight.data(), dbias.data(), dy.data(), x.data(), s);
    std::vector<float> relu = out;
    for (float& v : relu) v = std::max(v, 0.0f);
    const int64_t taps = Cg * s.KH * s.KW, positions = s.N * s.OH * s.OW;
    expect_close(fast.out, out, taps, "output");
    expect_close(fast.out_relu, relu, taps, "output with ReLU");
    expect_close(fast.dinp, dinp, s.OC / s.groups * s.KH * s.KW, "dinput");
    expect_close(fast.dweight, dweight, positions, "dweight");
    expect_close(fast.dbias, dbias, positions, "dbias");
    // Off the Winograd path (these shapes have too few channels) it is the two calls.
    EXPECT_EQ(fast.fused_dinp, fast.dinp);
    EXPECT_EQ(fast.fused_dweight, fast.dweight);
    EXPECT_EQ(fast.fused_dbias, fast.dbias);
  }
}

// The direct weight gradient (conv_direct_block.h) on first-layer shapes (stride 1, 3- or 5-wide
// kernels, rows of 16 to 37 outputs, few taps) through conv2d_backward_weight, with AVX2 and the
// baseline (one block of 8 and of 4 float lanes), against the naive loops. Up to 6 output
// channels with AVX2 and 3 with the baseline take the kernels with a row's positions in lanes
// (conv_direct_block_rows.h), more the channel kernels: the two sum in different orders.
// Padding 0 to 2, so the zero borders and the tiles past the row's end are exercised; float and
// double.
TEST(ConvKernelsTest, DirectWeightGradientMatchesNaiveWithAvx2AndTheBaseline) {
  if (!cpu::isa_supported(cpu::Isa::avx2)) GTEST_SKIP() << "this CPU lacks AVX2";
  Generator gen(99);
  for (int i = 0; i < 24; ++i) {
    cpu::Conv2dShape s;
    s.N = pick(gen, 1, 19);
    s.C = pick(gen, 1, 2);
    s.OC = pick(gen, 1, 8);
    s.KH = pick(gen, 1, 5);
    s.KW = pick(gen, 0, 1) == 0 ? 3 : 5;
    if (s.C * s.KH * s.KW > 32) s.C = 1;  // a first layer: at most 32 taps
    s.pad_h = pick(gen, 0, 2), s.pad_w = pick(gen, 0, 2);
    s.H = std::max<int64_t>(s.KH - 2 * s.pad_h, 1) + pick(gen, 0, 20);
    s.OW = pick(gen, 16, 37);
    s.W = s.OW + s.KW - 1 - 2 * s.pad_w;
    s.OH = s.H + 2 * s.pad_h - s.KH + 1;
    SCOPED_TRACE(describe(s));
    std::vector<float> x = random_values<float>(s.N * s.C * s.H * s.W, gen);
    std::vector<float> dy = random_values<float>(s.N * s.OC * s.OH * s.OW, gen);
    const size_t taps = static_cast<size_t>(s.OC * s.C * s.KH * s.KW);
    std::vector<float> ws(static_cast<size_t>(cpu::conv2d_workspace_size(s)), std::nanf(""));
    std::vector<float> direct(taps, 0), direct_bias(s.OC, 0), baseline(taps, 0),
        baseline_bias(s.OC, 0);
    {
      cpu::ScopedIsa isa(cpu::Isa::avx2);
      cpu::conv2d_backward_weight(direct.data(), direct_bias.data(), dy.data(), x.data(), s,
                                  ws.data());
    }
    {
      cpu::ScopedIsa isa(cpu::Isa::generic);
      cpu::conv2d_backward_weight(baseline.data(), baseline_bias.data(), dy.data(), x.data(), s,
                                  ws.data());
    }
    std::vector<float> naive(taps, 0), naive_bias(s.OC, 0);
    cpu::conv2d_backward_weight_naive(naive.data(), naive_bias.data(), dy.data(), x.data(), s);
    const int64_t positions = s.N * s.OH * s.OW;
    expect_close(direct, naive, positions, "dweight, AVX2");
    expect_close(baseline, naive, positions, "dweight, baseline");
    expect_close(direct_bias, naive_bias, positions, "dbias, AVX2");
    expect_close(baseline_bias, naive_bias, positions, "dbias, baseline");

    // float64, to rounding: the partial sums per lane and image change only the order.
    std::vector<double> xd(x.begin(), x.end()), dyd(dy.begin(), dy.end());
    std::vector<double> wsd(ws.size()), got(taps, 0), want(taps, 0), bias(s.OC, 0);
    {
      cpu::ScopedIsa isa(cpu::Isa::avx2);
      cpu::conv2d_backward_weight(got.data(), bias.data(), dyd.data(), xd.data(), s, wsd.data());
    }
    cpu::conv2d_backward_weight_naive(want.data(), bias.data(), dyd.data(), xd.data(), s);
    for (size_t k = 0; k < taps; ++k) EXPECT_NEAR(got[k], want[k], 1e-12) << "tap " << k;
  }
}

// Winograd (stride-1 3×3 layers with at least 64 channels in and out; F(2×2) with AVX-512 from 128)
// against the naive loops, with every instruction set's transforms this CPU has: F(2×2, 3×3) on
// narrow images (with 128 channels too, which AVX-512's path takes) and F(4×4, 3×3) on wide ones,
// padding 0 to 2, sizes of every remainder (ragged tiles at the bottom and right), batches of 1 to
// 3, and layers whose images are too large for one step (so each runs in blocks of tile rows);
// float64 to 1e-12, float to 4× the usual tolerance: F(4×4)'s transforms scale by up to 8 and round
// by sixths, and measured up to 1.7× the usual bound (F(2×2) stays inside it; docs/performance.md).
TEST(ConvKernelsTest, WinogradMatchesNaive) {
  Generator gen(31);
  const std::vector<cpu::Isa> isas = testing::supported_isas();
  std::vector<cpu::Conv2dShape> shapes;
  for (int i = 0; i < 6; ++i) {
    cpu::Conv2dShape s;
    s.N = i < 3 ? pick(gen, 1, 3) : 1;
    s.C = pick(gen, 64, 67), s.OC = pick(gen, 64, 66);
    s.KH = s.KW = 3;
    s.pad_h = pick(gen, 0, 2), s.pad_w = pick(gen, 0, 2);
    // Three narrow images (F(2×2)), three wide and short ones (F(4×4)).
    s.H = i < 3 ? pick(gen, 3, 11) : pick(gen, 3, 6);
    s.W = i < 3 ? pick(gen, 3, 12) : pick(gen, 31, 38);
    s.OH = s.H + 2 * s.pad_h - 2, s.OW = s.W + 2 * s.pad_w - 2;
    shapes.push_back(s);
  }
  for (int i = 0; i < 2; ++i) {  // narrow images on 128 channels or more: F(2×2) with AVX-512
    cpu::Conv2dShape s;
    s.N = pick(gen, 1, 2);
    s.C = pick(gen, 128, 130), s.OC = pick(gen, 128, 129);
    s.KH = s.KW = 3;
    s.pad_h = s.pad_w = 1;
    s.H = pick(gen, 3, 8), s.W = pick(gen, 3, 9);
    s.OH = s.H, s.OW = s.W;
    shapes.push_back(s);
  }
  shapes.push_back(one_image_winograd_shape());
  shapes.push_back(large_winograd_shape());
  shapes.push_back(large_winograd_shape(false));
  shapes.push_back(wide_batch_shape());
  // More images than weight-gradient pieces, so that a piece runs several chunks.
  shapes.push_back(testing::conv3x3(11, 64, 6, 7, 65));
  for (const cpu::Conv2dShape& s : shapes) {
    SCOPED_TRACE(describe(s));
    const auto [x, w, b, dy] = random_operands(s, gen);
    std::vector<float> out(dy.size()), dinp(x.size(), 0), dweight(w.size(), 0), dbias(b.size(), 0);
    cpu::conv2d_forward_naive(out.data(), x.data(), w.data(), b.data(), s);
    cpu::conv2d_backward_input_naive(dinp.data(), dy.data(), w.data(), s);
    cpu::conv2d_backward_weight_naive(dweight.data(), dbias.data(), dy.data(), x.data(), s);
    std::vector<float> relu = out;
    for (float& v : relu) v = std::max(v, 0.0f);
    std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), bd(b.begin(), b.end());
    std::vector<double> dyd(dy.begin(), dy.end()), want(dy.size()), want_dx(x.size(), 0);
    std::vector<double> want_dw(w.size(), 0), want_db(b.size(), 0);
    cpu::conv2d_forward_naive(want.data(), xd.data(), wd.data(), bd.data(), s);
    cpu::conv2d_backward_input_naive(want_dx.data(), dyd.data(), wd.data(), s);
    cpu::conv2d_backward_weight_naive(want_dw.data(), want_db.data(), dyd.data(), xd.data(), s);
    for (cpu::Isa isa : isas) {
      SCOPED_TRACE(cpu::isa_name(isa));
      cpu::ScopedIsa scoped(isa);
      const ConvResult fast = run_fast(s, x, w, b, dy);
      constexpr double kScale = 4;
      expect_close(fast.out, out, s.C * 9, "output", kScale);
      expect_close(fast.out_relu, relu, s.C * 9, "output with ReLU", kScale);
      expect_close(fast.dinp, dinp, s.OC * 9, "dinput", kScale);
      expect_close(fast.dweight, dweight, s.N * s.OH * s.OW, "dweight", kScale);
      expect_close(fast.dbias, dbias, s.N * s.OH * s.OW, "dbias");
      // The fused backward: its own input gradient, the same weight gradient sums.
      expect_close(fast.fused_dinp, dinp, s.OC * 9, "fused dinput", kScale);
      EXPECT_EQ(fast.fused_dweight, fast.dweight);
      EXPECT_EQ(fast.fused_dbias, fast.dbias);

      std::vector<double> ws(static_cast<size_t>(cpu::conv2d_workspace_size(s)));
      const double nan = std::numeric_limits<double>::quiet_NaN();  // overwritten, not added to
      std::vector<double> got(dy.size()), got_dx(x.size(), nan), got_dw(w.size(), 0);
      std::vector<double> db(b.size(), 0), fused_dx(x.size(), nan), fused_dw(w.size(), 0);
      std::vector<double> fused_db(b.size(), 0);
      cpu::conv2d_forward(got.data(), xd.data(), wd.data(), bd.data(), s, ws.data());
      cpu::conv2d_backward_input(got_dx.data(), dyd.data(), wd.data(), s, ws.data());
      cpu::conv2d_backward_weight(got_dw.data(), db.data(), dyd.data(), xd.data(), s, ws.data());
      cpu::conv2d_backward(fused_dx.data(), fused_dw.data(), fused_db.data(), dyd.data(), xd.data(),
                           wd.data(), s, ws.data());
      for (size_t k = 0; k < got.size(); ++k) ASSERT_NEAR(got[k], want[k], 1e-12) << "out " << k;
      for (size_t k = 0; k < got_dx.size(); ++k) {
        ASSERT_NEAR(got_dx[k], want_dx[k], 1e-12) << "dinput " << k;
        ASSERT_NEAR(fused_dx[k], want_dx[k], 1e-12) << "fused dinput " << k;
      }
      for (size_t k = 0; k < got_dw.size(); ++k) {
        ASSERT_NEAR(got_dw[k], want_dw[k], 1e-11) << "dweight " << k;
        ASSERT_NEAR(fused_dw[k], want_dw[k], 1e-11) << "fused dweight " << k;
      }
      for (size_t k = 0; k < fused_db.size(); ++k)
        ASSERT_NEAR(fused_db[k], want_db[k], 1e-11) << "fused dbias " << k;
    }
  }
}

// The stride-2 column Winograd's forward and input gradient, its functions called directly (two
// chunks: the first image, then the rest) with every instruction set's transforms this CPU has,
// and through conv2d_* (which take it with AVX2), against the naive loops: float to the usual
// tolerance (its differences round like the direct sums' terms), float64 to 1e-12; and its
// output the same at 1 and 2 threads.
TEST(ConvKernelsTest, ColumnWinogradMatchesNaive) {
  Generator gen(37);
  const std::vector<cpu::Isa> isas = testing::supported_isas();
  std::vector<cpu::Conv2dShape> shapes;
  for (int i = 0; i < 4; ++i)
    shapes.push_back(testing::conv3x3(pick(gen, 2, 4), pick(gen, 64, 67), 2 * pick(gen, 1, 6),
                                      4 * pick(gen, 1, 5), pick(gen, 64, 66), 2));
  shapes.push_back(testing::conv3x3(3, 64, 32, 32, 128, 2));  // VGG's down_s2 layer
  EXPECT_TRUE(cpu::winograd_cols::fits(shapes.back()));
  cpu::Conv2dShape odd_width = testing::conv3x3(2, 64, 8, 10, 64, 2), stride1 = shapes.back();
  stride1.stride_h = stride1.stride_w = 1, stride1.OH = stride1.H, stride1.OW = stride1.W;
  EXPECT_FALSE(cpu::winograd_cols::fits(odd_width));  // W not a multiple of 4: half a pair
  EXPECT_FALSE(cpu::winograd_cols::fits(stride1));
  for (const cpu::Conv2dShape& s : shapes) {
    SCOPED_TRACE(describe(s));
    ASSERT_TRUE(cpu::winograd_cols::fits(s));
    const auto [x, w, b, dy] = random_operands(s, gen);
    std::vector<float> out(dy.size()), dinp(x.size(), 0);
    cpu::conv2d_forward_naive(out.data(), x.data(), w.data(), b.data(), s);
    cpu::conv2d_backward_input_naive(dinp.data(), dy.data(), w.data(), s);
    std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), bd(b.begin(), b.end());
    std::vector<double> dyd(dy.begin(), dy.end()), want(dy.size()), want_dx(x.size(), 0);
    cpu::conv2d_forward_naive(want.data(), xd.data(), wd.data(), bd.data(), s);
    cpu::conv2d_backward_input_naive(want_dx.data(), dyd.data(), wd.data(), s);
    // out and dinp of images [0, 1) and [1, N), each a call of the column Winograd's own.
    const auto direct = [&s]<class T>(const std::vector<T>& xs, const std::vector<T>& ws,
                                      const std::vector<T>& bs, const std::vector<T>& dys) {
      namespace wc = cpu::winograd_cols;
      std::vector<T> U(static_cast<size_t>(wc::weight_size(s)));
      std::vector<T> scratch(static_cast<size_t>(wc::scratch_size(s, s.N)));
      std::vector<T> y(dys.size(), std::nan("")), dx(xs.size(), std::nan(""));
      wc::transform_weight(U.data(), ws.data(), s, wc::Product::forward);
      for (const auto& [n0, n1] : {std::pair<int64_t, int64_t>{0, 1}, {1, s.N}})
        wc::forward_images(y.data(), xs.data(), U.data(), bs.data(), s, n0, n1 - n0, scratch.data(),
                           false);
      wc::transform_weight(U.data(), ws.data(), s, wc::Product::input_grad);
      for (const auto& [n0, n1] : {std::pair<int64_t, int64_t>{0, 1}, {1, s.N}})
        wc::input_grad_images(dx.data(), dys.data(), U.data(), s, n0, n1 - n0, scratch.data());
      return std::pair{y, dx};
    };
    for (cpu::Isa isa : isas) {
      SCOPED_TRACE(cpu::isa_name(isa));
      cpu::ScopedIsa scoped(isa);
      const auto [y, dx] = direct(x, w, b, dy);
      expect_close(y, out, s.C * 9, "output");
      expect_close(dx, dinp, s.OC * 9, "dinput");
      const auto [yd, dxd] = direct(xd, wd, bd, dyd);
      for (size_t k = 0; k < yd.size(); ++k) ASSERT_NEAR(yd[k], want[k], 1e-12) << "out " << k;
      for (size_t k = 0; k < dxd.size(); ++k) ASSERT_NEAR(dxd[k], want_dx[k], 1e-12) << "dx " << k;
      const ConvResult fast = run_fast(s, x, w, b, dy);
      expect_close(fast.out, out, s.C * 9, "conv2d_forward");
      expect_close(fast.dinp, dinp, s.OC * 9, "conv2d_backward_input");
      expect_close(fast.fused_dinp, dinp, s.OC * 9, "conv2d_backward");
      if (isa != cpu::Isa::avx2) continue;
      ThreadCount threads(2);
      const ConvResult two = run_fast(s, x, w, b, dy);
      EXPECT_EQ(two.out, fast.out);
      EXPECT_EQ(two.dinp, fast.dinp);
    }
  }
}

TEST(ConvKernelsTest, BitwiseIdenticalForOneTwoAndThreeThreads) {
  Generator gen(7);
  std::vector<cpu::Conv2dShape> shapes;
  for (int i = 0; i < 12; ++i) shapes.push_back(random_conv_shape(gen));
  // LeNet's two layers at batch 64, a VGG-like layer (one image per chunk), one image too large
  // for one Winograd step (its tile rows split over the tasks), and single images whose direct
  // or Winograd forward is shared out in bands of output rows (the convnet's conv2 and conv4,
  // VGG's stride-2 layer).
  shapes.push_back(testing::lenet_conv1(64));
  shapes.push_back(testing::lenet_conv2(64));
  shapes.push_back(testing::conv3x3(5, 32, 16, 16, 32));
  shapes.push_back(one_image_winograd_shape());
  shapes.push_back(testing::conv3x3(1, 32, 28, 28, 32));
  shapes.push_back(testing::conv3x3(1, 64, 32, 32, 128, 2));
  shapes.push_back(large_winograd_shape());
  shapes.push_back(large_winograd_shape(false));
  shapes.push_back(wide_batch_shape());
  for (const cpu::Conv2dShape& s : shapes) {
    SCOPED_TRACE(describe(s));
    const auto [x, w, b, dy] = random_operands(s, gen);
    ConvResult one;
    {
      ThreadCount threads(1);
      one = run_fast(s, x, w, b, dy);
    }
    for (int n : {2, 3}) {
      ThreadCount threads(n);
      const ConvResult many = run_fast(s, x, w, b, dy);
      EXPECT_EQ(many.out, one.out) << n << " threads";
      EXPECT_EQ(many.out_relu, one.out_relu) << n << " threads";
      EXPECT_EQ(many.dinp, one.dinp) << n << " threads";
      EXPECT_EQ(many.dweight, one.dweight) << n << " threads";
      EXPECT_EQ(many.dbias, one.dbias) << n << " threads";
      EXPECT_EQ(many.fused_dinp, one.fused_dinp) << n << " threads";
      EXPECT_EQ(many.fused_dweight, one.fused_dweight) << n << " threads";
      EXPECT_EQ(many.fused_dbias, one.fused_dbias) << n << " threads";
    }
  }
}

TEST(NormKernelsTest, BatchNormIsThreadCountIndependent) {
  Generator gen(5);
  const int64_t N = 16, C = 12, S = 9 * 9;
  std::vector<float> x = random_values<float>(N * C * S, gen),
                     dy = random_values<float>(N * C * S, gen);
  std::vector<float> gamma = random_values<float>(C, gen), beta = random_values<float>(C, gen);
  struct Result {
    std::vector<float> mean, var, y, dx, dgamma, dbeta;
  };
  auto run = [&] {
    Result r{std::vector<float>(C),        std::vector<float>(C),
             std::vector<float>(x.size()), std::vector<float>(x.size(), 0),
             std::vector<float>(C, 0),     std::vector<float>(C, 0)};
    cpu::batch_norm_stats(r.mean.data(), r.var.data(), x.data(), N, C, S);
    std::vector<float> rstd(C);
    for (int64_t c = 0; c < C; ++c) rstd[c] = 1 / std::sqrt(r.var[c] + 1e-5f);
    cpu::batch_norm_forward(r.y.data(), x.data(), r.mean.data(), rstd.data(), gamma.data(),
                            beta.data(), N, C, S);
    cpu::batch_norm_backward(r.dx.data(), r.dgamma.data(), r.dbeta.data(), dy.data(), x.data(),
                             r.mean.data(), rstd.data(), gamma.data(), N, C, S, true);
    return r;
  };
  Result one;
  {
    ThreadCount threads(1);
    one = run();
  }
  // The mean of a channel is the plain average, to float precision.
  double sum0 = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < S; ++i) sum0 += x[(n * C) * S + i];
  EXPECT_NEAR(one.mean[0], sum0 / (N * S), 1e-6);
  for (int n : {2, 3}) {
    ThreadCount threads(n);
    const Result many = run();
    EXPECT_EQ(many.mean, one.mean) << n;
    EXPECT_EQ(many.var, one.var) << n;
    EXPECT_EQ(many.y, one.y) << n;
    EXPECT_EQ(many.dx, one.dx) << n;
    EXPECT_EQ(many.dgamma, one.dgamma) << n;
    EXPECT_EQ(many.dbeta, one.dbeta) << n;
  }
}

}  // namespace
}  // namespace nabla
