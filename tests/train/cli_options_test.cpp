// `nabla train`'s options end to end (the built binary on a small fake Fashion-MNIST): no
// validation split, the last batch of one that batch norm cannot take, options the settings would
// ignore, and one error style for every bad command, option or value (docs/cli.md).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "nabla/train/metrics.h"
#include "train/cli_fixture.h"

namespace nabla {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `args` with `from` replaced by `to` (an option of CliTest::train_args given another value).
std::string with(const std::string& args, const std::string& from, const std::string& to) {
  const size_t at = args.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at == std::string::npos) return args;
  return args.substr(0, at) + to + args.substr(at + from.size());
}

// A usage error: exit 2, the message on the first line, the help line after it, no CLI11 text.
void expect_usage_error(const Result& r, const std::string& message, const std::string& command) {
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("nabla: error: ", 0), 0u) << r.err;
  EXPECT_TRUE(has(r.err, message)) << r.err;
  EXPECT_TRUE(has(r.err, "\nsee nabla " + command + " --help\n")) << r.err;
  for (const char* raw : {"Could not convert", "not in range", "Number less than"})
    EXPECT_FALSE(has(r.err, raw)) << r.err;
}

TEST_F(CliTest, ValFractionZeroTrainsWithoutValidationAndBestFollowsTrainingAccuracy) {
  const Result r = nabla(train_args("run", 2) + " --val-fraction 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "256 train / 0 val / 128 test images")) << r.out;
  EXPECT_FALSE(has(r.out, "val loss")) << r.out;
  const auto rows = train::read_metrics_csv(dir.file("run/metrics.csv"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(std::isnan(rows[1].val_loss));
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/best/model.safetensors")));
  // The epoch marked *best is the one with the higher training accuracy.
  const int64_t best = rows[1].train_acc > rows[0].train_acc ? 2 : 1;
  EXPECT_TRUE(has(r.out, "best validation epoch " + std::to_string(best))) << r.out;
}

TEST_F(CliTest, ABatchNormModelDropsALastBatchOfOneImageWithANotice) {
  // 65 training images in batches of 32: the last batch would hold one image.
  const std::string args = "train --model convnet --data-dir " + dir.file("data") +
                           " --epochs 1 --batch-size 32 --train-subset 65 --val-fraction 0"
                           " --test-subset 32 --threads 1 --out ";
  const Result r = nabla(args + dir.file("bn"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "notice: the last training batch would hold 1 image (65 = 2 x 32 + 1)"))
      << r.out;
  EXPECT_TRUE(
      has(testing::read_file(dir.file("bn/last/trainer_state.json")), "\"drop_last\": true"));
  // Asked for, or with a last batch of more than one, there is nothing to say.
  const Result asked = nabla(args + dir.file("asked") + " --drop-last");
  ASSERT_EQ(asked.code, 0) << asked.err;
  EXPECT_FALSE(has(asked.out, "notice:")) << asked.out;
  const Result mlp = nabla(with(train_args("mlp", 1), "--train-subset 256", "--train-subset 65") +
                           " --val-fraction 0");
  ASSERT_EQ(mlp.code, 0) << mlp.err;
  EXPECT_FALSE(has(mlp.out, "notice:")) << mlp.out;
}

TEST_F(CliTest, OptionsTheSettingsWouldIgnoreAreRefused) {
  expect_usage_error(
      nabla(with(train_args("a", 1), "--model mlp", "--model lenet5") + " --dropout 0.5"),
      "train: --dropout: lenet5 has no dropout layer to set (presets with "
      "dropout: mlp, convnet)",
      "train");
  expect_usage_error(nabla(train_args("b", 1) + " --lr-gamma 0.5"),
                     "train: --lr-gamma applies to --lr-schedule step, exponential or plateau, "
                     "not none",
                     "train");
  expect_usage_error(nabla(train_args("c", 1) + " --momentum 0.9"),
                     "train: --momentum applies to sgd and rmsprop, not adam", "train");
  expect_usage_error(nabla(train_args("d", 1) + " --lr-schedule cosine --lr-step-size 2"),
                     "train: --lr-step-size applies to --lr-schedule step, not cosine", "train");
  expect_usage_error(nabla(train_args("e", 1) + " --min-lr 0.001"),
                     "train: --min-lr applies to --lr-schedule plateau, not none", "train");
  expect_usage_error(nabla(train_args("f", 1) + " --diagnostics-every 5"),
                     "train: --diagnostics-every applies with --diagnostics", "train");
  expect_usage_error(nabla(train_args("g", 1) + " --early-stopping-min-delta 0.1"),
                     "train: --early-stopping-min-delta applies with --early-stopping N", "train");
  // Where the setting reads them, they are taken.
  EXPECT_EQ(nabla(train_args("h", 1) + " --lr-schedule step --lr-gamma 0.5 --dropout 0.1").code, 0);
}

TEST_F(CliTest, EveryBadCommandOptionOrValueGetsOneErrorStyle) {
  const Result command = nabla("trian");
  EXPECT_EQ(command.code, 2);
  EXPECT_TRUE(has(command.err, "unknown command 'trian' (did you mean 'train'?)")) << command.err;

  const Result op = nabla("gradcheck --op Conv2d");
  expect_usage_error(op, "unknown op 'Conv2d' (did you mean 'conv2d'?)", "gradcheck");

  expect_usage_error(nabla(train_args("a", 1) + " --lr 1e-3x"), "--lr: '1e-3x' is not a number",
                     "train");
  expect_usage_error(nabla(train_args("a", 1) + " --val-fraction 1.5"),
                     "--val-fraction: must be between 0 and 0.99, got 1.5", "train");
  expect_usage_error(nabla(train_args("a", 1) + " --seed abc"), "--seed: 'abc' is not a valid",
                     "train");
  // Library errors about an option's value are usage errors too.
  expect_usage_error(nabla(train_args("a", 1) + " --classes 0-12"), "--classes", "train");
  expect_usage_error(nabla(train_args("a", 1) + " --freeze featurs"), "--freeze", "train");

  expect_usage_error(nabla(with(train_args("a", 1), "mlp", dir.file("x.json"))),
                     "the model description '" + dir.file("x.json") + "' does not exist", "train");
  expect_usage_error(nabla(with(train_args("a", 1), "mlp", dir.file("data"))),
                     dir.file("data") + "' is a directory, not a JSON model description", "train");

  expect_usage_error(nabla(train_args("a", 1) + " --epochs 2"),
                     "--epochs: given 2 times; give it once", "train");

  const Result help = nabla("help train");
  EXPECT_EQ(help.code, 0) << help.err;
  EXPECT_TRUE(has(help.out, "--val-fraction")) << help.out;
}

TEST_F(CliTest, DemosExplainWhatTheStudentCannotSee) {
  // Without Graphviz on the PATH the demo says how to get the PNG.
  const std::string cmd = "PATH=/nonexistent " + std::string(NABLA_CLI) + " demo scalar --out " +
                          dir.file("demo3") + " >" + dir.file("out.txt") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string out = testing::read_file(dir.file("out.txt"));
  EXPECT_TRUE(has(out, "Graphviz's `dot` is not installed; `apt install graphviz`")) << out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("demo3/scalar_graph.png")));

  const Result matrix = nabla("demo matrix");
  ASSERT_EQ(matrix.code, 0) << matrix.err;
  EXPECT_TRUE(has(matrix.out, "gradcheck differentiates a random weighting r*f of the output"))
      << matrix.out;
}

}  // namespace
}  // namespace nabla
