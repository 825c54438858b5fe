// Training diagnostics (train/diagnostics.h): Sequential's forward hooks, statistics against a
// computation by hand, the lecture's tanh initialisation experiment, the NaN/Inf guards with
// their messages, and what `nabla train --diagnostics` writes.
#include "nabla/train/diagnostics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/run.h"
#include "nabla/io/image.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/flatten.h"
#include "nabla/nn/init.h"
#include "nabla/nn/linear.h"
#include "nabla/ops.h"
#include "nabla/optim/sgd.h"
#include "test_util.h"
#include "train/fake_run_fixture.h"

namespace nabla::train {
namespace {

using nabla::testing::TempDir;

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// ---- Sequential forward hooks ----

TEST(SequentialForwardHooks, SeeEveryChildAndEachFusedPairOnceUnderTheReluName) {
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 2, 3).padding(1)), nn::ReLU(), nn::Flatten(),
                       nn::Linear(2 * 4 * 4, 3), nn::ReLU());
  std::vector<std::string> seen;
  std::vector<Shape> shapes;
  const int id = model.add_forward_hook(
      [&](const std::string& name, const nn::Module& child, const Tensor& out) {
        seen.push_back(name + "." + child.name());
        shapes.push_back(out.shape());
      });
  const Tensor x = Tensor::ones({2, 1, 4, 4});
  const Tensor y = model.forward(x);
  EXPECT_EQ(seen, (std::vector<std::string>{"1.ReLU", "2.Flatten", "4.ReLU"}));
  EXPECT_EQ(shapes[0], Shape({2, 2, 4, 4}));
  EXPECT_EQ(shapes.back(), y.shape());
  EXPECT_EQ(model.num_forward_hooks(), 1u);
  model.remove_forward_hook(id);
  seen.clear();
  model.forward(x);
  EXPECT_TRUE(seen.empty());
  EXPECT_NE(message_of([&] { model.remove_forward_hook(id); }).find("no hook with id"),
            std::string::npos);
}

// ---- statistics by hand ----

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double std_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}
double norm_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

TEST(DiagnosticsTest, StatisticsAndUpdateRatiosMatchAComputationByHand) {
  nn::Sequential model(nn::Linear(4, 3), nn::Tanh(), nn::Linear(3, 2));
  const int64_t N = 5;
  std::vector<double> xs;
  for (int i = 0; i < N * 4; ++i) xs.push_back(std::sin(0.7 * i) * 1.5);
  const Tensor x = Tensor::from_vector(xs, {N, 4}, kFloat32);
  const std::vector<int64_t> labels = {0, 1, 1, 0, 1};
  const double lr = 0.1;
  optim::SGD opt(model.parameters(), optim::SGDOptions(lr));
  Diagnostics diag(model, DiagnosticsOptions().every(1));

  // The forward and backward by hand, in double, from the same weights.
  const std::vector<double> W0 = model.at<nn::Linear>(0).weight.to_vector();
  const std::vector<double> b0 = model.at<nn::Linear>(0).bias.to_vector();
  const std::vector<double> W2 = model.at<nn::Linear>(2).weight.to_vector();
  const std::vector<double> b2 = model.at<nn::Linear>(2).bias.to_vector();
  std::vector<double> h(N * 3), a(N * 3), z(N * 2), dz(N * 2), da(N * 3), dh(N * 3);
  for (int n = 0; n < N; ++n) {
    for (int j = 0; j < 3; ++j) {
      double s = b0[j];
      for (int k = 0; k < 4; ++k) s += xs[n * 4 + k] * W0[j * 4 + k];
      h[n * 3 + j] = s;
      a[n * 3 + j] = std::tanh(s);
    }
    double m = -1e300;
    for (int c = 0; c < 2; ++c) {
      double s = b2[c];
      for (int j = 0; j < 3; ++j) s += a[n * 3 + j] * W2[c * 3 + j];
      z[n * 2 + c] = s;
      m = std::max(m, s);
    }
    const double e0 = std::exp(z[n * 2] - m), e1 = std::exp(z[n * 2 + 1] - m);
    for (int c = 0; c < 2; ++c)
      dz[n * 2 + c] = ((c == 0 ? e0 : e1) / (e0 + e1) - (labels[n] == c ? 1 : 0)) / N;
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int c = 0; c < 2; ++c) s += dz[n * 2 + c] * W2[c * 3 + j];
      da[n * 3 + j] = s;
      dh[n * 3 + j] = s * (1 - a[n * 3 + j] * a[n * 3 + j]);
    }
  }
  std::vector<double> gW0(12, 0.0);
  for (int n = 0; n < N; ++n)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) gW0[j * 4 + k] += dh[n * 3 + j] * xs[n * 4 + k];

  // One step through the hooks, as the Trainer calls them.
  opt.zero_grad();
  const Tensor logits = model.forward(x);
  const Tensor loss = cross_entropy(logits, labels);
  loss.backward();
  const StepInfo info{0, 0, 0, loss.item(), 0, nullptr, &logits};
  diag.after_backward(info);
  opt.step();
  diag.after_step(info);

  ASSERT_EQ(diag.records().size(), 1u);
  const DiagnosticsRecord& r = diag.records()[0];
  ASSERT_EQ(r.layers.size(), 3u);
  EXPECT_EQ(r.layers[0].name, "0.Linear");
  EXPECT_EQ(r.layers[1].name, "1.Tanh");
  EXPECT_EQ(r.layers[2].name, "2.Linear");
  const double tol = 2e-6;
  EXPECT_NEAR(r.layers[0].activation.mean, mean_of(h), tol);
  EXPECT_NEAR(r.layers[0].activation.std, std_of(h), tol);
  EXPECT_NEAR(r.layers[1].activation.std, std_of(a), tol);
  EXPECT_NEAR(r.layers[2].activation.mean, mean_of(z), tol);
  EXPECT_NEAR(r.layers[0].gradient.mean, mean_of(dh), 1e-7);
  EXPECT_NEAR(r.layers[0].gradient.std, std_of(dh), 1e-7);
  EXPECT_NEAR(r.layers[1].gradient.std, std_of(da), 1e-7);
  EXPECT_NEAR(r.layers[2].gradient.std, std_of(dz), 1e-7);

  ASSERT_EQ(r.parameters.size(), 4u);
  EXPECT_EQ(r.parameters[0].name, "0.Linear.weight");
  EXPECT_EQ(r.parameters[3].name, "2.Linear.bias");
  EXPECT_NEAR(r.parameters[0].value.std, std_of(W0), tol);
  EXPECT_NEAR(r.parameters[0].gradient.mean, mean_of(gW0), 1e-7);
  EXPECT_NEAR(r.parameters[0].gradient.std, std_of(gW0), 1e-7);
  // Plain SGD: Δw = −lr·g, so the ratio is lr·‖g‖/‖w‖.
  EXPECT_NEAR(r.parameters[0].update_ratio, lr * norm_of(gW0) / norm_of(W0), 1e-6);
}

TEST(DiagnosticsTest, RecordsEveryKthStepOnlyAndIgnoresEvaluation) {
  nn::Sequential model(nn::Linear(3, 2));
  optim::SGD opt(model.parameters(), optim::SGDOptions(0.1));
  Diagnostics diag(model, DiagnosticsOptions().every(3));
  const Tensor x = Tensor::ones({2, 3});
  for (int64_t step = 0; step < 7; ++step) {
    opt.zero_grad();
    const Tensor logits = model.forward(x);
    const Tensor loss = cross_entropy(logits, {0, 1});
    loss.backward();
    const StepInfo info{0, step, step, loss.item(), 0, nullptr, &logits};
    diag.after_backward(info);
    opt.step();
    diag.after_step(info);
    NoGradGuard no_grad;  // a validation pass in between records nothing
    model.forward(x);
  }
  ASSERT_EQ(diag.records().size(), 3u);
  EXPECT_EQ(diag.records()[1].step, 3);
  EXPECT_EQ(diag.records()[2].step, 6);
  EXPECT_EQ(diag.records()[2].layers.size(), 1u);
  // The library names its option field (the CLI checks --diagnostics-every before).
  EXPECT_EQ(
      nabla::testing::error_message([&] { Diagnostics(model, DiagnosticsOptions().every(0)); }),
      "DiagnosticsOptions::every must be >= 1, got 0");
}

// CS231n lecture 6: ten tanh layers fed unit Gaussians. Weights of std 0.01 shrink every layer's
// output towards 0 (and the gradients with them); std 1.0 saturates tanh at ±1. Same command as
// docs/training.md's figure, smaller.
TEST(DiagnosticsTest, TanhInitialisationTooSmallCollapsesAndTooLargeSaturates) {
  TempDir dir;
  const int64_t width = 256, depth = 6;
  const auto activations = [&](double init_std, const std::string& png) {
    nn::Sequential model;
    Generator gen(7);
    for (int64_t i = 0; i < depth; ++i) {
      auto fc = std::make_shared<nn::Linear>(width, width);
      nn::init::normal_(fc->weight, gen, 0, init_std);
      nn::init::zeros_(fc->bias);
      model.push_back(fc);
      model.push_back(nn::Tanh());
    }
    Diagnostics diag(model);
    model.forward(Tensor::randn({200, width}, gen));
    const auto written = diag.write_plots(dir.file(png));
    EXPECT_EQ(written, std::vector<std::string>{"diagnostics_init_histograms.png"});
    return diag.initial_activations();
  };
  std::filesystem::create_directories(dir.file("small"));
  std::filesystem::create_directories(dir.file("large"));
  const auto small = activations(0.01, "small");
  const auto large = activations(1.0, "large");
  ASSERT_EQ(small.size(), static_cast<size_t>(2 * depth));
  EXPECT_EQ(small[1].first, "1.Tanh");
  // Each layer multiplies the std by about 0.01·√256 = 0.16: the last tanh is ~1e-5.
  EXPECT_LT(std_of(small.back().second), 1e-4);
  EXPECT_GT(std_of(small[1].second), 0.1);
  // With std 1 the pre-activations have std ~16: nearly every tanh output is at ±1.
  int64_t saturated = 0;
  for (double v : large.back().second) saturated += std::abs(v) > 0.99;
  EXPECT_GT(static_cast<double>(saturated) / static_cast<double>(large.back().second.size()), 0.8);
  const io::Image png = io::read_png(dir.file("large/diagnostics_init_histograms.png"));
  EXPECT_EQ(png.width, 4 * 320) << "4 panels per row";
  EXPECT_GT(png.height, 3 * 240) << "12 panels: 3 rows and the title";
}

// ---- non-finite values ----

TEST(DiagnosticsTest, GradientGuardNamesTheParameterAndTheStep) {
  nn::Sequential model(nn::Linear(2, 2), nn::ReLU(), nn::Linear(2, 2));
  GradientGuard guard(model);
  const StepInfo info{0, 36, 36, 1.0, 0, nullptr, nullptr};
  guard.check(info);  // no gradients yet: nothing to check
  for (Tensor p : model.parameters()) p.set_grad(Tensor::zeros(p.shape()));
  guard.check(info);
  Tensor g = Tensor::zeros({2, 2});
  g.data<float>()[3] = std::nanf("");
  model.at<nn::Linear>(2).weight.set_grad(g);
  EXPECT_EQ(message_of([&] { guard.check(info); }),
            "train: gradient of 2.Linear.weight became NaN at epoch 1, batch 37 (step 36)");
  g.data<float>()[3] = -INFINITY;
  EXPECT_NE(message_of([&] { guard.check(info); }).find("became -Inf"), std::string::npos);
}

TEST(DiagnosticsTest, ANonFiniteActivationStopsTheForwardNamingTheLayerAndPosition) {
  nn::Sequential model(nn::Linear(2, 3), nn::Tanh(), nn::Linear(3, 2));
  Diagnostics diag(model);
  model.at<nn::Linear>(2).weight.data<float>()[0] = INFINITY;
  const Tensor x = Tensor::ones({4, 2});
  // The step after 849 is the one whose forward fails.
  diag.after_step(StepInfo{1, 5, 849, 0, 0, nullptr, nullptr});
  const std::string m = message_of([&] { model.forward(x); });
  EXPECT_NE(m.find("train: output of 2.Linear became "), std::string::npos) << m;
  EXPECT_NE(m.find("(step 850)"), std::string::npos) << m;
  {
    NoGradGuard no_grad;  // evaluation is not checked: the Trainer's loss check covers it
    EXPECT_NO_THROW(model.forward(x));
  }
}

TEST(DiagnosticsTest, FirstNonFiniteAndTensorStats) {
  EXPECT_EQ(first_non_finite(Tensor::from_vector(std::vector<float>{1, 2, 3})), "");
  EXPECT_EQ(first_non_finite(Tensor::from_vector(std::vector<double>{1, INFINITY, NAN})), "Inf");
  EXPECT_EQ(first_non_finite(Tensor::from_vector(std::vector<float>{1, NAN, -INFINITY})), "NaN");
  const TensorStats s = tensor_stats(Tensor::from_vector(std::vector<float>{1, 2, 3, 6}));
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(3.5));
  EXPECT_TRUE(std::isnan(tensor_stats(Tensor()).mean));
}

// ---- nabla train --diagnostics ----

class DiagnosticsRunTest : public nabla::testing::FakeFashionMnistTest {
 protected:
  DiagnosticsRunTest() : FakeFashionMnistTest(300, 60) {}
  app::RunOptions small(const std::string& out, int64_t epochs) const {
    app::RunOptions o = run_options(out, epochs);
    o.model = "lenet5";
    o.batch_size = 32;
    o.optimizer = "sgd";
    o.lr = 0.05;
    o.momentum = 0.9;
    o.train_subset = 200;
    o.test_subset = 60;
    return o;
  }
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

TEST_F(DiagnosticsRunTest, WritesTheCsvAndThePlotsAndResumingContinuesTheFile) {
  app::RunOptions o = small("run", 1);
  o.diagnostics = true;
  o.diagnostics_every = 2;
  app::run_training(o, log);
  // 160 training images in batches of 32: 5 steps, recorded at 0, 2, 4. lenet5 reports 8 of its
  // 12 layers (its two Conv2d+ReLU and two Linear+ReLU pairs run fused) and 10 parameters.
  const auto lines = lines_of(dir.file("run/diagnostics.csv"));
  ASSERT_EQ(lines.size(), 1u + 3 * (8 + 10));
  EXPECT_EQ(lines[0], "step,epoch,batch,name,kind,mean,std,grad_mean,grad_std,update_ratio");
  EXPECT_EQ(lines[1].rfind("0,1,1,1.ReLU,layer,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[9].rfind("0,1,1,0.Conv2d.weight,parameter,", 0), 0u) << lines[9];
  for (const char* png : {"diagnostics_init_histograms.png", "diagnostics_update_ratio.png",
                          "diagnostics_activation_std.png", "diagnostics_gradient_std.png"})
    EXPECT_GT(io::read_png(dir.file(std::string("run/") + png)).width, 100) << png;

  app::ResumeOptions r;
  r.epochs = 2;
  r.threads = 1;
  app::resume_training(dir.file("run"), r, log);
  const auto resumed = lines_of(dir.file("run/diagnostics.csv"));
  ASSERT_EQ(resumed.size(), 1u + 5 * (8 + 10)) << "steps 0, 2, 4 kept; 6, 8 added";
  EXPECT_EQ(std::vector<std::string>(resumed.begin(), resumed.begin() + 55), lines);
  EXPECT_EQ(resumed[55].rfind("6,2,2,1.ReLU,layer,", 0), 0u) << resumed[55];
}

// A learning rate that grows a million-fold per epoch: epoch 1 trains, epoch 2 diverges. The
// guard names the layer and the step, and OUT/last from epoch 1 still loads.
TEST_F(DiagnosticsRunTest, AHugeLearningRateStopsNamingTheLayerAndKeepsTheLastCheckpoint) {
  for (const bool diagnostics : {true, false}) {
    app::RunOptions o = small(diagnostics ? "diverged_diag" : "diverged", 3);
    o.model = "mlp";
    o.lr_schedule = "exponential";
    o.lr_gamma = 1e8;
    o.diagnostics = diagnostics;
    const std::string m = message_of([&] { app::run_training(o, log); });
    SCOPED_TRACE(m);
    EXPECT_EQ(m.rfind("train: ", 0), 0u);
    EXPECT_NE(m.find("epoch 2, batch "), std::string::npos);
    // With --diagnostics every forward is checked; without, the loss check fires first and the
    // failing batch is run again to find the layer.
    EXPECT_NE(
        m.find(diagnostics ? "train: output of " : "the first layer output that is not finite: "),
        std::string::npos);
    // The mlp's Linear + ReLU pairs run fused and report under the ReLU's name.
    EXPECT_NE(m.find(".ReLU"), std::string::npos) << "names the layer";
    EXPECT_NE(m.find("the last good checkpoint, " + o.out_dir +
                     "/last (1 epoch, 5 steps done), "
                     "is kept"),
              std::string::npos);
    const app::TrainedModel last = app::load_trained_model(o.out_dir + "/last");
    EXPECT_EQ(last.epoch, 1);
    for (const Tensor& p : last.model->parameters())
      EXPECT_EQ(first_non_finite(p), "") << "the kept weights are finite";
  }
}

}  // namespace
}  // namespace nabla::train
