// The subcommands of the `nabla` tool, one file each. Each add_*_command registers its
// subcommand on the app; when that subcommand is chosen, its callback runs and stores the
// process exit code in `exit_code`. Library errors (nabla::Error) propagate to main(), which
// prints them as one line.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "app/run.h"
#include "nabla/models.h"
#include "nabla/suggest.h"

namespace nabla::cli {

void add_gradcheck_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_train_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_predict_command(CLI::App& app, int& exit_code);
void add_sanity_command(CLI::App& app, int& exit_code);
void add_search_command(CLI::App& app, int& exit_code);
void add_summary_command(CLI::App& app, int& exit_code);

// A usage error naming the valid choices; main() prints it and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Accepts numbers > 0; CLI11's PositiveNumber would print the type's whole range on error.
inline const CLI::Validator kPositive(
    [](std::string& value) {
      double v = 0;
      try {
        v = std::stod(value);
      } catch (const std::exception&) {
        return "'" + value + "' is not a number";
      }
      return v > 0 ? std::string() : "must be positive, got " + value;
    },
    "POSITIVE");

// A validator accepting `choices` (and whatever `also` accepts); on a typo it names the closest:
// "unknown optimizer 'adma' (did you mean 'adam'?); valid: sgd, adam, ...".
inline CLI::Validator choice(const std::vector<std::string>& choices, const std::string& what,
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

// --model: a preset or an existing JSON description; --dataset: a named set or csv:PATH.
inline CLI::Validator model_choice() {
  return choice(
      preset_names(), "model", [](const std::string& v) { return std::filesystem::exists(v); },
      " or a JSON file");
}
inline CLI::Validator dataset_choice() {
  return choice(
      train::dataset_names(), "dataset",
      [](const std::string& v) { return v.rfind("csv:", 0) == 0 || v.rfind("folder:", 0) == 0; },
      " or csv:PATH or folder:PATH");
}

}  // namespace nabla::cli
