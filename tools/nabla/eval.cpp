// `nabla eval`: accuracy, per-class accuracy and confusion matrix of a trained checkpoint.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "app/run.h"
#include "commands.h"
#include "nabla/threads.h"

namespace nabla::cli {

namespace {

struct EvalArgs {
  std::string checkpoint;
  std::string dataset;  // "": the run's
  std::string data_dir;
  std::string split = "test";
  int64_t subset = 0;
  int64_t batch_size = 256;
  int threads = 0;
  app::ModelFileOptions file;  // --model, --normalize
};

// The data set's options: the run's, or for a model file without one --dataset alone.
app::RunOptions data_options_of(const app::TrainedModel& trained, const EvalArgs& args) {
  app::RunOptions o = trained.options;
  if (!args.dataset.empty()) o.dataset = args.dataset;
  NABLA_CHECK(!o.dataset.empty(), "eval: ", trained.checkpoint,
              " does not say which data set it was trained on; pass --dataset");
  o.train_subset = o.test_subset = args.subset;
  return o;
}

void run_eval(const EvalArgs& args) {
  if (args.threads > 0) set_num_threads(args.threads);
  const data::Split split = args.split == "train" ? data::Split::Train : data::Split::Test;
  app::ModelFileOptions file = args.file;
  data::Dataset dataset;
  const bool data_first = !args.dataset.empty() && !args.file.model.empty();
  if (data_first) {  // a preset, or a bare file, takes the data's shape and classes
    app::RunOptions o;
    o.dataset = args.dataset;
    o.train_subset = o.test_subset = args.subset;
    dataset = app::load_run_dataset(o, split, args.data_dir);
    file.input_shape.assign(dataset.sample_shape().begin(), dataset.sample_shape().end());
    file.class_names = dataset.class_names();
  }
  const app::TrainedModel trained = app::load_trained_model(args.checkpoint, file);
  const app::RunOptions data_options = data_options_of(trained, args);
  if (!data_first) dataset = app::load_run_dataset(data_options, split, args.data_dir);
  const train::EvalResult r =
      train::evaluate(*trained.model, app::eval_loader(trained, dataset, args.batch_size));

  if (trained.options.dataset.empty())
    std::printf("model %s: %s\n", trained.checkpoint.c_str(),
                args.file.model.empty() ? "its own description" : args.file.model.c_str());
  else
    std::printf("checkpoint %s: %s after %lld epoch%s on %s\n", trained.checkpoint.c_str(),
                trained.options.model.c_str(), static_cast<long long>(trained.epoch),
                trained.epoch == 1 ? "" : "s", trained.options.dataset.c_str());
  std::printf("%s %s set: %lld images\n", data_options.dataset.c_str(), args.split.c_str(),
              static_cast<long long>(r.samples));
  std::printf("accuracy %.2f%%  (mean cross-entropy %.4f)\n\nper-class accuracy\n",
              100 * r.accuracy, r.loss);
  const std::vector<double> per_class = r.confusion.per_class_accuracy();
  size_t width = 0;
  for (const std::string& n : dataset.class_names()) width = std::max(width, n.size());
  for (size_t c = 0; c < per_class.size(); ++c) {
    const int64_t support = r.confusion.support(static_cast<int64_t>(c));
    if (support == 0)
      std::printf("  %-*s       -  (no images)\n", static_cast<int>(width),
                  dataset.class_names()[c].c_str());
    else
      std::printf("  %-*s  %6.2f%%  (%lld images)\n", static_cast<int>(width),
                  dataset.class_names()[c].c_str(), 100 * per_class[c],
                  static_cast<long long>(support));
  }
  std::printf("\nconfusion matrix (rows: true class, columns: predicted class)\n%s",
              train::format_confusion_matrix(r.confusion, dataset.class_names()).c_str());
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Accuracy, per-class accuracy and confusion matrix of a trained checkpoint");
  cmd->add_option("checkpoint", args->checkpoint,
                  "A model file (.safetensors), a run directory (nabla train --out; uses best/) "
                  "or a checkpoint directory")
      ->required();
  cmd->add_option("--model", args->file.model,
                  "The architecture of weights without a description (a PyTorch state dict): a "
                  "preset or a JSON description's path");
  cmd->add_option("--normalize", args->file.normalize,
                  "MEAN,STD the inputs of such weights were normalised with (pixels in [0, 1])");
  cmd->add_option("--dataset", args->dataset, "Data set to evaluate on (default: the run's)");
  cmd->add_option("--data-dir", args->data_dir, "Directory of its files (default: the run's)");
  cmd->add_option("--split", args->split, "test or train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train"}));
  cmd->add_option("--subset", args->subset, "Evaluate the first N images only")->check(kPositive);
  cmd->add_option("--batch-size", args->batch_size, "Images per forward pass")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--threads", args->threads,
                  "Threads for the compute (default: NABLA_NUM_THREADS, else all cores)")
      ->check(kPositive);
  cmd->callback([args, &exit_code] {
    run_eval(*args);
    exit_code = 0;
  });
}

}  // namespace nabla::cli
