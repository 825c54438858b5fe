// JSON model descriptions: parse, check every field, infer in_channels / in_features /
// num_features by running the per-sample shape through the layers, build the nn::Sequential;
// and the reverse, a Sequential written out as a description.
//
// Each layer type describes itself beside its module (nabla/nn/layer.h: fields with defaults and
// limits, shape inference, construction); this file only turns JSON into those fields and back.
#include <algorithm>
#include <limits>
#include <optional>
#include <type_traits>
#include <variant>

#include "io/json_depth.h"
#include "models/description.h"
#include "nabla/memory.h"
#include "nabla/models.h"
#include "nabla/nn/layer.h"
#include "nabla/suggest.h"

namespace nabla {

using models_detail::Json;
using PerSample = std::vector<int64_t>;  // one sample's shape, without the batch dim

namespace {

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
  Fields(const Json& object, std::string where, std::vector<std::string> known,
         bool is_layer = true)
      : object_(object), where_(std::move(where)), known_(std::move(known)) {
    for (const auto& [key, value] : object.items()) {
      if ((is_layer && key == "type") ||
          std::find(known_.begin(), known_.end(), key) != known_.end())
        continue;
      fail("unknown field '", key, "'", did_you_mean(key, known_),
           known_.empty() ? "; this layer takes no fields" : "; valid fields: " + join(known_));
    }
  }

  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    detail::throw_error(where_, ": ", parts...);
  }

  // The field `spec` describes: as given, else its default; nothing for an inferred field not
  // given; an error for a required one.
  std::optional<nn::FieldValue> read(const nn::FieldSpec& spec) const {
    auto it = object_.find(spec.name);
    if (it == object_.end()) {
      if (!spec.fallback && !spec.inferred) fail("missing required field '", spec.name, "'");
      return spec.fallback;
    }
    const Json& value = *it;
    const char* name = spec.name.c_str();
    switch (spec.kind) {
      case nn::FieldSpec::Kind::Integer: {
        const int64_t v = to_integer(value, name, "an integer");
        check_min(spec, v, std::to_string(v));
        return v;
      }
      case nn::FieldSpec::Kind::Size2:
        return size2(value, spec);
      case nn::FieldSpec::Kind::Boolean:
        if (!value.is_boolean())
          fail("field '", name, "' must be true or false, got ", describe(value));
        return value.get<bool>();
      case nn::FieldSpec::Kind::Number: {
        if (!value.is_number()) fail("field '", name, "' must be a number, got ", describe(value));
        const double v = value.get<double>();
        if (!(v >= spec.min && v <= spec.max))
          fail("field '", name, "' must lie in [", spec.min, ", ", spec.max, "], got ", v);
        return v;
      }
      case nn::FieldSpec::Kind::Choice:
        return choice(value, spec);
    }
    NABLA_ASSERT(false);
  }

 private:
  // An integer for both dims, or [h, w]; each at least the minimum.
  nn::Size2 size2(const Json& value, const nn::FieldSpec& spec) const {
    const char* name = spec.name.c_str();
    const char* expected = "an integer or a pair [h, w] of integers";
    nn::Size2 s = 0;
    if (value.is_array()) {
      if (value.size() != 2)
        fail("field '", name, "' must be ", expected, ", got ", describe(value));
      s = nn::Size2(to_integer(value[0], name, expected), to_integer(value[1], name, expected));
    } else {
      s = to_integer(value, name, expected);
    }
    check_min(spec, std::min(s.h, s.w), nn::to_string(s));
    return s;
  }

  std::string choice(const Json& value, const nn::FieldSpec& spec) const {
    const char* name = spec.name.c_str();
    if (!value.is_string())
      fail("field '", name, "' must be one of ", join(spec.choices), ", got ", describe(value));
    std::string v = value.get<std::string>();
    if (std::find(spec.choices.begin(), spec.choices.end(), v) == spec.choices.end())
      fail("field '", name, "' is '", v, "'", did_you_mean(v, spec.choices),
           "; valid values: ", join(spec.choices));
    return v;
  }

  void check_min(const nn::FieldSpec& spec, int64_t v, const std::string& shown) const {
    if (static_cast<double>(v) < spec.min)
      fail("field '", spec.name, "' must be at least ", static_cast<int64_t>(spec.min), ", got ",
           shown);
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
  std::vector<std::string> known_;
};

// A guard against typos such as "out_features": 100000000 that would otherwise end in bad_alloc.
// The same bound for the whole model, so that many layers cannot add up to what one may not.
void check_weight_size(const Fields& f, double elements, Budget& budget) {
  constexpr double kMax = static_cast<double>(std::numeric_limits<int32_t>::max());
  if (elements > kMax)
    f.fail("the weight would hold ", elements, " values, more than 2^31; check the sizes");
  budget.values += elements;
  if (budget.values > kMax)
    f.fail("the model would hold ", budget.values, " weight values in all, more than 2^31; ",
           "check the sizes");
}

// The layer `layer` describes at `where`, built into `model` when given; advances `shape`.
void run_layer(const Json& layer, const std::string& where, PerSample& shape, Generator& gen,
               nn::Sequential* model, Budget& budget) {
  if (!layer.is_object())
    detail::throw_error(where, ": a layer is an object such as {\"type\": \"relu\"}, got ",
                        describe(layer));
  if (!layer.contains("type"))
    detail::throw_error(where, ": missing required field 'type' (one of ",
                        join(nn::layer_type_names()), ")");
  if (!layer["type"].is_string())
    detail::throw_error(where, ": field 'type' must be a string, got ", describe(layer["type"]));
  const std::string type_name = layer["type"].get<std::string>();
  const nn::LayerType* type = nn::find_layer_type(type_name);
  if (type == nullptr)
    detail::throw_error(where, ": unknown layer type '", type_name, "'",
                        did_you_mean(type_name, nn::layer_type_names()),
                        "; valid types: ", join(nn::layer_type_names()));
  const std::string layer_where = where + " (" + type_name + ")";
  std::vector<std::string> names;
  for (const nn::FieldSpec& spec : type->fields) names.push_back(spec.name);
  const Fields fields(layer, layer_where, std::move(names));
  nn::LayerConfig config;
  for (const nn::FieldSpec& spec : type->fields)
    if (std::optional<nn::FieldValue> value = fields.read(spec)) config.set(spec.name, *value);
  nn::LayerShape out;
  try {
    out = type->infer(config, shape);
  } catch (const Error& e) {
    fields.fail(e.what());
  }
  check_weight_size(fields, out.guarded_values, budget);
  shape = std::move(out.output);
  if (!budget.build) return;
  MemoryContext context(layer_where);  // names the layer if its weights pass the memory limit
  std::shared_ptr<nn::Module> module = type->make(config, gen);
  if (model) model->push_back(std::move(module));
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
  for (size_t i = 0; i < layers.size(); ++i)
    run_layer(layers[i], source + ": layers[" + std::to_string(i) + "]", shape, gen, model, budget);
  return shape;
}

// ---- writing a model out ----

Json field_json(const nn::FieldValue& value) {
  return std::visit(
      []<class T>(const T& v) -> Json {
        if constexpr (std::is_same_v<T, nn::Size2>)
          return v.square() ? Json(v.h) : Json::array({v.h, v.w});
        else
          return Json(v);
      },
      value);
}

// The layer object for one module, or nullopt for a module the format cannot describe: its type
// and the fields it does not infer, each unless it holds its default.
std::optional<Json> layer_json(const nn::Module& m) {
  const nn::LayerType* type = m.layer_type();
  if (type == nullptr) return std::nullopt;
  const nn::LayerConfig config = m.config();
  Json layer{{"type", type->name}};
  for (const nn::FieldSpec& spec : type->fields) {
    const nn::FieldValue* value = config.find(spec.name);
    if (spec.inferred || value == nullptr || (!spec.always_written && spec.fallback == *value))
      continue;
    layer[spec.name] = field_json(*value);
  }
  return layer;
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
    NABLA_CHECK(
        layer.has_value(), "model_to_json: layer ", i, " is a ", (*sequential)[i]->name(),
        ", which a model description cannot hold; valid types: ", join(nn::layer_type_names()));
    layers.push_back(std::move(*layer));
  }
  const std::string text =
      models_detail::format_description(Json{{"input", input}, {"layers", std::move(layers)}});
  // Rebuild from the text: the inferred in_channels / in_features must be the model's own, which
  // holds exactly when every layer prints the same (printing shows every option).
  auto rebuilt = model_from_json(text, 0, "model_to_json(input " + nn::per_sample_str(input) + ")");
  for (size_t i = 0; i < sequential->size(); ++i) {
    std::string want = nn::to_string(*(*sequential)[i]), got = nn::to_string(*(*rebuilt)[i]);
    NABLA_CHECK(want == got, "model_to_json: input ", nn::per_sample_str(input),
                " does not fit the model: ", "layer ", i, " is ", want, " but the input makes it ",
                got);
  }
  return text;
}

}  // namespace nabla
