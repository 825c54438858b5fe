// Whole training runs through the library (app/run.h): the files a run writes, exact
// resumption from its checkpoint, and the model eval and predict rebuild from it.
#include "app/run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "nabla/io/checkpoint.h"
#include "nabla/io/image.h"
#include "nabla/io/safetensors.h"
#include "nabla/suggest.h"
#include "train/fake_run_fixture.h"

namespace nabla::app {
namespace {

using nabla::testing::tensors_of;
using nabla::testing::write_text;

class RunTest : public nabla::testing::FakeFashionMnistTest {
 protected:
  RunTest() : FakeFashionMnistTest(400, 100) {}
  RunOptions small_run(const std::string& out, int64_t epochs) const {
    RunOptions o = run_options(out, epochs);
    o.model = "mlp";
    o.batch_size = 32;
    o.optimizer = "adam";
    o.lr = 2e-3;
    o.lr_schedule = "cosine";
    o.warmup_epochs = 1;
    o.dropout = 0.25;  // so the dropout generators' states must be carried over too
    o.seed = 3;
    o.train_subset = 300;
    o.test_subset = 100;
    return o;
  }
};

TEST_F(RunTest, TwoEpochsThenResumeForOneEqualThreeUninterruptedEpochsBitwise) {
  // Augmentation too: its crops and flips are drawn from (seed, epoch, batch).
  RunOptions straight_options = small_run("straight", 3);
  RunOptions interrupted_options = small_run("interrupted", 2);
  straight_options.augment = interrupted_options.augment = true;
  const RunResult straight = run_training(straight_options, log);
  run_training(interrupted_options, log);
  const auto after_two = tensors_of(dir.file("interrupted/last/model.safetensors"));
  const RunResult resumed = resume_training(
      dir.file("interrupted"),
      ResumeOptions{.epochs = 3, .threads = 1, .data_dir = "", .interactive = false}, log);

  EXPECT_NE(log.str().find("resuming after epoch 2 of 3"), std::string::npos);
  const auto expected = tensors_of(dir.file("straight/final/model.safetensors"));
  EXPECT_EQ(tensors_of(dir.file("interrupted/final/model.safetensors")), expected);
  EXPECT_NE(after_two, expected) << "the resumed epoch must have changed the weights";
  EXPECT_EQ(tensors_of(dir.file("interrupted/last/optimizer.safetensors")),
            tensors_of(dir.file("straight/last/optimizer.safetensors")));
  ASSERT_EQ(resumed.history.size(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(resumed.history[e].train_loss, straight.history[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(resumed.history[e].lr, straight.history[e].lr) << "epoch " << e + 1;
  }
  EXPECT_EQ(resumed.test.accuracy, straight.test.accuracy);
  EXPECT_EQ(train::read_metrics_csv(dir.file("interrupted/metrics.csv")).size(), 3u);
  // The loss per step too: the resumed run read its first two epochs' steps back.
  EXPECT_EQ(nabla::testing::read_file(dir.file("interrupted/steps.csv")),
            nabla::testing::read_file(dir.file("straight/steps.csv")));
}

TEST_F(RunTest, WritesMetricsPlotsAndCheckpointsThatEvalAndPredictReload) {
  RunOptions o = small_run("run", 2);
  o.dropout.reset();
  const RunResult r = run_training(o, log);
  EXPECT_GT(r.test.accuracy, 0.5) << "the bands are easy to tell apart";
  EXPECT_EQ(r.test.samples, 100);
  const auto rows = train::read_metrics_csv(dir.file("run/metrics.csv"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[1].has_validation());
  for (const char* png : {"loss.png", "accuracy.png", "confusion.png"})
    EXPECT_GT(io::read_png(dir.file(std::string("run/") + png)).width, 100) << png;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run/filters.png"))) << "an MLP has no filters";
  // One row per step (8 batches an epoch), and the per-step curve.
  std::istringstream steps(nabla::testing::read_file(dir.file("run/steps.csv")));
  std::string line;
  std::getline(steps, line);
  EXPECT_EQ(line, "step,epoch,loss,accuracy,lr");
  int64_t count = 0;
  for (; std::getline(steps, line); ++count)
    EXPECT_EQ(line.rfind(std::to_string(count + 1) + "," + (count < 8 ? "1," : "2,"), 0), 0u)
        << line;
  EXPECT_EQ(count, 16);
  EXPECT_GT(io::read_png(dir.file("run/loss_steps.png")).width, 100);

  const TrainedModel trained = load_trained_model(dir.file("run"));
  EXPECT_EQ(trained.checkpoint, dir.file("run/best"));
  EXPECT_EQ(trained.class_names[1], "Trouser");
  EXPECT_EQ(trained.sample_shape, (std::vector<int64_t>{1, 28, 28}));
  const TrainedModel final_model = load_trained_model(dir.file("run/final"));
  const data::Dataset test = load_run_dataset(trained.options, data::Split::Test);
  const train::EvalResult again =
      train::evaluate(*final_model.model, eval_loader(final_model, test));
  EXPECT_EQ(again.accuracy, r.test.accuracy) << "the final checkpoint is the model tested";

  const std::vector<double> p = predict_probabilities(final_model, test, 5);
  ASSERT_EQ(p.size(), 10u);
  double total = 0;
  for (double v : p) total += v;
  EXPECT_NEAR(total, 1.0, 1e-5);

  EXPECT_THROW(run_training(o, log), Error) << "refuses to overwrite a run";
}

TEST_F(RunTest, AJsonConvModelGetsAFilterPicture) {
  write_text(dir.file("tiny.json"),
             R"({"input": [1, 28, 28], "layers": [
                   {"type": "conv2d", "out_channels": 5, "kernel_size": 3, "padding": 1},
                   {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 4},
                   {"type": "flatten"}, {"type": "linear", "out_features": 10}]})");
  RunOptions o = small_run("conv", 1);
  o.model = dir.file("tiny.json");
  o.dropout.reset();
  o.lr_schedule = "none";
  o.warmup_epochs = 0;
  run_training(o, log);
  // 5 filters of 3 × 3: a 3-wide, 2-high grid with 1-pixel gaps, enlarged until it is about
  // 320 pixels wide (io::filter_grid_layout), in a titled figure a little larger than the grid.
  const io::Image filters = io::read_png(dir.file("conv/filters.png"));
  const io::FilterGridLayout grid = io::filter_grid_layout(Shape{5, 1, 3, 3}, {});
  EXPECT_EQ(grid.scale, 320 / (3 * 3 + 2));
  EXPECT_GE(grid.width(), 300);
  EXPECT_GT(filters.width, grid.width());
  EXPECT_GT(filters.height, grid.height() + 20) << "room for the title";
}

TEST_F(RunTest, BadOptionsAreNamedWithTheValidChoices) {
  auto message = [&](RunOptions o) -> std::string {
    try {
      run_training(o, log);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  RunOptions o = small_run("bad", 1);
  o.optimizer = "adma";
  EXPECT_NE(message(o).find("unknown optimizer 'adma' (did you mean 'adam'?)"), std::string::npos);
  o = small_run("bad2", 1);
  o.model = "lenet";
  EXPECT_NE(message(o).find("did you mean 'lenet5'"), std::string::npos);
  o = small_run("bad3", 1);
  o.data_dir = dir.file("nowhere");
  EXPECT_NE(message(o).find("HINT"), std::string::npos);
  o = small_run("bad4", 1);
  o.lr_schedule = "linear";
  EXPECT_NE(message(o).find("expected none, step, cosine, exponential or plateau"),
            std::string::npos);
  EXPECT_THROW(resume_training(dir.file("never-trained"), {}, log), Error);
  EXPECT_EQ(closest_choice("cosin", lr_schedule_names()), "cosine");
  EXPECT_EQ(closest_choice("xyz", lr_schedule_names()), "");
}

TEST_F(RunTest, ReportAndCurvesAreCurrentAfterEveryEpochAndOnAnInterrupt) {
  RunOptions o = small_run("run", 3);
  const std::string report = dir.file("run/report.html");
  int64_t asked = 0, first_seen = 0;
  std::string seen;
  // Asked after every step: the first time report.html exists, it is epoch 1's.
  o.stop_when = [&]() -> bool {
    ++asked;
    if (first_seen == 0 && std::filesystem::exists(report)) {
      first_seen = asked;
      seen = nabla::testing::read_file(report);
      EXPECT_TRUE(std::filesystem::exists(dir.file("run/loss.png")));
    }
    return asked == 15;  // in epoch 2 (8 batches an epoch)
  };
  const RunResult result = run_training(o, log);
  ASSERT_TRUE(result.interrupted);
  ASSERT_GT(first_seen, 0) << "no report.html before the run ended";
  EXPECT_NE(seen.find("training, 1 of 3 epochs done"), std::string::npos);
  const std::string after = nabla::testing::read_file(report);
  const size_t status = after.find("interrupted in epoch");
  ASSERT_NE(status, std::string::npos);
  EXPECT_EQ(after.substr(status, 38), "interrupted in epoch 2 after batch 6/8");
  EXPECT_NE(after.find("nabla train --resume"), std::string::npos);
}

}  // namespace
}  // namespace nabla::app
