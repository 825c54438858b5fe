// The training report (app/report.h): a real run's report.html is self-contained (every image
// a data URI, nothing fetched), has the run's configuration, curves, filters, confusion matrix,
// any other PNG (diagnostics) and the metrics table — and Debian's chromium, headless, loads it
// with every chart decoded and renders it (a screenshot with the curves' colour in it).
#include "app/report.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "app/run.h"
#include "app/run_detail.h"
#include "app/run_info.h"
#include "nabla/io/image.h"
#include "nabla/io/plot.h"
#include "nabla/threads.h"
#include "test_util.h"
#include "train/fake_run_fixture.h"

namespace nabla::app {
namespace {

using nabla::testing::read_file;

TEST(Base64Test, MatchesTheRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

// The attributes of every <img> tag in `html`, in order. Scanned by hand: std::regex recurses
// per character and overflows the stack on a data URI of tens of kilobytes.
std::vector<std::map<std::string, std::string>> images_in(const std::string& html) {
  std::vector<std::map<std::string, std::string>> out;
  for (size_t at = html.find("<img"); at != std::string::npos; at = html.find("<img", at)) {
    const size_t close = html.find('>', at);
    std::map<std::string, std::string> attrs;
    size_t pos = at + 4;
    while (true) {
      const size_t eq = html.find("=\"", pos);
      if (eq == std::string::npos || eq > close) break;
      const size_t name_start = html.find_last_of(" \t\n", eq) + 1;
      const size_t value_end = html.find('"', eq + 2);
      attrs[html.substr(name_start, eq - name_start)] = html.substr(eq + 2, value_end - eq - 2);
      pos = value_end + 1;
    }
    out.push_back(attrs);
    at = close;
  }
  return out;
}

// The headless browser the test drives; empty when none is installed.
std::string find_chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::filesystem::exists(path)) return path;
  return "";
}

class ReportTest : public nabla::testing::FakeFashionMnistTest {
 protected:
  ReportTest() : FakeFashionMnistTest(200, 40) {}
  // A two-epoch LeNet-5 run (so it has filters), plus what a diagnostics option would add: an
  // extra figure and a long per-step CSV; then the report is written again to include them.
  void SetUp() override {
    RunOptions o = run_options("run", 2);
    o.model = "lenet5";
    o.batch_size = 50;
    result = run_training(o, log);

    io::LinePlot extra;
    extra.figure.title = "Activations";
    extra.series.push_back({"", {0, 1, 2}, {1, 3, 2}});
    io::write_line_plot(dir.file("run/activations_layer1.png"), extra);
    std::ofstream csv(dir.file("run/diagnostics.csv"));
    csv << "step,layer,ratio\n";
    for (int i = 0; i < 100; ++i) csv << i << ",conv1," << 1e-3 * (i + 1) << "\n";
    csv.close();
    write_run_report(run_dir(), {{"test accuracy", "12.50%"}});
  }
  std::string run_dir() const { return dir.file("run"); }
  RunResult result;
};

TEST_F(ReportTest, RunTrainingWritesOneSelfContainedPage) {
  const std::string html = read_file(dir.file("run/report.html"));
  ASSERT_FALSE(html.empty());
  // Nothing from the network, no external files: every src is a data URI.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  const auto images = images_in(html);
  std::vector<std::string> files;
  for (const auto& img : images) {
    EXPECT_EQ(img.at("src").rfind("data:image/png;base64,", 0), 0u) << img.at("data-file");
    files.push_back(img.at("data-file"));
  }
  EXPECT_EQ(files, (std::vector<std::string>{"loss.png", "loss_steps.png", "accuracy.png",
                                             "filters.png", "confusion.png", "misclassified.png",
                                             "activations_layer1.png"}));
  // The embedded bytes are the file's.
  EXPECT_EQ(images[0].at("src").substr(22), base64_encode(read_file(dir.file("run/loss.png"))));

  // Configuration, summary, sections and tables.
  for (const char* text : {"<h2 id=\"configuration\">", "lenet5", "T-shirt/top", "0 (Conv2d)",
                           "[50, 6, 28, 28]", "Total params: 61,706", "test accuracy", "12.50%",
                           "More figures", "Metrics per epoch (metrics.csv)", "<th>train_loss</th>",
                           "diagnostics.csv: 100 rows; showing the first 30 and the last 30"})
    EXPECT_NE(html.find(text), std::string::npos) << text;
}

TEST_F(ReportTest, HeadlessChromiumLoadsEveryChartAndRendersThePage) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const std::string url =
      "file://" + std::filesystem::absolute(dir.file("run/report.html")).string();
  // As root, chromium needs --no-sandbox; a profile of its own keeps parallel runs apart; the
  // virtual time budget lets the load event and its script run before the DOM is dumped.
  const std::string flags =
      " --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"
      " --hide-scrollbars --user-data-dir=" +
      dir.file("profile") + " --virtual-time-budget=10000 ";
  const std::string dump = "timeout 120 " + chromium + flags + "--dump-dom '" + url + "' >" +
                           dir.file("dom.html") + " 2>" + dir.file("chromium.log");
  int status = std::system(dump.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir.file("chromium.log"));
  const std::string dom = read_file(dir.file("dom.html"));
  EXPECT_NE(dom.find("data-ready=\"true\""), std::string::npos) << dom.substr(0, 2000);
  EXPECT_NE(dom.find("data-images-loaded=\"7\""), std::string::npos);
  EXPECT_NE(dom.find("data-images-broken=\"0\""), std::string::npos);
  const auto images = images_in(dom);
  ASSERT_EQ(images.size(), 7u);
  std::map<std::string, std::pair<std::string, std::string>> decoded;
  for (const auto& img : images)
    decoded[img.at("data-file")] = {
        img.count("data-natural-width") ? img.at("data-natural-width") : "",
        img.count("data-natural-height") ? img.at("data-natural-height") : ""};
  for (const char* chart : {"loss.png", "loss_steps.png", "accuracy.png", "activations_layer1.png"})
    EXPECT_EQ(decoded[chart], std::make_pair(std::string("640"), std::string("480"))) << chart;
  const io::Image filters = io::read_png(dir.file("run/filters.png"));
  EXPECT_EQ(decoded["filters.png"].first, std::to_string(filters.width));
  const io::Image confusion = io::read_png(dir.file("run/confusion.png"));
  EXPECT_EQ(decoded["confusion.png"].second, std::to_string(confusion.height));

  // A screenshot of the page: not blank, and the training curves' blue (matplotlib's tab10
  // #1f77b4) is on it, so the charts were painted, not only decoded.
  const std::string shot = dir.file("shot.png");
  const std::string screenshot = "timeout 120 " + chromium + flags + "--window-size=1200,2400 " +
                                 "--screenshot=" + shot + " '" + url + "' >" +
                                 dir.file("chromium.log") + " 2>&1";
  status = std::system(screenshot.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir.file("chromium.log"));
  const io::Image page = io::read_png(shot);
  ASSERT_EQ(page.channels, 3);
  EXPECT_EQ(page.width, 1200);
  int64_t non_white = 0, curve_blue = 0;
  for (int64_t y = 0; y < page.height; ++y)
    for (int64_t x = 0; x < page.width; ++x) {
      const int r = page.at(y, x, 0), g = page.at(y, x, 1), b = page.at(y, x, 2);
      non_white += r < 250 || g < 250 || b < 250;
      curve_blue += std::abs(r - 0x1f) < 24 && std::abs(g - 0x77) < 24 && std::abs(b - 0xb4) < 24;
    }
  EXPECT_GT(non_white, page.width * page.height / 50) << "the screenshot is nearly blank";
  EXPECT_GT(curve_blue, 200) << "no curve colour on the screenshot";
}

// Issue 16 item 11: the page shows the values the run used (the optimizer's weight decay where
// none was given, "not used" for an option without effect), when, how long, with which nabla,
// on which CPU and threads it ran, and numbers as the console prints them.
TEST_F(ReportTest, ShowsTheEffectiveValuesDateDurationAndVersion) {
  const std::string html = read_file(dir.file("run/report.html"));
  auto row = [](const std::string& key, const std::string& value) {
    return "<th class=\"text\">" + key + "</th><td class=\"text\">" + value + "</td>";
  };
  for (const std::string& text :
       {std::string("<h2 id=\"run\">"), row("nabla version", version_text()),
        row("CPU", cpu_model()), row("threads", "1"), row("weight_decay", "0 (auto)"),
        row("lr_gamma", "not used"), row("momentum", "not used"), row("lr", "0.001"),
        row("test accuracy", run_detail::percent(result.test.accuracy) + " of " +
                                 std::to_string(result.test.samples) + " images")})
    EXPECT_NE(html.find(text), std::string::npos) << text;
  const size_t date = html.find(row("date", "").substr(0, 36));
  ASSERT_NE(date, std::string::npos);
  EXPECT_NE(html.find(" UTC</td>", date), std::string::npos);
  EXPECT_NE(html.find("<th class=\"text\">duration</th><td class=\"text\">"), std::string::npos);
  // Where the last epoch's steps went (train::EpochTimes), kept in the run's record.
  const std::string time_row = row("time (last epoch)", "");
  const size_t time = html.find(time_row.substr(0, time_row.size() - 5));  // without "</td>"
  ASSERT_NE(time, std::string::npos);
  EXPECT_NE(html.find(" ms a step: batches ", time), std::string::npos);
  // metrics.csv's cells as on the console: accuracies in percent, other numbers 4 digits.
  const train::EpochMetrics& first = result.history.at(0);
  char loss[32];
  std::snprintf(loss, sizeof loss, "%.4g", first.train_loss);
  const std::string metrics_row = "<tr><td>1</td><td>0.001</td><td>" + std::string(loss) +
                                  "</td><td>" + run_detail::percent(first.train_acc) + "</td>";
  EXPECT_NE(html.find(metrics_row), std::string::npos) << metrics_row;
}

// The record's epoch times as the report says them: per step and in shares of the steps' time,
// with the threads the slices kept busy where there were slices.
TEST(RunRecordTest, EpochTimesInSharesOfAStep) {
  train::EpochTimes t;
  t.steps = 10;
  t.data = 0.01;
  t.forward_backward = 0.08;  // of which the slices 0.06, their work 0.114
  t.slices = 0.06;
  t.slice_work = 0.114;
  t.gradient_sum = 0.005;
  t.optimizer = 0.0075;
  t.other = 0.0025;
  const nlohmann::json j = epoch_times_json(t);
  EXPECT_EQ(j.at("steps").get<int64_t>(), 10);
  EXPECT_EQ(epoch_times_text(j),
            "10.0 ms a step: batches 10.0%, forward and backward 80.0%, optimizer 7.5%, the rest "
            "2.5%; its slices kept 1.9 threads busy");
  t.slices = t.slice_work = t.gradient_sum = 0;  // whole steps: no slices to speak of
  EXPECT_EQ(epoch_times_text(epoch_times_json(t)),
            "10.0 ms a step: batches 10.0%, forward and backward 80.0%, optimizer 7.5%, the rest "
            "2.5%");
  EXPECT_EQ(epoch_times_text(nullptr), "unknown");
  EXPECT_EQ(epoch_times_text(epoch_times_json(train::EpochTimes{})), "unknown");
  // A resumed run keeps the record's times until its next epoch ends.
  RunRecord record;
  record.set_epoch_times(t);
  EXPECT_EQ(RunRecord(record.to_json()).to_json().at("epoch_times"), epoch_times_json(t));
  EXPECT_FALSE(RunRecord().to_json().contains("epoch_times"));
}

TEST(EffectiveOptionsTest, DefaultsResolveToWhatTheRunUses) {
  RunOptions o;
  o.threads = 0;
  nlohmann::json e = run_detail::effective_options(o);
  EXPECT_EQ(e.at("threads").get<int>(), num_threads());
  EXPECT_TRUE(e.at("lr_gamma").is_null()) << "no schedule: the factor is not used";
  EXPECT_TRUE(e.at("momentum").is_null()) << "adam has no momentum option";
  EXPECT_EQ(e.at("weight_decay").get<double>(), 0.0);
  o.lr_schedule = "plateau";
  EXPECT_EQ(run_detail::effective_options(o).at("lr_gamma").get<double>(), 0.1);
  o.lr_schedule = "exponential";
  EXPECT_EQ(run_detail::effective_options(o).at("lr_gamma").get<double>(), 0.9);
  o.lr_schedule = "step";
  o.epochs = 9;
  e = run_detail::effective_options(o);
  EXPECT_EQ(e.at("lr_step_size").get<int64_t>(), 3);
  EXPECT_EQ(e.at("lr_gamma").get<double>(), 0.1);
  o.lr_gamma = 0.5;
  o.optimizer = "adamw";
  e = run_detail::effective_options(o);
  EXPECT_EQ(e.at("lr_gamma").get<double>(), 0.5);
  EXPECT_EQ(e.at("weight_decay").get<double>(), 1e-2);
}

TEST(ReportErrorTest, AMissingDirectoryIsNamed) {
  const std::string m =
      nabla::testing::error_message([] { write_run_report("/nonexistent/run-dir"); });
  EXPECT_NE(m.find("report: /nonexistent/run-dir is not a run directory"), std::string::npos) << m;
}

}  // namespace
}  // namespace nabla::app
