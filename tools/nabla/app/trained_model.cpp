// A trained run read back for evaluation and prediction (include: app/run.h).
#include <filesystem>

#include "app/run_detail.h"
#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/io/checkpoint.h"
#include "nabla/models.h"
#include "nabla/ops.h"

namespace nabla::app {

namespace fs = std::filesystem;
using namespace run_detail;

TrainedModel load_trained_model(const std::string& path) {
  std::string dir = path;
  if (fs::is_directory(fs::path(path) / "last") || fs::is_directory(fs::path(path) / "final")) {
    for (const char* sub : {"best", "final", "last"})
      if (fs::is_directory(fs::path(path) / sub)) {
        dir = (fs::path(path) / sub).string();
        break;
      }
  }
  NABLA_CHECK(fs::exists(path), "no checkpoint at '", path,
              "' --- pass a run directory (nabla train --out) or one of its best/, final/, "
              "last/");
  const io::TrainingState state = io::read_training_state(dir);
  const json config = checkpoint_config(state, dir);
  TrainedModel t;
  t.checkpoint = dir;
  t.epoch = state.epoch;
  t.options = options_from_json(config.at("options"));
  const std::string description = config.at("model").dump();
  t.model = model_from_json(description, t.options.seed, dir);
  io::load_checkpoint(dir, *t.model, nullptr);
  t.model->eval();
  t.sample_shape = config.at("sample_shape").get<std::vector<int64_t>>();
  t.class_names = config.at("class_names").get<std::vector<std::string>>();
  t.normalization.mean = config.at("normalization").at("mean").get<std::vector<float>>();
  t.normalization.std = config.at("normalization").at("std").get<std::vector<float>>();
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
