// `nabla train`: trains a classifier and writes its metrics, plots and checkpoints
// (app::run_training); `nabla train --resume DIR` continues a run (app::resume_training).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "app/run.h"
#include "app/test_stop.h"
#include "commands.h"
#include "nabla/models.h"
#include "nabla/suggest.h"

namespace nabla::cli {

namespace {

struct TrainArgs {
  app::RunOptions run;
  double weight_decay = 0;
  double dropout = 0;
  std::string resume;
};

// A run stopped by Ctrl-C or SIGTERM: one line on stderr saying where and how to go on, and the
// status a shell gives a process the signal ended (128 + its number: 130, 143).
int report_interruption(const app::RunResult& result) {
  if (!result.interrupted) return 0;
  const app::Interruption& at = *result.interrupted;
  std::cout << std::flush;
  std::cerr << "nabla: interrupted ";
  if (at.batch > 0)
    std::cerr << "at epoch " << at.epoch << ", batch " << at.batch << "/" << at.batches;
  else
    std::cerr << "after epoch " << at.epoch - 1;
  std::cerr << "; checkpoint saved to " << at.checkpoint << "; resume with: nabla train --resume "
            << result.out_dir << "\n";
  return at.signal > 0 ? 128 + at.signal : 1;
}

bool given(const CLI::App& cmd, const char* name) {
  return cmd.count(name) > 0;
}

// Options that only some settings read would otherwise be ignored without a word: each is refused
// (a usage error, exit 2) unless the setting that reads it is chosen (docs/cli.md, "Options that
// depend on others").
void refuse_ignored_options(const app::RunOptions& o, const CLI::App& cmd) {
  auto refuse_unless = [&](bool read, const char* name, const std::string& reader) {
    if (given(cmd, name) && !read) throw UsageError(std::string("train: ") + name + reader);
  };
  const bool momentum = o.optimizer == "sgd" || o.optimizer == "rmsprop";
  refuse_unless(momentum, "--momentum", " applies to sgd and rmsprop, not " + o.optimizer);
  const std::string schedule = " applies to --lr-schedule ";
  const std::string not_this = ", not " + o.lr_schedule;
  const bool gamma =
      o.lr_schedule == "step" || o.lr_schedule == "exponential" || o.lr_schedule == "plateau";
  refuse_unless(gamma, "--lr-gamma", schedule + "step, exponential or plateau" + not_this);
  refuse_unless(o.lr_schedule == "step", "--lr-step-size", schedule + "step" + not_this);
  for (const char* plateau : {"--lr-patience", "--lr-cooldown", "--min-lr"})
    refuse_unless(o.lr_schedule == "plateau", plateau, schedule + "plateau" + not_this);
  refuse_unless(o.early_stopping > 0, "--early-stopping-min-delta",
                " applies with --early-stopping N");
  refuse_unless(o.diagnostics, "--diagnostics-every", " applies with --diagnostics");
  // A preset has dropout layers to set when its description built with a dropout has one.
  auto has_dropout = [](const std::string& preset) {
    ModelConfig probe;
    probe.dropout = 0.5;
    return preset_json(preset, probe).find("\"dropout\"") != std::string::npos;
  };
  const auto& presets = preset_names();
  if (given(cmd, "--dropout") &&
      std::find(presets.begin(), presets.end(), o.model) != presets.end() &&
      !has_dropout(o.model)) {
    std::vector<std::string> with;
    std::copy_if(presets.begin(), presets.end(), std::back_inserter(with), has_dropout);
    throw UsageError("train: --dropout: " + o.model +
                     " has no dropout layer to set (presets with dropout: " + join(with) + ")");
  }
}

int run_train(const TrainArgs& args, CLI::App& cmd) {
  app::RunOptions o = args.run;
  o.interactive = ::isatty(::fileno(stdout)) == 1;
  o.handle_signals = true;
  o.stop_when = app::test_stop_point_from_env();
  if (cmd.count("--weight-decay")) o.weight_decay = args.weight_decay;
  if (cmd.count("--dropout")) o.dropout = args.dropout;
  if (args.resume.empty()) {
    refuse_ignored_options(o, cmd);
    return report_interruption(app::run_training(o, std::cout));
  }
  // The run's settings live in its checkpoint; only these may change on the way.
  for (const CLI::Option* opt : cmd.get_options()) {
    const std::string name = opt->get_name();
    const bool allowed = name == "--resume" || name == "--epochs" || name == "--threads" ||
                         name == "--data-dir" || name == "--checkpoint-every" || name == "--help";
    if (!allowed && opt->count() > 0)
      throw UsageError(
          "train: " + name + " cannot be changed when resuming; the run's settings come from " +
          args.resume +
          "/last (only --epochs, --threads, --data-dir and --checkpoint-every may be given)");
  }
  app::ResumeOptions r;
  r.epochs = cmd.count("--epochs") ? o.epochs : 0;
  r.threads = o.threads;
  r.data_dir = o.data_dir;
  r.interactive = o.interactive;
  r.checkpoint_every = cmd.count("--checkpoint-every") ? o.checkpoint_every : -1;
  r.handle_signals = true;
  r.stop_when = o.stop_when;
  return report_interruption(app::resume_training(args.resume, r, std::cout));
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TrainArgs>();
  app::RunOptions& o = args->run;
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a classifier; writes metrics.csv, plots and checkpoints to --out");
  cmd->add_option("--model", o.model,
                  "Network: a preset or the path of a JSON description (docs/models.md)")
      ->capture_default_str()
      ->check(model_choice());
  cmd->add_option("--dataset", o.dataset,
                  "Data set; csv:TRAIN[,TEST] reads CSV tables, folder:PATH images in "
                  "PATH/[train|test/]<class>/*.png|jpg")
      ->capture_default_str()
      ->check(dataset_choice());
  cmd->add_option("--label-column", o.label_column,
                  "csv: the label column's header name or 0-based index (default: the last)");
  cmd->add_flag("--skip-bad-images", o.skip_bad_images,
                "folder: leave out (and name) images that cannot be decoded");
  cmd->add_option("--data-dir", o.data_dir,
                  "Directory of the dataset's files (default for fashion-mnist: "
                  "/usr/share/datasets/fashion-mnist)");
  cmd->add_option("--epochs", o.epochs, "Epochs to train (with --resume: the new total)")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--batch-size", o.batch_size, "Images per optimizer step")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_flag("--drop-last", o.drop_last,
                "Skip each epoch's last, smaller batch (taken automatically when a batch-norm "
                "model would get a last batch of one image)");
  cmd->add_option("--optimizer", o.optimizer, "Update rule (PyTorch's formulas)")
      ->capture_default_str()
      ->check(choice(app::optimizer_names(), "optimizer"));
  cmd->add_option("--lr", o.lr, "Learning rate")->capture_default_str()->check(kPositive);
  cmd->add_option("--momentum", o.momentum, "Momentum for sgd and rmsprop")
      ->capture_default_str()
      ->check(in_range(0.0, 1.0));
  cmd->add_option("--weight-decay", args->weight_decay,
                  "L2 penalty (decoupled for adamw); default 0, adamw 0.01")
      ->check(kNonNegative);
  cmd->add_option("--lr-schedule", o.lr_schedule,
                  "Learning-rate schedule, stepped after each epoch")
      ->capture_default_str()
      ->check(choice(app::lr_schedule_names(), "learning-rate schedule"));
  cmd->add_option("--lr-step-size", o.lr_step_size,
                  "step: epochs between decays (default a third of --epochs)")
      ->check(kPositive);
  cmd->add_option("--lr-gamma", o.lr_gamma,
                  "step: decay factor (0.1); exponential: per epoch (0.9)")
      ->check(kPositive);
  cmd->add_option("--warmup-epochs", o.warmup_epochs, "Linear warmup from lr/3 before the schedule")
      ->check(kNonNegative);
  cmd->add_option("--lr-patience", o.lr_patience,
                  "plateau: epochs without val-loss improvement before the lr drops by --lr-gamma "
                  "(default 0.1)")
      ->capture_default_str()
      ->check(kNonNegative);
  cmd->add_option("--lr-cooldown", o.lr_cooldown,
                  "plateau: epochs after a drop in which bad epochs are not counted")
      ->capture_default_str()
      ->check(kNonNegative);
  cmd->add_option("--min-lr", o.min_lr, "plateau: the lr never drops below it")
      ->capture_default_str()
      ->check(kNonNegative);
  cmd->add_option("--early-stopping", o.early_stopping,
                  "Stop after N epochs without validation-loss improvement; OUT/best then holds "
                  "the lowest validation loss")
      ->check(kPositive);
  cmd->add_option("--early-stopping-min-delta", o.early_stopping_min_delta,
                  "How much lower the validation loss must get to count as an improvement")
      ->capture_default_str()
      ->check(kNonNegative);
  cmd->add_option("--clip-grad-norm", o.clip_grad_norm,
                  "Scale the gradients down when their total L2 norm exceeds this")
      ->check(kPositive);
  cmd->add_flag("--diagnostics", o.diagnostics,
                "Per-layer activation and gradient statistics, update ratios and their plots "
                "(diagnostics.csv, diagnostics_*.png); NaN/Inf checks of every layer output");
  cmd->add_option("--diagnostics-every", o.diagnostics_every,
                  "With --diagnostics: record every N-th step")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--dropout", args->dropout,
                  "Dropout probability of the preset's dropout layers (mlp: adds them)")
      ->check(in_range(0.0, 1.0));
  cmd->add_option("--seed", o.seed, "Seed for weights, split, shuffling and dropout")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads,
                  "Threads for the compute (default: NABLA_NUM_THREADS, else all cores)")
      ->check(kPositive);
  cmd->add_option("--out", o.out_dir, "Output directory (default runs/<model>-<timestamp>)");
  cmd->add_option("--val-fraction", o.val_fraction, "Share of the training set for validation")
      ->capture_default_str()
      ->check(in_range(0.0, 0.99));
  cmd->add_option("--train-subset", o.train_subset, "Train on the first N images only")
      ->check(kPositive);
  cmd->add_option("--test-subset", o.test_subset, "Test on the first N images only")
      ->check(kPositive);
  cmd->add_flag("--augment", o.augment, "Random crops (and flips, except mnist) while training");
  cmd->add_option("--check-replicas-every", o.check_replicas_every,
                  "Under mpirun: compare the ranks' weights and optimizer state every N steps "
                  "(docs/distributed.md)")
      ->check(kPositive);
  cmd->add_flag("--sync-batchnorm", o.sync_batchnorm,
                "Under mpirun: batch-norm statistics over all ranks' batches, not each rank's "
                "(docs/distributed.md)");
  cmd->add_option("--classes", o.classes,
                  "Use only these classes, relabelled 0..k-1 in this order: 0-4 or 5,6,7");
  cmd->add_option("--init-from", o.init_from,
                  "Start from the weights of this model file, checkpoint or run directory (a head "
                  "of another class count is replaced)");
  cmd->add_option("--normalize", o.normalize,
                  "With --init-from weights that carry no normalisation (a PyTorch state dict): "
                  "the MEAN,STD their inputs were normalised with");
  cmd->add_option("--freeze", o.freeze,
                  "Layers not to train: features (all before the first Linear), head, layer "
                  "indices N or A-B, parameter names (0.weight); comma-separated");
  cmd->add_option("--lr-mult", o.lr_mult,
                  "Per-layer learning-rate factors, SELECTOR=FACTOR,... (e.g. head=10)");
  cmd->add_option("--checkpoint-every", o.checkpoint_every,
                  "Also save OUT/last every N steps (default: after each epoch only)")
      ->check(kPositive);
  cmd->add_option("--resume", args->resume, "Continue the run in this --out directory");
  cmd->callback([args, cmd, &exit_code] { exit_code = run_train(*args, *cmd); });
}

}  // namespace nabla::cli
