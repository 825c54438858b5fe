// torch.nn.init in nabla: fills in place from an explicit Generator. See init.h for formulas.
#include "nabla/nn/init.h"

#include <cmath>

#include "nabla/autograd.h"

namespace nabla::nn {

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

namespace init {

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Sigmoid:
      return 1.0;
    case Nonlinearity::Tanh:
      return 5.0 / 3.0;
    case Nonlinearity::ReLU:
      return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU:
      return std::sqrt(2.0 / (1.0 + param * param));
  }
  NABLA_ASSERT(false);
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Shape& shape) {
  NABLA_CHECK(shape.size() >= 2, "init: fan in and fan out need a tensor of at least 2 dims, got ",
              shape);
  int64_t receptive = 1;
  for (int d = 2; d < shape.size(); ++d) receptive *= shape[d];
  return {shape[1] * receptive, shape[0] * receptive};
}

namespace {
double kaiming_std(const Tensor& tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor.shape());
  int64_t fan = mode == FanMode::FanIn ? fan_in : fan_out;
  NABLA_CHECK(fan > 0, "kaiming init: tensor ", tensor.shape(), " has a zero fan");
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}

double xavier_std(const Tensor& tensor, double gain) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor.shape());
  NABLA_CHECK(fan_in + fan_out > 0, "xavier init: tensor ", tensor.shape(), " has zero fans");
  return gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
}
}  // namespace

Tensor uniform_(Tensor tensor, Generator& gen, double lo, double hi) {
  NoGradGuard no_grad;
  tensor.copy_(Tensor::uniform(tensor.shape(), lo, hi, gen, tensor.dtype()));
  return tensor;
}

Tensor normal_(Tensor tensor, Generator& gen, double mean, double std) {
  NoGradGuard no_grad;
  tensor.copy_(Tensor::normal(tensor.shape(), mean, std, gen, tensor.dtype()));
  return tensor;
}

Tensor constant_(Tensor tensor, double value) {
  NoGradGuard no_grad;
  tensor.fill_(value);
  return tensor;
}

Tensor zeros_(Tensor tensor) {
  return constant_(std::move(tensor), 0.0);
}

Tensor xavier_uniform_(Tensor tensor, Generator& gen, double gain) {
  double bound = std::sqrt(3.0) * xavier_std(tensor, gain);
  return uniform_(std::move(tensor), gen, -bound, bound);
}

Tensor xavier_normal_(Tensor tensor, Generator& gen, double gain) {
  return normal_(tensor, gen, 0.0, xavier_std(tensor, gain));
}

Tensor kaiming_uniform_(Tensor tensor, Generator& gen, double a, FanMode mode,
                        Nonlinearity nonlinearity) {
  double bound = std::sqrt(3.0) * kaiming_std(tensor, a, mode, nonlinearity);
  return uniform_(std::move(tensor), gen, -bound, bound);
}

Tensor kaiming_normal_(Tensor tensor, Generator& gen, double a, FanMode mode,
                       Nonlinearity nonlinearity) {
  return normal_(tensor, gen, 0.0, kaiming_std(tensor, a, mode, nonlinearity));
}

}  // namespace init
}  // namespace nabla::nn
