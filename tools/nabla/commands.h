// The subcommands of the `nabla` tool, one file each. Each add_*_command registers its
// subcommand on the app; when that subcommand is chosen, its callback runs and stores the
// process exit code in `exit_code`. Library errors (nabla::Error) propagate to main(), which
// prints them as one line.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>
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
void add_compare_command(CLI::App& app, int& exit_code);
void add_export_command(CLI::App& app, int& exit_code);

// ONNX models in (export.cpp, docs/onnx.md): a path ending in ".onnx", and the model it holds
// as `nabla predict` uses one (class names "0", "1", ...; the normalisation its leading Sub and
// Div nodes apply). Throws nabla::Error when nabla was built without ONNX support.
bool is_onnx_file(const std::string& path);
app::TrainedModel load_onnx_model(const std::string& path);

// A usage error naming the valid choices; main() prints it and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A number validator in the CLI's own words ("must be positive, got -1"): CLI11's PositiveNumber
// and Range would print the type's whole range or "Value 1.5 not in range 0.000000 to 1.000000".
// `rule` says what `accept` wants, after "must be".
inline CLI::Validator number_check(std::function<bool(double)> accept, const std::string& rule,
                                   const std::string& name) {
  return CLI::Validator(
      [accept, rule](std::string& value) {
        double v = 0;
        try {
          size_t used = 0;
          v = std::stod(value, &used);
          if (used != value.size()) throw std::invalid_argument(value);
        } catch (const std::exception&) {
          return "'" + value + "' is not a number";
        }
        return accept(v) ? std::string() : "must be " + rule + ", got " + value;
      },
      name);
}

// Accepts numbers > 0.
inline const CLI::Validator kPositive =
    number_check([](double v) { return v > 0; }, "positive", "POSITIVE");
// Accepts numbers >= 0.
inline const CLI::Validator kNonNegative =
    number_check([](double v) { return v >= 0; }, ">= 0", "NON-NEGATIVE");
// Accepts numbers in [lo, hi].
inline CLI::Validator in_range(double lo, double hi) {
  std::ostringstream range;
  range << lo << " and " << hi;
  return number_check([lo, hi](double v) { return v >= lo && v <= hi; }, "between " + range.str(),
                      "BETWEEN " + range.str());
}

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
// A value that looks like a path (a '/' or a ".json" ending) is named as one: "does not exist",
// "is a directory", rather than "unknown model".
inline CLI::Validator model_choice() {
  const CLI::Validator preset_or_file = choice(
      preset_names(), "model",
      [](const std::string& v) { return std::filesystem::is_regular_file(v); }, " or a JSON file");
  return CLI::Validator(
      [preset_or_file](std::string& value) -> std::string {
        const bool json = value.size() > 5 && value.compare(value.size() - 5, 5, ".json") == 0;
        std::error_code ec;
        if (std::filesystem::is_directory(value, ec))
          return "'" + value + "' is a directory, not a JSON model description";
        if ((json || value.find('/') != std::string::npos) && !std::filesystem::exists(value, ec))
          return "the model description '" + value + "' does not exist";
        return preset_or_file(value);
      },
      preset_or_file.get_description());
}
inline CLI::Validator dataset_choice() {
  return choice(
      app::dataset_names(), "dataset",
      [](const std::string& v) { return v.rfind("csv:", 0) == 0 || v.rfind("folder:", 0) == 0; },
      " or csv:PATH or folder:PATH");
}

}  // namespace nabla::cli
