// GraphSnapshot and its DOT rendering (see include/nabla/io/dot.h).
#include "nabla/io/dot.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "nabla/autograd.h"

namespace nabla::io {

GraphSnapshot::GraphSnapshot(const Tensor& root) {
  NABLA_CHECK(root.defined(), "GraphSnapshot: the root tensor is undefined");
  if (root.impl().grad_fn)
    NABLA_CHECK(!root.impl().grad_fn->released,
                "GraphSnapshot: the graph of this tensor (made by '", root.grad_fn_name(),
                "') was already released by backward(); take the snapshot before calling "
                "backward()");
  std::unordered_map<const TensorImpl*, int> index;
  auto add = [&](const Tensor& t) {
    index.emplace(&t.impl(), static_cast<int>(nodes_.size()));
    nodes_.push_back({t, "", t.grad_fn_name(), {}});
  };
  // topological_order() skips inputs that do not require grad; each is added just before its
  // first consumer, which keeps the order topological.
  for (const Tensor& t : autograd::topological_order(root)) {
    const auto& node = t.impl().grad_fn;
    std::vector<int> inputs;
    if (node) {
      NABLA_CHECK(!node->released, "GraphSnapshot: part of this graph (op '", op_name(node->op),
                  "') was already released by backward(); take the snapshot before calling "
                  "backward()");
      for (const Tensor& in : node->inputs) {
        if (!in.defined()) continue;
        if (!index.contains(&in.impl())) add(in);
        inputs.push_back(index.at(&in.impl()));
      }
    }
    add(t);
    nodes_.back().inputs = std::move(inputs);
  }
}

GraphSnapshot& GraphSnapshot::label(const Tensor& t, std::string name) {
  int i = find(t);
  NABLA_CHECK(i >= 0, "GraphSnapshot::label: tensor of shape ", t.shape(), " named '", name,
              "' is not part of this graph");
  nodes_[i].label = std::move(name);
  return *this;
}

int GraphSnapshot::find(const Tensor& t) const {
  if (!t.defined()) return -1;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (&nodes_[i].tensor.impl() == &t.impl()) return static_cast<int>(i);
  return -1;
}

namespace {

// Characters with a meaning inside a Graphviz record label.
std::string escape_record(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '{' || c == '}' || c == '|' || c == '<' || c == '>' || c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

std::string format_number(double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

// A scalar as a number, a small tensor as its values, anything bigger as its shape.
std::string describe(const Tensor& t, const DotOptions& options) {
  if (t.numel() == 1) return format_number(t.item(), options.precision);
  std::ostringstream out;
  if (t.numel() <= options.max_values) {
    out << '[';
    std::vector<double> values = t.to_vector();
    for (size_t i = 0; i < values.size(); ++i)
      out << (i ? ", " : "") << format_number(values[i], options.precision);
    out << "] " << t.shape();
  } else {
    out << "shape " << t.shape();
  }
  return out.str();
}

}  // namespace

std::string to_dot(const GraphSnapshot& graph, const DotOptions& options) {
  std::ostringstream dot;
  dot << "digraph autograd {\n"
      << "  rankdir=" << options.rankdir << ";\n"
      << "  node [fontname=\"DejaVu Sans\", fontsize=11];\n";
  const auto& nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    std::string fields;
    if (!n.label.empty()) fields += escape_record(n.label) + " | ";
    fields += "data " + escape_record(describe(n.tensor, options));
    Tensor grad = n.tensor.grad();
    if (grad.defined()) fields += " | grad " + escape_record(describe(grad, options));
    // Parameters (leaves that require grad) are shaded, as the things an optimizer updates.
    bool parameter = n.op.empty() && n.tensor.requires_grad();
    dot << "  t" << i << " [shape=record, label=\"{ " << fields << " }\""
        << (parameter ? ", style=filled, fillcolor=\"#dce9f5\"" : "") << "];\n";
    if (n.op.empty()) continue;
    dot << "  op" << i << " [label=\"" << n.op << "\", shape=ellipse];\n";
    dot << "  op" << i << " -> t" << i << ";\n";
    for (int in : n.inputs) dot << "  t" << in << " -> op" << i << ";\n";
  }
  dot << "}\n";
  return dot.str();
}

void write_dot(const GraphSnapshot& graph, const std::string& path, const DotOptions& options) {
  std::ofstream file(path);
  NABLA_CHECK(file.good(), "write_dot: cannot open '", path, "' for writing");
  file << to_dot(graph, options);
  file.close();
  NABLA_CHECK(file.good(), "write_dot: writing '", path, "' failed");
}

}  // namespace nabla::io
