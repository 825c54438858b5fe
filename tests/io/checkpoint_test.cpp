// Checkpoints: PyTorch's state_dict names, strict loading with PyTorch-like errors, optimizer and
// generator state that resume a run bit for bit, corrupt checkpoints refused with the file and
// byte offset, and a saver killed with SIGKILL that always leaves a whole, consistent checkpoint.
#include "nabla/io/checkpoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "data/temp_dir.h"
#include "io/kill_at_step.h"
#include "nabla/autograd.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/normalization.h"
#include "nabla/nn/sequential.h"
#include "nabla/ops.h"
#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"
#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using testing::error_message;
using testing::names_of;
using testing::TempDir;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<uint8_t> bits_of(const Tensor& t) {
  Tensor c = t.contiguous();
  std::vector<uint8_t> out(static_cast<size_t>(c.numel()) * dtype_size(c.dtype()));
  dispatch(c.dtype(), [&]<class T>() { std::memcpy(out.data(), c.data<T>(), out.size()); });
  return out;
}

void expect_same_bits(const io::NamedTensors& a, const io::NamedTensors& b) {
  ASSERT_EQ(names_of(a), names_of(b));
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].second.shape(), b[i].second.shape()) << a[i].first;
    EXPECT_EQ(bits_of(a[i].second), bits_of(b[i].second)) << a[i].first;
  }
}

nn::Sequential make_mlp(uint64_t seed, DType dtype = kFloat32) {
  Generator gen(seed);
  return nn::Sequential(nn::Linear(nn::LinearOptions(3, 5).generator(&gen).dtype(dtype)),
                        nn::Tanh(),
                        nn::Linear(nn::LinearOptions(5, 2).generator(&gen).dtype(dtype)));
}

io::TrainingState at_step(int64_t step, int64_t epoch = 0) {
  io::TrainingState state;
  state.step = step;
  state.epoch = epoch;
  return state;
}

// One step of regression on a fixed batch.
void train_step(nn::Module& model, optim::Optimizer& opt, int step) {
  Generator data(100 + step);
  Tensor x = Tensor::randn({4, 3}, data), y = Tensor::randn({4, 2}, data);
  opt.zero_grad();
  mse_loss(model.forward(x), y).backward();
  opt.step();
}

// ---------------------------------------------------------------- state_dict

TEST(StateDict, UsesPyTorchNamesAndOrder) {
  nn::Sequential model(nn::Linear(3, 4),
                       nn::BatchNorm1d(nn::BatchNormOptions(4).track_num_batches(true)), nn::ReLU(),
                       nn::Linear(4, 2));
  // PyTorch's order: each module's parameters, then its buffers, then its children.
  EXPECT_EQ(
      names_of(io::state_dict(model)),
      (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"}));
}

TEST(StateDict, StrictLoadListsEveryProblemAndChangesNothing) {
  nn::Sequential model = make_mlp(1);
  const auto before = io::state_dict(model);
  std::vector<std::vector<uint8_t>> before_bits;
  for (const auto& [name, t] : before) before_bits.push_back(bits_of(t));

  io::NamedTensors wrong = {{"0.weight", Tensor::zeros({5, 3})},
                            {"0.bias", Tensor::zeros({4})},  // model: [5]
                            {"2.weight", Tensor::zeros({2, 5})},
                            {"extra.weight", Tensor::zeros({1})}};
  const std::string message =
      error_message([&] { io::load_state_dict(model, wrong, true, "w.safetensors"); });
  EXPECT_TRUE(contains(message, "error(s) loading w.safetensors into Sequential")) << message;
  EXPECT_TRUE(contains(message, "missing key(s): \"2.bias\"")) << message;
  EXPECT_TRUE(contains(message, "unexpected key(s): \"extra.weight\"")) << message;
  EXPECT_TRUE(
      contains(message, "size mismatch for 0.bias: w.safetensors has shape [4], the model [5]"))
      << message;
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(bits_of(io::state_dict(model)[i].second), before_bits[i]) << before[i].first;

  // Not strict: missing and unexpected names are skipped, but a wrong shape is still an error.
  EXPECT_TRUE(contains(error_message([&] { io::load_state_dict(model, wrong, false); }),
                       "size mismatch for 0.bias"));
  wrong[1].second = Tensor::full({5}, 2.0);
  io::load_state_dict(model, wrong, false);
  EXPECT_EQ(model.at<nn::Linear>(0).bias.to_vector(), std::vector<double>(5, 2.0));
}

TEST(StateDict, LoadsInPlaceConvertingDtypeSoOptimizersStayAttached) {
  nn::Sequential model = make_mlp(1), other = make_mlp(2, kFloat64);
  optim::SGD opt(model.parameters(), optim::SGDOptions(0.1));
  io::load_state_dict(model, io::state_dict(other));
  const Tensor& w = model.at<nn::Linear>(0).weight;
  EXPECT_EQ(w.dtype(), kFloat32);
  EXPECT_EQ(w.to_vector(), other.at<nn::Linear>(0).weight.to(kFloat32).to_vector());
  EXPECT_TRUE(opt.params()[0].shares_storage(w));
}

TEST(StateDict, WeightsFileRoundTripsWithMetadata) {
  TempDir dir;
  nn::Sequential model = make_mlp(1), fresh = make_mlp(2);
  const std::string path = dir.file("w.safetensors");
  io::save_weights(path, model, {{"arch", "mlp"}});
  EXPECT_EQ(io::load_weights(path, fresh).at("arch"), "mlp");
  expect_same_bits(io::state_dict(fresh), io::state_dict(model));
}

// ---------------------------------------------------------------- optimizer state

TEST(OptimizerState, NamesFollowPyTorchAndLoadStateChecksEverything) {
  nn::Sequential model = make_mlp(1);
  optim::Adam opt(model.parameters(), optim::AdamOptions(0.01));
  EXPECT_TRUE(opt.state().empty()) << "no state before the first step";
  train_step(model, opt, 0);
  const auto state = opt.state();
  EXPECT_EQ(names_of(state)[0], "state.0.step");
  EXPECT_EQ(names_of(state)[1], "state.0.exp_avg");
  EXPECT_EQ(names_of(state)[2], "state.0.exp_avg_sq");
  EXPECT_EQ(state.size(), 4u * 3u);
  EXPECT_EQ(state[0].second.item(), 1.0);

  optim::Adam fresh(make_mlp(2).parameters());
  auto with = [&](std::string name, Tensor t) {
    auto s = state;
    s.emplace_back(std::move(name), std::move(t));
    return s;
  };
  EXPECT_TRUE(
      contains(error_message([&] { fresh.load_state(with("state.0.momentum", state[1].second)); }),
               "Adam: unknown state entry 'state.0.momentum'; Adam keeps step, exp_avg"));
  EXPECT_TRUE(
      contains(error_message([&] { fresh.load_state(with("state.9.exp_avg", state[1].second)); }),
               "is for parameter 9 but this optimizer has 4 parameters"));
  auto bad_shape = state;
  bad_shape[1].second = Tensor::zeros({3, 5});
  EXPECT_TRUE(contains(error_message([&] { fresh.load_state(bad_shape); }),
                       "'state.0.exp_avg' has shape [3, 5] but parameter 0 has shape [5, 3]"));
  auto bad_step = state;
  bad_step[0].second = Tensor::scalar(1.5, kFloat64);
  EXPECT_TRUE(contains(error_message([&] { fresh.load_state(bad_step); }),
                       "must hold one non-negative integer"));
  EXPECT_TRUE(fresh.state().empty()) << "a refused load must change nothing";

  optim::Adagrad adagrad(make_mlp(2).parameters());
  EXPECT_TRUE(
      contains(error_message([&] { adagrad.load_state({}); }),
               "state has no entry 'state.0.sum', which Adagrad keeps for every parameter"));
  EXPECT_TRUE(contains(error_message([&] {
                         opt.set_hyperparameters({{"momentum", 0.9}});
                       }),
                       "Adam: unknown hyperparameter 'momentum'"));
  EXPECT_TRUE(contains(error_message([&] {
                         opt.set_hyperparameters({{"lr", -1}});
                       }),
                       "Adam: invalid learning rate: -1"));
  EXPECT_EQ(opt.lr(), 0.01);
}

struct OptimizerCase {
  const char* name;
  std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)> make;
};

std::vector<OptimizerCase> optimizer_cases() {
  using namespace optim;
  return {
      {"Adam",
       [](auto p) { return std::make_unique<Adam>(p, AdamOptions(0.01).weight_decay(0.1)); }},
      {"AdamW amsgrad",
       [](auto p) { return std::make_unique<AdamW>(p, AdamWOptions(0.01).amsgrad(true)); }},
      {"SGD nesterov",
       [](auto p) {
         return std::make_unique<SGD>(p, SGDOptions(0.05).momentum(0.9).nesterov(true));
       }},
      {"RMSprop centered momentum",
       [](auto p) {
         return std::make_unique<RMSprop>(p, RMSpropOptions(0.01).centered(true).momentum(0.5));
       }},
      {"Adagrad",
       [](auto p) { return std::make_unique<Adagrad>(p, AdagradOptions(0.1).lr_decay(0.01)); }},
  };
}

// 3 steps, save, load into a fresh model and optimizer (other weights, other lr), 2 more steps:
// bit for bit the same weights and state as 5 steps without a stop.
TEST(Checkpoint, ResumedTrainingMatchesUninterruptedTrainingBitwise) {
  for (const OptimizerCase& c : optimizer_cases()) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    nn::Sequential straight = make_mlp(1);
    auto straight_opt = c.make(straight.parameters());
    for (int step = 0; step < 5; ++step) train_step(straight, *straight_opt, step);

    nn::Sequential first = make_mlp(1);
    auto first_opt = c.make(first.parameters());
    for (int step = 0; step < 3; ++step) train_step(first, *first_opt, step);
    io::save_checkpoint(dir.file("ckpt"), first, first_opt.get(), at_step(3, 1));

    nn::Sequential resumed = make_mlp(99);
    auto resumed_opt = c.make(resumed.parameters());
    resumed_opt->set_lr(123);  // the checkpoint's hyperparameters must win, as in PyTorch
    io::TrainingState state = io::load_checkpoint(dir.file("ckpt"), resumed, resumed_opt.get());
    EXPECT_EQ(state.step, 3);
    EXPECT_EQ(resumed_opt->hyperparameters(), first_opt->hyperparameters());
    for (int step = 3; step < 5; ++step) train_step(resumed, *resumed_opt, step);

    expect_same_bits(io::state_dict(resumed), io::state_dict(straight));
    expect_same_bits(resumed_opt->state(), straight_opt->state());
  }
}

TEST(Checkpoint, WrongOptimizerOrMissingStateIsRefusedWithoutChangingTheModel) {
  TempDir dir;
  nn::Sequential model = make_mlp(1);
  optim::Adam adam(model.parameters());
  train_step(model, adam, 0);
  io::save_checkpoint(dir.file("adam"), model, &adam, {});
  io::save_checkpoint(dir.file("weights_only"), model, nullptr, {});

  nn::Sequential other = make_mlp(2);
  const auto before = io::state_dict(other);
  std::vector<std::vector<uint8_t>> before_bits;
  for (const auto& entry : before) before_bits.push_back(bits_of(entry.second));
  optim::SGD sgd(other.parameters(), optim::SGDOptions(0.1));
  EXPECT_TRUE(contains(error_message([&] { io::load_checkpoint(dir.file("adam"), other, &sgd); }),
                       "holds Adam state but the optimizer is SGD"));
  EXPECT_TRUE(
      contains(error_message([&] { io::load_checkpoint(dir.file("weights_only"), other, &sgd); }),
               "has no optimizer state"));
  nn::Sequential wider(nn::Linear(3, 6), nn::Tanh(), nn::Linear(6, 2));
  EXPECT_TRUE(
      contains(error_message([&] { io::load_checkpoint(dir.file("adam"), wider, nullptr); }),
               "size mismatch for 0.weight"));
  const auto after = io::state_dict(other);
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(bits_of(after[i].second), before_bits[i]);
  EXPECT_EQ(sgd.lr(), 0.1);
  // Weights alone load without an optimizer.
  io::load_checkpoint(dir.file("weights_only"), other, nullptr);
  expect_same_bits(io::state_dict(other), io::state_dict(model));
}

// ---------------------------------------------------------------- generator and trainer state

TEST(GeneratorState, ResumesTheExactSequenceIncludingTheCachedNormal) {
  Generator gen(42);
  for (int i = 0; i < 7; ++i) gen.normal();  // odd: a second normal of a pair is cached
  const std::string saved = gen.state();
  std::vector<double> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(gen.normal());
  expected.push_back(gen.uniform());

  Generator restored(0);
  restored.set_state(saved);
  std::vector<double> got;
  for (int i = 0; i < 5; ++i) got.push_back(restored.normal());
  got.push_back(restored.uniform());
  EXPECT_EQ(got, expected);

  Generator untouched(5);
  const std::string before = untouched.state();
  EXPECT_TRUE(contains(error_message([&] { untouched.set_state("1 2 3"); }), "malformed state"));
  EXPECT_TRUE(
      contains(error_message([&] { untouched.set_state(saved + " extra"); }), "malformed state"));
  EXPECT_EQ(untouched.state(), before);
}

TEST(Checkpoint, TrainingStateRoundTrips) {
  TempDir dir;
  nn::Sequential model = make_mlp(1);
  Generator shuffle(3), dropout(4);
  shuffle.normal();
  const std::string config =
      R"({"model":{"layers":[{"type":"linear","out_features":5}]},"lr":0.01})";
  io::TrainingState state = at_step(1234, 7);
  state.rng = {{"shuffle", shuffle.state()}, {"dropout", dropout.state()}};
  state.config = config;
  io::save_checkpoint(dir.file("runs/a/ckpt"), model, nullptr, state);
  io::TrainingState s = io::read_training_state(dir.file("runs/a/ckpt"));
  EXPECT_EQ(s.epoch, 7);
  EXPECT_EQ(s.step, 1234);
  EXPECT_EQ(s.rng.at("shuffle"), shuffle.state());
  EXPECT_EQ(s.rng.at("dropout"), dropout.state());
  EXPECT_EQ(nlohmann::json::parse(s.config), nlohmann::json::parse(config));
  // The weights file alone carries the config too, for tools that only read weights.
  io::SafetensorsFile weights = io::load_safetensors(dir.file("runs/a/ckpt/model.safetensors"));
  EXPECT_EQ(nlohmann::json::parse(weights.metadata.at("nabla.config")),
            nlohmann::json::parse(config));
  EXPECT_EQ(weights.metadata.at("nabla.epoch"), "7");

  EXPECT_TRUE(contains(error_message([&] {
                         io::TrainingState bad;
                         bad.config = "{oops";
                         io::save_checkpoint(dir.file("bad"), model, nullptr, bad);
                       }),
                       "config is not valid JSON"));
  EXPECT_FALSE(fs::exists(dir.file("bad")));
}

// ---------------------------------------------------------------- corrupt checkpoints

TEST(Checkpoint, CorruptFilesAreNamedWithTheByteOffset) {
  TempDir dir;
  nn::Sequential model = make_mlp(1);
  optim::Adam opt(model.parameters());
  train_step(model, opt, 0);
  const std::string ckpt = dir.file("ckpt");
  auto fresh_save = [&] { io::save_checkpoint(ckpt, model, &opt, at_step(1, 1)); };

  fresh_save();
  const std::string weights = ckpt + "/model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) - 10);
  std::string message = error_message([&] { io::load_checkpoint(ckpt, model, &opt); });
  EXPECT_TRUE(contains(message, weights + ": byte ")) << message;

  fresh_save();
  const std::string state_file = ckpt + "/trainer_state.json";
  {
    std::ofstream out(state_file, std::ios::trunc);
    out << "{\"format\": \"nabla.checkpoint\", \"version\": 1, \"epoch\": 1,, }";
  }
  message = error_message([&] { io::read_training_state(ckpt); });
  EXPECT_TRUE(contains(message, state_file + ": byte 56: not valid JSON")) << message;

  {
    std::ofstream out(state_file, std::ios::trunc);
    out << R"({"format": "nabla.checkpoint", "version": 1, "epoch": -1, "step": 0})";
  }
  message = error_message([&] { io::read_training_state(ckpt); });
  EXPECT_TRUE(contains(message, state_file + ": byte 45: \"epoch\" must be a non-negative integer"))
      << message;

  {
    std::ofstream out(state_file, std::ios::trunc);
    out << R"({"format": "something else"})";
  }
  EXPECT_TRUE(
      contains(error_message([&] { io::read_training_state(ckpt); }), "not a nabla checkpoint"));
  EXPECT_TRUE(contains(error_message([&] { io::read_training_state(dir.file("nowhere")); }),
                       "is not a checkpoint directory"));
}

// ---------------------------------------------------------------- crash safety

// A saver SIGKILLed after each step of a save in turn (every file created, written, synced and
// renamed, the directory synced and exchanged) leaves a whole checkpoint: the previous save until
// the directory exchange, the new one from then on. The hook places each kill exactly, so the test
// neither depends on timing nor passes without a kill landing mid-save.
TEST(Checkpoint, SurvivesSigkillMidSaveWithAConsistentCheckpoint) {
  TempDir dir;
  const std::string ckpt = dir.file("ckpt");
  nn::Sequential model(nn::Linear(32, 32), nn::Linear(32, 32));
  optim::Adam opt(model.parameters());
  auto fill_all = [&](double value) {
    NoGradGuard no_grad;
    for (Tensor& p : model.parameters()) p.fill_(value);
    for (auto& [name, t] : opt.state())
      if (t.dim() > 0) t.fill_(value);
  };
  {
    // One step so the optimizer has exp_avg and exp_avg_sq to save.
    Generator g(0);
    opt.zero_grad();
    model.forward(Tensor::randn({2, 32}, g)).sum().backward();
    opt.step();
  }
  fill_all(0);
  io::save_checkpoint(ckpt, model, &opt, at_step(0));

  // One save over an existing checkpoint, recorded to learn its steps.
  const std::vector<std::string> steps =
      testing::atomic_write_steps([&] { io::save_checkpoint(ckpt, model, &opt, at_step(0)); });
  const auto exchange = std::find(steps.begin(), steps.end(), "directory exchanged");
  ASSERT_NE(exchange, steps.end()) << "the save never exchanged the directory";
  const int exchange_step = static_cast<int>(exchange - steps.begin()) + 1;
  ASSERT_GE(exchange_step, 8) << "too few steps before the exchange to test";

  int64_t committed = 0;
  int left_temporaries = 0;
  for (int stop = 1; stop <= static_cast<int>(steps.size()); ++stop) {
    const std::string where = "killed after step " + std::to_string(stop) + " (" +
                              steps[static_cast<size_t>(stop - 1)] + ")";
    const int64_t version = stop;
    const pid_t child = testing::kill_writer_after_step(
        stop,
        [&] {
          fill_all(static_cast<double>(version));
          io::save_checkpoint(ckpt, model, &opt, at_step(version));
        },
        where);
    ASSERT_GT(child, 0);
    if (fs::exists(ckpt + ".tmp." + std::to_string(child))) ++left_temporaries;

    nn::Sequential loaded(nn::Linear(32, 32), nn::Linear(32, 32));
    optim::Adam loaded_opt(loaded.parameters());
    io::TrainingState state;
    ASSERT_NO_THROW(state = io::load_checkpoint(ckpt, loaded, &loaded_opt)) << where;
    EXPECT_EQ(state.step, stop >= exchange_step ? version : committed) << where;
    committed = state.step;
    const double k = static_cast<double>(state.step);
    for (const auto& [name, t] : io::state_dict(loaded)) {
      std::vector<double> v = t.to_vector();
      EXPECT_TRUE(std::all_of(v.begin(), v.end(), [&](double x) { return x == k; }))
          << where << ": " << name << " is not from save " << k;
    }
    for (const auto& [name, t] : loaded_opt.state()) {
      if (t.dim() == 0) continue;
      std::vector<double> v = t.to_vector();
      EXPECT_TRUE(std::all_of(v.begin(), v.end(), [&](double x) { return x == k; }))
          << where << ": " << name << " is not from save " << k;
    }
  }
  // Every kill before the old directory was removed left the staging directory behind.
  EXPECT_GE(left_temporaries, exchange_step) << "kills that left a half-written save";
  // The next save clears what the killed savers left.
  io::save_checkpoint(ckpt, model, &opt, {});
  for (const auto& e : fs::directory_iterator(dir.str()))
    EXPECT_FALSE(contains(e.path().filename().string(), ".tmp.")) << e.path();
}

}  // namespace
}  // namespace nabla
