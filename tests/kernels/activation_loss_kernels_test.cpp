// The vectorised activation and loss kernels (activation.cpp, loss.cpp over vecmath.h) against
// the plain reference loops they replaced, on random shapes, float and double, on every vector
// variant this CPU runs; and bitwise the same results for 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/loss.h"
#include "kernels/cpu/vecmath.h"
#include "nabla/threads.h"

namespace nabla {
namespace {

using cpu::vec::Variant;

template <class T>
std::vector<T> random_values(std::mt19937& rng, int64_t n, double spread) {
  std::normal_distribution<double> normal(0, spread);
  std::vector<T> v(n);
  for (T& e : v) e = static_cast<T>(normal(rng));
  return v;
}

// |a - b| <= tol · max(1, |b|) element by element.
template <class T>
void expect_close(const std::vector<T>& a, const std::vector<T>& b, double tol,
                  const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], tol * std::max(1.0, std::abs(double(b[i])))) << what << " at " << i;
}

// Element-wise kernels differ from the reference by the functions' few ulps; the row kernels
// also sum up to 1,100 terms in another order (lanes, then lanes' totals).
template <class T>
double tolerance(bool sums_rows = false) {
  if (sizeof(T) == 4) return sums_rows ? 1e-5 : 2e-6;
  return sums_rows ? 1e-13 : 1e-14;
}

template <class T>
void element_wise_kernels_match(std::mt19937& rng, const std::string& where) {
  for (int trial = 0; trial < 12; ++trial) {
    const int64_t n = std::uniform_int_distribution<int64_t>(1, 700)(rng);
    const std::vector<T> x = random_values<T>(rng, n, trial % 3 == 0 ? 30.0 : 3.0);
    std::vector<T> fast(n), ref(n);
    const std::string tag = where + " n " + std::to_string(n);
    cpu::sigmoid_forward(fast.data(), x.data(), n);
    cpu::reference::sigmoid_forward(ref.data(), x.data(), n);
    expect_close(fast, ref, tolerance<T>(), "sigmoid " + tag);
    cpu::tanh_forward(fast.data(), x.data(), n);
    cpu::reference::tanh_forward(ref.data(), x.data(), n);
    expect_close(fast, ref, tolerance<T>(), "tanh " + tag);
    cpu::elu_forward(fast.data(), x.data(), n, T(0.7));
    cpu::reference::elu_forward(ref.data(), x.data(), n, T(0.7));
    expect_close(fast, ref, tolerance<T>(), "elu " + tag);

    std::vector<T> p(n), t(n);
    std::uniform_real_distribution<double> unit(0, 1);
    for (int64_t i = 0; i < n; ++i) p[i] = T(unit(rng)), t[i] = T(unit(rng));
    p[0] = 0, p[n - 1] = 1;  // the clamped logs
    cpu::binary_cross_entropy_forward(fast.data(), p.data(), t.data(), n);
    cpu::reference::binary_cross_entropy_forward(ref.data(), p.data(), t.data(), n);
    expect_close(fast, ref, tolerance<T>(), "bce " + tag);
    cpu::binary_cross_entropy_with_logits_forward(fast.data(), x.data(), t.data(), n);
    cpu::reference::binary_cross_entropy_with_logits_forward(ref.data(), x.data(), t.data(), n);
    expect_close(fast, ref, tolerance<T>(), "bce with logits " + tag);
  }
}

template <class T>
void axis_kernels_match(std::mt19937& rng, const std::string& where) {
  for (int trial = 0; trial < 12; ++trial) {
    std::uniform_int_distribution<int64_t> extent(1, 40);
    const int64_t outer = extent(rng), n = extent(rng) * (trial % 2 ? 31 : 1);
    const int64_t inner = trial % 4 == 3 ? 3 : 1;  // inner > 1: the reference path itself
    const int64_t size = outer * n * inner;
    const std::vector<T> x = random_values<T>(rng, size, 5.0);
    const std::vector<T> dy = random_values<T>(rng, size, 1.0);
    const std::string tag =
        where + " " + std::to_string(outer) + "x" + std::to_string(n) + "x" + std::to_string(inner);
    std::vector<T> fast(size), ref(size);
    cpu::softmax_forward(fast.data(), x.data(), outer, n, inner);
    cpu::reference::softmax_forward(ref.data(), x.data(), outer, n, inner);
    expect_close(fast, ref, tolerance<T>(true), "softmax " + tag);
    cpu::log_softmax_forward(fast.data(), x.data(), outer, n, inner);
    cpu::reference::log_softmax_forward(ref.data(), x.data(), outer, n, inner);
    expect_close(fast, ref, tolerance<T>(true), "log_softmax " + tag);
    const std::vector<T> y = ref;
    std::vector<T> dfast(size, T(0.5)), dref(size, T(0.5));  // backward adds into dx
    cpu::log_softmax_backward(dfast.data(), dy.data(), y.data(), outer, n, inner);
    cpu::reference::log_softmax_backward(dref.data(), dy.data(), y.data(), outer, n, inner);
    expect_close(dfast, dref, tolerance<T>(true), "log_softmax backward " + tag);
  }
}

template <class T>
void cross_entropy_matches(std::mt19937& rng, const std::string& where) {
  for (int trial = 0; trial < 12; ++trial) {
    const int64_t N = std::uniform_int_distribution<int64_t>(1, 70)(rng);
    const int64_t C = std::uniform_int_distribution<int64_t>(1, 1100)(rng);
    const std::vector<T> x = random_values<T>(rng, N * C, trial % 3 == 0 ? 40.0 : 4.0);
    std::vector<int64_t> labels(N);
    for (int64_t& l : labels) l = std::uniform_int_distribution<int64_t>(0, C - 1)(rng);
    const std::vector<T> dloss = random_values<T>(rng, N, 1.0);
    const std::string tag = where + " " + std::to_string(N) + "x" + std::to_string(C);

    std::vector<T> loss(N), stats(2 * N);
    cpu::softmax_cross_entropy_forward(loss.data(), stats.data(), stats.data() + N, x.data(),
                                       labels.data(), N, C);
    std::vector<T> log_probs(N * C), ref_loss(N);
    cpu::reference::log_softmax_forward(log_probs.data(), x.data(), N, C, 1);
    cpu::reference::cross_entropy_forward(ref_loss.data(), log_probs.data(), labels.data(), N, C);
    expect_close(loss, ref_loss, tolerance<T>(true), "cross_entropy " + tag);

    std::vector<T> dfast(N * C, T(123)), dref(N * C, T(0));  // fast writes, reference adds
    cpu::softmax_cross_entropy_backward(dfast.data(), dloss.data(), x.data(), stats.data(),
                                        stats.data() + N, labels.data(), N, C);
    cpu::reference::cross_entropy_backward(dref.data(), dloss.data(), log_probs.data(),
                                           labels.data(), N, C);
    expect_close(dfast, dref, tolerance<T>(true), "cross_entropy backward " + tag);
  }
}

TEST(ActivationLossKernels, FastMatchesReferenceOnRandomShapes) {
  std::mt19937 rng(2026);
  for (Variant v : cpu::vec::supported_variants()) {
    cpu::vec::ScopedVariant scoped(v);
    const std::string where = cpu::vec::variant_name(v);
    element_wise_kernels_match<float>(rng, where + " float");
    element_wise_kernels_match<double>(rng, where + " double");
    axis_kernels_match<float>(rng, where + " float");
    axis_kernels_match<double>(rng, where + " double");
    cross_entropy_matches<float>(rng, where + " float");
    cross_entropy_matches<double>(rng, where + " double");
  }
}

TEST(ActivationLossKernels, RowKernelsAreBitwiseTheSameForAnyThreadCount) {
  std::mt19937 rng(7);
  const int64_t N = 256, C = 1000;
  const std::vector<float> x = random_values<float>(rng, N * C, 3.0);
  std::vector<int64_t> labels(N);
  for (int64_t i = 0; i < N; ++i) labels[i] = (i * 37) % C;
  const std::vector<float> dloss(N, 1.0f / N);
  std::vector<std::vector<float>> results;
  const int before = num_threads();
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<float> soft(N * C), loss(N), stats(2 * N), dx(N * C);
    cpu::softmax_forward(soft.data(), x.data(), N, C, 1);
    cpu::softmax_cross_entropy_forward(loss.data(), stats.data(), stats.data() + N, x.data(),
                                       labels.data(), N, C);
    cpu::softmax_cross_entropy_backward(dx.data(), dloss.data(), x.data(), stats.data(),
                                        stats.data() + N, labels.data(), N, C);
    soft.insert(soft.end(), loss.begin(), loss.end());
    soft.insert(soft.end(), dx.begin(), dx.end());
    results.push_back(soft);
  }
  set_num_threads(before);
  EXPECT_TRUE(results[0] == results[1]);
  EXPECT_TRUE(results[0] == results[2]);
}

}  // namespace
}  // namespace nabla
