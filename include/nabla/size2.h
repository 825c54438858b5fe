// Size2: a size per spatial dimension, shared by the functional options (nabla/ops/conv.h) and
// the layers' options and descriptions (nabla/nn/conv.h, nabla/nn/layer.h).
#pragma once

#include <cstdint>

namespace nabla {

// One value per spatial dimension, {h, w}; a single integer sets both (PyTorch's
// ExpandingArray<2>). Converts implicitly, so options read `.stride(2)` or `.stride({2, 1})`.
struct Size2 {
  Size2(int64_t both) : h(both), w(both) {}  // NOLINT: implicit on purpose
  Size2(int64_t h, int64_t w) : h(h), w(w) {}
  int64_t h, w;
  bool square() const { return h == w; }
  friend bool operator==(const Size2&, const Size2&) = default;
};

}  // namespace nabla
