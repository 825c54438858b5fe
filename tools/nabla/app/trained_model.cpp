// A trained model read back for evaluation and prediction (include: app/run.h), through
// nabla::load_model: the model file alone is enough; a run's config adds its options.
#include <filesystem>

#include "app/run_detail.h"
#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/io/checkpoint.h"
#include "nabla/load_model.h"
#include "nabla/models.h"
#include "nabla/ops.h"

namespace nabla::app {

namespace fs = std::filesystem;
using namespace run_detail;

namespace {

// The run config in the file's metadata, or in trainer_state.json beside it; null when neither.
json run_config(const LoadedModel& loaded) {
  if (const auto it = loaded.metadata().find(kConfigMetadataKey); it != loaded.metadata().end())
    return json::parse(it->second);
  const fs::path dir = fs::path(loaded.path()).parent_path();
  if (!fs::is_regular_file(dir / "trainer_state.json")) return nullptr;
  return checkpoint_config(io::read_training_state(dir.string()), dir.string());
}

LoadModelOptions load_options(const ModelFileOptions& file) {
  LoadModelOptions options;
  options.model(file.model.empty() || is_preset(file.model) ? file.model
                                                            : read_text_file(file.model));
  options.input_shape(file.input_shape).class_names(file.class_names);
  if (!file.normalize.empty()) options.normalization(parse_normalize(file.normalize));
  return options;
}

}  // namespace

TrainedModel load_trained_model(const std::string& path, const ModelFileOptions& file) {
  NABLA_CHECK(fs::exists(path), "no checkpoint at '", path,
              "' --- pass a model file (.safetensors), a run directory (nabla train --out) or one "
              "of its best/, final/, last/");
  NABLA_CHECK(file.model.empty() || is_preset(file.model) || fs::is_regular_file(file.model),
              "--model '", file.model, "': not a preset (", join(preset_names()),
              ") nor a JSON description's file");
  const LoadedModel loaded = [&] {
    try {
      return load_model(path, load_options(file));
    } catch (const NoModelDescription&) {
      detail::throw_error(model_file(path),
                          " holds weights but no model description (a PyTorch state dict?): "
                          "pass --model PRESET or --model FILE.json, and --normalize MEAN,STD "
                          "if it was trained on normalised inputs");
    } catch (const Error& e) {
      const std::string what = e.what();
      if (!file.normalize.empty() && what.find("normalisation") != std::string::npos)
        detail::throw_error("--normalize: ", what);
      throw;
    }
  }();
  TrainedModel t;
  t.checkpoint = fs::is_directory(path) ? checkpoint_in(path) : loaded.path();
  t.model = loaded.shared_module();
  t.sample_shape = loaded.input_shape();
  t.class_names = loaded.class_names();
  t.normalization = loaded.normalization();
  const json config = run_config(loaded);
  if (config.is_object()) t.config = config.dump();
  if (config.is_object() && config.contains("options")) {
    t.options = options_from_json(config.at("options"));
    const auto epoch = loaded.metadata().find(io::kEpochMetadataKey);
    t.epoch = epoch != loaded.metadata().end()
                  ? std::stoll(epoch->second)
                  : io::read_training_state(fs::path(loaded.path()).parent_path().string()).epoch;
  } else {
    t.options.dataset = "";
    t.options.data_dir = "";
  }
  if (!file.model.empty()) t.options.model = file.model;
  return t;
}

data::DataLoader eval_loader(const TrainedModel& trained, const data::Dataset& dataset,
                             int64_t batch_size) {
  NABLA_CHECK(dataset.sample_shape() == Shape(trained.sample_shape), dataset.name(),
              ": samples of shape ", dataset.sample_shape(), " but the model in ",
              trained.checkpoint, " was trained on ", Shape(trained.sample_shape));
  NABLA_CHECK(dataset.num_classes() == static_cast<int64_t>(trained.class_names.size()),
              dataset.name(), ": ", dataset.num_classes(), " classes but the model in ",
              trained.checkpoint, " has ", trained.class_names.size());
  return data::DataLoader(dataset,
                          data::DataLoaderOptions(batch_size).normalize(trained.normalization));
}

std::vector<double> predict_probabilities(const TrainedModel& trained, const data::Dataset& one,
                                          int64_t index) {
  NABLA_CHECK(index >= 0 && index < one.size(), "predict: index ", index, " is outside [0, ",
              one.size(), ") of ", one.name());
  const data::Dataset sample = one.subset({index});
  const data::DataLoader loader = eval_loader(trained, sample, 1);
  NoGradGuard no_grad;
  trained.model->eval();
  const Tensor logits = trained.model->forward(loader.epoch(0).batch(0).images);
  return softmax(logits, -1).to_vector();
}

}  // namespace nabla::app
