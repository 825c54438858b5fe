// Parameter initialisation, as torch.nn.init: every function fills `tensor` in place (no
// autograd), draws from the given Generator, and returns the tensor.
//
// Fans of a weight of shape (out, in, k...) are fan_in = in·∏k and fan_out = out·∏k.
//   xavier (Glorot & Bengio 2010):  std = gain·√(2 / (fan_in + fan_out))
//   kaiming (He et al. 2015):       std = gain / √fan,  gain = calculate_gain(nonlinearity, a)
// The uniform variants draw from U(±√3·std), which has that std.
#pragma once

#include <cstdint>
#include <utility>

#include "nabla/random.h"
#include "nabla/tensor.h"

namespace nabla::nn {

// The generator modules draw their initial values from when their options name none. Seeded
// with 0 at startup, so a program that builds the same model twice gets the same numbers;
// default_generator().seed(s) reseeds it.
Generator& default_generator();

namespace init {

enum class Nonlinearity { Linear, Sigmoid, Tanh, ReLU, LeakyReLU };
enum class FanMode { FanIn, FanOut };

// PyTorch's calculate_gain: 1 for linear and sigmoid, 5/3 for tanh, √2 for relu and
// √(2 / (1 + slope²)) for leaky_relu with negative slope `param`.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);
// {fan_in, fan_out} of a weight shape; requires at least 2 dims.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Shape& shape);

Tensor xavier_uniform_(Tensor tensor, Generator& gen, double gain = 1.0);
Tensor xavier_normal_(Tensor tensor, Generator& gen, double gain = 1.0);
// `a` is the negative slope of the leaky_relu that follows (used only with LeakyReLU).
Tensor kaiming_uniform_(Tensor tensor, Generator& gen, double a = 0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
Tensor kaiming_normal_(Tensor tensor, Generator& gen, double a = 0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
Tensor uniform_(Tensor tensor, Generator& gen, double lo = 0, double hi = 1);
Tensor normal_(Tensor tensor, Generator& gen, double mean = 0, double std = 1);
Tensor constant_(Tensor tensor, double value);
Tensor zeros_(Tensor tensor);

}  // namespace init
}  // namespace nabla::nn
