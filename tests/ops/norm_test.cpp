// batch_norm: training normalises each channel with its batch statistics and updates the running
// statistics as PyTorch does (biased variance to normalise, unbiased for the running update);
// evaluation uses the running statistics and leaves them alone; the affine transform; float32
// against float64; error messages. Gradchecks (training and evaluation, 2-d and 4-d) are
// registered in tests/ops/conv_gradcheck.cpp; PyTorch comparisons in torch_fixtures_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradcheck/simulated_rank.h"
#include "nabla/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

using nabla::testing::error_message;

// Mean and biased variance of channel c of x (N, C, ...), computed here independently.
std::pair<double, double> channel_stats(const Tensor& x, int64_t c) {
  Tensor xc = x.select(1, c).contiguous();
  std::vector<double> v = xc.to_vector();
  double mean = 0, var = 0;
  for (double e : v) mean += e;
  mean /= static_cast<double>(v.size());
  for (double e : v) var += (e - mean) * (e - mean);
  return {mean, var / static_cast<double>(v.size())};
}

TEST(BatchNormTest, TrainingNormalisesEachChannelOverBatchAndSpace) {
  Generator gen(1);
  Tensor x = Tensor::normal({4, 3, 5, 2}, 3.0, 2.0, gen, kFloat64);
  Tensor y = batch_norm(x, {}, {}, {}, {}, /*training=*/true, 0.1, 0.0);
  for (int64_t c = 0; c < 3; ++c) {
    auto [mean, var] = channel_stats(y, c);
    EXPECT_NEAR(mean, 0.0, 1e-12);
    EXPECT_NEAR(var, 1.0, 1e-12);
  }
}

TEST(BatchNormTest, AffineScalesAndShiftsEachChannel) {
  Generator gen(2);
  Tensor x = Tensor::randn({6, 2}, gen, kFloat64);
  Tensor w = Tensor::from_vector(std::vector<double>{2.0, -0.5});
  Tensor b = Tensor::from_vector(std::vector<double>{1.0, 3.0});
  Tensor y = batch_norm(x, {}, {}, w, b, true, 0.1, 0.0);
  for (int64_t c = 0; c < 2; ++c) {
    auto [mean, var] = channel_stats(y, c);
    EXPECT_NEAR(mean, b.at({c}), 1e-12);
    EXPECT_NEAR(var, w.at({c}) * w.at({c}), 1e-12);
  }
}

TEST(BatchNormTest, TrainingUpdatesRunningStatisticsWithUnbiasedVariance) {
  Generator gen(3);
  Tensor x = Tensor::randn({2, 3, 2, 2}, gen, kFloat64);  // M = 8 values per channel
  Tensor rm = Tensor::from_vector(std::vector<double>{0.5, -1.0, 0.0});
  Tensor rv = Tensor::from_vector(std::vector<double>{1.0, 2.0, 0.5});
  const double momentum = 0.3;
  batch_norm(x, rm, rv, {}, {}, /*training=*/true, momentum);
  for (int64_t c = 0; c < 3; ++c) {
    auto [mean, var] = channel_stats(x, c);
    const double rm0[] = {0.5, -1.0, 0.0}, rv0[] = {1.0, 2.0, 0.5};
    EXPECT_NEAR(rm.at({c}), (1 - momentum) * rm0[c] + momentum * mean, 1e-14);
    EXPECT_NEAR(rv.at({c}), (1 - momentum) * rv0[c] + momentum * var * 8.0 / 7.0, 1e-14);
  }
}

TEST(BatchNormTest, EvaluationUsesRunningStatisticsAndLeavesThemAlone) {
  Generator gen(4);
  Tensor x = Tensor::randn({3, 2, 2, 2}, gen, kFloat64);
  Tensor rm = Tensor::from_vector(std::vector<double>{0.25, -0.5});
  Tensor rv = Tensor::from_vector(std::vector<double>{4.0, 0.25});
  Tensor w = Tensor::from_vector(std::vector<double>{1.5, 2.0});
  Tensor b = Tensor::from_vector(std::vector<double>{-1.0, 0.5});
  const double eps = 1e-3;
  Tensor y = batch_norm(x, rm, rv, w, b, /*training=*/false, 0.1, eps);
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t h = 0; h < 2; ++h) {
        const double want =
            (x.at({n, c, h, 1}) - rm.at({c})) / std::sqrt(rv.at({c}) + eps) * w.at({c}) + b.at({c});
        EXPECT_NEAR(y.at({n, c, h, 1}), want, 1e-14);
      }
  EXPECT_EQ(rm.to_vector(), (std::vector<double>{0.25, -0.5}));
  EXPECT_EQ(rv.to_vector(), (std::vector<double>{4.0, 0.25}));
  // Evaluation works on a single sample, which batch statistics could not normalise.
  EXPECT_EQ(batch_norm(x.slice(0, 0, 1), rm, rv, w, b, false).shape(), Shape({1, 2, 2, 2}));
}

TEST(BatchNormTest, EvaluationGradientTreatsStatisticsAsConstants) {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2}).requires_grad_();
  Tensor rm = Tensor::zeros({2}, kFloat64), rv = Tensor::full({2}, 3.0, kFloat64);
  Tensor w = Tensor::from_vector(std::vector<double>{2, 4}).requires_grad_();
  batch_norm(x, rm, rv, w, {}, false, 0.1, 1.0).sum().backward();
  // dx = w / sqrt(var + eps) = w / 2; dw = Σ xhat = Σ x / 2.
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{1, 2, 1, 2}));
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{2, 3}));
}

TEST(BatchNormTest, TrainingGradientOfTheSumIsZero) {
  // Σ y = Σ (xhat · w + b) and Σ xhat = 0 for any x: the x-gradient vanishes, dbias counts.
  Generator gen(5);
  Tensor x = Tensor::randn({4, 3, 2, 1}, gen, kFloat64).requires_grad_();
  Tensor w = Tensor::uniform({3}, 0.5, 1.5, gen, kFloat64).requires_grad_();
  Tensor b = Tensor::zeros({3}, kFloat64).requires_grad_();
  batch_norm(x, {}, {}, w, b, true).sum().backward();
  for (double g : x.grad().to_vector()) EXPECT_NEAR(g, 0.0, 1e-12);
  for (double g : b.grad().to_vector()) EXPECT_EQ(g, 8.0);
  for (double g : w.grad().to_vector()) EXPECT_NEAR(g, 0.0, 1e-12);
}

TEST(BatchNormTest, Float32AgreesWithFloat64) {
  Generator gen(6);
  Tensor x = Tensor::normal({64, 4, 7, 7}, 5.0, 3.0, gen, kFloat64);
  Tensor w = Tensor::uniform({4}, 0.5, 1.5, gen, kFloat64), b = Tensor::randn({4}, gen, kFloat64);
  Tensor y64 = batch_norm(x, {}, {}, w, b, true);
  Tensor y32 = batch_norm(x.to(kFloat32), {}, {}, w.to(kFloat32), b.to(kFloat32), true);
  std::vector<double> a = y64.to_vector(), f = y32.to_vector();
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - f[i]));
  EXPECT_LT(worst, 1e-5);
}

TEST(BatchNormTest, ErrorsNameTheArgumentAndShapes) {
  Tensor x = Tensor::zeros({4, 3, 2, 2});
  EXPECT_EQ(error_message([&] { batch_norm(x, {}, {}, Tensor::ones({4}), {}, true); }),
            "batch_norm: weight [4] must hold one value per channel of input [4, 3, 2, 2], i.e. "
            "shape [3]");
  EXPECT_NE(error_message([&] {
              batch_norm(Tensor::zeros({4, 3, 2}), {}, {}, {}, {}, true);
            }).find("batch_norm: input [4, 3, 2] must be (N, C) or (N, C, H, W)"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              batch_norm(Tensor::zeros({1, 3}), {}, {}, {}, {}, true);
            }).find("has 1 value per channel; batch statistics need more than 1"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              batch_norm(x, Tensor::zeros({3}), {}, {}, {}, true);
            }).find("both be given or both be undefined"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              batch_norm(x, Tensor::zeros({3}, kFloat64), Tensor::ones({3}, kFloat64), {}, {},
                         false);
            }).find("batch_norm: dtypes differ"),
            std::string::npos);
}

// ---- synchronised batch norm (sum_across_ranks); the 2-rank case is in tests/distributed ----

struct BatchNormRun {
  Tensor y, running_mean, running_var, dx, dw, db;
};

BatchNormRun run_batch_norm(const Tensor& x0, const SumAcrossRanks& sum_across_ranks) {
  Generator gen(11);
  Tensor x = x0.clone().requires_grad_();
  Tensor w = Tensor::uniform({x0.size(1)}, 0.5, 1.5, gen, x0.dtype()).requires_grad_();
  Tensor b = Tensor::randn({x0.size(1)}, gen, x0.dtype()).requires_grad_();
  Tensor rm = Tensor::zeros({x0.size(1)}, x0.dtype()), rv = Tensor::ones({x0.size(1)}, x0.dtype());
  Tensor proj = Tensor::randn(x0.shape(), gen, x0.dtype());
  Tensor y = batch_norm(x, rm, rv, w, b, /*training=*/true, 0.1, 1e-5, sum_across_ranks);
  (y * proj).sum().backward();
  return {y.detach(), rm, rv, x.grad(), w.grad(), b.grad()};
}

TEST(SyncBatchNormTest, OneRankIsBitwisePlainBatchNormForwardAndBackward) {
  for (DType dtype : {kFloat32, kFloat64}) {
    Generator gen(12);
    Tensor x = Tensor::normal({5, 3, 4, 2}, 1.0, 2.0, gen, dtype);
    int calls = 0;
    BatchNormRun plain = run_batch_norm(x, {});
    BatchNormRun sync = run_batch_norm(x, [&calls](std::span<double>) { ++calls; });
    EXPECT_EQ(calls, 2);  // forward's two sums; backward skips its sum when no other rank counted
    const std::pair<Tensor, Tensor> pairs[] = {{plain.y, sync.y},
                                               {plain.running_mean, sync.running_mean},
                                               {plain.running_var, sync.running_var},
                                               {plain.dx, sync.dx},
                                               {plain.dw, sync.dw},
                                               {plain.db, sync.db}};
    for (const auto& [a, b] : pairs) EXPECT_EQ(a.to_vector(), b.to_vector());
  }
}

double max_diff(const Tensor& a, const Tensor& b) {
  std::vector<double> av = a.contiguous().to_vector(), bv = b.contiguous().to_vector();
  EXPECT_EQ(av.size(), bv.size());
  double d = 0;
  for (size_t i = 0; i < av.size() && i < bv.size(); ++i) d = std::max(d, std::abs(av[i] - bv[i]));
  return d;
}

TEST(SyncBatchNormTest, SimulatedSecondRankGivesStatisticsOfBothBatches) {
  // The output rows and the running statistics must be those of plain batch norm over both
  // batches together.
  Generator gen(13);
  Tensor mine = Tensor::normal({3, 2, 2, 2}, 0.5, 1.5, gen, kFloat64);
  Tensor other = Tensor::normal({4, 2, 2, 2}, -1.0, 3.0, gen, kFloat64);
  const int64_t C = 2;
  Tensor rm = Tensor::zeros({C}, kFloat64), rv = Tensor::ones({C}, kFloat64);
  Tensor y = batch_norm(mine, rm, rv, {}, {}, true, 0.1, 1e-5, simulated_second_rank(other));
  Tensor rm_all = Tensor::zeros({C}, kFloat64), rv_all = Tensor::ones({C}, kFloat64);
  Tensor y_all = batch_norm(concat({mine, other}, 0), rm_all, rv_all, {}, {}, true, 0.1, 1e-5);
  EXPECT_LT(max_diff(y, y_all.slice(0, 0, 3)), 1e-12);
  EXPECT_LT(max_diff(rm, rm_all), 1e-12);
  EXPECT_LT(max_diff(rv, rv_all), 1e-12);
  EXPECT_GT(max_diff(rv, Tensor::ones({C}, kFloat64)), 0.01);  // the update did happen
}

TEST(SyncBatchNormTest, OneSampleOnThisRankIsEnoughWhenTheRanksHoldMoreTogether) {
  // A BatchNorm1d input of one row: alone it has no variance (and plain batch norm refuses it),
  // but with a second rank's three rows the statistics are those of all four.
  Generator gen(14);
  Tensor mine = Tensor::normal({1, 3}, 0.0, 1.0, gen, kFloat64);
  Tensor other = Tensor::normal({3, 3}, 2.0, 1.0, gen, kFloat64);
  Tensor y = batch_norm(mine, {}, {}, {}, {}, true, 0.1, 1e-5, simulated_second_rank(other));
  Tensor y_all = batch_norm(concat({mine, other}, 0), {}, {}, {}, {}, true, 0.1, 1e-5);
  EXPECT_LT(max_diff(y, y_all.slice(0, 0, 1)), 1e-12);
  // Synchronised over ranks that hold one value per channel in all, it still refuses.
  const std::string message = error_message(
      [&] { batch_norm(mine, {}, {}, {}, {}, true, 0.1, 1e-5, [](std::span<double>) {}); });
  EXPECT_NE(
      message.find("input [1, 3] has 1 value per channel on this rank and 1 on all ranks together"),
      std::string::npos)
      << message;
}

}  // namespace
}  // namespace nabla
