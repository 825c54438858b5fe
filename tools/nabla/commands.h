// The subcommands of the `nabla` tool, one file each. Each add_*_command registers its
// subcommand on the app; when that subcommand is chosen, its callback runs and stores the
// process exit code in `exit_code`. Library errors (nabla::Error) propagate to main(), which
// prints them as one line.
#pragma once

#include <CLI/CLI.hpp>

namespace nabla::cli {

void add_gradcheck_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_train_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_predict_command(CLI::App& app, int& exit_code);

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

}  // namespace nabla::cli
