// Backprop on one expression, drawn: f = (a·x + b·y)·c·z, loss |f − 15|, as in CS231n lecture 4.
// Writes scalar_graph.dot; render it with `dot -Tpng scalar_graph.dot -o scalar_graph.png`.
#include <iostream>

#include "nabla/io/dot.h"
#include "nabla/nabla.h"

int main() {
  using namespace nabla;
  Tensor a = Tensor::scalar(2.0, kFloat64).requires_grad_();
  Tensor b = Tensor::scalar(5.0, kFloat64).requires_grad_();
  Tensor c = Tensor::scalar(1.0, kFloat64).requires_grad_();
  Tensor x = Tensor::scalar(1.0, kFloat64), y = Tensor::scalar(2.0, kFloat64);
  Tensor z = Tensor::scalar(1.0, kFloat64), target = Tensor::scalar(15.0, kFloat64);

  Tensor s = a * x + b * y;
  Tensor f = s * c * z;
  Tensor loss = abs(f - target);
  s.retain_grad();  // keep the gradient of an intermediate, to see it in the drawing
  f.retain_grad();

  io::GraphSnapshot graph(loss);  // before backward(), which frees the graph
  graph.label(a, "a").label(b, "b").label(c, "c").label(x, "x").label(y, "y").label(z, "z");
  graph.label(s, "a·x + b·y").label(f, "f").label(target, "target").label(loss, "loss");
  loss.backward();

  std::cout << "f = " << f.item() << ", loss = " << loss.item() << "\n"
            << "dL/da = " << a.grad().item() << ", dL/db = " << b.grad().item()
            << ", dL/dc = " << c.grad().item() << "\n";
  io::write_dot(graph, "scalar_graph.dot");
  std::cout << "wrote scalar_graph.dot\n";
}
