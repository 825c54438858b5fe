// load_checkpoint on a checkpoint directory with one of its three files replaced by the input:
// the first byte picks which (0 trainer_state.json, 1 model.safetensors, 2 optimizer.safetensors),
// the rest is the file. The other two stay valid, so the fuzzer reaches the checks that relate
// the files to each other and to the model and optimizer they are loaded into.
//
// With NABLA_FUZZ_SEED_DIR set, writes the three valid files, each behind its selector byte, to
// that directory as seeds and exits (fuzz/make_corpus.py runs it).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "fuzz_util.h"
#include "nabla/error.h"
#include "nabla/io/checkpoint.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/normalization.h"
#include "nabla/nn/sequential.h"
#include "nabla/optim/adam.h"
#include "nabla/random.h"

namespace {

const char* const kFiles[] = {"trainer_state.json", "model.safetensors", "optimizer.safetensors"};

struct Fixture {
  std::unique_ptr<nabla::nn::Sequential> model;
  std::unique_ptr<nabla::optim::Adam> adam;
  std::string dir;
  std::string valid[3];
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    nabla::Generator gen(7);
    x.model = std::make_unique<nabla::nn::Sequential>(
        nabla::nn::Linear(nabla::nn::LinearOptions(3, 4).generator(&gen)),
        nabla::nn::BatchNorm1d(4), nabla::nn::ReLU(),
        nabla::nn::Linear(nabla::nn::LinearOptions(4, 2).generator(&gen)));
    x.adam = std::make_unique<nabla::optim::Adam>(x.model->parameters());
    nabla::io::TrainingState state;
    state.epoch = 1;
    state.step = 3;
    state.rng["shuffle"] = gen.state();
    state.config = R"({"model": {"input": [3]}, "lr": 0.001})";
    x.dir = (nabla::fuzz::scratch_dir() / "ckpt").string();
    nabla::io::save_checkpoint(x.dir, *x.model, x.adam.get(), state);
    for (int i = 0; i < 3; ++i) x.valid[i] = slurp(x.dir + "/" + kFiles[i]);
    return x;
  }();
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Fixture& f = fixture();
  if (const char* seeds = std::getenv("NABLA_FUZZ_SEED_DIR")) {
    std::filesystem::create_directories(seeds);
    for (int i = 0; i < 3; ++i) {
      std::ofstream out(std::string(seeds) + "/" + kFiles[i], std::ios::binary);
      out.put(static_cast<char>(i));
      out << f.valid[i];
    }
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Fixture& f = fixture();
  const int which = data[0] % 3;
  const std::string path = f.dir + "/" + kFiles[which];
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  try {
    nabla::io::load_checkpoint(f.dir, *f.model, f.adam.get());
  } catch (const nabla::Error&) {
  }
  std::ofstream restore(path, std::ios::binary | std::ios::trunc);
  restore << f.valid[which];
  return 0;
}
