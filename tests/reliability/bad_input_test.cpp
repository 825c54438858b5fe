// Every bad input nabla has been tried on, across every reader and entry point, and the message
// each gets: one table of cases {reader, case, how the input is made, fragments the message must
// hold}. Each case is its own test (BadInput/Case.Message/<n>); the fragments are what a user
// needs to act: the file, the byte offset or line, the op and shapes, the layer, the choices.
//
// NABLA_WRITE_BAD_INPUT_TABLE=path makes BadInput.WriteTable write the markdown table of the
// actual messages, which docs/reliability.md ("## Bad input") pastes:
//   NABLA_WRITE_BAD_INPUT_TABLE=/tmp/bad_input.md build/tests/nabla_tests
//   --gtest_filter='BadInput*'
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include "data/temp_dir.h"
#include "nabla/data/datasets.h"
#include "nabla/data/idx.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/image.h"
#include "nabla/io/safetensors.h"
#include "nabla/memory.h"
#include "nabla/models.h"
#include "nabla/nn/sequential.h"
#include "nabla/ops.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/sgd.h"
#include "test_util.h"

namespace nabla {
namespace {

using nabla::testing::read_file;
using testing::TempDir;
using Bytes = std::vector<uint8_t>;

struct Case {
  const char* reader;
  const char* name;
  const char* input;  // how the input is made
  // Makes the input in `dir` and runs the reader on it; returns the error message.
  std::function<std::string(const TempDir& dir)> run;
  std::vector<std::string> fragments;
};

// The message of the nabla::Error f() throws, or a marker that fails every fragment check.
std::string message_of(const std::function<void()>& f) {
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
std::string cli(const TempDir& dir, const std::string& args, const std::string& env = "") {
  const std::string err = dir.file("stderr.txt");
  const std::string cmd =
      env + std::string(NABLA_CLI) + " " + args + " >" + dir.file("stdout.txt") + " 2>" + err;
  const int status = std::system(cmd.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::string text = read_file(err);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text + " [exit " + std::to_string(code) + "]";
}

// ---- file builders ----

void be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

// An IDX header: 0 0 type ndim, then the extents.
Bytes idx_header(uint8_t type, const std::vector<uint32_t>& dims) {
  Bytes b{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) be32(b, d);
  return b;
}

Bytes idx_file(const std::vector<uint32_t>& dims, size_t data_bytes) {
  Bytes b = idx_header(0x08, dims);
  b.resize(b.size() + data_bytes, 7);
  return b;
}

std::string write(const TempDir& dir, const std::string& name, const Bytes& bytes) {
  testing::write_bytes(dir.file(name), bytes);
  return dir.file(name);
}

std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
  testing::write_text(dir.file(name), text);
  return dir.file(name);
}

// The bytes of a gzip stream of `bytes`.
Bytes gzipped(const TempDir& dir, const Bytes& bytes) {
  testing::write_gzip(dir.file("tmp.gz"), bytes);
  std::ifstream in(dir.file("tmp.gz"), std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// A safetensors file: 8-byte little-endian header length, the header, the data.
Bytes safetensors(const std::string& header, size_t data_bytes, uint64_t claimed_length = 0) {
  uint64_t n = claimed_length ? claimed_length : header.size();
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(n >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.resize(b.size() + data_bytes, 0);
  return b;
}

const char* kMlp = R"({"input": [4], "layers": [{"type": "linear", "out_features": 3}]})";
const char* kWideMlp = R"({"input": [4], "layers": [{"type": "linear", "out_features": 5}]})";
const char* kTwoLayers = R"({"input": [4], "layers": [{"type": "linear", "out_features": 3},
  {"type": "relu"}, {"type": "linear", "out_features": 2}]})";

// A checkpoint of kMlp with Adam (after one step, so it has state) in dir/ckpt.
std::string checkpoint(const TempDir& dir) {
  auto model = model_from_json(kMlp);
  optim::Adam opt(model->parameters(), optim::AdamOptions(0.01));
  sum(model->forward(Tensor::ones({2, 4}))).backward();
  opt.step();
  io::save_checkpoint(dir.file("ckpt"), *model, &opt, io::TrainingState{});
  return dir.file("ckpt");
}

// A small 8-bit gray PNG, written by nabla.
std::string png(const TempDir& dir, int64_t height, int64_t width) {
  io::Image image = io::make_image(height, width, 1);
  io::write_png(dir.file("image.png"), image);
  return dir.file("image.png");
}

// A CIFAR-10 test_batch.bin of `records` records, each label `label`.
void cifar(const TempDir& dir, size_t records, uint8_t label, size_t cut = 0) {
  Bytes record(3073, 100);
  record[0] = label;
  Bytes b;
  for (size_t r = 0; r < records; ++r) b.insert(b.end(), record.begin(), record.end());
  b.resize(b.size() - cut);
  write(dir, "test_batch.bin", b);
}

// `nabla --memory-limit LIMIT train --model mlp` on a small fake Fashion-MNIST.
std::string train_with_limit(const TempDir& dir, const std::string& limit) {
  std::filesystem::create_directories(dir.file("data"));
  testing::write_bytes(dir.file("data/train-images-idx3-ubyte"), idx_file({64, 28, 28}, 64 * 784));
  testing::write_bytes(dir.file("data/train-labels-idx1-ubyte"), idx_file({64}, 64));
  testing::write_bytes(dir.file("data/t10k-images-idx3-ubyte"), idx_file({16, 28, 28}, 16 * 784));
  testing::write_bytes(dir.file("data/t10k-labels-idx1-ubyte"), idx_file({16}, 16));
  return cli(dir, "--memory-limit " + limit + " train --model mlp --epochs 1 --threads 1 " +
                      "--data-dir " + dir.file("data") + " --out " + dir.file("run"));
}

std::vector<Case> cases() {
  using D = const TempDir&;
  std::vector<Case> c;
  auto add = [&](const char* reader, const char* name, const char* input,
                 std::function<void(D)> run, std::vector<std::string> fragments) {
    c.push_back({reader, name, input, [run](D dir) { return message_of([&] { run(dir); }); },
                 std::move(fragments)});
  };
  auto add_cli = [&](const char* name, const char* input, std::function<std::string(D)> run,
                     std::vector<std::string> fragments) {
    c.push_back({"CLI", name, input, std::move(run), std::move(fragments)});
  };

  // ---------------------------------------------------------------- IDX (MNIST, Fashion-MNIST)
  auto idx = [](D dir, const Bytes& bytes) { data::read_idx(write(dir, "x.idx", bytes)); };
  add("IDX", "missing file", "a path that does not exist",
      [](D dir) { data::read_idx(dir.file("none.idx")); }, {"none.idx", "no such file"});
  add("IDX", "empty file", "0 bytes", [=](D dir) { idx(dir, {}); },
      {"x.idx", "byte 0", "IDX magic", "only 0 bytes"});
  add("IDX", "truncated header", "magic of a 3-d file, then 6 of the 12 extent bytes",
      [=](D dir) {
        Bytes b = idx_header(0x08, {10, 28, 28});
        b.resize(10);
        idx(dir, b);
      },
      {"x.idx", "byte 8", "dimension extent", "truncated"});
  add("IDX", "wrong magic", "a ZIP file's first bytes (PK\\x03\\x04)",
      [=](D dir) {
        idx(dir, {'P', 'K', 3, 4, 0, 0, 0, 1});
      },
      {"x.idx", "byte 0", "0x50 0x4B", "not an IDX file"});
  add("IDX", "unknown dtype code", "type byte 0x07",
      [=](D dir) {
        Bytes b = idx_file({4}, 4);
        b[2] = 0x07;
        idx(dir, b);
      },
      {"x.idx", "byte 2", "unknown IDX element type 0x07"});
  add("IDX", "unsupported dtype", "type byte 0x0D (float32)",
      [=](D dir) {
        Bytes b = idx_header(0x0D, {4});
        b.resize(b.size() + 16);
        idx(dir, b);
      },
      {"x.idx", "byte 2", "0x0D (float32)", "not supported", "uint8"});
  add("IDX", "0 dimensions", "ndim byte 0", [=](D dir) { idx(dir, idx_header(0x08, {})); },
      {"x.idx", "byte 3", "at least 1 dimension"});
  add("IDX", "255 dimensions", "ndim byte 255 and 8 bytes of extents",
      [=](D dir) {
        idx(dir, {0, 0, 8, 255, 0, 0, 0, 1, 0, 0, 0, 1});
      },
      {"x.idx", "byte 12", "dimension extent", "truncated"});
  add("IDX", "zero extent", "extents [10, 0, 28]",
      [=](D dir) {
        idx(dir, idx_file({10, 0, 28}, 0));
      },
      {"x.idx", "byte 8", "dimension 1 is 0"});
  add("IDX", "count beyond file size", "a 112-byte file whose header claims 10^12 elements",
      [=](D dir) {
        idx(dir, idx_file({1000000, 1000, 1000}, 96));
      },
      {"x.idx", "byte 16", "[1000000, 1000, 1000]", "1000000000000 bytes", "96 bytes follow",
       "truncated"});
  add("IDX", "truncated data", "header [10, 28, 28], half the pixels",
      [=](D dir) {
        idx(dir, idx_file({10, 28, 28}, 3920));
      },
      {"x.idx", "7840 bytes", "3920 bytes follow", "truncated"});
  add("IDX", "trailing data", "header [4], 6 data bytes",
      [=](D dir) { idx(dir, idx_file({4}, 6)); }, {"x.idx", "4 bytes", "6 bytes follow"});
  add("IDX", "gzip corrupt", "a gzip stream with its deflate data overwritten",
      [=](D dir) {
        Bytes b = gzipped(dir, idx_file({10, 28, 28}, 7840));
        for (size_t i = 12; i < b.size() - 8; ++i) b[i] = static_cast<uint8_t>(i * 37);
        idx(dir, b);
      },
      {"x.idx", "gzip"});
  add("IDX", "gzip truncated", "the first half of a gzip stream",
      [=](D dir) {
        Bytes b = gzipped(dir, idx_file({100, 28, 28}, 78400));
        b.resize(b.size() / 2);
        idx(dir, b);
      },
      {"x.idx", "78400 bytes", "decompressed data has", "truncated"});
  add("IDX", "gzip count beyond data", "gzip of a header [1000000, 28, 28] with 100 pixels",
      [=](D dir) {
        idx(dir, gzipped(dir, idx_file({1000000, 28, 28}, 100)));
      },
      {"x.idx", "784000000 bytes", "decompressed data has 100 bytes"});
  add("IDX", "missing dataset file", "load_fashion_mnist on an empty directory",
      [](D dir) { data::load_fashion_mnist(dir.str()); }, {"train-images-idx3-ubyte"});
  add("IDX", "images and labels disagree", "5 images, 4 labels (Fashion-MNIST layout)",
      [](D dir) {
        testing::write_bytes(dir.file("train-images-idx3-ubyte"), idx_file({5, 28, 28}, 3920));
        testing::write_bytes(dir.file("train-labels-idx1-ubyte"), idx_file({4}, 4));
        data::load_fashion_mnist(dir.str());
      },
      {"5", "4", "labels"});
  add("IDX", "label out of range", "a label byte 10 in a 10-class label file",
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
  add("CIFAR", "missing file", "load_cifar10 on an empty directory",
      [](D dir) { data::load_cifar10(dir.str(), data::Split::Test); }, {"test_batch.bin"});
  add("CIFAR", "truncated record", "2 records less 1000 bytes",
      [](D dir) {
        cifar(dir, 2, 1, 1000);
        data::load_cifar10(dir.str(), data::Split::Test);
      },
      {"test_batch.bin", "5146", "3073"});
  add("CIFAR", "label out of range", "record 1 has label byte 10",
      [](D dir) {
        cifar(dir, 2, 3);
        std::fstream f(dir.file("test_batch.bin"), std::ios::in | std::ios::out | std::ios::binary);
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
  add("CSV", "missing file", "a path that does not exist",
      [](D dir) { data::load_csv(dir.file("none.csv")); }, {"none.csv", "cannot open"});
  add("CSV", "empty file", "0 bytes", [=](D dir) { csv(dir, ""); }, {"t.csv", "empty"});
  add("CSV", "header only", "a header line and no samples", [=](D dir) { csv(dir, "a,b,label\n"); },
      {"t.csv", "no samples"});
  add("CSV", "one column", "a single column", [=](D dir) { csv(dir, "1\n2\n"); },
      {"t.csv", "line 1", "1 column", "delimiter"});
  add("CSV", "ragged row", "line 3 has 2 cells, the others 3",
      [=](D dir) { csv(dir, "a,b,label\n1,2,0\n3,1\n"); },
      {"t.csv", "line 3", "2 columns, expected 3"});
  add("CSV", "non-numeric cell", "'abc' in a feature column",
      [=](D dir) { csv(dir, "a,b,label\n1,2,0\n3,abc,1\n"); },
      {"t.csv", "line 3", "column 2 ('b')", "'abc' is not a number"});
  add("CSV", "NaN cell", "'nan' as feature 'a' of sample 1",
      [=](D dir) { csv(dir, "a,b,label\n1,2,0\nnan,1,1\n"); },
      {"t.csv", "line 3", "column 1 ('a')", "sample 1", "NaN"});
  add("CSV", "Inf cell", "'-inf' as feature 'b' of sample 0",
      [=](D dir) { csv(dir, "a,b,label\n1,-inf,0\n"); },
      {"t.csv", "line 2", "column 2 ('b')", "sample 0", "infinite"});
  add("CSV", "label out of range", "label 5 with num_classes 3",
      [=](D dir) { csv(dir, "a,label\n1,0\n2,5\n", data::CsvOptions().num_classes(3)); },
      {"t.csv", "line 3", "label 5", "sample 1", "[0, 3)"});
  add("CSV", "negative label", "label -1", [=](D dir) { csv(dir, "a,label\n1,-1\n"); },
      {"t.csv", "line 2", "label -1", "negative"});
  add("CSV", "huge label", "label 10^12 without num_classes",
      [=](D dir) { csv(dir, "a,label\n1,1000000000000\n"); },
      {"t.csv", "line 2", "1000000000000", "num_classes"});
  add("CSV", "bad label column name", "label_name 'lable'; header a,b,label",
      [=](D dir) { csv(dir, "a,b,label\n1,2,0\n", data::CsvOptions().label_name("lable")); },
      {"t.csv", "no column named 'lable'", "'label'"});
  add("CSV", "label column index out of range", "label_index 7 of 3 columns",
      [=](D dir) { csv(dir, "a,b,label\n1,2,0\n", data::CsvOptions().label_index(7)); },
      {"t.csv", "label column index 7", "3 columns"});
  add("CSV", "label name without header", "label_name 'label'; the first line is data",
      [=](D dir) { csv(dir, "1,2,0\n", data::CsvOptions().label_name("label")); },
      {"t.csv", "'label'", "no header"});
  add("CSV", "empty label", "an empty label cell", [=](D dir) { csv(dir, "a,label\n1,\n"); },
      {"t.csv", "line 2", "label is empty"});
  add("CSV", "class count mismatch", "3 class names with num_classes 2",
      [=](D dir) { csv(dir, "a,label\n1,cat\n2,dog\n3,cow\n", data::CsvOptions().num_classes(2)); },
      {"t.csv", "3 distinct class names", "num_classes is 2"});

  // ---------------------------------------------------------------- in-memory datasets
  add("Dataset", "NaN feature", "Dataset::from_float, sample 2 feature 1 is NaN",
      [](D) {
        std::vector<float> v(12, 0.5f);
        v[2 * 4 + 1] = std::numeric_limits<float>::quiet_NaN();
        data::Dataset::from_float("my data", {4}, v, {0, 1, 0}, {"a", "b"});
      },
      {"my data", "sample 2", "feature 1", "NaN"});
  add("Dataset", "Inf feature",
      "Dataset::from_float, sample 0 of shape [1, 2, 2], +inf at [0, 1, 0]",
      [](D) {
        std::vector<float> v(4, 0.5f);
        v[2] = std::numeric_limits<float>::infinity();
        data::Dataset::from_float("images", {1, 2, 2}, v, {0}, {"a"});
      },
      {"images", "sample 0", "[0, 1, 0]", "inf"});
  add("Dataset", "label out of range", "Dataset::from_uint8, label 2 of 2 classes",
      [](D) {
        data::Dataset::from_uint8("d", {1}, {1, 2}, {0, 2}, {"a", "b"});
      },
      {"d", "label 2", "sample 1", "[0, 2)"});

  // ---------------------------------------------------------------- safetensors
  auto st = [](D dir, const Bytes& bytes) {
    io::load_safetensors(write(dir, "w.safetensors", bytes));
  };
  add("safetensors", "missing file", "a path that does not exist",
      [](D dir) { io::load_safetensors(dir.file("none.safetensors")); }, {"none.safetensors"});
  add("safetensors", "shorter than 8 bytes", "5 bytes",
      [=](D dir) {
        st(dir, {1, 2, 3, 4, 5});
      },
      {"w.safetensors", "5 bytes", "8"});
  add("safetensors", "header length beyond file", "length field 1000000, file of 40 bytes",
      [=](D dir) { st(dir, safetensors("{}", 30, 1000000)); },
      {"w.safetensors", "byte 0", "header length 1000000", "40 bytes"});
  add("safetensors", "bad JSON", "header '{\"a\": '",
      [=](D dir) { st(dir, safetensors("{\"a\": ", 0)); }, {"w.safetensors", "JSON"});
  add("safetensors", "bad UTF-8 in JSON", "byte 0xFF inside a tensor name",
      [=](D dir) {
        st(dir, safetensors("{\"w\xff\": {\"dtype\": \"F32\", \"shape\": [1], "
                            "\"data_offsets\": [0, 4]}}",
                            4));
      },
      {"w.safetensors", "byte 11", "UTF-8", "'\"w\\xff'"});
  add("safetensors", "wrong dtype", "dtype U16",
      [=](D dir) {
        st(dir, safetensors(R"({"w": {"dtype": "U16", "shape": [4], "data_offsets": [0, 8]}})", 8));
      },
      {"w.safetensors", "'w'", "U16", "F32"});
  add("safetensors", "shape and offsets disagree", "F32 shape [2, 2] with offsets [0, 8]",
      [=](D dir) {
        st(dir,
           safetensors(R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}})", 8));
      },
      {"w.safetensors", "'w'", "[2, 2]", "16", "8"});
  add("safetensors", "overlapping offsets", "two F32 [2] tensors at [0, 8] and [4, 12]",
      [=](D dir) {
        st(dir, safetensors(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                            12));
      },
      {"w.safetensors", "'b'", "overlap", "'a'"});
  add("safetensors", "duplicate names", "the name 'w' twice",
      [=](D dir) {
        st(dir, safetensors(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                            8));
      },
      {"w.safetensors", "'w' twice", "byte"});
  add("safetensors", "offsets beyond data", "offsets [0, 4000] with 8 data bytes",
      [=](D dir) {
        st(dir, safetensors(
                    R"({"w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}})", 8));
      },
      {"w.safetensors", "'w'", "4000", "8"});
  add("safetensors", "negative extent", "shape [-1]",
      [=](D dir) {
        st(dir,
           safetensors(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4));
      },
      {"w.safetensors", "'w'", "shape"});
  add("safetensors", "header not an object", "header '[1, 2]'",
      [=](D dir) { st(dir, safetensors("[1, 2]", 0)); }, {"w.safetensors", "object"});

  // ---------------------------------------------------------------- checkpoints
  add("checkpoint", "missing directory", "load_checkpoint of a directory that does not exist",
      [](D dir) {
        auto model = model_from_json(kMlp);
        io::load_checkpoint(dir.file("nothing"), *model, nullptr);
      },
      {"nothing", "trainer_state.json"});
  add("checkpoint", "missing tensor", "weights of a 1-layer model loaded into a 2-layer one",
      [](D dir) {
        io::save_weights(dir.file("w.safetensors"), *model_from_json(kMlp));
        auto model = model_from_json(kTwoLayers);
        io::load_weights(dir.file("w.safetensors"), *model);
      },
      {"w.safetensors", "missing", "2.weight", "2.bias"});
  add("checkpoint", "wrong shape for the model", "weights of Linear(4, 3) into Linear(4, 5)",
      [](D dir) {
        io::save_weights(dir.file("w.safetensors"), *model_from_json(kMlp));
        auto model = model_from_json(kWideMlp);
        io::load_weights(dir.file("w.safetensors"), *model);
      },
      {"w.safetensors", "0.weight", "[3, 4]", "[5, 4]"});
  add("checkpoint", "wrong optimizer", "an Adam checkpoint resumed with SGD",
      [](D dir) {
        const std::string path = checkpoint(dir);
        auto model = model_from_json(kMlp);
        optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1));
        io::load_checkpoint(path, *model, &sgd);
      },
      {"optimizer.safetensors", "Adam", "SGD"});
  add("checkpoint", "corrupt trainer_state.json", "trainer_state.json replaced by '{\"epoch\": '",
      [](D dir) {
        const std::string path = checkpoint(dir);
        testing::write_text(path + "/trainer_state.json", "{\"epoch\": ");
        auto model = model_from_json(kMlp);
        io::load_checkpoint(path, *model, nullptr);
      },
      {"trainer_state.json", "JSON"});
  add("checkpoint", "truncated weights", "model.safetensors cut to half its size",
      [](D dir) {
        const std::string path = checkpoint(dir);
        const std::string file = path + "/model.safetensors";
        std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
        auto model = model_from_json(kMlp);
        io::load_checkpoint(path, *model, nullptr);
      },
      {"model.safetensors", "byte"});

  // ---------------------------------------------------------------- JSON model descriptions
  auto model = [](const std::string& text) { model_from_json(text, 0, "model.json"); };
  add("model JSON", "unknown layer", "type 'lineer'",
      [=](D) { model(R"({"input": [4], "layers": [{"type": "lineer", "out_features": 3}]})"); },
      {"model.json", "layers[0]", "unknown layer type 'lineer'", "did you mean 'linear'"});
  add("model JSON", "unknown field", "'kernal_size' in a conv2d",
      [=](D) {
        model(R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2,
                  "kernal_size": 3}]})");
      },
      {"model.json", "layers[0] (conv2d)", "kernal_size", "kernel_size"});
  add("model JSON", "bad field type", "out_features \"ten\"",
      [=](D) { model(R"({"input": [4], "layers": [{"type": "linear", "out_features": "ten"}]})"); },
      {"model.json", "layers[0] (linear)", "out_features", "\"ten\""});
  add("model JSON", "bad UTF-8", "byte 0xFF in a string",
      [=](D) { model("{\"input\": [4], \"name\": \"a\xff\", \"layers\": []}"); },
      {"model.json", "UTF-8", "byte offset 25", "\\xff"});
  add("model JSON", "invalid JSON", "a missing closing brace",
      [=](D) { model(R"({"input": [4], "layers": [{"type": "relu"})"); },
      {"model.json", "invalid JSON", "byte"});
  add("model JSON", "negative size", "out_features -3",
      [=](D) { model(R"({"input": [4], "layers": [{"type": "linear", "out_features": -3}]})"); },
      {"model.json", "layers[0] (linear)", "out_features", "-3"});
  add("model JSON", "shape mismatch", "conv2d with in_channels 3 on a [1, 8, 8] input",
      [=](D) {
        model(R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "in_channels": 3,
                  "out_channels": 2, "kernel_size": 3}]})");
      },
      {"model.json", "layers[0] (conv2d)", "in_channels", "3", "[1, 8, 8]"});
  add("model JSON", "kernel larger than input", "conv2d kernel 9 on a [1, 8, 8] input",
      [=](D) {
        model(R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2,
                  "kernel_size": 9}]})");
      },
      {"model.json", "layers[0] (conv2d)", "9", "8"});
  add("model JSON", "missing input", "no 'input' field",
      [=](D) { model(R"({"layers": [{"type": "relu"}]})"); }, {"model.json", "'input'"});
  add("model JSON", "deep nesting", "100000 nested '['",
      [=](D) { model(std::string(100000, '[')); }, {"model.json", "nested", "byte"});

  // ---------------------------------------------------------------- images (nabla predict)
  add("image", "missing file", "a path that does not exist",
      [](D dir) { io::read_image(dir.file("none.png")); }, {"none.png"});
  add("image", "truncated PNG", "a PNG cut after 40 bytes",
      [](D dir) {
        const std::string path = png(dir, 28, 28);
        std::filesystem::resize_file(path, 40);
        io::read_image(path);
      },
      {"image.png", "PNG"});
  add("image", "not an image", "a text file named .png",
      [](D dir) { io::read_image(write(dir, "notes.png", std::string("hello, world\n"))); },
      {"notes.png"});
  add("image", "PGM truncated", "P5 header 100 x 100, 10 pixel bytes",
      [](D dir) {
        std::string text = "P5\n100 100\n255\n" + std::string(10, 'x');
        io::read_image(write(dir, "x.pgm", text));
      },
      {"x.pgm", "10000", "10"});
  add("image", "PNG too large", "a PNG whose IHDR claims 30000 x 30000",
      [](D dir) {
        const std::string path = png(dir, 2, 2);
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(16);  // IHDR width and height, big-endian
        const char size[8] = {0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30};
        f.write(size, 8);
        f.close();
        io::read_image(path);
      },
      {"image.png", "30000"});

  // ---------------------------------------------------------------- op shape errors
  add("ops", "matmul shapes", "[2, 3] x [4, 5]",
      [](D) {
        matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}));
      },
      {"matmul", "[2, 3]", "[4, 5]"});
  add("ops", "conv2d channels", "input [1, 3, 8, 8], weight [4, 1, 3, 3]",
      [](D) {
        conv2d(Tensor::zeros({1, 3, 8, 8}), Tensor::zeros({4, 1, 3, 3}));
      },
      {"conv2d", "[1, 3, 8, 8]", "[4, 1, 3, 3]"});
  add("ops", "cross_entropy label", "logits [2, 3], labels {0, 3}",
      [](D) {
        cross_entropy(Tensor::zeros({2, 3}), {0, 3});
      },
      {"cross_entropy", "label 3", "position 1", "[2, 3]"});
  add("ops", "broadcast", "[2, 3] + [4]",
      [](D) {
        Tensor::zeros({2, 3}) + Tensor::zeros({4});
      },
      {"[2, 3]", "[4]"});
  add("ops", "layer input shape", "Linear(4, 3) on a [2, 5] batch",
      [](D) {
        model_from_json(kMlp)->forward(Tensor::zeros({2, 5}));
      },
      {"[2, 5]", "4"});

  // ---------------------------------------------------------------- memory limit
  add("memory limit", "model too big", "Linear(64, 64), ReLU, Linear(64, 4096 x 4096) under 32 MiB",
      [](D) {
        set_memory_limit(memory_in_use() + (32 << 20));
        struct Unset {
          ~Unset() { set_memory_limit(0); }
        } unset;
        model_from_json(R"({"input": [64], "layers": [{"type": "linear", "out_features": 64},
                            {"type": "relu"}, {"type": "linear", "out_features": 16777216}]})");
      },
      {"memory limit", "float32 [16777216, 64]", "4.00 GiB", "layers[2] (linear)", "in use"});
  add("memory limit", "batch too big", "LeNet-5's first layer on a batch of 4096, 16 MiB limit",
      [](D) {
        auto lenet = make_model("lenet5");
        Tensor batch = Tensor::zeros({4096, 1, 28, 28});
        set_memory_limit(memory_in_use() + (16 << 20));
        struct Unset {
          ~Unset() { set_memory_limit(0); }
        } unset;
        lenet->forward(batch);
      },
      {"memory limit", "float32 [4096, 6, 28, 28]", "layer '0' (Conv2d)", "in use"});
  add("memory limit", "bad NABLA_MEMORY_LIMIT", "parse_memory_size(\"12 parsecs\")",
      [](D) { parse_memory_size("12 parsecs"); }, {"'12 parsecs'", "unknown unit", "512M"});

  // ---------------------------------------------------------------- command line
  add_cli("mistyped choice", "nabla train --optimizer adma",
          [](D dir) { return cli(dir, "train --optimizer adma"); },
          {"--optimizer", "adma", "did you mean 'adam'", "sgd", "[exit 2]"});
  add_cli("mistyped model", "nabla train --model lenet",
          [](D dir) { return cli(dir, "train --model lenet"); },
          {"--model", "did you mean 'lenet5'", "mlp", "[exit 2]"});
  add_cli("unknown command", "nabla trian", [](D dir) { return cli(dir, "trian"); },
          {"unknown command 'trian'", "train", "[exit 2]"});
  add_cli("unknown option", "nabla train --epoch 3",
          [](D dir) { return cli(dir, "train --epoch 3"); },
          {"unknown option '--epoch', did you mean '--epochs'?", "[exit 2]"});
  add_cli("bad number", "nabla train --lr fast", [](D dir) { return cli(dir, "train --lr fast"); },
          {"--lr", "fast", "[exit 2]"});
  add_cli("missing data", "nabla train --data-dir <empty dir>",
          [](D dir) {
            return cli(dir,
                       "train --epochs 1 --data-dir " + dir.str() + " --out " + dir.file("run"));
          },
          {"nabla: error:", "train-images-idx3-ubyte", "[exit 1]"});
  add_cli("bad --memory-limit", "nabla --memory-limit lots train",
          [](D dir) { return cli(dir, "--memory-limit lots train"); },
          {"--memory-limit", "'lots'", "512M", "[exit 2]"});
  add_cli("bad NABLA_MEMORY_LIMIT", "NABLA_MEMORY_LIMIT=2Q nabla demo xor",
          [](D dir) { return cli(dir, "demo xor", "NABLA_MEMORY_LIMIT=2Q "); },
          {"NABLA_MEMORY_LIMIT", "'2Q'", "[exit 1]"});
  add_cli("memory limit too small for the model", "nabla --memory-limit 1M train --model mlp",
          [](D dir) { return train_with_limit(dir, "1M"); },
          {"memory limit", "float32 [256, 784]", "mlp: layers[1] (linear)", "1.00 MiB",
           "--memory-limit", "[exit 1]"});
  add_cli("memory limit too small for training", "nabla --memory-limit 3M train --model mlp",
          [](D dir) { return train_with_limit(dir, "3M"); },
          {"memory limit: training mlp with adam", "3.08 MiB more", "2 optimizer state",
           "1.03 MiB of trainable parameters", "3.00 MiB", "[exit 1]"});
  return c;
}

class Case_ : public ::testing::TestWithParam<size_t> {};

TEST_P(Case_, Message) {
  static const std::vector<Case> all = cases();
  const Case& c = all[GetParam()];
  TempDir dir;
  SCOPED_TRACE(std::string(c.reader) + ": " + c.name + " (" + c.input + ")");
  const std::string message = c.run(dir);
  EXPECT_FALSE(c.fragments.empty());
  for (const std::string& fragment : c.fragments)
    EXPECT_NE(message.find(fragment), std::string::npos)
        << "fragment '" << fragment << "' is not in the message:\n  " << message;
  EXPECT_EQ(message.find("(no error)"), std::string::npos);
  EXPECT_EQ(message.find("(not a nabla::Error"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(BadInput, Case_, ::testing::Range<size_t>(0, cases().size()));

TEST(BadInput, AtLeastFortyCases) {
  EXPECT_GE(cases().size(), 40u);
}

// The markdown table docs/reliability.md shows, from the messages the readers give now.
TEST(BadInput, WriteTable) {
  const char* path = std::getenv("NABLA_WRITE_BAD_INPUT_TABLE");
  if (path == nullptr) GTEST_SKIP() << "set NABLA_WRITE_BAD_INPUT_TABLE=path to write the table";
  std::ofstream out(path);
  out << "| reader | case | input | message |\n| --- | --- | --- | --- |\n";
  for (const Case& c : cases()) {
    TempDir dir;
    std::string message = c.run(dir);
    // Paths in the scratch directory print as the file's own name.
    const std::string prefix = dir.str() + "/";
    for (size_t at; (at = message.find(prefix)) != std::string::npos;)
      message.erase(at, prefix.size());
    for (size_t at; (at = message.find(dir.str())) != std::string::npos;)
      message.replace(at, dir.str().size(), "DIR");
    std::string cell;
    for (char ch : message) {
      if (ch == '|')
        cell += "\\|";
      else if (ch == '\n')
        cell += ' ';
      else if (ch == '`')
        cell += '\'';
      else
        cell += ch;
    }
    std::string input = c.input;
    for (size_t at; (at = input.find('|')) != std::string::npos;) input.replace(at, 1, "\\|");
    out << "| " << c.reader << " | " << c.name << " | " << input << " | `" << cell << "` |\n";
  }
  ASSERT_TRUE(out.good()) << path;
}

}  // namespace
}  // namespace nabla
