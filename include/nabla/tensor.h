// Tensor: an n-dimensional array of float32 or float64 with reverse-mode autodiff.
//
// A Tensor is a handle, as in PyTorch: copying it aliases the same data. The data lives in a
// Storage shared between a tensor and its views; shape, strides and offset say how the view reads
// it. View ops (reshape of a contiguous tensor, transpose, permute, slice, squeeze, unsqueeze)
// never copy; contiguous() copies only when the layout needs it.
//
// Autograd: a tensor made by an op from inputs that require grad records a Node (the op and its
// backward closure) in grad_fn(). backward() walks those nodes once, in reverse topological order,
// and accumulates into .grad() of the leaves. See autograd.h.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "nabla/detail/backward_scratch.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/random.h"
#include "nabla/shape.h"

namespace nabla {

// A flat, 64-byte aligned buffer. Allocation goes through a size-bucketed free list, because a
// training step frees and reallocates the same sizes over and over. Its `bytes` count towards the
// memory limit (memory.h) while it lives; `shape` and `dtype` name the tensor when the limit
// refuses it.
class Storage {
 public:
  Storage(size_t bytes, const Shape& shape, DType dtype);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_;
  size_t bytes_;
  size_t counted_;  // the bytes asked for, as counted by the memory limit
};

namespace autograd {
struct Node;
}

struct TensorImpl {
  // User-provided, so that std::allocate_shared's value-initialisation runs only the member
  // initialisers below: with an implicit constructor it first zero-filled the whole header (a
  // `rep stos` of 240 bytes, half the cost of creating a tensor in the XOR benchmark).
  TensorImpl() noexcept {}

  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;  // in elements
  DType dtype = kFloat32;
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  detail::BackwardScratch backward_scratch;  // the backward engine's, not API
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation ----
  // Uninitialised contents.
  static Tensor empty(const Shape& shape, DType dtype = kFloat32);
  static Tensor zeros(const Shape& shape, DType dtype = kFloat32);
  static Tensor ones(const Shape& shape, DType dtype = kFloat32);
  static Tensor full(const Shape& shape, double value, DType dtype = kFloat32);
  // 0-d tensor holding `value`.
  static Tensor scalar(double value, DType dtype = kFloat32);
  // [start, end) in steps of `step`, as in numpy.arange.
  static Tensor arange(double start, double end, double step = 1, DType dtype = kFloat32);
  // Copies `values` (row-major) into a tensor of `shape`; shape {} means 1-d of values.size().
  // The dtype follows the element type: float -> float32, double -> float64, int64_t -> int64.
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape = {});
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape = {});
  static Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape = {});
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape, DType dtype);
  // A braced list picks by its literals: from_vector({0, 1, 2, 3}, {2, 2}) and {1.f, 2.f} give
  // float32, {1.0, 2.0} float64 (use nabla::tensor({1, 2}) for int64).
  template <class V>
  requires std::is_arithmetic_v<V>
  static Tensor from_vector(std::initializer_list<V> values, const Shape& shape = {}) {
    if constexpr (std::is_same_v<V, double>)
      return from_vector(std::vector<double>(values), shape);
    else
      return from_vector(std::vector<float>(values.begin(), values.end()), shape);
  }
  // Uniform in [0, 1), uniform in [lo, hi), standard normal.
  static Tensor rand(const Shape& shape, Generator& gen, DType dtype = kFloat32);
  static Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen,
                        DType dtype = kFloat32);
  static Tensor randn(const Shape& shape, Generator& gen, DType dtype = kFloat32);
  static Tensor normal(const Shape& shape, double mean, double std, Generator& gen,
                       DType dtype = kFloat32);

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t offset() const { return impl().offset; }
  int dim() const { return impl().shape.size(); }
  int64_t size(int64_t d) const;
  int64_t numel() const { return impl().shape.numel(); }
  DType dtype() const { return impl().dtype; }
  bool is_contiguous() const;
  // Whether two tensors share the same storage.
  bool shares_storage(const Tensor& other) const;

  // ---- data access ----
  // Pointer to element [0, 0, ...] of this view (storage + offset). Throws on a dtype mismatch.
  // Writable only through a non-const Tensor: a const one (a `const Tensor&` argument, a tensor
  // captured by a backward closure) is read-only, though a copy of the handle shares its data.
  template <class T>
  T* data() {
    return element_pointer<T>();
  }
  template <class T>
  const T* data() const {
    return element_pointer<T>();
  }
  // The value of a tensor with one element.
  double item() const;
  // Element at a multi-index (slow; for tests and printing).
  double at(std::initializer_list<int64_t> index) const;
  // All elements in row-major order, as double.
  std::vector<double> to_vector() const;
  // Sets every element to `value` (in place, no autograd).
  Tensor& fill_(double value);
  // Copies `src` (broadcast to this shape) into this view, in place, no autograd.
  Tensor& copy_(const Tensor& src);

  // ---- views and copies (differentiable) ----
  // Same data read with a new shape; one extent may be -1. Copies only if not contiguous.
  Tensor reshape(const Shape& shape) const;
  // Like reshape, but never copies: throws if the tensor is not contiguous.
  Tensor view(const Shape& shape) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a 2-d tensor
  Tensor permute(const std::vector<int64_t>& dims) const;
  // Elements [start, end) with step along `dim`, as in x[..., start:end:step, ...].
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  // Index `i` along `dim`, removing that dim (x[..., i, ...]).
  Tensor select(int64_t dim, int64_t index) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze() const;                   // removes all size-1 dims
  Tensor squeeze(int64_t dim) const;        // removes `dim` if its size is 1
  Tensor expand(const Shape& shape) const;  // broadcast view (stride 0), as in PyTorch
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;

  // ---- autograd ----
  bool requires_grad() const { return impl().requires_grad; }
  // Marks a leaf tensor as a parameter whose gradient is wanted.
  Tensor& requires_grad_(bool value = true);
  // Accumulated gradient (undefined until a backward reaches this tensor).
  Tensor grad() const;
  void set_grad(const Tensor& g);
  void zero_grad();  // drops .grad
  // Keep .grad for a non-leaf tensor too (micrograd shows every node's gradient).
  Tensor& retain_grad();
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // Name of the op that made this tensor ("" for a leaf).
  std::string grad_fn_name() const;
  // Shares the data but is cut from the graph.
  Tensor detach() const;
  // Backward from a scalar (seed 1) or with an upstream gradient of this tensor's shape.
  void backward(bool retain_graph = false) const;
  void backward(const Tensor& grad, bool retain_graph = false) const;

  // ---- PyTorch-style shorthands for common ops (defined in ops) ----
  Tensor matmul(const Tensor& other) const;
  Tensor sum() const;
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor pow(double exponent) const;
  Tensor exp() const;
  Tensor log() const;

  TensorImpl& impl() const {
    NABLA_CHECK(impl_ != nullptr, "tensor is undefined (default-constructed)");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  template <class T>
  T* element_pointer() const {
    NABLA_CHECK(dtype_of<T>() == dtype(), "data<", dtype_name(dtype_of<T>()), ">(): tensor is ",
                dtype_name(dtype()));
    return static_cast<T*>(impl().storage->data()) + impl().offset;
  }

  std::shared_ptr<TensorImpl> impl_;
};

// LibTorch's tensor({...}): a 1-d tensor of the listed values, or 2-d from nested lists. The
// dtype follows the literals unless given: integers -> int64, float -> float32, double ->
// float64, as torch::tensor({1, 2, 3}) is int64.
//   tensor({1, 2, 3}), tensor({1.f, 2.f}), tensor({{1.0, 2.0}, {3.0, 4.0}}), tensor({0, 1},
//   kFloat32)
template <class V>
requires std::is_arithmetic_v<V>
constexpr DType default_dtype_for() {
  if constexpr (std::is_integral_v<V>) return kInt64;
  if constexpr (std::is_same_v<V, float>) return kFloat32;
  return kFloat64;
}
template <class V>
requires std::is_arithmetic_v<V> Tensor tensor(std::initializer_list<V> values,
                                               DType dtype = default_dtype_for<V>()) {
  if constexpr (std::is_integral_v<V>)
    return Tensor::from_vector(std::vector<int64_t>(values.begin(), values.end())).to(dtype);
  else
    return Tensor::from_vector(std::vector<double>(values.begin(), values.end()), {}, dtype);
}
template <class V>
requires std::is_arithmetic_v<V> Tensor tensor(std::initializer_list<std::initializer_list<V>> rows,
                                               DType dtype = default_dtype_for<V>()) {
  std::vector<V> flat;
  for (const auto& row : rows) {
    NABLA_CHECK(row.size() == rows.begin()->size(), "tensor: rows of ", rows.begin()->size(),
                " and ", row.size(), " values; every row needs the same length");
    flat.insert(flat.end(), row.begin(), row.end());
  }
  const Shape shape{static_cast<int64_t>(rows.size()),
                    static_cast<int64_t>(rows.size() ? rows.begin()->size() : 0)};
  if constexpr (std::is_integral_v<V>)
    return Tensor::from_vector(std::vector<int64_t>(flat.begin(), flat.end()), shape).to(dtype);
  else
    return Tensor::from_vector(std::vector<double>(flat.begin(), flat.end()), shape, dtype);
}

// A view of `base` with the given layout, sharing its storage (no autograd).
Tensor make_view(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);

// Whether a and b have the same shape, dtype and elements (torch::equal); NaN equals nothing.
bool equal(const Tensor& a, const Tensor& b);

// PyTorch-like printout: tensor([[1.0000, 2.0000], ...], shape=[2, 2], dtype=float32).
std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::string to_string(const Tensor& t);

}  // namespace nabla
