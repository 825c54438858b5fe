// Strided iteration: the one loop nest behind broadcasting, copies and reductions.
//
// for_each_row walks K arrays that share a logical shape but have their own strides (0 for a
// broadcast or reduced dim). Adjacent dims that are contiguous in every array are merged first,
// so a contiguous case becomes one long row. For each innermost row it calls
//   row(ptrs, inner_strides, n)
// and the caller's row function holds the arithmetic: a plain loop the compiler inlines and
// vectorises. No allocation, no virtual call per element.
#pragma once

#include <array>
#include <cstdint>

#include "nabla/shape.h"

namespace nabla::cpu {

template <class T, size_t K, class Row>
void for_each_row(const Shape& shape, std::array<T*, K> ptrs, const std::array<Shape, K>& strides,
                  Row&& row) {
  // Merge dims (from the inside out) where every array is contiguous across the pair.
  int64_t ext[Shape::kMaxDims];
  int64_t str[K][Shape::kMaxDims];
  int nd = 0;
  for (int i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) return;
    if (shape[i] == 1) continue;  // size-1 dims do not move any pointer
    bool merge = nd > 0;
    for (size_t k = 0; k < K && merge; ++k) merge = str[k][nd - 1] == strides[k][i] * shape[i];
    if (merge) {
      ext[nd - 1] *= shape[i];
      for (size_t k = 0; k < K; ++k) str[k][nd - 1] = strides[k][i];
    } else {
      ext[nd] = shape[i];
      for (size_t k = 0; k < K; ++k) str[k][nd] = strides[k][i];
      ++nd;
    }
  }
  std::array<int64_t, K> inner{};
  if (nd == 0) {
    row(ptrs, inner, int64_t{1});
    return;
  }
  for (size_t k = 0; k < K; ++k) inner[k] = str[k][nd - 1];
  const int64_t n = ext[nd - 1];
  int64_t idx[Shape::kMaxDims] = {};
  for (;;) {
    row(ptrs, inner, n);
    // Advance the outer multi-index (odometer), moving each pointer by its stride.
    int d = nd - 2;
    for (; d >= 0; --d) {
      for (size_t k = 0; k < K; ++k) ptrs[k] += str[k][d];
      if (++idx[d] < ext[d]) break;
      for (size_t k = 0; k < K; ++k) ptrs[k] -= str[k][d] * ext[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

}  // namespace nabla::cpu
