#include "nabla/nn/summary.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>

#include "nabla/error.h"
#include "nabla/memory.h"
#include "nabla/nn/layer.h"
#include "nabla/nn/module.h"

namespace nabla::nn {

namespace {

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Adds `module`'s rows and returns the shape it makes of `input` (batch dim first).
std::vector<int64_t> add_rows(const Module& module, const std::string& name,
                              std::vector<int64_t> input, std::vector<SummaryRow>& rows) {
  if (module.layer_type() != nullptr) {
    LayerShape shape = module.describe(input);
    rows.push_back({name, module.name(), shape.output, shape.parameters, shape.multiply_adds});
    return shape.output;
  }
  // A Sequential feeds each child the previous one's output; any other container may route
  // its input otherwise, which no description says, so it is refused rather than guessed.
  NABLA_CHECK(module.name() == "Sequential" && !module.named_children().empty(),
              "summary: ", name.empty() ? std::string("the model") : "layer '" + name + "'",
              " is a ", module.name(),
              ", which neither describes itself (nabla/nn/layer.h) nor is a Sequential of layers "
              "that do");
  for (const auto& [child_name, child] : module.named_children())
    input = add_rows(*child, name.empty() ? child_name : name + "." + child_name, input, rows);
  return input;
}

// "61,706": digits in groups of three, as Keras and torchinfo print counts.
std::string grouped(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string bytes_text(int64_t bytes) {
  return format_bytes(static_cast<size_t>(bytes)) + " (" + grouped(bytes) + " bytes)";
}

}  // namespace

ModelSummary summary(const Module& model, const std::vector<int64_t>& input, int64_t batch) {
  NABLA_CHECK(batch >= 1, "summary: the batch must be at least 1, got ", batch);
  NABLA_CHECK(!input.empty(), "summary: the input shape of one sample is empty");
  ModelSummary s;
  s.batch = batch;
  s.input = input;
  s.input.insert(s.input.begin(), batch);
  add_rows(model, "", s.input, s.rows);

  const std::vector<Tensor> parameters = model.parameters();
  if (!parameters.empty())
    s.element_bytes = static_cast<int64_t>(dtype_size(parameters[0].dtype()));
  for (const Tensor& p : parameters) {
    s.total_parameters += p.numel();
    if (p.requires_grad()) s.trainable_parameters += p.numel();
    s.parameter_bytes += p.numel() * static_cast<int64_t>(dtype_size(p.dtype()));
  }
  for (const SummaryRow& row : s.rows) {
    s.multiply_adds += row.multiply_adds;
    s.activation_bytes += numel(row.output) * s.element_bytes;
  }
  s.input_bytes = numel(s.input) * s.element_bytes;
  return s;
}

std::string format_summary(const ModelSummary& s) {
  std::vector<std::array<std::string, 4>> cells;
  cells.push_back({"Layer (type)", "Output shape", "Param #", "Mult-adds/sample"});
  for (const SummaryRow& row : s.rows)
    cells.push_back({row.name + " (" + row.type + ")", per_sample_str(row.output),
                     row.parameters ? grouped(row.parameters) : "-",
                     row.multiply_adds ? grouped(row.multiply_adds) : "-"});
  std::array<size_t, 4> width{};
  for (const auto& line : cells)
    for (size_t c = 0; c < 4; ++c) width[c] = std::max(width[c], line[c].size());
  const size_t total_width = width[0] + width[1] + width[2] + width[3] + 6;
  const std::string rule(total_width, '='), thin(total_width, '-');

  std::string out = rule + "\n";
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& line = cells[i];
    // Names and shapes read left to right, counts line up on their last digit.
    out += line[0] + std::string(width[0] - line[0].size() + 2, ' ') + line[1] +
           std::string(width[1] - line[1].size() + 2, ' ') +
           std::string(width[2] - line[2].size(), ' ') + line[2] + "  " +
           std::string(width[3] - line[3].size(), ' ') + line[3] + "\n";
    if (i == 0) out += thin + "\n";
  }
  out += rule + "\n";
  out += "Input: " + per_sample_str(s.input) + "\n";
  out += "Total params: " + grouped(s.total_parameters) + "\n";
  out += "Trainable params: " + grouped(s.trainable_parameters) + "\n";
  out += "Non-trainable params: " + grouped(s.total_parameters - s.trainable_parameters) + "\n";
  out += "Total mult-adds: " + grouped(s.multiply_adds) + " per sample, " +
         grouped(s.multiply_adds * s.batch) + " per batch of " + grouped(s.batch) + "\n";
  out += thin + "\n";
  out += "Input size: " + bytes_text(s.input_bytes) + "\n";
  out += "Forward pass size: " + bytes_text(s.activation_bytes) +
         " (every layer's output for the batch)\n";
  out += "Forward/backward pass size: " + bytes_text(s.forward_backward_bytes()) +
         " (backward keeps a gradient per output)\n";
  out += "Params size: " + bytes_text(s.parameter_bytes) + "\n";
  out += "Estimated total size: " + bytes_text(s.estimated_total_bytes()) + "\n";
  out += rule + "\n";
  return out;
}

}  // namespace nabla::nn
