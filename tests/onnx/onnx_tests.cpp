// nabla::onnx (docs/onnx.md): models out to ONNX and back, PyTorch's torch.onnx.export files in,
// and the exported files run by ONNX Runtime (tests/onnx/run_ort.js under node) against nabla on
// 200 Fashion-MNIST test images (generated images when the data set is absent), probabilities
// within 1e-5; onnx.checker (python3-onnx) validates every exported file. Those two skip, saying
// why, when their tools are absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/data/dataloader.h"
#include "nabla/data/datasets.h"
#include "nabla/error.h"
#include "nabla/models.h"
#include "nabla/nn/flatten.h"
#include "nabla/onnx.h"
#include "nabla/ops.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;

constexpr double kTolerance = 1e-5;
const data::Normalization kFashionNorm{{0.2860f}, {0.3530f}};
const std::vector<std::string> kFashionClasses{"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                               "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                               "Bag",         "Ankle boot"};

// Every layer type a description holds (nn::layer_types()), on Fashion-MNIST's 1x28x28.
const char* kEveryLayer = R"({"input": [1, 28, 28], "layers": [
  {"type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
  {"type": "batchnorm2d"}, {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
  {"type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 2, "dilation": 2,
   "groups": 2, "bias": false},
  {"type": "elu", "alpha": 0.7},
  {"type": "avgpool2d", "kernel_size": 3, "stride": 2, "padding": 1, "floor_mode": true},
  {"type": "leakyrelu", "negative_slope": 0.1},
  {"type": "conv2d", "out_channels": 6, "kernel_size": [3, 1], "stride": [2, 1]},
  {"type": "sigmoid"}, {"type": "globalavgpool2d", "keepdim": true},
  {"type": "flatten"}, {"type": "linear", "out_features": 12}, {"type": "batchnorm1d"},
  {"type": "tanh"}, {"type": "dropout", "p": 0.2}, {"type": "maxout", "pieces": 2},
  {"type": "softplus", "beta": 2, "threshold": 1}, {"type": "logsoftmax", "dim": 1},
  {"type": "linear", "out_features": 10}, {"type": "softmax", "dim": -1}]})";

// The flatten that keeps more than 2 dims (exported as Reshape), and a log-softmax inside.
const char* kOtherForms = R"({"input": [1, 28, 28], "layers": [
  {"type": "conv2d", "out_channels": 4, "kernel_size": 4, "stride": 3}, {"type": "relu"},
  {"type": "flatten", "start_dim": 2}, {"type": "logsoftmax", "dim": 2},
  {"type": "flatten"}, {"type": "linear", "out_features": 10}]})";

std::vector<float> read_f32(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << path;
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / sizeof(float));
  std::copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(out.size() * sizeof(float)),
            reinterpret_cast<char*>(out.data()));
  return out;
}

void write_f32(const std::string& path, const std::vector<float>& values) {
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(values.data()),
             static_cast<std::streamsize>(values.size() * sizeof(float)));
}

std::vector<float> floats(const Tensor& t) {
  const std::vector<double> v = t.contiguous().to_vector();
  return {v.begin(), v.end()};
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

std::string scratch(const std::string& name) {
  const fs::path dir = fs::path(testing::TempDir()) / "nabla_onnx_tests";
  fs::create_directories(dir);
  return (dir / name).string();
}

// Batch norm's running statistics and affine values drawn away from their initial 0 and 1, so an
// exporter that dropped them would be caught.
void perturb_batchnorm(nn::Module& model, uint64_t seed) {
  Generator gen(seed);
  for (const auto& [name, child] : model.named_children()) {
    if (child->name().rfind("BatchNorm", 0) != 0) continue;
    for (auto list : {child->named_parameters(false), child->named_buffers(false)})
      for (auto& [field, t] : list) {
        if (t.dtype() != kFloat32) continue;
        float* p = t.data<float>();
        for (int64_t i = 0; i < t.numel(); ++i)
          p[i] = static_cast<float>(field == "running_mean" ? gen.uniform(-0.5, 0.5)
                                                            : gen.uniform(0.5, 1.5));
      }
  }
}

struct Case {
  std::string name;
  std::shared_ptr<nn::Sequential> model;
};

std::vector<Case> exported_models() {
  std::vector<Case> cases;
  for (const std::string name : {"mlp", "lenet5", "convnet"})
    cases.push_back({name, make_model(name, ModelConfig{.seed = 5})});
  cases.push_back({"every_layer", model_from_json(kEveryLayer, 5)});
  cases.push_back({"other_forms", model_from_json(kOtherForms, 5)});
  for (Case& c : cases) {
    perturb_batchnorm(*c.model, 11);
    c.model->eval();
  }
  return cases;
}

// 200 Fashion-MNIST test images, or 200 generated ones when the data set is not installed.
const data::Dataset& test_images() {
  static const data::Dataset images = [] {
    if (fs::exists(fs::path(data::kFashionMnistDir) / "t10k-images-idx3-ubyte.gz")) {
      const data::Dataset test =
          data::load_fashion_mnist(data::kFashionMnistDir, data::Split::Test);
      std::vector<int64_t> first(200);
      for (int64_t i = 0; i < 200; ++i) first[static_cast<size_t>(i)] = i;
      return test.subset(first);
    }
    Generator gen(3);
    std::vector<uint8_t> pixels(200 * 28 * 28);
    for (uint8_t& p : pixels) p = static_cast<uint8_t>(gen.next_u64() % 256);
    return data::Dataset::from_uint8("generated", Shape{1, 28, 28}, std::move(pixels),
                                     std::vector<int64_t>(200, 0), {});
  }();
  return images;
}

// The raw pixels as floats (the exported graph's input contract) and nabla's probabilities,
// computed through the data loader's normalisation as `nabla eval` does.
std::vector<float> raw_pixels(const data::Dataset& images) {
  std::vector<float> out;
  for (int64_t i = 0; i < images.size(); ++i) {
    const uint8_t* p = images.uint8_sample(i);
    out.insert(out.end(), p, p + 28 * 28);
  }
  return out;
}
std::vector<float> nabla_probabilities(nn::Sequential& model, const data::Dataset& images) {
  const data::DataLoader loader(images,
                                data::DataLoaderOptions(images.size()).normalize(kFashionNorm));
  NoGradGuard no_grad;
  const Tensor out = model.forward(loader.epoch(0).batch(0).images);
  const bool ends_in_softmax = model[model.size() - 1]->name() == "Softmax";
  return floats(ends_in_softmax ? out : softmax(out, -1));
}

onnx::ExportOptions fashion_export() {
  return {.sample_shape = {1, 28, 28},
          .mean = kFashionNorm.mean,
          .std = kFashionNorm.std,
          .class_names = kFashionClasses};
}

std::string ort_dir() {
  const char* env = std::getenv("NABLA_ORT_DIR");
  return env ? env : NABLA_ORT_DIR;
}

// Why ONNX Runtime cannot run here, or "" when it can.
std::string ort_missing() {
  if (std::system("node --version > /dev/null 2>&1") != 0) return "node is not installed";
  const std::string probe = "NODE_PATH='" + ort_dir() +
                            "/node_modules' node -e \"require('onnxruntime-node')\" > /dev/null "
                            "2>&1";
  if (std::system(probe.c_str()) != 0)
    return "onnxruntime-node is not installed in " + ort_dir() +
           "/node_modules (scripts/setup.sh installs it; NABLA_ORT_DIR overrides the place)";
  return "";
}

TEST(OnnxExport, OnnxRuntimeGivesNablasProbabilities) {
  if (const std::string why = ort_missing(); !why.empty()) GTEST_SKIP() << why;
  const data::Dataset& images = test_images();
  const std::string input = scratch("images.f32");
  write_f32(input, raw_pixels(images));
  std::vector<Case> cases = exported_models();
  // One node process for every model: starting it and the runtime is the slow part.
  std::string command = "NODE_PATH='" + ort_dir() + "/node_modules' node '" NABLA_RUN_ORT "' '" +
                        input + "' " + std::to_string(images.size()) + ",1,28,28";
  for (Case& c : cases) {
    const std::string model = scratch(c.name + ".onnx");
    onnx::export_model(*c.model, model, fashion_export());
    command += " '" + model + "' '" + scratch(c.name + ".ort.f32") + "'";
  }
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<float> ort = read_f32(scratch(c.name + ".ort.f32"));
    const std::vector<float> ours = nabla_probabilities(*c.model, images);
    ASSERT_EQ(ort.size(), static_cast<size_t>(images.size() * 10));
    const double diff = max_difference(ort, ours);
    std::printf("[ %s ] ONNX Runtime vs nabla on %lld %s images: max |p diff| %.3g\n",
                c.name.c_str(), static_cast<long long>(images.size()), images.name().c_str(), diff);
    EXPECT_LE(diff, kTolerance);
  }
}

TEST(OnnxExport, OnnxCheckerAcceptsEveryExportedFile) {
  if (std::system("/usr/bin/python3 -c 'import onnx' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3-onnx is not installed (scripts/setup.sh installs it)";
  // One python for every file: importing onnx takes a second.
  std::string command =
      "/usr/bin/python3 -c 'import onnx, sys\n"
      "for f in sys.argv[1:]: onnx.checker.check_model(onnx.load(f), full_check=True)'";
  for (Case& c : exported_models()) {
    const std::string model = scratch(c.name + ".checked.onnx");
    onnx::export_model(*c.model, model, fashion_export());
    command += " '" + model + "'";
  }
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(OnnxExport, ImportGivesBackTheSameModel) {
  const data::Dataset& images = test_images();
  for (Case& c : exported_models()) {
    SCOPED_TRACE(c.name);
    const onnx::ImportedModel back = onnx::import_model_bytes(
        onnx::export_model_bytes(*c.model, fashion_export()), c.name + ".onnx");
    EXPECT_EQ(back.sample_shape, (std::vector<int64_t>{1, 28, 28}));
    ASSERT_EQ(back.input_mean.size(), 1u);
    EXPECT_FLOAT_EQ(back.input_mean[0], 0.2860f * 255);
    EXPECT_FLOAT_EQ(back.input_std[0], 0.3530f * 255);
    EXPECT_TRUE(back.ends_in_softmax);
    EXPECT_EQ(back.class_names, kFashionClasses);
    // The model's own layers come back, plus the Softmax the export appended (every_layer ends
    // in one already).
    EXPECT_EQ(back.model->size(), c.model->size() + (c.name == "every_layer" ? 0 : 1));
    EXPECT_EQ(max_difference(nabla_probabilities(*back.model, images),
                             nabla_probabilities(*c.model, images)),
              0.0);
  }
}

TEST(OnnxExport, LogitsWithoutNormalisationOnRequest) {
  auto model = make_model("mlp", ModelConfig{.seed = 1});
  const onnx::ImportedModel back = onnx::import_model_bytes(
      onnx::export_model_bytes(*model, {.sample_shape = {1, 28, 28}, .probabilities = false}),
      "mlp.onnx");
  EXPECT_TRUE(back.input_mean.empty());
  EXPECT_FALSE(back.ends_in_softmax);
  EXPECT_TRUE(back.class_names.empty());
  EXPECT_EQ(back.model->size(), model->size());
}

// A user's own module: no layer type, so no description and no ONNX form.
class Identity : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string name() const override { return "MyIdentity"; }
};

TEST(OnnxExport, RefusesALayerWithNoOnnxForm) {
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(nn::Flatten());
  model->push_back(std::make_shared<Identity>());
  try {
    onnx::export_model_bytes(*model, {.sample_shape = {1, 2, 2}});
    FAIL() << "exported a module with no layer type";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1 (MyIdentity) has no ONNX form"),
              std::string::npos)
        << e.what();
  }
}

// Each torch.onnx.export fixture (tests/fixtures/make_onnx_fixtures.py) imported and run on its
// fixed inputs gives PyTorch's probabilities.
TEST(OnnxImport, TorchExportsGivePyTorchsProbabilities) {
  for (const std::string name : {"mlp", "lenet_like", "every_layer", "matmul_opset11"}) {
    SCOPED_TRACE(name);
    const std::string base = std::string(NABLA_FIXTURE_DIR) + "/onnx/" + name;
    const onnx::ImportedModel m = onnx::import_model(base + ".onnx");
    EXPECT_TRUE(m.input_mean.empty());
    std::vector<int64_t> dims{8};
    dims.insert(dims.end(), m.sample_shape.begin(), m.sample_shape.end());
    const Tensor x = Tensor::from_vector(read_f32(base + ".input.f32"), Shape(dims));
    NoGradGuard no_grad;
    Tensor out = m.model->forward(x);
    if (!m.ends_in_softmax) out = softmax(out, -1);
    const double diff = max_difference(floats(out), read_f32(base + ".probs.f32"));
    std::printf("[ %s ] nabla vs PyTorch (torch.onnx.export): max |p diff| %.3g\n", name.c_str(),
                diff);
    EXPECT_LE(diff, kTolerance);
  }
}

TEST(OnnxImport, RefusesAnOperatorNablaHasNotNamingTheNode) {
  const std::string path = std::string(NABLA_FIXTURE_DIR) + "/onnx/unsupported_gelu.onnx";
  try {
    onnx::import_model(path);
    FAIL() << "imported GELU's Div and Erf";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unsupported_gelu.onnx: node 3"), std::string::npos) << what;
    EXPECT_NE(what.find("(Div): operator Div has no nabla layer"), std::string::npos) << what;
  }
}

TEST(OnnxImport, RefusesAGraphThatBranches) {
  const std::string path = std::string(NABLA_FIXTURE_DIR) + "/onnx/unsupported_branch.onnx";
  try {
    onnx::import_model(path);
    FAIL() << "imported a residual connection";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported_branch.onnx: node 2 '/1/Add' (Add): reads "
                                         "'/0/Flatten_output_0' rather than "
                                         "'/1/f/Gemm_output_0', the previous node's output; only "
                                         "a chain of nodes imports"),
              std::string::npos)
        << e.what();
  }
}

TEST(OnnxImport, RefusesWhatIsNotAModel) {
  try {
    onnx::import_model_bytes("not a protobuf \xff\xff", "junk.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("junk.onnx: not an ONNX model"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(onnx::import_model(scratch("absent.onnx")), Error);
}

}  // namespace
}  // namespace nabla
