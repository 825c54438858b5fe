// The direct convolution with output channels in vector lanes (kernels/cpu/conv_direct_block.h),
// called directly with every instruction set this CPU has: against the naive loops on random
// stride-1 and stride-2 shapes (kernels 1 to 7 wide, padding below the kernel size, output
// channel counts on both sides of a lane block, rows shorter and longer than a tile, odd and even
// sizes), in float to the usual tolerance and in float64 to 1e-12.
#include "kernels/cpu/conv_direct_block.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/conv_test_util.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/isa.h"
#include "nabla/random.h"
#include "test_util.h"

namespace nabla {
namespace {

using testing::ConvOperands;
using testing::pick;
using testing::random_operands;

cpu::Conv2dShape random_shape(Generator& gen, int64_t stride) {
  cpu::Conv2dShape s;
  s.stride_h = s.stride_w = stride;
  s.N = pick(gen, 1, 5);
  s.C = pick(gen, 1, 7);
  s.OC = pick(gen, 1, 40);
  s.KH = pick(gen, 1, 7), s.KW = pick(gen, 1, 7);
  s.pad_h = pick(gen, 0, s.KH - 1), s.pad_w = pick(gen, 0, s.KW - 1);
  s.H = std::max<int64_t>(s.KH - 2 * s.pad_h, 1) + pick(gen, 0, 20);
  s.W = std::max<int64_t>(s.KW - 2 * s.pad_w, 1) + pick(gen, 0, 30);
  s.OH = (s.H + 2 * s.pad_h - s.KH) / stride + 1, s.OW = (s.W + 2 * s.pad_w - s.KW) / stride + 1;
  return s;
}

std::string describe(const cpu::Conv2dShape& s) {
  std::ostringstream os;
  os << "N" << s.N << " C" << s.C << " " << s.H << "x" << s.W << " OC" << s.OC << " k" << s.KH
     << "x" << s.KW << " p" << s.pad_h << "x" << s.pad_w << " s" << s.stride_h;
  return os.str();
}

template <class T>
struct Result {
  std::vector<T> out, out_relu, dinp, dweight, dweight_halves, dbias, dbias_halves;
  // The two runs' sums added in the kernels' layout, then turned into rows; the second run's
  // rows plus the first run's sums.
  std::vector<T> dweight_lanes, dweight_added;
};

// Forward (with and without ReLU), the input gradient written over NaNs (every element must be
// written), and the weight gradient over the whole batch and as two runs of images added up.
template <class T>
Result<T> run_direct(const cpu::Conv2dShape& s, const std::vector<T>& x, const std::vector<T>& w,
                     const std::vector<T>& b, const std::vector<T>& dy) {
  namespace db = cpu::direct_block;
  std::vector<T> packed(static_cast<size_t>(db::weight_size(s)));
  // NaNs: the kernels must zero every part of their scratch that they read.
  std::vector<T> scratch(static_cast<size_t>(db::scratch_size(s)),
                         std::numeric_limits<T>::quiet_NaN());
  db::pack_weight(packed.data(), w.data(), s);
  Result<T> r;
  r.out.assign(dy.size(), T(0)), r.out_relu.assign(dy.size(), T(0));
  db::forward_images(r.out.data(), x.data(), packed.data(), b.data(), s, 0, s.N, scratch.data(),
                     false);
  db::forward_images(r.out_relu.data(), x.data(), packed.data(), b.data(), s, 0, s.N,
                     scratch.data(), true);
  r.dinp.assign(x.size(), std::numeric_limits<T>::quiet_NaN());
  db::pack_input_weight(packed.data(), w.data(), s);
  db::input_grad_images(r.dinp.data(), dy.data(), packed.data(), s, 0, s.N, scratch.data());
  r.dweight.assign(w.size(), T(0)), r.dbias.assign(b.size(), T(0));
  db::weight_grad_run(r.dweight.data(), r.dbias.data(), dy.data(), x.data(), s, 0, s.N,
                      scratch.data());
  std::vector<T> second(w.size()), second_bias(b.size());
  r.dweight_halves.assign(w.size(), T(0)), r.dbias_halves.assign(b.size(), T(0));
  db::weight_grad_run(r.dweight_halves.data(), r.dbias_halves.data(), dy.data(), x.data(), s, 0,
                      s.N / 2, scratch.data());
  db::weight_grad_run(second.data(), second_bias.data(), dy.data(), x.data(), s, s.N / 2, s.N,
                      scratch.data());
  for (size_t i = 0; i < second.size(); ++i) r.dweight_halves[i] += second[i];
  for (size_t i = 0; i < second_bias.size(); ++i) r.dbias_halves[i] += second_bias[i];
  // The same two runs in the kernels' layout (NaNs first: weight_grad_sums must overwrite them).
  const auto lanes = static_cast<size_t>(db::weight_sums_size<T>(s));
  EXPECT_LE(lanes, static_cast<size_t>(db::weight_sums_bound(s)));
  std::vector<T> sums(lanes, std::numeric_limits<T>::quiet_NaN()), sums2(sums);
  db::weight_grad_sums(sums.data(), second_bias.data(), dy.data(), x.data(), s, 0, s.N / 2,
                       scratch.data());
  db::weight_grad_sums(sums2.data(), second_bias.data(), dy.data(), x.data(), s, s.N / 2, s.N,
                       scratch.data());
  r.dweight_added = second;  // add_weight_sums adds to what dw holds (a + b == b + a exactly)
  db::add_weight_sums(r.dweight_added.data(), sums.data(), s);
  for (size_t i = 0; i < lanes; ++i) sums[i] += sums2[i];
  r.dweight_lanes.assign(w.size(), T(0));
  db::add_weight_sums(r.dweight_lanes.data(), sums.data(), s);
  return r;
}

template <class T>
Result<T> run_naive(const cpu::Conv2dShape& s, const std::vector<T>& x, const std::vector<T>& w,
                    const std::vector<T>& b, const std::vector<T>& dy) {
  Result<T> r;
  r.out.assign(dy.size(), T(0));
  cpu::conv2d_forward_naive(r.out.data(), x.data(), w.data(), b.data(), s);
  r.out_relu = r.out;
  for (T& v : r.out_relu) v = std::max(v, T(0));
  r.dinp.assign(x.size(), T(0));
  cpu::conv2d_backward_input_naive(r.dinp.data(), dy.data(), w.data(), s);
  r.dweight.assign(w.size(), T(0)), r.dbias.assign(b.size(), T(0));
  cpu::conv2d_backward_weight_naive(r.dweight.data(), r.dbias.data(), dy.data(), x.data(), s);
  r.dweight_halves = r.dweight, r.dbias_halves = r.dbias;
  return r;
}

// Largest difference relative to max(1, |want|), against the tolerance for sums of `terms`.
template <class T>
void expect_close(const std::vector<T>& got, const std::vector<T>& want, double tol,
                  const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst,
                     std::abs(double(got[i]) - want[i]) / std::max(1.0, std::abs(double(want[i]))));
  EXPECT_LE(worst, tol) << what;
}

double float_tol(int64_t terms) {
  return 50 * 1.2e-7 * std::sqrt(static_cast<double>(std::max<int64_t>(terms, 1)));
}

// LeNet-5's conv1 on two images: 6 output channels, half a block of AVX-512's but not of AVX2's.
constexpr cpu::Conv2dShape kLenetConv1 = testing::lenet_conv1(2);

// Shapes whose forward takes the kernels with a row's outputs in lanes (at most 3/4 of a block of
// output channels, stride 1) with some instruction set and element type: rows of one vector and
// a bit (the last vector overlaps), of 2.6 vectors and of 10 with four vectors a tile, one to
// eight channels.
std::vector<cpu::Conv2dShape> rows_in_lanes_shapes() {
  return {testing::conv3x3(2, 3, 9, 21, 3),
          {.N = 1,
           .C = 1,
           .H = 5,
           .W = 40,
           .OC = 1,
           .KH = 1,
           .KW = 7,
           .OH = 5,
           .OW = 40,
           .pad_h = 0,
           .pad_w = 3},
          {.N = 2,
           .C = 2,
           .H = 6,
           .W = 16,
           .OC = 8,
           .KH = 2,
           .KW = 2,
           .OH = 7,
           .OW = 17,
           .pad_h = 1,
           .pad_w = 1},
          {.N = 1, .C = 2, .H = 4, .W = 12, .OC = 2, .KH = 3, .KW = 5, .OH = 2, .OW = 8}};
}

TEST(ConvDirectBlockTest, MatchesNaiveWithEveryInstructionSet) {
  const std::vector<cpu::Isa> isas = testing::supported_isas();
  Generator gen(513);
  std::vector<cpu::Conv2dShape> shapes;
  for (int i = 0; i < 30; ++i) shapes.push_back(random_shape(gen, 1));
  for (int i = 0; i < 30; ++i) shapes.push_back(random_shape(gen, 2));
  // The VGG-style downsampling layer (3×3, padding 1, stride 2) on one image, fewer output
  // channels.
  shapes.push_back(testing::conv3x3(1, 64, 32, 32, 40, 2));
  // LeNet-5's two layers (conv2: 6 → 16 channels on 14×14), on a few images.
  shapes.push_back(testing::lenet_conv2(3));
  shapes.push_back(kLenetConv1);
  for (const cpu::Conv2dShape& s : rows_in_lanes_shapes()) shapes.push_back(s);
  for (const cpu::Conv2dShape& s : shapes) {
    SCOPED_TRACE(describe(s));
    ASSERT_TRUE(cpu::direct_block::fits(s));
    const auto [x, w, b, dy] = random_operands(s, gen);
    const Result<float> want = run_naive(s, x, w, b, dy);
    const std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
    const std::vector<double> bd(b.begin(), b.end()), dyd(dy.begin(), dy.end());
    const Result<double> want_d = run_naive(s, xd, wd, bd, dyd);
    const int64_t taps = s.C * s.KH * s.KW, positions = s.N * s.OH * s.OW;
    for (cpu::Isa isa : isas) {
      SCOPED_TRACE(cpu::isa_name(isa));
      cpu::ScopedIsa scoped(isa);
      const Result<float> got = run_direct(s, x, w, b, dy);
      expect_close(got.out, want.out, float_tol(taps), "output");
      expect_close(got.out_relu, want.out_relu, float_tol(taps), "output with ReLU");
      expect_close(got.dinp, want.dinp, float_tol(s.OC * s.KH * s.KW), "dinput");
      expect_close(got.dweight, want.dweight, float_tol(positions), "dweight");
      expect_close(got.dweight_halves, want.dweight, float_tol(positions), "dweight in two runs");
      EXPECT_EQ(got.dweight_lanes, got.dweight_halves) << "two runs' sums added in lanes";
      EXPECT_EQ(got.dweight_added, got.dweight_halves) << "a run's sums added to rows";
      expect_close(got.dbias, want.dbias, float_tol(positions), "dbias");
      expect_close(got.dbias_halves, want.dbias, float_tol(positions), "dbias in two runs");
      const Result<double> got_d = run_direct(s, xd, wd, bd, dyd);
      expect_close(got_d.out, want_d.out, 1e-12, "float64 output");
      expect_close(got_d.out_relu, want_d.out_relu, 1e-12, "float64 output with ReLU");
      expect_close(got_d.dinp, want_d.dinp, 1e-12, "float64 dinput");
      expect_close(got_d.dweight, want_d.dweight, 1e-12, "float64 dweight");
      EXPECT_EQ(got_d.dweight_lanes, got_d.dweight_halves) << "float64 sums added in lanes";
      EXPECT_EQ(got_d.dweight_added, got_d.dweight_halves) << "float64 sums added to rows";
      expect_close(got_d.dbias, want_d.dbias, 1e-12, "float64 dbias");
    }
  }
}

// Every output's sum runs over (c, kh, kw) in the same order in both forward kernels, so AVX2 and
// AVX-512 (both multiply-adding) give the same bits where one puts a row's outputs in lanes and
// the other output channels (LeNet-5's conv1: 6 channels, half of AVX-512's block but not of
// AVX2's), and where both put them in the same kind.
TEST(ConvDirectBlockTest, ForwardSameBitsWithAvx2AndAvx512) {
  if (!cpu::isa_supported(cpu::Isa::avx512)) GTEST_SKIP() << "this CPU has no AVX-512";
  std::vector<cpu::Conv2dShape> shapes = rows_in_lanes_shapes();
  shapes.push_back(kLenetConv1);
  Generator gen(77);
  for (const cpu::Conv2dShape& s : shapes) {
    SCOPED_TRACE(describe(s));
    const auto [x, w, b, dy] = random_operands(s, gen);
    std::vector<float> out[2];
    for (int i = 0; i < 2; ++i) {
      cpu::ScopedIsa scoped(i == 0 ? cpu::Isa::avx2 : cpu::Isa::avx512);
      out[i] = run_direct(s, x, w, b, dy).out_relu;
    }
    EXPECT_EQ(out[0], out[1]);
  }
}

// The whole fast path (conv.cpp's rule and Plan) on a stride-2 layer, which takes the direct
// kernels with AVX-512 and im2col + GEMM otherwise: the batch spans several chunks and weight
// pieces, and every instruction set's results are bitwise the same at 1, 2 and 3 threads.
TEST(ConvDirectBlockTest, StrideTwoBitwiseIdenticalForOneTwoAndThreeThreads) {
  const cpu::Conv2dShape s = testing::conv3x3(13, 16, 15, 15, 40, 2);
  Generator gen(29);
  const ConvOperands op = random_operands(s, gen);
  // References, not a structured binding: clang 14 cannot capture those in the lambda below.
  const std::vector<float>& x = op.x;
  const std::vector<float>& w = op.w;
  const std::vector<float>& b = op.b;
  const std::vector<float>& dy = op.dy;
  const auto run = [&] {
    std::vector<float> ws(static_cast<size_t>(cpu::conv2d_workspace_size(s)), std::nanf(""));
    Result<float> r;
    r.out.assign(dy.size(), 0), r.dinp.assign(x.size(), std::nanf(""));  // written whole
    r.dweight.assign(w.size(), 0), r.dbias.assign(b.size(), 0);
    cpu::conv2d_forward(r.out.data(), x.data(), w.data(), b.data(), s, ws.data());
    cpu::conv2d_backward_input(r.dinp.data(), dy.data(), w.data(), s, ws.data());
    cpu::conv2d_backward_weight(r.dweight.data(), r.dbias.data(), dy.data(), x.data(), s,
                                ws.data());
    return r;
  };
  const Result<float> want = run_naive(s, x, w, b, dy);
  for (cpu::Isa isa : {cpu::Isa::generic, cpu::Isa::avx2, cpu::Isa::avx512}) {
    if (!cpu::isa_supported(isa)) continue;
    SCOPED_TRACE(cpu::isa_name(isa));
    cpu::ScopedIsa scoped(isa);
    Result<float> one;
    {
      testing::ThreadCount threads(1);
      one = run();
    }
    expect_close(one.out, want.out, float_tol(s.C * s.KH * s.KW), "output");
    expect_close(one.dinp, want.dinp, float_tol(s.OC * s.KH * s.KW), "dinput");
    expect_close(one.dweight, want.dweight, float_tol(s.N * s.OH * s.OW), "dweight");
    for (int n : {2, 3}) {
      testing::ThreadCount threads(n);
      const Result<float> many = run();
      EXPECT_EQ(many.out, one.out) << n << " threads";
      EXPECT_EQ(many.dinp, one.dinp) << n << " threads";
      EXPECT_EQ(many.dweight, one.dweight) << n << " threads";
      EXPECT_EQ(many.dbias, one.dbias) << n << " threads";
    }
  }
}

}  // namespace
}  // namespace nabla
