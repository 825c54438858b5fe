// The fixture of the tests that train on data files: a temporary directory with a small fake
// Fashion-MNIST in dir/data (fake_fashion_mnist.h), and the run options every such test
// starts from.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "app/run.h"
#include "nabla/io/safetensors.h"
#include "train/fake_fashion_mnist.h"

namespace nabla::testing {

// Every tensor of a safetensors file (a checkpoint's model.safetensors), by name, as doubles.
inline std::map<std::string, std::vector<double>> tensors_of(const std::string& path) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& [name, t] : io::load_safetensors(path).tensors) out[name] = t.to_vector();
  return out;
}

class FakeFashionMnistTest : public ::testing::Test {
 protected:
  FakeFashionMnistTest(uint32_t train_images, uint32_t test_images) {
    std::filesystem::create_directories(data_dir());
    write_fake_fashion_mnist(data_dir(), train_images, test_images);
  }

  std::string data_dir() const { return dir.file("data"); }

  // Trains on that data with one thread, 20% of the training images held out, writing to
  // dir/out; the model, optimizer and the rest are the defaults of RunOptions unless the test
  // sets them.
  app::RunOptions run_options(const std::string& out, int64_t epochs) const {
    app::RunOptions o;
    o.data_dir = data_dir();
    o.epochs = epochs;
    o.threads = 1;
    o.val_fraction = 0.2;
    o.out_dir = dir.file(out);
    return o;
  }

  TempDir dir;
  std::ostringstream log;  // where run_training prints
};

}  // namespace nabla::testing
