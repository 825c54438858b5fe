// BatchNorm1d / BatchNorm2d: parameters, running-statistic buffers, layer-level checks and
// printing. The normalisation and the running-statistic update are the batch_norm op
// (src/ops/norm.cpp).
#include "nabla/nn/normalization.h"

#include <sstream>

#include "nabla/autograd.h"
#include "nabla/nn/init.h"
#include "nabla/ops.h"

namespace nabla::nn {

BatchNormBase::BatchNormBase(const BatchNormOptions& options, int input_dims)
    : options(options), input_dims_(input_dims) {
  const int64_t C = options.num_features();
  const char* layer = input_dims == 2 ? "BatchNorm1d" : "BatchNorm2d";
  NABLA_CHECK(C > 0, layer, ": num_features must be positive, got ", C);
  NABLA_CHECK(options.momentum() >= 0 && options.momentum() <= 1, layer, "(", C, "): momentum ",
              options.momentum(), " must lie in [0, 1]");
  NABLA_CHECK(options.eps() >= 0, layer, "(", C, "): eps ", options.eps(), " must not be negative");
  if (options.affine()) {
    weight = register_parameter("weight", Tensor::empty({C}, options.dtype()));
    bias = register_parameter("bias", Tensor::empty({C}, options.dtype()));
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", Tensor::empty({C}, options.dtype()));
    running_var = register_buffer("running_var", Tensor::empty({C}, options.dtype()));
  }
  if (options.track_num_batches())
    num_batches_tracked =
        register_buffer("num_batches_tracked", Tensor::empty({}, options.dtype()));
  reset_parameters();
}

void BatchNormBase::reset_running_stats() {
  if (running_mean.defined()) init::zeros_(running_mean);
  if (running_var.defined()) init::constant_(running_var, 1.0);
  if (num_batches_tracked.defined()) init::zeros_(num_batches_tracked);
}

void BatchNormBase::reset_parameters() {
  reset_running_stats();
  if (weight.defined()) init::constant_(weight, 1.0);
  if (bias.defined()) init::zeros_(bias);
}

Tensor BatchNormBase::forward(const Tensor& input) {
  NABLA_CHECK(input.dim() == input_dims_, name(), "(", options.num_features(), "): input ",
              input.shape(), " must be ", input_dims_ == 2 ? "2-d (N, C)" : "4-d (N, C, H, W)",
              input_dims_ == 2 ? "; use BatchNorm2d for images" : "; use BatchNorm1d for features");
  NABLA_CHECK(input.size(1) == options.num_features(), name(), "(", options.num_features(),
              "): input ", input.shape(), " has ", input.size(1),
              " channels but the layer expects ", options.num_features());
  if (is_training() && num_batches_tracked.defined()) {
    NoGradGuard no_grad;
    num_batches_tracked.fill_(num_batches_tracked.item() + 1);
  }
  try {
    return batch_norm(input, running_mean, running_var, weight, bias, is_training(),
                      options.momentum(), options.eps(), sum_across_ranks);
  } catch (const Error& e) {
    throw Error(name() + "(" + std::to_string(options.num_features()) + "): " + e.what());
  }
}

std::string BatchNormBase::extra_repr() const {
  std::ostringstream out;
  out << options.num_features() << ", eps=" << options.eps() << ", momentum=" << options.momentum()
      << ", affine=" << (options.affine() ? "true" : "false")
      << ", track_running_stats=" << (options.track_running_stats() ? "true" : "false");
  return out.str();
}

}  // namespace nabla::nn
