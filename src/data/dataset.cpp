// Dataset store and views, train/validation splits, per-channel statistics.
#include "nabla/data/dataset.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <sstream>

#include "data/seed.h"
#include "nabla/error.h"
#include "nabla/random.h"

namespace nabla::data {

struct Dataset::Store {
  std::string name;
  Shape sample_shape;
  int64_t sample_numel = 0;
  std::vector<uint8_t> u8;  // N · sample_numel, when 8-bit
  std::vector<float> f32;   // N · sample_numel, otherwise
  bool is_uint8 = true;
  std::vector<int64_t> labels;
  std::vector<std::string> class_names;
};

namespace {

void check_store(const std::string& name, const Shape& sample_shape, size_t values,
                 const std::vector<int64_t>& labels, const std::vector<std::string>& classes) {
  NABLA_CHECK(sample_shape.size() >= 1 && sample_shape.numel() > 0, name,
              ": sample shape must have at least one dim and no zero extent, got ", sample_shape);
  NABLA_CHECK(!classes.empty(), name, ": a dataset needs at least one class");
  NABLA_CHECK(values == labels.size() * static_cast<size_t>(sample_shape.numel()), name, ": ",
              labels.size(), " labels and samples of shape ", sample_shape, " need ",
              labels.size() * static_cast<size_t>(sample_shape.numel()), " values, got ", values);
  auto n_classes = static_cast<int64_t>(classes.size());
  for (size_t i = 0; i < labels.size(); ++i)
    NABLA_CHECK(labels[i] >= 0 && labels[i] < n_classes, name, ": label ", labels[i], " of sample ",
                i, " is outside [0, ", n_classes, ")");
}

// "7" for 1-d samples, "[0, 1, 3]" otherwise: the position of flat element `flat` of a sample.
std::string feature_index(int64_t flat, const Shape& sample_shape) {
  if (sample_shape.size() == 1) return std::to_string(flat);
  std::vector<int64_t> index(sample_shape.size());
  for (int d = sample_shape.size(); d-- > 0;) {
    index[d] = flat % sample_shape[d];
    flat /= sample_shape[d];
  }
  std::ostringstream s;
  s << Shape(index);
  return s.str();
}

// NaN or infinite features would turn every loss computed on them into NaN many steps later;
// refuse them at load time, naming the sample and the feature.
void check_finite(const std::string& name, const Shape& sample_shape,
                  const std::vector<float>& samples) {
  const auto numel = static_cast<size_t>(sample_shape.numel());
  for (size_t i = 0; i < samples.size(); ++i) {
    if (std::isfinite(samples[i])) [[likely]]
      continue;
    const float v = samples[i];
    nabla::detail::throw_error(name, ": sample ", i / numel, " feature ",
                               feature_index(static_cast<int64_t>(i % numel), sample_shape),
                               " (of sample shape ", sample_shape, ") is ",
                               std::isnan(v) ? "NaN"
                               : v > 0       ? "+inf"
                                             : "-inf",
                               "; NaN and infinite features are not allowed");
  }
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

}  // namespace

Dataset Dataset::make(std::string name, const Shape& sample_shape, size_t values,
                      std::vector<int64_t> labels, std::vector<std::string> class_names,
                      const std::function<void(Store&)>& set_samples) {
  check_store(name, sample_shape, values, labels, class_names);
  auto store = std::make_shared<Store>();
  store->name = std::move(name);
  store->sample_shape = sample_shape;
  store->sample_numel = sample_shape.numel();
  set_samples(*store);
  store->labels = std::move(labels);
  store->class_names = std::move(class_names);
  Dataset d;
  d.indices_ = iota(static_cast<int64_t>(store->labels.size()));
  d.store_ = std::move(store);
  return d;
}

Dataset Dataset::from_uint8(std::string name, const Shape& sample_shape,
                            std::vector<uint8_t> samples, std::vector<int64_t> labels,
                            std::vector<std::string> class_names) {
  const size_t values = samples.size();
  return make(std::move(name), sample_shape, values, std::move(labels), std::move(class_names),
              [&](Store& store) {
                store.u8 = std::move(samples);
                store.is_uint8 = true;
              });
}

Dataset Dataset::from_float(std::string name, const Shape& sample_shape, std::vector<float> samples,
                            std::vector<int64_t> labels, std::vector<std::string> class_names) {
  const size_t values = samples.size();
  check_store(name, sample_shape, values, labels, class_names);
  check_finite(name, sample_shape, samples);
  return make(std::move(name), sample_shape, values, std::move(labels), std::move(class_names),
              [&](Store& store) {
                store.f32 = std::move(samples);
                store.is_uint8 = false;
              });
}

const std::string& Dataset::name() const {
  static const std::string kEmpty = "empty dataset";
  return store_ ? store_->name : kEmpty;
}

const Shape& Dataset::sample_shape() const {
  NABLA_CHECK(store_, "Dataset: sample_shape() of an empty (default-constructed) dataset");
  return store_->sample_shape;
}

const std::vector<std::string>& Dataset::class_names() const {
  NABLA_CHECK(store_, "Dataset: class_names() of an empty (default-constructed) dataset");
  return store_->class_names;
}

bool Dataset::is_uint8() const {
  return store_ && store_->is_uint8;
}

int64_t Dataset::check_index(int64_t i) const {
  NABLA_CHECK(i >= 0 && i < size(), name(), ": sample index ", i, " is outside [0, ", size(), ")");
  return i;
}

int64_t Dataset::label(int64_t i) const {
  return store_->labels[indices_[check_index(i)]];
}

const uint8_t* Dataset::uint8_sample(int64_t i) const {
  NABLA_CHECK(is_uint8(), name(), ": uint8_sample() on float data; use float_sample()");
  return store_->u8.data() + indices_[check_index(i)] * store_->sample_numel;
}

const float* Dataset::float_sample(int64_t i) const {
  NABLA_CHECK(store_ && !store_->is_uint8, name(),
              ": float_sample() on uint8 data; use uint8_sample()");
  return store_->f32.data() + indices_[check_index(i)] * store_->sample_numel;
}

Dataset Dataset::first(int64_t n) const {
  NABLA_CHECK(n >= 0, name(), ": first(", n, "): n must be >= 0");
  Dataset d = *this;
  d.indices_.resize(std::min<size_t>(static_cast<size_t>(n), indices_.size()));
  return d;
}

Dataset Dataset::subset(const std::vector<int64_t>& indices) const {
  Dataset d;
  d.store_ = store_;
  d.indices_.reserve(indices.size());
  for (int64_t i : indices) d.indices_.push_back(indices_[check_index(i)]);
  return d;
}

TrainVal train_val_split_count(const Dataset& dataset, int64_t val_count, uint64_t seed) {
  int64_t n = dataset.size();
  NABLA_CHECK(val_count >= 0 && val_count < n, dataset.name(), ": validation count ", val_count,
              " must be in [0, ", n, ") so that training keeps at least one sample");
  // Fisher-Yates on positions; the first val_count go to validation.
  std::vector<int64_t> perm = iota(n);
  Generator gen(detail::derive_seed({seed, detail::kSplit}));
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(perm[i], perm[gen.below(static_cast<uint64_t>(i + 1))]);
  std::vector<int64_t> val(perm.begin(), perm.begin() + val_count);
  std::vector<int64_t> train(perm.begin() + val_count, perm.end());
  // Each part in the input's order: sequential reads, and the split is easy to inspect.
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {dataset.subset(train), dataset.subset(val)};
}

TrainVal train_val_split(const Dataset& dataset, double val_fraction, uint64_t seed) {
  NABLA_CHECK(val_fraction >= 0 && val_fraction < 1, dataset.name(), ": validation fraction ",
              val_fraction, " must be in [0, 1)");
  auto val_count = static_cast<int64_t>(std::llround(val_fraction * dataset.size()));
  return train_val_split_count(dataset, std::min(val_count, dataset.size() - 1), seed);
}

Normalization compute_normalization(const Dataset& train) {
  NABLA_CHECK(!train.empty(), train.name(), ": cannot compute normalisation of 0 samples");
  int64_t C = train.channels();
  int64_t plane = train.sample_shape().numel() / C;
  std::vector<double> sum(C, 0.0), sq(C, 0.0);
  if (train.is_uint8()) {
    // A histogram per channel: exact integer counts, and the sums come from 256 bins.
    std::vector<std::array<uint64_t, 256>> hist(C);
    for (auto& h : hist) h.fill(0);
    for (int64_t i = 0; i < train.size(); ++i) {
      const uint8_t* p = train.uint8_sample(i);
      for (int64_t c = 0; c < C; ++c) {
        uint64_t* h = hist[c].data();
        const uint8_t* q = p + c * plane;
        for (int64_t k = 0; k < plane; ++k) ++h[q[k]];
      }
    }
    for (int64_t c = 0; c < C; ++c)
      for (int v = 0; v < 256; ++v) {
        double x = v / 255.0, count = static_cast<double>(hist[c][v]);
        sum[c] += count * x;
        sq[c] += count * x * x;
      }
  } else {
    // Two passes (mean, then squared deviations) to avoid cancellation on data far from 0.
    for (int64_t i = 0; i < train.size(); ++i) {
      const float* p = train.float_sample(i);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t k = 0; k < plane; ++k) sum[c] += p[c * plane + k];
    }
  }
  double count = static_cast<double>(train.size()) * static_cast<double>(plane);
  Normalization norm;
  norm.mean.resize(C);
  norm.std.resize(C);
  for (int64_t c = 0; c < C; ++c) norm.mean[c] = static_cast<float>(sum[c] / count);
  if (!train.is_uint8()) {
    for (int64_t i = 0; i < train.size(); ++i) {
      const float* p = train.float_sample(i);
      for (int64_t c = 0; c < C; ++c) {
        double m = sum[c] / count;
        for (int64_t k = 0; k < plane; ++k) {
          double d = p[c * plane + k] - m;
          sq[c] += d * d;
        }
      }
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    double m = sum[c] / count;
    double var = train.is_uint8() ? sq[c] / count - m * m : sq[c] / count;
    double s = std::sqrt(std::max(var, 0.0));
    norm.std[c] = s > 1e-12 ? static_cast<float>(s) : 1.0f;
  }
  return norm;
}

}  // namespace nabla::data
