// JSON model descriptions: parse, check every field, infer in_channels / in_features /
// num_features by running the per-sample shape through the layers, build the nn::Sequential;
// and the reverse, a Sequential written out as a description.
//
// The layer table below is the one list of layer types and their fields: a field missing from it
// is reported as unknown, and reading a field not listed fails an assertion in the tests.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "io/json_depth.h"
#include "models/description.h"
#include "nabla/memory.h"
#include "nabla/models.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/dropout.h"
#include "nabla/nn/flatten.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/normalization.h"
#include "nabla/nn/pooling.h"
#include "nabla/suggest.h"

namespace nabla {

using models_detail::Json;
using PerSample = std::vector<int64_t>;  // one sample's shape, without the batch dim

namespace {

std::string shape_str(const PerSample& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// At most `limit` characters of `value` as JSON, "..." for the rest. Not dump(): that recurses
// once per nesting level and builds the whole text, so a file of 100000 '[' would overflow the
// stack just to print an error.
void brief_json(const Json& value, std::string& out, size_t limit) {
  if (out.size() > limit) return;
  if (!value.is_array() && !value.is_object()) {
    out += value.dump();
    return;
  }
  out += value.is_array() ? "[" : "{";
  bool first = true;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (out.size() > limit) {
      out += "...";
      break;
    }
    out += first ? "" : ",";
    first = false;
    if (value.is_object()) out += Json(it.key()).dump() + ":";
    brief_json(*it, out, limit);
  }
  out += value.is_array() ? "]" : "}";
}

// dump()'s compact text, cut after about 40 characters.
std::string brief(const Json& value) {
  std::string text;
  brief_json(value, text, 40);
  return text;
}

// "5 (a number)", "\"5\" (a string)": a JSON value as the user wrote it, for type errors.
std::string describe(const Json& value) {
  std::string text = brief(value);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  const std::string type = value.is_number() ? "number" : value.type_name();
  const bool vowel = type == "array" || type == "object";
  return text + " (" + (vowel ? "an " : "a ") + type + ")";
}

// What a description costs, summed over its layers. Without `build`, layers are checked and
// shapes inferred, but no weight is allocated (model_output_shape).
struct Budget {
  bool build = true;
  double values = 0;  // weight and buffer values of the layers so far
};

// The largest integer a field or an input extent may hold: 2^31 - 1.
constexpr int64_t kMaxField = std::numeric_limits<int32_t>::max();

// Reads the fields of one JSON object, with errors prefixed by `where`
// ("model.json: layers[3] (linear)"). Unknown keys are rejected up front, so a misspelled
// required field reads as a typo, not as a missing field.
class Fields {
 public:
  // `is_layer`: the object is a layer, whose "type" the caller has read.
  Fields(const Json& object, std::string where, const std::vector<std::string>& known,
         bool is_layer = true, Budget* budget = nullptr)
      : object_(object), where_(std::move(where)), known_(known), budget_(budget) {
    for (const auto& [key, value] : object.items()) {
      if ((is_layer && key == "type") || std::find(known.begin(), known.end(), key) != known.end())
        continue;
      fail("unknown field '", key, "'", did_you_mean(key, known),
           known.empty() ? "; this layer takes no fields" : "; valid fields: " + join(known));
    }
  }

  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    detail::throw_error(where_, ": ", parts...);
  }

  Budget& budget() const {
    NABLA_ASSERT(budget_ != nullptr);
    return *budget_;
  }

  // The integer field `name` (required when `fallback` is empty), at least `min`.
  int64_t integer(const char* name, std::optional<int64_t> fallback,
                  int64_t min = std::numeric_limits<int64_t>::min()) const {
    const Json* value = get(name);
    if (!value) return required(name, fallback);
    int64_t v = to_integer(*value, name, "an integer");
    if (v < min) fail("field '", name, "' must be at least ", min, ", got ", v);
    return v;
  }

  // An integer for both dims, or [h, w]; each at least `min`.
  nn::Size2 size2(const char* name, std::optional<nn::Size2> fallback, int64_t min) const {
    const Json* value = get(name);
    if (!value) return required(name, fallback);
    const char* expected = "an integer or a pair [h, w] of integers";
    nn::Size2 s = 0;
    if (value->is_array()) {
      if (value->size() != 2)
        fail("field '", name, "' must be ", expected, ", got ", describe(*value));
      s = nn::Size2(to_integer((*value)[0], name, expected),
                    to_integer((*value)[1], name, expected));
    } else {
      s = to_integer(*value, name, expected);
    }
    if (s.h < min || s.w < min)
      fail("field '", name, "' must be at least ", min, ", got ", nn::to_string(s));
    return s;
  }

  bool boolean(const char* name, bool fallback) const {
    const Json* value = get(name);
    if (!value) return fallback;
    if (!value->is_boolean())
      fail("field '", name, "' must be true or false, got ", describe(*value));
    return value->get<bool>();
  }

  // A number in [lo, hi].
  double number(const char* name, double fallback, double lo, double hi) const {
    const Json* value = get(name);
    if (!value) return fallback;
    if (!value->is_number()) fail("field '", name, "' must be a number, got ", describe(*value));
    double v = value->get<double>();
    if (!(v >= lo && v <= hi)) fail("field '", name, "' must lie in [", lo, ", ", hi, "], got ", v);
    return v;
  }

  std::string choice(const char* name, const std::string& fallback,
                     const std::vector<std::string>& choices) const {
    const Json* value = get(name);
    if (!value) return fallback;
    if (!value->is_string())
      fail("field '", name, "' must be one of ", join(choices), ", got ", describe(*value));
    std::string v = value->get<std::string>();
    if (std::find(choices.begin(), choices.end(), v) == choices.end())
      fail("field '", name, "' is '", v, "'", did_you_mean(v, choices),
           "; valid values: ", join(choices));
    return v;
  }

 private:
  const Json* get(const char* name) const {
    NABLA_ASSERT(std::find(known_.begin(), known_.end(), name) != known_.end());
    auto it = object_.find(name);
    return it == object_.end() ? nullptr : &*it;
  }

  template <class T>
  T required(const char* name, const std::optional<T>& fallback) const {
    if (!fallback) fail("missing required field '", name, "'");
    return *fallback;
  }

  int64_t to_integer(const Json& value, const char* name, const char* expected) const {
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("field '", name, "' is too large: ", value.dump());
    if (!value.is_number_integer())
      fail("field '", name, "' must be ", expected, ", got ", describe(value));
    // Sizes, dims and counts all fit in 31 bits; the bound keeps the shape arithmetic
    // (size + 2 * padding, dilation * (kernel - 1), ...) far from overflowing.
    const int64_t v = value.get<int64_t>();
    if (v > kMaxField || v < -kMaxField)
      fail("field '", name, "' is ", v, "; nabla takes sizes up to ", kMaxField);
    return v;
  }

  const Json& object_;
  std::string where_;
  const std::vector<std::string>& known_;
  Budget* budget_;
};

// ---- shape rules, one per kind of layer ----

void expect_rank(const Fields& f, const PerSample& s, size_t rank, const char* layout,
                 const char* hint = "") {
  if (s.size() != rank)
    f.fail("expects a per-sample input ", layout, " but gets ", shape_str(s), hint);
}

// The output extent of one spatial dim, with conv2d's rule, or an error naming the field.
int64_t out_extent(const Fields& f, const PerSample& s, const char* dim, int64_t size,
                   int64_t kernel, int64_t pad, int64_t stride, int64_t dilation, bool floor_mode) {
  const int64_t span = dilation * (kernel - 1) + 1;
  if (size + 2 * pad < span)
    f.fail("kernel_size ", kernel, dilation > 1 ? " (dilated: " + std::to_string(span) + ")" : "",
           " does not fit input ", shape_str(s), ": its ", dim, " ", size, " plus 2·", pad,
           " padding is less than ", span);
  try {
    return conv_output_size(size, kernel, pad, stride, dilation, floor_mode, dim);
  } catch (const Error& e) {
    f.fail("input ", shape_str(s), ": ", e.what());
  }
}

// Checks an optional size field the user may give against the inferred one.
int64_t inferred(const Fields& f, const char* name, int64_t value, const PerSample& s) {
  int64_t given = f.integer(name, value, 1);
  if (given != value)
    f.fail(name, " ", given, " does not match the input ", shape_str(s), ", which gives ", value);
  return value;
}

// A guard against typos such as "out_features": 100000000 that would otherwise end in bad_alloc.
// The same bound for the whole model, so that many layers cannot add up to what one may not.
void check_weight_size(const Fields& f, double elements) {
  constexpr double kMax = static_cast<double>(std::numeric_limits<int32_t>::max());
  if (elements > kMax)
    f.fail("the weight would hold ", elements, " values, more than 2^31; check the sizes");
  Budget& budget = f.budget();
  budget.values += elements;
  if (budget.values > kMax)
    f.fail("the model would hold ", budget.values, " weight values in all, more than 2^31; ",
           "check the sizes");
}

using ModulePtr = std::shared_ptr<nn::Module>;
using BuildFn = ModulePtr (*)(const Fields&, PerSample&, Generator&);

ModulePtr build_conv2d(const Fields& f, PerSample& s, Generator& gen) {
  expect_rank(f, s, 3, "[C, H, W]");
  const int64_t C = inferred(f, "in_channels", s[0], s);
  const int64_t OC = f.integer("out_channels", std::nullopt, 1);
  const nn::Size2 k = f.size2("kernel_size", std::nullopt, 1);
  nn::Conv2dOptions o(C, OC, k);
  o.stride(f.size2("stride", 1, 1)).padding(f.size2("padding", 0, 0));
  o.dilation(f.size2("dilation", 1, 1)).groups(f.integer("groups", 1, 1));
  o.bias(f.boolean("bias", true)).floor_mode(f.boolean("floor_mode", false));
  o.naive(f.choice("algorithm", "im2col", {"im2col", "naive"}) == "naive");
  if (C % o.groups() || OC % o.groups())
    f.fail("groups ", o.groups(), " must divide both in_channels ", C, " and out_channels ", OC);
  const int64_t OH = out_extent(f, s, "height", s[1], k.h, o.padding().h, o.stride().h,
                                o.dilation().h, o.floor_mode());
  const int64_t OW = out_extent(f, s, "width", s[2], k.w, o.padding().w, o.stride().w,
                                o.dilation().w, o.floor_mode());
  check_weight_size(f, static_cast<double>(OC) * static_cast<double>(C / o.groups()) *
                           static_cast<double>(k.h) * static_cast<double>(k.w));
  s = {OC, OH, OW};
  if (!f.budget().build) return nullptr;
  auto layer = std::make_shared<nn::Conv2d>(o.generator(&gen));
  layer->options.generator(nullptr);  // the generator lives only while building
  return layer;
}

template <class Pool>
ModulePtr build_pool(const Fields& f, PerSample& s, Generator&) {
  expect_rank(f, s, 3, "[C, H, W]");
  nn::Pool2dOptions o(f.size2("kernel_size", std::nullopt, 1));
  o.stride(f.size2("stride", 0, 0)).padding(f.size2("padding", 0, 0));
  o.floor_mode(f.boolean("floor_mode", false));
  const nn::Size2 k = o.kernel_size(), p = o.padding(), st = o.effective_stride();
  if (2 * p.h > k.h || 2 * p.w > k.w)
    f.fail("padding ", nn::to_string(p), " must be at most half the kernel_size ",
           nn::to_string(k));
  const int64_t OH = out_extent(f, s, "height", s[1], k.h, p.h, st.h, 1, o.floor_mode());
  const int64_t OW = out_extent(f, s, "width", s[2], k.w, p.w, st.w, 1, o.floor_mode());
  s = {s[0], OH, OW};
  return std::make_shared<Pool>(o);
}

ModulePtr build_globalavgpool2d(const Fields& f, PerSample& s, Generator&) {
  expect_rank(f, s, 3, "[C, H, W]");
  const bool keepdim = f.boolean("keepdim", false);
  s = keepdim ? PerSample{s[0], 1, 1} : PerSample{s[0]};
  return std::make_shared<nn::GlobalAvgPool2d>(nn::GlobalAvgPool2dOptions().keepdim(keepdim));
}

ModulePtr build_linear(const Fields& f, PerSample& s, Generator& gen) {
  expect_rank(f, s, 1, "[features]", s.size() > 1 ? "; add {\"type\": \"flatten\"} before it" : "");
  const int64_t in = inferred(f, "in_features", s[0], s);
  const int64_t out = f.integer("out_features", std::nullopt, 1);
  check_weight_size(f, static_cast<double>(in) * static_cast<double>(out));
  s = {out};
  if (!f.budget().build) return nullptr;
  auto layer = std::make_shared<nn::Linear>(
      nn::LinearOptions(in, out).bias(f.boolean("bias", true)).generator(&gen));
  layer->options.generator(nullptr);
  return layer;
}

template <class Norm, size_t Rank>
ModulePtr build_batchnorm(const Fields& f, PerSample& s, Generator&) {
  expect_rank(f, s, Rank, Rank == 1 ? "[features]" : "[C, H, W]",
              Rank == 1 ? "; use batchnorm2d for images" : "; use batchnorm1d for features");
  nn::BatchNormOptions o(inferred(f, "num_features", s[0], s));
  o.eps(f.number("eps", 1e-5, 0, 1)).momentum(f.number("momentum", 0.1, 0, 1));
  o.affine(f.boolean("affine", true)).track_running_stats(f.boolean("track_running_stats", true));
  o.track_num_batches(f.boolean("track_num_batches", false));
  // weight, bias, running mean and running variance
  check_weight_size(f, 4.0 * static_cast<double>(o.num_features()));
  if (!f.budget().build) return nullptr;
  return std::make_shared<Norm>(o);
}

ModulePtr build_dropout(const Fields& f, PerSample&, Generator& gen) {
  // Each layer's mask stream is seeded from the model's generator: one seed, one run.
  return std::make_shared<nn::Dropout>(
      nn::DropoutOptions(f.number("p", 0.5, 0, 1)).seed(gen.next_u64()));
}

// Normalises a dim over the full rank (batch dim included), or fails naming the field.
int64_t full_dim(const Fields& f, const char* name, int64_t d, const PerSample& s) {
  const int64_t rank = static_cast<int64_t>(s.size()) + 1;
  if (d < -rank || d >= rank)
    f.fail(name, " ", d, " is out of range for input ", shape_str(s), " (", rank,
           " dims with the batch dim)");
  return d < 0 ? d + rank : d;
}

ModulePtr build_flatten(const Fields& f, PerSample& s, Generator&) {
  const int64_t start = f.integer("start_dim", 1), end = f.integer("end_dim", -1);
  const int64_t a = full_dim(f, "start_dim", start, s), b = full_dim(f, "end_dim", end, s);
  if (a == 0) f.fail("start_dim ", start, " would merge the batch dim; use 1 or more");
  if (a > b) f.fail("start_dim ", start, " comes after end_dim ", end);
  PerSample out(s.begin(), s.begin() + (a - 1));
  int64_t merged = 1;
  for (int64_t i = a; i <= b; ++i)
    if (__builtin_mul_overflow(merged, s[i - 1], &merged))
      f.fail("flattening input ", shape_str(s), " gives more than 2^63 features");
  out.push_back(merged);
  out.insert(out.end(), s.begin() + b, s.end());
  s = out;
  return std::make_shared<nn::Flatten>(nn::FlattenOptions().start_dim(start).end_dim(end));
}

template <class Act>
ModulePtr build_plain(const Fields&, PerSample&, Generator&) {
  return std::make_shared<Act>();
}

ModulePtr build_leakyrelu(const Fields& f, PerSample&, Generator&) {
  const double inf = std::numeric_limits<double>::infinity();
  return std::make_shared<nn::LeakyReLU>(f.number("negative_slope", 0.01, -inf, inf));
}

ModulePtr build_elu(const Fields& f, PerSample&, Generator&) {
  const double inf = std::numeric_limits<double>::infinity();
  return std::make_shared<nn::ELU>(f.number("alpha", 1.0, -inf, inf));
}

template <class Act>
ModulePtr build_softmax(const Fields& f, PerSample& s, Generator&) {
  const int64_t dim = f.integer("dim", 1);
  if (full_dim(f, "dim", dim, s) == 0) f.fail("dim ", dim, " would normalise over the batch");
  return std::make_shared<Act>(dim);
}

struct LayerType {
  std::string type;
  std::vector<std::string> fields;  // besides "type"
  BuildFn build;
};

const std::vector<LayerType>& layer_types() {
  static const std::vector<LayerType> table{
      {"conv2d",
       {"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
        "bias", "floor_mode", "algorithm"},
       build_conv2d},
      {"linear", {"in_features", "out_features", "bias"}, build_linear},
      {"maxpool2d", {"kernel_size", "stride", "padding", "floor_mode"}, build_pool<nn::MaxPool2d>},
      {"avgpool2d", {"kernel_size", "stride", "padding", "floor_mode"}, build_pool<nn::AvgPool2d>},
      {"globalavgpool2d", {"keepdim"}, build_globalavgpool2d},
      {"batchnorm1d",
       {"num_features", "eps", "momentum", "affine", "track_running_stats", "track_num_batches"},
       build_batchnorm<nn::BatchNorm1d, 1>},
      {"batchnorm2d",
       {"num_features", "eps", "momentum", "affine", "track_running_stats", "track_num_batches"},
       build_batchnorm<nn::BatchNorm2d, 3>},
      {"dropout", {"p"}, build_dropout},
      {"flatten", {"start_dim", "end_dim"}, build_flatten},
      {"relu", {}, build_plain<nn::ReLU>},
      {"sigmoid", {}, build_plain<nn::Sigmoid>},
      {"tanh", {}, build_plain<nn::Tanh>},
      {"leakyrelu", {"negative_slope"}, build_leakyrelu},
      {"elu", {"alpha"}, build_elu},
      {"softmax", {"dim"}, build_softmax<nn::Softmax>},
      {"logsoftmax", {"dim"}, build_softmax<nn::LogSoftmax>},
  };
  return table;
}

std::vector<std::string> layer_type_names() {
  std::vector<std::string> names;
  for (const LayerType& t : layer_types()) names.push_back(t.type);
  return names;
}

// "syntax error while parsing value - invalid literal; last read: '{x' (line 1, column 2)" out of
// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ...",
// with bytes outside printable ASCII escaped, since bad UTF-8 is a reason for the error.
std::string parse_error_text(const std::string& what) {
  const size_t at = what.find(" at line ");
  const size_t colon = at == std::string::npos ? at : what.find(": ", at);
  std::string text = colon == std::string::npos ? what
                                                : what.substr(colon + 2) + " (" +
                                                      what.substr(at + 4, colon - at - 4) + ")";
  return io_detail::printable(text);
}

Json parse(const std::string& text, const std::string& source) {
  if (const size_t at = io_detail::json_too_deep(text); at != std::string::npos)
    detail::throw_error(source, ": JSON nested deeper than ", io_detail::kMaxJsonDepth,
                        " levels at byte offset ", at, "; a model description needs 4");
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann counts the offending byte from 1; an offset counts from 0.
    detail::throw_error(source, ": invalid JSON at byte offset ", e.byte > 0 ? e.byte - 1 : 0, ": ",
                        parse_error_text(e.what()));
  } catch (const Json::exception& e) {
    // A number beyond a double's range ("1e999") is out_of_range, with no byte offset.
    detail::throw_error(source, ": invalid JSON: ", io_detail::json_error_text(e.what()));
  }
}

// Runs the description: checks every field, infers the shapes, and, when `model` is given,
// appends the layers to it. Returns the per-sample output shape.
PerSample run(const std::string& text, const std::string& source, Generator& gen,
              nn::Sequential* model, Budget& budget) {
  const Json doc = parse(text, source);
  if (!doc.is_object())
    detail::throw_error(source, ": a model description is a JSON object {\"input\": [C, H, W], ",
                        "\"layers\": [...]}, got ", describe(doc));
  static const std::vector<std::string> top_level{"name", "input", "layers"};
  Fields top(doc, source, top_level, /*is_layer=*/false);  // rejects unknown keys
  if (doc.contains("name") && !doc["name"].is_string())
    top.fail("field 'name' must be a string, got ", describe(doc["name"]));
  if (!doc.contains("input")) top.fail("missing required field 'input' (e.g. [1, 28, 28])");
  if (!doc.contains("layers")) top.fail("missing required field 'layers'");

  const Json& input = doc["input"];
  if (!input.is_array() || input.empty() || input.size() >= Shape::kMaxDims)
    top.fail("field 'input' must be the shape of one sample, a list of 1 to ", Shape::kMaxDims - 1,
             " positive integers such as [1, 28, 28], got ", describe(input));
  PerSample shape;
  for (const Json& d : input) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1)
      top.fail("field 'input' must hold positive integers, got ", describe(d), " in ",
               brief(input));
    if (d.get<int64_t>() > kMaxField)
      top.fail("field 'input' holds ", d.get<int64_t>(), "; nabla takes sizes up to ", kMaxField);
    shape.push_back(d.get<int64_t>());
  }

  const Json& layers = doc["layers"];
  if (!layers.is_array() || layers.empty())
    top.fail("field 'layers' must be a non-empty list of layer objects, got ", describe(layers));
  for (size_t i = 0; i < layers.size(); ++i) {
    const Json& layer = layers[i];
    std::string where = source + ": layers[" + std::to_string(i) + "]";
    if (!layer.is_object())
      detail::throw_error(where, ": a layer is an object such as {\"type\": \"relu\"}, got ",
                          describe(layer));
    if (!layer.contains("type"))
      detail::throw_error(where, ": missing required field 'type' (one of ",
                          join(layer_type_names()), ")");
    if (!layer["type"].is_string())
      detail::throw_error(where, ": field 'type' must be a string, got ", describe(layer["type"]));
    const std::string type = layer["type"].get<std::string>();
    auto it = std::find_if(layer_types().begin(), layer_types().end(),
                           [&](const LayerType& t) { return t.type == type; });
    if (it == layer_types().end())
      detail::throw_error(where, ": unknown layer type '", type, "'",
                          did_you_mean(type, layer_type_names()),
                          "; valid types: ", join(layer_type_names()));
    const std::string layer_where = where + " (" + type + ")";
    Fields fields(layer, layer_where, it->fields, /*is_layer=*/true, &budget);
    MemoryContext context(layer_where);  // names the layer if its weights pass the memory limit
    ModulePtr module = it->build(fields, shape, gen);
    if (model) model->push_back(std::move(module));
  }
  return shape;
}

// ---- writing a model out ----

Json size2_json(const nn::Size2& s) {
  return s.square() ? Json(s.h) : Json::array({s.h, s.w});
}

void put_pool(Json& layer, const nn::Pool2dOptions& o) {
  layer["kernel_size"] = size2_json(o.kernel_size());
  if (o.stride() != nn::Size2(0) && o.stride() != o.kernel_size())
    layer["stride"] = size2_json(o.stride());
  if (o.padding() != nn::Size2(0)) layer["padding"] = size2_json(o.padding());
  if (o.floor_mode()) layer["floor_mode"] = true;
}

void put_batchnorm(Json& layer, const nn::BatchNormOptions& o) {
  if (o.eps() != 1e-5) layer["eps"] = o.eps();
  if (o.momentum() != 0.1) layer["momentum"] = o.momentum();
  if (!o.affine()) layer["affine"] = false;
  if (!o.track_running_stats()) layer["track_running_stats"] = false;
  if (o.track_num_batches()) layer["track_num_batches"] = true;
}

// The layer object for one module, or nullopt for a module the format cannot describe.
std::optional<Json> layer_json(const nn::Module& m) {
  if (auto* c = dynamic_cast<const nn::Conv2d*>(&m)) {
    const nn::Conv2dOptions& o = c->options;
    Json layer{{"type", "conv2d"},
               {"out_channels", o.out_channels()},
               {"kernel_size", size2_json(o.kernel_size())}};
    if (o.stride() != nn::Size2(1)) layer["stride"] = size2_json(o.stride());
    if (o.padding() != nn::Size2(0)) layer["padding"] = size2_json(o.padding());
    if (o.dilation() != nn::Size2(1)) layer["dilation"] = size2_json(o.dilation());
    if (o.groups() != 1) layer["groups"] = o.groups();
    if (!o.bias()) layer["bias"] = false;
    if (o.floor_mode()) layer["floor_mode"] = true;
    if (o.algorithm() == ConvAlgorithm::Naive) layer["algorithm"] = "naive";
    return layer;
  }
  if (auto* l = dynamic_cast<const nn::Linear*>(&m)) {
    Json layer{{"type", "linear"}, {"out_features", l->options.out_features()}};
    if (!l->options.bias()) layer["bias"] = false;
    return layer;
  }
  if (auto* p = dynamic_cast<const nn::MaxPool2d*>(&m)) {
    Json layer{{"type", "maxpool2d"}};
    put_pool(layer, p->options);
    return layer;
  }
  if (auto* p = dynamic_cast<const nn::AvgPool2d*>(&m)) {
    Json layer{{"type", "avgpool2d"}};
    put_pool(layer, p->options);
    return layer;
  }
  if (auto* g = dynamic_cast<const nn::GlobalAvgPool2d*>(&m)) {
    Json layer{{"type", "globalavgpool2d"}};
    if (g->options.keepdim()) layer["keepdim"] = true;
    return layer;
  }
  if (auto* b = dynamic_cast<const nn::BatchNormBase*>(&m)) {
    Json layer{{"type", dynamic_cast<const nn::BatchNorm1d*>(&m) ? "batchnorm1d" : "batchnorm2d"}};
    put_batchnorm(layer, b->options);
    return layer;
  }
  if (auto* d = dynamic_cast<const nn::Dropout*>(&m)) {
    return Json{{"type", "dropout"}, {"p", d->options.p()}};
  }
  if (auto* f = dynamic_cast<const nn::Flatten*>(&m)) {
    Json layer{{"type", "flatten"}};
    if (f->options.start_dim() != 1) layer["start_dim"] = f->options.start_dim();
    if (f->options.end_dim() != -1) layer["end_dim"] = f->options.end_dim();
    return layer;
  }
  if (auto* r = dynamic_cast<const nn::LeakyReLU*>(&m)) {
    return Json{{"type", "leakyrelu"}, {"negative_slope", r->options.negative_slope()}};
  }
  if (auto* e = dynamic_cast<const nn::ELU*>(&m)) {
    return Json{{"type", "elu"}, {"alpha", e->options.alpha()}};
  }
  if (auto* s = dynamic_cast<const nn::Softmax*>(&m)) {
    return Json{{"type", "softmax"}, {"dim", s->options.dim()}};
  }
  if (auto* s = dynamic_cast<const nn::LogSoftmax*>(&m)) {
    return Json{{"type", "logsoftmax"}, {"dim", s->options.dim()}};
  }
  if (dynamic_cast<const nn::ReLU*>(&m)) return Json{{"type", "relu"}};
  if (dynamic_cast<const nn::Sigmoid*>(&m)) return Json{{"type", "sigmoid"}};
  if (dynamic_cast<const nn::Tanh*>(&m)) return Json{{"type", "tanh"}};
  return std::nullopt;
}

}  // namespace

namespace {

// A value on one line with a space after each comma: [1, 28, 28], {"type": "relu"}.
std::string inline_json(const Json& value) {
  if (!value.is_array() && !value.is_object()) return value.dump();
  std::string out;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!out.empty()) out += ", ";
    if (value.is_object()) out += Json(it.key()).dump() + ": ";
    out += inline_json(*it);
  }
  return value.is_array() ? "[" + out + "]" : "{" + out + "}";
}

}  // namespace

namespace models_detail {

std::string format_description(const Json& description) {
  std::string out = "{\n";
  bool first = true;
  for (const auto& [key, value] : description.items()) {
    out += (first ? "  " : ",\n  ") + Json(key).dump() + ": ";
    first = false;
    if (key != "layers" || value.empty()) {
      out += inline_json(value);
      continue;
    }
    out += "[";
    for (size_t i = 0; i < value.size(); ++i)
      out += (i ? ",\n    " : "\n    ") + inline_json(value[i]);
    out += "\n  ]";
  }
  return out + "\n}\n";
}

}  // namespace models_detail

std::shared_ptr<nn::Sequential> model_from_json(const std::string& text, uint64_t seed,
                                                const std::string& source) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential>();
  Budget budget;
  run(text, source, gen, model.get(), budget);
  return model;
}

std::vector<int64_t> model_output_shape(const std::string& text, const std::string& source) {
  return models_detail::description_cost(text, source).output;
}

namespace models_detail {

DescriptionCost description_cost(const std::string& text, const std::string& source) {
  Generator unused(0);
  Budget budget{.build = false};
  PerSample output = run(text, source, unused, nullptr, budget);
  return {output, budget.values};
}

}  // namespace models_detail

std::string model_to_json(const nn::Module& model, const std::vector<int64_t>& input) {
  const auto* sequential = dynamic_cast<const nn::Sequential*>(&model);
  NABLA_CHECK(sequential != nullptr, "model_to_json: the model is a ", model.name(),
              "; only a Sequential of the layer types in nabla/models.h can be described");
  Json layers = Json::array();
  for (size_t i = 0; i < sequential->size(); ++i) {
    std::optional<Json> layer = layer_json(*(*sequential)[i]);
    NABLA_CHECK(layer.has_value(), "model_to_json: layer ", i, " is a ", (*sequential)[i]->name(),
                ", which a model description cannot hold; valid types: ", join(layer_type_names()));
    layers.push_back(std::move(*layer));
  }
  const std::string text =
      models_detail::format_description(Json{{"input", input}, {"layers", std::move(layers)}});
  // Rebuild from the text: the inferred in_channels / in_features must be the model's own, which
  // holds exactly when every layer prints the same (printing shows every option).
  auto rebuilt = model_from_json(text, 0, "model_to_json(input " + shape_str(input) + ")");
  for (size_t i = 0; i < sequential->size(); ++i) {
    std::string want = nn::to_string(*(*sequential)[i]), got = nn::to_string(*(*rebuilt)[i]);
    NABLA_CHECK(want == got, "model_to_json: input ", shape_str(input),
                " does not fit the model: ", "layer ", i, " is ", want, " but the input makes it ",
                got);
  }
  return text;
}

}  // namespace nabla
