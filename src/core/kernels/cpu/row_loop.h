// The row loop of the kernels that reduce along contiguous rows (softmax, cross-entropy): rows
// split over nabla's pool, each row computed whole by one thread, so the split never changes a
// result.
#pragma once

#include <algorithm>
#include <cstdint>

#include "parallel.h"

namespace nabla::cpu {

// f(r) for each of `rows` rows of n elements; small problems stay on the calling thread.
template <class F>
void for_each_row(int64_t rows, int64_t n, F f) {
  constexpr int64_t kGrainElements = int64_t{1} << 14;  // below this, waking a thread costs more
  parallel::parallel_for(rows, std::max<int64_t>(1, kGrainElements / std::max<int64_t>(n, 1)),
                         [&](int64_t r0, int64_t r1) {
                           for (int64_t r = r0; r < r1; ++r) f(r);
                         });
}

}  // namespace nabla::cpu
