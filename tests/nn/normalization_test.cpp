// BatchNorm1d and BatchNorm2d layers: registered parameters and buffers (so checkpoints save the
// running statistics), the running-statistic update against the formula, train/eval behaviour,
// options, printing and errors; the fusion with a ReLU (forward_relu) bit for bit, in inference
// (one pass, no graph) and as the op batch_norm_relu. The op's own numerics are tested in
// tests/ops/norm_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bit_patterns.h"
#include "nabla/nabla.h"
#include "test_util.h"

using namespace nabla;
using nabla::testing::bit_patterns;
using nabla::testing::error_message;
using nabla::testing::names_of;

namespace {

// Mean and biased variance of channel c of x (N, C) or (N, C, H, W), computed here directly.
std::pair<double, double> channel_stats(const Tensor& x, int64_t c) {
  std::vector<double> v = x.select(1, c).contiguous().to_vector();
  double mean = 0, var = 0;
  for (double e : v) mean += e;
  mean /= static_cast<double>(v.size());
  for (double e : v) var += (e - mean) * (e - mean);
  return {mean, var / static_cast<double>(v.size())};
}

}  // namespace

TEST(BatchNormLayer, RegistersAffineParametersAndRunningStatisticBuffers) {
  nn::BatchNorm2d bn(4);
  EXPECT_EQ(names_of(bn.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(names_of(bn.named_buffers()),
            (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  EXPECT_EQ(bn.weight.to_vector(), std::vector<double>(4, 1.0));
  EXPECT_EQ(bn.bias.to_vector(), std::vector<double>(4, 0.0));
  EXPECT_EQ(bn.running_mean.to_vector(), std::vector<double>(4, 0.0));
  EXPECT_EQ(bn.running_var.to_vector(), std::vector<double>(4, 1.0));
  // Inside a Sequential the buffers get dotted names, like PyTorch's state_dict.
  nn::Sequential model(nn::Conv2d(1, 4, 3), nn::BatchNorm2d(4));
  EXPECT_EQ(names_of(model.named_buffers()),
            (std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"}));
  nn::BatchNorm2d uncounted(nn::BatchNormOptions(4).track_num_batches(false));
  EXPECT_EQ(names_of(uncounted.named_buffers()),
            (std::vector<std::string>{"running_mean", "running_var"}));
  // As PyTorch's: no running statistics, no counter.
  nn::BatchNorm2d stateless(nn::BatchNormOptions(4).track_running_stats(false));
  EXPECT_TRUE(stateless.named_buffers().empty());

  nn::BatchNorm1d counted(nn::BatchNormOptions(3).track_num_batches(true).affine(false));
  EXPECT_TRUE(counted.parameters().empty());
  EXPECT_EQ(names_of(counted.named_buffers()),
            (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  Generator gen(1);
  counted.forward(Tensor::randn({5, 3}, gen));
  counted.forward(Tensor::randn({5, 3}, gen));
  counted.eval();
  counted.forward(Tensor::randn({5, 3}, gen));
  EXPECT_EQ(counted.num_batches_tracked.item(), 2.0);  // training batches only
}

// PyTorch's counter is an int64 0-d tensor that stays int64 when the model changes dtype.
TEST(BatchNormLayer, CountsTrainingBatchesInAnInt64BufferAsPyTorch) {
  nn::BatchNorm2d bn(2);
  EXPECT_EQ(bn.num_batches_tracked.dtype(), kInt64);
  EXPECT_EQ(bn.num_batches_tracked.shape(), Shape{});
  EXPECT_EQ(*bn.num_batches_tracked.data<int64_t>(), 0);
  bn.to(kFloat64);
  EXPECT_EQ(bn.running_mean.dtype(), kFloat64);
  EXPECT_EQ(bn.num_batches_tracked.dtype(), kInt64);
  Generator gen(3);
  for (int i = 0; i < 3; ++i) bn.forward(Tensor::randn({4, 2, 3, 3}, gen, kFloat64));
  EXPECT_EQ(*bn.num_batches_tracked.data<int64_t>(), 3);
  bn.reset_running_stats();
  EXPECT_EQ(*bn.num_batches_tracked.data<int64_t>(), 0);
}

TEST(BatchNormLayer, TrainingUpdatesRunningStatisticsByTheFormula) {
  Generator gen(2);
  nn::BatchNorm2d bn(nn::BatchNormOptions(3).momentum(0.2));
  std::vector<double> mean(3, 0.0), var(3, 1.0);
  for (int step = 0; step < 2; ++step) {
    Tensor x = Tensor::normal({4, 3, 2, 5}, 1.5, 2.0, gen);
    Tensor y = bn.forward(x);
    const double M = 4 * 2 * 5;
    for (int64_t c = 0; c < 3; ++c) {
      auto [m, v] = channel_stats(x, c);
      mean[c] = 0.8 * mean[c] + 0.2 * m;
      var[c] = 0.8 * var[c] + 0.2 * v * M / (M - 1);  // unbiased, as PyTorch
      EXPECT_NEAR(bn.running_mean.at({c}), mean[c], 1e-5);
      EXPECT_NEAR(bn.running_var.at({c}), var[c], 1e-4);
      // The output is normalised with the batch's own (biased) statistics.
      auto [ym, yv] = channel_stats(y, c);
      EXPECT_NEAR(ym, 0.0, 1e-5);
      EXPECT_NEAR(yv, v / (v + 1e-5), 1e-4);
    }
  }
}

TEST(BatchNormLayer, EvalUsesRunningStatisticsAndLeavesThemAlone) {
  Generator gen(3);
  nn::BatchNorm1d bn(2);
  bn.forward(Tensor::normal({8, 2}, 3.0, 2.0, gen));  // moves the running statistics
  nn::init::uniform_(bn.weight, gen, 0.5, 1.5);
  nn::init::uniform_(bn.bias, gen, -1, 1);
  bn.eval();
  std::vector<double> rm = bn.running_mean.to_vector(), rv = bn.running_var.to_vector();
  Tensor x = Tensor::randn({5, 2}, gen);
  Tensor y = bn.forward(x);
  for (int64_t n = 0; n < 5; ++n)
    for (int64_t c = 0; c < 2; ++c) {
      double expected =
          (x.at({n, c}) - rm[c]) / std::sqrt(rv[c] + 1e-5) * bn.weight.at({c}) + bn.bias.at({c});
      EXPECT_NEAR(y.at({n, c}), expected, 1e-5);
    }
  EXPECT_EQ(bn.running_mean.to_vector(), rm);
  EXPECT_EQ(bn.running_var.to_vector(), rv);
  // One sample is fine in evaluation, where no batch statistics are needed.
  EXPECT_EQ(bn.forward(Tensor::ones({1, 2})).shape(), Shape({1, 2}));
}

TEST(BatchNormLayer, WithoutRunningStatisticsEvalUsesTheBatch) {
  Generator gen(4);
  nn::BatchNorm2d bn(nn::BatchNormOptions(2).track_running_stats(false));
  EXPECT_TRUE(bn.buffers().empty());
  bn.eval();
  Tensor y = bn.forward(Tensor::normal({3, 2, 4, 4}, 5.0, 3.0, gen));
  for (int64_t c = 0; c < 2; ++c) EXPECT_NEAR(channel_stats(y, c).first, 0.0, 1e-5);
}

TEST(BatchNormLayer, ConvertsBuffersWithTheModule) {
  nn::BatchNorm2d bn(3);
  bn.to(kFloat64);
  EXPECT_EQ(bn.running_mean.dtype(), kFloat64);
  EXPECT_EQ(bn.weight.dtype(), kFloat64);
  Generator gen(5);
  EXPECT_EQ(bn.forward(Tensor::randn({2, 3, 2, 2}, gen, kFloat64)).dtype(), kFloat64);
}

TEST(BatchNormLayer, PrintsLikePyTorch) {
  EXPECT_EQ(nn::to_string(nn::BatchNorm2d(32)),
            "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
  EXPECT_EQ(nn::to_string(
                nn::BatchNorm1d(nn::BatchNormOptions(256).eps(1e-3).momentum(0.01).affine(false))),
            "BatchNorm1d(256, eps=0.001, momentum=0.01, affine=false, track_running_stats=true)");
}

TEST(BatchNormLayer, ErrorsNameTheLayerAndShapes) {
  nn::BatchNorm2d bn2(3);
  EXPECT_EQ(error_message([&] {
              bn2.forward(Tensor::ones({4, 3}));
            }),
            "BatchNorm2d(3): input [4, 3] must be 4-d (N, C, H, W); use BatchNorm1d for features");
  EXPECT_EQ(error_message([&] {
              bn2.forward(Tensor::ones({4, 5, 2, 2}));
            }),
            "BatchNorm2d(3): input [4, 5, 2, 2] has 5 channels but the layer expects 3");
  nn::BatchNorm1d bn1(3);
  EXPECT_NE(error_message([&] {
              bn1.forward(Tensor::ones({1, 3}));
            }).find("BatchNorm1d(3): batch_norm: input [1, 3] has 1 value per channel"),
            std::string::npos);
  EXPECT_THROW(nn::BatchNorm1d(0), Error);
  EXPECT_THROW(nn::BatchNorm1d(nn::BatchNormOptions(3).momentum(1.5)), Error);
}

// ---- batch norm + ReLU in inference (BatchNormBase::forward_relu) ----

namespace {

// A layer in evaluation with running statistics, weight and bias away from their defaults.
template <class Norm>
std::shared_ptr<Norm> trained_norm(int64_t C, DType dtype, Generator& gen) {
  auto bn = std::make_shared<Norm>(nn::BatchNormOptions(C).dtype(dtype));
  NoGradGuard no_grad;
  bn->running_mean.copy_(Tensor::randn({C}, gen, dtype));
  bn->running_var.copy_(Tensor::uniform({C}, 0.2, 3.0, gen, dtype));
  bn->weight.copy_(Tensor::uniform({C}, -1.5, 1.5, gen, dtype));
  bn->bias.copy_(Tensor::randn({C}, gen, dtype));
  bn->eval();
  return bn;
}

template <class Norm>
void expect_fused_equals_bn_then_relu(const Shape& shape, DType dtype) {
  Generator gen(7);
  auto bn = trained_norm<Norm>(shape[1], dtype, gen);
  Tensor x = Tensor::randn(shape, gen, dtype);
  NoGradGuard no_grad;
  Tensor fused = bn->forward_relu(x);
  ASSERT_TRUE(fused.defined());
  Tensor composed = relu(bn->forward(x));
  EXPECT_EQ(bit_patterns(fused), bit_patterns(composed));
  const std::vector<double> y = fused.to_vector();
  EXPECT_GT(std::count(y.begin(), y.end(), 0.0), 0);  // the ReLU clamped something
  EXPECT_GT(std::count_if(y.begin(), y.end(), [](double v) { return v > 0; }), 0);
  // Rows are split over the pool, each computed alone: any thread count gives the same bits.
  nabla::testing::ThreadCount one(1);
  EXPECT_EQ(bit_patterns(bn->forward_relu(x)), bit_patterns(fused));
}

}  // namespace

TEST(BatchNormReluInference, EqualsBatchNormThenReluBitwise) {
  for (DType dtype : {kFloat32, kFloat64}) {
    SCOPED_TRACE(dtype_name(dtype));
    expect_fused_equals_bn_then_relu<nn::BatchNorm2d>({3, 5, 7, 9}, dtype);
    expect_fused_equals_bn_then_relu<nn::BatchNorm2d>({2, 4, 64, 64}, dtype);  // several tasks
    expect_fused_equals_bn_then_relu<nn::BatchNorm1d>({6, 11}, dtype);
  }
}

// The one-pass inference fusion is taken only where no gradient can be needed; elsewhere
// forward_relu is the op batch_norm_relu (its grad_fn shows which), with the same bits.
TEST(BatchNormReluInference, TakenOnlyWhereNoGradientIsNeeded) {
  Generator gen(8);
  auto bn = trained_norm<nn::BatchNorm2d>(3, kFloat32, gen);
  nn::Sequential model;
  model.push_back(bn);
  model.push_back(std::make_shared<nn::ReLU>());
  std::vector<std::string> hooked;
  model.add_forward_hook(
      [&](const std::string& name, const nn::Module&, const Tensor&) { hooked.push_back(name); });
  Tensor x = Tensor::randn({2, 3, 4, 5}, gen);

  // Evaluation, parameters requiring grad, grad mode on: the op, a graph is recorded; one fused
  // output, seen by the hook as the ReLU's.
  Tensor recorded = model.forward(x);
  EXPECT_EQ(recorded.grad_fn_name(), "batch_norm_relu");
  EXPECT_EQ(hooked, (std::vector<std::string>{"1"}));
  EXPECT_EQ(bit_patterns(recorded), bit_patterns(relu(bn->forward(x))));

  // No-grad mode: the one pass, no graph.
  {
    NoGradGuard no_grad;
    Tensor fused = model.forward(x);
    EXPECT_EQ(fused.grad_fn_name(), "");
    EXPECT_EQ(bit_patterns(fused), bit_patterns(recorded));
  }
  // Nothing requires grad (frozen parameters, plain input): the one pass with grad mode on too.
  for (Tensor& p : bn->parameters()) p.requires_grad_(false);
  EXPECT_EQ(bn->forward_relu(x).grad_fn_name(), "");
  EXPECT_EQ(bn->forward_relu(Tensor::randn({2, 3, 4, 5}, gen).requires_grad_()).grad_fn_name(),
            "batch_norm_relu");

  // Training: the op (batch statistics, running-statistic update, a graph).
  model.train();
  EXPECT_EQ(model.forward(x.clone().requires_grad_()).grad_fn_name(), "batch_norm_relu");
}

// In training the fused op gives batch norm then ReLU's output, gradients and running statistics
// bit for bit, (N, C) (its backward masks dy with the saved output) and (N, C, H, W) (it
// recomputes the mask from x), with and without the affine transform, in both dtypes.
TEST(BatchNormReluTraining, EqualsBatchNormThenReluBitwise) {
  for (DType dtype : {kFloat32, kFloat64})
    for (bool affine : {true, false})
      for (const Shape& shape : {Shape{6, 11}, Shape{4, 5, 7, 9}}) {
        SCOPED_TRACE(::testing::PrintToString(shape) + (affine ? " affine " : " ") +
                     dtype_name(dtype));
        Generator gen(12);
        const int64_t C = shape[1];
        Tensor x = Tensor::randn(shape, gen, dtype).requires_grad_();
        Tensor dy = Tensor::randn(shape, gen, dtype);
        auto run = [&](bool fused) {
          std::shared_ptr<nn::Module> bn;
          if (shape.size() == 2)
            bn = std::make_shared<nn::BatchNorm1d>(
                nn::BatchNormOptions(C).affine(affine).dtype(dtype));
          else
            bn = std::make_shared<nn::BatchNorm2d>(
                nn::BatchNormOptions(C).affine(affine).dtype(dtype));
          auto& norm = static_cast<nn::BatchNormBase&>(*bn);
          if (affine) {
            NoGradGuard no_grad;
            Generator params(3);
            norm.weight.copy_(Tensor::uniform({C}, -1.5, 1.5, params, dtype));
            norm.bias.copy_(Tensor::randn({C}, params, dtype));
          }
          x.zero_grad();
          Tensor y = fused ? bn->forward_relu(x) : relu(bn->forward(x));
          EXPECT_EQ(y.grad_fn_name(), fused ? "batch_norm_relu" : "relu");
          y.backward(dy);
          std::vector<std::vector<uint64_t>> bits{bit_patterns(y), bit_patterns(x.grad()),
                                                  bit_patterns(norm.running_mean),
                                                  bit_patterns(norm.running_var)};
          if (affine) {
            bits.push_back(bit_patterns(norm.weight.grad()));
            bits.push_back(bit_patterns(norm.bias.grad()));
          }
          return bits;
        };
        const auto fused = run(true);
        EXPECT_EQ(fused, run(false));
      }
}

TEST(BatchNormReluInference, ErrorsNameTheLayerAsForwardDoes) {
  nn::BatchNorm2d bn(3);
  bn.eval();
  NoGradGuard no_grad;
  EXPECT_EQ(error_message([&] {
              bn.forward_relu(Tensor::ones({4, 5, 2, 2}));
            }),
            "BatchNorm2d(3): input [4, 5, 2, 2] has 5 channels but the layer expects 3");
}
