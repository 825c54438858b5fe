// `nabla compare RUN... [--out DIR]`: training runs side by side (app/compare.h).
#include "app/compare.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"

namespace nabla::cli {

namespace {

struct CompareArgs {
  std::vector<std::string> runs;
  std::string out;
};

}  // namespace

void add_compare_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Training runs side by side: the settings that differ, the results, the curves");
  cmd->add_option("runs", args->runs, "Output directories of nabla train (two or more)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", args->out,
                  "Where compare.html and the overlaid curves go (default: runs/compare-DATE)");
  cmd->callback([args, &exit_code] {
    if (args->runs.size() < 2)
      throw UsageError("compare: give two or more run directories, got " +
                       std::to_string(args->runs.size()));
    const std::string out = args->out.empty() ? app::timestamped_run_dir("compare") : args->out;
    app::write_comparison(args->runs, out, std::cout);
    exit_code = 0;
  });
}

}  // namespace nabla::cli
