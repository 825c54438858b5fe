// Batch draw throughput of the DataLoader: Fashion-MNIST (from dataset-fashion-mnist when
// installed, else random pixels of the same shape), batch 64, shuffled; images/s is the rate a
// training loop could be fed at. A LeNet step on a batch of 64 takes milliseconds, so loading
// should be far faster than that. Cases: plain (scale + normalise), with crop + flip.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "nabla/data/dataloader.h"
#include "nabla/data/datasets.h"
#include "nabla/random.h"

namespace {

using namespace nabla;

const data::Dataset& fashion_mnist() {
  static const data::Dataset d = [] {
    if (std::filesystem::exists(std::string(data::kFashionMnistDir) +
                                "/train-images-idx3-ubyte.gz"))
      return data::load_fashion_mnist();
    Generator gen(1);
    std::vector<uint8_t> px(60000 * 784);
    for (auto& p : px) p = static_cast<uint8_t>(gen.below(256));
    std::vector<int64_t> labels(60000);
    for (auto& l : labels) l = static_cast<int64_t>(gen.below(10));
    return data::Dataset::from_uint8("random-28x28", Shape{1, 28, 28}, std::move(px),
                                     std::move(labels), data::fashion_mnist_classes());
  }();
  return d;
}

void draw_batches(benchmark::State& state, const data::AugmentOptions& augment) {
  const data::Dataset& d = fashion_mnist();
  state.SetLabel(d.name());
  data::DataLoader loader(d, data::DataLoaderOptions(64)
                                 .shuffle(true)
                                 .seed(1)
                                 .normalize(data::compute_normalization(d))
                                 .augment(augment));
  auto epoch = loader.epoch(0);
  int64_t i = 0;
  for (auto _ : state) {
    data::Batch b = epoch.batch(i);
    benchmark::DoNotOptimize(b.images.data<float>());
    i = (i + 1) % epoch.size();
  }
  state.SetItemsProcessed(state.iterations() * 64);
}

void BM_FashionMnistBatch64(benchmark::State& state) {
  draw_batches(state, {});
}
void BM_FashionMnistBatch64CropFlip(benchmark::State& state) {
  draw_batches(state, data::AugmentOptions().crop_padding(2).hflip(true));
}
// The shuffle itself, once per epoch: a permutation of 60000 indices.
void BM_FashionMnistEpochOrder(benchmark::State& state) {
  data::DataLoader loader(fashion_mnist(), data::DataLoaderOptions(64).shuffle(true));
  int64_t k = 0;
  for (auto _ : state) benchmark::DoNotOptimize(loader.order(k++).data());
}

BENCHMARK(BM_FashionMnistBatch64);
BENCHMARK(BM_FashionMnistBatch64CropFlip);
BENCHMARK(BM_FashionMnistEpochOrder)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
