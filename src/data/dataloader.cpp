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
// its bytes are requested this many samples ahead instead (bench/data_bench, 1 thread: a batch of
// 64 in 12-20 us against 35-43 us without, on Zen 5; docs/performance.md, "Training loop").
constexpr int64_t kPrefetchSamples = 4;

void prefetch_bytes(const void* data, int64_t bytes) {
  const char* p = static_cast<const char*>(data);
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
}

// Samples whose augmentation draws are kept at once (on the stack): an augmented batch is
// assembled in runs of this many, each run's draws taken in sample order and its samples then
// converted side by side.
constexpr int64_t kDrawRun = 64;

// A sample's random crop offset and flip.
struct Draw {
  int64_t dy = 0, dx = 0;
  bool flip = false;
};

// out (C, H, W): output pixel (y, x) reads input (y + dy, xs + dx) with xs = W-1-x when flipped,
// else x; reads outside the input give raw 0 (the zero padding), i.e. shift[c] after scaling.
// The columns that read inside a row, [x0, x1), are found once, so the row's loop has no branch
// (and vectorises).
template <class T>
void convert_augmented(float* out, const T* in, int64_t C, int64_t H, int64_t W, const float* scale,
                       const float* shift, const Draw& draw) {
  const int64_t dx = draw.dx;
  const int64_t x0 = std::clamp<int64_t>(draw.flip ? dx : -dx, 0, W);
  const int64_t x1 = std::clamp<int64_t>(draw.flip ? W + dx : W - dx, x0, W);
  for (int64_t c = 0; c < C; ++c) {
    const float a = scale[c], b = shift[c];
    for (int64_t y = 0; y < H; ++y) {
      float* dst = out + (c * H + y) * W;
      const int64_t sy = y + draw.dy;
      if (sy < 0 || sy >= H) {
        std::fill(dst, dst + W, b);
        continue;
      }
      const T* src = in + (c * H + sy) * W;
      std::fill(dst, dst + x0, b);
      if (draw.flip)
        for (int64_t x = x0; x < x1; ++x) dst[x] = static_cast<float>(src[W - 1 - x + dx]) * a + b;
      else
        for (int64_t x = x0; x < x1; ++x) dst[x] = static_cast<float>(src[x + dx]) * a + b;
      std::fill(dst + x1, dst + W, b);
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
  // Every sample takes the same draws (the flip's only when flips are on), so one option never
  // shifts the other's random numbers.
  auto draw = [&] {
    const auto range = static_cast<uint64_t>(2 * aug.crop_padding() + 1);
    Draw d;
    d.dy = static_cast<int64_t>(gen.below(range)) - aug.crop_padding();
    d.dx = static_cast<int64_t>(gen.below(range)) - aug.crop_padding();
    d.flip = aug.hflip() && gen.uniform() < 0.5;
    return d;
  };
  // Samples before `begin` belong to other shards: only their draws are taken.
  for (int64_t j = 0; j < begin && aug.enabled(); ++j) draw();
  // Sample j of the batch; `d` its draws, or null without augmentation.
  auto assemble = [&](int64_t j, const Draw* d) {
    int64_t pos = positions[j];
    batch.labels[j - begin] = dataset_.label(pos);
    float* dst = out + (j - begin) * numel;
    auto convert = [&](const auto* src) {
      if (!d) return normalize_planes(dst, src, numel / C, affine_);
      convert_augmented(dst, src, C, sample[1], sample[2], affine_.scale.data(),
                        affine_.shift.data(), *d);
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
  // Samples [lo, hi); draws[j - first] are sample j's (null: no augmentation).
  auto assemble_range = [&](int64_t lo, int64_t hi, const Draw* draws, int64_t first) {
    for (int64_t j = lo; j < std::min(hi, lo + kPrefetchSamples); ++j) prefetch(j);
    for (int64_t j = lo; j < hi; ++j) {
      if (j + kPrefetchSamples < hi) prefetch(j + kPrefetchSamples);
      assemble(j, draws ? draws + (j - first) : nullptr);
    }
  };
  // Each sample is then on its own: the threads share the batch (a serial part of every training
  // step otherwise, while the other threads wait). With augmentation, in runs whose draws are
  // taken first, in order, so every thread count gives the same batch.
  if (!aug.enabled()) {
    parallel_ranges(count - begin, kSamplesPerRange, [&](int64_t lo, int64_t hi) {
      assemble_range(begin + lo, begin + hi, nullptr, 0);
    });
    return;
  }
  Draw draws[kDrawRun];
  for (int64_t first = begin; first < count; first += kDrawRun) {
    const int64_t last = std::min(count, first + kDrawRun);
    for (int64_t j = first; j < last; ++j) draws[j - first] = draw();
    parallel_ranges(last - first, kSamplesPerRange, [&](int64_t lo, int64_t hi) {
      assemble_range(first + lo, first + hi, draws, first);
    });
  }
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
