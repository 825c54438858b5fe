// Tensor: creation, views over shared storage, contiguous(), broadcasting, reductions, matmul
// against a naive loop, printing, the float64 path, and shape errors that name op and shapes.
#include "nabla/tensor.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "nabla/ops.h"

namespace nabla {
namespace {

using Values = std::vector<double>;

// Expects `thrown` by f, with every substring of `parts` in its message.
template <class F>
void expect_error_mentions(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected nabla::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const std::string& p : parts)
      EXPECT_NE(what.find(p), std::string::npos) << "'" << p << "' not in: " << what;
  }
}

// ---------------------------------------------------------------- creation

TEST(TensorCreation, ZerosOnesFull) {
  Tensor z = Tensor::zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), kFloat32);
  EXPECT_EQ(z.to_vector(), Values(6, 0.0));
  EXPECT_EQ(Tensor::ones({4}).to_vector(), Values(4, 1.0));
  Tensor f = Tensor::full({3, 1, 2}, 2.5, kFloat64);
  EXPECT_EQ(f.dtype(), kFloat64);
  EXPECT_EQ(f.numel(), 6);
  EXPECT_EQ(f.to_vector(), Values(6, 2.5));
  Tensor s = Tensor::scalar(-4);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), -4);
}

TEST(TensorCreation, Arange) {
  EXPECT_EQ(Tensor::arange(0, 5).to_vector(), (Values{0, 1, 2, 3, 4}));
  EXPECT_EQ(Tensor::arange(1, 2, 0.25, kFloat64).to_vector(), (Values{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(Tensor::arange(3, 0, -1).to_vector(), (Values{3, 2, 1}));
  EXPECT_EQ(Tensor::arange(2, 2).numel(), 0);
  EXPECT_THROW(Tensor::arange(0, 1, 0), Error);
}

TEST(TensorCreation, FromVector) {
  Tensor a = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(a.dtype(), kFloat32);
  EXPECT_EQ(a.at({1, 0}), 4);
  Tensor b = Tensor::from_vector(Values{0.1, 0.2});
  EXPECT_EQ(b.shape(), (Shape{2}));
  EXPECT_EQ(b.dtype(), kFloat64);
  EXPECT_EQ(b.at({0}), 0.1);  // exact: no float32 round trip
  expect_error_mentions(
      [] {
        Tensor::from_vector(Values{1, 2, 3}, {2, 2});
      },
      {"from_vector", "[2, 2]", "3 values"});
}

TEST(TensorCreation, RandomIsDeterministicPerSeed) {
  auto draw = [](uint64_t seed) {
    Generator g(seed);
    Values all = Tensor::rand({5}, g).to_vector();
    for (double v : Tensor::randn({7}, g, kFloat64).to_vector()) all.push_back(v);
    for (double v : Tensor::uniform({4}, -3, -1, g).to_vector()) all.push_back(v);
    return all;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
  Generator g(1);
  for (double v : Tensor::rand({1000}, g).to_vector()) {
    EXPECT_GE(v, 0);
    EXPECT_LT(v, 1);
  }
  for (double v : Tensor::uniform({1000}, -3, -1, g).to_vector()) {
    EXPECT_GE(v, -3);
    EXPECT_LT(v, -1);
  }
  Values n = Tensor::randn({20000}, g, kFloat64).to_vector();
  double mean = 0, var = 0;
  for (double v : n) mean += v / n.size();
  for (double v : n) var += (v - mean) * (v - mean) / n.size();
  EXPECT_NEAR(mean, 0, 0.05);
  EXPECT_NEAR(var, 1, 0.05);
}

// ---------------------------------------------------------------- views

TEST(TensorViews, ReshapeOfContiguousSharesStorage) {
  Tensor a = Tensor::arange(0, 12).reshape({3, 4});
  Tensor v = a.reshape({2, 6});
  EXPECT_TRUE(v.shares_storage(a));
  v.fill_(7);
  EXPECT_EQ(a.at({2, 3}), 7);
  Tensor w = a.view({-1});
  EXPECT_EQ(w.shape(), (Shape{12}));
  EXPECT_TRUE(w.shares_storage(a));
}

TEST(TensorViews, TransposeAndPermuteShareStorage) {
  Tensor a = Tensor::arange(0, 24).reshape({2, 3, 4});
  Tensor t = a.transpose(0, -1);
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_TRUE(t.shares_storage(a));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.at({3, 1, 0}), a.at({0, 1, 3}));
  Tensor p = a.permute({1, 2, 0});
  EXPECT_EQ(p.shape(), (Shape{3, 4, 2}));
  EXPECT_TRUE(p.shares_storage(a));
  EXPECT_EQ(p.at({2, 1, 1}), a.at({1, 2, 1}));
  p.slice(0, 2, 3).fill_(-1);  // writes through to a[:, 2, :]
  EXPECT_EQ(a.at({1, 2, 3}), -1);
  EXPECT_EQ(a.at({1, 1, 3}), 19);
}

TEST(TensorViews, SliceWithStepAndSelectShareStorage) {
  Tensor a = Tensor::arange(0, 20).reshape({4, 5});
  Tensor s = a.slice(1, 1, 5, 2);  // columns 1, 3
  EXPECT_EQ(s.shape(), (Shape{4, 2}));
  EXPECT_TRUE(s.shares_storage(a));
  EXPECT_EQ(s.to_vector(), (Values{1, 3, 6, 8, 11, 13, 16, 18}));
  Tensor neg_range = a.slice(0, -3, -1);  // rows 1, 2
  EXPECT_EQ(neg_range.to_vector(), (Values{5, 6, 7, 8, 9, 10, 11, 12, 13, 14}));
  Tensor row = a.select(0, -1);
  EXPECT_EQ(row.shape(), (Shape{5}));
  EXPECT_TRUE(row.shares_storage(a));
  row.fill_(0);
  EXPECT_EQ(a.at({3, 4}), 0);
  EXPECT_EQ(a.at({2, 4}), 14);
  EXPECT_EQ(a.select(1, 2).to_vector(), (Values{2, 7, 12, 0}));
}

TEST(TensorViews, UnsqueezeSqueezeExpandShareStorage) {
  Tensor a = Tensor::arange(0, 3);
  Tensor u = a.unsqueeze(0).unsqueeze(-1);
  EXPECT_EQ(u.shape(), (Shape{1, 3, 1}));
  EXPECT_TRUE(u.shares_storage(a));
  EXPECT_EQ(u.squeeze().shape(), (Shape{3}));
  EXPECT_EQ(u.squeeze(0).shape(), (Shape{3, 1}));
  EXPECT_EQ(u.squeeze(1).shape(), (Shape{1, 3, 1}));  // extent 3: unchanged
  Tensor e = a.unsqueeze(0).expand({4, 3});
  EXPECT_TRUE(e.shares_storage(a));
  EXPECT_EQ(e.strides()[0], 0);
  EXPECT_EQ(e.to_vector(), (Values{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
  expect_error_mentions([&] { a.expand({2, 4}); }, {"expand", "[3]", "[2, 4]"});
}

TEST(TensorViews, ContiguousCopiesOnlyWhenNeeded) {
  Tensor a = Tensor::arange(0, 6).reshape({2, 3});
  Tensor same = a.contiguous();
  EXPECT_TRUE(same.shares_storage(a));
  Tensor t = a.t();
  Tensor c = t.contiguous();
  EXPECT_FALSE(c.shares_storage(a));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector(), (Values{0, 3, 1, 4, 2, 5}));
  // A size-1 dim's stride does not matter: this slice is still contiguous.
  Tensor row = a.slice(0, 1, 2);
  EXPECT_TRUE(row.is_contiguous());
  EXPECT_TRUE(row.contiguous().shares_storage(a));
  // reshape of a non-contiguous view must copy (and still read in logical order).
  Tensor r = t.reshape({6});
  EXPECT_FALSE(r.shares_storage(a));
  EXPECT_EQ(r.to_vector(), (Values{0, 3, 1, 4, 2, 5}));
  EXPECT_THROW(t.view({6}), Error);
}

TEST(TensorViews, CloneAndDetachAndTo) {
  Tensor a = Tensor::arange(0, 4);
  Tensor c = a.clone();
  EXPECT_FALSE(c.shares_storage(a));
  Tensor d = a.detach();
  EXPECT_TRUE(d.shares_storage(a));
  Tensor f = a.to(kFloat64);
  EXPECT_EQ(f.dtype(), kFloat64);
  EXPECT_EQ(f.to_vector(), a.to_vector());
  EXPECT_TRUE(a.to(kFloat32).shares_storage(a));
}

// ---------------------------------------------------------------- arithmetic and broadcasting

TEST(TensorBroadcast, ShapesAndValues) {
  Tensor col = Tensor::arange(0, 3).reshape({3, 1});
  Tensor row = Tensor::arange(0, 4) * 10.0;
  Tensor sum_ = col + row;
  EXPECT_EQ(sum_.shape(), (Shape{3, 4}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(sum_.at({i, j}), i + 10.0 * j);
  Tensor a = Tensor::arange(0, 12).reshape({3, 1, 4});
  Tensor b = Tensor::arange(0, 5).reshape({5, 1});
  Tensor p = a * b;
  EXPECT_EQ(p.shape(), (Shape{3, 5, 4}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j)
      for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(p.at({i, j, k}), a.at({i, 0, k}) * b.at({j, 0}));
  // A 0-d operand and a scalar on the left.
  EXPECT_EQ((Tensor::scalar(2) - Tensor::ones({2})).to_vector(), (Values{1, 1}));
  EXPECT_EQ((1.0 / Tensor::full({2}, 4)).to_vector(), (Values{0.25, 0.25}));
  // Broadcasting reads non-contiguous operands too.
  Tensor t = Tensor::arange(0, 6).reshape({2, 3}).t();  // [3, 2]
  EXPECT_EQ((t - Tensor::arange(0, 2)).to_vector(), (Values{0, 2, 1, 3, 2, 4}));
}

TEST(TensorArithmetic, UnaryOps) {
  Tensor x = Tensor::from_vector(Values{-2, 0.5, 4}, {3});
  EXPECT_EQ(neg(x).to_vector(), (Values{2, -0.5, -4}));
  EXPECT_EQ(abs(x).to_vector(), (Values{2, 0.5, 4}));
  EXPECT_EQ(clamp(x, -1, 1).to_vector(), (Values{-1, 0.5, 1}));
  EXPECT_EQ(pow(abs(x), 2).to_vector(), (Values{4, 0.25, 16}));
  EXPECT_EQ(sqrt(abs(x)).at({2}), 2);
  EXPECT_NEAR(log(exp(x)).at({1}), 0.5, 1e-15);
  EXPECT_THROW(clamp(x, 1, -1), Error);
}

// ---------------------------------------------------------------- reductions

TEST(TensorReduce, SumMeanOverSeveralAxesWithKeepdim) {
  Tensor a = Tensor::arange(0, 24, 1, kFloat64).reshape({2, 3, 4});
  Tensor s = sum(a, {0, 2});
  EXPECT_EQ(s.shape(), (Shape{3}));
  for (int64_t j = 0; j < 3; ++j) {
    double expected = 0;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 4; ++k) expected += a.at({i, j, k});
    EXPECT_EQ(s.at({j}), expected);
  }
  Tensor k = sum(a, {-1, 0}, /*keepdim=*/true);
  EXPECT_EQ(k.shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(k.to_vector(), s.to_vector());
  EXPECT_EQ(a.sum().item(), 276);
  EXPECT_EQ(mean(a, {1, 2}).to_vector(), (Values{5.5, 17.5}));
  EXPECT_EQ(a.mean({0}, true).shape(), (Shape{1, 3, 4}));
  // Reducing a non-contiguous view.
  EXPECT_EQ(sum(a.transpose(0, 2), {1, 2}).to_vector(), (Values{60, 66, 72, 78}));
}

TEST(TensorReduce, MaxAndArgmax) {
  Tensor a = Tensor::from_vector(Values{3, 9, 1, 4, 7, 2, 8, 5, 6, 0, 11, 10}, {2, 2, 3});
  EXPECT_EQ(max(a).item(), 11);
  EXPECT_EQ(max(a, {-1}).to_vector(), (Values{9, 7, 8, 11}));
  Tensor m = max(a, {0, 2}, true);
  EXPECT_EQ(m.shape(), (Shape{1, 2, 1}));
  EXPECT_EQ(m.to_vector(), (Values{9, 11}));
  EXPECT_EQ(argmax(a, -1).to_vector(), (Values{1, 1, 0, 1}));
  EXPECT_EQ(argmax(a, 1).to_vector(), (Values{1, 0, 1, 0, 1, 1}));
  EXPECT_EQ(argmax(a, 0, true).shape(), (Shape{1, 2, 3}));
  // Ties go to the first maximal element.
  EXPECT_EQ(argmax(Tensor::from_vector(Values{1, 5, 5, 2}), 0).item(), 1);
}

// ---------------------------------------------------------------- matmul

// Reference: out[b, i, j] = Σ_k a[b, i, k]·b[b, k, j], after broadcasting both to 3-d batches.
Values naive_matmul(const Tensor& a, const Tensor& b, const Shape& batch, int64_t M, int64_t K,
                    int64_t N) {
  Shape sa = batch, sb = batch;
  sa.push_back(M), sa.push_back(K), sb.push_back(K), sb.push_back(N);
  Tensor a3 = a.expand(sa).reshape({-1, M, K}), b3 = b.expand(sb).reshape({-1, K, N});
  Values out;
  for (int64_t n = 0; n < a3.size(0); ++n)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += a3.at({n, i, k}) * b3.at({n, k, j});
        out.push_back(acc);
      }
  return out;
}

void expect_all_near(const Values& got, const Values& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

TEST(TensorMatmul, TwoDimensionalMatchesNaiveLoop) {
  Generator g(0);
  for (auto [M, K, N] : std::vector<std::array<int64_t, 3>>{{3, 5, 2}, {1, 4, 7}, {40, 30, 20}}) {
    Tensor a = Tensor::randn({M, K}, g, kFloat64), b = Tensor::randn({K, N}, g, kFloat64);
    Tensor c = matmul(a, b);
    EXPECT_EQ(c.shape(), (Shape{M, N}));
    expect_all_near(c.to_vector(), naive_matmul(a, b, {}, M, K, N), 1e-12);
  }
  // Transposed operands (GEMM flags, no copies) and a strided slice (copied for GEMM).
  Tensor a = Tensor::randn({5, 3}, g, kFloat64), b = Tensor::randn({4, 5}, g, kFloat64);
  expect_all_near(matmul(a.t(), b.t()).to_vector(), naive_matmul(a.t(), b.t(), {}, 3, 5, 4), 1e-12);
  Tensor wide = Tensor::randn({3, 10}, g, kFloat64);
  Tensor strided = wide.slice(1, 0, 10, 2);  // [3, 5], column stride 2
  expect_all_near(matmul(strided, a).to_vector(), naive_matmul(strided, a, {}, 3, 5, 3), 1e-12);
}

TEST(TensorMatmul, BatchedWithBroadcastBatchDims) {
  Generator g(1);
  Tensor a = Tensor::randn({2, 1, 3, 4}, g, kFloat64);
  Tensor b = Tensor::randn({5, 4, 2}, g, kFloat64);
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.shape(), (Shape{2, 5, 3, 2}));
  expect_all_near(c.to_vector(), naive_matmul(a, b, {2, 5}, 3, 4, 2), 1e-12);
  Tensor d = Tensor::randn({4, 6}, g);  // float32, batch broadcast from a 2-d right operand
  Tensor e = Tensor::randn({3, 2, 4}, g);
  expect_all_near(matmul(e, d).to_vector(), naive_matmul(e, d, {3}, 2, 4, 6), 1e-5);
}

TEST(TensorMatmul, OneDimensionalOperands) {
  Generator g(2);
  Tensor v = Tensor::randn({4}, g, kFloat64), w = Tensor::randn({4}, g, kFloat64);
  Tensor m = Tensor::randn({4, 3}, g, kFloat64), n = Tensor::randn({2, 4}, g, kFloat64);
  Tensor dot = matmul(v, w);
  EXPECT_EQ(dot.dim(), 0);
  double expected = 0;
  for (int64_t k = 0; k < 4; ++k) expected += v.at({k}) * w.at({k});
  EXPECT_NEAR(dot.item(), expected, 1e-12);
  Tensor vm = matmul(v, m);
  EXPECT_EQ(vm.shape(), (Shape{3}));
  expect_all_near(vm.to_vector(), naive_matmul(v.unsqueeze(0), m, {}, 1, 4, 3), 1e-12);
  Tensor nv = matmul(n, v);
  EXPECT_EQ(nv.shape(), (Shape{2}));
  expect_all_near(nv.to_vector(), naive_matmul(n, v.unsqueeze(1), {}, 2, 4, 1), 1e-12);
  Tensor batched = Tensor::randn({3, 2, 4}, g, kFloat64);
  EXPECT_EQ(matmul(batched, v).shape(), (Shape{3, 2}));
  EXPECT_EQ(matmul(v, Tensor::randn({3, 4, 5}, g, kFloat64)).shape(), (Shape{3, 5}));
}

// ---------------------------------------------------------------- printing, float64

TEST(TensorPrint, Readable) {
  const std::string ints = to_string(Tensor::arange(0, 6).reshape({2, 3}));
  EXPECT_EQ(ints, "tensor([[0, 1, 2],\n        [3, 4, 5]], shape=[2, 3])");
  const std::string fl = to_string(Tensor::from_vector(Values{1.5, -2.25}, {2}));
  EXPECT_NE(fl.find("1.5000"), std::string::npos) << fl;
  EXPECT_NE(fl.find("-2.2500"), std::string::npos) << fl;
  EXPECT_NE(fl.find("dtype=float64"), std::string::npos) << fl;
  Tensor p = Tensor::ones({2}).requires_grad_();
  EXPECT_NE(to_string(p).find("requires_grad=true"), std::string::npos);
  EXPECT_NE(to_string(p + p).find("grad_fn=add"), std::string::npos);
  // Large tensors are summarized rather than printed in full.
  const std::string big = to_string(Tensor::arange(0, 5000));
  EXPECT_NE(big.find("..."), std::string::npos);
  EXPECT_LT(big.size(), 200u);
  EXPECT_EQ(to_string(Tensor()), "tensor(undefined)");
}

TEST(TensorFloat64, KeepsDoublePrecision) {
  Tensor a = Tensor::full({3}, 1.0, kFloat64);
  Tensor b = Tensor::full({3}, 1e-12, kFloat64);
  Tensor c = a + b;
  EXPECT_EQ(c.dtype(), kFloat64);
  EXPECT_EQ(c.at({0}) - 1.0, (1.0 + 1e-12) - 1.0);  // float32 would give 0
  EXPECT_EQ(sum(c).dtype(), kFloat64);
  EXPECT_EQ(matmul(c.unsqueeze(0), c.unsqueeze(1)).dtype(), kFloat64);
  EXPECT_THROW(c.data<float>(), Error);
  expect_error_mentions([&] { a + Tensor::ones({3}); }, {"add", "float64", "float32"});
}

// ---------------------------------------------------------------- shape errors

TEST(TensorErrors, ShapeErrorsNameTheOpAndBothShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4});
  expect_error_mentions([&] { add(a, b); }, {"add", "[2, 3]", "[4]"});
  expect_error_mentions([&] { mul(a, Tensor::zeros({3, 1, 2})); }, {"mul", "[2, 3]", "[3, 1, 2]"});
  expect_error_mentions([&] { matmul(a, Tensor::zeros({4, 5})); }, {"matmul", "[2, 3]", "[4, 5]"});
  expect_error_mentions(
      [&] {
        concat({a, Tensor::zeros({3, 3})}, 1);
      },
      {"concat", "[2, 3]", "[3, 3]"});
  expect_error_mentions([&] { sum(a, {2}); }, {"sum", "dim 2", "[2, 3]"});
  expect_error_mentions([&] { mean(a, {-3}); }, {"mean", "dim -3", "[2, 3]"});
  expect_error_mentions([&] { a.reshape({4, 2}); }, {"reshape", "[2, 3]", "[4, 2]"});
}

}  // namespace
}  // namespace nabla
