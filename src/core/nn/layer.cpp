// The layer registry, the field kinds and the shape checks the layer descriptions share. Each
// layer's own description (fields, infer, make, config) sits beside its module.
#include "nabla/nn/layer.h"

#include <algorithm>

#include "nabla/error.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/dropout.h"
#include "nabla/nn/flatten.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/normalization.h"
#include "nabla/nn/pooling.h"
#include "nn/layer_checks.h"

namespace nabla::nn {

FieldSpec FieldSpec::integer(std::string name, std::optional<int64_t> fallback, int64_t min) {
  FieldSpec f{.name = std::move(name), .kind = Kind::Integer};
  if (fallback) f.fallback = *fallback;
  f.min = static_cast<double>(min);
  return f;
}

FieldSpec FieldSpec::inferred_size(std::string name) {
  FieldSpec f = integer(std::move(name), std::nullopt, 1);
  f.inferred = true;
  return f;
}

FieldSpec FieldSpec::size2(std::string name, std::optional<Size2> fallback, int64_t min) {
  FieldSpec f{.name = std::move(name), .kind = Kind::Size2};
  if (fallback) f.fallback = *fallback;
  f.min = static_cast<double>(min);
  return f;
}

FieldSpec FieldSpec::number(std::string name, double fallback, double lo, double hi) {
  return {
      .name = std::move(name), .kind = Kind::Number, .fallback = fallback, .min = lo, .max = hi};
}

FieldSpec FieldSpec::boolean(std::string name, bool fallback) {
  return {.name = std::move(name), .kind = Kind::Boolean, .fallback = fallback};
}

FieldSpec FieldSpec::choice(std::string name, std::string fallback,
                            std::vector<std::string> choices) {
  return {.name = std::move(name),
          .kind = Kind::Choice,
          .fallback = std::move(fallback),
          .choices = std::move(choices)};
}

LayerConfig& LayerConfig::set(const std::string& name, FieldValue value) {
  for (auto& [key, v] : values_)
    if (key == name) {
      v = std::move(value);
      return *this;
    }
  values_.emplace_back(name, std::move(value));
  return *this;
}

const FieldValue* LayerConfig::find(const std::string& name) const {
  for (const auto& [key, v] : values_)
    if (key == name) return &v;
  return nullptr;
}

template <class T>
const T& LayerConfig::get(const std::string& name) const {
  const FieldValue* v = find(name);
  NABLA_CHECK(v != nullptr, "LayerConfig: no field '", name, "'");
  const T* typed = std::get_if<T>(v);
  NABLA_CHECK(typed != nullptr, "LayerConfig: field '", name, "' holds another kind of value");
  return *typed;
}
bool operator==(const LayerConfig& a, const LayerConfig& b) {
  if (a.values_.size() != b.values_.size()) return false;
  for (const auto& [name, value] : a.values_) {
    const FieldValue* other = b.find(name);
    if (other == nullptr || *other != value) return false;
  }
  return true;
}

template const int64_t& LayerConfig::get<int64_t>(const std::string&) const;
template const double& LayerConfig::get<double>(const std::string&) const;
template const bool& LayerConfig::get<bool>(const std::string&) const;
template const std::string& LayerConfig::get<std::string>(const std::string&) const;
template const Size2& LayerConfig::get<Size2>(const std::string&) const;

LayerConfig LayerType::with_defaults(LayerConfig config) const {
  for (const FieldSpec& f : fields)
    if (f.fallback && !config.has(f.name)) config.set(f.name, *f.fallback);
  return config;
}

const FieldSpec* LayerType::field(const std::string& name) const {
  for (const FieldSpec& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

const std::vector<const LayerType*>& layer_types() {
  static const std::vector<const LayerType*> types{
      &Conv2d::description(),          &Linear::description(),
      &MaxPool2d::description(),       &AvgPool2d::description(),
      &GlobalAvgPool2d::description(), &BatchNorm1d::description(),
      &BatchNorm2d::description(),     &Dropout::description(),
      &Flatten::description(),         &ReLU::description(),
      &Sigmoid::description(),         &Tanh::description(),
      &LeakyReLU::description(),       &ELU::description(),
      &Softmax::description(),         &LogSoftmax::description(),
      &Maxout::description(),          &Softplus::description(),
  };
  return types;
}

const LayerType* find_layer_type(const std::string& name) {
  for (const LayerType* t : layer_types())
    if (t->name == name) return t;
  return nullptr;
}

std::vector<std::string> layer_type_names() {
  std::vector<std::string> names;
  for (const LayerType* t : layer_types()) names.push_back(t->name);
  return names;
}

std::string per_sample_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

LayerShape Module::describe(const std::vector<int64_t>& input) const {
  const LayerType* type = layer_type();
  NABLA_CHECK(type != nullptr, name(), ": a model description cannot hold this layer");
  NABLA_CHECK(!input.empty(), name(), ": describe needs an input shape with a batch dim");
  LayerConfig config = this->config();
  LayerShape shape = type->infer(config, {input.begin() + 1, input.end()});
  shape.output.insert(shape.output.begin(), input[0]);
  return shape;
}

namespace layer_checks {

void expect_rank(const PerSample& s, size_t rank, const char* layout, const char* hint) {
  NABLA_CHECK(s.size() == rank, "expects a per-sample input ", layout, " but gets ",
              per_sample_str(s), hint);
}

int64_t out_extent(const PerSample& s, const char* dim, int64_t size, int64_t kernel, int64_t pad,
                   int64_t stride, int64_t dilation, bool floor_mode) {
  const int64_t span = dilation * (kernel - 1) + 1;
  NABLA_CHECK(size + 2 * pad >= span, "kernel_size ", kernel,
              dilation > 1 ? " (dilated: " + std::to_string(span) + ")" : "",
              " does not fit input ", per_sample_str(s), ": its ", dim, " ", size, " plus 2·", pad,
              " padding is less than ", span);
  try {
    return conv_output_size(size, kernel, pad, stride, dilation, floor_mode, dim);
  } catch (const Error& e) {
    detail::throw_error("input ", per_sample_str(s), ": ", e.what());
  }
}

int64_t infer_field(LayerConfig& config, const char* name, int64_t value, const PerSample& s) {
  if (config.has(name)) {
    const int64_t given = config.integer(name);
    NABLA_CHECK(given == value, name, " ", given, " does not match the input ", per_sample_str(s),
                ", which gives ", value);
  }
  config.set(name, value);
  return value;
}

int64_t full_dim(const char* name, int64_t d, const PerSample& s) {
  const int64_t rank = static_cast<int64_t>(s.size()) + 1;
  NABLA_CHECK(d >= -rank && d < rank, name, " ", d, " is out of range for input ",
              per_sample_str(s), " (", rank, " dims with the batch dim)");
  return d < 0 ? d + rank : d;
}

LayerShape same_shape(LayerConfig&, const PerSample& s) {
  return {.output = s};
}

int64_t count(double value) {
  constexpr double kMax = 9.2e18;  // just under 2^63
  return value < kMax ? static_cast<int64_t>(value) : std::numeric_limits<int64_t>::max();
}

}  // namespace layer_checks
}  // namespace nabla::nn
