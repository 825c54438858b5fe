// nabla: the command-line tool. It parses arguments and calls the library; it holds no math.
//
// Exit status: 0 on success, 1 when the work failed (a nabla::Error, a failed gradient check),
// 2 for a usage error (unknown command or option, a bad value), which lists the valid choices.
#include <algorithm>
#include <iostream>
#include <string>

#include "commands.h"
#include "nabla/error.h"

namespace {

std::string subcommand_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  return names;
}

}  // namespace

int main(int argc, char** argv) {
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
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
    std::cerr << "nabla: error: " << e.what() << "\n"
              << "see nabla " << app.get_subcommands().front()->get_name() << " --help\n";
    return 2;
  } catch (const nabla::cli::UsageError& e) {
    std::cerr << "nabla: error: " << e.what() << "\n";
    return 2;
  } catch (const nabla::Error& e) {
    // One line, so logs and scripts see one error per failure (hints join it after "--->").
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::cerr << "nabla: error: " << message << "\n";
    return 1;
  } catch (const std::exception& e) {  // from the standard library (bad_alloc, filesystem)
    std::cerr << "nabla: error: " << e.what() << "\n";
    return 1;
  }
  return exit_code;
}
