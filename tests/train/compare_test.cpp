// `nabla compare` (app/compare.h) and `nabla --version`, issue 16 items 9 and 11: two runs that
// differ in their learning rate give one table whose only setting column is lr, with each run's
// test accuracy, date, duration, version, CPU and threads; the page and the overlaid curves are
// written; the command line does the same, and names what is wrong with a bad run folder.
#include "app/compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/report.h"
#include "app/run_detail.h"
#include "app/run_info.h"
#include "nabla/io/image.h"
#include "train/cli_fixture.h"

namespace nabla::app {
namespace {

class CompareTest : public CliTest {
 protected:
  CompareTest() : CliTest(120, 40) {}
  void SetUp() override {
    for (const auto& [name, lr] : {std::pair{"a", 1e-3}, std::pair{"b", 3e-3}}) {
      RunOptions o = run_options(name, 2);
      o.model = "mlp";
      o.lr = lr;
      results.push_back(run_training(o, log));
    }
  }
  std::vector<RunResult> results;
};

size_t column(const Comparison& c, const std::string& name) {
  const auto it = std::find(c.header.begin(), c.header.end(), name);
  return it == c.header.end() ? SIZE_MAX : static_cast<size_t>(it - c.header.begin());
}

TEST_F(CompareTest, OneTableOfTheSettingsThatDifferAndTheResults) {
  const Comparison c = compare_runs({dir.file("a"), dir.file("b")});
  EXPECT_EQ(c.header, (std::vector<std::string>{"run", "lr", "epochs", "best val acc",
                                                "last val acc", "test acc", "date", "duration",
                                                "version", "CPU", "threads"}));
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[0][0], "a");
  EXPECT_EQ(c.rows[1][0], "b");
  EXPECT_EQ(c.rows[0][column(c, "lr")], "0.001");
  EXPECT_EQ(c.rows[1][column(c, "lr")], "0.003");
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(c.rows[r][column(c, "test acc")], run_detail::percent(results[r].test.accuracy));
    EXPECT_EQ(c.rows[r][column(c, "epochs")], "2");
    EXPECT_EQ(c.rows[r][column(c, "version")], version_text());
    EXPECT_EQ(c.rows[r][column(c, "CPU")], cpu_model());
    EXPECT_EQ(c.rows[r][column(c, "threads")], "1");
    EXPECT_NE(c.rows[r][column(c, "date")].find(" UTC"), std::string::npos);
    EXPECT_NE(c.rows[r][column(c, "duration")].find(" s"), std::string::npos);
  }
}

TEST_F(CompareTest, WritesThePageAndTheOverlaidCurves) {
  std::ostringstream out;
  write_comparison({dir.file("a"), dir.file("b")}, dir.file("cmp"), out);
  EXPECT_NE(out.str().find("run  lr"), std::string::npos) << out.str();
  for (const char* f : {"compare.html", "compare_loss.png", "compare_accuracy.png"})
    EXPECT_TRUE(std::filesystem::is_regular_file(dir.file(std::string("cmp/") + f))) << f;
  EXPECT_EQ(io::read_png(dir.file("cmp/compare_loss.png")).width, 640);
  const std::string html = testing::read_file(dir.file("cmp/compare.html"));
  for (const char* text : {"<th>lr</th>", "<th>test acc</th>", "data-file=\"compare_loss.png\"",
                           "href=\"../a/report.html\""})
    EXPECT_NE(html.find(text), std::string::npos) << text;
}

TEST_F(CompareTest, TheCommandLinePrintsTheTableAndNamesABadRun) {
  Result r = nabla("compare " + dir.file("a") + " " + dir.file("b") + " --out " + dir.file("cmp"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("lr"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.file("cmp/compare.html")));
  r = nabla("compare " + dir.file("a") + " " + dir.file("data"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("holds no training run"), std::string::npos) << r.err;
  r = nabla("compare " + dir.file("a"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("two or more run directories"), std::string::npos) << r.err;
}

// A run written before nabla recorded effective options, the date, version or test result: its
// checkpoints lack those keys, and compare and the report still read it.
TEST_F(CompareTest, RunsFromBeforeTheRunRecordStillCompareAndReport) {
  namespace fs = std::filesystem;
  fs::copy(dir.file("a"), dir.file("old"), fs::copy_options::recursive);
  for (const char* sub : {"final", "last", "best"}) {
    const std::string path = dir.file(std::string("old/") + sub + "/trainer_state.json");
    nlohmann::json state = nlohmann::json::parse(testing::read_file(path));
    for (const char* key : {"effective_options", "run", "test", "border"})
      state.at("config").erase(key);
    std::ofstream(path) << state.dump(2);
  }
  const Comparison c = compare_runs({dir.file("old"), dir.file("b")});
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[0][column(c, "test acc")], "—");
  EXPECT_EQ(c.rows[0][column(c, "date")], "—");
  EXPECT_EQ(c.rows[0][column(c, "epochs")], "2");
  EXPECT_NE(column(c, "lr"), SIZE_MAX);
  write_run_report(dir.file("old"));
  const std::string html = testing::read_file(dir.file("old/report.html"));
  EXPECT_NE(html.find("<h2 id=\"configuration\">"), std::string::npos);
  EXPECT_EQ(html.find("<h2 id=\"run\">"), std::string::npos);
}

TEST(VersionTest, NablaVersionPrintsTheProjectVersion) {
  const std::string out = ::testing::TempDir() + "/nabla_version.txt";
  const int status = std::system((std::string(NABLA_CLI) + " --version >" + out).c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string text = testing::read_file(out);
  EXPECT_EQ(text.rfind("nabla 0.", 0), 0u) << text;
  EXPECT_NE(text.find(version_text()), std::string::npos) << text;
}

}  // namespace
}  // namespace nabla::app
