// load_model (include/nabla/load_model.h): a model file's card, the rebuilt module and the raw
// input path through the shared normalisation (nabla/normalization.h).
#include "nabla/load_model.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "io/json_depth.h"
#include "nabla/autograd.h"
#include "nabla/io/atomic_file.h"
#include "nabla/io/checkpoint.h"
#include "nabla/models.h"
#include "nabla/nn/inference.h"
#include "nabla/ops.h"

namespace nabla {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kModelKey = "nabla.model";
constexpr const char* kClassesKey = "nabla.classes";
constexpr const char* kInputKey = "nabla.input";

Json parse_entry(const std::string& text, const std::string& source, const std::string& key) {
  NABLA_CHECK(io_detail::json_too_deep(text) == std::string::npos, "load_model: ", source,
              ": __metadata__ \"", key, "\" nests deeper than ", io_detail::kMaxJsonDepth,
              " levels");
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    detail::throw_error("load_model: ", source, ": __metadata__ \"", key,
                        "\" is not valid JSON: ", io_detail::json_error_text(e.what()));
  }
}

// card.<field> = json.at(name) as T, naming the entry when it has another type.
template <class T>
T field(const Json& j, const char* name, const std::string& source, const std::string& key) {
  NABLA_CHECK(j.is_object() && j.contains(name), "load_model: ", source, ": __metadata__ \"", key,
              "\" has no \"", name, "\"");
  try {
    return j.at(name).get<T>();
  } catch (const Json::exception&) {
    detail::throw_error("load_model: ", source, ": __metadata__ \"", key, "\": \"", name,
                        "\" has the wrong type: ", j.at(name).dump());
  }
}

// The card a trainer's config holds ("model", "sample_shape", "class_names", "normalization").
std::optional<ModelCard> card_from_config(const Json& config, const std::string& source,
                                          const std::string& key) {
  if (!config.is_object() || !config.contains("model")) return std::nullopt;
  ModelCard card;
  card.description = config.at("model").dump();
  card.input_shape = field<std::vector<int64_t>>(config, "sample_shape", source, key);
  card.class_names = field<std::vector<std::string>>(config, "class_names", source, key);
  const Json norm = field<Json>(config, "normalization", source, key);
  card.normalization.mean = field<std::vector<float>>(norm, "mean", source, key);
  card.normalization.std = field<std::vector<float>>(norm, "std", source, key);
  return card;
}

std::string first_bytes(const std::string& file, size_t n) {
  std::ifstream in(file, std::ios::binary);
  NABLA_CHECK(in, "load_model: cannot open ", file);
  std::string bytes(n, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(n));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

// safetensors: an 8-byte little-endian header length, then the header's '{'.
bool is_safetensors(const std::string& first) {
  return first.size() >= 9 && first[8] == '{';
}

std::vector<ModelFormat>& formats() {
  static std::vector<ModelFormat> registered;
  return registered;
}
std::mutex& formats_mutex() {
  static std::mutex m;
  return m;
}

std::string description_for(const LoadModelOptions& options, const io::SafetensorsFile& file) {
  const auto& presets = preset_names();
  if (std::find(presets.begin(), presets.end(), options.model()) == presets.end())
    return options.model();
  ModelConfig config;
  if (!options.input_shape().empty()) {
    const std::vector<int64_t>& s = options.input_shape();
    config.in_channels = s[0];
    config.height = s.size() == 3 ? s[1] : 1;
    config.width = s.size() == 3 ? s[2] : 1;
  }
  // The presets end with the classifier's bias: its length is the class count.
  NABLA_CHECK(!file.tensors.empty() && file.tensors.back().second.dim() == 1,
              "load_model: ", file.path,
              ": the last tensor is not a classifier's bias; give a JSON description "
              "instead of the preset ",
              options.model());
  config.num_classes = file.tensors.back().second.size(0);
  return preset_json(options.model(), config);
}

std::vector<int64_t> described_input(const std::string& description, const std::string& source) {
  const Json j = parse_entry(description, source, kModelKey);
  return field<std::vector<int64_t>>(j, "input", source, kModelKey);
}

// The card of a file read with `options`: the file's own, completed or overridden by options.
ModelCard card_for(const io::SafetensorsFile& file, const LoadModelOptions& options) {
  std::optional<ModelCard> own = read_model_card(file.metadata, file.path);
  if (!own) {  // a checkpoint from before nabla.config: its trainer_state.json
    const fs::path dir = fs::path(file.path).parent_path();
    if (fs::is_regular_file(dir / "trainer_state.json"))
      own = card_from_config(Json::parse(io::read_training_state(dir.string()).config),
                             (dir / "trainer_state.json").string(), "config");
  }
  if (!own && options.model().empty())
    throw NoModelDescription("load_model: " + file.path +
                             " holds weights but no model description (a PyTorch state dict, or "
                             "weights saved without one); give the architecture: a preset name "
                             "or a JSON description (LoadModelOptions::model)");
  ModelCard card = own.value_or(ModelCard{});
  if (!options.model().empty()) {
    card.description = description_for(options, file);
    const std::vector<int64_t> input = described_input(card.description, file.path);
    if (card.input_shape.empty() || Shape(card.input_shape).numel() != Shape(input).numel())
      card.input_shape = input;
  }
  if (options.normalization()) {
    NABLA_CHECK(card.normalization.empty(), "load_model: ", file.path,
                " carries the normalisation it was trained with (", card.normalization.mean.size(),
                " channel(s), mean ", card.normalization.mean.front(), ", std ",
                card.normalization.std.front(), "); another would feed it inputs it never saw");
    card.normalization =
        for_channels(*options.normalization(), card.input_shape.empty() ? 1 : card.input_shape[0]);
  }
  const std::vector<int64_t> out = model_output_shape(card.description, file.path);
  NABLA_CHECK(out.size() == 1, "load_model: ", file.path, ": the model outputs ", Shape(out),
              " per sample, not one score per class");
  if (card.class_names.empty()) {
    card.class_names = options.class_names();
    for (int64_t k = static_cast<int64_t>(card.class_names.size()); k < out[0]; ++k)
      card.class_names.push_back(std::to_string(k));
  }
  NABLA_CHECK(static_cast<int64_t>(card.class_names.size()) == out[0], "load_model: ", file.path,
              ": ", card.class_names.size(), " class names for a model with ", out[0], " outputs");
  NABLA_CHECK(!card.input_shape.empty() && card.input_shape[0] > 0, "load_model: ", file.path,
              ": no input shape");
  // Checked here, so that a bad normalisation is named at load rather than at the first image.
  channel_affine(card.normalization, card.input_shape[0], true, "load_model: " + file.path);
  return card;
}

LoadedModel load_safetensors_model(const std::string& path, const LoadModelOptions& options) {
  const io::SafetensorsFile file = io::load_safetensors(path);
  ModelCard card = card_for(file, options);
  std::shared_ptr<nn::Sequential> module = model_from_json(card.description, 0, path);
  io::load_state_dict(*module, file.tensors, /*strict=*/true, path);
  return LoadedModel(path, std::move(module), std::move(card), file.metadata);
}

// Floats as the shortest decimal that reads back to the same float ([0.286], not
// [0.28600001335144043]).
Json shortest(const std::vector<float>& values) {
  Json out = Json::array();
  for (float v : values) {
    char text[32];
    const auto end = std::to_chars(text, text + sizeof text, v).ptr;
    out.push_back(std::stod(std::string(text, end)));
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- the card

io::Metadata model_card_metadata(const ModelCard& card) {
  const Json description = Json::parse(card.description);
  const int64_t channels = card.input_shape.empty() ? 0 : card.input_shape[0];
  const Json input = {{"shape", card.input_shape},
                      {"channels", channels},
                      {"pixel_scale", 255},
                      {"mean", shortest(card.normalization.mean)},
                      {"std", shortest(card.normalization.std)}};
  return {{kModelKey, description.dump()},
          {kClassesKey, Json(card.class_names).dump()},
          {kInputKey, input.dump()}};
}

std::optional<ModelCard> read_model_card(const io::Metadata& metadata, const std::string& source) {
  if (const auto it = metadata.find(kModelKey); it != metadata.end()) {
    ModelCard card;
    card.description = parse_entry(it->second, source, kModelKey).dump();
    const auto classes = metadata.find(kClassesKey);
    if (classes != metadata.end()) {
      const Json j = parse_entry(classes->second, source, kClassesKey);
      card.class_names =
          field<std::vector<std::string>>(Json{{"names", j}}, "names", source, kClassesKey);
    }
    const auto input = metadata.find(kInputKey);
    if (input != metadata.end()) {
      const Json j = parse_entry(input->second, source, kInputKey);
      card.input_shape = field<std::vector<int64_t>>(j, "shape", source, kInputKey);
      card.normalization.mean = field<std::vector<float>>(j, "mean", source, kInputKey);
      card.normalization.std = field<std::vector<float>>(j, "std", source, kInputKey);
    } else {
      card.input_shape = described_input(card.description, source);
    }
    return card;
  }
  if (const auto it = metadata.find(kConfigMetadataKey); it != metadata.end())
    return card_from_config(parse_entry(it->second, source, kConfigMetadataKey), source,
                            kConfigMetadataKey);
  return std::nullopt;
}

void save_model(const std::string& path, const nn::Module& module, const ModelCard& card) {
  io::Metadata metadata = model_card_metadata(card);
  metadata.emplace("format", "pt");
  io::save_weights(path, module, metadata);
}

// ---------------------------------------------------------------- finding and loading

std::string checkpoint_in(const std::string& path) {
  if (fs::is_directory(fs::path(path) / "last") || fs::is_directory(fs::path(path) / "final"))
    for (const char* sub : {"best", "final", "last"})
      if (fs::is_directory(fs::path(path) / sub)) return (fs::path(path) / sub).string();
  return path;
}

std::string model_file(const std::string& path) {
  NABLA_CHECK(fs::exists(path), "load_model: no model at '", path,
              "': give a model file (.safetensors), a checkpoint directory or a run directory");
  if (!fs::is_directory(path)) return path;
  const fs::path file =
      fs::path(io::resolve_atomic_directory(checkpoint_in(path))) / "model.safetensors";
  NABLA_CHECK(fs::is_regular_file(file), "load_model: ", path, " holds no model: ", file.string(),
              " does not exist");
  return file.string();
}

void register_model_format(ModelFormat format) {
  std::lock_guard<std::mutex> lock(formats_mutex());
  formats().push_back(std::move(format));
}

LoadedModel load_model(const std::string& path, const LoadModelOptions& options) {
  const std::string file = model_file(path);
  const std::string first = first_bytes(file, 16);
  if (is_safetensors(first)) return load_safetensors_model(file, options);
  std::vector<ModelFormat> known;
  {
    std::lock_guard<std::mutex> lock(formats_mutex());
    known = formats();
  }
  std::string names = "safetensors";
  for (const ModelFormat& f : known) {
    if (f.recognises(first)) return f.load(file, options);
    names += ", " + f.name;
  }
  detail::throw_error("load_model: ", file, ": not a model file this nabla reads (", names, ")");
}

// ---------------------------------------------------------------- raw inputs

LoadedModel::LoadedModel(std::string path, std::shared_ptr<nn::Sequential> module, ModelCard card,
                         io::Metadata metadata)
    : path_(std::move(path)),
      module_(std::move(module)),
      card_(std::move(card)),
      metadata_(std::move(metadata)) {
  module_->eval();
}

int64_t LoadedModel::samples_in(const std::vector<int64_t>& shape, size_t numel) const {
  const std::vector<int64_t>& in = card_.input_shape;
  if (static_cast<int64_t>(numel) != Shape(shape).numel()) return 0;
  auto ends_with = [&](std::vector<int64_t>::const_iterator from) {
    const auto tail = static_cast<size_t>(in.end() - from);
    return shape.size() >= tail && shape.size() <= tail + 1 &&
           std::equal(from, in.end(), shape.end() - static_cast<std::ptrdiff_t>(tail));
  };
  const bool fits =
      ends_with(in.begin()) || (in.size() == 3 && in[0] == 1 && ends_with(in.begin() + 1));
  if (!fits) return 0;
  return Shape(shape).numel() / Shape(in).numel();
}

template <class T>
Tensor LoadedModel::prepare_values(const T* values, const std::vector<int64_t>& shape,
                                   size_t numel) const {
  const int64_t n = samples_in(shape, numel);
  NABLA_CHECK(n > 0, "load_model: ", path_, ": an input of shape ", Shape(shape), " (", numel,
              " values) is not the model's ", Shape(card_.input_shape),
              " (or that with a leading count N)");
  const std::vector<int64_t> described = described_input(card_.description, path_);
  std::vector<int64_t> batch = described;
  batch.insert(batch.begin(), n);
  Tensor out = Tensor::empty(Shape(batch));
  const int64_t C = card_.input_shape[0], per_sample = Shape(card_.input_shape).numel();
  const ChannelAffine affine =
      channel_affine(card_.normalization, C, std::is_same_v<T, uint8_t>, "load_model: " + path_);
  float* dst = out.data<float>();
  for (int64_t i = 0; i < n; ++i)
    normalize_planes(dst + i * per_sample, values + i * per_sample, per_sample / C, affine);
  return out;
}

Tensor LoadedModel::prepare(const uint8_t* pixels, const std::vector<int64_t>& shape) const {
  return prepare_values(pixels, shape, static_cast<size_t>(Shape(shape).numel()));
}

Tensor LoadedModel::prepare(const float* values, const std::vector<int64_t>& shape) const {
  return prepare_values(values, shape, static_cast<size_t>(Shape(shape).numel()));
}

Tensor LoadedModel::probabilities(const Tensor& prepared) const {
  NoGradGuard no_grad;
  return softmax(nn::infer(*module_, prepared), -1);
}

std::vector<double> LoadedModel::predict(const std::vector<uint8_t>& pixels,
                                         const std::vector<int64_t>& shape) const {
  return probabilities(prepare_values(pixels.data(), shape, pixels.size())).to_vector();
}

std::vector<double> LoadedModel::predict(const std::vector<float>& values,
                                         const std::vector<int64_t>& shape) const {
  return probabilities(prepare_values(values.data(), shape, values.size())).to_vector();
}

}  // namespace nabla
