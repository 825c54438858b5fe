// Dataset: labelled samples held in memory, and cheap views of them (subsets, splits).
//
// Samples keep the type they were stored in: 8-bit images (MNIST, Fashion-MNIST, CIFAR-10) stay
// uint8, (N, C, H, W), a quarter of the memory of float32; tabular data (CSV) is float32, (N, F).
// Conversion to normalised float32 happens per batch, in the DataLoader.
//
// A Dataset is a handle: the samples live in one shared, immutable store, and a Dataset is that
// store plus the list of sample indices it shows. first(), subset() and train_val_split() make new
// index lists, never copies of the samples.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nabla/normalization.h"
#include "nabla/shape.h"

namespace nabla::data {

class Dataset {
 public:
  Dataset() = default;  // empty, no samples

  // Takes the samples (row-major, N · numel(sample_shape) values) and one label per sample.
  // requires: labels[i] in [0, class_names.size()) (else throws, naming i and the label);
  //           samples.size() == labels.size() · sample_shape.numel();
  //           from_float: every sample value finite (else throws, naming the sample and feature).
  // `name` prefixes error messages ("fashion-mnist", a CSV path, ...).
  static Dataset from_uint8(std::string name, const Shape& sample_shape,
                            std::vector<uint8_t> samples, std::vector<int64_t> labels,
                            std::vector<std::string> class_names);
  static Dataset from_float(std::string name, const Shape& sample_shape, std::vector<float> samples,
                            std::vector<int64_t> labels, std::vector<std::string> class_names);

  // Number of samples in this view.
  int64_t size() const { return static_cast<int64_t>(indices_.size()); }
  bool empty() const { return indices_.empty(); }
  const std::string& name() const;
  // (C, H, W) for images, (F) for tabular data.
  const Shape& sample_shape() const;
  // sample_shape()[0]: normalisation is per channel (per feature for tabular data).
  int64_t channels() const { return sample_shape()[0]; }
  int64_t num_classes() const { return static_cast<int64_t>(class_names().size()); }
  const std::vector<std::string>& class_names() const;
  // 8-bit data is scaled by 1/255 when converted; float data is taken as it is.
  bool is_uint8() const;

  // The i-th sample of this view, 0 <= i < size().
  int64_t label(int64_t i) const;
  const uint8_t* uint8_sample(int64_t i) const;  // requires is_uint8()
  const float* float_sample(int64_t i) const;    // requires !is_uint8()
  // Position of this view's i-th sample in the underlying store (stable across views).
  int64_t source_index(int64_t i) const { return indices_[check_index(i)]; }

  // The first n samples (all of them if n >= size()).
  Dataset first(int64_t n) const;
  // The samples at `indices` of this view, in that order (repeats allowed).
  Dataset subset(const std::vector<int64_t>& indices) const;

 private:
  struct Store;
  // The part of from_uint8 and from_float that does not depend on the sample type: checks,
  // the shared store (set_samples moves the samples in), and a view of all of it.
  static Dataset make(std::string name, const Shape& sample_shape, size_t values,
                      std::vector<int64_t> labels, std::vector<std::string> class_names,
                      const std::function<void(Store&)>& set_samples);
  int64_t check_index(int64_t i) const;
  std::shared_ptr<const Store> store_;
  std::vector<int64_t> indices_;
};

// A random split into training and validation samples: disjoint, together all of the input,
// each in the input's order. The same seed gives the same split.
struct TrainVal {
  Dataset train;
  Dataset val;
};
// val gets round(val_fraction · size) samples, val_fraction in [0, 1).
TrainVal train_val_split(const Dataset& dataset, double val_fraction, uint64_t seed);
// val gets exactly val_count samples, 0 <= val_count < size.
TrainVal train_val_split_count(const Dataset& dataset, int64_t val_count, uint64_t seed);

// Per-channel statistics for (x - mean) / std (nabla/normalization.h: the formula, shared with
// load_model). For 8-bit data they are on the [0, 1] scale (pixel / 255), as torchvision's
// ToTensor + Normalize use them. Empty vectors: no normalisation.
using Normalization = nabla::Normalization;
// Mean and (population) standard deviation of each channel over every sample of `train`,
// accumulated in double. A constant channel gets std 1, so it is centred but not blown up.
// Compute it on the training split only, and apply the same numbers to validation and test data.
Normalization compute_normalization(const Dataset& train);

}  // namespace nabla::data
