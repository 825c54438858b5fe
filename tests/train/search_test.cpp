// Hyperparameter search (app/search.h): the space parser and its errors, the coarse-to-fine
// narrowing rule, and whole searches on a small fake Fashion-MNIST — the same seed gives the
// same table, another seed another one, and the files (trials.csv, scatter plots, report) are
// written.
#include "app/search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nabla/io/image.h"
#include "test_util.h"
#include "train/fake_run_fixture.h"

namespace nabla::app {
namespace {

using nabla::testing::error_message;

TEST(SearchSpaceTest, ParsesLogAndUniformRanges) {
  const auto space =
      parse_search_space("lr=log(1e-5,1e-1)  weight_decay=log(1e-6,1e-2) dropout=uniform(0,0.5)");
  ASSERT_EQ(space.size(), 3u);
  EXPECT_EQ(space[0].name, "lr");
  EXPECT_EQ(space[0].scale, SearchScale::Log);
  EXPECT_EQ(space[0].lo, 1e-5);
  EXPECT_EQ(space[0].hi, 1e-1);
  EXPECT_EQ(space[2].name, "dropout");
  EXPECT_EQ(space[2].scale, SearchScale::Uniform);
  EXPECT_EQ(space[2].hi, 0.5);
  EXPECT_EQ(space[0].str(), "lr=log(1e-05,0.1)");
}

TEST(SearchSpaceTest, ErrorsNameTheItemTheValidFormsAndNames) {
  auto message = [](const std::string& text) {
    return error_message([&] { parse_search_space(text); });
  };
  std::string m = message("lr=log(1e-5,1e-1) weight_decy=log(1e-6,1e-2)");
  EXPECT_NE(m.find("'weight_decy=log(1e-6,1e-2)': unknown hyperparameter 'weight_decy'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("did you mean 'weight_decay'"), std::string::npos) << m;
  EXPECT_NE(m.find("valid names: lr, weight_decay, dropout, momentum, batch_size"),
            std::string::npos)
      << m;
  m = message("lr=logarithmic(1e-5,1e-1)");
  EXPECT_NE(m.find("unknown distribution 'logarithmic'"), std::string::npos) << m;
  EXPECT_NE(m.find("NAME=log(LO,HI) or NAME=uniform(LO,HI)"), std::string::npos) << m;
  m = message("lr:log(1e-5,1e-1)");
  EXPECT_NE(m.find("'lr:log(1e-5,1e-1)' is not NAME=log(LO,HI) or NAME=uniform(LO,HI)"),
            std::string::npos)
      << m;
  EXPECT_NE(message("lr=log(1e-5;1e-1)").find("expected two numbers LO,HI"), std::string::npos);
  EXPECT_NE(message("lr=log(0,1e-1)").find("log needs LO > 0"), std::string::npos);
  EXPECT_NE(message("lr=log(1e-1,1e-5)").find("must be below HI"), std::string::npos);
  EXPECT_NE(message("dropout=uniform(0,1.5)").find("dropout must lie in [0, 1)"),
            std::string::npos);
  EXPECT_NE(message("lr=log(1e-5,1) lr=log(1e-3,1)").find("'lr' appears twice"), std::string::npos);
  EXPECT_NE(message("  ").find("empty"), std::string::npos);
}

Trial trial(int64_t index, double lr, double dropout, double acc) {
  Trial t;
  t.index = index;
  t.values = {lr, dropout};
  t.val_acc = acc;
  t.val_loss = 1 - acc;
  return t;
}

TEST(SearchNarrowingTest, SpansTheBestQuarterWidenedByATenthAndClipped) {
  const auto space = parse_search_space("lr=log(1e-5,1e-1) dropout=uniform(0,0.5)");
  // Eight trials, ranked: the best quarter is the first two.
  std::vector<Trial> ranked = {trial(3, 1e-3, 0.2, 0.9),  trial(1, 1e-2, 0.3, 0.8),
                               trial(2, 1e-5, 0.0, 0.5),  trial(4, 1e-1, 0.5, 0.4),
                               trial(5, 1e-4, 0.1, 0.3),  trial(6, 1e-4, 0.1, 0.2),
                               trial(7, 1e-4, 0.1, 0.15), trial(8, 1e-4, 0.1, 0.1)};
  const auto next = narrow_search_space(space, ranked);
  // lr: log10 span [-3, -2] widened by 0.1 · 4 decades = 0.4 on each side.
  EXPECT_NEAR(std::log10(next[0].lo), -3.4, 1e-12);
  EXPECT_NEAR(std::log10(next[0].hi), -1.6, 1e-12);
  // dropout: [0.2, 0.3] widened by 0.05.
  EXPECT_NEAR(next[1].lo, 0.15, 1e-12);
  EXPECT_NEAR(next[1].hi, 0.35, 1e-12);
  // Best values at the edge: the widened span is clipped to the current range.
  ranked[0].values[1] = 0.5;
  ranked[1].values[1] = 0.48;
  EXPECT_NEAR(narrow_search_space(space, ranked)[1].hi, 0.5, 1e-12);
  // Failed trials do not steer it.
  ranked[0].error = "train: the loss became nan";
  EXPECT_NEAR(narrow_search_space(space, ranked)[1].lo, 0.0, 1e-12);  // trials 1 and 2 now
}

TEST(SearchTableTest, TextAndCsvOfAFinishedAndAFailedTrial) {
  SearchResult result;
  result.space = parse_search_space("lr=log(1e-4,1e-1) weight_decay=uniform(0,0.01)");
  Trial done;
  done.index = 3;
  done.values = {0.0011580379, 8.5362343e-06};
  done.val_acc = 0.683333333;
  done.val_loss = 0.97445666;
  done.train_loss = 1.68832605;
  Trial failed;
  failed.index = 1;
  failed.values = {0.09, 0.005};
  failed.error = "train: the loss became \"nan\"\nat step 3";
  result.trials = {done, failed};
  EXPECT_EQ(format_search_table(result),
            "rank  trial  round  val acc  val loss  train loss            lr  weight_decay\n"
            "   1      3      1   68.33%    0.9745      1.6883      0.001158     8.536e-06\n"
            "   2      1      1   failed         -           -          0.09         0.005\n");
  EXPECT_EQ(search_table_csv(result),
            "rank,trial,round,val_acc,val_loss,train_loss,lr,weight_decay,error\n"
            "1,3,1,0.683333333,0.97445666,1.68832605,0.0011580379,8.5362343e-06,\n"
            "2,1,1,,,,0.09,0.005,\"train: the loss became 'nan' at step 3\"\n");
}

class SearchTest : public nabla::testing::FakeFashionMnistTest {
 protected:
  SearchTest() : FakeFashionMnistTest(160, 20) {}
  SearchOptions options(const std::string& out, uint64_t seed, int64_t rounds) const {
    SearchOptions o;
    o.base = run_options("", 1);  // each trial gets its own folder under out_dir
    o.base.model = "mlp";
    o.base.batch_size = 32;
    o.base.val_fraction = 0.25;
    o.space = parse_search_space(
        "lr=log(1e-5,1e-1) weight_decay=log(1e-6,1e-2) "
        "dropout=uniform(0,0.5)");
    o.trials = 8;
    o.rounds = rounds;
    o.seed = seed;
    o.out_dir = dir.file(out);
    return o;
  }
};

TEST_F(SearchTest, SameSeedSameTableOtherSeedOtherTable) {
  std::ostringstream log;
  const SearchResult a = run_search(options("a", 7, 2), log);
  const SearchResult b = run_search(options("b", 7, 2), log);
  const SearchResult c = run_search(options("c", 8, 1), log);
  ASSERT_EQ(a.trials.size(), 16u);
  EXPECT_EQ(search_table_csv(a), search_table_csv(b));
  EXPECT_EQ(format_search_table(a), format_search_table(b));
  EXPECT_NE(search_table_csv(a), search_table_csv(c));

  // Ranked best first; round 2 sampled inside round 1's ranges, from a narrower one.
  for (size_t i = 1; i < a.trials.size(); ++i)
    if (a.trials[i].ok()) {
      EXPECT_GE(a.trials[i - 1].val_acc, a.trials[i].val_acc);
    }
  ASSERT_EQ(a.round_spaces.size(), 2u);
  int narrowed = 0;
  for (size_t k = 0; k < a.space.size(); ++k) {
    EXPECT_GE(a.round_spaces[1][k].lo, a.round_spaces[0][k].lo);
    EXPECT_LE(a.round_spaces[1][k].hi, a.round_spaces[0][k].hi);
    narrowed += a.round_spaces[1][k].hi - a.round_spaces[1][k].lo <
                a.round_spaces[0][k].hi - a.round_spaces[0][k].lo;
  }
  EXPECT_GT(narrowed, 0);
  for (const Trial& t : a.trials)
    for (size_t k = 0; k < a.space.size(); ++k) {
      const SearchDimension& d = a.round_spaces[static_cast<size_t>(t.round - 1)][k];
      EXPECT_GE(t.values[k], d.lo);
      EXPECT_LE(t.values[k], d.hi);
    }

  // The files: the table, one scatter plot per hyperparameter, the report, each trial's run.
  std::ifstream csv(dir.file("a/trials.csv"));
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "rank,trial,round,val_acc,val_loss,train_loss,lr,weight_decay,dropout,error");
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  EXPECT_EQ(rows, 16);
  for (const char* name : {"lr", "weight_decay", "dropout"}) {
    const io::Image plot = io::read_png(dir.file(std::string("a/accuracy_vs_") + name + ".png"));
    EXPECT_EQ(plot.width, 640);
    EXPECT_EQ(plot.height, 480);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.file("a/report.html")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("a/trial-01/metrics.csv")));
  EXPECT_NE(log.str().find("rank  trial  round  val acc"), std::string::npos) << log.str();
}

TEST_F(SearchTest, BadOptionsAreRejectedBeforeAnyTrial) {
  SearchOptions o = options("bad", 1, 1);
  o.space = parse_search_space("momentum=uniform(0,0.9)");
  std::ostringstream log;
  std::string m = error_message([&] { run_search(o, log); });
  EXPECT_NE(m.find("momentum applies to the sgd and rmsprop optimizers, not adam"),
            std::string::npos)
      << m;
  o = options("bad", 1, 1);
  o.base.data_dir = dir.file("missing");
  m = error_message([&] { run_search(o, log); });
  EXPECT_NE(m.find("every trial of round 1 failed"), std::string::npos) << m;
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad/trial-01/last")));
}

TEST_F(SearchTest, AStopKeepsTheTableOfTheFinishedTrials) {
  SearchOptions o = options("s", 7, 2);
  const std::string csv = dir.file("s/trials.csv");
  auto rows = [&csv] {
    std::ifstream in(csv);
    int n = -1;  // the header
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  };
  // 120 training images in batches of 32: 4 steps a trial. The table is written after every
  // trial: the first step of trial 2 finds one row; the stop comes in trial 4's second step.
  int64_t steps = 0;
  int rows_in_trial_2 = -2;
  o.stop_when = [&] {
    if (++steps == 5) rows_in_trial_2 = rows();
    return steps == 3 * 4 + 2;
  };
  std::ostringstream log;
  const SearchResult r = run_search(o, log);
  EXPECT_EQ(rows_in_trial_2, 1);
  EXPECT_EQ(r.interrupted_trial, 4);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.trials.size(), 3u);
  EXPECT_EQ(rows(), 3);
  EXPECT_TRUE(std::filesystem::exists(dir.file("s/report.html")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("s/trial-04/last/model.safetensors")));
  EXPECT_NE(log.str().find("search interrupted in trial 4: the 3 finished trials are ranked in "
                           "trials.csv and report.html in " +
                           dir.file("s")),
            std::string::npos)
      << log.str();

  // Resumed, it keeps the three finished trials, trains the rest, and ends with the table of a
  // search that was never stopped.
  const SearchResult resumed = run_search(search_to_resume(dir.file("s")), log);
  EXPECT_EQ(resumed.interrupted_trial, 0);
  const SearchResult straight = run_search(options("straight", 7, 2), log);
  ASSERT_EQ(resumed.trials.size(), 16u);
  EXPECT_EQ(search_table_csv(resumed), search_table_csv(straight));
  EXPECT_EQ(rows(), 16);
}

}  // namespace
}  // namespace nabla::app
