// Linear layer: y = x·Wᵀ + b.  x (..., in), W (out, in), b (out) -> y (..., out).
// One fused op (nabla::linear): the GEMM reads W as transposed, and the bias is the GEMM's
// starting value, so a layer is one graph node; with a ReLU after it in a Sequential, one node
// for both (detail::linear_relu).
#include "nabla/nn/linear.h"

#include <cmath>
#include <sstream>

#include "nabla/nn/init.h"
#include "nabla/ops.h"
#include "nn/layer_checks.h"

namespace nabla::nn {

Linear::Linear(const LinearOptions& options) : options(options) {
  NABLA_CHECK(options.in_features() > 0 && options.out_features() > 0,
              "Linear: in_features and out_features must be positive, got in_features=",
              options.in_features(), ", out_features=", options.out_features());
  weight = register_parameter(
      "weight", Tensor::empty({options.out_features(), options.in_features()}, options.dtype()));
  if (options.bias())
    bias = register_parameter("bias", Tensor::empty({options.out_features()}, options.dtype()));
  reset_parameters(options.generator() ? *options.generator() : default_generator());
}

void Linear::reset_parameters(Generator& gen) {
  // PyTorch's choice: kaiming_uniform_ with a = √5 gives U(±1/√fan_in) for the weight too.
  init::kaiming_uniform_(weight, gen, std::sqrt(5.0));
  if (bias.defined()) {
    double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
    init::uniform_(bias, gen, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& input) {
  return apply(input, false);
}

Tensor Linear::forward_relu(const Tensor& input) {
  return apply(input, true);
}

Tensor Linear::apply(const Tensor& input, bool relu) {
  NABLA_CHECK(input.dim() >= 1 && input.size(-1) == options.in_features(), "Linear: input ",
              input.shape(), " has ", input.dim() >= 1 ? input.size(-1) : 0,
              " features in its last dim but weight ", weight.shape(),
              " expects in_features=", options.in_features());
  NABLA_CHECK(input.dtype() == weight.dtype(), "Linear: input ", input.shape(), " is ",
              dtype_name(input.dtype()), " but weight ", weight.shape(), " is ",
              dtype_name(weight.dtype()), "; convert one of them with to()");
  return relu ? detail::linear_relu(input, weight, bias) : linear(input, weight, bias);
}

std::string Linear::extra_repr() const {
  std::ostringstream out;
  out << "in_features=" << options.in_features() << ", out_features=" << options.out_features()
      << ", bias=" << (options.bias() ? "true" : "false");
  return out.str();
}

// ---- the description: {"type": "linear", "out_features": 10} ----

namespace {

using namespace layer_checks;

LayerShape infer_linear(LayerConfig& c, const PerSample& s) {
  expect_rank(s, 1, "[features]", s.size() > 1 ? "; add {\"type\": \"flatten\"} before it" : "");
  const int64_t in = infer_field(c, "in_features", s[0], s), out = c.integer("out_features");
  const double weight = static_cast<double>(in) * static_cast<double>(out);
  return {.output = {out},
          .parameters = count(weight + (c.boolean("bias") ? static_cast<double>(out) : 0)),
          .multiply_adds = count(weight),
          .guarded_values = weight};
}

std::shared_ptr<Module> make_linear(const LayerConfig& c, Generator& gen) {
  return make_drawing_from<Linear>(
      LinearOptions(c.integer("in_features"), c.integer("out_features")).bias(c.boolean("bias")),
      gen);
}

}  // namespace

const LayerType& Linear::description() {
  static const LayerType type{
      "linear",
      {FieldSpec::inferred_size("in_features"), FieldSpec::integer("out_features", std::nullopt, 1),
       FieldSpec::boolean("bias", true)},
      infer_linear,
      make_linear};
  return type;
}

LayerConfig Linear::config() const {
  return LayerConfig()
      .set("in_features", options.in_features())
      .set("out_features", options.out_features())
      .set("bias", options.bias());
}

}  // namespace nabla::nn
