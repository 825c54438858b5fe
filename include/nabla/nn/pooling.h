// Pooling layers over the ops in nabla/ops/conv.h: MaxPool2d, AvgPool2d and GlobalAvgPool2d.
// x (N, C, H, W) -> (N, C, OH, OW) with conv2d's output-size rule; the windows must tile the
// padded input exactly unless floor_mode is set. No parameters, no buffers.
//
//   nn::MaxPool2d pool(2);                                    // 2×2 windows, stride 2
//   nn::AvgPool2d avg(nn::AvgPool2dOptions({3, 2}).stride(1));
#pragma once

#include <cstdint>
#include <string>

#include "nabla/nn/conv.h"
#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla::nn {

// Shared by MaxPool2d and AvgPool2d (PyTorch has MaxPool2dOptions and AvgPool2dOptions; both
// names exist here too).
struct Pool2dOptions {
  Pool2dOptions(Size2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT: implicit on purpose
  NABLA_ARG(Size2, kernel_size);
  NABLA_ARG(Size2, stride) = 0;         // step between windows; 0 means equal to kernel_size
  NABLA_ARG(Size2, padding) = 0;        // at most half the kernel (-inf for max, 0 for avg)
  NABLA_ARG(bool, floor_mode) = false;  // PyTorch's flooring instead of "exact fit or throw"

 public:
  // The stride in effect: the kernel size where stride is 0.
  Size2 effective_stride() const;
};
using MaxPool2dOptions = Pool2dOptions;
using AvgPool2dOptions = Pool2dOptions;

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(const Pool2dOptions& options) : options(options) {}
  MaxPool2d(int64_t kernel_size) : MaxPool2d(Pool2dOptions(kernel_size)) {}
  Tensor forward(const Tensor& input) override;
  // forward(relu(input)) as one op (max_pool2d_relu); Sequential calls it for ReLU, MaxPool2d.
  Tensor forward_after_relu(const Tensor& input) override;
  std::string name() const override { return "MaxPool2d"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  // "kernel_size=2, stride=2, padding=0" (and floor_mode=true when set).
  std::string extra_repr() const override;
  Pool2dOptions options;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(const Pool2dOptions& options) : options(options) {}
  AvgPool2d(int64_t kernel_size) : AvgPool2d(Pool2dOptions(kernel_size)) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "AvgPool2d"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;
  Pool2dOptions options;
};

struct GlobalAvgPool2dOptions {
  NABLA_ARG(bool, keepdim) = false;  // true: (N, C, 1, 1) as AdaptiveAvgPool2d(1); false: (N, C)
};

// Mean over each channel's whole plane: (N, C, H, W) -> (N, C), ready for a Linear layer.
class GlobalAvgPool2d : public Module {
 public:
  explicit GlobalAvgPool2d(const GlobalAvgPool2dOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "GlobalAvgPool2d"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;
  GlobalAvgPool2dOptions options;
};

}  // namespace nabla::nn
