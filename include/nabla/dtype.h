// Element types. float32 is the default; float64 exists for gradient checking and tests; int64
// holds labels, indices and counters (argmax's result, safetensors' I64), as in PyTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "nabla/error.h"

namespace nabla {

enum class DType : uint8_t { Float32, Float64, Int64 };
inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt64 = DType::Int64;

inline constexpr size_t dtype_size(DType t) {
  return t == DType::Float32 ? 4 : 8;
}
inline constexpr const char* dtype_name(DType t) {
  return t == DType::Float32 ? "float32" : t == DType::Float64 ? "float64" : "int64";
}
inline constexpr bool is_floating(DType t) {
  return t != DType::Int64;
}

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::Float32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::Float64;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::Int64;
}

// Throws when `t` is not a float dtype: differentiable ops and their kernels take float32 and
// float64 only. `op` names the op in the message.
inline void check_floating(const char* op, DType t) {
  NABLA_CHECK(is_floating(t), op, ": expects a float32 or float64 tensor, got ", dtype_name(t),
              " (convert it with .to(kFloat32))");
}

// Calls f.template operator()<T>() with T the C++ type of `t`, for the float kernels:
//   dispatch(x.dtype(), [&]<class T>() { kernel(y.data<T>(), x.data<T>(), n); });
// An int64 tensor throws (ops check their inputs first, with a message naming the op).
template <class F>
decltype(auto) dispatch(DType t, F&& f) {
  if (t == DType::Float64) return f.template operator()<double>();
  check_floating("float kernel", t);
  return f.template operator()<float>();
}

// As dispatch, with int64 too: for what copies, converts, compares or prints elements.
template <class F>
decltype(auto) dispatch_all(DType t, F&& f) {
  if (t == DType::Int64) return f.template operator()<int64_t>();
  return dispatch(t, std::forward<F>(f));
}

}  // namespace nabla
