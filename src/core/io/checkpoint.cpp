// Checkpoints (see include/nabla/io/checkpoint.h and docs/checkpoints.md): three files in a
// directory that is replaced as a whole. Loading reads and checks every file first and only then
// writes into the model and optimizer, so a bad checkpoint leaves both as they were.
#include "nabla/io/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "io/json_depth.h"
#include "nabla/autograd.h"
#include "nabla/io/atomic_file.h"
#include "nabla/load_model.h"

namespace nabla::io {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kStateFile = "trainer_state.json";
constexpr const char* kFormat = "nabla.checkpoint";
constexpr int kVersion = 1;
// trainer_state.json holds a few numbers, RNG states and the trainer's JSON; far below this.
constexpr uint64_t kMaxStateBytes = 256ull << 20;

std::string join(const std::string& dir, const char* name) {
  return (fs::path(dir) / name).string();
}

void collect_state_dict(const nn::Module& module, const std::string& prefix, NamedTensors& out) {
  for (const auto& [name, t] : module.named_parameters(false)) out.emplace_back(prefix + name, t);
  for (const auto& [name, t] : module.named_buffers(false)) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : module.named_children())
    collect_state_dict(*child, prefix + name + ".", out);
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "\"" : ", \"") + n + "\"";
  return out;
}

// The (destination, source) pairs to copy, after every check has passed.
using CopyPlan = std::vector<std::pair<Tensor, Tensor>>;

CopyPlan plan_state_dict(const nn::Module& module, const NamedTensors& tensors, bool strict,
                         const std::string& source) {
  NamedTensors own = state_dict(module);
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : tensors) given.emplace(name, &t);
  std::vector<std::string> missing, unexpected, mismatched;
  std::set<std::string> own_names;
  CopyPlan plan;
  for (const auto& [name, dst] : own) {
    own_names.insert(name);
    auto it = given.find(name);
    if (it == given.end()) {
      if (!may_be_missing(name, dst)) missing.push_back(name);
      continue;
    }
    const Tensor& src = *it->second;
    if (src.shape() != dst.shape()) {
      std::ostringstream m;
      m << "size mismatch for " << name << ": " << source << " has shape " << src.shape()
        << ", the model " << dst.shape();
      mismatched.push_back(m.str());
      continue;
    }
    plan.emplace_back(dst, src);
  }
  for (const auto& [name, t] : tensors)
    if (!own_names.count(name)) unexpected.push_back(name);
  if (!strict) {
    missing.clear();
    unexpected.clear();
  }
  if (missing.empty() && unexpected.empty() && mismatched.empty()) return plan;
  std::ostringstream msg;
  msg << "load_state_dict: error(s) loading " << source << " into " << module.name() << ":";
  if (!missing.empty()) msg << "\n  missing key(s): " << quoted_list(missing);
  if (!unexpected.empty()) msg << "\n  unexpected key(s): " << quoted_list(unexpected);
  for (const auto& m : mismatched) msg << "\n  " << m;
  throw Error(msg.str());
}

void apply(const CopyPlan& plan) {
  NoGradGuard no_grad;
  for (const auto& [dst, src] : plan) {
    Tensor d = dst;  // a handle to the module's own tensor: copy_ writes through it
    d.copy_(src);
  }
}

// ---- JSON files ----

template <class... Parts>
[[noreturn]] void fail_at(const std::string& path, uint64_t offset, const Parts&... parts) {
  detail::throw_error("load_checkpoint: ", path, ": byte ", offset, ": ", parts...);
}

// Offset of `"key":` in `text`, for messages (0 when spelled otherwise).
uint64_t key_offset(const std::string& text, const std::string& key) {
  const std::string quoted = Json(key).dump();
  for (size_t at = text.find(quoted); at != std::string::npos; at = text.find(quoted, at + 1)) {
    size_t after = text.find_first_not_of(" \t\r\n", at + quoted.size());
    if (after != std::string::npos && text[after] == ':') return at;
  }
  return 0;
}

Json parse_json(const std::string& text, const std::string& path, uint64_t base = 0) {
  if (const size_t at = io_detail::json_too_deep(text); at != std::string::npos)
    fail_at(path, base + at, "JSON nested deeper than ", io_detail::kMaxJsonDepth, " levels");
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    size_t colon = what.find(": ");
    fail_at(path, base + (e.byte > 0 ? e.byte - 1 : 0), "not valid JSON: ",
            io_detail::printable(colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const Json::exception& e) {
    fail_at(path, base, "not valid JSON: ", io_detail::json_error_text(e.what()));
  }
}

std::string read_text(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  NABLA_CHECK(!ec, "load_checkpoint: cannot read ", path, ": ", ec.message());
  if (size > kMaxStateBytes)
    fail_at(path, 0, "the file has ", size, " bytes, more than a checkpoint's state can (",
            kMaxStateBytes, ")");
  std::ifstream in(path, std::ios::binary);
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  NABLA_CHECK(in.good() || in.eof(), "load_checkpoint: cannot read ", path);
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

int64_t count_field(const Json& root, const char* key, const std::string& text,
                    const std::string& path) {
  if (!root.contains(key)) fail_at(path, 0, "missing \"", key, "\"");
  const Json& v = root[key];
  if (!v.is_number_unsigned() || v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    fail_at(path, key_offset(text, key), "\"", key, "\" must be a non-negative integer, got ",
            v.dump());
  return v.get<int64_t>();
}

TrainingState parse_training_state(const std::string& path) {
  const std::string text = read_text(path);
  const Json root = parse_json(text, path);
  if (!root.is_object()) fail_at(path, 0, "expected a JSON object, got ", root.type_name());
  if (!root.contains("format") || root["format"] != kFormat)
    fail_at(path, key_offset(text, "format"), "\"format\" is not \"", kFormat,
            "\": not a nabla checkpoint");
  if (!root.contains("version") || root["version"] != kVersion)
    fail_at(path, key_offset(text, "version"), "checkpoint version ",
            root.contains("version") ? root["version"].dump() : "(none)",
            " is not the one this nabla reads (", kVersion, ")");
  TrainingState state;
  state.epoch = count_field(root, "epoch", text, path);
  state.step = count_field(root, "step", text, path);
  if (root.contains("rng")) {
    const Json& rng = root["rng"];
    if (!rng.is_object())
      fail_at(path, key_offset(text, "rng"), "\"rng\" must be an object of strings");
    for (const auto& [name, value] : rng.items()) {
      if (!value.is_string())
        fail_at(path, key_offset(text, name), "\"rng\" entry '", name, "' must be a string");
      state.rng[name] = value.get<std::string>();
    }
  }
  state.config = root.contains("config") ? root["config"].dump() : "{}";
  return state;
}

// ---- optimizer file ----

struct OptimizerFile {
  std::string path;
  NamedTensors tensors;
  std::vector<std::pair<std::string, double>> hyperparameters;
};

OptimizerFile read_optimizer(const std::string& path, const optim::Optimizer& optimizer) {
  SafetensorsFile file = load_safetensors(path);
  auto meta = [&](const char* key) -> const std::string& {
    auto it = file.metadata.find(key);
    NABLA_CHECK(it != file.metadata.end(), "load_checkpoint: ", path, ": __metadata__ has no \"",
                key, "\"; not written by nabla's save_checkpoint");
    return it->second;
  };
  NABLA_CHECK(meta("nabla.optimizer") == optimizer.name(), "load_checkpoint: ", path, " holds ",
              meta("nabla.optimizer"), " state but the optimizer is ", optimizer.name());
  const std::string& count = meta("nabla.parameters");
  NABLA_CHECK(count == std::to_string(optimizer.params().size()), "load_checkpoint: ", path,
              " holds state for ", count, " parameters but the optimizer has ",
              optimizer.params().size());
  const std::string& hyper_text = meta("nabla.hyperparameters");
  NABLA_CHECK(io_detail::json_too_deep(hyper_text) == std::string::npos, "load_checkpoint: ", path,
              ": __metadata__ \"nabla.hyperparameters\" nests deeper than ",
              io_detail::kMaxJsonDepth, " levels");
  Json hyper;
  try {
    hyper = Json::parse(hyper_text);
  } catch (const Json::parse_error& e) {
    NABLA_CHECK(false, "load_checkpoint: ", path,
                ": __metadata__ \"nabla.hyperparameters\" is not valid JSON: ", e.what());
  } catch (const Json::exception& e) {
    NABLA_CHECK(false, "load_checkpoint: ", path,
                ": __metadata__ \"nabla.hyperparameters\" is not valid JSON: ",
                io_detail::json_error_text(e.what()));
  }
  NABLA_CHECK(hyper.is_object(), "load_checkpoint: ", path,
              ": __metadata__ \"nabla.hyperparameters\" must be a JSON object");
  OptimizerFile out{path, std::move(file.tensors), {}};
  for (const auto& [key, value] : hyper.items()) {
    NABLA_CHECK(value.is_number(), "load_checkpoint: ", path, ": hyperparameter '", key,
                "' must be a number, got ", value.dump());
    out.hyperparameters.emplace_back(key, value.get<double>());
  }
  return out;
}

}  // namespace

bool may_be_missing(const std::string& name, const Tensor& t) {
  const std::string suffix = "num_batches_tracked";
  return t.dtype() == kInt64 && name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
         (name.size() == suffix.size() || name[name.size() - suffix.size() - 1] == '.');
}

// ---------------------------------------------------------------- model weights

NamedTensors state_dict(const nn::Module& module) {
  NamedTensors out;
  collect_state_dict(module, "", out);
  return out;
}

void load_state_dict(nn::Module& module, const NamedTensors& tensors, bool strict,
                     const std::string& source) {
  apply(plan_state_dict(module, tensors, strict, source));
}

void save_weights(const std::string& path, const nn::Module& module, const Metadata& metadata) {
  save_safetensors(path, state_dict(module), metadata);
}

Metadata load_weights(const std::string& path, nn::Module& module, bool strict) {
  SafetensorsFile file = load_safetensors(path);
  load_state_dict(module, file.tensors, strict, path);
  return file.metadata;
}

// ---------------------------------------------------------------- checkpoints

void save_checkpoint(const std::string& dir, const nn::Module& model,
                     const optim::Optimizer* optimizer, const TrainingState& state) {
  NABLA_CHECK(state.epoch >= 0 && state.step >= 0, "save_checkpoint: epoch ", state.epoch,
              " and step ", state.step, " must be non-negative");
  Json config;
  try {
    config = Json::parse(state.config);
  } catch (const Json::parse_error& e) {
    NABLA_CHECK(false, "save_checkpoint: the config is not valid JSON (byte ",
                e.byte > 0 ? e.byte - 1 : 0, "): ", e.what());
  } catch (const Json::exception& e) {
    NABLA_CHECK(false, "save_checkpoint: the config is not valid JSON: ",
                io_detail::json_error_text(e.what()));
  }
  const fs::path parent = fs::path(dir).lexically_normal().parent_path();
  if (!parent.empty()) fs::create_directories(parent);

  Metadata metadata = {{"format", "pt"},
                       {kEpochMetadataKey, std::to_string(state.epoch)},
                       {"nabla.step", std::to_string(state.step)},
                       {kConfigMetadataKey, config.dump()}};
  // A trainer's config that describes the model makes model.safetensors a model file on its own
  // (nabla/load_model.h): the card's entries are written beside the config.
  const bool describes = config.is_object() && config.contains("model") &&
                         config.contains("sample_shape") && config.contains("class_names") &&
                         config.contains("normalization");
  if (describes)
    if (const auto card = read_model_card({{kConfigMetadataKey, config.dump()}}, dir))
      metadata.merge(model_card_metadata(*card));
  AtomicDirectory out(dir);
  save_safetensors(out.file(kModelFile), state_dict(model), metadata);
  if (optimizer) {
    Json hyper = Json::object();
    for (const auto& [key, value] : optimizer->hyperparameters()) hyper[key] = value;
    save_safetensors(out.file(kOptimizerFile), optimizer->state(),
                     {{"nabla.optimizer", optimizer->name()},
                      {"nabla.parameters", std::to_string(optimizer->params().size())},
                      {"nabla.hyperparameters", hyper.dump()}});
  }
  Json root = {
      {"format", kFormat},    {"version", kVersion},
      {"epoch", state.epoch}, {"step", state.step},
      {"rng", state.rng},     {"optimizer", optimizer ? Json(optimizer->name()) : Json(nullptr)},
      {"config", config}};
  write_file_atomic(out.file(kStateFile), root.dump(2) + "\n");
  out.commit();
}

TrainingState read_training_state(const std::string& dir) {
  const std::string resolved = resolve_atomic_directory(dir);
  const std::string path = join(resolved, kStateFile);
  std::error_code ec;
  NABLA_CHECK(fs::is_regular_file(path, ec), "load_checkpoint: ", dir,
              " is not a checkpoint directory: ", path, " does not exist");
  return parse_training_state(path);
}

TrainingState load_checkpoint(const std::string& dir, nn::Module& model,
                              optim::Optimizer* optimizer) {
  const std::string resolved = resolve_atomic_directory(dir);
  TrainingState state = read_training_state(dir);
  const std::string model_path = join(resolved, kModelFile);
  SafetensorsFile weights = load_safetensors(model_path);
  CopyPlan plan = plan_state_dict(model, weights.tensors, true, model_path);
  if (optimizer) {
    const std::string path = join(resolved, kOptimizerFile);
    std::error_code ec;
    NABLA_CHECK(fs::is_regular_file(path, ec), "load_checkpoint: ", dir,
                " has no optimizer state (", path,
                " does not exist): it was saved without an optimizer");
    OptimizerFile file = read_optimizer(path, *optimizer);
    // set_hyperparameters and load_state each change nothing when they throw; undo the first
    // if the second does.
    const auto previous = optimizer->hyperparameters();
    try {
      optimizer->set_hyperparameters(file.hyperparameters);
    } catch (const Error& e) {
      throw Error("load_checkpoint: " + path + ": " + e.what());
    }
    try {
      optimizer->load_state(file.tensors);
    } catch (const Error& e) {
      optimizer->set_hyperparameters(previous);
      throw Error("load_checkpoint: " + path + ": " + e.what());
    }
  }
  apply(plan);
  return state;
}

}  // namespace nabla::io
