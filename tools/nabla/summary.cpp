// `nabla summary`: the layers of a model with their output shapes, parameters and multiply-adds,
// the totals, and the memory of one batch (nabla/nn/summary.h says the rule), without data.
#include "nabla/nn/summary.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app/run_detail.h"
#include "commands.h"
#include "nabla/error.h"

namespace nabla::cli {

namespace {

struct SummaryArgs {
  app::RunOptions run;  // its model, and its batch size as the default --batch
  std::vector<int64_t> input;
  int64_t classes = 10;
};

void run_summary(const SummaryArgs& args) {
  const bool preset = app::run_detail::is_preset(args.run.model);
  // Fashion-MNIST's shape unless told; a description file names its own input.
  const std::vector<int64_t> asked =
      args.input.empty() ? std::vector<int64_t>{1, 28, 28} : args.input;
  const std::string description = app::model_description(args.run, Shape(asked), args.classes);
  const std::vector<int64_t> input = app::run_detail::described_input(description);
  if (!preset && !args.input.empty() && input != args.input)
    throw UsageError("--input " + nn::per_sample_str(args.input) + ": " + args.run.model +
                     " takes input " + nn::per_sample_str(input) +
                     " (its \"input\" field); --input sizes the presets");
  const auto model = model_from_json(description, args.run.seed, args.run.model);
  const nn::ModelSummary s = nn::summary(*model, input, args.run.batch_size);
  std::printf("model %s: input %s, %lld classes, batch %lld\n%s", args.run.model.c_str(),
              nn::per_sample_str(input).c_str(), static_cast<long long>(args.classes),
              static_cast<long long>(args.run.batch_size), nn::format_summary(s).c_str());
}

}  // namespace

void add_summary_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SummaryArgs>();
  CLI::App* cmd = app.add_subcommand(
      "summary",
      "Layers of a model: output shapes, parameters, multiply-adds and the memory of a batch");
  cmd->add_option("--model", args->run.model,
                  "Network: a preset or the path of a JSON description (docs/models.md)")
      ->capture_default_str()
      ->check(model_choice());
  cmd->add_option("--input", args->input,
                  "One sample's shape C,H,W (or F) for a preset (default: 1,28,28, Fashion-MNIST)")
      ->delimiter(',')
      ->expected(1, 3)
      ->check(kPositive);
  cmd->add_option("--classes", args->classes, "Outputs of the last layer")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--batch", args->run.batch_size,
                  "Samples per batch, for the memory figures (default: nabla train's)")
      ->capture_default_str()
      ->check(kPositive);
  cmd->callback([args, &exit_code] {
    run_summary(*args);
    exit_code = 0;
  });
}

}  // namespace nabla::cli
