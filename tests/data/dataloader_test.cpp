// DataLoader and Dataset views: seeded order per epoch, batching, splits, subsets, normalisation
// and augmentation, on small in-memory datasets whose every pixel is known.
#include "nabla/data/dataloader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>

#include "nabla/error.h"
#include "threads_guard.h"

namespace nabla::data {
namespace {

using ::testing::HasSubstr;

// n images (C, H, W) with distinct, asymmetric content: pixel = (7i + 13c + 5y + 3x² ) mod 256;
// label i mod 10.
Dataset images(int64_t n, int64_t C = 2, int64_t H = 5, int64_t W = 6) {
  std::vector<uint8_t> px(n * C * H * W);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = i % 10;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x)
          px[((i * C + c) * H + y) * W + x] = (7 * i + 13 * c + 5 * y + 3 * x * x) % 256;
  }
  std::vector<std::string> classes(10, "class");
  return Dataset::from_uint8("test-images", Shape{C, H, W}, std::move(px), std::move(labels),
                             classes);
}

std::vector<float> values(const Tensor& t) {
  std::vector<double> d = t.to_vector();
  return {d.begin(), d.end()};
}

// The labels of every batch of epoch k, concatenated.
std::vector<int64_t> epoch_labels(const DataLoader& loader, int64_t k) {
  std::vector<int64_t> all;
  for (const Batch& b : loader.epoch(k)) all.insert(all.end(), b.labels.begin(), b.labels.end());
  return all;
}

TEST(DataLoader, UnshuffledBatchesAreScaledPixelsInOrder) {
  Dataset d = images(3);
  DataLoader loader(d, DataLoaderOptions(2));
  Batch b = loader.epoch(0).batch(0);
  ASSERT_EQ(b.images.shape(), (Shape{2, 2, 5, 6}));
  EXPECT_EQ(b.images.dtype(), kFloat32);
  EXPECT_EQ(b.labels, (std::vector<int64_t>{0, 1}));
  std::vector<float> v = values(b.images);
  for (int64_t j = 0; j < 2 * 60; ++j)
    ASSERT_FLOAT_EQ(v[j], d.uint8_sample(j / 60)[j % 60] / 255.0f) << j;
}

TEST(DataLoader, SameSeedSameOrderAndEpochsDiffer) {
  Dataset d = images(50);
  auto opts = DataLoaderOptions(8).shuffle(true).seed(42);
  DataLoader a(d, opts), b(d, opts), other(d, DataLoaderOptions(8).shuffle(true).seed(43));
  EXPECT_EQ(a.order(0), b.order(0));
  EXPECT_EQ(a.order(3), b.order(3));
  EXPECT_NE(a.order(0), a.order(1));
  EXPECT_NE(a.order(0), other.order(0));
  // Each order is a permutation of all samples.
  std::vector<int64_t> sorted = a.order(2);
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(50);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);
  // And the batches follow it.
  std::vector<int64_t> expected;
  for (int64_t p : a.order(2)) expected.push_back(d.label(p));
  EXPECT_EQ(epoch_labels(a, 2), expected);
}

TEST(DataLoader, ResumingAtAnEpochReplaysItExactly) {
  Dataset d = images(30);
  auto opts = DataLoaderOptions(7).shuffle(true).seed(5).augment(
      AugmentOptions().crop_padding(2).hflip(true));
  DataLoader first(d, opts);
  for (int64_t k = 0; k < 3; ++k) (void)epoch_labels(first, k);  // run epochs 0..2
  DataLoader resumed(d, opts);  // a new process that starts at epoch 3, batch 2
  auto e1 = first.epoch(3), e2 = resumed.epoch(3);
  EXPECT_EQ(values(e1.batch(2).images), values(e2.batch(2).images));
  EXPECT_EQ(e1.batch(4).labels, e2.batch(4).labels);
  EXPECT_EQ(values(e1.batch(2).images), values(e1.batch(2).images));  // repeatable draw
}

TEST(DataLoader, LastPartialBatchKeptOrDropped) {
  Dataset d = images(10);
  DataLoader keep(d, DataLoaderOptions(4));
  ASSERT_EQ(keep.num_batches(), 3);
  auto e = keep.epoch(0);
  EXPECT_EQ(e.batch(0).images.shape()[0], 4);
  EXPECT_EQ(e.batch(2).images.shape(), (Shape{2, 2, 5, 6}));
  EXPECT_EQ(e.batch(2).labels, (std::vector<int64_t>{8, 9}));
  int64_t iterated = 0;
  for (const Batch& b : e) iterated += static_cast<int64_t>(b.labels.size());
  EXPECT_EQ(iterated, 10);
  DataLoader drop(d, DataLoaderOptions(4).drop_last(true));
  EXPECT_EQ(drop.num_batches(), 2);
  EXPECT_EQ(epoch_labels(drop, 0).size(), 8u);
  EXPECT_THROW(drop.epoch(0).batch(2), Error);
}

TEST(DataLoader, SplitSizesDisjointAndSeeded) {
  Dataset d = images(100);
  TrainVal s = train_val_split(d, 0.2, 7);
  EXPECT_EQ(s.train.size(), 80);
  EXPECT_EQ(s.val.size(), 20);
  std::set<int64_t> seen;
  for (int64_t i = 0; i < s.train.size(); ++i) seen.insert(s.train.source_index(i));
  for (int64_t i = 0; i < s.val.size(); ++i) EXPECT_TRUE(seen.insert(s.val.source_index(i)).second);
  EXPECT_EQ(seen.size(), 100u);  // disjoint and together everything
  TrainVal again = train_val_split(d, 0.2, 7), other = train_val_split(d, 0.2, 8);
  std::vector<int64_t> v1, v2, v3;
  for (int64_t i = 0; i < 20; ++i) {
    v1.push_back(s.val.source_index(i));
    v2.push_back(again.val.source_index(i));
    v3.push_back(other.val.source_index(i));
  }
  EXPECT_EQ(v1, v2);
  EXPECT_NE(v1, v3);
  // Validation is not simply the tail: a seeded random choice.
  EXPECT_NE(v1.front(), 80);
  TrainVal counted = train_val_split_count(d, 33, 1);
  EXPECT_EQ(counted.train.size(), 67);
  EXPECT_EQ(counted.val.size(), 33);
  EXPECT_THROW(train_val_split_count(d, 100, 1), Error);
  EXPECT_THROW(train_val_split(d, 1.0, 1), Error);
}

TEST(DataLoader, SubsetsAreViewsOfTheSameSamples) {
  Dataset d = images(20);
  Dataset head = d.first(5);
  EXPECT_EQ(head.size(), 5);
  EXPECT_EQ(d.first(100).size(), 20);
  Dataset picked = d.subset({7, 3, 7});
  ASSERT_EQ(picked.size(), 3);
  EXPECT_EQ(picked.label(0), 7);
  EXPECT_EQ(picked.uint8_sample(1), d.uint8_sample(3));  // same memory, no copy
  Dataset nested = picked.subset({1});
  EXPECT_EQ(nested.source_index(0), 3);
  EXPECT_THROW(d.subset({20}), Error);
}

TEST(DataLoader, NormalisationStatisticsPerChannel) {
  Dataset d = images(37, 3, 4, 5);
  Normalization norm = compute_normalization(d);
  ASSERT_EQ(norm.mean.size(), 3u);
  for (int64_t c = 0; c < 3; ++c) {
    double sum = 0, sq = 0, n = 37 * 20;
    for (int64_t i = 0; i < 37; ++i)
      for (int64_t k = 0; k < 20; ++k) sum += d.uint8_sample(i)[c * 20 + k] / 255.0;
    for (int64_t i = 0; i < 37; ++i)
      for (int64_t k = 0; k < 20; ++k) {
        double e = d.uint8_sample(i)[c * 20 + k] / 255.0 - sum / n;
        sq += e * e;
      }
    EXPECT_NEAR(norm.mean[c], sum / n, 1e-6);
    EXPECT_NEAR(norm.std[c], std::sqrt(sq / n), 1e-6);
  }
  // Applied by the loader, the whole set comes out with mean 0 and std 1 in every channel.
  DataLoader loader(d, DataLoaderOptions(37).normalize(norm));
  std::vector<float> v = values(loader.epoch(0).batch(0).images);
  for (int64_t c = 0; c < 3; ++c) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < 37; ++i)
      for (int64_t k = 0; k < 20; ++k) {
        double x = v[(i * 3 + c) * 20 + k];
        sum += x;
        sq += x * x;
      }
    EXPECT_NEAR(sum / 740, 0.0, 1e-5);
    EXPECT_NEAR(sq / 740, 1.0, 1e-4);
  }
}

TEST(DataLoader, NormalisationOfFloatFeatures) {
  // Feature 0: 1, 2, 3, 4 (mean 2.5, std √1.25); feature 1 constant 7 (std falls back to 1).
  Dataset d =
      Dataset::from_float("table", Shape{2}, {1, 7, 2, 7, 3, 7, 4, 7}, {0, 1, 0, 1}, {"a", "b"});
  Normalization norm = compute_normalization(d);
  EXPECT_NEAR(norm.mean[0], 2.5, 1e-6);
  EXPECT_NEAR(norm.std[0], std::sqrt(1.25), 1e-6);
  EXPECT_NEAR(norm.mean[1], 7.0, 1e-6);
  EXPECT_EQ(norm.std[1], 1.0f);
  Batch b = DataLoader(d, DataLoaderOptions(4).normalize(norm)).epoch(0).batch(0);
  ASSERT_EQ(b.images.shape(), (Shape{4, 2}));
  EXPECT_NEAR(b.images.at({3, 0}), 1.5 / std::sqrt(1.25), 1e-6);
  EXPECT_NEAR(b.images.at({2, 1}), 0.0, 1e-6);
}

TEST(Augment, FlipTwiceIsIdentity) {
  Batch b = DataLoader(images(2), DataLoaderOptions(2)).epoch(0).batch(0);
  Tensor once = hflip(b.images);
  EXPECT_NE(values(once), values(b.images));  // the test images are not mirror-symmetric
  EXPECT_EQ(values(hflip(once)), values(b.images));
  EXPECT_FLOAT_EQ(once.at({1, 1, 2, 0}), b.images.at({1, 1, 2, 5}));
}

TEST(Augment, LoaderFlipGivesOriginalOrMirror) {
  Dataset d = images(64);
  Tensor plain = DataLoader(d, DataLoaderOptions(64)).epoch(0).batch(0).images;
  Tensor mirrored = hflip(plain);
  Tensor aug = DataLoader(d, DataLoaderOptions(64).seed(3).augment(AugmentOptions().hflip(true)))
                   .epoch(0)
                   .batch(0)
                   .images;
  int flipped = 0;
  for (int64_t i = 0; i < 64; ++i) {
    std::vector<float> a = values(aug.select(0, i)), p = values(plain.select(0, i)),
                       m = values(mirrored.select(0, i));
    ASSERT_TRUE(a == p || a == m) << "sample " << i;
    flipped += a == m;
  }
  EXPECT_GT(flipped, 10);  // probability 1/2: 64 samples give ~32
  EXPECT_LT(flipped, 54);
}

TEST(Augment, RandomCropIsAZeroFilledShiftOfTheSameShape) {
  const int64_t P = 2, C = 2, H = 5, W = 6;
  Dataset d = images(40, C, H, W);
  Normalization norm{{0.5f, 0.25f}, {0.5f, 2.0f}};
  Tensor plain = DataLoader(d, DataLoaderOptions(40).normalize(norm)).epoch(0).batch(0).images;
  Tensor aug = DataLoader(d, DataLoaderOptions(40).normalize(norm).seed(9).augment(
                                 AugmentOptions().crop_padding(P)))
                   .epoch(0)
                   .batch(0)
                   .images;
  ASSERT_EQ(aug.shape(), plain.shape());
  std::vector<float> a = values(aug), p = values(plain);
  int shifted = 0;
  for (int64_t i = 0; i < 40; ++i) {
    // Find the offset (dy, dx) in [-P, P]² that explains every pixel; padding is raw 0, i.e.
    // (0 - mean) / std after normalisation.
    bool found = false;
    for (int64_t dy = -P; dy <= P && !found; ++dy)
      for (int64_t dx = -P; dx <= P && !found; ++dx) {
        bool match = true;
        for (int64_t c = 0; c < C && match; ++c)
          for (int64_t y = 0; y < H && match; ++y)
            for (int64_t x = 0; x < W && match; ++x) {
              int64_t sy = y + dy, sx = x + dx;
              float pad = -norm.mean[c] / norm.std[c];
              float want = (sy >= 0 && sy < H && sx >= 0 && sx < W)
                               ? p[((i * C + c) * H + sy) * W + sx]
                               : pad;
              match = std::abs(a[((i * C + c) * H + y) * W + x] - want) < 1e-6f;
            }
        if (match) {
          found = true;
          shifted += dy != 0 || dx != 0;
        }
      }
    EXPECT_TRUE(found) << "sample " << i << " is not a shifted crop of the original";
  }
  EXPECT_GT(shifted, 20);  // 24 of 25 offsets move the image
}

// The threads assemble a batch's samples side by side; with augmentation, the draws of each run
// of 64 samples are taken in order first (a batch of 100 is two runs). Either way every thread
// count gives the same batch, to the bit.
TEST(DataLoader, BatchesAreTheSameForAnyThreadCount) {
  testing::ThreadsGuard threads;
  Dataset d = images(130, 3, 6, 7);
  for (bool augment : {false, true}) {
    DataLoaderOptions options = DataLoaderOptions(100).shuffle(true).seed(3).normalize(
        Normalization{{0.2f, 0.5f, 0.4f}, {0.3f, 0.25f, 0.2f}});
    if (augment) options.augment(AugmentOptions().hflip(true).crop_padding(2));
    DataLoader loader(d, options);
    std::vector<std::vector<float>> first;
    std::vector<std::vector<int64_t>> first_labels;
    for (int n : {1, 2, 3}) {
      set_num_threads(n);
      for (int64_t i = 0; i < 2; ++i) {
        Batch b = loader.epoch(1).batch(i);
        if (n == 1) {
          first.push_back(values(b.images));
          first_labels.push_back(b.labels);
          continue;
        }
        EXPECT_EQ(b.labels, first_labels[i]) << n << " threads, batch " << i;
        const std::vector<float> v = values(b.images);
        ASSERT_EQ(v.size(), first[i].size());
        EXPECT_EQ(std::memcmp(v.data(), first[i].data(), v.size() * sizeof(float)), 0)
            << n << " threads, batch " << i << ", augment " << augment;
      }
    }
  }
}

TEST(DataLoader, RejectsBadOptions) {
  Dataset d = images(4);
  EXPECT_THROW(DataLoader(d, DataLoaderOptions(0)), Error);
  try {
    DataLoader(d, DataLoaderOptions(2).normalize(Normalization{{0.5f}, {0.2f}}));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 channels"));
  }
  EXPECT_THROW(DataLoader(d, DataLoaderOptions(2).normalize(Normalization{{0, 0}, {1, 0}})), Error);
  Dataset table = Dataset::from_float("table", Shape{3}, {1, 2, 3}, {0}, {"a"});
  EXPECT_THROW(DataLoader(table, DataLoaderOptions(1).augment(AugmentOptions().hflip(true))),
               Error);
}

TEST(DatasetStore, LabelsAreCheckedAgainstTheClasses) {
  try {
    Dataset::from_uint8("toy", Shape{1, 1, 1}, {1, 2, 3}, {0, 3, 1}, {"a", "b", "c"});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("label 3 of sample 1 is outside [0, 3)"));
  }
  EXPECT_THROW(Dataset::from_uint8("toy", Shape{1, 1, 2}, {1, 2, 3}, {0}, {"a"}), Error);
}

}  // namespace
}  // namespace nabla::data
