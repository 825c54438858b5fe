// The worked examples behind `nabla demo`: CS231n lecture 4's backprop on a scalar expression,
// the gradient of a matrix expression checked three ways, and XOR, which a linear classifier
// cannot learn and a two-layer net can.
//
// Each demo prints its story to `out` and returns its numbers as a struct, so tests check the
// numbers without reading the text. Files (graphs, plots) go to options.out_dir; an empty
// out_dir writes none.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "nabla/gradcheck.h"
#include "nabla/tensor.h"

namespace nabla::demos {

struct DemoOptions {
  std::string out_dir{};  // directory for files (must exist); empty: write no files
  uint64_t seed = 0;      // for random values and initialisation
  int64_t steps = 0;      // training steps; 0 means the demo's default
};

// f(x, y, z) = (a·x + b·y)·c·z with parameters a = 2, b = 5, c = 1 at x = 1, y = 2, z = 1;
// loss L = |f − 15|. Writes scalar_graph.dot (and scalar_graph.png when Graphviz's `dot` is on
// PATH).
struct ScalarDemoResult {
  double prediction = 0, loss = 0;
  double grad_a = 0, grad_b = 0, grad_c = 0;
  // Every node of the graph, inputs first: its name, value and gradient (NaN for a constant,
  // which gets none).
  struct NodeValue {
    std::string name;
    double value = 0;
    double grad = 0;
  };
  std::vector<NodeValue> nodes;
  std::vector<std::string> files;  // written, in order
};
ScalarDemoResult scalar_demo(const DemoOptions& options, std::ostream& out);

// f(W, x) = ‖W·x‖² for random W (3, 4) and x (4, 1): the gradients from the formulas
// dW = 2(Wx)xᵀ and dx = 2Wᵀ(Wx), from autograd, and from central differences.
struct MatrixDemoResult {
  Tensor w, x;
  Tensor formula_dw, formula_dx;    // by hand
  Tensor autograd_dw, autograd_dx;  // backward()
  Tensor numeric_dw, numeric_dx;    // central differences
  double max_rel_error_formula_vs_autograd = 0;
  double max_rel_error_formula_vs_numeric = 0;
  GradcheckResult gradcheck;  // nabla::gradcheck of f at (W, x)
};
MatrixDemoResult matrix_demo(const DemoOptions& options, std::ostream& out);

// XOR: logistic regression (Linear(2, 1) + sigmoid, plain gradient descent) against
// Linear(2, 8)–Tanh–Linear(8, 1)–Sigmoid trained with Adam, both on binary cross-entropy over
// the four points (default 5000 full-batch steps). Writes xor_linear.png and xor_mlp.png
// (decision boundaries) and xor_loss.png (both loss curves).
struct XorDemoResult {
  struct Model {
    std::vector<double> probabilities;  // P(class 1) at the four points
    double accuracy = 0;                // fraction of the four classified right
    std::vector<double> losses;         // loss before each step, then the final loss
  };
  Model linear, mlp;
  std::vector<std::string> files;
};
XorDemoResult xor_demo(const DemoOptions& options, std::ostream& out);

// The demos by name, for the CLI: "scalar", "matrix", "xor".
const std::vector<std::string>& demo_names();

}  // namespace nabla::demos
