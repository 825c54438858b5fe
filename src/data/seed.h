// Seeds derived from (seed, purpose, epoch, batch): each random stream in data/ is a pure function
// of those numbers, so epoch k's shuffle or batch i's augmentation can be replayed on resume
// without replaying everything before it.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace nabla::data::detail {

// splitmix64's finaliser: consecutive inputs give unrelated outputs.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline uint64_t derive_seed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x6A09E667F3BCC908ull;
  for (uint64_t p : parts) h = mix64(h ^ mix64(p));
  return h;
}

// Purposes, so that the streams of one seed never coincide.
enum Stream : uint64_t { kShuffle = 1, kAugment = 2, kSplit = 3 };

}  // namespace nabla::data::detail
