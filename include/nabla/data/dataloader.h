// DataLoader: batches of normalised float32 drawn from a Dataset, in a seeded order.
//
//   auto [train, val] = data::train_val_split(data::load_fashion_mnist(), 0.1, /*seed=*/1);
//   data::Normalization norm = data::compute_normalization(train);
//   data::DataLoader loader(train, data::DataLoaderOptions(64).shuffle(true).seed(1)
//                                      .normalize(norm)
//                                      .augment(data::AugmentOptions().hflip(true)));
//   for (int64_t epoch = 0; epoch < 10; ++epoch)
//     for (const data::Batch& batch : loader.epoch(epoch)) { ... batch.images, batch.labels ... }
//
// Determinism: epoch k's order is a function of (seed, k) only, and batch i's augmentation of
// (seed, k, i) only, so a run resumed at epoch k (or at batch i of it) sees exactly what the
// uninterrupted run saw. The loader holds no cursor: it never changes after construction.
//
// Speed: samples stay in their stored type (uint8 for images); a batch is converted when drawn,
// one pass over raw pointers that applies crop, flip, the 1/255 scale and the normalisation.
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/arg.h"
#include "nabla/data/dataset.h"
#include "nabla/tensor.h"

namespace nabla::data {

struct Batch {
  Tensor images;                // (B, C, H, W) float32 for images, (B, F) for tabular data
  std::vector<int64_t> labels;  // B class indices
};

// Random augmentation of image samples (C, H, W), drawn per sample; off by default.
struct AugmentOptions {
  // Pad each side with this many zero pixels (raw value 0, before normalisation, as torchvision's
  // RandomCrop(padding=p) followed by Normalize), then crop back to H × W at a random offset.
  NABLA_ARG(int64_t, crop_padding) = 0;
  // Mirror left-right with probability 1/2 (after the crop).
  NABLA_ARG(bool, hflip) = false;

 public:
  bool enabled() const { return crop_padding() > 0 || hflip(); }
};

struct DataLoaderOptions {
  explicit DataLoaderOptions(int64_t batch_size = 64) : batch_size_(batch_size) {}
  NABLA_ARG(int64_t, batch_size);
  NABLA_ARG(bool, shuffle) = false;          // a new order each epoch, from (seed, epoch)
  NABLA_ARG(uint64_t, seed) = 0;             // for shuffling and augmentation
  NABLA_ARG(bool, drop_last) = false;        // drop the last batch if it has fewer than batch_size
  NABLA_ARG(Normalization, normalize) = {};  // (x - mean) / std per channel; empty: none
  NABLA_ARG(AugmentOptions, augment) = {};
  // Data-parallel sharding (nabla/distributed.h): each batch is the slice shard_index of
  // shard_count contiguous slices of the whole batch, [n·index/count, n·(index+1)/count) of its
  // n samples, with the augmentation those samples get in the whole batch; the union over the
  // shards is the unsharded batch. Throws if a batch would leave a shard empty.
  NABLA_ARG(int64_t, shard_index) = 0;
  NABLA_ARG(int64_t, shard_count) = 1;
};

class DataLoader {
 public:
  // Throws if the batch size is not positive, the normalisation has the wrong number of channels
  // or a zero std, or augmentation is asked of samples that are not (C, H, W) images.
  explicit DataLoader(Dataset dataset, DataLoaderOptions options = DataLoaderOptions());

  class Epoch;
  // The batches of epoch k (its sample order is computed once, here).
  Epoch epoch(int64_t k) const;

  // Batches per epoch: ceil(size / batch_size), or floor with drop_last.
  int64_t num_batches() const;
  // The sample order of epoch k: positions in dataset().
  std::vector<int64_t> order(int64_t k) const;
  const Dataset& dataset() const { return dataset_; }

  DataLoaderOptions options;

 private:
  friend class Epoch;
  // Converts positions[begin, end) of a whole batch of `count`; the ones before `begin` only
  // advance the augmentation draws.
  void make_batch(const int64_t* positions, int64_t count, int64_t epoch, int64_t index, Batch& out,
                  int64_t begin = 0) const;
  Dataset dataset_;
  ChannelAffine affine_;  // per channel: y = x · scale + shift (nabla/normalization.h)
};

class DataLoader::Epoch {
 public:
  int64_t size() const { return loader_->num_batches(); }
  int64_t index() const { return epoch_; }
  // Batch i of this epoch, 0 <= i < size(); any order, any number of times, same result.
  Batch batch(int64_t i) const;
  // The same batch written into `out`, reusing its label vector and, when nothing else holds
  // it, its image buffer: a training loop that keeps one Batch allocates nothing per step.
  void batch_into(int64_t i, Batch& out) const;

  class iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    iterator(const Epoch* epoch, int64_t i) : epoch_(epoch), i_(i) {}
    Batch operator*() const { return epoch_->batch(i_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const iterator& other) const { return i_ == other.i_; }

   private:
    const Epoch* epoch_;
    int64_t i_;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, size()}; }

 private:
  friend class DataLoader;
  Epoch(const DataLoader* loader, int64_t epoch, std::vector<int64_t> order)
      : loader_(loader), epoch_(epoch), order_(std::move(order)) {}
  const DataLoader* loader_;
  int64_t epoch_;
  std::vector<int64_t> order_;
};

// images (..., W) mirrored along the last dim; a new tensor, not recorded by autograd.
// The same mapping the loader's hflip applies.
Tensor hflip(const Tensor& images);

}  // namespace nabla::data
