// `nabla summary` and the table `nabla train` prints before its first epoch: the built binary
// (NABLA_CLI), its output, and its errors and exit codes.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "train/cli_fixture.h"

namespace nabla {
namespace {

class SummaryCliTest : public CliTest {
 protected:
  SummaryCliTest() : CliTest(120, 40) {}
};

void expect_contains(const std::string& text, const std::vector<std::string>& parts) {
  for (const std::string& part : parts)
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
}

TEST_F(SummaryCliTest, Lenet5AtTheDefaultShape) {
  const Result r = nabla("summary --model lenet5");
  ASSERT_EQ(r.code, 0) << r.err;
  expect_contains(
      r.out,
      {"model lenet5: input [1, 28, 28], 10 classes, batch 64\n", "0 (Conv2d)", "[64, 6, 28, 28]",
       "117,600", "11 (Linear)", "[64, 10]", "Total params: 61,706\n", "Trainable params: 61,706\n",
       "Total mult-adds: 416,520 per sample", "Forward pass size: 3.66 MiB (3,840,512 bytes)"});
}

TEST_F(SummaryCliTest, InputClassesAndBatchSizeAPreset) {
  const Result r = nabla("summary --model lenet5 --input 3,32,32 --classes 5 --batch 2");
  ASSERT_EQ(r.code, 0) << r.err;
  // Conv2d(3, 6, 5, padding 2): 3*25*6 + 6 = 456; the second conv's 16x12x12 pools to 16x6x6, 576
  // inputs.
  expect_contains(r.out, {"input [3, 32, 32], 5 classes, batch 2\n", "[2, 6, 32, 32]", "456",
                          "[2, 576]", "[2, 5]"});
}

TEST_F(SummaryCliTest, ADescriptionFileUsesItsOwnInput) {
  std::ofstream(dir.file("tiny.json"))
      << R"({"input": [4], "layers": [{"type": "linear", "out_features": 10}]})";
  const Result r = nabla("summary --model " + dir.file("tiny.json") + " --batch 3");
  ASSERT_EQ(r.code, 0) << r.err;
  expect_contains(r.out, {"input [4], 10 classes, batch 3\n", "0 (Linear)", "[3, 10]",
                          "Total params: 50\n", "Total mult-adds: 40 per sample"});

  const Result other = nabla("summary --model " + dir.file("tiny.json") + " --input 1,28,28");
  EXPECT_EQ(other.code, 2);
  expect_contains(other.err, {"--input [1, 28, 28]: ", "takes input [4]"});
}

TEST_F(SummaryCliTest, BadModelAndValuesAreUsageErrors) {
  const Result typo = nabla("summary --model lenet");
  EXPECT_EQ(typo.code, 2);
  expect_contains(typo.err, {"unknown model 'lenet'", "see nabla summary --help"});
  const Result batch = nabla("summary --model mlp --batch 0");
  EXPECT_EQ(batch.code, 2);
  expect_contains(batch.err, {"must be positive"});
}

TEST_F(SummaryCliTest, TrainPrintsTheTableBeforeTheFirstEpoch) {
  const Result r = nabla("train --model lenet5 --data-dir " + data_dir() +
                         " --epochs 1 --batch-size 20 --threads 1 --out " + dir.file("run"));
  ASSERT_EQ(r.code, 0) << r.err;
  const size_t table = r.out.find("Total params: 61,706\n");
  ASSERT_NE(table, std::string::npos) << r.out;
  EXPECT_LT(table, r.out.find("epoch 1/1")) << r.out;
  expect_contains(r.out, {"[20, 6, 28, 28]", "Estimated total size: "});
}

}  // namespace
}  // namespace nabla
