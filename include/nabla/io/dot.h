// Drawing the autograd graph as Graphviz DOT, micrograd-style: one box per tensor (its label,
// value and gradient) and one ellipse per op, edges running from inputs to outputs.
//
// backward() releases the graph as it goes, so the graph is captured first, into a
// GraphSnapshot, and drawn afterwards. The snapshot holds tensor handles, not copies: the drawing
// shows the values and gradients the tensors have when to_dot() runs, so a snapshot taken before
// backward() shows the gradients of leaves and retain_grad() tensors once backward() has run.
//
//   Tensor loss = ...;
//   io::GraphSnapshot graph(loss);        // before backward
//   graph.label(a, "a").label(loss, "L");
//   loss.backward();
//   io::write_dot(graph, "graph.dot");    // `dot -Tpng graph.dot -o graph.png` renders it
//
// Not a renderer: turning DOT into an image is Graphviz's job.
#pragma once

#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::io {

class GraphSnapshot {
 public:
  struct Node {
    Tensor tensor;            // a handle: read for the value and .grad() at drawing time
    std::string label;        // set with label(); empty means unnamed
    std::string op;           // the op that made this tensor; empty for a leaf
    std::vector<int> inputs;  // indices into nodes(), in the op's argument order
  };

  // Captures every tensor the graph of `root` reaches, including inputs that do not require
  // grad (constants), which backward never visits but a reader wants to see.
  // requires: root's graph has not been released by a backward() without retain_graph.
  explicit GraphSnapshot(const Tensor& root);

  // Names `t` in the drawing. requires: t is in the graph (throws nabla::Error otherwise).
  GraphSnapshot& label(const Tensor& t, std::string name);

  // Topological order: every node after its inputs; the root is last.
  const std::vector<Node>& nodes() const { return nodes_; }
  const Node& root() const { return nodes_.back(); }
  // Index of `t` in nodes(), or -1.
  int find(const Tensor& t) const;

 private:
  std::vector<Node> nodes_;
};

struct DotOptions {
  int max_values = 6;          // print tensors with at most this many elements in full
  int precision = 4;           // digits after the point
  std::string rankdir = "LR";  // Graphviz layout direction: LR draws inputs on the left
};

std::string to_dot(const GraphSnapshot& graph, const DotOptions& options = {});
// Writes to_dot() to `path`; throws nabla::Error naming the path if it cannot be written.
void write_dot(const GraphSnapshot& graph, const std::string& path, const DotOptions& options = {});

}  // namespace nabla::io
