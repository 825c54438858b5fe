// Element types. float32 is the default; float64 exists for gradient checking and tests.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nabla/error.h"

namespace nabla {

enum class DType : uint8_t { Float32, Float64 };
inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;

inline constexpr size_t dtype_size(DType t) {
  return t == DType::Float32 ? 4 : 8;
}
inline constexpr const char* dtype_name(DType t) {
  return t == DType::Float32 ? "float32" : "float64";
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

// Calls f.template operator()<T>() with T the C++ type of `t`:
//   dispatch(x.dtype(), [&]<class T>() { kernel(y.data<T>(), x.data<T>(), n); });
template <class F>
decltype(auto) dispatch(DType t, F&& f) {
  if (t == DType::Float64) return f.template operator()<double>();
  return f.template operator()<float>();
}

}  // namespace nabla
