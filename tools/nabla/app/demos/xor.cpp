// The XOR demo: no line separates {(0,1), (1,0)} from {(0,0), (1,1)}, so logistic regression
// cannot classify all four points, while one hidden layer of tanh units bends the boundary and
// can (CS231n lecture 4: "a linear classifier can only draw lines").
#include <cmath>
#include <iomanip>
#include <ostream>

#include "app/demos.h"
#include "app/demos/common.h"
#include "nabla/io/plot.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/init.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/sequential.h"
#include "nabla/ops.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/sgd.h"

namespace nabla::demos {

namespace {

constexpr int64_t kDefaultSteps = 5000;
constexpr int64_t kPrintEvery = 1000;

const std::vector<float> kPoints = {0, 0, 0, 1, 1, 0, 1, 1};
const std::vector<float> kLabels = {0, 1, 1, 0};

// Full-batch training on the four points; records the loss before each step and at the end.
XorDemoResult::Model train(nn::Module& model, optim::Optimizer& optimizer, int64_t steps,
                           const std::string& title, std::ostream& out) {
  Tensor x = Tensor::from_vector(kPoints, {4, 2});
  Tensor y = Tensor::from_vector(kLabels, {4, 1});
  XorDemoResult::Model result;
  out << title << "\n";
  for (int64_t step = 0; step <= steps; ++step) {
    Tensor loss = binary_cross_entropy(model(x), y);
    result.losses.push_back(loss.item());
    if (step % kPrintEvery == 0 || step == steps)
      out << "  step " << std::setw(5) << step << "  loss " << std::fixed << std::setprecision(6)
          << loss.item() << std::defaultfloat << "\n";
    if (step == steps) break;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  NoGradGuard no_grad;
  result.probabilities = model(x).to_vector();
  int correct = 0;
  for (size_t i = 0; i < kLabels.size(); ++i)
    correct += (result.probabilities[i] > 0.5) == (kLabels[i] > 0.5);
  result.accuracy = correct / 4.0;
  out << "  P(class 1) at (0,0) (0,1) (1,0) (1,1):" << std::fixed << std::setprecision(3);
  for (double p : result.probabilities) out << " " << p;
  out << std::defaultfloat << "\n  accuracy " << result.accuracy * 100 << "%\n\n";
  return result;
}

// The model's class (P > 0.5) at every grid point, evaluated as one batch.
io::ClassifyFn classifier(nn::Module& model) {
  return [&model](const std::vector<double>& xs, const std::vector<double>& ys) {
    std::vector<double> grid;
    grid.reserve(xs.size() * 2);
    for (size_t i = 0; i < xs.size(); ++i) grid.insert(grid.end(), {xs[i], ys[i]});
    NoGradGuard no_grad;
    std::vector<double> p =
        model(Tensor::from_vector(grid, {static_cast<int64_t>(xs.size()), 2}, kFloat32))
            .to_vector();
    std::vector<int> cls(p.size());
    for (size_t i = 0; i < p.size(); ++i) cls[i] = p[i] > 0.5;
    return cls;
  };
}

void plot_boundary(const std::string& path, const std::string& title, nn::Module& model) {
  io::DecisionBoundaryPlot plot;
  plot.figure.title = title;
  plot.figure.x_label = "x₁";
  plot.figure.y_label = "x₂";
  plot.x_min = plot.y_min = -0.5;
  plot.x_max = plot.y_max = 1.5;
  plot.class_names = {"XOR = 0", "XOR = 1"};
  for (size_t i = 0; i < kLabels.size(); ++i) {
    plot.points.x.push_back(kPoints[2 * i]);
    plot.points.y.push_back(kPoints[2 * i + 1]);
    plot.points.label.push_back(static_cast<int>(kLabels[i]));
  }
  io::write_decision_boundary_plot(path, plot, classifier(model));
}

std::string percent(double accuracy) {
  return std::to_string(static_cast<int>(std::lround(accuracy * 100))) + "%";
}

}  // namespace

XorDemoResult xor_demo(const DemoOptions& options, std::ostream& out) {
  const int64_t steps = options.steps > 0 ? options.steps : kDefaultSteps;
  Generator gen(options.seed);
  XorDemoResult result;
  out << "XOR: (0,0) -> 0, (0,1) -> 1, (1,0) -> 1, (1,1) -> 0; binary cross-entropy, " << steps
      << " full-batch steps, seed " << options.seed << "\n\n";

  nn::Sequential linear(nn::Linear(2, 1), nn::Sigmoid());
  linear.at<nn::Linear>(0).reset_parameters(gen);  // from the demo's seed, not the global one
  optim::SGD gd(linear.parameters(), optim::SGDOptions(0.5));
  result.linear =
      train(linear, gd, steps,
            "(i) logistic regression: Linear(2, 1) + sigmoid, gradient descent lr 0.5", out);

  nn::Sequential mlp(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1), nn::Sigmoid());
  for (size_t i : {0, 2}) {
    auto& layer = mlp.at<nn::Linear>(i);
    nn::init::xavier_uniform_(layer.weight, gen);
    nn::init::zeros_(layer.bias);
  }
  optim::Adam adam(mlp.parameters(), optim::AdamOptions(0.01).betas({0.9, 0.999}).eps(1e-8));
  result.mlp = train(mlp, adam, steps,
                     "(ii) two-layer net: Linear(2, 8)–Tanh–Linear(8, 1)–Sigmoid, Xavier-uniform "
                     "init, Adam lr 0.01",
                     out);

  out << "the linear model classifies " << percent(result.linear.accuracy)
      << " of the points: no line separates XOR's classes; the hidden layer reaches "
      << percent(result.mlp.accuracy) << ".\n";

  if (!options.out_dir.empty()) {
    std::string linear_png = output_path(options.out_dir, "xor_linear.png");
    plot_boundary(linear_png,
                  "XOR, logistic regression (accuracy " + percent(result.linear.accuracy) + ")",
                  linear);
    std::string mlp_png = output_path(options.out_dir, "xor_mlp.png");
    plot_boundary(mlp_png,
                  "XOR, 2-8-1 tanh network (accuracy " + percent(result.mlp.accuracy) + ")", mlp);

    io::LinePlot curves;
    curves.figure.title = "XOR training loss";
    curves.figure.x_label = "step";
    curves.figure.y_label = "binary cross-entropy";
    curves.log_y = true;
    for (const auto& [name, model] : {std::pair{"logistic regression (GD)", &result.linear},
                                      std::pair{"2-8-1 tanh network (Adam)", &result.mlp}}) {
      io::Series series{name, {}, model->losses};
      for (size_t i = 0; i < model->losses.size(); ++i) series.x.push_back(static_cast<double>(i));
      curves.series.push_back(std::move(series));
    }
    std::string loss_png = output_path(options.out_dir, "xor_loss.png");
    io::write_line_plot(loss_png, curves);
    result.files = {linear_png, mlp_png, loss_png};
    out << "wrote " << linear_png << " " << mlp_png << " " << loss_png << "\n";
  }
  return result;
}

}  // namespace nabla::demos
