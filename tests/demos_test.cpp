// The worked examples (tools/nabla/app/demos), the DOT and PNG writers they use (src/io), and
// the `nabla` command line run as a user would (NABLA_CLI is the built binary).
#include "app/demos.h"

#include <cairo.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "nabla/io/dot.h"
#include "nabla/io/plot.h"
#include "nabla/ops.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;

// A fresh, empty directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("nabla_" + std::string(info->test_suite_name()) + "_" +
                                         info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Width and height of a PNG as cairo reads it back; {-1, -1} when it is not a valid PNG.
std::pair<int, int> png_size(const std::string& path) {
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  std::pair<int, int> size{-1, -1};
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS)
    size = {cairo_image_surface_get_width(s), cairo_image_surface_get_height(s)};
  cairo_surface_destroy(s);
  return size;
}

// The pixel at (x, y) of a PNG as 0-255 RGB.
std::array<int, 3> png_pixel(const std::string& path, int x, int y) {
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  EXPECT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  cairo_surface_flush(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  uint32_t p =
      *reinterpret_cast<const uint32_t*>(data + y * cairo_image_surface_get_stride(s) + x * 4);
  cairo_surface_destroy(s);
  return {static_cast<int>((p >> 16) & 0xff), static_cast<int>((p >> 8) & 0xff),
          static_cast<int>(p & 0xff)};
}

// ---- scalar demo: CS231n lecture 4's numbers ----

TEST(ScalarDemo, ForwardAndBackwardGiveTheLectureNumbers) {
  std::ostringstream out;
  demos::ScalarDemoResult r = demos::scalar_demo({}, out);
  EXPECT_DOUBLE_EQ(r.prediction, 12);
  EXPECT_DOUBLE_EQ(r.loss, 3);
  EXPECT_DOUBLE_EQ(r.grad_a, -1);
  EXPECT_DOUBLE_EQ(r.grad_b, -2);
  EXPECT_DOUBLE_EQ(r.grad_c, -12);
  EXPECT_TRUE(r.files.empty()) << "no out_dir, so no files";
}

TEST(ScalarDemo, EveryIntermediateHasItsValueAndGradient) {
  std::ostringstream out;
  demos::ScalarDemoResult r = demos::scalar_demo({}, out);
  // x, y, z, target, a, b, c and the seven results of a·x, b·y, +, ·c, ·z, −, |.|
  ASSERT_EQ(r.nodes.size(), 14u);
  std::map<std::string, demos::ScalarDemoResult::NodeValue> by_name;
  for (const auto& n : r.nodes) by_name[n.name] = n;
  EXPECT_DOUBLE_EQ(by_name.at("a·x").value, 2);
  EXPECT_DOUBLE_EQ(by_name.at("b·y").value, 10);
  EXPECT_DOUBLE_EQ(by_name.at("f − target").value, -3);
  EXPECT_DOUBLE_EQ(by_name.at("f − target").grad, -1);
  EXPECT_DOUBLE_EQ(by_name.at("a·x + b·y").grad, -1);
  EXPECT_DOUBLE_EQ(by_name.at("L = |f − target|").grad, 1);
  EXPECT_TRUE(std::isnan(by_name.at("x").grad)) << "a constant gets no gradient";
  // Inputs come before the nodes computed from them, the loss last.
  EXPECT_EQ(r.nodes.back().name, "L = |f − target|");
  // The printout walks the forward pass and then the backward pass.
  const std::string text = out.str();
  EXPECT_LT(text.find("forward pass"), text.find("backward pass"));
  EXPECT_NE(text.find("dL/d(a)"), std::string::npos);
}

TEST(ScalarDemo, WritesADotFileWithEveryNode) {
  TempDir dir;
  std::ostringstream out;
  demos::ScalarDemoResult r = demos::scalar_demo({.out_dir = dir.str()}, out);
  ASSERT_FALSE(r.files.empty());
  EXPECT_EQ(r.files.front(), dir / "scalar_graph.dot");
  const std::string dot = read_file(dir / "scalar_graph.dot");
  ASSERT_EQ(dot.rfind("digraph", 0), 0u) << dot;
  size_t records = 0;
  for (size_t at = dot.find("shape=record"); at != std::string::npos;
       at = dot.find("shape=record", at + 1))
    ++records;
  EXPECT_EQ(records, r.nodes.size());
  for (const auto& n : r.nodes) {
    std::string escaped;  // '|' separates record fields, so the writer escapes it
    for (char c : n.name) escaped += (c == '|' ? std::string("\\|") : std::string(1, c));
    EXPECT_NE(dot.find("{ " + escaped + " | data"), std::string::npos) << n.name;
  }
  for (const char* op : {"\"mul\"", "\"add\"", "\"sub\"", "\"abs\""})
    EXPECT_NE(dot.find(op), std::string::npos) << op;
  EXPECT_NE(dot.find("grad -12.0000"), std::string::npos) << "dL/dc is drawn";
}

// ---- GraphSnapshot and DOT on their own ----

TEST(GraphSnapshot, CapturesConstantsAndOrdersInputsFirst) {
  Tensor w = Tensor::ones({2, 4}, kFloat64).requires_grad_();
  Tensor x = Tensor::full({4, 1}, 2.0, kFloat64);  // a constant backward never visits
  Tensor y = sum(matmul(w, x));
  io::GraphSnapshot graph(y);
  ASSERT_EQ(graph.nodes().size(), 4u);  // w, x, matmul, sum
  EXPECT_GE(graph.find(x), 0);
  EXPECT_EQ(graph.root().op, "sum");
  for (size_t i = 0; i < graph.nodes().size(); ++i)
    for (int in : graph.nodes()[i].inputs) EXPECT_LT(in, static_cast<int>(i));
  const std::string before = io::to_dot(graph);
  EXPECT_EQ(before.find("| grad"), std::string::npos) << "no gradients before backward";
  y.backward();
  const std::string after = io::to_dot(graph);
  EXPECT_NE(after.find("data shape [2, 4] | grad shape [2, 4]"), std::string::npos)
      << "a tensor with more than max_values elements is drawn as its shape\n"
      << after;
  const std::string full = io::to_dot(graph, {.max_values = 8, .precision = 1});
  EXPECT_NE(full.find("grad [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0] [2, 4]"), std::string::npos)
      << full;
}

TEST(GraphSnapshot, RejectsAReleasedGraphAndUnknownLabels) {
  Tensor a = Tensor::scalar(3.0, kFloat64).requires_grad_();
  Tensor b = a * a;
  io::GraphSnapshot graph(b);
  EXPECT_THROW(graph.label(Tensor::scalar(1.0), "stranger"), Error);
  b.backward();
  EXPECT_THROW(io::GraphSnapshot{b}, Error);
  EXPECT_THROW(io::write_dot(graph, "/nonexistent-dir/graph.dot"), Error);
}

// ---- matrix demo ----

TEST(MatrixDemo, FormulaAutogradAndCentralDifferencesAgree) {
  std::ostringstream out;
  demos::MatrixDemoResult r = demos::matrix_demo({.seed = 3}, out);
  EXPECT_EQ(r.formula_dw.shape(), Shape({3, 4}));
  EXPECT_EQ(r.formula_dx.shape(), Shape({4, 1}));
  EXPECT_EQ(r.autograd_dw.shape(), r.w.shape());
  EXPECT_LT(r.max_rel_error_formula_vs_autograd, 1e-12);
  EXPECT_LT(r.max_rel_error_formula_vs_numeric, 1e-6);
  EXPECT_TRUE(r.gradcheck.passed) << r.gradcheck.str();
  EXPECT_EQ(r.gradcheck.checked, 12 + 4);
  // The gradients are not trivially zero.
  double norm = 0;
  for (double v : r.formula_dw.to_vector()) norm += v * v;
  EXPECT_GT(norm, 1e-3);
}

// ---- XOR demo ----

TEST(XorDemo, TheMlpLearnsXorForEverySeedAndTheLinearModelNever) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    std::ostringstream out;
    demos::XorDemoResult r = demos::xor_demo({.seed = seed}, out);
    EXPECT_EQ(r.mlp.accuracy, 1.0) << "seed " << seed << "\n" << out.str();
    EXPECT_LT(r.linear.accuracy, 1.0) << "seed " << seed;
    EXPECT_LT(r.mlp.losses.back(), 0.05) << "seed " << seed;
    EXPECT_LT(r.mlp.losses.back(), r.mlp.losses.front()) << "seed " << seed;
    ASSERT_EQ(r.mlp.losses.size(), 5001u);
    EXPECT_TRUE(r.files.empty());
  }
}

TEST(XorDemo, WritesDecisionBoundaryAndLossPngs) {
  TempDir dir;
  std::ostringstream out;
  demos::XorDemoResult r = demos::xor_demo({.out_dir = dir.str(), .steps = 2000}, out);
  ASSERT_EQ(r.files.size(), 3u);
  for (const char* name : {"xor_linear.png", "xor_mlp.png", "xor_loss.png"}) {
    EXPECT_EQ(png_size(dir / name), std::make_pair(640, 480)) << name;
  }
  // The loss is printed every 1000 steps and at the end.
  EXPECT_NE(out.str().find("step  1000"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("step  2000"), std::string::npos) << out.str();
}

// ---- plots ----

TEST(Plot, DecisionRegionsTakeTheClassColours) {
  TempDir dir;
  io::DecisionBoundaryPlot plot;
  plot.figure.width = 400;
  plot.figure.height = 300;
  plot.figure.title = "x > 0.5";
  plot.x_min = plot.y_min = 0;
  plot.x_max = plot.y_max = 1;
  std::string path = dir / "regions.png";
  io::write_decision_boundary_plot(path, plot, [](const auto& xs, const auto&) {
    std::vector<int> cls;
    for (double x : xs) cls.push_back(x > 0.5);
    return cls;
  });
  ASSERT_EQ(png_size(path), std::make_pair(400, 300));
  // Left of the boundary: tinted tab:blue (more blue than red); right: tinted tab:orange.
  auto left = png_pixel(path, static_cast<int>(400 * 0.2), 300 / 2);
  auto right = png_pixel(path, static_cast<int>(400 * 0.8), 300 / 2 + 30);
  EXPECT_GT(left[2], left[0]) << left[0] << " " << left[1] << " " << left[2];
  EXPECT_GT(right[0], right[2]) << right[0] << " " << right[1] << " " << right[2];
  EXPECT_LT(left[0], 255) << "not the white background";
}

TEST(Plot, LinePlotWritesAPngOfTheFigureSize) {
  TempDir dir;
  io::LinePlot plot;
  plot.figure = {.width = 800, .height = 500, .title = "loss", .x_label = "step", .y_label = "L"};
  io::Series s{"train", {}, {}};
  for (int i = 0; i < 50; ++i) {
    s.x.push_back(i);
    s.y.push_back(std::exp(-0.1 * i));
  }
  plot.series = {s};
  plot.log_y = true;
  io::write_line_plot(dir / "loss.png", plot);
  EXPECT_EQ(png_size(dir / "loss.png"), std::make_pair(800, 500));
}

TEST(Plot, BadInputsThrow) {
  TempDir dir;
  io::LinePlot empty;
  EXPECT_THROW(io::write_line_plot(dir / "a.png", empty), Error);
  io::LinePlot mismatched;
  mismatched.series = {{"s", {1, 2, 3}, {1, 2}}};
  EXPECT_THROW(io::write_line_plot(dir / "b.png", mismatched), Error);
  io::LinePlot negative_log;
  negative_log.series = {{"s", {1, 2}, {1, -2}}};
  negative_log.log_y = true;
  EXPECT_THROW(io::write_line_plot(dir / "c.png", negative_log), Error);
  io::LinePlot fine;
  fine.series = {{"s", {1, 2}, {1, 2}}};
  EXPECT_THROW(io::write_line_plot("/nonexistent-dir/d.png", fine), Error);
  io::DecisionBoundaryPlot plot;
  auto wrong_count = [](const auto&, const auto&) { return std::vector<int>{0}; };
  EXPECT_THROW(io::write_decision_boundary_plot(dir / "e.png", plot, wrong_count), Error);
}

// ---- the command line ----

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

CliRun run_cli(const std::string& args, const TempDir& dir) {
  const std::string out_path = dir / "stdout.txt", err_path = dir / "stderr.txt";
  const std::string command =
      std::string("'") + NABLA_CLI + "' " + args + " >'" + out_path + "' 2>'" + err_path + "'";
  int status = std::system(command.c_str());
  CliRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_file(out_path);
  run.err = read_file(err_path);
  return run;
}

TEST(Cli, DemoScalarPrintsTheGradients) {
  TempDir dir;
  CliRun run = run_cli("demo scalar --out '" + dir.str() + "'", dir);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("dL/da = -1.0000, dL/db = -2.0000, dL/dc = -12.0000"), std::string::npos)
      << run.out;
  EXPECT_TRUE(fs::exists(dir / "scalar_graph.dot"));
}

TEST(Cli, DemoXorWritesItsPlots) {
  TempDir dir;
  CliRun run = run_cli("demo xor --out '" + (dir / "plots") + "' --seed 1", dir);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("accuracy 100%"), std::string::npos) << run.out;
  for (const char* name : {"xor_linear.png", "xor_mlp.png"})
    EXPECT_EQ(png_size((fs::path(dir / "plots") / name).string()), std::make_pair(640, 480))
        << name;
}

TEST(Cli, GradcheckPassesEveryCase) {
  TempDir dir;
  CliRun run = run_cli("gradcheck", dir);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.find("FAIL"), std::string::npos) << run.out;
  for (const GradcheckCase& c : gradcheck_cases())
    EXPECT_NE(run.out.find(std::string(op_name(c.op)) + " "), std::string::npos) << op_name(c.op);
}

TEST(Cli, GradcheckFiltersByOpAndFailsBelowAnImpossibleTolerance) {
  TempDir dir;
  CliRun only = run_cli("gradcheck --op matmul", dir);
  EXPECT_EQ(only.exit_code, 0) << only.err;
  EXPECT_NE(only.out.find("matmul"), std::string::npos);
  EXPECT_EQ(only.out.find("\nadd "), std::string::npos) << "other ops are filtered out";
  // No central difference matches backward to 1e-300, so every case fails and the exit code says
  // so.
  CliRun strict = run_cli("gradcheck --op matmul --tolerance 1e-300", dir);
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.out.find("FAIL"), std::string::npos) << strict.out;
}

TEST(Cli, UsageErrorsListTheValidChoices) {
  TempDir dir;
  CliRun bad_command = run_cli("frobnicate", dir);
  EXPECT_EQ(bad_command.exit_code, 2);
  EXPECT_NE(bad_command.err.find("valid commands: gradcheck, demo"), std::string::npos)
      << bad_command.err;
  CliRun bad_demo = run_cli("demo nonesuch", dir);
  EXPECT_EQ(bad_demo.exit_code, 2);
  EXPECT_NE(bad_demo.err.find("scalar"), std::string::npos) << bad_demo.err;
  EXPECT_NE(bad_demo.err.find("xor"), std::string::npos) << bad_demo.err;
  CliRun bad_op = run_cli("gradcheck --op nonesuch", dir);
  EXPECT_EQ(bad_op.exit_code, 2);
  EXPECT_NE(bad_op.err.find("matmul"), std::string::npos) << bad_op.err;
}

TEST(Cli, LibraryErrorsBecomeOneLineAndExitCode1) {
  TempDir dir;
  std::ofstream(dir / "a_file") << "not a directory";
  CliRun run = run_cli("demo scalar --out '" + (dir / "a_file") + "'", dir);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err.rfind("nabla: error: ", 0), 0u) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
}

}  // namespace
}  // namespace nabla
