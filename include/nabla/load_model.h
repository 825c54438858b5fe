// A trained model as one self-describing file: its weights, and in the safetensors header the
// model description, the class names and the input normalisation (docs/checkpoints.md, "A model
// file"). load_model rebuilds it and takes raw images:
//
//   nabla::LoadedModel m = nabla::load_model("runs/lenet/best/model.safetensors");
//   std::vector<uint8_t> pixels = ...;                          // 28 x 28 gray, 0..255
//   std::vector<double> p = m.predict(pixels, {28, 28});         // one probability per class
//   std::printf("%s\n", m.class_names()[argmax(p)].c_str());
//
// A path may be the file, a checkpoint directory (its model.safetensors) or a run directory (its
// best/, final/ or last/ checkpoint, in that order). A PyTorch state dict carries no description:
// LoadModelOptions::model gives it. Files written before the card existed still load: their
// trainer's config ("nabla.config", or trainer_state.json beside the file) holds the same facts.
//
// The format is told by the file's content, not its name; other formats (ONNX) plug in with
// register_model_format.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nabla/arg.h"
#include "nabla/error.h"
#include "nabla/io/safetensors.h"
#include "nabla/nn/sequential.h"
#include "nabla/normalization.h"
#include "nabla/tensor.h"

namespace nabla {

// What a weights file says about its model besides the weights.
struct ModelCard {
  std::string description;               // the JSON model description (nabla/models.h)
  std::vector<std::string> class_names;  // one per output
  std::vector<int64_t> input_shape;      // of one sample: (C, H, W) images or (F) features
  Normalization normalization;           // of the inputs in training; empty: none
};

// The card as __metadata__ entries "nabla.model" (the description), "nabla.classes" (a JSON
// array of strings) and "nabla.input" ({"shape", "channels", "pixel_scale", "mean", "std"}).
io::Metadata model_card_metadata(const ModelCard& card);

// The __metadata__ entry in which a checkpoint's model.safetensors holds the trainer's config
// (io::save_checkpoint writes it; read_model_card and the application read it).
inline constexpr const char* kConfigMetadataKey = "nabla.config";

// The card in a file's metadata: its "nabla.model" entries, else the trainer's "nabla.config"
// (files written before the card); nullopt when the file has neither. Throws, naming `source` and
// the entry, when an entry is malformed.
std::optional<ModelCard> read_model_card(const io::Metadata& metadata, const std::string& source);

// The module's state dict with its card, one safetensors file (written atomically).
void save_model(const std::string& path, const nn::Module& module, const ModelCard& card);

// Thrown by load_model for weights without a description when none was given.
class NoModelDescription : public Error {
 public:
  using Error::Error;
};

struct LoadModelOptions {
  // The architecture, for files without a description or to override it: a JSON description or
  // a preset name ("lenet5"; its class count is read from the file's last tensor).
  NABLA_ARG(std::string, model) = "";
  // The input's shape for a preset (default: its own, 1 x 28 x 28).
  NABLA_ARG(std::vector<int64_t>, input_shape) = {};
  // The normalisation, for files that carry none (a refusal otherwise: the model was trained
  // with its own).
  NABLA_ARG(std::optional<Normalization>, normalization) = std::nullopt;
  // The class names, for files that carry none (default: "0", "1", ...).
  NABLA_ARG(std::vector<std::string>, class_names) = {};
};

// A model rebuilt from a file, in eval mode, ready for raw inputs.
class LoadedModel {
 public:
  LoadedModel(std::string path, std::shared_ptr<nn::Sequential> module, ModelCard card,
              io::Metadata metadata = {});

  const std::string& path() const { return path_; }  // the file read
  const ModelCard& card() const { return card_; }
  const std::vector<std::string>& class_names() const { return card_.class_names; }
  const std::vector<int64_t>& input_shape() const { return card_.input_shape; }
  const Normalization& normalization() const { return card_.normalization; }
  nn::Sequential& module() const { return *module_; }
  const std::shared_ptr<nn::Sequential>& shared_module() const { return module_; }
  const io::Metadata& metadata() const { return metadata_; }  // the file's, all of it

  // Raw samples as the model's input (N, input_shape...), normalised as in training: 8-bit
  // pixels are divided by 255, float values taken as they are (pixels in [0, 1], or the
  // features a data set stores), then (x - mean) / std per channel. `shape` is one sample's,
  // (C, H, W) or for one channel (H, W), or those with a leading N for N samples. Throws naming
  // both shapes when it is not the model's input.
  Tensor prepare(const uint8_t* pixels, const std::vector<int64_t>& shape) const;
  Tensor prepare(const float* values, const std::vector<int64_t>& shape) const;

  // Softmax of the model's logits for prepared inputs (N, ...): (N, classes), no graph.
  Tensor probabilities(const Tensor& prepared) const;

  // prepare + probabilities: N x classes probabilities, row by row.
  std::vector<double> predict(const std::vector<uint8_t>& pixels,
                              const std::vector<int64_t>& shape) const;
  std::vector<double> predict(const std::vector<float>& values,
                              const std::vector<int64_t>& shape) const;

 private:
  // The number of samples `shape` holds (0 when it is not the model's input).
  int64_t samples_in(const std::vector<int64_t>& shape, size_t numel) const;
  template <class T>
  Tensor prepare_values(const T* values, const std::vector<int64_t>& shape, size_t numel) const;

  std::string path_;
  std::shared_ptr<nn::Sequential> module_;
  ModelCard card_;
  io::Metadata metadata_;
};

// Reads the model at `path` (a file, a checkpoint directory or a run directory; see above).
// Throws NoModelDescription for weights without a description and options.model() empty, and
// nabla::Error naming the key and both shapes when the description does not fit the weights,
// every missing and unexpected key, and the file and byte offset of a corrupt file.
LoadedModel load_model(const std::string& path, const LoadModelOptions& options = {});

// Another model file format: `recognises` looks at the file's first bytes (up to 16) and `load`
// reads it. load_model tries the registered formats after safetensors, in registration order.
struct ModelFormat {
  std::string name;
  std::function<bool(const std::string& first_bytes)> recognises;
  std::function<LoadedModel(const std::string& file, const LoadModelOptions&)> load;
};
void register_model_format(ModelFormat format);

// The file load_model reads for `path`: the path itself, a checkpoint directory's
// model.safetensors, or a run directory's best/, final/ or last/ checkpoint's.
std::string model_file(const std::string& path);

// The checkpoint directory a run directory stands for (its best/, final/ or last/), or `path`.
std::string checkpoint_in(const std::string& path);

}  // namespace nabla
