// Model presets and JSON model descriptions: one way to build a network from data.
//
// A description names the input of one sample and the layers of an nn::Sequential:
//
//   {"input": [1, 28, 28],
//    "layers": [{"type": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2},
//               {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
//               {"type": "flatten"}, {"type": "linear", "out_features": 10}]}
//
// Layer types are the nn module names in lower case (conv2d, linear, maxpool2d, batchnorm2d,
// ...) and fields their option names; in_channels, in_features and num_features are inferred by
// running the shape through the layers (and checked when given). The presets are such
// descriptions, built from a ModelConfig, so there is one construction path; the trainer keeps
// the description in its checkpoints to rebuild the model. docs/models.md lists every field.
//
// Errors are nabla::Error naming the source, the layer index and type, and the field:
//   model.json: layers[3] (linear): unknown field 'out_feature' (did you mean 'out_features'?)
//
// The JSON library stays inside src/models/: nothing here exposes it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nabla/nn/sequential.h"

namespace nabla {

struct ModelConfig {
  int64_t in_channels = 1;  // of one input image
  int64_t height = 28;
  int64_t width = 28;
  int64_t num_classes = 10;  // outputs of the last layer (logits)
  // Overrides the probability of every dropout layer of the preset; 0 removes them. For "mlp",
  // which has none, a positive value adds one after each hidden ReLU.
  std::optional<double> dropout = std::nullopt;
  uint64_t seed = 0;  // initial weights and dropout masks
};

// The presets' names: "mlp", "lenet5", "convnet" (see docs/models.md for their layers).
const std::vector<std::string>& preset_names();

// The JSON description of a preset for `config` (the seed is not part of it).
std::string preset_json(const std::string& name, const ModelConfig& config = {});

// model_from_json(preset_json(name, config), config.seed): layers named "0", "1", ... so
// parameters read "0.weight", "0.bias", ... as in PyTorch's state_dict of an nn.Sequential.
std::shared_ptr<nn::Sequential> make_model(const std::string& name, const ModelConfig& config = {});

// Builds the model a description names, in float32, its initial values drawn from a Generator
// seeded with `seed`. `source` prefixes error messages (a file path, or "model.json").
// Throws nabla::Error on invalid JSON (with the byte offset), unknown or mistyped fields, and
// layers that do not fit the shape reaching them.
std::shared_ptr<nn::Sequential> model_from_json(const std::string& text, uint64_t seed = 0,
                                                const std::string& source = "model.json");

// The per-sample output shape of a description, e.g. {10}, without building the model.
std::vector<int64_t> model_output_shape(const std::string& text,
                                        const std::string& source = "model.json");

// Describes a Sequential of the supported layer types for per-sample `input` (e.g. {1, 28, 28}),
// one layer per line. model_from_json of the result builds the same architecture (checked:
// throws when `input` does not fit the model, or for a layer the format cannot describe).
std::string model_to_json(const nn::Module& model, const std::vector<int64_t>& input);

}  // namespace nabla
