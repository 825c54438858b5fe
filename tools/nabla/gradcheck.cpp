// `nabla gradcheck`: runs every registered gradient check (nabla::gradcheck_cases()) and prints
// one table row per case. Exit status 1 if any case fails.
#include "nabla/gradcheck.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"

namespace nabla::cli {

namespace {

struct GradcheckArgs {
  double tolerance = 0;  // 0: each case's own tolerance
  std::string op;        // empty: all ops
  uint64_t seed = 0;
};

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (Op op : all_ops()) names.emplace_back(op_name(op));
  return names;
}

// Display columns of a UTF-8 string (shapes may contain "·").
size_t columns(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

std::string pad(const std::string& s, size_t width) {
  return s + std::string(width > columns(s) ? width - columns(s) : 0, ' ');
}

int run_gradcheck(const GradcheckArgs& args) {
  bool known = args.op.empty();
  for (Op op : all_ops()) known = known || op_name(op) == args.op;
  if (!known)
    throw UsageError("gradcheck: unknown op '" + args.op + "'" + did_you_mean(args.op, op_names()) +
                     "; valid ops: " + join(op_names()));

  std::vector<const GradcheckCase*> selected;
  for (const GradcheckCase& c : gradcheck_cases())
    if (args.op.empty() || op_name(c.op) == args.op) selected.push_back(&c);
  if (selected.empty())
    throw UsageError("gradcheck: no gradient-check case is registered for op '" + args.op + "'");

  size_t op_width = 2, shapes_width = 6;
  for (const GradcheckCase* c : selected) {
    op_width = std::max(op_width, op_name(c->op).size());
    shapes_width = std::max(shapes_width, columns(c->shapes));
  }
  std::cout << pad("op", op_width) << "  " << pad("shapes", shapes_width)
            << "  max rel err       analytic        numeric  result\n";
  int failed = 0;
  for (const GradcheckCase* c : selected) {
    GradcheckOptions options = c->options;
    if (args.tolerance > 0) options.tolerance = args.tolerance;
    Generator gen(args.seed);
    std::cout << pad(std::string(op_name(c->op)), op_width) << "  " << pad(c->shapes, shapes_width)
              << "  ";
    // A case that throws is a failed case, not the end of the table.
    try {
      GradcheckResult r = gradcheck(c->fn, c->make_inputs(gen), options);
      failed += !r.passed;
      char numbers[80];
      std::snprintf(numbers, sizeof numbers, "%11.3e %14.6g %14.6g", r.max_rel_error, r.analytic,
                    r.numeric);
      std::cout << numbers << "  " << (r.passed ? "PASS" : "FAIL") << "\n";
    } catch (const Error& e) {
      ++failed;
      std::cout << pad("", 41) << "  FAIL\n    error: " << e.what() << "\n";
    }
  }
  std::cout << selected.size() - failed << " of " << selected.size() << " passed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

void add_gradcheck_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<GradcheckArgs>();
  CLI::App* cmd = app.add_subcommand(
      "gradcheck", "Compare every op's backward with central differences in float64");
  cmd->add_option("--tolerance", args->tolerance,
                  "Fail a case whose max relative error reaches this (default: each case's own, "
                  "usually 1e-6)")
      ->check(kPositive);
  cmd->add_option("--op", args->op, "Check only this op (e.g. matmul)");
  cmd->add_option("--seed", args->seed, "Seed for the random inputs")->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run_gradcheck(*args); });
}

}  // namespace nabla::cli
