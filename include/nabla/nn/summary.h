// A model summary as Keras's summary() and torchinfo give it: one row per layer (its place and
// type, output shape, parameters, multiply-adds), parameter totals, and the memory a batch
// takes. Computed from the layers' own descriptions (Module::describe, nabla/nn/layer.h), so a
// new layer type appears here without a line of this file changing.
//
// Memory rule (torchinfo's): activations are the sum over the rows of each output's numel for
// the whole batch times the element size of the model's dtype; backward keeps that much again
// (one gradient per output), so the forward/backward figure is twice the forward one. Nothing
// for the optimizer's state or for the temporaries inside a layer: an estimate, not a peak.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nabla::nn {

class Module;

struct SummaryRow {
  std::string name;             // dotted place in the model: "0", "features.3"
  std::string type;             // Module::name(): "Conv2d"
  std::vector<int64_t> output;  // batch dim first
  int64_t parameters = 0;       // values of its trainable tensors, as the description counts
  int64_t multiply_adds = 0;    // per sample
};

struct ModelSummary {
  std::vector<int64_t> input;  // batch dim first
  std::vector<SummaryRow> rows;
  int64_t total_parameters = 0;      // every parameter tensor's numel (frozen ones too)
  int64_t trainable_parameters = 0;  // of those that require grad
  int64_t multiply_adds = 0;         // per sample, all rows
  int64_t batch = 1;
  int64_t element_bytes = 4;     // of the model's dtype
  int64_t input_bytes = 0;       // one batch of input
  int64_t activation_bytes = 0;  // forward: every row's output for the batch
  int64_t parameter_bytes = 0;
  // Backward keeps a gradient per output: twice the forward activations.
  int64_t forward_backward_bytes() const { return 2 * activation_bytes; }
  int64_t estimated_total_bytes() const {
    return input_bytes + forward_backward_bytes() + parameter_bytes;
  }
};

// Runs per-sample `input` (e.g. {1, 28, 28}) through `model`'s layers in order: a layer with a
// description is a row; a Sequential is its children in order. Throws nabla::Error naming a
// module that neither describes itself nor is a Sequential, or a layer the shape does not fit.
ModelSummary summary(const Module& model, const std::vector<int64_t>& input, int64_t batch = 1);

// The table and totals as text, torchinfo's layout:
//   Layer (type)      Output shape        Param #   Mult-adds/sample
//   0 (Conv2d)        [64, 6, 28, 28]         156            117,600
std::string format_summary(const ModelSummary& summary);

}  // namespace nabla::nn
