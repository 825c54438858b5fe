// Generator: an explicit, seeded source of random numbers.
//
// Every random op takes a Generator&, so the same seed gives the same numbers on every platform
// and thread count. The engine is the 64-bit Mersenne Twister: std::mt19937_64's sequence (fixed
// by the C++ standard) bit for bit, its state regenerated as vectors (detail/mt19937_64.h). The
// distributions are written here because std::normal_distribution differs between standard
// libraries.
#pragma once

#include <cstdint>
#include <string>

#include "nabla/detail/mt19937_64.h"

namespace nabla {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}
  void seed(uint64_t s) { engine_.seed(s); }

  uint64_t next_u64() { return engine_(); }
  // out[0 .. n) = the next n draws of next_u64(), made as a block (a dropout mask's).
  void fill_u64(uint64_t* out, int64_t n) { engine_.fill(out, n); }
  // Skips n draws of next_u64() (and so of uniform(), which takes one each), as if made.
  void discard(uint64_t n) { engine_.discard(n); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by the Box-Muller transform (pairs are cached).
  double normal();
  double normal(double mean, double std) { return mean + std * normal(); }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next_u64() % n; }

  // The whole state as text: the engine's standard textual form (312 words and a position), then
  // whether a normal is cached and its bits. set_state(state()) resumes the exact sequence, so a
  // checkpointed run draws the same numbers as one never stopped. set_state throws nabla::Error
  // on malformed text and leaves the generator unchanged.
  std::string state() const;
  void set_state(const std::string& state);

 private:
  detail::Mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace nabla
