// The int64 dtype (labels, indices, counters) and unambiguous creation: int64 tensors are made,
// copied, converted, printed, viewed, indexed and compared like float ones; argmax gives int64;
// labels can be tensors; differentiable ops refuse int64 naming the op and the dtype; braced lists
// pick a dtype from their literals (from_vector, nabla::tensor).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "nabla/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

using Values = std::vector<double>;
using testing::error_message;
using ::testing::HasSubstr;

Tensor ints(std::vector<int64_t> v, const Shape& shape = {}) {
  return Tensor::from_vector(v, shape);
}

TEST(Int64, CreatedCopiedAndConverted) {
  Tensor a = ints({3, -1, 4, 1, 5, 9}, {2, 3});
  EXPECT_EQ(a.dtype(), kInt64);
  EXPECT_EQ(dtype_size(kInt64), 8u);
  EXPECT_STREQ(dtype_name(kInt64), "int64");
  EXPECT_EQ(a.to_vector(), (Values{3, -1, 4, 1, 5, 9}));
  EXPECT_EQ(a.data<int64_t>()[5], 9);
  EXPECT_EQ(Tensor::zeros({2}, kInt64).to_vector(), (Values{0, 0}));
  EXPECT_EQ(Tensor::full({2}, 7, kInt64).to_vector(), (Values{7, 7}));
  EXPECT_EQ(Tensor::arange(0, 4, 1, kInt64).to_vector(), (Values{0, 1, 2, 3}));
  EXPECT_EQ(Tensor::scalar(-4, kInt64).item(), -4);
  // Values beyond float64's 53-bit mantissa survive a copy.
  const int64_t big = std::numeric_limits<int64_t>::max() - 1;
  Tensor b = ints({big, 1});
  EXPECT_EQ(b.clone().data<int64_t>()[0], big);
  EXPECT_EQ(b.transpose(0, 0).contiguous().data<int64_t>()[0], big);
  // float -> int64 truncates toward zero, as static_cast (and PyTorch) do.
  EXPECT_EQ(Tensor::from_vector(Values{2.75, -2.75}).to(kInt64).to_vector(), (Values{2, -2}));
  Tensor f = a.to(kFloat32);
  EXPECT_EQ(f.dtype(), kFloat32);
  EXPECT_EQ(f.to_vector(), a.to_vector());
  Tensor c = Tensor::zeros({2, 3}, kInt64);
  c.copy_(f);  // converts
  EXPECT_TRUE(equal(c, a));
  c.fill_(2);
  EXPECT_EQ(c.to_vector(), Values(6, 2));
}

TEST(Int64, ViewsIndexingAndContiguous) {
  Tensor a = ints({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor t = a.t();
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_TRUE(t.shares_storage(a));
  EXPECT_EQ(t.at({2, 1}), 5);
  Tensor tc = t.contiguous();
  EXPECT_TRUE(tc.is_contiguous());
  EXPECT_EQ(tc.dtype(), kInt64);
  EXPECT_EQ(tc.to_vector(), (Values{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(a.reshape({3, 2}).at({2, 0}), 4);
  EXPECT_EQ(a.select(1, 2).to_vector(), (Values{2, 5}));
  EXPECT_EQ(a.slice(1, 0, 3, 2).to_vector(), (Values{0, 2, 3, 5}));
  EXPECT_EQ(a.unsqueeze(0).expand({2, 2, 3}).contiguous().to_vector(),
            (Values{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(index_select(a, 1, {2, 0}).to_vector(), (Values{2, 0, 5, 3}));
  EXPECT_EQ(concat({a, a.slice(0, 0, 1)}, 0).shape(), (Shape{3, 3}));
}

TEST(Int64, Compared) {
  Tensor a = ints({1, 2, 3, 4}, {2, 2});
  EXPECT_TRUE(equal(a, ints({1, 2, 3, 4}, {2, 2})));
  EXPECT_TRUE(equal(a.t(), ints({1, 3, 2, 4}, {2, 2})));  // strided against contiguous
  EXPECT_FALSE(equal(a, ints({1, 2, 3, 5}, {2, 2})));
  EXPECT_FALSE(equal(a, ints({1, 2, 3, 4})));  // shape differs
  EXPECT_FALSE(equal(a, a.to(kFloat32)));      // dtype differs
  EXPECT_TRUE(equal(a.to(kFloat64), a.to(kFloat64)));
}

TEST(Int64, Printed) {
  EXPECT_EQ(to_string(ints({1, -20, 3}, {3})), "tensor([  1, -20,   3], shape=[3], dtype=int64)");
}

TEST(Int64, ArgmaxGivesInt64) {
  Tensor x = Tensor::from_vector(Values{0.1, 0.9, 0.3, 0.8, 0.2, 0.1}, {2, 3});
  Tensor i = argmax(x, 1);
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_TRUE(equal(i, ints({1, 0})));
  EXPECT_TRUE(equal(argmax(ints({2, 7, 7, 1}), 0), Tensor::scalar(1, kInt64)));
}

TEST(Int64, LabelsAsTensors) {
  Tensor logits = Tensor::from_vector(Values{0.5, -1, 2, 0.25, 0.125, -0.5}, {2, 3});
  const std::vector<int64_t> labels{2, 0};
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    EXPECT_TRUE(equal(cross_entropy(logits, ints(labels), r), cross_entropy(logits, labels, r)));
    EXPECT_TRUE(equal(multi_margin_loss(logits, ints(labels), 1.0, r),
                      multi_margin_loss(logits, labels, 1.0, r)));
  }
  // The gradient is the same too.
  Tensor x1 = logits.clone().requires_grad_(), x2 = logits.clone().requires_grad_();
  cross_entropy(x1, ints(labels)).backward();
  cross_entropy(x2, labels).backward();
  EXPECT_TRUE(equal(x1.grad(), x2.grad()));
  EXPECT_THAT(error_message([&] {
                cross_entropy(logits, Tensor::from_vector(Values{2, 0}));
              }),
              HasSubstr("cross_entropy: labels must be a 1-d int64 tensor, got float64 [2]"));
  EXPECT_THAT(error_message([&] { cross_entropy(logits, ints({2, 3})); }), HasSubstr("3"));
}

TEST(Int64, DifferentiableOpsRefuseItNamingOpAndDtype) {
  Tensor i = ints({1, 2, 3, 4}, {2, 2});
  const std::string want = ": expects a float32 or float64 tensor, got int64";
  EXPECT_THAT(error_message([&] { add(i, i); }), HasSubstr("add" + want));
  EXPECT_THAT(error_message([&] { exp(i); }), HasSubstr("exp" + want));
  EXPECT_THAT(error_message([&] { relu(i); }), HasSubstr("relu" + want));
  EXPECT_THAT(error_message([&] { matmul(i, i); }), HasSubstr("matmul" + want));
  EXPECT_THAT(error_message([&] { sum(i); }), HasSubstr("sum" + want));
  EXPECT_THAT(error_message([&] { softmax(i); }), HasSubstr("softmax" + want));
  EXPECT_THAT(error_message([&] { mse_loss(i, i); }), HasSubstr("mse_loss" + want));
  EXPECT_THAT(error_message([&] {
                F::max_pool2d(i.reshape({1, 1, 2, 2}), F::MaxPool2dFuncOptions(2));
              }),
              HasSubstr("max_pool2d" + want));
  EXPECT_THAT(error_message([&] {
                F::conv2d(i.reshape({1, 1, 2, 2}), i.reshape({1, 1, 2, 2}));
              }),
              HasSubstr("conv2d" + want));
  EXPECT_THAT(error_message([&] { i.requires_grad_(); }),
              HasSubstr("only float tensors can require gradients, this one is int64"));
  // A float kernel reached without an op's check still refuses rather than misreading the data.
  EXPECT_THAT(error_message([&] { dispatch(kInt64, []<class T>() {}); }), HasSubstr("int64"));
}

TEST(Creation, BracedListsPickTheirDtype) {
  Tensor a = Tensor::from_vector({0, 1, 2, 3}, {2, 2});
  EXPECT_EQ(a.dtype(), kFloat32);
  EXPECT_EQ(a.shape(), (Shape{2, 2}));
  EXPECT_EQ(a.to_vector(), (Values{0, 1, 2, 3}));
  EXPECT_EQ(Tensor::from_vector({1.5f, 2.f}).dtype(), kFloat32);
  EXPECT_EQ(Tensor::from_vector({1.5, 2.0}).dtype(), kFloat64);

  Tensor i = tensor({1, 2, 3});
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_TRUE(equal(i, ints({1, 2, 3})));
  EXPECT_EQ(tensor({1.f, 2.f}).dtype(), kFloat32);
  EXPECT_EQ(tensor({1.0, 2.5}).dtype(), kFloat64);
  Tensor g = tensor({0, 1}, kFloat32);
  EXPECT_EQ(g.dtype(), kFloat32);
  EXPECT_EQ(g.to_vector(), (Values{0, 1}));
  Tensor m = tensor({{1.0, 2.0}, {3.0, 4.0}});
  EXPECT_EQ(m.shape(), (Shape{2, 2}));
  EXPECT_EQ(m.dtype(), kFloat64);
  EXPECT_EQ(m.at({1, 0}), 3);
  EXPECT_EQ(tensor({{1, 2, 3}}).shape(), (Shape{1, 3}));
  EXPECT_THAT(error_message([] {
                tensor({{1, 2}, {3}});
              }),
              HasSubstr("tensor: rows of 2 and 1 values"));
}

}  // namespace
}  // namespace nabla
