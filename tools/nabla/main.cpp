// nabla: the command-line tool. It parses arguments and calls the library; it holds no math.
//
// Exit status: 0 on success, 1 when the work failed (a nabla::Error, a failed gradient check),
// 2 for a usage error (unknown command or option, a bad value), which lists the valid choices;
// 130 or 143 when `nabla train` was stopped by SIGINT or SIGTERM after saving its checkpoint.
#include <algorithm>
#include <iostream>
#include <string>

#include "commands.h"
#include "nabla/distributed.h"
#include "nabla/error.h"
#include "nabla/memory.h"
#include "nabla/suggest.h"

namespace {

std::string subcommand_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  return names;
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

}  // namespace

int main(int argc, char** argv) {
  // MPI_Init when started by mpirun (docs/distributed.md); otherwise nothing.
  nabla::distributed::Session mpi(&argc, &argv);
  CLI::App app{"nabla: tensors, reverse-mode autodiff and neural networks (CS231n, lectures 4-7)",
               "nabla"};
  app.require_subcommand(1);
  app.fallthrough();
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (app.get_subcommands().empty() && dynamic_cast<const CLI::ValidationError*>(&e)) {
      std::cerr << "nabla: error: " << e.what() << "\n";  // a global option's value
      return 2;
    }
    if (app.get_subcommands().empty()) {
      // CLI11 says only "A subcommand is required" when the first word is not a command.
      if (argc > 1)
        std::cerr << "nabla: error: unknown " << (argv[1][0] == '-' ? "option" : "command") << " '"
                  << argv[1] << "'\n";
      else
        std::cerr << "nabla: error: " << e.what() << "\n";
      std::cerr << "valid commands: " << subcommand_names(app) << " (see nabla --help)\n";
      return 2;
    }
    const CLI::App* command = app.get_subcommands().front();
    std::cerr << "nabla: error: " << e.what() << unknown_option_hint(app, *command, e) << "\n"
              << "see nabla " << command->get_name() << " --help\n";
    return 2;
  } catch (const nabla::cli::UsageError& e) {
    std::cerr << "nabla: error: " << e.what() << "\n";
    return 2;
  } catch (const nabla::Error& e) {
    // One line, so logs and scripts see one error per failure (hints join it after "--->").
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    return report_error(message, 1);
  } catch (const std::exception& e) {  // from the standard library (bad_alloc, filesystem)
    return report_error(e.what(), 1);
  }
  return exit_code;
}
