// A small stand-in for Fashion-MNIST in the real file format, so training tests need neither the
// installed data set nor the time to decompress 70000 images. Class c is a bright band of rows
// 2c .. 2c+7 over faint noise: easy to learn, so tests can expect accuracy well above chance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/temp_dir.h"
#include "nabla/random.h"

namespace nabla::testing {

inline std::vector<uint8_t> fake_fashion_image(int64_t label, Generator& gen) {
  std::vector<uint8_t> pixels(28 * 28);
  for (int64_t y = 0; y < 28; ++y)
    for (int64_t x = 0; x < 28; ++x) {
      const bool band = y >= 2 * label && y < 2 * label + 8;
      pixels[static_cast<size_t>(y * 28 + x)] =
          static_cast<uint8_t>((band ? 180 : 0) + gen.below(60));
    }
  return pixels;
}

// Writes train-{images,labels}-idx?-ubyte and t10k-... (uncompressed) into `dir`; labels cycle
// through the 10 classes.
inline void write_fake_fashion_mnist(const std::string& dir, uint32_t n_train, uint32_t n_test,
                                     uint64_t seed = 1) {
  Generator gen(seed);
  auto write_split = [&](const std::string& prefix, uint32_t n) {
    std::vector<uint8_t> images, labels;
    for (uint32_t i = 0; i < n; ++i) {
      const auto label = static_cast<uint8_t>((i * 7 + i / 10) % 10);
      labels.push_back(label);
      const auto pixels = fake_fashion_image(label, gen);
      images.insert(images.end(), pixels.begin(), pixels.end());
    }
    write_bytes(dir + "/" + prefix + "-images-idx3-ubyte", idx_bytes({n, 28, 28}, images));
    write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte", idx_bytes({n}, labels));
  };
  write_split("train", n_train);
  write_split("t10k", n_test);
}

}  // namespace nabla::testing
