// nabla::onnx: a Sequential out to an ONNX model, and an ONNX model in as a Sequential
// (docs/onnx.md has the operator table both ways and the input contract).
//
//   onnx::export_model(*model, "model.onnx", {.sample_shape = {1, 28, 28},
//                                             .mean = {0.286f}, .std = {0.353f}});
//   onnx::ImportedModel m = onnx::import_model("model.onnx");   // m.model->forward(x)
//
// The file format is ONNX's own schema (onnx.proto, compiled by protoc); protobuf stays inside
// src/onnx/. Errors are nabla::Error naming the layer (export) or the node (import).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/nn/sequential.h"

namespace nabla::onnx {

// The opset the exporter writes (ReduceMax still takes its axes as an attribute in 13).
inline constexpr int64_t kExportOpset = 13;

struct ExportOptions {
  // One sample's shape: (C, H, W) for images, (F) for feature vectors. The graph input is
  // float32 [N, ...sample_shape] with a symbolic batch dim "N".
  std::vector<int64_t> sample_shape;
  // The training normalisation per channel, on values divided by input_scale; empty: none. It is
  // written as the first two nodes, Sub(mean · input_scale) and Div(std · input_scale), so the
  // graph takes raw values (pixels 0..255 when input_scale is 255).
  std::vector<float> mean{};
  std::vector<float> std{};
  float input_scale = 255.0f;
  // true: the output "probabilities" is a Softmax over the last dim (not added after a model
  // that already ends in softmax); false: the output "logits" is the last layer's.
  bool probabilities = true;
  // Written as the model's metadata "nabla.class_names", one name a line; import_model reads
  // them back.
  std::vector<std::string> class_names{};
  std::string producer = "nabla";
};

// Writes `model` (a Sequential of the layer types nn::layer_types() lists) as an ONNX file.
// Throws nabla::Error naming a layer with no ONNX form, or a shape the layers do not accept.
void export_model(const nn::Sequential& model, const std::string& path,
                  const ExportOptions& options);
// The same model as the bytes of a ModelProto.
std::string export_model_bytes(const nn::Sequential& model, const ExportOptions& options);

struct ImportedModel {
  std::shared_ptr<nn::Sequential> model;  // float32, in eval mode, layers named "0", "1", ...
  std::string description;                // its JSON description (nabla/models.h)
  std::vector<int64_t> sample_shape;      // the graph input's shape without the batch dim
  // Leading Sub and Div nodes by per-channel constants, in the input's units (the exporter's
  // mean · input_scale and std · input_scale); empty when the graph has none.
  std::vector<float> input_mean;
  std::vector<float> input_std;
  bool ends_in_softmax = false;          // the last node was a Softmax: the output is probabilities
  std::vector<std::string> class_names;  // from the metadata "nabla.class_names"; else empty
};

// Reads an ONNX file whose nodes form one chain of the operators docs/onnx.md lists (Conv,
// Gemm, MatMul + Add, Relu, ..., Softmax, LogSoftmax; Constant and Identity are folded).
// Throws nabla::Error naming the file and the first node that has no nabla layer, with its op.
ImportedModel import_model(const std::string& path);
ImportedModel import_model_bytes(const std::string& bytes, const std::string& source);

}  // namespace nabla::onnx
