// Dataset loaders: MNIST-style directories, CIFAR-10 batches and CSV tables that the tests write,
// their error messages, and the real Fashion-MNIST from Debian's dataset-fashion-mnist.
#include "nabla/data/datasets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "data/temp_dir.h"
#include "nabla/error.h"
#include "test_util.h"

namespace nabla::data {
namespace {

using nabla::testing::error_message;

using nabla::testing::idx_bytes;
using nabla::testing::TempDir;
using nabla::testing::write_bytes;
using nabla::testing::write_gzip;
using nabla::testing::write_text;
using ::testing::AllOf;
using ::testing::HasSubstr;

// n images of h × w whose pixel (i, y, x) is (i + 3y + x) mod 256, labels given.
void write_mnist_split(const TempDir& dir, const std::string& prefix, uint32_t h, uint32_t w,
                       const std::vector<uint8_t>& labels, bool gzip) {
  auto n = static_cast<uint32_t>(labels.size());
  std::vector<uint8_t> pixels(size_t{n} * h * w);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t y = 0; y < h; ++y)
      for (uint32_t x = 0; x < w; ++x) pixels[(i * h + y) * w + x] = (i + 3 * y + x) % 256;
  std::string ext = gzip ? ".gz" : "";
  auto write = gzip ? write_gzip : write_bytes;
  write(dir.file(prefix + "-images-idx3-ubyte" + ext), idx_bytes({n, h, w}, pixels));
  write(dir.file(prefix + "-labels-idx1-ubyte" + ext), idx_bytes({n}, labels));
}

TEST(MnistLoader, ReadsBothSplitsPlainOrGzip) {
  TempDir dir;
  write_mnist_split(dir, "train", 4, 3, {0, 9, 4, 1, 1}, /*gzip=*/true);
  write_mnist_split(dir, "t10k", 4, 3, {7, 2}, /*gzip=*/false);
  Dataset train = load_mnist(dir.str(), Split::Train);
  Dataset test = load_mnist(dir.str(), Split::Test);
  ASSERT_EQ(train.size(), 5);
  ASSERT_EQ(test.size(), 2);
  EXPECT_EQ(train.sample_shape(), (Shape{1, 4, 3}));
  EXPECT_TRUE(train.is_uint8());
  EXPECT_EQ(train.label(1), 9);
  EXPECT_EQ(test.label(0), 7);
  EXPECT_EQ(train.class_names()[9], "9");
  // Sample 2, pixel (y=3, x=1) = 2 + 9 + 1.
  EXPECT_EQ(train.uint8_sample(2)[3 * 3 + 1], 12);
}

TEST(MnistLoader, AcceptsDottedFileNames) {
  TempDir dir;
  write_mnist_split(dir, "t10k", 2, 2, {3}, /*gzip=*/false);
  std::filesystem::rename(dir.file("t10k-images-idx3-ubyte"), dir.file("t10k-images.idx3-ubyte"));
  EXPECT_EQ(load_mnist(dir.str(), Split::Test).size(), 1);
}

TEST(MnistLoader, LabelOutOfRangeNamesSampleAndOffset) {
  TempDir dir;
  write_mnist_split(dir, "train", 2, 2, {1, 2, 10, 3}, /*gzip=*/false);
  std::string msg = error_message([&] { load_fashion_mnist(dir.str(), Split::Train); });
  EXPECT_THAT(msg, AllOf(HasSubstr("train-labels-idx1-ubyte"), HasSubstr("byte 10"),
                         HasSubstr("label 10 of sample 2"), HasSubstr("[0, 10)")));
}

TEST(MnistLoader, CountMismatchBetweenImagesAndLabels) {
  TempDir dir;
  write_mnist_split(dir, "train", 2, 2, {1, 2, 3}, /*gzip=*/false);
  write_bytes(dir.file("train-labels-idx1-ubyte"), idx_bytes({2}, {1, 2}));
  EXPECT_THAT(error_message([&] { load_mnist(dir.str()); }),
              AllOf(HasSubstr("3 images"), HasSubstr("2 labels")));
}

TEST(MnistLoader, MissingDirectoryGivesInstallHint) {
  TempDir dir;
  std::string msg = error_message([&] { load_fashion_mnist(dir.str(), Split::Test); });
  EXPECT_THAT(msg,
              AllOf(HasSubstr("fashion-mnist: no t10k-images-idx3-ubyte file in " + dir.str()),
                    HasSubstr("t10k-images-idx3-ubyte.gz"),
                    HasSubstr("HINT: install dataset-fashion-mnist"), HasSubstr("--data-dir")));
}

// The real data set, as Debian installs it (CI installs the package; skip only where it is not).
TEST(FashionMnist, RealFilesFromDebianPackage) {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  Dataset train = load_fashion_mnist(kFashionMnistDir, Split::Train);
  Dataset test = load_fashion_mnist(kFashionMnistDir, Split::Test);
  EXPECT_EQ(train.size(), 60000);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(train.sample_shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(test.sample_shape(), (Shape{1, 28, 28}));
  ASSERT_EQ(train.num_classes(), 10);
  EXPECT_EQ(train.class_names()[0], "T-shirt/top");
  EXPECT_EQ(train.class_names()[9], "Ankle boot");
  // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
  std::vector<int64_t> train_count(10), test_count(10);
  for (int64_t i = 0; i < train.size(); ++i) ++train_count.at(train.label(i));
  for (int64_t i = 0; i < test.size(); ++i) ++test_count.at(test.label(i));
  EXPECT_EQ(train_count, std::vector<int64_t>(10, 6000));
  EXPECT_EQ(test_count, std::vector<int64_t>(10, 1000));
  // The per-channel statistics everyone quotes for Fashion-MNIST (pixel / 255).
  Normalization norm = compute_normalization(train);
  EXPECT_NEAR(norm.mean[0], 0.2860, 5e-4);
  EXPECT_NEAR(norm.std[0], 0.3530, 5e-4);
  // Images are not blank: the first one has both dark background and bright pixels.
  const uint8_t* first = train.uint8_sample(0);
  EXPECT_EQ(*std::min_element(first, first + 784), 0);
  EXPECT_GT(*std::max_element(first, first + 784), 200);
}

// CIFAR records: label byte, then 3072 pixels with pixel k of record r = (r + k) mod 256.
std::vector<uint8_t> cifar_records(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> bytes;
  for (size_t r = 0; r < labels.size(); ++r) {
    bytes.push_back(labels[r]);
    for (int k = 0; k < 3072; ++k) bytes.push_back(static_cast<uint8_t>((r + k) % 256));
  }
  return bytes;
}

TEST(Cifar10Loader, ReadsTrainBatchesInOrderAndTestBatch) {
  TempDir dir;
  for (int b = 1; b <= 5; ++b)
    write_bytes(dir.file("data_batch_" + std::to_string(b) + ".bin"),
                cifar_records({static_cast<uint8_t>(b), static_cast<uint8_t>(b + 4)}));
  write_bytes(dir.file("test_batch.bin"), cifar_records({3}));
  Dataset train = load_cifar10(dir.str(), Split::Train);
  Dataset test = load_cifar10(dir.str(), Split::Test);
  ASSERT_EQ(train.size(), 10);
  ASSERT_EQ(test.size(), 1);
  EXPECT_EQ(train.sample_shape(), (Shape{3, 32, 32}));
  EXPECT_EQ(train.label(0), 1);
  EXPECT_EQ(train.label(9), 9);
  EXPECT_EQ(train.class_names()[test.label(0)], "cat");
  // Record 1 of a file: pixel k = 1 + k; the label byte is not part of the image.
  EXPECT_EQ(train.uint8_sample(1)[0], 1);
  EXPECT_EQ(train.uint8_sample(1)[1024], (1 + 1024) % 256);  // first green pixel
}

TEST(Cifar10Loader, FindsTheArchiveSubdirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("cifar-10-batches-bin"));
  write_bytes(dir.file("cifar-10-batches-bin/test_batch.bin"), cifar_records({0, 1}));
  EXPECT_EQ(load_cifar10(dir.str(), Split::Test).size(), 2);
}

TEST(Cifar10Loader, SizeNotAMultipleOfTheRecord) {
  TempDir dir;
  std::vector<uint8_t> bytes = cifar_records({0, 1});
  bytes.pop_back();
  write_bytes(dir.file("test_batch.bin"), bytes);
  EXPECT_THAT(error_message([&] { load_cifar10(dir.str(), Split::Test); }),
              AllOf(HasSubstr("test_batch.bin"), HasSubstr("6145 bytes"), HasSubstr("3073")));
}

TEST(Cifar10Loader, LabelOutOfRangeNamesRecordAndOffset) {
  TempDir dir;
  write_bytes(dir.file("test_batch.bin"), cifar_records({2, 11}));
  EXPECT_THAT(error_message([&] { load_cifar10(dir.str(), Split::Test); }),
              AllOf(HasSubstr("byte 3073"), HasSubstr("label 11 of record 1")));
}

TEST(Cifar10Loader, MissingBatchGivesHint) {
  TempDir dir;
  EXPECT_THAT(error_message([&] { load_cifar10(dir.str(), Split::Train); }),
              AllOf(HasSubstr("data_batch_1.bin"), HasSubstr("HINT")));
}

TEST(CsvLoader, HeaderDetectedAndLabelByName) {
  TempDir dir;
  write_text(dir.file("t.csv"), "a,species,b\n1.5,2,-3\n0.25,0,4e2\n\n");
  Dataset d = load_csv(dir.file("t.csv"), CsvOptions().label_name("species"));
  ASSERT_EQ(d.size(), 2);
  EXPECT_FALSE(d.is_uint8());
  EXPECT_EQ(d.sample_shape(), (Shape{2}));
  EXPECT_EQ(d.num_classes(), 3);  // max label + 1
  EXPECT_EQ(d.label(0), 2);
  EXPECT_EQ(d.label(1), 0);
  EXPECT_FLOAT_EQ(d.float_sample(0)[1], -3.0f);
  EXPECT_FLOAT_EQ(d.float_sample(1)[1], 400.0f);
}

TEST(CsvLoader, NoHeaderLabelByIndexAndClassNames) {
  TempDir dir;
  write_text(dir.file("t.csv"), "setosa;5.1;3.5\r\nvirginica;6.3;3.3\r\nsetosa;4.9;3.0\r\n");
  Dataset d = load_csv(dir.file("t.csv"), CsvOptions().label_index(0).delimiter(';'));
  ASSERT_EQ(d.size(), 3);
  EXPECT_EQ(d.class_names(), (std::vector<std::string>{"setosa", "virginica"}));
  EXPECT_EQ(d.label(1), 1);
  EXPECT_EQ(d.label(2), 0);
  EXPECT_FLOAT_EQ(d.float_sample(2)[0], 4.9f);
}

TEST(CsvLoader, ExplicitHeaderOptions) {
  TempDir dir;
  // "Yes" drops a numeric-looking first line; "No" keeps it as a sample.
  write_text(dir.file("t.csv"), "1,2,0\n3,4,1\n");
  EXPECT_EQ(load_csv(dir.file("t.csv"), CsvOptions().header(CsvOptions::Header::Yes)).size(), 1);
  EXPECT_EQ(load_csv(dir.file("t.csv"), CsvOptions().header(CsvOptions::Header::No)).size(), 2);
  EXPECT_EQ(load_csv(dir.file("t.csv")).size(), 2);
}

TEST(CsvLoader, BadCellNamesLineAndColumn) {
  TempDir dir;
  write_text(dir.file("t.csv"), "x,y,label\n1,2,0\n3,abc,1\n");
  EXPECT_THAT(error_message([&] { load_csv(dir.file("t.csv")); }),
              AllOf(HasSubstr(dir.file("t.csv")), HasSubstr("line 3"), HasSubstr("column 2 ('y')"),
                    HasSubstr("'abc' is not a number")));
}

TEST(CsvLoader, NanAndInfNameTheSample) {
  TempDir dir;
  write_text(dir.file("nan.csv"), "x,y,label\n1,2,0\n3,4,1\n5,nan,1\n");
  EXPECT_THAT(error_message([&] { load_csv(dir.file("nan.csv")); }),
              AllOf(HasSubstr("line 4"), HasSubstr("sample 2"), HasSubstr("nan")));
  write_text(dir.file("inf.csv"), "-inf,2,0\n");
  EXPECT_THAT(error_message([&] { load_csv(dir.file("inf.csv")); }),
              AllOf(HasSubstr("line 1, column 1"), HasSubstr("sample 0"), HasSubstr("-inf")));
}

TEST(CsvLoader, RaggedRowsAndLabelsOutOfRange) {
  TempDir dir;
  write_text(dir.file("ragged.csv"), "1,2,0\n3,1\n");
  EXPECT_THAT(error_message([&] { load_csv(dir.file("ragged.csv")); }),
              AllOf(HasSubstr("line 2"), HasSubstr("2 columns, expected 3")));
  write_text(dir.file("range.csv"), "1,2,0\n3,4,5\n");
  EXPECT_THAT(error_message([&] { load_csv(dir.file("range.csv"), CsvOptions().num_classes(3)); }),
              AllOf(HasSubstr("line 2"), HasSubstr("label 5 of sample 1"), HasSubstr("[0, 3)")));
  write_text(dir.file("neg.csv"), "1,2,-1\n");
  EXPECT_THAT(error_message([&] { load_csv(dir.file("neg.csv")); }), HasSubstr("negative"));
}

TEST(CsvLoader, UnknownLabelNameListsColumns) {
  TempDir dir;
  write_text(dir.file("t.csv"), "x,y,label\n1,2,0\n");
  EXPECT_THAT(error_message([&] { load_csv(dir.file("t.csv"), CsvOptions().label_name("class")); }),
              AllOf(HasSubstr("no column named 'class'"), HasSubstr("'x', 'y', 'label'")));
}

TEST(LoadDataset, ByName) {
  TempDir dir;
  write_bytes(dir.file("test_batch.bin"), cifar_records({4}));
  EXPECT_EQ(load_dataset("cifar10", dir.str(), Split::Test).class_names()[4], "deer");
  EXPECT_THAT(error_message([&] { load_dataset("imagenet", dir.str(), Split::Test); }),
              HasSubstr("unknown dataset 'imagenet'"));
}

}  // namespace
}  // namespace nabla::data
