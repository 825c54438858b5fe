// `nabla sanity`: CS231n's checks before a long run (app::run_sanity_checks): loss at
// initialisation, regularisation raising it, overfitting 20 examples, and a float64 gradient
// check of the real model. Exit status 1 when any check fails.
#include "app/sanity.h"

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

int run_sanity(const app::SanityOptions& o) {
  std::cout << "sanity checks of " << o.model << " on " << o.dataset << " (seed " << o.seed << ")\n"
            << std::flush;
  const app::SanityReport r = app::run_sanity_checks(o);
  std::cout << r.str();
  const int failed = !r.init_passed + !r.reg_passed + !r.overfit_passed + !r.gradcheck_passed;
  std::cout << 4 - failed << " of 4 checks passed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

void add_sanity_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<app::SanityOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sanity",
      "Check a model before training: init loss vs ln C, regularisation, overfitting 20 "
      "examples, gradcheck");
  cmd->add_option("--model", o->model, "Network: a preset or the path of a JSON description")
      ->capture_default_str()
      ->check(model_choice());
  cmd->add_option("--dataset", o->dataset, "Data set (as nabla train)")
      ->capture_default_str()
      ->check(dataset_choice());
  cmd->add_option("--data-dir", o->data_dir, "Directory of the dataset's files");
  cmd->add_option("--seed", o->seed, "Seed for the weights and the samples")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads for the compute")->check(kPositive);
  cmd->add_option("--train-subset", o->train_subset, "Load only the first N training images")
      ->check(kPositive);
  cmd->add_option("--tolerance", o->init_tolerance,
                  "(a): allowed |loss - ln C| as a fraction of ln C")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--reg", o->reg_strength, "(b): lambda of the L2 penalty lambda*sum(w^2)")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--overfit-samples", o->overfit_samples, "(c): examples to overfit")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--overfit-steps", o->overfit_max_steps, "(c): Adam steps allowed")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--overfit-lr", o->overfit_lr, "(c): Adam's learning rate")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--gradcheck-batch", o->gradcheck_batch, "(d): samples in the float64 batch")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--gradcheck-elements", o->gradcheck_elements,
                  "(d): entries checked per parameter tensor")
      ->capture_default_str()
      ->check(kPositive);
  cmd->add_option("--gradcheck-tolerance", o->gradcheck_tolerance,
                  "(d): max relative error allowed")
      ->capture_default_str()
      ->check(kPositive);
  cmd->callback([o, &exit_code] { exit_code = run_sanity(*o); });
}

}  // namespace nabla::cli
