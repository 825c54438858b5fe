// Transfer learning (app/transfer.h): weights from a checkpoint by name, layer selectors,
// freezing and per-layer learning-rate multipliers.
#include "app/transfer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/safetensors.h"
#include "nabla/load_model.h"
#include "nabla/suggest.h"
#ifdef NABLA_HAVE_ONNX
#include "nabla/onnx.h"
#endif

namespace nabla::app {

namespace fs = std::filesystem;

namespace {

std::string shape_text(const Shape& shape) {
  std::ostringstream s;
  s << shape;
  return s.str();
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (true) {
    const size_t end = text.find(sep, begin);
    parts.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) return parts;
    begin = end + 1;
  }
}

bool is_index(const std::string& text) {
  return !text.empty() && text.size() < 10 &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

bool has_prefix(const std::string& name, const std::string& path) {
  return name == path || name.rfind(path + ".", 0) == 0;
}

// The model's layers (top-level children) and its parameter names, for selectors.
struct Layers {
  std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> layers;
  std::vector<std::string> params;  // every parameter's name, in the model's order

  explicit Layers(const nn::Module& model) : layers(model.named_children()) {
    for (const auto& [name, p] : model.named_parameters()) params.push_back(name);
  }
  std::vector<std::string> params_of(size_t layer) const {
    std::vector<std::string> out;
    for (const std::string& p : params)
      if (has_prefix(p, layers[layer].first)) out.push_back(p);
    return out;
  }
  // The index of the last layer with parameters, or layers.size().
  size_t head() const {
    for (size_t i = layers.size(); i-- > 0;)
      if (!params_of(i).empty()) return i;
    return layers.size();
  }
  std::string describe(size_t layer) const {
    return layers[layer].first + " (" + layers[layer].second->name() + ")";
  }
};

// The module at a dotted path, or null.
const nn::Module* find_module(const nn::Module& root, const std::string& path) {
  const nn::Module* m = &root;
  for (const std::string& part : split(path, '.')) {
    const nn::Module* next = nullptr;
    for (const auto& [name, child] : m->named_children())
      if (name == part) next = child.get();
    if (!next) return nullptr;
    m = next;
  }
  return m;
}

std::vector<std::string> select_one(const nn::Module& model, const Layers& l,
                                    const std::string& token, const std::string& option) {
  const size_t n = l.layers.size();
  const std::string valid_range = "[0, " + std::to_string(n) + ")";
  std::vector<std::string> hit;
  if (token == "features") {
    size_t first_linear = 0;
    while (first_linear < n && l.layers[first_linear].second->name() != "Linear") ++first_linear;
    NABLA_CHECK(first_linear < n, option, " features: the model has no Linear layer to end the ",
                "feature extractor; name the layers instead (0-", n - 1, ")");
    for (size_t i = 0; i < first_linear; ++i)
      for (const std::string& p : l.params_of(i)) hit.push_back(p);
    NABLA_CHECK(!hit.empty(), option, " features: the layers before the first Linear (",
                l.describe(first_linear), ") have no parameters");
    return hit;
  }
  if (token == "head") {
    const size_t head = l.head();
    NABLA_CHECK(head < n, option, " head: the model has no layer with parameters");
    return l.params_of(head);
  }
  const size_t dash = token.find('-');
  const std::string a = token.substr(0, dash);
  const std::string b = dash == std::string::npos ? a : token.substr(dash + 1);
  if (is_index(a) && is_index(b)) {
    const size_t first = std::stoul(a), last = std::stoul(b);
    NABLA_CHECK(first < n && last < n, option, ": layer ", std::max(first, last), " in '", token,
                "' is outside ", valid_range, " (the model has ", n, " layers)");
    NABLA_CHECK(first <= last, option, ": the layer range '", token, "' runs backwards; write ",
                last, "-", first);
    for (size_t i = first; i <= last; ++i)
      for (const std::string& p : l.params_of(i)) hit.push_back(p);
    NABLA_CHECK(!hit.empty(), option, ": ",
                first == last ? "layer " + l.describe(first) : "layers " + token, " ha",
                first == last ? "s" : "ve", " no parameters");
    return hit;
  }
  for (const std::string& p : l.params)
    if (has_prefix(p, token)) hit.push_back(p);
  if (!hit.empty()) return hit;
  if (const nn::Module* m = find_module(model, token))
    detail::throw_error(option, ": layer ", token, " (", m->name(), ") has no parameters");
  std::vector<std::string> choices = {"features", "head"};
  for (size_t i = 0; i < n; ++i)
    if (!l.params_of(i).empty()) choices.push_back(l.layers[i].first);
  choices.insert(choices.end(), l.params.begin(), l.params.end());
  detail::throw_error(option, ": no layer or parameter '", token, "' in the model",
                      did_you_mean(token, choices), "; valid: ", join(choices),
                      ", or a layer range A-B in ", valid_range);
}

// A run's --out directory resolves to the checkpoint eval would load; a model file is itself.
std::string checkpoint_dir(const std::string& path) {
  NABLA_CHECK(fs::exists(path), "--init-from: no checkpoint at '", path,
              "' --- pass a model file (.safetensors), a run directory (nabla train --out) or one "
              "of its best/, final/, last/");
  return checkpoint_in(path);
}

// The weights --init-from reads: a model file, or a checkpoint directory's model.safetensors.
std::string weights_file(const std::string& path, const std::string& checkpoint) {
  if (fs::is_regular_file(checkpoint)) return checkpoint;
  const std::string file =
      (fs::path(io::resolve_atomic_directory(checkpoint)) / "model.safetensors").string();
  NABLA_CHECK(fs::is_regular_file(file), "--init-from ", path, ": ", file,
              " does not exist; pass a checkpoint directory or a run's --out directory");
  return file;
}

std::string layer_text(const Shape& weight) {
  if (weight.size() != 2) return shape_text(weight);
  std::ostringstream s;  // Linear's weight is (out, in)
  s << "(" << weight[1] << " -> " << weight[0] << ")";
  return s.str();
}

// What a checkpoint or model file says about its model (nabla/load_model.h), or none for weights
// saved without a description.
std::optional<ModelCard> saved_card(const std::string& checkpoint) {
  const std::string file = weights_file(checkpoint, checkpoint);
  std::optional<ModelCard> card = read_model_card(io::load_safetensors(file).metadata, file);
  const fs::path state = fs::path(io::resolve_atomic_directory(checkpoint)) / "trainer_state.json";
  if (card || fs::is_regular_file(checkpoint) || !fs::is_regular_file(state)) return card;
  // A checkpoint from before the weights carried the run's config.
  const nlohmann::json config = nlohmann::json::parse(io::read_training_state(checkpoint).config);
  if (!config.is_object() || !config.contains("class_names")) return std::nullopt;
  card = ModelCard{};
  card->class_names = config.at("class_names").get<std::vector<std::string>>();
  if (config.contains("normalization")) {
    card->normalization.mean = config.at("normalization").at("mean").get<std::vector<float>>();
    card->normalization.std = config.at("normalization").at("std").get<std::vector<float>>();
  }
  return card;
}

}  // namespace

std::string InitReport::summary() const {
  std::string out =
      "initialised from " + checkpoint + ": " + std::to_string(loaded) + " tensors loaded\n";
  for (const std::string& r : replaced) out += r + "\n";
  return out;
}

InitReport init_from_checkpoint(nn::Module& model, const std::string& path,
                                const std::vector<std::string>& class_names) {
  InitReport report;
  report.checkpoint = checkpoint_dir(path);
#ifdef NABLA_HAVE_ONNX
  // An ONNX model's weights, by layer index as a checkpoint's (docs/onnx.md).
  const bool onnx = path.ends_with(".onnx") && fs::is_regular_file(path);
#else
  const bool onnx = false;
#endif
  const std::string file = onnx ? path : weights_file(path, report.checkpoint);
  io::SafetensorsFile saved;
#ifdef NABLA_HAVE_ONNX
  if (onnx) saved.tensors = io::state_dict(*onnx::import_model(path).model);
#endif
  if (!onnx) saved = io::load_safetensors(file);
  const std::optional<ModelCard> card = onnx ? std::nullopt : saved_card(report.checkpoint);
  const std::vector<std::string> saved_classes =
      card ? card->class_names : std::vector<std::string>{};
  const bool new_task =
      !class_names.empty() && !saved_classes.empty() && saved_classes != class_names;

  const Layers l(model);
  const size_t head = l.head();
  const std::string head_path = head < l.layers.size() ? l.layers[head].first : "";
  const io::NamedTensors mine = io::state_dict(model);
  std::map<std::string, Tensor> ours(mine.begin(), mine.end());

  io::NamedTensors load;
  std::vector<std::string> problems;
  std::string head_from, head_to;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : saved.tensors) {
    seen.insert(name);
    const auto it = ours.find(name);
    if (it == ours.end()) {
      problems.push_back("'" + name + "' " + shape_text(tensor.shape()) +
                         " is in the checkpoint but not in the model");
      continue;
    }
    const bool in_head = !head_path.empty() && has_prefix(name, head_path);
    if (tensor.shape() == it->second.shape() && !(in_head && new_task)) {
      load.emplace_back(name, tensor);
      continue;
    }
    if (in_head) {
      if (name == head_path + ".weight") {
        head_from = layer_text(tensor.shape());
        head_to = layer_text(it->second.shape());
      }
      continue;
    }
    problems.push_back("'" + name + "' is " + shape_text(tensor.shape()) +
                       " in the checkpoint but " + shape_text(it->second.shape()) +
                       " in the model (only the head, layer " + head_path + ", may change shape)");
  }
  for (const auto& [name, tensor] : mine)
    if (!seen.count(name) && !io::may_be_missing(name, tensor))
      problems.push_back("'" + name + "' " + shape_text(tensor.shape()) +
                         " is in the model but not in the checkpoint");
  if (!problems.empty()) {
    std::string text;
    for (const std::string& p : problems) text += "\n  " + p;
    detail::throw_error("--init-from ", path, ": ", file,
                        " does not fit the model (same layers needed, the head aside):", text);
  }
  io::load_state_dict(model, load, /*strict=*/false, file);
  report.loaded = static_cast<int64_t>(load.size());
  if (load.size() < mine.size()) {
    std::string why = new_task ? ": the checkpoint's classes (" + join(saved_classes) +
                                     ") are not this model's (" + join(class_names) + ")"
                               : ": another number of classes";
    report.replaced.push_back("replaced head " + head_path + "." + l.layers[head].second->name() +
                              " " + (head_from.empty() ? "" : head_from + " by " + head_to) +
                              ", freshly initialised" + why);
  }
  return report;
}

#ifdef NABLA_HAVE_ONNX
float onnx_input_scale(const std::vector<int64_t>& sample_shape) {
  return sample_shape.size() == 3 ? 255.0f : 1.0f;
}

data::Normalization onnx_normalization(const onnx::ImportedModel& imported) {
  // Leading Sub/Div nodes are in the input's units (pixels 0..255 for images); the data loader
  // normalises values already divided by 255. Without them the model gets pixels / 255.
  const float scale = onnx_input_scale(imported.sample_shape);
  data::Normalization n;
  for (size_t c = 0; c < imported.input_mean.size(); ++c) {
    n.mean.push_back(imported.input_mean[c] / scale);
    n.std.push_back(imported.input_std[c] / scale);
  }
  return n;
}
#endif

std::optional<data::Normalization> checkpoint_normalization(const std::string& path) {
#ifdef NABLA_HAVE_ONNX
  if (path.ends_with(".onnx") && fs::is_regular_file(path)) {
    const data::Normalization n = onnx_normalization(onnx::import_model(path));
    if (n.mean.empty()) return std::nullopt;
    return n;
  }
#endif
  const std::optional<ModelCard> card = saved_card(checkpoint_dir(path));
  if (!card || card->normalization.empty()) return std::nullopt;
  return card->normalization;
}

std::vector<std::string> select_parameters(const nn::Module& model, const std::string& selectors,
                                           const std::string& option) {
  const Layers l(model);
  std::set<std::string> picked;
  for (const std::string& token : split(selectors, ',')) {
    NABLA_CHECK(!token.empty(), option, " '", selectors,
                "': empty layer selector; separate selectors by single commas");
    for (const std::string& p : select_one(model, l, token, option)) picked.insert(p);
  }
  std::vector<std::string> out;
  for (const std::string& p : l.params)
    if (picked.count(p)) out.push_back(p);
  return out;
}

std::string TrainableParameters::summary() const {
  std::string out;
  if (!frozen.empty()) {
    out += "froze " + std::to_string(frozen.size()) + " parameter tensors (" +
           std::to_string(frozen_values) + " values):";
    for (const std::string& f : frozen) out += " " + f;
    out += "\n";
  }
  std::map<double, std::vector<std::string>> scaled;
  for (size_t i = 0; i < names.size(); ++i)
    if (lr_multipliers[i] != 1) scaled[lr_multipliers[i]].push_back(names[i]);
  for (const auto& [factor, list] : scaled) {
    std::ostringstream line;
    line << "learning rate x" << factor << ":";
    for (const std::string& n : list) line << " " << n;
    out += line.str() + "\n";
  }
  return out;
}

TrainableParameters trainable_parameters(nn::Module& model, const std::string& freeze,
                                         const std::string& lr_mult) {
  const std::vector<std::string> frozen_list =
      freeze.empty() ? std::vector<std::string>{} : select_parameters(model, freeze, "--freeze");
  const std::set<std::string> frozen(frozen_list.begin(), frozen_list.end());

  std::map<std::string, double> factor;
  if (!lr_mult.empty()) {
    for (const std::string& item : split(lr_mult, ',')) {
      const size_t eq = item.rfind('=');
      NABLA_CHECK(eq != std::string::npos && eq > 0, "--lr-mult: '", item,
                  "' is not SELECTOR=FACTOR (e.g. head=10 or features=0.1)");
      const std::string selector = item.substr(0, eq), value = item.substr(eq + 1);
      char* end = nullptr;
      const double f = std::strtod(value.c_str(), &end);
      NABLA_CHECK(
          !value.empty() && end == value.c_str() + value.size() && std::isfinite(f) && f >= 0,
          "--lr-mult: the factor '", value, "' in '", item, "' must be a finite number >= 0");
      const std::vector<std::string> names = select_parameters(model, selector, "--lr-mult");
      bool any_trained = false;
      for (const std::string& n : names)
        if (!frozen.count(n)) factor[n] = f, any_trained = true;
      NABLA_CHECK(any_trained, "--lr-mult: '", selector, "' selects only parameters that --freeze ",
                  freeze, " freezes; a factor for them would do nothing");
    }
  }

  TrainableParameters out;
  for (const auto& [name, p] : model.named_parameters()) {
    if (frozen.count(name)) {
      out.frozen.push_back(name);
      out.frozen_values += p.numel();
      continue;
    }
    out.params.push_back(p);
    out.names.push_back(name);
    const auto it = factor.find(name);
    out.lr_multipliers.push_back(it == factor.end() ? 1.0 : it->second);
  }
  NABLA_CHECK(!out.params.empty(), "--freeze ", freeze,
              " freezes every parameter of the model; nothing is left to train");
  // Only now, when nothing can throw any more: a frozen parameter takes no gradient.
  for (auto& [name, p] : model.named_parameters())
    if (frozen.count(name)) {
      p.zero_grad();
      p.requires_grad_(false);
    }
  return out;
}

}  // namespace nabla::app
