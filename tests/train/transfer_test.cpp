// Transfer learning (app/transfer.h, data/classes.h): class selection, layer selectors, freezing,
// per-parameter learning rates, starting from a checkpoint, and whole fine-tuning runs through
// app/run.h (frozen weights bit-identical, exact resumption).
#include "app/transfer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "app/run.h"
#include "nabla/autograd.h"
#include "nabla/data/classes.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/safetensors.h"
#include "nabla/models.h"
#include "nabla/ops.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/sgd.h"
#include "test_util.h"
#include "train/fake_run_fixture.h"
#include "train/train_test_util.h"

namespace nabla::app {
namespace {

using nabla::testing::TempDir;
using nabla::testing::tensors_of;

using nabla::testing::error_message;

std::shared_ptr<nn::Sequential> lenet(int64_t classes, uint64_t seed, int64_t channels = 1) {
  ModelConfig config;
  config.num_classes = classes;
  config.seed = seed;
  config.in_channels = channels;
  return make_model("lenet5", config);
}

std::map<std::string, std::vector<double>> weights_of(const nn::Module& m) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& [name, t] : m.named_parameters()) out[name] = t.detach().to_vector();
  return out;
}

// ---------------------------------------------------------------- classes

TEST(ClassList, ParsesIndicesAndRangesInTheOrderWritten) {
  EXPECT_EQ(data::parse_class_list("0-4", 10), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(data::parse_class_list("5,6,7,8,9", 10), (std::vector<int64_t>{5, 6, 7, 8, 9}));
  EXPECT_EQ(data::parse_class_list("9,0-1", 10), (std::vector<int64_t>{9, 0, 1}));
}

TEST(ClassList, BadSpecsNameTheTokenAndTheValidRange) {
  // The library names itself; the CLI passes its flag.
  EXPECT_NE(error_message([] { data::parse_class_list("0-12", 10); }).find("parse_class_list: "),
            std::string::npos);
  const std::string out_of_range =
      error_message([] { data::parse_class_list("0-12", 10, "--classes"); });
  EXPECT_NE(out_of_range.find("--classes"), std::string::npos) << out_of_range;
  EXPECT_NE(out_of_range.find("'0-12'"), std::string::npos) << out_of_range;
  EXPECT_NE(out_of_range.find("[0, 10)"), std::string::npos) << out_of_range;
  const std::string word = error_message([] { data::parse_class_list("5,shirt", 10); });
  EXPECT_NE(word.find("'shirt'"), std::string::npos) << word;
  EXPECT_NE(word.find("[0, 10)"), std::string::npos) << word;
  EXPECT_NE(error_message([] { data::parse_class_list("4-1", 10); }).find("runs backwards"),
            std::string::npos);
  EXPECT_NE(
      error_message([] { data::parse_class_list("1,0-2", 10); }).find("class 1 is listed twice"),
      std::string::npos);
  EXPECT_NE(error_message([] { data::parse_class_list("1,,2", 10); }).find("''"),
            std::string::npos);
  EXPECT_NE(error_message([] { data::parse_class_list("", 10); }).find("empty"), std::string::npos);
}

TEST(SelectClasses, KeepsTheSamplesOfThoseClassesRelabelledInListOrder) {
  const data::Dataset all = nabla::testing::random_images(300, 5);
  const data::Dataset two = data::select_classes(all, {7, 2});
  EXPECT_EQ(two.class_names(), (std::vector<std::string>{"class7", "class2"}));
  int64_t j = 0;
  for (int64_t i = 0; i < all.size(); ++i) {
    if (all.label(i) != 7 && all.label(i) != 2) continue;
    ASSERT_LT(j, two.size());
    EXPECT_EQ(two.label(j), all.label(i) == 7 ? 0 : 1) << "sample " << i;
    EXPECT_EQ(std::vector<uint8_t>(two.uint8_sample(j), two.uint8_sample(j) + 784),
              std::vector<uint8_t>(all.uint8_sample(i), all.uint8_sample(i) + 784));
    ++j;
  }
  EXPECT_EQ(j, two.size());
  EXPECT_GT(two.size(), 30);
  EXPECT_NE(error_message([&] {
              data::select_classes(all, {3, 10});
            }).find("class 10"),
            std::string::npos);
}

// ---------------------------------------------------------------- learning-rate multipliers

TEST(LrMultipliers, ScaleTheSgdUpdateExactly) {
  const std::vector<float> a0 = {1.0f, -2.0f, 3.0f}, b0 = {0.5f, 0.25f};
  const std::vector<float> ga = {0.3f, -0.7f, 1.1f}, gb = {2.0f, -4.0f};
  // Fresh copies of a and b, their gradients ga and gb set by one backward.
  auto with_grads = [&] {
    Tensor a = Tensor::from_vector(a0, {3}).requires_grad_();
    Tensor b = Tensor::from_vector(b0, {2}).requires_grad_();
    (sum(a * Tensor::from_vector(ga, {3})) + sum(b * Tensor::from_vector(gb, {2}))).backward();
    return std::pair{a, b};
  };
  const auto [a, b] = with_grads();
  optim::SGD scaled({a, b}, optim::SGDOptions(0.1));
  scaled.set_lr_multipliers({1.0, 0.25});
  scaled.step();
  const auto [plain_a, plain_b] = with_grads();
  optim::SGD at_a({plain_a}, optim::SGDOptions(0.1)),
      at_b({plain_b}, optim::SGDOptions(0.1 * 0.25));
  at_a.step();
  at_b.step();
  // lr·mult formed in double, then the parameter's own rule at that rate: bit for bit the plain
  // step at lr 0.1 for a and 0.025 for b, and that moved each value by about -lr·g.
  EXPECT_EQ(a.to_vector(), plain_a.to_vector());
  EXPECT_EQ(b.to_vector(), plain_b.to_vector());
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(a.to_vector()[k], a0[k] - 0.1 * ga[k], 1e-6) << k;
  for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(b.to_vector()[k], b0[k] - 0.025 * gb[k], 1e-6) << k;
}

TEST(LrMultipliers, OfOneChangeNoBitAndAreChecked) {
  auto run = [](bool set_ones) {
    auto model = lenet(10, 1);
    optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3).weight_decay(1e-4));
    if (set_ones) opt.set_lr_multipliers(std::vector<double>(model->parameters().size(), 1.0));
    const data::Dataset d = nabla::testing::random_images(16, 2);
    const auto batch = nabla::testing::shuffled_loader(d, 16).epoch(0).batch(0);
    for (int s = 0; s < 2; ++s) {
      opt.zero_grad();
      cross_entropy(model->forward(batch.images), batch.labels).backward();
      opt.step();
    }
    return weights_of(*model);
  };
  EXPECT_EQ(run(true), run(false));

  Tensor a = Tensor::zeros({2}).requires_grad_();
  optim::SGD opt({a}, optim::SGDOptions(0.1));
  EXPECT_NE(error_message([&] {
              opt.set_lr_multipliers({1.0, 2.0});
            }).find("2 learning-rate"),
            std::string::npos);
  EXPECT_NE(error_message([&] { opt.set_lr_multipliers({-1.0}); }).find("parameter 0"),
            std::string::npos);
}

// ---------------------------------------------------------------- selectors and freezing

TEST(Selectors, PickLayersByNameIndexRangeAndShorthand) {
  auto model = lenet(10, 1);  // 0 conv, 3 conv, 7, 9, 11 linear
  using V = std::vector<std::string>;
  EXPECT_EQ(select_parameters(*model, "features"), (V{"0.weight", "0.bias", "3.weight", "3.bias"}));
  EXPECT_EQ(select_parameters(*model, "head"), (V{"11.weight", "11.bias"}));
  EXPECT_EQ(select_parameters(*model, "0-5"), (V{"0.weight", "0.bias", "3.weight", "3.bias"}));
  EXPECT_EQ(select_parameters(*model, "9.bias,3"), (V{"3.weight", "3.bias", "9.bias"}));
}

TEST(Selectors, ABadNameIsAnErrorWithDidYouMean) {
  auto model = lenet(10, 1);
  const std::string typo = error_message([&] { select_parameters(*model, "featurs", "--freeze"); });
  EXPECT_NE(typo.find("--freeze"), std::string::npos) << typo;
  EXPECT_NE(typo.find("'featurs'"), std::string::npos) << typo;
  EXPECT_NE(typo.find("did you mean 'features'"), std::string::npos) << typo;
  const std::string relu = error_message([&] { select_parameters(*model, "1"); });
  EXPECT_NE(relu.find("layer 1 (ReLU) has no parameters"), std::string::npos) << relu;
  const std::string range = error_message([&] { select_parameters(*model, "3-14"); });
  EXPECT_NE(range.find("[0, 12)"), std::string::npos) << range;
  const std::string all = error_message([&] { trainable_parameters(*model, "0-11", ""); });
  EXPECT_NE(all.find("nothing is left to train"), std::string::npos) << all;
  EXPECT_TRUE(model->parameters()[0].requires_grad()) << "a failed freeze freezes nothing";
  const std::string factor = error_message([&] { trainable_parameters(*model, "", "head=fast"); });
  EXPECT_NE(factor.find("'fast'"), std::string::npos) << factor;
  const std::string useless = error_message([&] { trainable_parameters(*model, "0", "0.bias=2"); });
  EXPECT_NE(useless.find("only parameters that --freeze"), std::string::npos) << useless;
}

TEST(Freeze, FrozenParametersGetNoGradientNoOptimizerStateAndKeepTheirBits) {
  auto model = lenet(10, 4);
  const TrainableParameters t = trainable_parameters(*model, "features", "head=3,9=0.5");
  EXPECT_EQ(t.frozen, (std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias"}));
  EXPECT_EQ(t.frozen_values, 6 * 25 + 6 + 16 * 6 * 25 + 16);
  ASSERT_EQ(t.names, (std::vector<std::string>{"7.weight", "7.bias", "9.weight", "9.bias",
                                               "11.weight", "11.bias"}));
  EXPECT_EQ(t.lr_multipliers, (std::vector<double>{1, 1, 0.5, 0.5, 3, 3}));
  EXPECT_NE(t.summary().find("froze 4 parameter tensors (2572 values)"), std::string::npos)
      << t.summary();

  const auto before = weights_of(*model);
  optim::Adam opt(t.params, optim::AdamOptions(1e-2));
  opt.set_lr_multipliers(t.lr_multipliers);
  const data::Dataset d = nabla::testing::random_images(32, 6);
  const auto batch = nabla::testing::shuffled_loader(d, 32).epoch(0).batch(0);
  for (int s = 0; s < 3; ++s) {
    opt.zero_grad();
    cross_entropy(model->forward(batch.images), batch.labels).backward();
    for (const auto& [name, p] : model->named_parameters()) {
      const bool frozen = name[0] == '0' || name[0] == '3';
      EXPECT_EQ(p.requires_grad(), !frozen) << name;
      EXPECT_EQ(p.grad().defined(), !frozen) << name;
    }
    opt.step();
  }
  const auto after = weights_of(*model);
  for (const auto& [name, values] : before)
    if (name[0] == '0' || name[0] == '3')
      EXPECT_EQ(after.at(name), values) << name << " is frozen";
    else
      EXPECT_NE(after.at(name), values) << name << " is trained";
  std::set<std::string> indices;
  for (const auto& [key, tensor] : opt.state()) indices.insert(key.substr(0, key.find('.', 6)));
  EXPECT_EQ(indices, (std::set<std::string>{"state.0", "state.1", "state.2", "state.3", "state.4",
                                            "state.5"}))
      << "state for the six trained tensors only";
}

// ---------------------------------------------------------------- init from a checkpoint

TEST(InitFrom, LoadsEverythingButANewHeadAndSaysSo) {
  TempDir dir;
  auto pretrained = lenet(10, 1);
  io::save_checkpoint(dir.file("pre"), *pretrained, nullptr, {});
  auto model = lenet(5, 2);
  const auto fresh = weights_of(*model);
  const InitReport r = init_from_checkpoint(*model, dir.file("pre"));
  EXPECT_EQ(r.loaded, 8);
  ASSERT_EQ(r.replaced.size(), 1u);
  EXPECT_NE(r.replaced[0].find("replaced head 11.Linear (84 -> 10) by (84 -> 5)"),
            std::string::npos)
      << r.replaced[0];
  const auto loaded = weights_of(*model), source = weights_of(*pretrained);
  for (const auto& [name, values] : loaded)
    if (name.rfind("11.", 0) == 0)
      EXPECT_EQ(values, fresh.at(name)) << name << " keeps its fresh initialisation";
    else
      EXPECT_EQ(values, source.at(name)) << name;

  auto same = lenet(10, 3);
  EXPECT_TRUE(init_from_checkpoint(*same, dir.file("pre")).replaced.empty());
  EXPECT_EQ(weights_of(*same), source) << "the same task loads the head too";

  auto rgb = lenet(10, 3, 3);
  const auto rgb_before = weights_of(*rgb);
  const std::string e = error_message([&] { init_from_checkpoint(*rgb, dir.file("pre")); });
  EXPECT_NE(e.find("'0.weight' is [6, 1, 5, 5] in the checkpoint but [6, 3, 5, 5] in the model"),
            std::string::npos)
      << e;
  EXPECT_EQ(weights_of(*rgb), rgb_before) << "a failed init changes nothing";
  EXPECT_NE(
      error_message([&] { init_from_checkpoint(*rgb, dir.file("none")); }).find("no checkpoint"),
      std::string::npos);
}

// ---------------------------------------------------------------- whole runs

class TransferRun : public nabla::testing::FakeFashionMnistTest {
 protected:
  TransferRun() : FakeFashionMnistTest(400, 100) {}
  RunOptions options(const std::string& out, const std::string& classes, int64_t epochs) const {
    RunOptions o = run_options(out, epochs);
    o.model = "lenet5";
    o.classes = classes;
    o.batch_size = 25;
    o.optimizer = "sgd";
    o.lr = 0.02;
    o.momentum = 0.9;
    o.seed = 5;
    o.val_fraction = 0.1;
    return o;
  }
};

TEST_F(TransferRun, FineTuningKeepsFrozenWeightsBitIdenticalAndResumesBitwise) {
  const RunResult pre = run_training(options("pre", "0-4", 2), log);
  EXPECT_EQ(pre.test.samples, 50) << "half of the 100 test images are of classes 0-4";
  const auto pretrained = tensors_of(dir.file("pre/best/model.safetensors"));

  RunOptions tune = options("tune", "5-9", 3);
  tune.init_from = dir.file("pre");
  tune.freeze = "features";
  tune.lr_mult = "head=2";
  const RunResult straight = run_training(tune, log);
  EXPECT_NE(log.str().find("replaced head 11.Linear (84 -> 5) by (84 -> 5), freshly initialised: "
                           "the checkpoint's classes (T-shirt/top, Trouser"),
            std::string::npos)
      << log.str();
  EXPECT_NE(log.str().find("froze 4 parameter tensors"), std::string::npos);
  EXPECT_EQ(straight.test.samples, 50);
  const TrainedModel trained = load_trained_model(dir.file("tune/final"));
  EXPECT_EQ(trained.class_names,
            (std::vector<std::string>{"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}));
  const TrainedModel pre_model = load_trained_model(dir.file("pre"));
  EXPECT_EQ(trained.normalization.mean, pre_model.normalization.mean)
      << "the pretrained layers see inputs scaled as in pretraining";
  EXPECT_EQ(trained.normalization.std, pre_model.normalization.std);

  const auto tuned = tensors_of(dir.file("tune/final/model.safetensors"));
  for (const char* name : {"0.weight", "0.bias", "3.weight", "3.bias"})
    EXPECT_EQ(tuned.at(name), pretrained.at(name)) << name << " is frozen";
  for (const char* name : {"7.weight", "9.bias", "11.weight"})
    EXPECT_NE(tuned.at(name), pretrained.at(name)) << name << " is fine-tuned";
  std::set<std::string> indices;
  for (const auto& [key, values] : tensors_of(dir.file("tune/last/optimizer.safetensors")))
    indices.insert(key.substr(0, key.find('.', 6)));
  EXPECT_EQ(indices.size(), 6u) << "momentum buffers for the six trained tensors only";

  // Interrupted after two epochs and resumed: the same bits as three straight epochs.
  RunOptions first_two = tune;
  first_two.out_dir = dir.file("tune2");
  first_two.epochs = 2;
  run_training(first_two, log);
  const RunResult resumed = resume_training(
      dir.file("tune2"),
      ResumeOptions{.epochs = 3, .threads = 1, .data_dir = "", .interactive = false}, log);
  EXPECT_EQ(tensors_of(dir.file("tune2/final/model.safetensors")), tuned);
  EXPECT_EQ(tensors_of(dir.file("tune2/last/optimizer.safetensors")),
            tensors_of(dir.file("tune/last/optimizer.safetensors")));
  EXPECT_EQ(resumed.test.accuracy, straight.test.accuracy);
}

TEST_F(TransferRun, BadTransferOptionsAreNamed) {
  RunOptions o = options("bad", "5-9", 1);
  o.freeze = "featurs";
  const std::string freeze = error_message([&] { run_training(o, log); });
  EXPECT_NE(freeze.find("did you mean 'features'"), std::string::npos) << freeze;
  o = options("bad2", "5-10", 1);
  const std::string classes = error_message([&] { run_training(o, log); });
  EXPECT_NE(classes.find("'5-10'"), std::string::npos) << classes;
  EXPECT_NE(classes.find("[0, 10)"), std::string::npos) << classes;
}

}  // namespace
}  // namespace nabla::app
