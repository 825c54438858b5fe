// Internal to src/core/nn/: the shape checks the layer descriptions share (each layer's infer, in
// its module's .cpp). They throw nabla::Error without a location; the description reader
// prefixes the layer's place ("model.json: layers[3] (linear): ...").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/nn/layer.h"

namespace nabla::nn::layer_checks {

using PerSample = std::vector<int64_t>;  // one sample's shape, without the batch dim

// Requires `rank` dims: "expects a per-sample input [C, H, W] but gets [10]" and the hint.
void expect_rank(const PerSample& s, size_t rank, const char* layout, const char* hint = "");

// The output extent of one spatial dim, with conv2d's rule, or an error naming kernel_size and
// the input.
int64_t out_extent(const PerSample& s, const char* dim, int64_t size, int64_t kernel, int64_t pad,
                   int64_t stride, int64_t dilation, bool floor_mode);

// The inferred field `name` is `value`: checked against what the config gives, then set.
int64_t infer_field(LayerConfig& config, const char* name, int64_t value, const PerSample& s);

// Normalises a dim over the full rank (batch dim included), or fails naming the field.
int64_t full_dim(const char* name, int64_t d, const PerSample& s);

// The shape kept: for layers that do not change it.
LayerShape same_shape(LayerConfig&, const PerSample& s);

// A count computed in double (so that huge fields cannot overflow before the reader's size guard
// rejects them), saturated to int64_t.
int64_t count(double value);

// The module for `options`, its initial values drawn from `gen`, which it does not keep: the
// generator lives only while building.
template <class M, class Options>
std::shared_ptr<Module> make_drawing_from(Options options, Generator& gen) {
  auto layer = std::make_shared<M>(options.generator(&gen));
  layer->options.generator(nullptr);
  return layer;
}

// The module of a layer type without fields.
template <class M>
std::shared_ptr<Module> make_plain(const LayerConfig&, Generator&) {
  return std::make_shared<M>();
}

}  // namespace nabla::nn::layer_checks
