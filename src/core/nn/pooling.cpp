// Pooling layers: each forwards to its op in src/ops/pool.cpp.
#include "nabla/nn/pooling.h"

#include <sstream>

#include "nabla/detail/conv_params.h"
#include "nabla/ops.h"
#include "nn/layer_checks.h"

namespace nabla::nn {

Size2 Pool2dOptions::effective_stride() const {
  return {stride().h ? stride().h : kernel_size().h, stride().w ? stride().w : kernel_size().w};
}

}  // namespace nabla::nn

namespace nabla::detail {

Pool2dParams pool2d_params(const nn::Pool2dOptions& options) {
  return pool2d_params(nn::functional::Pool2dFuncOptions(options.kernel_size())
                           .stride(options.effective_stride())
                           .padding(options.padding())
                           .floor_mode(options.floor_mode()));
}

}  // namespace nabla::detail

namespace nabla::nn {

namespace {

std::string pool_repr(const Pool2dOptions& options) {
  std::ostringstream out;
  out << "kernel_size=" << to_string(options.kernel_size())
      << ", stride=" << to_string(options.effective_stride())
      << ", padding=" << to_string(options.padding());
  if (options.floor_mode()) out << ", floor_mode=true";
  return out.str();
}

// Runs a pooling op, prefixing its errors with the layer as printed ("MaxPool2d(kernel_size=2,
// stride=2, padding=0)"), so the user sees which layer of a model failed.
template <class Op>
Tensor run_pool(const Module& layer, const Tensor& input, Op op) {
  try {
    return op();
  } catch (const Error& e) {
    throw Error(to_string(layer) + ": input " + input.shape().str() + ": " + e.what());
  }
}

}  // namespace

Tensor MaxPool2d::forward(const Tensor& input) {
  return run_pool(*this, input,
                  [&] { return detail::max_pool2d(input, detail::pool2d_params(options)); });
}
Tensor MaxPool2d::forward_after_relu(const Tensor& input) {
  return run_pool(*this, input,
                  [&] { return detail::max_pool2d_relu(input, detail::pool2d_params(options)); });
}
std::string MaxPool2d::extra_repr() const {
  return pool_repr(options);
}

Tensor AvgPool2d::forward(const Tensor& input) {
  return run_pool(*this, input,
                  [&] { return detail::avg_pool2d(input, detail::pool2d_params(options)); });
}
std::string AvgPool2d::extra_repr() const {
  return pool_repr(options);
}

Tensor GlobalAvgPool2d::forward(const Tensor& input) {
  NABLA_CHECK(input.dim() == 4, "GlobalAvgPool2d: input ", input.shape(),
              " must be 4-d (N, C, H, W)");
  return global_avg_pool2d(input, options.keepdim());
}
std::string GlobalAvgPool2d::extra_repr() const {
  return options.keepdim() ? "keepdim=true" : "";
}

// ---- the descriptions: {"type": "maxpool2d", "kernel_size": 2}, avgpool2d, globalavgpool2d ----

namespace {

using namespace layer_checks;

Pool2dOptions pool_options(const LayerConfig& c) {
  return Pool2dOptions(c.size2("kernel_size"))
      .stride(c.size2("stride"))
      .padding(c.size2("padding"))
      .floor_mode(c.boolean("floor_mode"));
}

LayerShape infer_pool(LayerConfig& c, const PerSample& s) {
  expect_rank(s, 3, "[C, H, W]");
  const Pool2dOptions o = pool_options(c);
  const Size2 k = o.kernel_size(), p = o.padding(), st = o.effective_stride();
  NABLA_CHECK(2 * p.h <= k.h && 2 * p.w <= k.w, "padding ", to_string(p),
              " must be at most half the kernel_size ", to_string(k));
  const int64_t OH = out_extent(s, "height", s[1], k.h, p.h, st.h, 1, o.floor_mode());
  const int64_t OW = out_extent(s, "width", s[2], k.w, p.w, st.w, 1, o.floor_mode());
  return {.output = {s[0], OH, OW}};
}

template <class Pool>
std::shared_ptr<Module> make_pool(const LayerConfig& c, Generator&) {
  return std::make_shared<Pool>(pool_options(c));
}

std::vector<FieldSpec> pool_fields() {
  return {FieldSpec::size2("kernel_size", std::nullopt, 1), FieldSpec::size2("stride", 0, 0),
          FieldSpec::size2("padding", 0, 0), FieldSpec::boolean("floor_mode", false)};
}

// A stride equal to the kernel is the default, 0, as a description writes it.
LayerConfig pool_config(const Pool2dOptions& o) {
  return LayerConfig()
      .set("kernel_size", o.kernel_size())
      .set("stride", o.stride() == o.kernel_size() ? Size2(0) : o.stride())
      .set("padding", o.padding())
      .set("floor_mode", o.floor_mode());
}

LayerShape infer_globalavgpool2d(LayerConfig& c, const PerSample& s) {
  expect_rank(s, 3, "[C, H, W]");
  return {.output = c.boolean("keepdim") ? PerSample{s[0], 1, 1} : PerSample{s[0]}};
}

std::shared_ptr<Module> make_globalavgpool2d(const LayerConfig& c, Generator&) {
  return std::make_shared<GlobalAvgPool2d>(GlobalAvgPool2dOptions().keepdim(c.boolean("keepdim")));
}

}  // namespace

const LayerType& MaxPool2d::description() {
  static const LayerType type{"maxpool2d", pool_fields(), infer_pool, make_pool<MaxPool2d>};
  return type;
}
LayerConfig MaxPool2d::config() const {
  return pool_config(options);
}

const LayerType& AvgPool2d::description() {
  static const LayerType type{"avgpool2d", pool_fields(), infer_pool, make_pool<AvgPool2d>};
  return type;
}
LayerConfig AvgPool2d::config() const {
  return pool_config(options);
}

const LayerType& GlobalAvgPool2d::description() {
  static const LayerType type{"globalavgpool2d",
                              {FieldSpec::boolean("keepdim", false)},
                              infer_globalavgpool2d,
                              make_globalavgpool2d};
  return type;
}
LayerConfig GlobalAvgPool2d::config() const {
  return LayerConfig().set("keepdim", options.keepdim());
}

}  // namespace nabla::nn
