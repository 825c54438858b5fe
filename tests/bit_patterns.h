// Bitwise comparison of tensors for tests of fused ops against the ops they replace.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::testing {

// The bit pattern of each of t's values, widened to double (exact for float, sign of zero kept):
// equal vectors mean bitwise equal tensors, -0 and +0 told apart.
inline std::vector<uint64_t> bit_patterns(const Tensor& t) {
  std::vector<uint64_t> out;
  for (double v : t.to_vector()) {
    uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    out.push_back(b);
  }
  return out;
}

}  // namespace nabla::testing
