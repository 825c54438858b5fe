// Conv2d: PyTorch's 2-d convolution layer over the conv2d op (nabla/ops/conv.h).
// x (N, C, H, W) -> y (N, OC, OH, OW); weight (OC, C/groups, KH, KW), bias (OC).
// OH = (H + 2·padding_h - dilation_h·(KH - 1) - 1) / stride_h + 1, and the same for W; unless
// floor_mode is set the division must be exact (CS231n's rule), otherwise forward throws.
// Default init as PyTorch: kaiming_uniform_(a = √5) for the weight, i.e. U(±1/√fan_in) with
// fan_in = C/groups·KH·KW, and U(±1/√fan_in) for the bias.
//
//   nn::Conv2d conv(nn::Conv2dOptions(3, 6, 5).padding(2));       // square: 5×5, pad 2
//   nn::Conv2d wide(nn::Conv2dOptions(3, 6, {3, 5}).padding({1, 2}));  // per dimension {h, w}
#pragma once

#include <cstdint>
#include <string>

#include "nabla/nn/module.h"
#include "nabla/nn/options.h"
#include "nabla/ops/conv.h"
#include "nabla/random.h"

namespace nabla::nn {

struct Conv2dOptions {
  Conv2dOptions(int64_t in_channels, int64_t out_channels, Size2 kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  NABLA_ARG(int64_t, in_channels);
  NABLA_ARG(int64_t, out_channels);
  NABLA_ARG(Size2, kernel_size);
  NABLA_ARG(Size2, stride) = 1;         // step between windows
  NABLA_ARG(Size2, padding) = 0;        // zeros added on each side
  NABLA_ARG(Size2, dilation) = 1;       // gap between kernel taps (1 = dense)
  NABLA_ARG(int64_t, groups) = 1;       // in and out channels split into independent blocks
  NABLA_ARG(bool, bias) = true;         // learn an additive bias per output channel
  NABLA_ARG(bool, floor_mode) = false;  // PyTorch's flooring instead of "exact fit or throw"
  NABLA_ARG(ConvAlgorithm, algorithm) = ConvAlgorithm::Im2colGemm;  // Naive: the reference loops
  NABLA_ARG(DType, dtype) = kFloat32;                               // of weight and bias
  NABLA_ARG(Generator*, generator) = nullptr;  // for the initial values; null: default_generator()

 public:
  // Shorthand for algorithm(on ? Naive : Im2colGemm).
  Conv2dOptions& naive(bool on = true) {
    return algorithm(on ? ConvAlgorithm::Naive : ConvAlgorithm::Im2colGemm);
  }
};

class Conv2d : public Module {
 public:
  explicit Conv2d(const Conv2dOptions& options);
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size)
      : Conv2d(Conv2dOptions(in_channels, out_channels, kernel_size)) {}

  // requires: input (N, in_channels, H, W) of the weight's dtype, in which the windows fit.
  Tensor forward(const Tensor& input) override;
  // relu(forward(input)) as one fused op (conv2d_relu); Sequential calls it for Conv2d, ReLU.
  Tensor forward_relu(const Tensor& input) override;
  std::string name() const override { return "Conv2d"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  Tensor filters() const override { return weight; }
  // "1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2)"; dilation, groups, bias=false,
  // floor_mode and algorithm only when they differ from the defaults, as PyTorch does.
  std::string extra_repr() const override;
  // Draws fresh initial values, as at construction.
  void reset_parameters(Generator& gen);

  Conv2dOptions options;
  Tensor weight;  // (out_channels, in_channels / groups, KH, KW)
  Tensor bias;    // (out_channels); undefined when options.bias() is false

 private:
  // "Conv2d(1, 6, kernel_size=5)": how error messages name this layer.
  std::string label() const;
  // The checks and the op call shared by forward and forward_relu.
  Tensor apply(const Tensor& input, bool relu);
};

}  // namespace nabla::nn
