// Shape: the sizes (or strides) of a tensor's dimensions, stored inline.
//
// Tensors are created on every op, so a shape must not allocate: it keeps up to kMaxDims
// extents in a fixed array. It behaves like a small std::vector<int64_t>.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <vector>

#include "nabla/error.h"

namespace nabla {

class Shape {
 public:
  static constexpr int kMaxDims = 8;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
  explicit Shape(const std::vector<int64_t>& dims) { assign(dims.begin(), dims.end()); }
  // n dimensions, each of extent `value`.
  static Shape filled(int n, int64_t value) {
    Shape s;
    for (int i = 0; i < n; ++i) s.push_back(value);
    return s;
  }

  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + n_; }
  int64_t* begin() { return d_.data(); }
  int64_t* end() { return d_.data() + n_; }
  const int64_t* data() const { return d_.data(); }
  int64_t back() const { return d_[n_ - 1]; }

  void push_back(int64_t v) {
    NABLA_CHECK(n_ < kMaxDims, "shape: at most ", kMaxDims, " dimensions are supported");
    d_[n_++] = v;
  }
  void insert(int pos, int64_t v);
  void erase(int pos);
  void pop_back() { --n_; }

  // Product of all extents (1 for a 0-d shape). Inline: hot loops test `i < t.numel()`, and
  // an out-of-line call there cost 6% of a LeNet-5 epoch (issue 13's profile).
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < n_; ++i) n *= d_[i];
    return n;
  }
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  std::string str() const;  // "[2, 3]"

  // A plain loop: std::equal became a memcmp call, dearer than comparing a few extents.
  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.n_ != b.n_) return false;
    for (int i = 0; i < a.n_; ++i)
      if (a.d_[i] != b.d_[i]) return false;
    return true;
  }

 private:
  template <class It>
  void assign(It first, It last) {
    for (; first != last; ++first) push_back(*first);
  }
  std::array<int64_t, kMaxDims> d_{};
  int n_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Shape& s);

// Row-major (C-contiguous) strides for `shape`, in elements.
inline void contiguous_strides_into(const Shape& shape, Shape& strides) {
  strides = shape;
  int64_t running = 1;
  for (int i = shape.size() - 1; i >= 0; --i) {
    strides[i] = running;
    running *= shape[i];
  }
}
inline Shape contiguous_strides(const Shape& shape) {
  Shape strides;
  contiguous_strides_into(shape, strides);
  return strides;
}

// NumPy broadcasting: align trailing dims; each pair must be equal or one of them 1.
// `op` names the operation in the error message.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read a tensor of (shape, strides) as if it had shape `target` (which `shape`
// broadcasts to): broadcast dims get stride 0.
Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target);

// Wraps a possibly negative dim into [0, ndim); `op` names the caller in the error.
int normalize_dim(int64_t dim, int ndim, const char* op);

}  // namespace nabla
