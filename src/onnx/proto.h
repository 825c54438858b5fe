// Helpers over ONNX's generated messages (onnx.pb.h, protoc's output for Debian's onnx.proto),
// shared by export.cpp and import.cpp. Private to nabla::onnx: nothing outside src/onnx sees
// protobuf.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/tensor.h"
#include "onnx.pb.h"

namespace nabla::onnx::proto {

// A float32 initializer (or Constant value) named `name` holding `values` of `dims`.
void set_float_tensor(::onnx::TensorProto& t, const std::string& name,
                      const std::vector<float>& values, const std::vector<int64_t>& dims);
// An int64 one (Reshape's shape).
void set_int64_tensor(::onnx::TensorProto& t, const std::string& name,
                      const std::vector<int64_t>& values, const std::vector<int64_t>& dims);

// The values of a float32 or int64 tensor, from float_data / int64_data or raw_data
// (little-endian, as torch.onnx.export writes them); `what` names it in errors.
std::vector<float> float_values(const ::onnx::TensorProto& t, const std::string& what);
std::vector<int64_t> int64_values(const ::onnx::TensorProto& t, const std::string& what);

// A tensor's contents as float32 values in row-major order.
std::vector<float> to_floats(const Tensor& t);

}  // namespace nabla::onnx::proto
