// `nabla search`: random hyperparameter search, coarse to fine (app::run_search). Each trial
// is a short `nabla train` run with its output quieted; the ranked table, trials.csv, one
// scatter plot per hyperparameter and report.html go to --out.
#include "app/search.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "app/run.h"
#include "commands.h"
#include "nabla/models.h"
#include "nabla/suggest.h"

namespace nabla::cli {

namespace {

struct SearchArgs {
  app::SearchOptions search;
  std::string space = "lr=log(1e-5,1e-1) weight_decay=log(1e-6,1e-2)";
  std::string resume;
};

// Ctrl-C or SIGTERM stops the current trial; the finished ones keep their table and report, and
// the status is the signal's (130, 143), as `nabla train` does.
int run_search(SearchArgs& args, const CLI::App& cmd) {
  if (!args.resume.empty()) {
    // The search's settings live in its search.json; only the thread count may change.
    for (const CLI::Option* opt : cmd.get_options())
      if (opt->count() > 0 && opt->get_name() != "--resume" && opt->get_name() != "--threads")
        throw UsageError("search: " + opt->get_name() +
                         " cannot be changed when resuming; the settings come from " + args.resume +
                         "/search.json (only --threads may be given)");
    const int threads = args.search.base.threads;
    args.search = app::search_to_resume(args.resume);
    if (cmd.count("--threads")) args.search.base.threads = threads;
  } else {
    try {
      args.search.space = app::parse_search_space(args.space);
    } catch (const Error& e) {
      throw UsageError(std::string("--space: ") + e.what());
    }
  }
  args.search.handle_signals = true;
  const app::SearchResult r = app::run_search(args.search, std::cout);
  if (!r.interrupted_trial) return 0;
  std::cout << std::flush;
  std::cerr << "nabla: search interrupted in trial " << r.interrupted_trial << "; "
            << r.trials.size() << " finished trials in " << r.out_dir << "/trials.csv and "
            << r.out_dir << "/report.html; go on with: nabla search --resume " << r.out_dir << "\n";
  return r.signal > 0 ? 128 + r.signal : 1;
}

}  // namespace

void add_search_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SearchArgs>();
  app::SearchOptions& s = args->search;
  app::RunOptions& o = s.base;
  o.epochs = 1;
  CLI::App* cmd = app.add_subcommand(
      "search",
      "Random hyperparameter search, coarse to fine: short runs, a ranked table, scatter plots");
  cmd->add_option("--model", o.model, "Network: a preset or the path of a JSON description")
      ->capture_default_str()
      ->check(model_choice());
  cmd->add_option("--dataset", o.dataset, "Data set (as nabla train)")
      ->capture_default_str()
      ->check(dataset_choice());
  cmd->add_option("--data-dir", o.data_dir, "Directory of the dataset's files");
  cmd->add_option("--space", args->space,
                  "Hyperparameters and ranges: NAME=log(LO,HI) or NAME=uniform(LO,HI), "
                  "space-separated; names: " +
                      join(app::search_parameter_names()))
      ->capture_default_str();
  cmd->add_option("--trials", s.trials, "Trials per round")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--rounds", s.rounds, "Rounds; each after the first narrows around the best")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--epochs", o.epochs, "Epochs per trial")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--batch-size", o.batch_size, "Images per step (unless searched)")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--optimizer", o.optimizer, "Update rule of every trial")
      ->capture_default_str()
      ->check(choice(app::optimizer_names(), "optimizer"));
  cmd->add_option("--seed", s.seed, "Seed of the sampling and of every trial's run")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "Threads for the compute")->check(kPositive);
  cmd->add_option("--val-fraction", o.val_fraction, "Share of the training set for validation")
      ->capture_default_str()
      ->check(in_range(0.01, 0.99));
  cmd->add_option("--train-subset", o.train_subset, "Train on the first N images only")
      ->check(kPositive);
  cmd->add_option("--test-subset", o.test_subset, "Test on the first N images only")
      ->check(kPositive);
  cmd->add_option("--out", s.out_dir, "Output directory (default runs/search-<timestamp>)");
  cmd->add_option("--resume", args->resume,
                  "Continue the search in this --out directory (finished trials are kept)");
  cmd->callback([args, cmd, &exit_code] { exit_code = run_search(*args, *cmd); });
}

}  // namespace nabla::cli
