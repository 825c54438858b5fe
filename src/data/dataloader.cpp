// DataLoader: seeded order per epoch, and the per-batch conversion of stored samples to
// normalised float32 with optional crop and flip, in one pass over raw pointers.
// C, H, W = channels, height, width of one sample; B = samples in the batch.
#include "nabla/data/dataloader.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/seed.h"
#include "nabla/error.h"
#include "nabla/memory.h"
#include "nabla/random.h"
#include "nabla/threads.h"

namespace nabla::data {

namespace {

// The fewest samples of a batch worth a thread of their own while it is assembled: 8 of
// Fashion-MNIST's 784 values take a few microseconds, about what a hand-off costs.
constexpr int64_t kSamplesPerRange = 8;

// A shuffled batch reads each sample from a random place in a dataset far larger than the caches
// (Fashion-MNIST's 47 MB), so each one starts with misses the hardware prefetcher cannot foresee;
// its bytes are requested this many samples ahead instead (bench/data_bench: a batch of 64 in
// 11-12 us against 26-41 us without, on Zen 5; docs/performance.md).
constexpr int64_t kPrefetchSamples = 4;

void prefetch_bytes(const void* data, int64_t bytes) {
  const char* p = static_cast<const char*>(data);
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
}

// out (C, H, W): output pixel (y, x) reads input (y + dy, xs + dx) with xs = W-1-x when flipped,
// else x; reads outside the input give raw 0 (the zero padding), i.e. shift[c] after scaling.
template <class T>
void convert_augmented(float* out, const T* in, int64_t C, int64_t H, int64_t W, const float* scale,
                       const float* shift, int64_t dy, int64_t dx, bool flip) {
  for (int64_t c = 0; c < C; ++c) {
    const float a = scale[c], b = shift[c];
    for (int64_t y = 0; y < H; ++y) {
      float* dst = out + (c * H + y) * W;
      int64_t sy = y + dy;
      if (sy < 0 || sy >= H) {
        std::fill(dst, dst + W, b);
        continue;
      }
      const T* src = in + (c * H + sy) * W;
      for (int64_t x = 0; x < W; ++x) {
        int64_t sx = (flip ? W - 1 - x : x) + dx;
        dst[x] = (sx >= 0 && sx < W) ? static_cast<float>(src[sx]) * a + b : b;
      }
    }
  }
}

}  // namespace

DataLoader::DataLoader(Dataset dataset, DataLoaderOptions opts)
    : options(std::move(opts)), dataset_(std::move(dataset)) {
  const std::string& name = dataset_.name();
  NABLA_CHECK(options.batch_size() > 0, "DataLoader(", name, "): batch_size must be positive, got ",
              options.batch_size());
  NABLA_CHECK(!dataset_.empty(), "DataLoader(", name, "): the dataset has no samples");
  int64_t C = dataset_.channels();
  const Normalization& norm = options.normalize();
  NABLA_CHECK(norm.empty() || (static_cast<int64_t>(norm.mean.size()) == C &&
                               static_cast<int64_t>(norm.std.size()) == C),
              "DataLoader(", name, "): normalisation has ", norm.mean.size(), " means and ",
              norm.std.size(), " stds, but samples ", dataset_.sample_shape(), " have ", C,
              " channels");
  const AugmentOptions& aug = options.augment();
  NABLA_CHECK(aug.crop_padding() >= 0, "DataLoader(", name, "): crop_padding must be >= 0, got ",
              aug.crop_padding());
  NABLA_CHECK(!aug.enabled() || dataset_.sample_shape().size() == 3, "DataLoader(", name,
              "): augmentation needs (C, H, W) image samples, but samples are ",
              dataset_.sample_shape());
  NABLA_CHECK(options.shard_count() >= 1 && options.shard_index() >= 0 &&
                  options.shard_index() < options.shard_count(),
              "DataLoader(", name, "): shard_index ", options.shard_index(),
              " must be in [0, shard_count ", options.shard_count(), ")");
  if (options.shard_count() > 1) {
    const int64_t n = dataset_.size(), b = options.batch_size(), last = n % b;
    const int64_t smallest = n < b ? n : (last == 0 || options.drop_last() ? b : std::min(b, last));
    NABLA_CHECK(smallest >= options.shard_count(), "DataLoader(", name, "): a batch of ", smallest,
                " samples (", n, " samples in batches of ", b, ") cannot be shared by ",
                options.shard_count(),
                " ranks; choose a batch size or subset that leaves at least ",
                options.shard_count(), " samples in every batch");
  }
  affine_ = channel_affine(norm, C, dataset_.is_uint8(), "DataLoader(" + name + ")");
}

int64_t DataLoader::num_batches() const {
  int64_t n = dataset_.size(), b = options.batch_size();
  return options.drop_last() ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::order(int64_t k) const {
  std::vector<int64_t> order(dataset_.size());
  std::iota(order.begin(), order.end(), 0);
  if (options.shuffle()) {
    Generator gen(
        detail::derive_seed({options.seed(), detail::kShuffle, static_cast<uint64_t>(k)}));
    for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i)
      std::swap(order[i], order[gen.below(static_cast<uint64_t>(i + 1))]);
  }
  return order;
}

DataLoader::Epoch DataLoader::epoch(int64_t k) const {
  return Epoch(this, k, order(k));
}

Batch DataLoader::Epoch::batch(int64_t i) const {
  Batch out;
  batch_into(i, out);
  return out;
}

void DataLoader::Epoch::batch_into(int64_t i, Batch& out) const {
  NABLA_CHECK(i >= 0 && i < size(), "DataLoader(", loader_->dataset_.name(), "): batch ", i,
              " of epoch ", epoch_, " is outside [0, ", size(), ")");
  int64_t b = loader_->options.batch_size();
  int64_t start = i * b;
  int64_t count = std::min<int64_t>(b, static_cast<int64_t>(order_.size()) - start);
  const int64_t shards = loader_->options.shard_count(), shard = loader_->options.shard_index();
  if (shards > 1) {
    // This rank's slice; draws of the samples before it are skipped so that its augmentation
    // is the one the whole batch would give them.
    const int64_t begin = count * shard / shards, end = count * (shard + 1) / shards;
    loader_->make_batch(order_.data() + start, end, epoch_, i, out, begin);
    return;
  }
  loader_->make_batch(order_.data() + start, count, epoch_, i, out);
}

void DataLoader::make_batch(const int64_t* positions, int64_t count, int64_t epoch, int64_t index,
                            Batch& batch, int64_t begin) const {
  const Shape& sample = dataset_.sample_shape();
  Shape shape = sample;
  shape.insert(0, count - begin);
  // The previous batch's buffer is reused only when no one else (a saved graph, a caller's copy)
  // can still see it.
  const Tensor& old = batch.images;
  const bool reuse = old.defined() && old.impl_ptr().use_count() == 1 &&
                     old.impl().storage.use_count() == 1 && old.shape() == shape &&
                     old.dtype() == kFloat32 && old.offset() == 0 && old.is_contiguous() &&
                     !old.requires_grad();
  if (!reuse) {
    MemoryContext context("the data loader's batch");  // names it in a memory-limit error
    batch.images = Tensor::empty(shape);
  }
  batch.labels.resize(static_cast<size_t>(count - begin));
  float* out = batch.images.data<float>();
  int64_t numel = sample.numel(), C = sample[0];
  const AugmentOptions& aug = options.augment();
  Generator gen(detail::derive_seed({options.seed(), detail::kAugment, static_cast<uint64_t>(epoch),
                                     static_cast<uint64_t>(index)}));
  // Samples before `begin` belong to other shards: only their draws are taken (the same draws
  // as in `convert` below).
  for (int64_t j = 0; j < begin && aug.enabled(); ++j) {
    const auto range = static_cast<uint64_t>(2 * aug.crop_padding() + 1);
    gen.below(range);
    gen.below(range);
    if (aug.hflip()) gen.uniform();
  }
  auto assemble = [&](int64_t j) {
    int64_t pos = positions[j];
    batch.labels[j - begin] = dataset_.label(pos);
    float* dst = out + (j - begin) * numel;
    auto convert = [&](const auto* src) {
      if (!aug.enabled()) return normalize_planes(dst, src, numel / C, affine_);
      int64_t P = aug.crop_padding();
      // Always three draws per sample, so one option never shifts the other's random numbers.
      int64_t dy = static_cast<int64_t>(gen.below(2 * P + 1)) - P;
      int64_t dx = static_cast<int64_t>(gen.below(2 * P + 1)) - P;
      bool flip = aug.hflip() && gen.uniform() < 0.5;
      convert_augmented(dst, src, C, sample[1], sample[2], affine_.scale.data(),
                        affine_.shift.data(), dy, dx, flip);
    };
    if (dataset_.is_uint8())
      convert(dataset_.uint8_sample(pos));
    else
      convert(dataset_.float_sample(pos));
  };
  auto prefetch = [&](int64_t j) {
    const int64_t pos = positions[j];
    if (dataset_.is_uint8())
      prefetch_bytes(dataset_.uint8_sample(pos), numel);
    else
      prefetch_bytes(dataset_.float_sample(pos), numel * int64_t(sizeof(float)));
  };
  auto assemble_range = [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < std::min(hi, lo + kPrefetchSamples); ++j) prefetch(j);
    for (int64_t j = lo; j < hi; ++j) {
      if (j + kPrefetchSamples < hi) prefetch(j + kPrefetchSamples);
      assemble(j);
    }
  };
  if (aug.enabled()) {  // the samples' draws follow each other
    assemble_range(begin, count);
    return;
  }
  // Without draws each sample is on its own: the threads share the batch (a serial part of every
  // training step otherwise, while the other threads wait).
  parallel_ranges(count - begin, kSamplesPerRange,
                  [&](int64_t lo, int64_t hi) { assemble_range(begin + lo, begin + hi); });
}

Tensor hflip(const Tensor& images) {
  NABLA_CHECK(images.dim() >= 1, "hflip: needs at least 1 dim, got ", images.shape());
  Tensor src = images.detach().contiguous();
  Tensor out = Tensor::empty(images.shape(), images.dtype());
  int64_t W = images.shape().back();
  int64_t rows = W == 0 ? 0 : images.numel() / W;
  dispatch(images.dtype(), [&]<class T>() {
    const T* in = src.data<T>();
    T* o = out.data<T>();
    for (int64_t r = 0; r < rows; ++r) std::reverse_copy(in + r * W, in + (r + 1) * W, o + r * W);
  });
  return out;
}

}  // namespace nabla::data
