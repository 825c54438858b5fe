// nabla: the command-line tool. It parses arguments and calls the library; it holds no math.
//
// Exit status: 0 on success, 1 when the work failed (a nabla::Error, a failed gradient check),
// 2 for a usage error (unknown command or option, a bad value), which lists the valid choices;
// 130 or 143 when `nabla train` was stopped by SIGINT or SIGTERM after saving its checkpoint.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "app/run_info.h"
#include "commands.h"
#include "nabla/distributed.h"
#include "nabla/error.h"
#include "nabla/memory.h"
#include "nabla/suggest.h"

namespace {

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

// CLI11's "Could not convert: --seed = abc" in the tool's words: "--seed: 'abc' is not a
// valid INT".
std::string conversion_message(const CLI::App& command, const std::string& what) {
  const std::string prefix = "Could not convert: ";
  const size_t eq = what.find(" = ");
  if (what.rfind(prefix, 0) != 0 || eq == std::string::npos) return what;
  const std::string name = what.substr(prefix.size(), eq - prefix.size());
  std::string type = "value";
  try {
    type = command.get_option(name)->get_type_name();
  } catch (const CLI::Error&) {
  }
  return name + ": '" + what.substr(eq + 3) + "' is not a valid " + type;
}

// CLI11's texts in the tool's words: "--lr: '1e-3x' is not a number" (conversion_message),
// "--epochs: given 2 times; give it once".
std::string parse_error_message(const CLI::App& command, const CLI::ParseError& e) {
  const std::string what = e.what();
  if (dynamic_cast<const CLI::ConversionError*>(&e)) return conversion_message(command, what);
  const std::string at_most = "At Most 1 required but received ";
  const size_t at = what.find(at_most);
  if (at != std::string::npos)
    return what.substr(0, at) + "given " + what.substr(at + at_most.size()) +
           " times; give it once";
  return what;
}

// Prints the error; under `mpirun -np N` (N > 1) names the rank and ends the whole job
// (MPI_Abort), so the other ranks do not wait forever in their next all-reduce.
int report_error(const std::string& message, int code) {
  nabla::distributed::Communicator& world = nabla::distributed::Communicator::world();
  if (world.size() == 1) {
    std::cerr << "nabla: error: " << message << "\n";
    return code;
  }
  std::cerr << "nabla: error: rank " << world.rank() << ": " << message << "\n";
  world.abort(code);
}

// For arguments CLI11 did not expect: the first one that looks like an option, and the closest
// option of the command ("; unknown option '--epoch', did you mean '--epochs'?").
std::string unknown_option_hint(const CLI::App& app, const CLI::App& command,
                                const CLI::ParseError& e) {
  if (dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) return "";
  std::vector<std::string> names;
  for (const CLI::App* scope : {&command, &app})
    for (const CLI::Option* option : scope->get_options())
      for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
  for (const CLI::App* scope : {&command, &app})
    for (const std::string& arg : scope->remaining())
      if (arg.rfind("--", 0) == 0) {
        const std::string flag = arg.substr(0, arg.find('='));
        const std::string closest = nabla::closest_choice(flag, names);
        return "; unknown option '" + flag + "'" +
               (closest.empty() ? "" : ", did you mean '" + closest + "'?");
      }
  return "";
}

// The option of `command` that a library error's message starts with ("--freeze: no layer ..."),
// or "": such an error is about the value given to that option, a usage error (docs/cli.md).
std::string option_named_first(const CLI::App& command, const std::string& message) {
  if (message.rfind("--", 0) != 0) return "";
  const std::string name = message.substr(0, message.find_first_of(" :,=", 2));
  for (const CLI::Option* option : command.get_options())
    for (const std::string& long_name : option->get_lnames())
      if (name == "--" + long_name) return name;
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  // MPI_Init when started by mpirun (docs/distributed.md); otherwise nothing.
  nabla::distributed::Session mpi(&argc, &argv);
  CLI::App app{"nabla: tensors, reverse-mode autodiff and neural networks (CS231n, lectures 4-7)",
               "nabla"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", "nabla " + nabla::app::version_text(),
                       "Print nabla's version (and git commit) and exit");
  int exit_code = 0;
  nabla::cli::add_gradcheck_command(app, exit_code);
  nabla::cli::add_demo_command(app, exit_code);
  nabla::cli::add_train_command(app, exit_code);
  nabla::cli::add_eval_command(app, exit_code);
  nabla::cli::add_predict_command(app, exit_code);
  // Before any command runs (trigger_on_parse), so that it covers the whole command.
  app.add_option_function<std::string>(
         "--memory-limit",
         [](const std::string& text) {
           nabla::set_memory_limit(nabla::parse_memory_size(text), "--memory-limit");
         },
         "Most bytes all tensors may hold together, e.g. 512M or 2G (default: "
         "NABLA_MEMORY_LIMIT, else none); a bigger model or batch fails naming the tensor")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              nabla::parse_memory_size(text);
              return "";
            } catch (const nabla::Error& e) {
              return e.what();
            }
          },
          "SIZE"))
      ->trigger_on_parse();
  nabla::cli::add_sanity_command(app, exit_code);
  nabla::cli::add_search_command(app, exit_code);
  nabla::cli::add_summary_command(app, exit_code);
  nabla::cli::add_compare_command(app, exit_code);
  nabla::cli::add_export_command(app, exit_code);

  // `nabla help` and `nabla help train` are `nabla --help` and `nabla train --help`.
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() >= 2 && args[1] == "help") {
    args.erase(args.begin() + 1);
    args.push_back("--help");
  }
  std::vector<char*> arg_pointers;
  for (std::string& a : args) arg_pointers.push_back(a.data());

  try {
    app.parse(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (app.get_subcommands().empty() && dynamic_cast<const CLI::ValidationError*>(&e)) {
      std::cerr << "nabla: error: " << e.what() << "\n";  // a global option's value
      return 2;
    }
    if (app.get_subcommands().empty()) {
      // CLI11 says only "A subcommand is required" when the first word is not a command.
      if (argc > 1) {
        const bool option = argv[1][0] == '-';
        std::cerr << "nabla: error: unknown " << (option ? "option" : "command") << " '" << argv[1]
                  << "'" << (option ? "" : nabla::did_you_mean(argv[1], subcommand_names(app)))
                  << "\n";
      } else {
        std::cerr << "nabla: error: " << e.what() << "\n";
      }
      std::cerr << "valid commands: " << nabla::join(subcommand_names(app))
                << " (see nabla --help)\n";
      return 2;
    }
    const CLI::App* command = app.get_subcommands().front();
    const std::string message = parse_error_message(*command, e);
    std::cerr << "nabla: error: " << message << unknown_option_hint(app, *command, e) << "\n"
              << "see nabla " << command->get_name() << " --help\n";
    return 2;
  } catch (const nabla::cli::UsageError& e) {
    std::cerr << "nabla: error: " << e.what() << "\n";
    if (!app.get_subcommands().empty())
      std::cerr << "see nabla " << app.get_subcommands().front()->get_name() << " --help\n";
    return 2;
  } catch (const nabla::Error& e) {
    // One line, so logs and scripts see one error per failure (hints join it after "--->").
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    const CLI::App* command =
        app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
    if (command && !option_named_first(*command, message).empty()) {
      const int code = report_error(message, 2);
      std::cerr << "see nabla " << command->get_name() << " --help\n";
      return code;
    }
    return report_error(message, 1);
  } catch (const std::exception& e) {  // from the standard library (bad_alloc, filesystem)
    return report_error(e.what(), 1);
  }
  return exit_code;
}
