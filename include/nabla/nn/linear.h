// Linear: y = x·Wᵀ + b, PyTorch's fully connected layer.
// x (..., in_features) -> y (..., out_features); weight (out_features, in_features), bias
// (out_features). Default init as PyTorch: kaiming_uniform_(a = √5) for the weight, which is
// U(±1/√fan_in), and U(±1/√fan_in) for the bias.
#pragma once

#include <cstdint>

#include "nabla/nn/module.h"
#include "nabla/nn/options.h"
#include "nabla/random.h"

namespace nabla::nn {

struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  NABLA_ARG(int64_t, in_features);
  NABLA_ARG(int64_t, out_features);
  NABLA_ARG(bool, bias) = true;                // learn an additive bias
  NABLA_ARG(DType, dtype) = kFloat32;          // of weight and bias
  NABLA_ARG(Generator*, generator) = nullptr;  // for the initial values; null: default_generator()
};

class Linear : public Module {
 public:
  explicit Linear(const LinearOptions& options);
  Linear(int64_t in_features, int64_t out_features)
      : Linear(LinearOptions(in_features, out_features)) {}

  Tensor forward(const Tensor& input) override;
  // relu(forward(input)) as one fused op (linear_relu); Sequential calls it for Linear, ReLU.
  Tensor forward_relu(const Tensor& input) override;
  std::string name() const override { return "Linear"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;
  // Draws fresh initial values, as at construction.
  void reset_parameters(Generator& gen);

  LinearOptions options;
  Tensor weight;  // (out_features, in_features)
  Tensor bias;    // (out_features); undefined when options.bias() is false

 private:
  // The checks and the op call shared by forward and forward_relu.
  Tensor apply(const Tensor& input, bool relu);
};

}  // namespace nabla::nn
