// Activation modules: thin wrappers over the ops in nabla/ops.h, for use in a Sequential.
// Each keeps the input's shape, except Maxout, which divides `dim` by `pieces`.
// Each registers its description (nabla/nn/layer.h) in activation.cpp.
#pragma once

#include <cstdint>

#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "ReLU"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Sigmoid"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Tanh"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
};

struct LeakyReLUOptions {
  LeakyReLUOptions(double negative_slope = 0.01) : negative_slope_(negative_slope) {}
  NABLA_ARG(double, negative_slope);  // slope for x < 0
};

class LeakyReLU : public Module {
 public:
  LeakyReLU(const LeakyReLUOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "LeakyReLU"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;
  LeakyReLUOptions options;
};

struct ELUOptions {
  ELUOptions(double alpha = 1.0) : alpha_(alpha) {}
  NABLA_ARG(double, alpha);  // y = alpha·(exp(x) - 1) for x < 0
};

class ELU : public Module {
 public:
  ELU(const ELUOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "ELU"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;
  ELUOptions options;
};

struct SoftmaxOptions {
  SoftmaxOptions(int64_t dim) : dim_(dim) {}
  NABLA_ARG(int64_t, dim);  // the dim that sums to 1
};

class Softmax : public Module {
 public:
  Softmax(const SoftmaxOptions& options) : options(options) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Softmax"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;
  SoftmaxOptions options;
};

class LogSoftmax : public Module {
 public:
  LogSoftmax(const SoftmaxOptions& options) : options(options) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "LogSoftmax"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;
  SoftmaxOptions options;
};

struct MaxoutOptions {
  MaxoutOptions(int64_t pieces) : pieces_(pieces) {}
  NABLA_ARG(int64_t, pieces);   // consecutive features reduced by max into one
  NABLA_ARG(int64_t, dim) = 1;  // the feature dim
};

class Maxout : public Module {
 public:
  Maxout(const MaxoutOptions& options) : options(options) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Maxout"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;
  MaxoutOptions options;
};

struct SoftplusOptions {
  SoftplusOptions(double beta = 1.0) : beta_(beta) {}  // NOLINT: implicit on purpose
  NABLA_ARG(double, beta);                             // y = log(1 + exp(beta·x)) / beta, beta > 0
  NABLA_ARG(double, threshold) = 20.0;                 // y = x where beta·x > threshold
};

// PyTorch's Softplus, a smooth ReLU, composed from existing ops (so its gradient comes with them):
// y = (relu(z) + log(1 + exp(-|z|))) / beta with z = beta·x, which never overflows (for very
// negative z it is 0 where PyTorch's log1p gives exp(z), an absolute error under one ulp of 1),
// and y = x exactly where z > threshold.
class Softplus : public Module {
 public:
  Softplus(const SoftplusOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Softplus"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;  // "beta=1.0, threshold=20.0"
  SoftplusOptions options;
};

}  // namespace nabla::nn
