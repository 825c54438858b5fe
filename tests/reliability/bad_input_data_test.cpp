// Bad-input cases of the data readers: IDX (MNIST, Fashion-MNIST, gzip), CIFAR-10, CSV and
// in-memory datasets. The table and the test that runs it: bad_input.h, bad_input_test.cpp.
#include <cmath>
#include <limits>

#include "bad_input.h"
#include "nabla/data/datasets.h"
#include "nabla/data/idx.h"

namespace nabla::bad_input {

void add_data_cases(Cases& c) {
  // ---------------------------------------------------------------- IDX (MNIST, Fashion-MNIST)
  auto idx = [](D dir, const Bytes& bytes) { data::read_idx(write(dir, "x.idx", bytes)); };
  c.add("IDX", "missing file", "a path that does not exist",
        [](D dir) { data::read_idx(dir.file("none.idx")); }, {"none.idx", "no such file"});
  c.add("IDX", "empty file", "0 bytes", [=](D dir) { idx(dir, {}); },
        {"x.idx", "byte 0", "IDX magic", "only 0 bytes"});
  c.add("IDX", "truncated header", "magic of a 3-d file, then 6 of the 12 extent bytes",
        [=](D dir) {
          Bytes b = idx_header(0x08, {10, 28, 28});
          b.resize(10);
          idx(dir, b);
        },
        {"x.idx", "byte 8", "dimension extent", "truncated"});
  c.add("IDX", "wrong magic", "a ZIP file's first bytes (PK\\x03\\x04)",
        [=](D dir) {
          idx(dir, {'P', 'K', 3, 4, 0, 0, 0, 1});
        },
        {"x.idx", "byte 0", "0x50 0x4B", "not an IDX file"});
  c.add("IDX", "unknown dtype code", "type byte 0x07",
        [=](D dir) {
          Bytes b = idx_file({4}, 4);
          b[2] = 0x07;
          idx(dir, b);
        },
        {"x.idx", "byte 2", "unknown IDX element type 0x07"});
  c.add("IDX", "unsupported dtype", "type byte 0x0D (float32)",
        [=](D dir) {
          Bytes b = idx_header(0x0D, {4});
          b.resize(b.size() + 16);
          idx(dir, b);
        },
        {"x.idx", "byte 2", "0x0D (float32)", "not supported", "uint8"});
  c.add("IDX", "0 dimensions", "ndim byte 0", [=](D dir) { idx(dir, idx_header(0x08, {})); },
        {"x.idx", "byte 3", "at least 1 dimension"});
  c.add("IDX", "255 dimensions", "ndim byte 255 and 8 bytes of extents",
        [=](D dir) {
          idx(dir, {0, 0, 8, 255, 0, 0, 0, 1, 0, 0, 0, 1});
        },
        {"x.idx", "byte 12", "dimension extent", "truncated"});
  c.add("IDX", "zero extent", "extents [10, 0, 28]",
        [=](D dir) {
          idx(dir, idx_file({10, 0, 28}, 0));
        },
        {"x.idx", "byte 8", "dimension 1 is 0"});
  c.add("IDX", "count beyond file size", "a 112-byte file whose header claims 10^12 elements",
        [=](D dir) {
          idx(dir, idx_file({1000000, 1000, 1000}, 96));
        },
        {"x.idx", "byte 16", "[1000000, 1000, 1000]", "1000000000000 bytes", "96 bytes follow",
         "truncated"});
  c.add("IDX", "truncated data", "header [10, 28, 28], half the pixels",
        [=](D dir) {
          idx(dir, idx_file({10, 28, 28}, 3920));
        },
        {"x.idx", "7840 bytes", "3920 bytes follow", "truncated"});
  c.add("IDX", "trailing data", "header [4], 6 data bytes",
        [=](D dir) { idx(dir, idx_file({4}, 6)); }, {"x.idx", "4 bytes", "6 bytes follow"});
  c.add("IDX", "gzip corrupt", "a gzip stream with its deflate data overwritten",
        [=](D dir) {
          Bytes b = gzipped(dir, idx_file({10, 28, 28}, 7840));
          for (size_t i = 12; i < b.size() - 8; ++i) b[i] = static_cast<uint8_t>(i * 37);
          idx(dir, b);
        },
        {"x.idx", "gzip"});
  c.add("IDX", "gzip truncated", "the first half of a gzip stream",
        [=](D dir) {
          Bytes b = gzipped(dir, idx_file({100, 28, 28}, 78400));
          b.resize(b.size() / 2);
          idx(dir, b);
        },
        {"x.idx", "78400 bytes", "decompressed data has", "truncated"});
  c.add("IDX", "gzip count beyond data", "gzip of a header [1000000, 28, 28] with 100 pixels",
        [=](D dir) {
          idx(dir, gzipped(dir, idx_file({1000000, 28, 28}, 100)));
        },
        {"x.idx", "784000000 bytes", "decompressed data has 100 bytes"});
  c.add("IDX", "missing dataset file", "load_fashion_mnist on an empty directory",
        [](D dir) { data::load_fashion_mnist(dir.str()); }, {"train-images-idx3-ubyte"});
  c.add("IDX", "images and labels disagree", "5 images, 4 labels (Fashion-MNIST layout)",
        [](D dir) {
          testing::write_bytes(dir.file("train-images-idx3-ubyte"), idx_file({5, 28, 28}, 3920));
          testing::write_bytes(dir.file("train-labels-idx1-ubyte"), idx_file({4}, 4));
          data::load_fashion_mnist(dir.str());
        },
        {"5", "4", "labels"});
  c.add("IDX", "label out of range", "a label byte 10 in a 10-class label file",
        [](D dir) {
          testing::write_bytes(dir.file("train-images-idx3-ubyte"), idx_file({2, 28, 28}, 1568));
          Bytes labels = idx_header(0x08, {2});
          labels.push_back(3);
          labels.push_back(10);
          testing::write_bytes(dir.file("train-labels-idx1-ubyte"), labels);
          data::load_fashion_mnist(dir.str());
        },
        {"train-labels-idx1-ubyte", "label 10", "1"});

  // ---------------------------------------------------------------- CIFAR-10
  c.add("CIFAR", "missing file", "load_cifar10 on an empty directory",
        [](D dir) { data::load_cifar10(dir.str(), data::Split::Test); }, {"test_batch.bin"});
  c.add("CIFAR", "truncated record", "2 records less 1000 bytes",
        [](D dir) {
          cifar(dir, 2, 1, 1000);
          data::load_cifar10(dir.str(), data::Split::Test);
        },
        {"test_batch.bin", "5146", "3073"});
  c.add("CIFAR", "label out of range", "record 1 has label byte 10",
        [](D dir) {
          cifar(dir, 2, 3);
          std::fstream f(dir.file("test_batch.bin"),
                         std::ios::in | std::ios::out | std::ios::binary);
          f.seekp(3073);
          f.put(10);
          f.close();
          data::load_cifar10(dir.str(), data::Split::Test);
        },
        {"test_batch.bin", "byte 3073", "label 10"});

  // ---------------------------------------------------------------- CSV
  auto csv = [](D dir, const std::string& text, const data::CsvOptions& o = {}) {
    data::load_csv(write(dir, "t.csv", text), o);
  };
  c.add("CSV", "missing file", "a path that does not exist",
        [](D dir) { data::load_csv(dir.file("none.csv")); }, {"none.csv", "cannot open"});
  c.add("CSV", "empty file", "0 bytes", [=](D dir) { csv(dir, ""); }, {"t.csv", "empty"});
  c.add("CSV", "header only", "a header line and no samples",
        [=](D dir) { csv(dir, "a,b,label\n"); }, {"t.csv", "no samples"});
  c.add("CSV", "one column", "a single column", [=](D dir) { csv(dir, "1\n2\n"); },
        {"t.csv", "line 1", "1 column", "delimiter"});
  c.add("CSV", "ragged row", "line 3 has 2 cells, the others 3",
        [=](D dir) { csv(dir, "a,b,label\n1,2,0\n3,1\n"); },
        {"t.csv", "line 3", "2 columns, expected 3"});
  c.add("CSV", "non-numeric cell", "'abc' in a feature column",
        [=](D dir) { csv(dir, "a,b,label\n1,2,0\n3,abc,1\n"); },
        {"t.csv", "line 3", "column 2 ('b')", "'abc' is not a number"});
  c.add("CSV", "NaN cell", "'nan' as feature 'a' of sample 1",
        [=](D dir) { csv(dir, "a,b,label\n1,2,0\nnan,1,1\n"); },
        {"t.csv", "line 3", "column 1 ('a')", "sample 1", "NaN"});
  c.add("CSV", "Inf cell", "'-inf' as feature 'b' of sample 0",
        [=](D dir) { csv(dir, "a,b,label\n1,-inf,0\n"); },
        {"t.csv", "line 2", "column 2 ('b')", "sample 0", "infinite"});
  c.add("CSV", "label out of range", "label 5 with num_classes 3",
        [=](D dir) { csv(dir, "a,label\n1,0\n2,5\n", data::CsvOptions().num_classes(3)); },
        {"t.csv", "line 3", "label 5", "sample 1", "[0, 3)"});
  c.add("CSV", "negative label", "label -1", [=](D dir) { csv(dir, "a,label\n1,-1\n"); },
        {"t.csv", "line 2", "label -1", "negative"});
  c.add("CSV", "huge label", "label 10^12 without num_classes",
        [=](D dir) { csv(dir, "a,label\n1,1000000000000\n"); },
        {"t.csv", "line 2", "1000000000000", "num_classes"});
  c.add("CSV", "bad label column name", "label_name 'lable'; header a,b,label",
        [=](D dir) { csv(dir, "a,b,label\n1,2,0\n", data::CsvOptions().label_name("lable")); },
        {"t.csv", "no column named 'lable'", "'label'"});
  c.add("CSV", "label column index out of range", "label_index 7 of 3 columns",
        [=](D dir) { csv(dir, "a,b,label\n1,2,0\n", data::CsvOptions().label_index(7)); },
        {"t.csv", "label column index 7", "3 columns"});
  c.add("CSV", "label name without header", "label_name 'label'; the first line is data",
        [=](D dir) { csv(dir, "1,2,0\n", data::CsvOptions().label_name("label")); },
        {"t.csv", "'label'", "no header"});
  c.add("CSV", "empty label", "an empty label cell", [=](D dir) { csv(dir, "a,label\n1,\n"); },
        {"t.csv", "line 2", "label is empty"});
  c.add(
      "CSV", "class count mismatch", "3 class names with num_classes 2",
      [=](D dir) { csv(dir, "a,label\n1,cat\n2,dog\n3,cow\n", data::CsvOptions().num_classes(2)); },
      {"t.csv", "3 distinct class names", "num_classes is 2"});

  // ---------------------------------------------------------------- in-memory datasets
  c.add("Dataset", "NaN feature", "Dataset::from_float, sample 2 feature 1 is NaN",
        [](D) {
          std::vector<float> v(12, 0.5f);
          v[2 * 4 + 1] = std::numeric_limits<float>::quiet_NaN();
          data::Dataset::from_float("my data", {4}, v, {0, 1, 0}, {"a", "b"});
        },
        {"my data", "sample 2", "feature 1", "NaN"});
  c.add("Dataset", "Inf feature",
        "Dataset::from_float, sample 0 of shape [1, 2, 2], +inf at [0, 1, 0]",
        [](D) {
          std::vector<float> v(4, 0.5f);
          v[2] = std::numeric_limits<float>::infinity();
          data::Dataset::from_float("images", {1, 2, 2}, v, {0}, {"a"});
        },
        {"images", "sample 0", "[0, 1, 0]", "inf"});
  c.add("Dataset", "label out of range", "Dataset::from_uint8, label 2 of 2 classes",
        [](D) {
          data::Dataset::from_uint8("d", {1}, {1, 2}, {0, 2}, {"a", "b"});
        },
        {"d", "label 2", "sample 1", "[0, 2)"});
}

}  // namespace nabla::bad_input
