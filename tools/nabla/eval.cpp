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
};

void run_eval(const EvalArgs& args) {
  if (args.threads > 0) set_num_threads(args.threads);
  const app::TrainedModel trained = app::load_trained_model(args.checkpoint);
  app::RunOptions data_options = trained.options;
  if (!args.dataset.empty()) data_options.dataset = args.dataset;
  data_options.train_subset = data_options.test_subset = args.subset;
  const data::Split split = args.split == "train" ? data::Split::Train : data::Split::Test;
  const data::Dataset dataset = app::load_run_dataset(data_options, split, args.data_dir);
  const train::EvalResult r =
      train::evaluate(*trained.model, app::eval_loader(trained, dataset, args.batch_size));

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
                  "A run directory (nabla train --out; uses best/) or a checkpoint directory")
      ->required();
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
