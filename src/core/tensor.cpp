// Tensor: creation, element access, detach, printing, and the autograd entry points. The
// differentiable view ops (reshape, transpose, permute, slice, expand, contiguous, to), though
// members of Tensor, are ops: their forward and backward sit in ops/shape.cpp.
#include "nabla/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <numeric>
#include <ostream>
#include <sstream>

#include "kernels/cpu/strided.h"
#include "nabla/autograd.h"
#include "pool.h"

namespace nabla {

// ---------------------------------------------------------------- creation

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape) NABLA_CHECK(d >= 0, "empty: negative extent in shape ", shape);
  auto impl = std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
  impl->storage = std::allocate_shared<Storage>(detail::PoolAllocator<Storage>(),
                                                shape.numel() * dtype_size(dtype), shape, dtype);
  impl->shape = shape;
  // Written in place: a Shape returned through the stack, its element-wise stores read back as
  // 16-byte blocks, stalled store forwarding on every tensor made.
  contiguous_strides_into(shape, impl->strides);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  return full(shape, 0.0, dtype);
}
Tensor Tensor::ones(const Shape& shape, DType dtype) {
  return full(shape, 1.0, dtype);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) {
  return full(Shape{}, value, dtype);
}

Tensor Tensor::arange(double start, double end, double step, DType dtype) {
  NABLA_CHECK(step != 0, "arange: step must not be zero");
  auto n = static_cast<int64_t>(std::ceil((end - start) / step));
  Tensor t = empty({std::max<int64_t>(n, 0)}, dtype);
  dispatch_all(dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + step * static_cast<double>(i));
  });
  return t;
}

namespace {
template <class V>
Tensor from_values(const std::vector<V>& values, const Shape& shape, DType dtype) {
  Shape s = shape.empty() ? Shape{static_cast<int64_t>(values.size())} : shape;
  NABLA_CHECK(s.numel() == static_cast<int64_t>(values.size()), "from_vector: ", values.size(),
              " values do not fill shape ", s, " (", s.numel(), " elements)");
  Tensor t = Tensor::empty(s, dtype);
  dispatch_all(dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
  });
  return t;
}

template <class Draw>
Tensor random_tensor(const Shape& shape, DType dtype, Draw draw) {
  Tensor t = Tensor::empty(shape, dtype);
  dispatch(dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<T>(draw());
  });
  return t;
}
}  // namespace

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape) {
  return from_values(values, shape, kFloat32);
}
Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape) {
  return from_values(values, shape, kFloat64);
}
Tensor Tensor::from_vector(const std::vector<int64_t>& values, const Shape& shape) {
  return from_values(values, shape, kInt64);
}
Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype) {
  return from_values(values, shape, dtype);
}

Tensor Tensor::rand(const Shape& shape, Generator& gen, DType dtype) {
  return random_tensor(shape, dtype, [&] { return gen.uniform(); });
}
Tensor Tensor::uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype) {
  NABLA_CHECK(lo <= hi, "uniform: lo ", lo, " is greater than hi ", hi);
  return random_tensor(shape, dtype, [&] { return gen.uniform(lo, hi); });
}
Tensor Tensor::randn(const Shape& shape, Generator& gen, DType dtype) {
  return random_tensor(shape, dtype, [&] { return gen.normal(); });
}
Tensor Tensor::normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype) {
  NABLA_CHECK(std >= 0, "normal: std must be non-negative, got ", std);
  return random_tensor(shape, dtype, [&] { return gen.normal(mean, std); });
}

// ---------------------------------------------------------------- metadata and access

int64_t Tensor::size(int64_t d) const {
  return shape()[normalize_dim(d, dim(), "size")];
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int i = dim() - 1; i >= 0; --i) {
    if (shape()[i] != 1 && strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

bool Tensor::shares_storage(const Tensor& other) const {
  return impl().storage == other.impl().storage;
}

double Tensor::item() const {
  NABLA_CHECK(numel() == 1, "item: tensor of shape ", shape(), " has ", numel(),
              " elements, expected 1");
  return dispatch_all(dtype(), [&]<class T>() { return static_cast<double>(*data<T>()); });
}

double Tensor::at(std::initializer_list<int64_t> index) const {
  NABLA_CHECK(static_cast<int>(index.size()) == dim(), "at: ", index.size(),
              " indices for a tensor of shape ", shape());
  int64_t off = 0;
  int d = 0;
  for (int64_t i : index) {
    NABLA_CHECK(i >= 0 && i < shape()[d], "at: index ", i, " out of range for dim ", d,
                " of shape ", shape());
    off += i * strides()[d++];
  }
  return dispatch_all(dtype(), [&]<class T>() { return static_cast<double>(data<T>()[off]); });
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> out(numel());
  dispatch_all(dtype(), [&]<class T>() {
    double* o = out.data();
    cpu::for_each_row<const T, 1>(
        shape(), {data<T>()}, {strides()},
        [&](std::array<const T*, 1> p, std::array<int64_t, 1> s, int64_t n) {
          for (int64_t i = 0; i < n; ++i) *o++ = p[0][i * s[0]];
        });
  });
  return out;
}

Tensor& Tensor::fill_(double value) {
  dispatch_all(dtype(), [&]<class T>() {
    const T v = static_cast<T>(value);
    if (is_contiguous()) {  // most fills (zeros, ones, full): no row walk
      // Zeros (every gradient's start) as bytes: libc's memset takes the CPU's widest stores,
      // where this file, compiled for the baseline, fills 16 bytes at a time.
      if (value == 0 && !std::signbit(value))
        std::memset(static_cast<void*>(data<T>()), 0, sizeof(T) * size_t(numel()));
      else
        std::fill_n(data<T>(), numel(), v);
      return;
    }
    cpu::for_each_row<T, 1>(shape(), {data<T>()}, {strides()},
                            [&](std::array<T*, 1> p, std::array<int64_t, 1> s, int64_t n) {
                              for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] = v;
                            });
  });
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  Shape target = broadcast_shapes(src.shape(), shape(), "copy_");
  NABLA_CHECK(target == shape(), "copy_: source of shape ", src.shape(),
              " does not broadcast to destination shape ", shape());
  Tensor s = src.dtype() == dtype() ? src : src.detach().to(dtype());
  dispatch_all(dtype(), [&]<class T>() {
    Shape sstr = broadcast_strides(s.shape(), s.strides(), shape());
    cpu::for_each_row<T, 2>(shape(), {data<T>(), s.data<T>()}, {strides(), sstr},
                            [](std::array<T*, 2> p, std::array<int64_t, 2> st, int64_t n) {
                              if (st[0] == 1 && st[1] == 1) {
                                for (int64_t i = 0; i < n; ++i) p[0][i] = p[1][i];
                              } else {
                                for (int64_t i = 0; i < n; ++i) p[0][i * st[0]] = p[1][i * st[1]];
                              }
                            });
  });
  return *this;
}

// ---------------------------------------------------------------- views

Tensor make_view(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
  impl->storage = base.impl().storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

Tensor Tensor::detach() const {
  Tensor y = make_view(*this, shape(), strides(), offset());
  return y;
}

// ---------------------------------------------------------------- autograd entry points

Tensor& Tensor::requires_grad_(bool value) {
  NABLA_CHECK(!value || is_floating(dtype()),
              "requires_grad_: only float tensors can require gradients, this one is ",
              dtype_name(dtype()));
  NABLA_CHECK(is_leaf() || value,
              "requires_grad_(false): only leaf tensors can be changed; "
              "use detach() on the output of ",
              grad_fn_name());
  impl().requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const {
  return Tensor(impl().grad);
}

void Tensor::set_grad(const Tensor& g) {
  if (g.defined())
    NABLA_CHECK(g.shape() == shape(), "set_grad: gradient of shape ", g.shape(),
                " for a tensor of shape ", shape());
  impl().grad = g.impl_ptr();
}

void Tensor::zero_grad() {
  impl().grad.reset();
}

Tensor& Tensor::retain_grad() {
  impl().retains_grad = true;
  return *this;
}

std::string Tensor::grad_fn_name() const {
  if (!impl().grad_fn) return "";
  return std::string(op_name(impl().grad_fn->op));
}

void Tensor::backward(bool retain_graph) const {
  NABLA_CHECK(numel() == 1, "backward: output of shape ", shape(),
              " is not a scalar; pass its upstream gradient: backward(grad)");
  autograd::run_backward(*this, Tensor::ones(shape(), dtype()), retain_graph);
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  NABLA_CHECK(grad.shape() == shape(), "backward: upstream gradient of shape ", grad.shape(),
              " does not match the output's shape ", shape());
  autograd::run_backward(*this, grad.dtype() == dtype() ? grad : grad.detach().to(dtype()),
                         retain_graph);
}

bool equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || !(a.shape() == b.shape())) return false;
  bool same = true;
  dispatch_all(a.dtype(), [&]<class T>() {
    Shape bstr = b.strides();
    cpu::for_each_row<const T, 2>(
        a.shape(), {a.data<T>(), b.data<T>()}, {a.strides(), bstr},
        [&](std::array<const T*, 2> p, std::array<int64_t, 2> st, int64_t n) {
          for (int64_t i = 0; i < n; ++i) same = same && p[0][i * st[0]] == p[1][i * st[1]];
        });
  });
  return same;
}

// ---------------------------------------------------------------- printing

namespace {
void print_rec(std::ostream& os, const Tensor& t, std::vector<int64_t>& idx, int d, int indent,
               int width, int precision, bool sci) {
  auto print_value = [&](double v) {
    if (sci)
      os << std::scientific << std::setprecision(precision) << std::setw(width) << v;
    else
      os << std::fixed << std::setprecision(precision) << std::setw(width) << v;
  };
  if (t.dim() == 0) {
    print_value(t.item());
    return;
  }
  const int64_t n = t.shape()[d];
  constexpr int64_t kEdge = 3;
  const bool summarize = t.numel() > 1000 && n > 2 * kEdge;
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && i == kEdge) {
      os << (d + 1 == t.dim() ? "..., " : "...,\n" + std::string(indent + 1, ' '));
      i = n - kEdge;
    }
    idx[d] = i;
    if (d + 1 == t.dim()) {
      int64_t off = 0;
      for (int k = 0; k < t.dim(); ++k) off += idx[k] * t.strides()[k];
      print_value(dispatch_all(t.dtype(),
                               [&]<class T>() { return static_cast<double>(t.data<T>()[off]); }));
      if (i + 1 < n) os << ", ";
    } else {
      print_rec(os, t, idx, d + 1, indent + 1, width, precision, sci);
      if (i + 1 < n)
        os << "," << std::string(t.dim() - d - 1, '\n') << std::string(indent + 1, ' ');
    }
  }
  os << ']';
}
}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  std::vector<double> values = t.to_vector();
  double largest = 0, smallest_nonzero = INFINITY;
  bool all_int = true;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    largest = std::max(largest, std::abs(v));
    if (v != 0) smallest_nonzero = std::min(smallest_nonzero, std::abs(v));
    all_int = all_int && v == std::round(v);
  }
  const bool sci = largest >= 1e8 || (smallest_nonzero < 1e-4 && largest > 0);
  int precision = all_int && !sci ? 0 : 4;
  int width = 1;
  for (double v : values) {
    std::ostringstream tmp;
    if (sci)
      tmp << std::scientific << std::setprecision(precision) << v;
    else
      tmp << std::fixed << std::setprecision(precision) << v;
    width = std::max<int>(width, tmp.str().size());
  }
  std::ios_base::fmtflags flags = os.flags();
  os << "tensor(";
  std::vector<int64_t> idx(t.dim(), 0);
  print_rec(os, t, idx, 0, 7, width, precision, sci);
  os.flags(flags);
  os << ", shape=" << t.shape();
  if (t.dtype() != kFloat32) os << ", dtype=" << dtype_name(t.dtype());
  if (t.grad_fn_name() != "")
    os << ", grad_fn=" << t.grad_fn_name();
  else if (t.requires_grad())
    os << ", requires_grad=true";
  return os << ')';
}

std::string to_string(const Tensor& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

}  // namespace nabla
