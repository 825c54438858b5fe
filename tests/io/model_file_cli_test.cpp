// `nabla eval`, `predict` and `train --init-from` on a model file alone: a run's
// model.safetensors copied anywhere, and bare weights (a PyTorch state dict) with --model and
// --normalize.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "nabla/io/image.h"
#include "nabla/io/safetensors.h"
#include "train/cli_fixture.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;

// The line "accuracy 12.34%  (mean cross-entropy ...)" of nabla eval's output.
std::string accuracy_line(const std::string& out) {
  const size_t at = out.find("accuracy ");
  return at == std::string::npos ? "(none)" : out.substr(at, out.find('\n', at) - at);
}

class ModelFileCli : public CliTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(nabla(train_args("run", 1)).code, 0);
    fs::create_directories(dir.file("elsewhere"));
    fs::copy_file(dir.file("run/best/model.safetensors"), dir.file("elsewhere/copy.safetensors"));
    // The same weights as PyTorch's safetensors.torch.save_file writes them: no description.
    const io::SafetensorsFile file = io::load_safetensors(dir.file("run/best/model.safetensors"));
    io::save_safetensors(dir.file("elsewhere/bare.safetensors"), file.tensors, {{"format", "pt"}});
    const auto config = nlohmann::json::parse(file.metadata.at("nabla.config"));
    const auto mean = config.at("normalization").at("mean").get<std::vector<float>>();
    const auto std = config.at("normalization").at("std").get<std::vector<float>>();
    normalize = std::to_string(mean.at(0)) + "," + std::to_string(std.at(0));
  }
  std::string data() { return " --dataset fashion-mnist --data-dir " + dir.file("data"); }
  std::string normalize;  // the run's, as MEAN,STD
};

TEST_F(ModelFileCli, EvalAndPredictNeedOnlyTheModelFile) {
  const Result run = nabla("eval " + dir.file("run") + " --subset 100");
  ASSERT_EQ(run.code, 0) << run.err;
  const Result copy = nabla("eval " + dir.file("elsewhere/copy.safetensors") + " --subset 100" +
                            " --data-dir " + dir.file("data"));
  ASSERT_EQ(copy.code, 0) << copy.err;
  EXPECT_EQ(accuracy_line(copy.out), accuracy_line(run.out));
  EXPECT_NE(copy.out.find("Ankle boot"), std::string::npos) << copy.out;

  Generator gen(42);
  io::Image image = io::make_image(28, 28, 1);
  image.pixels = testing::fake_fashion_image(1, gen);
  io::write_pgm(dir.file("trouser.pgm"), image);
  const Result predict = nabla("predict " + dir.file("elsewhere/copy.safetensors") + " " +
                               dir.file("trouser.pgm") + " --csv");
  ASSERT_EQ(predict.code, 0) << predict.err;
  const Result from_run =
      nabla("predict " + dir.file("run") + " " + dir.file("trouser.pgm") + " --csv");
  EXPECT_EQ(predict.out, from_run.out);
  EXPECT_NE(predict.out.find(",Trouser,"), std::string::npos) << predict.out;
}

TEST_F(ModelFileCli, BareWeightsTakeModelAndNormalize) {
  const std::string bare = dir.file("elsewhere/bare.safetensors");
  const Result refused = nabla("eval " + bare + data());
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("no model description"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("pass --model"), std::string::npos) << refused.err;

  const Result run = nabla("eval " + dir.file("run") + " --subset 100");
  const Result eval =
      nabla("eval " + bare + " --model mlp --normalize " + normalize + " --subset 100" + data());
  ASSERT_EQ(eval.code, 0) << eval.err;
  EXPECT_EQ(accuracy_line(eval.out), accuracy_line(run.out));
  EXPECT_NE(eval.out.find("Ankle boot"), std::string::npos) << "class names from the data set";

  // A description that does not fit: the key and both shapes.
  const Result wrong = nabla("eval " + bare + " --model lenet5" + data());
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("missing key(s)"), std::string::npos) << wrong.err;

  // --normalize where the file has its own, and where it is not two numbers: usage errors.
  const Result twice =
      nabla("eval " + dir.file("elsewhere/copy.safetensors") + " --normalize 0.5,0.5" + data());
  EXPECT_EQ(twice.code, 2);
  EXPECT_NE(twice.err.find("carries the normalisation it was trained with"), std::string::npos)
      << twice.err;
  const Result odd = nabla("eval " + bare + " --model mlp --normalize 0.5" + data());
  EXPECT_EQ(odd.code, 2);
  EXPECT_NE(odd.err.find("--normalize '0.5': 1 numbers"), std::string::npos) << odd.err;
}

TEST_F(ModelFileCli, InitFromTakesAModelFileAndNormalizeForBareWeights) {
  for (const char* file : {"elsewhere/copy.safetensors", "elsewhere/bare.safetensors"}) {
    const Result r = nabla(train_args(std::string("from-") + fs::path(file).stem().string(), 1) +
                           " --init-from " + dir.file(file));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("initialised from " + dir.file(file) + ": 6 tensors loaded"),
              std::string::npos)
        << r.out;
  }
  // Bare weights say nothing of their inputs: --normalize does, and the run keeps it.
  const Result bare = nabla(train_args("normalized", 1) + " --init-from " +
                            dir.file("elsewhere/bare.safetensors") + " --normalize 0.5,0.25");
  ASSERT_EQ(bare.code, 0) << bare.err;
  const io::SafetensorsFile saved =
      io::load_safetensors(dir.file("normalized/final/model.safetensors"));
  EXPECT_NE(saved.metadata.at("nabla.input").find(R"("mean":[0.5],"std":[0.25])"),
            std::string::npos)
      << saved.metadata.at("nabla.input");
  // Refused: a file with its own normalisation, and a run without pretrained weights.
  const Result own = nabla(train_args("own", 1) + " --init-from " +
                           dir.file("elsewhere/copy.safetensors") + " --normalize 0.5,0.25");
  EXPECT_EQ(own.code, 2);
  EXPECT_NE(own.err.find("carries the normalisation it was trained with"), std::string::npos)
      << own.err;
  const Result alone = nabla(train_args("alone", 1) + " --normalize 0.5,0.25");
  EXPECT_EQ(alone.code, 2);
  EXPECT_NE(alone.err.find("--normalize gives the normalisation of pretrained weights"),
            std::string::npos)
      << alone.err;
}

}  // namespace
}  // namespace nabla
