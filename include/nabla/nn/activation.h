// Activation modules: thin wrappers over the ops in nabla/ops.h, for use in a Sequential.
// Each keeps the input's shape, except Maxout, which divides `dim` by `pieces`.
#pragma once

#include <cstdint>

#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "ReLU"; }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Sigmoid"; }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Tanh"; }
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
  std::string extra_repr() const override;
  SoftmaxOptions options;
};

class LogSoftmax : public Module {
 public:
  LogSoftmax(const SoftmaxOptions& options) : options(options) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "LogSoftmax"; }
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
  std::string extra_repr() const override;
  MaxoutOptions options;
};

}  // namespace nabla::nn
