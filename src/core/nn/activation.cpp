// Activation modules: each forwards to its op in src/ops/activation.cpp.
#include "nabla/nn/activation.h"

#include <sstream>

#include "nabla/ops.h"

namespace nabla::nn {

namespace {
// Formats a double as PyTorch prints module options: 0.01, 1.0, 0.2.
std::string number(double value) {
  std::ostringstream out;
  out << value;
  std::string s = out.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

Tensor ReLU::forward(const Tensor& input) {
  return relu(input);
}
Tensor Sigmoid::forward(const Tensor& input) {
  return sigmoid(input);
}
Tensor Tanh::forward(const Tensor& input) {
  return tanh(input);
}

Tensor LeakyReLU::forward(const Tensor& input) {
  return leaky_relu(input, options.negative_slope());
}
std::string LeakyReLU::extra_repr() const {
  return "negative_slope=" + number(options.negative_slope());
}

Tensor ELU::forward(const Tensor& input) {
  return elu(input, options.alpha());
}
std::string ELU::extra_repr() const {
  return "alpha=" + number(options.alpha());
}

Tensor Softmax::forward(const Tensor& input) {
  return softmax(input, options.dim());
}
std::string Softmax::extra_repr() const {
  return "dim=" + std::to_string(options.dim());
}

Tensor LogSoftmax::forward(const Tensor& input) {
  return log_softmax(input, options.dim());
}
std::string LogSoftmax::extra_repr() const {
  return "dim=" + std::to_string(options.dim());
}

Tensor Maxout::forward(const Tensor& input) {
  return maxout(input, options.pieces(), options.dim());
}
std::string Maxout::extra_repr() const {
  return "pieces=" + std::to_string(options.pieces()) + ", dim=" + std::to_string(options.dim());
}

}  // namespace nabla::nn
