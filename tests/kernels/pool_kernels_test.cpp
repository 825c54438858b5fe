// The fast pooling kernels against their references, called directly (no graph): the general
// windows and the 2×2 stride-2 vector path, forward and backward, on every vector width this CPU
// runs and at 1, 2 and 3 threads (the same bits for any of them: planes are split, never a plane).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/pool.h"
#include "kernels/cpu/vecmath.h"
#include "nabla/random.h"
#include "nabla/threads.h"
#include "test_util.h"

namespace nabla {
namespace {

using testing::random_values;
using testing::ThreadCount;

cpu::Pool2dShape pool_shape(int64_t planes, int64_t H, int64_t W, int64_t k, int64_t stride,
                            int64_t pad) {
  cpu::Pool2dShape s;
  s.planes = planes, s.H = H, s.W = W, s.KH = s.KW = k, s.stride_h = s.stride_w = stride;
  s.pad_h = s.pad_w = pad;
  s.OH = (H + 2 * pad - k) / stride + 1, s.OW = (W + 2 * pad - k) / stride + 1;
  return s;
}

TEST(PoolKernelsTest, FastMatchesNaiveAndIsThreadCountIndependent) {
  Generator gen(3);
  const cpu::Pool2dShape shapes[] = {
      pool_shape(64 * 6, 28, 28, 2, 2, 0),  // LeNet's first pool: the 2×2 fast path
      pool_shape(7, 9, 8, 2, 2, 0),         // odd height: the last row is never read
      pool_shape(300, 13, 11, 3, 2, 1), pool_shape(5, 6, 6, 2, 1, 0),
      pool_shape(2000, 4, 4, 2, 2, 1)};
  for (const cpu::Pool2dShape& s : shapes) {
    SCOPED_TRACE(::testing::Message() << "planes " << s.planes << " " << s.H << "x" << s.W << " k"
                                      << s.KH << " s" << s.stride_h << " p" << s.pad_h);
    std::vector<float> x = random_values<float>(s.planes * s.H * s.W, gen);
    // Ties and NaNs exercise the "first maximum wins, NaN wins" rule on both paths.
    for (size_t i = 0; i + 1 < x.size(); i += 17) x[i + 1] = x[i];
    x[x.size() / 2] = std::nanf("");
    const int64_t outs = s.planes * s.OH * s.OW;
    std::vector<float> dy = random_values<float>(outs, gen);
    std::vector<float> ref_max(outs), ref_avg(outs);
    std::vector<int32_t> ref_arg(outs);
    cpu::max_pool2d_forward_naive(ref_max.data(), ref_arg.data(), x.data(), s);
    cpu::avg_pool2d_forward_naive(ref_avg.data(), x.data(), s);
    std::vector<float> one_dmax, one_davg;
    for (int n : {1, 2, 3}) {
      ThreadCount threads(n);
      std::vector<float> mx(outs), av(outs), dmax(x.size(), 0), davg(x.size(), 0);
      std::vector<int32_t> arg(outs);
      cpu::max_pool2d_forward(mx.data(), arg.data(), x.data(), s);
      cpu::avg_pool2d_forward(av.data(), x.data(), s);
      cpu::max_pool2d_backward(dmax.data(), dy.data(), arg.data(), s);
      cpu::avg_pool2d_backward(davg.data(), dy.data(), s);
      EXPECT_EQ(arg, ref_arg) << n << " threads";
      EXPECT_EQ(std::memcmp(mx.data(), ref_max.data(), sizeof(float) * outs), 0) << n;
      EXPECT_EQ(std::memcmp(av.data(), ref_avg.data(), sizeof(float) * outs), 0) << n;
      if (n == 1) {
        one_dmax = dmax, one_davg = davg;
      } else {
        EXPECT_EQ(std::memcmp(dmax.data(), one_dmax.data(), sizeof(float) * x.size()), 0) << n;
        EXPECT_EQ(std::memcmp(davg.data(), one_davg.data(), sizeof(float) * x.size()), 0) << n;
      }
    }
  }
}

// The max pool's backward by its definition: a zeroed plane, then each output's gradient added
// at its argmax.
template <class T>
std::vector<T> max_pool_backward_reference(const std::vector<T>& dy,
                                           const std::vector<int32_t>& arg,
                                           const cpu::Pool2dShape& s) {
  std::vector<T> d(static_cast<size_t>(s.planes * s.H * s.W), T(0));
  const int64_t outs = s.OH * s.OW;
  for (int64_t o = 0; o < s.planes * outs; ++o)
    if (arg[o] >= 0) d[(o / outs) * s.H * s.W + arg[o]] += dy[o];
  return d;
}

// The 2×2 stride-2 rows (vecmath.h) on every vector width this CPU runs, float and double, with
// and without the ReLU: rows of 1 to 35 windows (whole vectors and every tail of 16 and 8
// lanes), odd heights and widths whose last row or column no window reads, ties, NaNs and
// gradients of -0. Forward: the reference's outputs and argmax. Backward: the bits of the
// reference scatter into a zeroed gradient, over a buffer that held NaN before.
template <class T>
void check_2x2_pool_rows() {
  Generator gen(11);
  for (cpu::vec::Variant v : cpu::vec::supported_variants())
    for (int64_t W : {2, 3, 16, 17, 31, 32, 33, 70, 71})
      for (int64_t H : {2, 5})
        for (bool relu : {false, true}) {
          SCOPED_TRACE(::testing::Message() << cpu::vec::variant_name(v) << " " << sizeof(T) * 8
                                            << "-bit " << H << "x" << W << (relu ? " relu" : ""));
          cpu::vec::ScopedVariant scoped(v);
          const cpu::Pool2dShape s = pool_shape(3, H, W, 2, 2, 0);
          std::vector<T> x = random_values<T>(s.planes * H * W, gen);
          for (size_t i = 0; i + 1 < x.size(); i += 7) x[i + 1] = x[i];
          for (size_t i = 3; i < x.size(); i += 29) x[i] = std::numeric_limits<T>::quiet_NaN();
          const int64_t outs = s.planes * s.OH * s.OW;
          std::vector<T> out(outs), ref(outs), dy(outs);
          std::vector<int32_t> arg(outs), ref_arg(outs);
          cpu::max_pool2d_forward(out.data(), arg.data(), x.data(), s, relu);
          cpu::max_pool2d_forward_naive(ref.data(), ref_arg.data(), x.data(), s, relu);
          EXPECT_EQ(arg, ref_arg);
          EXPECT_EQ(std::memcmp(out.data(), ref.data(), sizeof(T) * outs), 0);
          for (int64_t o = 0; o < outs; ++o)
            dy[o] = o % 5 == 0 ? -T(0) : static_cast<T>(gen.uniform(-1, 1));
          std::vector<T> dx(x.size(), std::numeric_limits<T>::quiet_NaN());
          cpu::max_pool2d_backward(dx.data(), dy.data(), arg.data(), s);
          const std::vector<T> want = max_pool_backward_reference(dy, ref_arg, s);
          EXPECT_EQ(std::memcmp(dx.data(), want.data(), sizeof(T) * dx.size()), 0);
        }
}

TEST(PoolKernelsTest, TwoByTwoRowsMatchTheReferenceOnEveryVectorWidth) {
  check_2x2_pool_rows<float>();
  check_2x2_pool_rows<double>();
}

// The general backward (overlapping windows, padding) writes all of dinp too.
TEST(PoolKernelsTest, BackwardOverwritesItsGradient) {
  Generator gen(12);
  const cpu::Pool2dShape s = pool_shape(4, 9, 8, 3, 2, 1);
  std::vector<float> x = random_values<float>(s.planes * s.H * s.W, gen);
  const int64_t outs = s.planes * s.OH * s.OW;
  std::vector<float> out(outs), dy = random_values<float>(outs, gen);
  std::vector<int32_t> arg(outs);
  cpu::max_pool2d_forward(out.data(), arg.data(), x.data(), s);
  std::vector<float> dx(x.size(), std::nanf(""));
  cpu::max_pool2d_backward(dx.data(), dy.data(), arg.data(), s);
  EXPECT_EQ(dx, max_pool_backward_reference(dy, arg, s));
}

}  // namespace
}  // namespace nabla
