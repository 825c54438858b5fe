// The presets as JSON descriptions: mlp, lenet5 and convnet. Each is a list of layers written
// out here and built by model_from_json, the one construction path (json_model.cpp).
#include <algorithm>
#include <functional>
#include <map>

#include "models/description.h"
#include "nabla/error.h"
#include "nabla/models.h"

namespace nabla {

using models_detail::Json;

namespace {

// Lays out layers while tracking the spatial size, so a 2×2 pool on an odd size gets PyTorch's
// floor_mode instead of an error, whatever the input size.
struct Builder {
  const ModelConfig& config;
  int64_t h, w;
  Json layers = Json::array();

  Builder(const ModelConfig& c) : config(c), h(c.height), w(c.width) {}

  void add(Json layer) { layers.push_back(std::move(layer)); }
  // A "same" convolution (stride 1, padding k/2) keeps h and w; padding 0 shrinks them.
  void conv(int64_t out_channels, int64_t kernel, int64_t padding, bool bias = true) {
    Json layer{{"type", "conv2d"}, {"out_channels", out_channels}, {"kernel_size", kernel}};
    if (padding) layer["padding"] = padding;
    if (!bias) layer["bias"] = false;
    add(std::move(layer));
    h += 2 * padding - kernel + 1;
    w += 2 * padding - kernel + 1;
  }
  void maxpool(int64_t kernel) {
    Json layer{{"type", "maxpool2d"}, {"kernel_size", kernel}};
    if (h % kernel || w % kernel) layer["floor_mode"] = true;
    add(std::move(layer));
    h /= kernel;
    w /= kernel;
  }
  void dropout(double p) {
    if (config.dropout) p = *config.dropout;
    if (p > 0) add({{"type", "dropout"}, {"p", p}});
  }
  void linear(int64_t out_features, bool bias = true) {
    Json layer{{"type", "linear"}, {"out_features", out_features}};
    if (!bias) layer["bias"] = false;
    add(std::move(layer));
  }
  void layer(const char* type) { add({{"type", type}}); }
};

// Flatten, 256, ReLU, 256, ReLU, num_classes: CS231n's two-layer-deep fully connected net.
void mlp(Builder& b) {
  b.layer("flatten");
  for (int i = 0; i < 2; ++i) {
    b.linear(256);
    b.layer("relu");
    if (b.config.dropout) b.dropout(0);  // only when asked for
  }
  b.linear(b.config.num_classes);
}

// LeCun et al. 1998, with ReLU and max pooling as usually taught: 61,706 parameters for
// 28×28×1 (the first conv's padding 2 makes a 28×28 input act like the original 32×32).
void lenet5(Builder& b) {
  b.conv(6, 5, 2);
  b.layer("relu");
  b.maxpool(2);
  b.conv(16, 5, 0);
  b.layer("relu");
  b.maxpool(2);
  b.layer("flatten");
  b.linear(120);
  b.layer("relu");
  b.linear(84);
  b.layer("relu");
  b.linear(b.config.num_classes);
}

// Two VGG-style blocks (two 3×3 convs with batch norm, then a 2×2 max pool and dropout), then a
// batch-normalised hidden layer of 256. Convolutions and the hidden Linear before a batch norm
// have no bias: the norm's own bias (β) takes its place.
void convnet(Builder& b) {
  for (int64_t channels : {32, 64}) {
    for (int i = 0; i < 2; ++i) {
      b.conv(channels, 3, 1, /*bias=*/false);
      b.layer("batchnorm2d");
      b.layer("relu");
    }
    b.maxpool(2);
    b.dropout(0.25);
  }
  b.layer("flatten");
  b.linear(256, /*bias=*/false);
  b.layer("batchnorm1d");
  b.layer("relu");
  b.dropout(0.5);
  b.linear(b.config.num_classes);
}

const std::map<std::string, std::function<void(Builder&)>>& presets() {
  static const std::map<std::string, std::function<void(Builder&)>> table{
      {"mlp", mlp}, {"lenet5", lenet5}, {"convnet", convnet}};
  return table;
}

}  // namespace

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names{"mlp", "lenet5", "convnet"};
  return names;
}

std::string preset_json(const std::string& name, const ModelConfig& config) {
  auto it = presets().find(name);
  if (it == presets().end()) {
    std::string valid;
    for (const std::string& n : preset_names()) valid += (valid.empty() ? "" : ", ") + n;
    detail::throw_error("make_model: unknown preset '", name, "'; valid presets: ", valid);
  }
  NABLA_CHECK(config.in_channels > 0 && config.height > 0 && config.width > 0, "make_model(", name,
              "): input ", config.in_channels, "×", config.height, "×", config.width,
              " must have positive sizes");
  NABLA_CHECK(config.num_classes > 0, "make_model(", name, "): num_classes ", config.num_classes,
              " must be positive");
  NABLA_CHECK(!config.dropout || (*config.dropout >= 0 && *config.dropout < 1), "make_model(", name,
              "): dropout ", config.dropout.value_or(0), " must lie in [0, 1)");
  Builder builder(config);
  it->second(builder);
  Json description{{"name", name},
                   {"input", {config.in_channels, config.height, config.width}},
                   {"layers", std::move(builder.layers)}};
  return models_detail::format_description(description);
}

std::shared_ptr<nn::Sequential> make_model(const std::string& name, const ModelConfig& config) {
  return model_from_json(preset_json(name, config), config.seed, "make_model(" + name + ")");
}

}  // namespace nabla
