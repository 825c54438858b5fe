// A stand-in for the other ranks of synchronised batch norm, for checks that run in one process
// (the gradcheck case of batch_norm and tests/ops/norm_test.cpp): the batch_norm op's
// sum_across_ranks hook as a second rank holding `other` would answer it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "nabla/ops.h"

namespace nabla {

// `other` is (M, C) or (M, C, H, W). The forward's two sums get the other batch's Σx and count,
// then its Σ(x − global mean)²; the backward's [Σdy, Σdy·xhat] get nothing, since the other
// rank's dy is 0 for this rank's loss. Remembers the global mean between the forward's two calls,
// so use a fresh one per forward.
inline SumAcrossRanks simulated_second_rank(const Tensor& other) {
  const int64_t C = other.size(1), S = other.numel() / (other.size(0) * C);
  auto values = std::make_shared<const std::vector<double>>(other.contiguous().to_vector());
  auto mean = std::make_shared<std::vector<double>>(C);
  return [values, mean, C, S](std::span<double> sums) {
    const std::vector<double>& v = *values;
    const auto channel = [C, S](size_t i) { return (static_cast<int64_t>(i) / S) % C; };
    if (sums.size() == static_cast<size_t>(C + 1)) {  // [Σx per channel, count]
      for (size_t i = 0; i < v.size(); ++i) sums[channel(i)] += v[i];
      sums[C] += static_cast<double>(static_cast<int64_t>(v.size()) / C);
      for (int64_t c = 0; c < C; ++c) (*mean)[c] = sums[c] / sums[C];
    } else if (sums.size() == static_cast<size_t>(C)) {  // Σ(x − mean)² per channel
      for (size_t i = 0; i < v.size(); ++i) {
        const double d = v[i] - (*mean)[channel(i)];
        sums[channel(i)] += d * d;
      }
    }
  };
}

}  // namespace nabla
