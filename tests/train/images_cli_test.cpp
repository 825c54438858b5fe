// Your own data through the built `nabla` binary (NABLA_CLI): `--dataset folder:PATH` on PNG and
// JPEG files the test writes, `nabla predict` on several images and a folder (lines and --csv),
// bad images named or skipped, and the CSV `--label-column`.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "data/image_files.h"
#include "data/temp_dir.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

struct Result {
  int code = -1;
  std::string out, err;
};

int64_t lines(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n');
}

class ImagesCliTest : public ::testing::Test {
 protected:
  Result nabla(const std::string& args) {
    const std::string cmd = std::string(NABLA_CLI) + " " + args + " >" + dir.file("out.txt") +
                            " 2>" + dir.file("err.txt");
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, testing::read_file(dir.file("out.txt")),
            testing::read_file(dir.file("err.txt"))};
  }

  // `n` images of class "dark" (values 0..80) and of "light" (170..255) in `folder`: gray PNGs
  // of 10 × 10 and RGB JPEGs of 12 × 12, alternating.
  void write_images(const std::string& folder, int n) {
    std::mt19937 gen(7);
    for (const auto& [name, lo] : {std::pair<std::string, int>{"dark", 0}, {"light", 170}}) {
      fs::create_directories(folder + "/" + name);
      std::uniform_int_distribution<int> value(lo, lo + 80);
      for (int i = 0; i < n; ++i) {
        const bool png = i % 2 == 0;
        const int side = png ? 10 : 12, channels = png ? 1 : 3;
        std::vector<uint8_t> pixels(static_cast<size_t>(side * side * channels));
        for (uint8_t& p : pixels) p = static_cast<uint8_t>(value(gen));
        const std::string path = folder + "/" + name + "/" + std::to_string(i);
        if (png)
          testing::write_png_file(path + ".png", side, side, channels, pixels);
        else
          testing::write_jpeg_file(path + ".jpg", side, side, channels, pixels);
      }
    }
  }

  std::string train_folder(const std::string& out, const std::string& extra = "") {
    return "train --model mlp --dataset folder:" + dir.file("pets") +
           " --epochs 3 --batch-size 8 --lr 0.01 --val-fraction 0.2 --threads 1 --out " +
           dir.file(out) + extra;
  }

  TempDir dir;
};

TEST_F(ImagesCliTest, TrainsOnAnImageFolderAndPredictsImagesAndFolders) {
  write_images(dir.file("pets/train"), 16);
  write_images(dir.file("pets/test"), 4);
  const Result train = nabla(train_folder("run"));
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_NE(train.out.find("test accuracy 100.00%"), std::string::npos) << train.out;

  // One image: the table as before, the class names from the folders.
  const Result one = nabla("predict " + dir.file("run") + " " + dir.file("pets/test/dark/1.jpg"));
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_NE(one.out.find("12 x 12 RGB"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("predicted: dark"), std::string::npos) << one.out;

  // Two files and a folder of 8: one line per image, each one's class right.
  const Result many = nabla("predict " + dir.file("run") + " " + dir.file("pets/test/dark/0.png") +
                            " " + dir.file("pets/test/light/3.jpg") + " " + dir.file("pets/test"));
  ASSERT_EQ(many.code, 0) << many.err;
  EXPECT_EQ(lines(many.out), 2 + 8) << many.out;
  std::istringstream rows(many.out);
  for (std::string row; std::getline(rows, row);) {
    const std::string truth = row.find("/light/") != std::string::npos ? "light" : "dark";
    EXPECT_NE(row.find("  " + truth + "  "), std::string::npos) << row;
  }

  const Result csv = nabla("predict --csv " + dir.file("run") + " " + dir.file("pets/test/light"));
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(csv.out.substr(0, csv.out.find('\n')), "path,predicted,probability,dark,light");
  EXPECT_EQ(lines(csv.out), 1 + 4) << csv.out;
  EXPECT_NE(csv.out.find(dir.file("pets/test/light/0.png") + ",light,"), std::string::npos)
      << csv.out;
}

TEST_F(ImagesCliTest, BadImagesAreNamedAndSkippedOnRequest) {
  write_images(dir.file("pets"), 8);  // one folder: split into train, validation and test
  testing::write_text(dir.file("pets/light/broken.png"), "\x89PNG\r\n\x1a\n not really");
  const Result refused = nabla(train_folder("a"));
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(lines(refused.err), 1) << refused.err;
  EXPECT_NE(refused.err.find(dir.file("pets/light/broken.png")), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("corrupt PNG"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--skip-bad-images"), std::string::npos) << refused.err;

  const Result skipped = nabla(train_folder("b", " --skip-bad-images"));
  ASSERT_EQ(skipped.code, 0) << skipped.err;
  EXPECT_NE(skipped.err.find("skipped " + dir.file("pets/light/broken.png")), std::string::npos)
      << skipped.err;

  EXPECT_EQ(nabla("predict " + dir.file("b") + " " + dir.file("pets")).code, 1);
  const Result predict =
      nabla("predict --skip-bad-images " + dir.file("b") + " " + dir.file("pets"));
  ASSERT_EQ(predict.code, 0) << predict.err;
  EXPECT_EQ(lines(predict.out), 16);
  EXPECT_NE(predict.err.find("broken.png"), std::string::npos) << predict.err;
}

TEST_F(ImagesCliTest, CsvLabelColumnByNameOrIndexAndTheRefusal) {
  // The label first, as Fashion-MNIST's CSV has it, and an id column of all-different values.
  std::string text = "label,id,x,y\n";
  for (int i = 0; i < 40; ++i)
    text += std::to_string(i % 2) + "," + std::to_string(1000 + i) + "," +
            std::to_string(i % 2 ? 1.0 + 0.01 * i : -1.0 - 0.01 * i) + ",0.5\n";
  testing::write_text(dir.file("t.csv"), text);
  const std::string base = "train --model mlp --dataset csv:" + dir.file("t.csv") +
                           " --epochs 1 --threads 1 --out " + dir.file("csv");
  const Result by_name = nabla(base + "-name --label-column label");
  ASSERT_EQ(by_name.code, 0) << by_name.err;
  const Result by_index = nabla(base + "-index --label-column 0");
  ASSERT_EQ(by_index.code, 0) << by_index.err;
  const Result id = nabla(base + "-id --label-column id");
  EXPECT_EQ(id.code, 1);
  EXPECT_EQ(lines(id.err), 1) << id.err;
  EXPECT_NE(id.err.find("40 distinct values in 40 rows"), std::string::npos) << id.err;
  EXPECT_NE(id.err.find("--label-column"), std::string::npos) << id.err;
}

}  // namespace
}  // namespace nabla
