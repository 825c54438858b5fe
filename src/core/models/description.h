// Internal to src/models/: the JSON form of a model description, shared by the presets
// (presets.cpp) and the parser and writer (json_model.cpp). nlohmann::json stays behind this
// header; the public API (nabla/models.h) takes and returns text.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nabla::models_detail {

// ordered_json keeps fields in the order they were written: "type" first, as a reader expects.
using Json = nlohmann::ordered_json;

// {"name", "input", "layers"} as text: the top level one field per line, each layer on one line.
std::string format_description(const Json& description);

// Everything model_from_json checks, without allocating a weight: the per-sample output shape
// and how many weight and buffer values building the model would allocate.
struct DescriptionCost {
  std::vector<int64_t> output;
  double weight_values = 0;
};
DescriptionCost description_cost(const std::string& text, const std::string& source);

}  // namespace nabla::models_detail
