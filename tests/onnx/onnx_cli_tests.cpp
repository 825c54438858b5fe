// The CLI's ONNX doors end to end: `nabla export RUN --onnx`, then `nabla predict --model
// FILE.onnx` gives the run's own probabilities and class names, and `--init-from FILE.onnx`
// loads its weights. On the small stand-in for Fashion-MNIST (tests/train/fake_fashion_mnist.h).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "train/fake_fashion_mnist.h"

namespace nabla {
namespace {

struct Result {
  int status = 0;
  std::string out;  // stdout and stderr
};

Result nabla_cli(const std::string& args) {
  Result r;
  FILE* pipe = popen((std::string(NABLA_CLI) + " " + args + " 2>&1").c_str(), "r");
  std::array<char, 4096> buffer{};
  for (size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0;)
    r.out.append(buffer.data(), n);
  r.status = pclose(pipe);
  return r;
}

// The table after the header line of `nabla predict --index`: "predicted: ..." onwards.
std::string table(const std::string& out) {
  const size_t at = out.find("predicted:");
  return at == std::string::npos ? out : out.substr(at);
}

TEST(OnnxCli, ExportThenPredictAndInitFromTheFile) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.file("data"));
  testing::write_fake_fashion_mnist(dir.file("data"), 200, 40);
  const std::string data = " --dataset fashion-mnist --data-dir " + dir.file("data") +
                           " --epochs 1 --batch-size 32 --threads 1 ";
  const Result train = nabla_cli("train --model lenet5" + data + "--out " + dir.file("run"));
  ASSERT_EQ(train.status, 0) << train.out;

  const std::string model = dir.file("lenet5.onnx");
  const Result exported = nabla_cli("export " + dir.file("run") + " --onnx " + model);
  ASSERT_EQ(exported.status, 0) << exported.out;
  EXPECT_NE(exported.out.find("input  'input' float32 [N, 1, 28, 28]: raw pixel values 0..255"),
            std::string::npos)
      << exported.out;

  const std::string index = " --index 3 --data-dir " + dir.file("data");
  const Result from_run = nabla_cli("predict " + dir.file("run") + index);
  const Result from_onnx = nabla_cli("predict --model " + model + index);
  ASSERT_EQ(from_run.status, 0) << from_run.out;
  ASSERT_EQ(from_onnx.status, 0) << from_onnx.out;
  // Printed to 0.01%: the same classes, names and probabilities.
  EXPECT_EQ(table(from_onnx.out), table(from_run.out));

  const Result init = nabla_cli("train --model lenet5" + data + "--init-from " + model + " --out " +
                                dir.file("run2"));
  ASSERT_EQ(init.status, 0) << init.out;
  EXPECT_NE(init.out.find("initialised from " + model + ": 10 tensors loaded"), std::string::npos)
      << init.out;

  const Result not_onnx = nabla_cli("predict --model " + dir.file("run") +
                                    "/best/model.safetensors "
                                    "x.png");
  EXPECT_NE(not_onnx.out.find("--model takes an ONNX file (.onnx)"), std::string::npos)
      << not_onnx.out;
}

}  // namespace
}  // namespace nabla
