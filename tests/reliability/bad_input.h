// The case table of the bad-input tests (bad_input_test.cpp), split by reader over
// bad_input_{data,files,runtime}_test.cpp: each case's reader, name, how its input is made, and
// the fragments its message must hold; and the helpers that make bad files and run the CLI.
#pragma once

#include <sys/wait.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "data/temp_dir.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/image.h"
#include "nabla/models.h"
#include "nabla/ops.h"
#include "nabla/optim/adam.h"
#include "test_util.h"

namespace nabla::bad_input {

using nabla::testing::read_file;
using testing::TempDir;
using Bytes = std::vector<uint8_t>;
using D = const TempDir&;

struct Case {
  const char* reader;
  const char* name;
  const char* input;  // how the input is made
  // Makes the input in `dir` and runs the reader on it; returns the error message.
  std::function<std::string(const TempDir& dir)> run;
  std::vector<std::string> fragments;
};

// The message of the nabla::Error f() throws, or a marker that fails every fragment check.
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("(not a nabla::Error: ") + e.what() + ")";
  }
  return "(no error)";
}

// Runs the built `nabla` with `args` (and `env`, "NAME=value " prefixes); its stderr, with the
// exit code appended, so that a case can assert both.
inline std::string cli(const TempDir& dir, const std::string& args, const std::string& env = "") {
  const std::string err = dir.file("stderr.txt");
  const std::string cmd =
      env + std::string(NABLA_CLI) + " " + args + " >" + dir.file("stdout.txt") + " 2>" + err;
  const int status = std::system(cmd.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::string text = read_file(err);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text + " [exit " + std::to_string(code) + "]";
}

// The table being built: add() for a library call that must throw nabla::Error, add_cli() for a
// run of the built CLI (its stderr and exit code).
class Cases {
 public:
  void add(const char* reader, const char* name, const char* input, std::function<void(D)> run,
           std::vector<std::string> fragments) {
    cases_.push_back({reader, name, input, [run](D dir) { return message_of([&] { run(dir); }); },
                      std::move(fragments)});
  }
  void add_cli(const char* name, const char* input, std::function<std::string(D)> run,
               std::vector<std::string> fragments) {
    cases_.push_back({"CLI", name, input, std::move(run), std::move(fragments)});
  }
  std::vector<Case> take() { return std::move(cases_); }

 private:
  std::vector<Case> cases_;
};

// Each file's cases, in the table's order.
void add_data_cases(Cases& c);     // IDX, CIFAR-10, CSV, in-memory datasets
void add_file_cases(Cases& c);     // safetensors, checkpoints, JSON models, images
void add_runtime_cases(Cases& c);  // op shapes, the memory limit, the command line

// ---- file builders ----

inline void be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

// An IDX header: 0 0 type ndim, then the extents.
inline Bytes idx_header(uint8_t type, const std::vector<uint32_t>& dims) {
  Bytes b{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) be32(b, d);
  return b;
}

inline Bytes idx_file(const std::vector<uint32_t>& dims, size_t data_bytes) {
  Bytes b = idx_header(0x08, dims);
  b.resize(b.size() + data_bytes, 7);
  return b;
}

inline std::string write(const TempDir& dir, const std::string& name, const Bytes& bytes) {
  testing::write_bytes(dir.file(name), bytes);
  return dir.file(name);
}

inline std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
  testing::write_text(dir.file(name), text);
  return dir.file(name);
}

// The bytes of a gzip stream of `bytes`.
inline Bytes gzipped(const TempDir& dir, const Bytes& bytes) {
  testing::write_gzip(dir.file("tmp.gz"), bytes);
  std::ifstream in(dir.file("tmp.gz"), std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// A safetensors file: 8-byte little-endian header length, the header, the data.
inline Bytes safetensors(const std::string& header, size_t data_bytes,
                         uint64_t claimed_length = 0) {
  uint64_t n = claimed_length ? claimed_length : header.size();
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(n >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.resize(b.size() + data_bytes, 0);
  return b;
}

inline constexpr const char* kMlp =
    R"({"input": [4], "layers": [{"type": "linear", "out_features": 3}]})";
inline constexpr const char* kWideMlp =
    R"({"input": [4], "layers": [{"type": "linear", "out_features": 5}]})";
inline constexpr const char* kTwoLayers =
    R"({"input": [4], "layers": [{"type": "linear", "out_features": 3},
  {"type": "relu"}, {"type": "linear", "out_features": 2}]})";

// A checkpoint of kMlp with Adam (after one step, so it has state) in dir/ckpt.
inline std::string checkpoint(const TempDir& dir) {
  auto model = model_from_json(kMlp);
  optim::Adam opt(model->parameters(), optim::AdamOptions(0.01));
  sum(model->forward(Tensor::ones({2, 4}))).backward();
  opt.step();
  io::save_checkpoint(dir.file("ckpt"), *model, &opt, io::TrainingState{});
  return dir.file("ckpt");
}

// A small 8-bit gray PNG, written by nabla.
inline std::string png(const TempDir& dir, int64_t height, int64_t width) {
  io::Image image = io::make_image(height, width, 1);
  io::write_png(dir.file("image.png"), image);
  return dir.file("image.png");
}

// A CIFAR-10 test_batch.bin of `records` records, each label `label`.
inline void cifar(const TempDir& dir, size_t records, uint8_t label, size_t cut = 0) {
  Bytes record(3073, 100);
  record[0] = label;
  Bytes b;
  for (size_t r = 0; r < records; ++r) b.insert(b.end(), record.begin(), record.end());
  b.resize(b.size() - cut);
  write(dir, "test_batch.bin", b);
}

// `nabla --memory-limit LIMIT train --model mlp` on a small fake Fashion-MNIST.
inline std::string train_with_limit(const TempDir& dir, const std::string& limit) {
  std::filesystem::create_directories(dir.file("data"));
  testing::write_bytes(dir.file("data/train-images-idx3-ubyte"), idx_file({64, 28, 28}, 64 * 784));
  testing::write_bytes(dir.file("data/train-labels-idx1-ubyte"), idx_file({64}, 64));
  testing::write_bytes(dir.file("data/t10k-images-idx3-ubyte"), idx_file({16, 28, 28}, 16 * 784));
  testing::write_bytes(dir.file("data/t10k-labels-idx1-ubyte"), idx_file({16}, 16));
  return cli(dir, "--memory-limit " + limit + " train --model mlp --epochs 1 --threads 1 " +
                      "--data-dir " + dir.file("data") + " --out " + dir.file("run"));
}

}  // namespace nabla::bad_input
