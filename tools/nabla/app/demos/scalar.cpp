// The scalar demo: backprop by hand on f = (a·x + b·y)·c·z, as in CS231n lecture 4 and
// micrograd. Every intermediate keeps its gradient (retain_grad) so that the backward pass can
// be printed node by node, and the graph is captured before backward() to be drawn afterwards.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <limits>
#include <ostream>

#include "app/demos.h"
#include "app/demos/common.h"
#include "nabla/io/dot.h"
#include "nabla/ops.h"

namespace nabla::demos {

namespace {

Tensor constant(double v) {
  return Tensor::scalar(v, kFloat64);
}
Tensor parameter(double v) {
  return Tensor::scalar(v, kFloat64).requires_grad_();
}

// Graphviz is optional: render the DOT file to PNG only when `dot` is installed.
bool render_with_graphviz(const std::string& dot_path, const std::string& png_path) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) return false;
  std::string command = "dot -Tpng '" + dot_path + "' -o '" + png_path + "' 2>/dev/null";
  return std::system(command.c_str()) == 0;
}

}  // namespace

ScalarDemoResult scalar_demo(const DemoOptions& options, std::ostream& out) {
  Tensor x = constant(1), y = constant(2), z = constant(1), target = constant(15);
  Tensor a = parameter(2), b = parameter(5), c = parameter(1);

  Tensor ax = a * x;
  Tensor by = b * y;
  Tensor s = ax + by;
  Tensor sc = s * c;
  Tensor f = sc * z;
  Tensor diff = f - target;
  Tensor loss = abs(diff);

  io::GraphSnapshot graph(loss);
  const std::pair<Tensor, const char*> names[] = {{x, "x"},
                                                  {y, "y"},
                                                  {z, "z"},
                                                  {target, "target"},
                                                  {a, "a"},
                                                  {b, "b"},
                                                  {c, "c"},
                                                  {ax, "a·x"},
                                                  {by, "b·y"},
                                                  {s, "a·x + b·y"},
                                                  {sc, "(a·x + b·y)·c"},
                                                  {f, "f = (a·x + b·y)·c·z"},
                                                  {diff, "f − target"},
                                                  {loss, "L = |f − target|"}};
  for (const auto& [t, name] : names) graph.label(t, name);
  for (Tensor t : {ax, by, s, sc, f, diff, loss}) t.retain_grad();

  out << "f(x, y, z) = (a·x + b·y)·c·z, loss L = |f − target|\n"
      << "parameters a = 2, b = 5, c = 1; inputs x = 1, y = 2, z = 1; target = 15\n\n"
      << "forward pass (inputs first):\n";
  out << std::fixed << std::setprecision(4);
  for (const auto& node : graph.nodes())
    out << "  " << pad(node.label, 22) << " = " << std::setw(9) << node.tensor.item()
        << (node.op.empty() ? (node.tensor.requires_grad() ? "   (parameter)" : "   (constant)")
                            : "   (" + node.op + ")")
        << "\n";

  loss.backward();

  out << "\nbackward pass (output first):\n";
  ScalarDemoResult result;
  const auto& nodes = graph.nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    Tensor grad = it->tensor.grad();
    if (!grad.defined()) continue;  // constants get no gradient
    out << "  " << pad("dL/d(" + it->label + ")", 28) << " = " << std::setw(9) << grad.item()
        << "\n";
  }
  for (const auto& node : nodes) {
    Tensor grad = node.tensor.grad();
    result.nodes.push_back(
        {node.label, node.tensor.item(),
         grad.defined() ? grad.item() : std::numeric_limits<double>::quiet_NaN()});
  }
  result.prediction = f.item();
  result.loss = loss.item();
  result.grad_a = a.grad().item();
  result.grad_b = b.grad().item();
  result.grad_c = c.grad().item();
  out << "\nprediction f = " << result.prediction << ", loss L = " << result.loss
      << "\ndL/da = " << result.grad_a << ", dL/db = " << result.grad_b
      << ", dL/dc = " << result.grad_c
      << "\n(gradient descent would move a, b and c up, towards f = 15)\n";
  out << std::defaultfloat;

  std::string dot_path = output_path(options.out_dir, "scalar_graph.dot");
  if (!dot_path.empty()) {
    io::write_dot(graph, dot_path);
    result.files.push_back(dot_path);
    std::string png_path = output_path(options.out_dir, "scalar_graph.png");
    const bool rendered = render_with_graphviz(dot_path, png_path);
    if (rendered) result.files.push_back(png_path);
    out << "\nwrote";
    for (const auto& file : result.files) out << " " << file;
    out << "\n";
    if (!rendered)
      out << "(no PNG of the graph: Graphviz's `dot` is not installed; `apt install graphviz`, "
             "which scripts/test.sh installs, gives "
          << png_path << " too)\n";
  }
  return result;
}

}  // namespace nabla::demos
