// Conv2d layer: options -> the op's parameters, PyTorch's init, layer-level checks, printing. The
// convolution itself is the conv2d op (src/ops/conv.cpp).
#include "nabla/nn/conv.h"

#include <cmath>
#include <sstream>

#include "nabla/detail/conv_params.h"
#include "nabla/nn/init.h"
#include "nabla/ops.h"
#include "nn/layer_checks.h"

namespace nabla::nn {

std::string to_string(const Size2& size) {
  return size.square() ? std::to_string(size.h) : to_tuple_string(size);
}

std::string to_tuple_string(const Size2& size) {
  std::ostringstream out;  // not "(" + std::string: GCC 12 warns falsely (-Wrestrict) on that
  out << "(" << size.h << ", " << size.w << ")";
  return out.str();
}

}  // namespace nabla::nn

namespace nabla::detail {

Conv2dParams conv2d_params(const nn::Conv2dOptions& options) {
  return conv2d_params(nn::functional::Conv2dFuncOptions()
                           .stride(options.stride())
                           .padding(options.padding())
                           .dilation(options.dilation())
                           .groups(options.groups())
                           .floor_mode(options.floor_mode())
                           .algorithm(options.algorithm()));
}

}  // namespace nabla::detail

namespace nabla::nn {

Conv2d::Conv2d(const Conv2dOptions& options) : options(options) {
  const int64_t C = options.in_channels(), OC = options.out_channels(), G = options.groups();
  const Size2 k = options.kernel_size();
  NABLA_CHECK(C > 0 && OC > 0, "Conv2d: in_channels and out_channels must be positive, got ", C,
              " and ", OC);
  NABLA_CHECK(k.h > 0 && k.w > 0, label(), ": kernel_size must be positive");
  NABLA_CHECK(options.stride().h > 0 && options.stride().w > 0, label(), ": stride ",
              to_string(options.stride()), " must be positive");
  NABLA_CHECK(options.padding().h >= 0 && options.padding().w >= 0, label(), ": padding ",
              to_string(options.padding()), " must not be negative");
  NABLA_CHECK(options.dilation().h > 0 && options.dilation().w > 0, label(), ": dilation ",
              to_string(options.dilation()), " must be positive");
  NABLA_CHECK(G > 0 && C % G == 0 && OC % G == 0, label(), ": groups=", G,
              " must divide both in_channels ", C, " and out_channels ", OC);
  weight = register_parameter("weight", Tensor::empty({OC, C / G, k.h, k.w}, options.dtype()));
  if (options.bias()) bias = register_parameter("bias", Tensor::empty({OC}, options.dtype()));
  reset_parameters(options.generator() ? *options.generator() : default_generator());
}

void Conv2d::reset_parameters(Generator& gen) {
  // PyTorch's choice: kaiming_uniform_ with a = √5 gives U(±1/√fan_in) for the weight too.
  init::kaiming_uniform_(weight, gen, std::sqrt(5.0));
  if (bias.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight.shape()).first;
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    init::uniform_(bias, gen, -bound, bound);
  }
}

Tensor Conv2d::forward(const Tensor& input) {
  return apply(input, false);
}

Tensor Conv2d::forward_relu(const Tensor& input) {
  return apply(input, true);
}

Tensor Conv2d::apply(const Tensor& input, bool relu) {
  NABLA_CHECK(input.dim() == 4, label(), ": input ", input.shape(),
              " must be 4-d (N, C, H, W); add a batch dim with unsqueeze(0) for one image");
  NABLA_CHECK(input.size(1) == options.in_channels(), label(), ": input ", input.shape(), " has ",
              input.size(1), " channels but the layer expects ", options.in_channels());
  NABLA_CHECK(input.dtype() == weight.dtype(), label(), ": input ", input.shape(), " is ",
              dtype_name(input.dtype()), " but weight ", weight.shape(), " is ",
              dtype_name(weight.dtype()), "; convert one of them with to()");
  try {
    const detail::Conv2dParams params = detail::conv2d_params(options);
    return relu ? detail::conv2d_relu(input, weight, bias, params)
                : detail::conv2d(input, weight, bias, params);
  } catch (const Error& e) {
    // The op's message explains the arithmetic; prefix it with the layer the user wrote.
    throw Error(label() + ": input " + input.shape().str() + ": " + e.what());
  }
}

std::string Conv2d::label() const {
  return "Conv2d(" + std::to_string(options.in_channels()) + ", " +
         std::to_string(options.out_channels()) +
         ", kernel_size=" + to_string(options.kernel_size()) + ")";
}

std::string Conv2d::extra_repr() const {
  std::ostringstream out;
  out << options.in_channels() << ", " << options.out_channels()
      << ", kernel_size=" << to_tuple_string(options.kernel_size())
      << ", stride=" << to_tuple_string(options.stride());
  if (options.padding() != Size2(0)) out << ", padding=" << to_tuple_string(options.padding());
  if (options.dilation() != Size2(1)) out << ", dilation=" << to_tuple_string(options.dilation());
  if (options.groups() != 1) out << ", groups=" << options.groups();
  if (!options.bias()) out << ", bias=false";
  if (options.floor_mode()) out << ", floor_mode=true";
  if (options.algorithm() == ConvAlgorithm::Naive) out << ", algorithm=naive";
  return out.str();
}

// ---- the description: {"type": "conv2d", "out_channels": 6, "kernel_size": 5, ...} ----

namespace {

using namespace layer_checks;

LayerShape infer_conv2d(LayerConfig& c, const PerSample& s) {
  expect_rank(s, 3, "[C, H, W]");
  const int64_t C = infer_field(c, "in_channels", s[0], s);
  const int64_t OC = c.integer("out_channels"), G = c.integer("groups");
  const Size2 k = c.size2("kernel_size"), stride = c.size2("stride");
  const Size2 pad = c.size2("padding"), dilation = c.size2("dilation");
  NABLA_CHECK(C % G == 0 && OC % G == 0, "groups ", G, " must divide both in_channels ", C,
              " and out_channels ", OC);
  const bool floor_mode = c.boolean("floor_mode");
  const int64_t OH = out_extent(s, "height", s[1], k.h, pad.h, stride.h, dilation.h, floor_mode);
  const int64_t OW = out_extent(s, "width", s[2], k.w, pad.w, stride.w, dilation.w, floor_mode);
  const double per_output = static_cast<double>(C / G) * static_cast<double>(k.h * k.w);
  const double weight = static_cast<double>(OC) * per_output;
  return {.output = {OC, OH, OW},
          .parameters = count(weight + (c.boolean("bias") ? static_cast<double>(OC) : 0)),
          .multiply_adds = count(weight * static_cast<double>(OH * OW)),
          .guarded_values = weight};
}

std::shared_ptr<Module> make_conv2d(const LayerConfig& c, Generator& gen) {
  Conv2dOptions o(c.integer("in_channels"), c.integer("out_channels"), c.size2("kernel_size"));
  o.stride(c.size2("stride")).padding(c.size2("padding")).dilation(c.size2("dilation"));
  o.groups(c.integer("groups")).bias(c.boolean("bias")).floor_mode(c.boolean("floor_mode"));
  o.naive(c.choice("algorithm") == "naive");
  return make_drawing_from<Conv2d>(o, gen);
}

}  // namespace

const LayerType& Conv2d::description() {
  static const LayerType type{
      "conv2d",
      {FieldSpec::inferred_size("in_channels"), FieldSpec::integer("out_channels", std::nullopt, 1),
       FieldSpec::size2("kernel_size", std::nullopt, 1), FieldSpec::size2("stride", 1, 1),
       FieldSpec::size2("padding", 0, 0), FieldSpec::size2("dilation", 1, 1),
       FieldSpec::integer("groups", 1, 1), FieldSpec::boolean("bias", true),
       FieldSpec::boolean("floor_mode", false),
       FieldSpec::choice("algorithm", "im2col", {"im2col", "naive"})},
      infer_conv2d,
      make_conv2d};
  return type;
}

LayerConfig Conv2d::config() const {
  const Conv2dOptions& o = options;
  return LayerConfig()
      .set("in_channels", o.in_channels())
      .set("out_channels", o.out_channels())
      .set("kernel_size", o.kernel_size())
      .set("stride", o.stride())
      .set("padding", o.padding())
      .set("dilation", o.dilation())
      .set("groups", o.groups())
      .set("bias", o.bias())
      .set("floor_mode", o.floor_mode())
      .set("algorithm", std::string(o.algorithm() == ConvAlgorithm::Naive ? "naive" : "im2col"));
}

}  // namespace nabla::nn
