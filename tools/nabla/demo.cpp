// `nabla demo scalar|matrix|xor`: runs one of the worked examples in app/demos.h.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "app/demos.h"
#include "commands.h"
#include "nabla/error.h"

namespace nabla::cli {

namespace {

struct DemoArgs {
  std::string name;
  demos::DemoOptions options{.out_dir = "."};
};

void run_demo(const DemoArgs& args) {
  if (!args.options.out_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(args.options.out_dir, error);
    NABLA_CHECK(!error && std::filesystem::is_directory(args.options.out_dir),
                "demo: cannot create the output directory '", args.options.out_dir,
                "': ", error ? error.message() : "a file of that name exists");
  }
  if (args.name == "scalar")
    demos::scalar_demo(args.options, std::cout);
  else if (args.name == "matrix")
    demos::matrix_demo(args.options, std::cout);
  else if (args.name == "xor")
    demos::xor_demo(args.options, std::cout);
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "Run a worked example: scalar, matrix or xor");
  cmd->add_option("name", args->name,
                  "scalar: backprop through (a·x + b·y)·c·z; matrix: the gradient of ‖W·x‖² three "
                  "ways; xor: logistic regression vs a two-layer net")
      ->required()
      ->check(CLI::IsMember(demos::demo_names()));
  cmd->add_option("--out", args->options.out_dir, "Directory for the files the demo writes")
      ->capture_default_str();
  cmd->add_option("--seed", args->options.seed, "Seed for random values and initialisation")
      ->capture_default_str();
  cmd->add_option("--steps", args->options.steps, "Training steps (xor; default 5000)")
      ->check(kPositive);
  cmd->callback([args, &exit_code] {
    run_demo(*args);
    exit_code = 0;
  });
}

}  // namespace nabla::cli
