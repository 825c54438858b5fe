// Loaders for the datasets nabla trains on: MNIST and Fashion-MNIST (IDX), CIFAR-10 (binary
// batches) and any CSV table with a label column. Each reads its files once, checks them, and
// returns a Dataset (dataset.h). Formats and error messages: docs/data.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/arg.h"
#include "nabla/data/dataset.h"

namespace nabla::data {

enum class Split { Train, Test };

// Where Debian's dataset-fashion-mnist package installs the four .gz files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The 10 Fashion-MNIST classes, label 0 first: "T-shirt/top", "Trouser", ... "Ankle boot".
const std::vector<std::string>& fashion_mnist_classes();
const std::vector<std::string>& mnist_classes();    // "0" ... "9"
const std::vector<std::string>& cifar10_classes();  // "airplane" ... "truck"

// Train: 60000 samples, test: 10000; each (1, 28, 28) uint8. In `dir` either name is accepted,
// plain or gzipped: train-images-idx3-ubyte[.gz] or train-images.idx3-ubyte[.gz] (likewise
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte).
Dataset load_fashion_mnist(const std::string& dir = kFashionMnistDir, Split split = Split::Train);
Dataset load_mnist(const std::string& dir, Split split = Split::Train);

// CIFAR-10 binary version: data_batch_1.bin ... data_batch_5.bin (train, 50000) or test_batch.bin
// (10000), in `dir` or in `dir`/cifar-10-batches-bin. Each record: 1 label byte, then 3072 pixel
// bytes (1024 red, 1024 green, 1024 blue, rows top to bottom). Samples are (3, 32, 32) uint8.
Dataset load_cifar10(const std::string& dir, Split split = Split::Train);

struct CsvOptions {
  enum class Header { Auto, Yes, No };
  // Auto: the first line is a header when none of its cells is a number.
  NABLA_ARG(Header, header) = Header::Auto;
  // The label column, by header name (needs a header) ...
  NABLA_ARG(std::string, label_name) = "";
  // ... or by 0-based index, negative counting from the end (-1: the last column).
  // Used when label_name is empty.
  NABLA_ARG(int64_t, label_index) = -1;
  NABLA_ARG(char, delimiter) = ',';
  // Labels that are all integers are class indices, checked to lie in [0, num_classes);
  // 0 means max label + 1. Otherwise labels are class names, numbered in sorted order.
  NABLA_ARG(int64_t, num_classes) = 0;
};

// Every other column is a numeric feature: samples are (F) float32. Blank lines are skipped;
// cells may be wrapped in double quotes, but quoted delimiters are not supported. Errors name
// the path, the 1-based line and column and the cell; a NaN or infinite feature is an error that
// also names the sample index.
Dataset load_csv(const std::string& path, const CsvOptions& options = {});

// By name, for the command line: "fashion-mnist", "mnist", "cifar10" (dir "" means the default
// directory where there is one).
Dataset load_dataset(const std::string& name, const std::string& dir, Split split);

}  // namespace nabla::data
