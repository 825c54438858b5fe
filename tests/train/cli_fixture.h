// The fixture of the CLI tests: the built `nabla` binary (NABLA_CLI) run on a small fake
// Fashion-MNIST, with its stdout, stderr and exit code captured.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "train/fake_run_fixture.h"

namespace nabla {

struct Result {
  int code = -1;
  std::string out, err;
};

class CliTest : public testing::FakeFashionMnistTest {
 protected:
  explicit CliTest(uint32_t train_images = 300, uint32_t test_images = 128)
      : FakeFashionMnistTest(train_images, test_images) {}

  // Runs `nabla <args>`, capturing stdout, stderr and the exit code.
  Result nabla(const std::string& args) {
    const std::string cmd = std::string(NABLA_CLI) + " " + args + " >" + dir.file("out.txt") +
                            " 2>" + dir.file("err.txt");
    const int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = testing::read_file(dir.file("out.txt"));
    r.err = testing::read_file(dir.file("err.txt"));
    return r;
  }

  std::string train_args(const std::string& out, int epochs) {
    return "train --model mlp --dataset fashion-mnist --data-dir " + dir.file("data") +
           " --epochs " + std::to_string(epochs) +
           " --batch-size 32 --train-subset 256 --test-subset 128 --threads 1 --out " +
           dir.file(out);
  }
};

inline int64_t lines(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n');
}

}  // namespace nabla
