// The vectorised transcendental functions (kernels/cpu/vecmath.h) against the C library, on every
// compiled copy this CPU can run: a sweep of float32 bit patterns through every exponent (one
// pattern in 509, about 8,400 per binade, both signs), random doubles over every exponent, and
// the special values (±0, denormals, ±inf, NaN, the overflow and underflow edges).
#include "kernels/cpu/vecmath.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/activation.h"

namespace nabla {
namespace {

using cpu::vec::Variant;

// Distance in units in the last place: the number of representable values between a and b
// (±0 are one value); 0 when both are NaN, "infinite" when only one is.
template <class T>
double ulp_distance(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : 1e300;
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  auto ordered = [](T v) {
    const I i = std::bit_cast<I>(v);
    return i < 0 ? -static_cast<long double>(i & std::numeric_limits<I>::max())
                 : static_cast<long double>(i);
  };
  return static_cast<double>(std::fabs(ordered(a) - ordered(b)));
}

// The correctly rounded value (near enough): float functions are evaluated in double, double
// functions in long double where the C library's double one could itself be 1 ulp off.
float reference(const char* f, float x) {
  const double d = x;
  const std::string n = f;
  if (n == "exp") return static_cast<float>(std::exp(d));
  if (n == "expm1") return static_cast<float>(std::expm1(d));
  if (n == "log") return static_cast<float>(std::log(d));
  if (n == "log1p") return static_cast<float>(std::log1p(d));
  if (n == "tanh") return static_cast<float>(std::tanh(d));
  return static_cast<float>(d >= 0 ? 1 / (1 + std::exp(-d)) : std::exp(d) / (1 + std::exp(d)));
}
double reference(const char* f, double x) {
  const long double d = x;
  const std::string n = f;
  if (n == "exp") return std::exp(x);
  if (n == "expm1") return std::expm1(x);
  if (n == "log") return std::log(x);
  if (n == "log1p") return std::log1p(x);
  if (n == "tanh") return static_cast<double>(std::tanh(d));
  return static_cast<double>(d >= 0 ? 1 / (1 + std::exp(-d)) : std::exp(d) / (1 + std::exp(d)));
}

template <class T>
void run(const char* f, T* y, const T* x, int64_t n) {
  const std::string name = f;
  if (name == "exp") return cpu::vec::exp(y, x, n);
  if (name == "expm1") return cpu::vec::expm1(y, x, n);
  if (name == "log") return cpu::vec::log(y, x, n);
  if (name == "log1p") return cpu::vec::log1p(y, x, n);
  if (name == "tanh") return cpu::vec::tanh(y, x, n);
  return cpu::vec::sigmoid(y, x, n);
}

template <class T>
std::vector<T> references(const char* f, const std::vector<T>& xs) {
  std::vector<T> out(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) out[i] = reference(f, xs[i]);
  return out;
}

// Worst ulp error of f over xs on the active variant; reports the worst input.
template <class T>
double worst_ulp(const char* f, const std::vector<T>& xs, const std::vector<T>& want, T* worst_x) {
  std::vector<T> y(xs.size());
  run(f, y.data(), xs.data(), static_cast<int64_t>(xs.size()));
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double d = ulp_distance(y[i], want[i]);
    if (d > worst) worst = d, *worst_x = xs[i];
  }
  return worst;
}

template <class T>
std::vector<T> special_values() {
  using L = std::numeric_limits<T>;
  std::vector<T> v = {T(0),      -T(0),         L::denorm_min(), -L::denorm_min(),
                      L::min(),  -L::min(),     L::min() / 3,    L::max(),
                      -L::max(), L::infinity(), -L::infinity(),  L::quiet_NaN(),
                      T(1),      T(-1),         T(0.5),          T(2),
                      T(0.625),  T(-0.625),     T(1e-30),        T(-1e-30)};
  // The overflow and underflow edges of exp and its kin, and a few ulps either side.
  for (T edge : {std::log(L::max()), std::log(L::denorm_min()), std::log(L::min()),
                 std::log(L::denorm_min()) - T(0.7)})
    for (T e = edge, k = 0; k < 8; ++k) {
      v.push_back(e);
      v.push_back(std::nextafter(edge, T(0)) - (edge - e));
      e = std::nextafter(e, -L::infinity());
    }
  return v;
}

std::vector<float> float_sweep() {
  std::vector<float> xs;
  for (uint64_t b = 0; b < (uint64_t(1) << 32); b += 509)
    xs.push_back(std::bit_cast<float>(static_cast<uint32_t>(b)));
  for (float s : special_values<float>()) xs.push_back(s);
  return xs;
}

std::vector<double> double_sample() {
  std::mt19937_64 rng(13);
  std::vector<double> xs;
  for (int i = 0; i < 400000; ++i) xs.push_back(std::bit_cast<double>(rng()));  // every exponent
  std::uniform_real_distribution<double> near(-40, 40), wide(-800, 800);
  for (int i = 0; i < 200000; ++i) xs.push_back(near(rng)), xs.push_back(wide(rng));
  for (double s : special_values<double>()) xs.push_back(s);
  return xs;
}

// Every function is held to 2 ulp, the bound (measured: exp, log, log1p and tanh 1,
// expm1 2). sigmoid below 0 is e^-|x| / (1 + e^-|x|) in one division: the former
// e · (1 / (1 + e)) rounded a third time and reached 3 ulp in float.
constexpr double kMaxUlp = 2;

constexpr const char* kFunctions[] = {"exp", "expm1", "log", "log1p", "tanh", "sigmoid"};

TEST(VecMath, FloatWithinUlpsOfTheCLibraryOverEveryExponent) {
  const std::vector<float> xs = float_sweep();
  for (const char* f : kFunctions) {
    const std::vector<float> want = references(f, xs);
    for (Variant v : cpu::vec::supported_variants()) {
      cpu::vec::ScopedVariant scoped(v);
      float at = 0;
      const double worst = worst_ulp(f, xs, want, &at);
      EXPECT_LE(worst, kMaxUlp) << f << " on " << cpu::vec::variant_name(v) << " at x = " << at;
      std::cout << "float " << f << " " << cpu::vec::variant_name(v) << ": worst " << worst
                << " ulp\n";
    }
  }
}

TEST(VecMath, DoubleWithinUlpsOfTheCLibraryOverEveryExponent) {
  const std::vector<double> xs = double_sample();
  for (const char* f : kFunctions) {
    const std::vector<double> want = references(f, xs);
    for (Variant v : cpu::vec::supported_variants()) {
      cpu::vec::ScopedVariant scoped(v);
      double at = 0;
      const double worst = worst_ulp(f, xs, want, &at);
      EXPECT_LE(worst, kMaxUlp) << f << " on " << cpu::vec::variant_name(v) << " at x = " << at;
      std::cout << "double " << f << " " << cpu::vec::variant_name(v) << ": worst " << worst
                << " ulp\n";
    }
  }
}

TEST(VecMath, SpecialValuesAreTheCLibrarys) {
  using L = std::numeric_limits<float>;
  const std::vector<float> x = {0.f, -0.f, L::infinity(), -L::infinity(), L::quiet_NaN(), -1.f};
  for (Variant v : cpu::vec::supported_variants()) {
    cpu::vec::ScopedVariant scoped(v);
    std::vector<float> y(x.size());
    cpu::vec::exp(y.data(), x.data(), 6);
    EXPECT_EQ(y[0], 1.f);
    EXPECT_EQ(y[2], L::infinity());
    EXPECT_EQ(y[3], 0.f);
    EXPECT_TRUE(std::isnan(y[4]));
    cpu::vec::log(y.data(), x.data(), 6);
    EXPECT_EQ(y[0], -L::infinity());
    EXPECT_EQ(y[1], -L::infinity());
    EXPECT_EQ(y[2], L::infinity());
    EXPECT_TRUE(std::isnan(y[3]) && std::isnan(y[4]) && std::isnan(y[5]));
    cpu::vec::log1p(y.data(), x.data(), 6);
    EXPECT_TRUE(std::signbit(y[1]) && y[1] == 0);
    EXPECT_EQ(y[5], -L::infinity());
    cpu::vec::tanh(y.data(), x.data(), 6);
    EXPECT_TRUE(std::signbit(y[1]) && y[1] == 0);
    EXPECT_EQ(y[2], 1.f);
    EXPECT_EQ(y[3], -1.f);
    EXPECT_TRUE(std::isnan(y[4]));
    cpu::vec::sigmoid(y.data(), x.data(), 6);
    EXPECT_EQ(y[0], 0.5f);
    EXPECT_EQ(y[2], 1.f);
    EXPECT_EQ(y[3], 0.f);
    EXPECT_TRUE(std::isnan(y[4]));
    cpu::vec::expm1(y.data(), x.data(), 6);
    EXPECT_TRUE(std::signbit(y[1]) && y[1] == 0);
    EXPECT_EQ(y[3], -1.f);
  }
}

// An element's value does not depend on where it sits in the array (the tail goes through a
// padded vector); exp_sum and max agree with plain loops over the same values.
TEST(VecMath, TailsAndReductions) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0, 4);
  for (Variant v : cpu::vec::supported_variants()) {
    cpu::vec::ScopedVariant scoped(v);
    for (int64_t n : {1, 3, 7, 8, 15, 16, 17, 33, 100}) {
      std::vector<float> x(n), whole(n), one(1);
      for (float& e : x) e = normal(rng);
      cpu::vec::exp(whole.data(), x.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        cpu::vec::exp(one.data(), x.data() + i, 1);
        EXPECT_EQ(one[0], whole[i]) << cpu::vec::variant_name(v) << " n " << n << " i " << i;
      }
      float m = x[0];
      double sum = 0;
      for (float e : x) m = std::max(m, e);
      for (float e : x) sum += std::exp(double(e) - m);
      EXPECT_EQ(cpu::vec::max(x.data(), n), m);
      std::vector<float> y(n);
      const float total = cpu::vec::exp_sum(y.data(), x.data(), m, n);
      EXPECT_NEAR(total, sum, 1e-5 * sum) << cpu::vec::variant_name(v) << " n " << n;
      EXPECT_EQ(cpu::vec::exp_sum<float>(nullptr, x.data(), m, n), total);
      for (int64_t i = 0; i < n; ++i)
        EXPECT_NEAR(y[i], std::exp(double(x[i]) - m), 2e-7) << cpu::vec::variant_name(v);
    }
  }
}

// Batch norm's sums and row maps, in every compiled copy, against plain double loops, on row
// lengths around each vector width (whole steps, tails, rows shorter than a vector) and strided
// rows; the maps give an element the same value wherever it sits in the row; the ReLU-gated
// variants equal the plain ones on masked dy.
TEST(VecMath, BatchNormSumsAndRowMaps) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(3, 2);
  for (Variant v : cpu::vec::supported_variants()) {
    cpu::vec::ScopedVariant scoped(v);
    for (int64_t n : {1, 5, 8, 16, 31, 32, 33, 64, 100}) {
      const int64_t rows = 3, stride = n + 7;
      std::vector<float> x(size_t(rows * stride)), dy(x.size());
      for (float& e : x) e = normal(rng);
      for (float& e : dy) e = normal(rng);
      const double m = 2.5;
      double want[2][2] = {}, got[2][2];
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = r * stride; i < r * stride + n; ++i) {
          const double d = double(x[i]) - m;
          want[0][0] += d, want[0][1] += d * d;
          want[1][0] += dy[i], want[1][1] += double(dy[i]) * d;
        }
      cpu::vec::centered_sums<float>(got[0], nullptr, x.data(), m, rows, n, stride);
      cpu::vec::centered_sums(got[1], dy.data(), x.data(), m, rows, n, stride);
      for (int k = 0; k < 2; ++k)
        for (int j = 0; j < 2; ++j)
          EXPECT_NEAR(got[k][j], want[k][j], 1e-12 * (1 + std::abs(want[k][j])))
              << cpu::vec::variant_name(v) << " n " << n << " sum " << k << "," << j;

      std::vector<float> y(static_cast<size_t>(n)), z(static_cast<size_t>(n)), one(1);
      const float a = 0.75f, b = -1.5f, mf = 2.5f, d = 0.25f;
      cpu::vec::scale_shift(y.data(), x.data(), n, a, b, /*relu=*/false);
      cpu::vec::scale_shift(z.data(), x.data(), n, a, b, /*relu=*/true);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_NEAR(y[i], x[i] * a + b, 1e-6f) << cpu::vec::variant_name(v);
        EXPECT_EQ(z[i], y[i] > 0 ? y[i] : 0.f) << cpu::vec::variant_name(v);
        cpu::vec::scale_shift(one.data(), x.data() + i, 1, a, b, false);
        EXPECT_EQ(one[0], y[i]) << cpu::vec::variant_name(v) << " n " << n << " i " << i;
      }
      cpu::vec::centered_combination(y.data(), dy.data(), x.data(), n, a, b, mf, d);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_NEAR(y[i], a * dy[i] + b * (x[i] - mf) + d, 1e-5f) << cpu::vec::variant_name(v);
        cpu::vec::centered_combination(one.data(), dy.data() + i, x.data() + i, 1, a, b, mf, d);
        EXPECT_EQ(one[0], y[i]) << cpu::vec::variant_name(v) << " n " << n << " i " << i;
      }

      // Through the ReLU of scale_shift(x, ga, gb): the gated kernels give, bit for bit, the plain
      // ones on dy masked by that forward's output (its mask recomputed from x, row by row).
      const float ga = 0.75f, gb = -2.25f;  // about a third of x·ga + gb is above 0
      std::vector<float> out(x.size()), masked(x.size());
      for (int64_t r = 0; r < rows; ++r)
        cpu::vec::scale_shift(out.data() + r * stride, x.data() + r * stride, n, ga, gb, true);
      cpu::relu_mask(masked.data(), dy.data(), out.data(), int64_t(x.size()));
      double gated[2], plain[2];
      cpu::vec::centered_sums_relu(gated, dy.data(), x.data(), m, rows, n, stride, ga, gb);
      cpu::vec::centered_sums(plain, masked.data(), x.data(), m, rows, n, stride);
      EXPECT_EQ(gated[0], plain[0]) << cpu::vec::variant_name(v) << " n " << n;
      EXPECT_EQ(gated[1], plain[1]) << cpu::vec::variant_name(v) << " n " << n;
      std::vector<float> dx_gated(static_cast<size_t>(n)), dx_plain(static_cast<size_t>(n));
      cpu::vec::centered_combination_relu(dx_gated.data(), dy.data(), x.data(), n, a, b, mf, d, ga,
                                          gb);
      cpu::vec::centered_combination(dx_plain.data(), masked.data(), x.data(), n, a, b, mf, d);
      EXPECT_EQ(dx_gated, dx_plain) << cpu::vec::variant_name(v) << " n " << n;
      if (n >= 16) {  // the mask kept some of the first row and zeroed some
        const auto kept =
            std::count_if(out.begin(), out.begin() + n, [](float e) { return e > 0; });
        EXPECT_GT(kept, 0);
        EXPECT_LT(kept, n);
      }
    }
  }
}

// Adam's update (vec::adam, without amsgrad), in every compiled copy and both dtypes, against
// the rule in long double, on lengths around each vector width; an element gets the same bits
// whether it is updated within the array or alone (so any split over threads gives the same).
template <class T>
void check_adam_step(double tolerance) {
  std::mt19937 rng(13);
  std::normal_distribution<double> normal(0, 1);
  for (Variant variant : cpu::vec::supported_variants()) {
    cpu::vec::ScopedVariant scoped(variant);
    for (bool decoupled : {false, true})
      for (int64_t n : {1, 5, 8, 16, 31, 33, 100}) {
        const cpu::vec::AdamStep<T> s{T(0.9),
                                      T(1 - 0.9),
                                      T(0.999),
                                      T(1 - 0.999),
                                      T(1e-3),
                                      T(0.3),
                                      T(1e-8),
                                      T(decoupled ? 0 : 0.01),
                                      T(decoupled ? 1 - 1e-3 * 0.01 : 1),
                                      decoupled};
        std::vector<T> p(static_cast<size_t>(n)), g(p.size()), m(p.size()), v(p.size());
        for (size_t i = 0; i < p.size(); ++i) {
          p[i] = T(normal(rng)), g[i] = T(normal(rng)), m[i] = T(0.1 * normal(rng));
          v[i] = T(0.01 * std::abs(normal(rng)));
        }
        std::vector<T> p1 = p, m1 = m, v1 = v;
        cpu::vec::adam(p1.data(), g.data(), m1.data(), v1.data(), n, s);
        for (size_t i = 0; i < p.size(); ++i) {
          using L = long double;
          const L pi = L(p[i]) * L(s.shrink), u = L(g[i]) + L(s.l2) * pi;
          const L mi = L(s.beta1) * L(m[i]) + L(s.one_minus_beta1) * u;
          const L vi = L(s.beta2) * L(v[i]) + L(s.one_minus_beta2) * u * u;
          const L want =
              pi - L(s.step_size) * mi / (std::sqrt(vi) / L(s.bias_correction2_sqrt) + L(s.eps));
          const std::string at = std::string(cpu::vec::variant_name(variant)) + " n " +
                                 std::to_string(n) + " i " + std::to_string(i);
          EXPECT_NEAR(double(m1[i]), double(mi), tolerance * (1 + std::abs(double(mi)))) << at;
          EXPECT_NEAR(double(v1[i]), double(vi), tolerance * (1 + std::abs(double(vi)))) << at;
          EXPECT_NEAR(double(p1[i]), double(want), tolerance * (1 + std::abs(double(want)))) << at;
          T alone_p = p[i], alone_m = m[i], alone_v = v[i];
          cpu::vec::adam(&alone_p, &g[i], &alone_m, &alone_v, 1, s);
          EXPECT_EQ(std::memcmp(&alone_p, &p1[i], sizeof(T)), 0) << at;
          EXPECT_EQ(std::memcmp(&alone_m, &m1[i], sizeof(T)), 0) << at;
          EXPECT_EQ(std::memcmp(&alone_v, &v1[i], sizeof(T)), 0) << at;
        }
      }
  }
}

TEST(VecMath, AdamStepFollowsTheRuleInEveryCopy) {
  check_adam_step<float>(1e-6);
  check_adam_step<double>(1e-14);
}

// SGD's update (vec::sgd) in every compiled copy, both dtypes and every form of the rule (plain,
// weight decay, momentum on its first and later steps, Nesterov), against the rule in long double
// on lengths around each vector width; an element gets the same bits within the array or alone.
template <class T>
void check_sgd_step(double tolerance) {
  std::mt19937 rng(17);
  std::normal_distribution<double> normal(0, 1);
  for (Variant variant : cpu::vec::supported_variants()) {
    cpu::vec::ScopedVariant scoped(variant);
    for (int form = 0; form < 16; ++form) {
      const bool with_momentum = form & 1, first = form & 2, nesterov = form & 4, decay = form & 8;
      if (!with_momentum && (first || nesterov)) continue;
      const cpu::vec::SgdStep<T> s{
          T(0.05),  T(0.9), T(nesterov ? 1 : 0.8), T(decay ? 1e-2 : 0), with_momentum, first,
          nesterov, decay};
      for (int64_t n : {1, 5, 8, 16, 31, 33, 100}) {
        std::vector<T> p(static_cast<size_t>(n)), g(p.size()), buf(p.size());
        for (size_t i = 0; i < p.size(); ++i)
          p[i] = T(normal(rng)), g[i] = T(normal(rng)), buf[i] = T(0.1 * normal(rng));
        std::vector<T> p1 = p, buf1 = buf;
        cpu::vec::sgd(p1.data(), g.data(), with_momentum ? buf1.data() : nullptr, n, s);
        for (size_t i = 0; i < p.size(); ++i) {
          using L = long double;
          L d = L(g[i]) + (decay ? L(s.weight_decay) * L(p[i]) : L(0)), b = L(buf[i]);
          if (with_momentum) {
            b = first ? d : L(s.momentum) * b + L(s.damp) * d;
            d = nesterov ? d + L(s.momentum) * b : b;
          }
          const L want = L(p[i]) - L(s.lr) * d;
          const std::string at = std::string(cpu::vec::variant_name(variant)) + " form " +
                                 std::to_string(form) + " n " + std::to_string(n) + " i " +
                                 std::to_string(i);
          EXPECT_NEAR(double(p1[i]), double(want), tolerance * (1 + std::abs(double(want)))) << at;
          EXPECT_NEAR(double(buf1[i]), double(b), tolerance * (1 + std::abs(double(b)))) << at;
          T alone_p = p[i], alone_buf = buf[i];
          cpu::vec::sgd(&alone_p, &g[i], with_momentum ? &alone_buf : nullptr, 1, s);
          EXPECT_EQ(std::memcmp(&alone_p, &p1[i], sizeof(T)), 0) << at;
          EXPECT_EQ(std::memcmp(&alone_buf, &buf1[i], sizeof(T)), 0) << at;
        }
      }
    }
  }
}

TEST(VecMath, SgdStepFollowsTheRuleInEveryCopy) {
  check_sgd_step<float>(1e-6);
  check_sgd_step<double>(1e-14);
}

// Dropout's mask and output (vec::dropout), in every compiled copy and both dtypes, against the
// rule element by element: draws whose top 53 bits lie just below, at and just above the
// threshold, and random ones, on lengths around each vector width; p = 0 keeps all, p = 1 none.
template <class T>
void check_dropout() {
  std::mt19937_64 rng(21);
  for (Variant variant : cpu::vec::supported_variants()) {
    cpu::vec::ScopedVariant scoped(variant);
    for (uint64_t threshold :
         {uint64_t{0}, uint64_t{1} << 52, (uint64_t{1} << 53) / 3 + 7, uint64_t{1} << 53})
      for (int64_t n : {1, 5, 8, 16, 31, 33, 100}) {
        SCOPED_TRACE(cpu::vec::variant_name(variant) + std::string(" n ") + std::to_string(n) +
                     " threshold " + std::to_string(threshold));
        std::vector<uint64_t> draws(static_cast<size_t>(n));
        std::vector<T> in(draws.size()), mask(draws.size()), out(draws.size());
        for (size_t i = 0; i < draws.size(); ++i) {
          const uint64_t low = rng() & 0x7ff;       // the 11 bits below the 53 compared
          const int64_t near = int64_t(i % 4) - 1;  // -1, 0, 1: around the threshold; 2: random
          draws[i] = near < 2 && threshold > 0 && threshold < (uint64_t{1} << 53)
                         ? ((threshold + uint64_t(near)) << 11) | low
                         : rng();
          in[i] = static_cast<T>(std::ldexp(double(int64_t(rng() % 2001) - 1000), -7));
        }
        const T scale = T(1.25);
        cpu::vec::dropout(mask.data(), out.data(), in.data(), draws.data(), n, threshold, scale);
        for (size_t i = 0; i < draws.size(); ++i) {
          const T want = (draws[i] >> 11) < threshold ? T(0) : scale;
          ASSERT_EQ(mask[i], want) << i;
          ASSERT_EQ(out[i], in[i] * want) << i;
        }
        if (threshold == 0) {
          EXPECT_EQ(std::count(mask.begin(), mask.end(), T(0)), 0);
        }
        if (threshold == uint64_t{1} << 53) {
          EXPECT_EQ(std::count(mask.begin(), mask.end(), T(0)), n);
        }
      }
  }
}

TEST(VecMath, DropoutMaskInEveryCopy) {
  check_dropout<float>();
  check_dropout<double>();
}

}  // namespace
}  // namespace nabla
