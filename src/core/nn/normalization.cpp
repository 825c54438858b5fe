// BatchNorm1d / BatchNorm2d: parameters, running-statistic buffers, layer-level checks and
// printing. The normalisation and the running-statistic update are the batch_norm op
// (src/ops/norm.cpp).
#include "nabla/nn/normalization.h"

#include <sstream>

#include "nabla/autograd.h"
#include "nabla/autograd_slices.h"
#include "nabla/detail/conv_params.h"
#include "nabla/nn/init.h"
#include "nabla/ops.h"
#include "nn/layer_checks.h"

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
  // int64 whatever the layer's dtype, as PyTorch's, so state dicts load both ways strictly.
  if (options.track_running_stats() && options.track_num_batches())
    num_batches_tracked = register_buffer("num_batches_tracked", Tensor::empty({}, kInt64));
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

template <class F>
Tensor BatchNormBase::run(const Tensor& input, F op) {
  NABLA_CHECK(input.dim() == input_dims_, name(), "(", options.num_features(), "): input ",
              input.shape(), " must be ", input_dims_ == 2 ? "2-d (N, C)" : "4-d (N, C, H, W)",
              input_dims_ == 2 ? "; use BatchNorm2d for images" : "; use BatchNorm1d for features");
  NABLA_CHECK(input.size(1) == options.num_features(), name(), "(", options.num_features(),
              "): input ", input.shape(), " has ", input.size(1),
              " channels but the layer expects ", options.num_features());
  try {
    return op();
  } catch (const Error& e) {
    throw Error(name() + "(" + std::to_string(options.num_features()) + "): " + e.what());
  }
}

Tensor BatchNormBase::forward(const Tensor& input) {
  return apply(input, false);
}

Tensor BatchNormBase::forward_relu(const Tensor& input) {
  // In inference, the one pass without a graph; wherever a gradient may be needed, the op.
  if (!is_training()) {
    Tensor fused = run(input, [&] {
      return detail::batch_norm_relu_inference(input, running_mean, running_var, weight, bias,
                                               options.eps());
    });
    if (fused.defined()) return fused;
  }
  return apply(input, true);
}

Tensor BatchNormBase::apply(const Tensor& input, bool relu) {
  return run(input, [&] {
    // In training on one slice of a batch whose slices run together (autograd::BatchSlices): the
    // whole batch's statistics, and the running statistics and batch count updated once, by the
    // first slice.
    const autograd::Slice* slice = is_training() ? autograd::current_slice() : nullptr;
    const bool first = !slice || slice->index == 0;
    if (is_training() && first && num_batches_tracked.defined()) {
      NoGradGuard no_grad;
      *num_batches_tracked.data<int64_t>() += 1;
    }
    if (slice) {
      NABLA_CHECK(!sum_across_ranks, "synchronised batch norm cannot run in batch slices");
      return detail::batch_norm_slice(
          input, first ? running_mean : Tensor(), first ? running_var : Tensor(), weight, bias,
          options.momentum(), options.eps(),
          [slice](std::span<double> values) { autograd::sum_over_slices(*slice, values); }, relu);
    }
    return (relu ? detail::batch_norm_relu : batch_norm)(input, running_mean, running_var, weight,
                                                         bias, is_training(), options.momentum(),
                                                         options.eps(), sum_across_ranks);
  });
}

std::string BatchNormBase::extra_repr() const {
  std::ostringstream out;
  out << options.num_features() << ", eps=" << options.eps() << ", momentum=" << options.momentum()
      << ", affine=" << (options.affine() ? "true" : "false")
      << ", track_running_stats=" << (options.track_running_stats() ? "true" : "false");
  return out.str();
}

bool BatchNormBase::sync_statistics(const SumAcrossRanks& sum) {
  sum_across_ranks = sum;
  return true;
}

// ---- the descriptions: {"type": "batchnorm2d", "momentum": 0.01}, batchnorm1d ----

namespace {

using namespace layer_checks;

template <size_t Rank>
LayerShape infer_batchnorm(LayerConfig& c, const PerSample& s) {
  expect_rank(s, Rank, Rank == 1 ? "[features]" : "[C, H, W]",
              Rank == 1 ? "; use batchnorm2d for images" : "; use batchnorm1d for features");
  const int64_t C = infer_field(c, "num_features", s[0], s);
  // The guard counts weight, bias, running mean and running variance.
  return {.output = s,
          .parameters = c.boolean("affine") ? 2 * C : 0,
          .guarded_values = 4.0 * static_cast<double>(C)};
}

template <class Norm>
std::shared_ptr<Module> make_batchnorm(const LayerConfig& c, Generator&) {
  BatchNormOptions o(c.integer("num_features"));
  o.eps(c.number("eps")).momentum(c.number("momentum")).affine(c.boolean("affine"));
  o.track_running_stats(c.boolean("track_running_stats"));
  o.track_num_batches(c.boolean("track_num_batches"));
  return std::make_shared<Norm>(o);
}

template <class Norm, size_t Rank>
LayerType batchnorm_type(const char* name) {
  return {name,
          {FieldSpec::inferred_size("num_features"), FieldSpec::number("eps", 1e-5, 0, 1),
           FieldSpec::number("momentum", 0.1, 0, 1), FieldSpec::boolean("affine", true),
           FieldSpec::boolean("track_running_stats", true),
           FieldSpec::boolean("track_num_batches", true)},
          infer_batchnorm<Rank>,
          make_batchnorm<Norm>};
}

}  // namespace

LayerConfig BatchNormBase::config() const {
  return LayerConfig()
      .set("num_features", options.num_features())
      .set("eps", options.eps())
      .set("momentum", options.momentum())
      .set("affine", options.affine())
      .set("track_running_stats", options.track_running_stats())
      .set("track_num_batches", options.track_num_batches());
}

const LayerType& BatchNorm1d::description() {
  static const LayerType type = batchnorm_type<BatchNorm1d, 1>("batchnorm1d");
  return type;
}

const LayerType& BatchNorm2d::description() {
  static const LayerType type = batchnorm_type<BatchNorm2d, 3>("batchnorm2d");
  return type;
}

}  // namespace nabla::nn
