// One description per layer, beside its module (Keras's get_config / from_config, LibTorch's
// options): a layer type's name, its fields with their defaults and limits, what it makes of an
// input shape (output shape, parameters, multiply-adds), and how it is built from its fields. A
// module names its type with Module::layer_type() and gives its fields with Module::config().
//
// The model descriptions (nabla/models.h) read and write every layer through this registry, so a
// new layer is a module, its LayerType beside it, and one line in layer_types() (layer.cpp);
// docs/models.md lists the files. Plain values only: the JSON form stays in src/core/models/.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "nabla/random.h"
#include "nabla/size2.h"

namespace nabla::nn {

class Module;

using nabla::Size2;  // {h, w} (nabla/size2.h), shared with the functional options
// "5" when square, "(5, 3)" otherwise: how PyTorch prints an int or a tuple argument.
std::string to_string(const Size2& size);
// Always "(5, 5)", as PyTorch prints the conv layers' expanded arguments.
std::string to_tuple_string(const Size2& size);

// The value of one field: an integer, a number, a flag, a choice, or a size per spatial dim.
using FieldValue = std::variant<int64_t, double, bool, std::string, Size2>;

// One field of a layer type: its name, kind, default and limits, as the reader checks them.
struct FieldSpec {
  enum class Kind { Integer, Number, Boolean, Choice, Size2 };
  std::string name;
  Kind kind = Kind::Integer;
  std::optional<FieldValue> fallback{};  // the default; none: required (or inferred)
  double min = -std::numeric_limits<double>::infinity();  // Integer, Size2 (each), Number
  double max = std::numeric_limits<double>::infinity();   // Number
  std::vector<std::string> choices{};                     // Choice
  bool inferred =
      false;  // taken from the input shape (in_channels): checked when given, not written
  bool always_written = false;  // written even when it equals the default (dropout's p)

  static FieldSpec integer(std::string name, std::optional<int64_t> fallback,
                           int64_t min = std::numeric_limits<int64_t>::min());
  // An integer the input shape determines, at least 1.
  static FieldSpec inferred_size(std::string name);
  static FieldSpec size2(std::string name, std::optional<Size2> fallback, int64_t min);
  static FieldSpec number(std::string name, double fallback, double lo, double hi);
  static FieldSpec boolean(std::string name, bool fallback);
  static FieldSpec choice(std::string name, std::string fallback, std::vector<std::string> choices);
  FieldSpec& written_always() {
    always_written = true;
    return *this;
  }
};

// A layer's fields by name, in the order set. Getters throw nabla::Error for a field that is
// absent or of another kind.
class LayerConfig {
 public:
  LayerConfig& set(const std::string& name, FieldValue value);
  const FieldValue* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  int64_t integer(const std::string& name) const { return get<int64_t>(name); }
  double number(const std::string& name) const { return get<double>(name); }
  bool boolean(const std::string& name) const { return get<bool>(name); }
  const std::string& choice(const std::string& name) const { return get<std::string>(name); }
  Size2 size2(const std::string& name) const { return get<Size2>(name); }
  const std::vector<std::pair<std::string, FieldValue>>& values() const { return values_; }
  // The same fields with the same values, in any order.
  friend bool operator==(const LayerConfig& a, const LayerConfig& b);

 private:
  template <class T>
  const T& get(const std::string& name) const;
  std::vector<std::pair<std::string, FieldValue>> values_;
};

// What a layer makes of one sample's shape (no batch dim).
struct LayerShape {
  std::vector<int64_t> output;
  int64_t parameters = 0;     // values of its trainable tensors
  int64_t multiply_adds = 0;  // per sample
  // The values the description reader's size guard counts for it (its weight; batch norm's four
  // per-channel tensors), before anything is allocated.
  double guarded_values = 0;
};

struct LayerType {
  std::string name;  // the description's "type": the module's name in lower case
  std::vector<FieldSpec> fields;
  // Checks `config` (every field set, except inferred ones not given) against one sample's
  // `input`, sets the inferred fields, and returns what the layer makes of it. Throws
  // nabla::Error naming the field; the reader prefixes the layer's place.
  LayerShape (*infer)(LayerConfig& config, const std::vector<int64_t>& input);
  // The module for a config `infer` completed; draws initial values or seeds from `gen`.
  std::shared_ptr<Module> (*make)(const LayerConfig& config, Generator& gen);

  // `config` with the default of every field it lacks.
  LayerConfig with_defaults(LayerConfig config) const;
  const FieldSpec* field(const std::string& name) const;
};

// Every layer type a model description can hold, in the order error messages list them.
const std::vector<const LayerType*>& layer_types();
// The type called `name`, or null.
const LayerType* find_layer_type(const std::string& name);
std::vector<std::string> layer_type_names();

// "[1, 28, 28]": one sample's shape as the descriptions' messages print it.
std::string per_sample_str(const std::vector<int64_t>& shape);

}  // namespace nabla::nn
