// Flatten: merges dims start_dim..end_dim into one, as torch.nn.Flatten. The default keeps the
// batch dim: (N, C, H, W) -> (N, C·H·W), the step between conv layers and a Linear. A view when
// the input is contiguous; gradients flow back reshaped.
#pragma once

#include <cstdint>
#include <string>

#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla::nn {

struct FlattenOptions {
  NABLA_ARG(int64_t, start_dim) = 1;  // first dim merged (negative counts from the end)
  NABLA_ARG(int64_t, end_dim) = -1;   // last dim merged
};

class Flatten : public Module {
 public:
  explicit Flatten(const FlattenOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Flatten"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;  // "start_dim=1, end_dim=-1"
  FlattenOptions options;
};

}  // namespace nabla::nn
