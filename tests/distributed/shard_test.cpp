// The parts of data-parallel training that need no second process: the DataLoader's shards (their
// union is the whole batch, augmentation included) and the one-rank world every program has
// without mpirun. The multi-rank tests are in mpi_tests.cpp (ctest: distributed_*).
#include <gtest/gtest.h>

#include <numeric>

#include "nabla/data/dataloader.h"
#include "nabla/nn/linear.h"
#include "nabla/ops.h"
#include "nabla/optim/sgd.h"
#include "nabla/train/data_parallel.h"

namespace nabla {
namespace {

// n images (1, 4, 4) whose pixels encode the sample index, labels i % 3.
data::Dataset tiny_images(int64_t n) {
  std::vector<uint8_t> pixels(static_cast<size_t>(n * 16));
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<uint8_t>((i * 7 + i / 16) % 251);
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = i % 3;
  return data::Dataset::from_uint8("tiny", Shape({1, 4, 4}), pixels, labels, {"a", "b", "c"});
}

data::DataLoaderOptions augmented(int64_t batch) {
  return data::DataLoaderOptions(batch).shuffle(true).seed(5).augment(
      data::AugmentOptions().crop_padding(1).hflip(true));
}

TEST(DistributedShard, UnionOfShardsIsTheWholeBatchWithItsAugmentation) {
  // 23 samples in batches of 8: the last batch has 7, split 2/2/3 over three shards.
  const data::Dataset d = tiny_images(23);
  const data::DataLoader whole(d, augmented(8));
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    const auto all = whole.epoch(epoch);
    for (int64_t i = 0; i < all.size(); ++i) {
      const data::Batch full = all.batch(i);
      std::vector<double> pixels;
      std::vector<int64_t> labels;
      for (int64_t s = 0; s < 3; ++s) {
        const data::DataLoader shard(d, augmented(8).shard_index(s).shard_count(3));
        ASSERT_EQ(shard.num_batches(), whole.num_batches());
        const data::Batch part = shard.epoch(epoch).batch(i);
        const int64_t n = full.images.size(0);
        EXPECT_EQ(part.images.size(0), n * (s + 1) / 3 - n * s / 3) << "batch " << i;
        for (double v : part.images.to_vector()) pixels.push_back(v);
        labels.insert(labels.end(), part.labels.begin(), part.labels.end());
      }
      EXPECT_EQ(labels, full.labels) << "epoch " << epoch << " batch " << i;
      EXPECT_EQ(pixels, full.images.to_vector()) << "epoch " << epoch << " batch " << i;
    }
  }
}

TEST(DistributedShard, BatchTooSmallForTheShardsIsAnError) {
  const data::Dataset d = tiny_images(9);  // batches of 4: 4, 4, 1
  try {
    data::DataLoader loader(d, data::DataLoaderOptions(4).shard_index(0).shard_count(2));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a batch of 1 samples"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2 ranks"), std::string::npos) << e.what();
  }
  // Dropping the last batch leaves batches of 4: fine.
  EXPECT_NO_THROW(data::DataLoader(
      d, data::DataLoaderOptions(4).drop_last(true).shard_index(1).shard_count(2)));
  EXPECT_THROW(data::DataLoader(d, data::DataLoaderOptions(4).shard_index(2).shard_count(2)),
               Error);
}

TEST(DistributedWorld, WithoutMpirunTheWorldIsOneRankAndCollectivesAreIdentity) {
  distributed::Communicator& world = distributed::Communicator::world();
  ASSERT_EQ(world.size(), 1);
  EXPECT_EQ(world.rank(), 0);
  EXPECT_TRUE(world.is_main());
  std::vector<float> v = {1.5f, -2.0f};
  world.allreduce_sum(std::span<float>(v));
  world.allreduce_sum_buckets(std::span<float>(v), 1);
  EXPECT_EQ(v, (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(world.broadcast(std::string("out/dir")), "out/dir");
  EXPECT_EQ(world.allgather(7), std::vector<uint64_t>{7});
  EXPECT_NO_THROW(distributed::check_same_on_all_ranks("options", "x"));
  const data::Dataset d = tiny_images(5);
  EXPECT_EQ(distributed::shard(d).size(), 5);
}

TEST(DistributedWorld, OneRankDataParallelLeavesTheGradientAlone) {
  nn::Linear layer(nn::LinearOptions(3, 2));
  optim::SGD opt(layer.parameters(), optim::SGDOptions(0.1));
  distributed::DataParallel dp(layer, opt);
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, -1, 0, 2}, {2, 3});
  cross_entropy(layer.forward(x), {0, 1}).backward();
  const std::vector<double> before = layer.weight.grad().to_vector();
  EXPECT_EQ(dp.allreduce_gradients(2, 0.5, 1), 2);
  EXPECT_EQ(layer.weight.grad().to_vector(), before);
  EXPECT_THROW(distributed::DataParallel(layer, opt, distributed::Communicator::world(),
                                         distributed::DataParallelOptions().bucket_bytes(0)),
               Error);
}

}  // namespace
}  // namespace nabla
