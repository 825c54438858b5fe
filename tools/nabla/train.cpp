// `nabla train`: trains a classifier and writes its metrics, plots and checkpoints
// (train::run_training); `nabla train --resume DIR` continues a run (train::resume_training).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "nabla/models.h"
#include "nabla/suggest.h"
#include "nabla/train/run.h"

namespace nabla::cli {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// A validator accepting `choices` (and whatever `also` accepts); on a typo it names the closest.
CLI::Validator choice(const std::vector<std::string>& choices, const std::string& what,
                      std::function<bool(const std::string&)> also = nullptr,
                      const std::string& also_text = "") {
  return CLI::Validator(
      [choices, what, also, also_text](std::string& value) -> std::string {
        if (std::find(choices.begin(), choices.end(), value) != choices.end()) return "";
        if (also && also(value)) return "";
        return "unknown " + what + " '" + value + "'" + did_you_mean(value, choices) +
               "; valid: " + join(choices) + also_text;
      },
      join(choices) + also_text);
}

struct TrainArgs {
  train::RunOptions run;
  double weight_decay = 0;
  double dropout = 0;
  std::string resume;
};

void run_train(const TrainArgs& args, CLI::App& cmd) {
  train::RunOptions o = args.run;
  o.interactive = ::isatty(::fileno(stdout)) == 1;
  if (cmd.count("--weight-decay")) o.weight_decay = args.weight_decay;
  if (cmd.count("--dropout")) o.dropout = args.dropout;
  if (args.resume.empty()) {
    train::run_training(o, std::cout);
    return;
  }
  // The run's settings live in its checkpoint; only these may change on the way.
  for (const CLI::Option* opt : cmd.get_options()) {
    const std::string name = opt->get_name();
    const bool allowed = name == "--resume" || name == "--epochs" || name == "--threads" ||
                         name == "--data-dir" || name == "--help";
    if (!allowed && opt->count() > 0)
      throw UsageError(
          "train: " + name + " cannot be changed when resuming; the run's settings come from " +
          args.resume + "/last (only --epochs, --threads and --data-dir may be given)");
  }
  train::ResumeOptions r;
  r.epochs = cmd.count("--epochs") ? o.epochs : 0;
  r.threads = o.threads;
  r.data_dir = o.data_dir;
  r.interactive = o.interactive;
  train::resume_training(args.resume, r, std::cout);
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TrainArgs>();
  train::RunOptions& o = args->run;
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a classifier; writes metrics.csv, plots and checkpoints to --out");
  cmd->add_option("--model", o.model,
                  "Network: a preset or the path of a JSON description (docs/models.md)")
      ->capture_default_str()
      ->check(choice(
          preset_names(), "model", [](const std::string& v) { return std::filesystem::exists(v); },
          " or a JSON file"));
  cmd->add_option("--dataset", o.dataset,
                  "Data set; csv:TRAIN[,TEST] reads CSV tables (label in the last column)")
      ->capture_default_str()
      ->check(choice(
          train::dataset_names(), "dataset",
          [](const std::string& v) { return v.rfind("csv:", 0) == 0; }, " or csv:PATH"));
  cmd->add_option("--data-dir", o.data_dir,
                  "Directory of the dataset's files (default for fashion-mnist: "
                  "/usr/share/datasets/fashion-mnist)");
  cmd->add_option("--epochs", o.epochs, "Epochs to train (with --resume: the new total)")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--batch-size", o.batch_size, "Images per optimizer step")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--optimizer", o.optimizer, "Update rule (PyTorch's formulas)")
      ->capture_default_str()
      ->check(choice(train::optimizer_names(), "optimizer"));
  cmd->add_option("--lr", o.lr, "Learning rate")->capture_default_str()->check(kPositive);
  cmd->add_option("--momentum", o.momentum, "Momentum for sgd and rmsprop")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--weight-decay", args->weight_decay,
                  "L2 penalty (decoupled for adamw); default 0, adamw 0.01")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--lr-schedule", o.lr_schedule,
                  "Learning-rate schedule, stepped after each epoch")
      ->capture_default_str()
      ->check(choice(train::lr_schedule_names(), "learning-rate schedule"));
  cmd->add_option("--lr-step-size", o.lr_step_size,
                  "step: epochs between decays (default a third of --epochs)")
      ->check(kPositive);
  cmd->add_option("--lr-gamma", o.lr_gamma,
                  "step: decay factor (0.1); exponential: per epoch (0.9)")
      ->check(kPositive);
  cmd->add_option("--warmup-epochs", o.warmup_epochs, "Linear warmup from lr/3 before the schedule")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--dropout", args->dropout,
                  "Dropout probability of the preset's dropout layers (mlp: adds them)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", o.seed, "Seed for weights, split, shuffling and dropout")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads,
                  "Threads for the compute (default: NABLA_NUM_THREADS, else all cores)")
      ->check(kPositive);
  cmd->add_option("--out", o.out_dir, "Output directory (default runs/<model>-<timestamp>)");
  cmd->add_option("--val-fraction", o.val_fraction, "Share of the training set for validation")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--train-subset", o.train_subset, "Train on the first N images only")
      ->check(kPositive);
  cmd->add_option("--test-subset", o.test_subset, "Test on the first N images only")
      ->check(kPositive);
  cmd->add_flag("--augment", o.augment, "Random crops (and flips, except mnist) while training");
  cmd->add_option("--resume", args->resume, "Continue the run in this --out directory");
  cmd->callback([args, cmd, &exit_code] {
    run_train(*args, *cmd);
    exit_code = 0;
  });
}

}  // namespace nabla::cli
