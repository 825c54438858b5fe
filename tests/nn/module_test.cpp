// Module, Linear, Sequential and the activation modules: registration and names, modes,
// printing, forward shapes and values, errors, gradients through a Linear + Tanh stack, and the
// fused Linear + ReLU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "nabla/gradcheck.h"
#include "nabla/nabla.h"
#include "test_util.h"

using namespace nabla;

namespace {

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> names;
  for (const auto& entry : named) names.push_back(entry.first);
  return names;
}

// A user-defined module: a child by shared_ptr, a nested Sequential, an own parameter and buffer.
struct Block : nn::Module {
  Block() {
    fc = register_module("fc", std::make_shared<nn::Linear>(3, 4));
    body = register_module("body", std::make_shared<nn::Sequential>(nn::Linear(4, 2), nn::ReLU()));
    scale = register_parameter("scale", Tensor::ones({2}));
    register_buffer("count", Tensor::zeros({1}));
  }
  Tensor forward(const Tensor& x) override { return body->forward(fc->forward(x)) * scale; }
  std::shared_ptr<nn::Linear> fc;
  std::shared_ptr<nn::Sequential> body;
  Tensor scale;
};

}  // namespace

TEST(Module, SequentialNamesParametersByPosition) {
  nn::Sequential model(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1), nn::Sigmoid());
  EXPECT_EQ(model.size(), 4u);
  EXPECT_EQ(names_of(model.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  std::vector<Tensor> params = model.parameters();
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[0].shape(), Shape({8, 2}));
  EXPECT_EQ(params[1].shape(), Shape({8}));
  EXPECT_EQ(params[2].shape(), Shape({1, 8}));
  EXPECT_EQ(params[3].shape(), Shape({1}));
  for (const Tensor& p : params) EXPECT_TRUE(p.requires_grad() && p.is_leaf());
  // parameters() hands out the module's own tensors, not copies.
  EXPECT_EQ(params[0].impl_ptr(), model.at<nn::Linear>(0).weight.impl_ptr());
  EXPECT_TRUE(model.parameters(/*recurse=*/false).empty());
}

TEST(Module, NestedNamesAndBuffers) {
  Block block;
  EXPECT_EQ(
      names_of(block.named_parameters()),
      (std::vector<std::string>{"scale", "fc.weight", "fc.bias", "body.0.weight", "body.0.bias"}));
  EXPECT_EQ(names_of(block.named_parameters(false)), std::vector<std::string>{"scale"});
  EXPECT_EQ(names_of(block.named_buffers()), std::vector<std::string>{"count"});
  EXPECT_FALSE(block.buffers()[0].requires_grad());
  EXPECT_EQ(block.children().size(), 2u);
  EXPECT_EQ(block.forward(Tensor::ones({5, 3})).shape(), Shape({5, 2}));
}

TEST(Module, RejectsBadRegistrations) {
  nn::Linear fc(2, 3);
  EXPECT_THROW(fc.register_parameter("weight", Tensor::zeros({1})), Error);
  EXPECT_THROW(fc.register_buffer("a.b", Tensor::zeros({1})), Error);
  EXPECT_THROW(fc.register_parameter("undefined", Tensor()), Error);
  Tensor made = Tensor::ones({2}).requires_grad_() * 2.0;
  EXPECT_THROW(fc.register_parameter("made", made), Error);
  EXPECT_THROW(fc.register_module("weight", std::make_shared<nn::ReLU>()), Error);
}

TEST(Module, TrainAndEvalReachEveryDescendant) {
  Block block;
  EXPECT_TRUE(block.is_training());
  block.eval();
  EXPECT_FALSE(block.is_training());
  EXPECT_FALSE(block.fc->is_training());
  EXPECT_FALSE(block.body->is_training());
  EXPECT_FALSE((*block.body)[1]->is_training());
  block.train();
  EXPECT_TRUE((*block.body)[0]->is_training());
  block.body->eval();  // a subtree alone
  EXPECT_TRUE(block.is_training());
  EXPECT_FALSE((*block.body)[1]->is_training());
}

TEST(Module, PrintsLikePyTorch) {
  nn::Sequential model(nn::Linear(2, 8), nn::Tanh(),
                       nn::Linear(nn::LinearOptions(8, 1).bias(false)), nn::LeakyReLU(0.2),
                       nn::Sequential(nn::ELU(), nn::Softmax(1)));
  EXPECT_EQ(nn::to_string(model),
            "Sequential(\n"
            "  (0): Linear(in_features=2, out_features=8, bias=true)\n"
            "  (1): Tanh()\n"
            "  (2): Linear(in_features=8, out_features=1, bias=false)\n"
            "  (3): LeakyReLU(negative_slope=0.2)\n"
            "  (4): Sequential(\n"
            "    (0): ELU(alpha=1.0)\n"
            "    (1): Softmax(dim=1)\n"
            "  )\n"
            ")");
  EXPECT_EQ(nn::to_string(nn::Maxout(nn::MaxoutOptions(2).dim(-1))), "Maxout(pieces=2, dim=-1)");
  EXPECT_EQ(nn::to_string(nn::LogSoftmax(-1)), "LogSoftmax(dim=-1)");
  // A user module without a name() override prints its class name.
  EXPECT_EQ(nn::to_string(Block()).substr(0, 7), "Block(\n");
}

TEST(Module, LinearComputesXWtPlusB) {
  Generator gen(3);
  nn::Linear fc(nn::LinearOptions(3, 2).generator(&gen));
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, -1, 0.5, 4}, {2, 3});
  Tensor y = fc.forward(x);
  ASSERT_EQ(y.shape(), Shape({2, 2}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t o = 0; o < 2; ++o) {
      double expected = fc.bias.at({o});
      for (int64_t i = 0; i < 3; ++i) expected += x.at({n, i}) * fc.weight.at({o, i});
      EXPECT_NEAR(y.at({n, o}), expected, 1e-5);
    }
  // Leading dims are batch dims; a 1-d input is one sample.
  EXPECT_EQ(fc.forward(Tensor::ones({4, 5, 3})).shape(), Shape({4, 5, 2}));
  EXPECT_EQ(fc.forward(Tensor::ones({3})).shape(), Shape({2}));
  nn::Linear no_bias(nn::LinearOptions(3, 2).bias(false));
  EXPECT_FALSE(no_bias.bias.defined());
  EXPECT_EQ(no_bias.parameters().size(), 1u);
}

// linear_relu is relu(linear(...)) in one op: the same output and gradients bit for bit, with and
// without a bias, on shapes that take each of the GEMM's paths (the MLP's fc1 is the dot
// products, its fc2 block()) on 1 and 2 threads; nn::Sequential runs a Linear then a ReLU as it.
TEST(Module, LinearReluIsLinearThenReluBitwise) {
  struct Dims {
    int64_t rows, in, out;
  };
  for (const Dims d : {Dims{3, 5, 4}, Dims{64, 784, 256}, Dims{64, 256, 256}, Dims{50, 500, 77}})
    for (bool with_bias : {true, false})
      for (int threads : {1, 2}) {
        SCOPED_TRACE(std::to_string(d.rows) + "x" + std::to_string(d.in) + " -> " +
                     std::to_string(d.out) + (with_bias ? " bias, " : ", ") +
                     std::to_string(threads) + " threads");
        nabla::testing::ThreadCount tc(threads);
        Generator gen(uint64_t(d.in + d.out));
        Tensor x = Tensor::randn({d.rows, d.in}, gen).requires_grad_();
        Tensor w = Tensor::randn({d.out, d.in}, gen).requires_grad_();
        Tensor b = with_bias ? Tensor::randn({d.out}, gen).requires_grad_() : Tensor();
        Tensor dy = Tensor::randn({d.rows, d.out}, gen);
        auto run = [&](const Tensor& y) {
          x.zero_grad(), w.zero_grad();
          if (with_bias) b.zero_grad();
          y.backward(dy);
          std::vector<std::vector<double>> got{y.to_vector(), x.grad().to_vector(),
                                               w.grad().to_vector()};
          if (with_bias) got.push_back(b.grad().to_vector());
          return got;
        };
        const auto fused = run(detail::linear_relu(x, w, b));
        EXPECT_EQ(fused, run(relu(linear(x, w, b))));
        // Some outputs are clamped and some are not.
        EXPECT_GT(std::count(fused[0].begin(), fused[0].end(), 0.0), 0);
        EXPECT_LT(std::count(fused[0].begin(), fused[0].end(), 0.0), int64_t(fused[0].size()));
      }

  Generator gen(5);
  nn::Sequential model(nn::Linear(nn::LinearOptions(6, 4).generator(&gen)), nn::ReLU(),
                       nn::Linear(nn::LinearOptions(4, 3).generator(&gen)));
  Tensor x = Tensor::randn({5, 6}, gen);
  const auto& fc = model.at<nn::Linear>(0);
  Tensor hidden = model.at<nn::Linear>(0).forward_relu(x);
  EXPECT_EQ(hidden.grad_fn_name(), "linear_relu");
  EXPECT_EQ(hidden.to_vector(), relu(linear(x, fc.weight, fc.bias)).to_vector());
  EXPECT_EQ(model.forward(x).to_vector(), model.at<nn::Linear>(2).forward(hidden).to_vector());
}

TEST(Module, LinearErrorNamesShapes) {
  nn::Linear fc(2, 8);
  try {
    fc.forward(Tensor::ones({5, 3}));
    FAIL() << "expected a shape error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("Linear"), std::string::npos) << what;
    EXPECT_NE(what.find("[5, 3]"), std::string::npos) << what;
    EXPECT_NE(what.find("[8, 2]"), std::string::npos) << what;
  }
  EXPECT_THROW(fc.forward(Tensor::ones({5, 2}, kFloat64)), Error);
  EXPECT_THROW(nn::Linear(0, 3), Error);
}

TEST(Module, LinearDefaultInitIsPyTorchs) {
  Generator a(11), b(11);
  nn::Linear first(nn::LinearOptions(50, 40).generator(&a));
  nn::Linear second(nn::LinearOptions(50, 40).generator(&b));
  EXPECT_EQ(first.weight.to_vector(), second.weight.to_vector());
  EXPECT_EQ(first.bias.to_vector(), second.bias.to_vector());
  // U(±1/√fan_in) for both: bounded, and spread over the interval (std = bound/√3).
  double bound = 1.0 / std::sqrt(50.0);
  std::vector<double> w = first.weight.to_vector();
  double sum_sq = 0;
  for (double v : w) {
    EXPECT_LE(std::abs(v), bound);
    sum_sq += v * v;
  }
  EXPECT_NEAR(std::sqrt(sum_sq / w.size()), bound / std::sqrt(3.0), 0.05 * bound);
  for (double v : first.bias.to_vector()) EXPECT_LE(std::abs(v), bound);
  // The default generator gives different draws to successive layers.
  nn::Linear c(50, 40), d(50, 40);
  EXPECT_NE(c.weight.to_vector(), d.weight.to_vector());
}

TEST(Module, SequentialAccessAndSharing) {
  auto shared = std::make_shared<nn::Linear>(4, 4);
  nn::Sequential model(shared, nn::ReLU());
  model.push_back(shared);  // the same layer twice: one set of weights
  EXPECT_EQ(model.size(), 3u);
  EXPECT_EQ(&model.at<nn::Linear>(2), shared.get());
  EXPECT_THROW(model.at<nn::Tanh>(1), Error);
  EXPECT_THROW(model[3], Error);
  nn::Sequential empty;
  Tensor x = Tensor::ones({2, 4});
  EXPECT_EQ(empty.forward(x).impl_ptr(), x.impl_ptr());
  EXPECT_THROW(nn::ReLU().nn::Module::forward(x), Error);
}

TEST(Module, ActivationsForwardToTheirOps) {
  Generator gen(5);
  Tensor x = Tensor::randn({3, 4}, gen);
  auto same = [](const Tensor& a, const Tensor& b) { return a.to_vector() == b.to_vector(); };
  EXPECT_TRUE(same(nn::ReLU()(x), relu(x)));
  EXPECT_TRUE(same(nn::Sigmoid()(x), sigmoid(x)));
  EXPECT_TRUE(same(nn::Tanh()(x), tanh(x)));
  EXPECT_TRUE(same(nn::LeakyReLU(0.3)(x), leaky_relu(x, 0.3)));
  EXPECT_TRUE(same(nn::ELU(0.7)(x), elu(x, 0.7)));
  EXPECT_TRUE(same(nn::Softmax(0)(x), softmax(x, 0)));
  EXPECT_TRUE(same(nn::LogSoftmax(1)(x), log_softmax(x, 1)));
  EXPECT_EQ(nn::Maxout(2)(x).shape(), Shape({3, 2}));
}

TEST(Module, ZeroGradAndDtypeConversion) {
  nn::Sequential model(nn::Linear(3, 2), nn::Tanh());
  model.forward(Tensor::ones({4, 3})).sum().backward();
  for (const Tensor& p : model.parameters()) EXPECT_TRUE(p.grad().defined());
  model.zero_grad();
  for (const Tensor& p : model.parameters()) EXPECT_FALSE(p.grad().defined());

  std::vector<double> before = model.at<nn::Linear>(0).weight.to_vector();
  model.to(kFloat64);
  const nn::Linear& fc = model.at<nn::Linear>(0);
  EXPECT_EQ(fc.weight.dtype(), kFloat64);  // the member sees the conversion
  std::vector<double> after = fc.weight.to_vector();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i], before[i]);
  EXPECT_EQ(model.forward(Tensor::ones({4, 3}, kFloat64)).dtype(), kFloat64);
}

// Gradients of a Linear + Tanh + Linear stack through nabla::gradcheck, for the input and for
// every weight and bias: the check's float64 copies are put in place of the layers' members.
TEST(Module, LinearTanhStackPassesGradcheck) {
  Generator gen(21);
  nn::Sequential model(nn::Linear(nn::LinearOptions(3, 5).dtype(kFloat64).generator(&gen)),
                       nn::Tanh(),
                       nn::Linear(nn::LinearOptions(5, 2).dtype(kFloat64).generator(&gen)));
  nn::Linear& first = model.at<nn::Linear>(0);
  nn::Linear& second = model.at<nn::Linear>(2);
  std::vector<Tensor> inputs{Tensor::randn({4, 3}, gen, kFloat64), first.weight, first.bias,
                             second.weight, second.bias};
  GradcheckResult result = gradcheck(
      [&](const std::vector<Tensor>& in) {
        first.weight = in[1];
        first.bias = in[2];
        second.weight = in[3];
        second.bias = in[4];
        return model.forward(in[0]);
      },
      inputs);
  EXPECT_TRUE(result.passed) << result.str();
  EXPECT_EQ(result.checked, 4 * 3 + 5 * 3 + 5 + 2 * 5 + 2);
}
