// `nabla train`, `eval` and `predict` end to end: the built binary (NABLA_CLI) on a small fake
// Fashion-MNIST, checking the files it writes, what it prints, and its errors and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nabla/io/image.h"
#include "nabla/train/metrics.h"
#include "train/cli_fixture.h"

namespace nabla {
namespace {

TEST_F(CliTest, TrainWritesMetricsPlotsAndCheckpointsThenEvalAndPredictUseThem) {
  const Result train = nabla(train_args("run", 2) + " --lr-schedule step --optimizer sgd" +
                             " --lr 0.05 --momentum 0.9");
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_NE(train.out.find("epoch 2/2  train loss"), std::string::npos) << train.out;
  EXPECT_NE(train.out.find("test accuracy"), std::string::npos) << train.out;
  // Not a terminal: plain progress lines, never carriage returns.
  EXPECT_EQ(train.out.find('\r'), std::string::npos);

  const auto rows = train::read_metrics_csv(dir.file("run/metrics.csv"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0].lr, 0.05);
  for (const char* png : {"loss.png", "accuracy.png", "confusion.png"}) {
    const io::Image img = io::read_png(dir.file(std::string("run/") + png));
    EXPECT_GE(img.width, 400) << png;
  }
  for (const char* ckpt : {"best", "final", "last"})
    EXPECT_TRUE(
        std::filesystem::exists(dir.file(std::string("run/") + ckpt + "/model.safetensors")))
        << ckpt;
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/last/optimizer.safetensors")));

  const Result eval = nabla("eval " + dir.file("run") + " --subset 100");
  ASSERT_EQ(eval.code, 0) << eval.err;
  EXPECT_NE(eval.out.find("test set: 100 images"), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("accuracy "), std::string::npos);
  EXPECT_NE(eval.out.find("per-class accuracy"), std::string::npos);
  EXPECT_NE(eval.out.find("Ankle boot"), std::string::npos);
  EXPECT_NE(eval.out.find("confusion matrix"), std::string::npos);

  // A PGM of class 1's pattern ("Trouser"), written as a user would hand it over.
  Generator gen(42);
  io::Image image = io::make_image(28, 28, 1);
  image.pixels = testing::fake_fashion_image(1, gen);
  io::write_pgm(dir.file("trouser.pgm"), image);
  const Result predict = nabla("predict " + dir.file("run") + " " + dir.file("trouser.pgm"));
  ASSERT_EQ(predict.code, 0) << predict.err;
  EXPECT_NE(predict.out.find("predicted: Trouser"), std::string::npos) << predict.out;
  for (const char* name : {"T-shirt/top", "Sneaker", "Bag"})
    EXPECT_NE(predict.out.find(name), std::string::npos) << name;

  const Result by_index = nabla("predict " + dir.file("run/final") + " --index 3 --top 3");
  ASSERT_EQ(by_index.code, 0) << by_index.err;
  EXPECT_NE(by_index.out.find("test image 3: true class"), std::string::npos) << by_index.out;
  EXPECT_EQ(lines(by_index.out), 2 + 3);
}

TEST_F(CliTest, ResumeContinuesTheRunToTheNewEpochCount) {
  ASSERT_EQ(nabla(train_args("run", 1)).code, 0);
  const Result resumed = nabla("train --resume " + dir.file("run") + " --epochs 2 --threads 1");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("resuming after epoch 1 of 2"), std::string::npos) << resumed.out;
  EXPECT_EQ(train::read_metrics_csv(dir.file("run/metrics.csv")).size(), 2u);

  const Result changed = nabla("train --resume " + dir.file("run") + " --lr 0.5");
  EXPECT_EQ(changed.code, 2);
  EXPECT_NE(changed.err.find("--lr cannot be changed when resuming"), std::string::npos)
      << changed.err;
}

TEST_F(CliTest, BadInputsGiveOneLineErrorsAndExitCodes) {
  const Result model = nabla(train_args("a", 1) + " --model lenet");
  EXPECT_EQ(model.code, 2);
  EXPECT_NE(model.err.find("did you mean 'lenet5'?"), std::string::npos) << model.err;
  EXPECT_NE(model.err.find("mlp, lenet5, convnet"), std::string::npos) << model.err;

  const Result optimizer = nabla(train_args("b", 1) + " --optimizer adma");
  EXPECT_EQ(optimizer.code, 2);
  EXPECT_NE(optimizer.err.find("did you mean 'adam'?"), std::string::npos) << optimizer.err;

  const Result lr = nabla(train_args("c", 1) + " --lr -1");
  EXPECT_EQ(lr.code, 2);
  EXPECT_NE(lr.err.find("--lr"), std::string::npos) << lr.err;
  EXPECT_EQ(nabla(train_args("c", 1) + " --lr fast").code, 2);

  // A library error: exactly one line, with the hint on it.
  const Result data = nabla("train --model mlp --epochs 1 --data-dir " + dir.file("nowhere"));
  EXPECT_EQ(data.code, 1);
  EXPECT_EQ(lines(data.err), 1) << data.err;
  EXPECT_NE(data.err.find("HINT"), std::string::npos) << data.err;
  EXPECT_NE(data.err.find("--data-dir"), std::string::npos) << data.err;

  const Result eval = nabla("eval " + dir.file("no-such-run"));
  EXPECT_EQ(eval.code, 1);
  EXPECT_EQ(lines(eval.err), 1) << eval.err;

  ASSERT_EQ(nabla(train_args("run", 1)).code, 0);
  testing::write_text(dir.file("broken.pgm"), "P5\n28 28\n255\nshort");
  const Result broken = nabla("predict " + dir.file("run") + " " + dir.file("broken.pgm"));
  EXPECT_EQ(broken.code, 1);
  EXPECT_EQ(lines(broken.err), 1) << broken.err;
  EXPECT_NE(broken.err.find("byte 13"), std::string::npos) << broken.err;
  EXPECT_EQ(nabla("predict " + dir.file("run")).code, 2) << "neither an image nor --index";
}

}  // namespace
}  // namespace nabla
