// Tensor contents in and out of ONNX's TensorProto (include: onnx/proto.h).
#include "onnx/proto.h"

#include <cstring>

#include "nabla/error.h"

namespace nabla::onnx::proto {

void set_float_tensor(::onnx::TensorProto& t, const std::string& name,
                      const std::vector<float>& values, const std::vector<int64_t>& dims) {
  t.set_name(name);
  t.set_data_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  // raw_data is little-endian float32, the layout torch.onnx.export writes.
  t.set_raw_data(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

void set_int64_tensor(::onnx::TensorProto& t, const std::string& name,
                      const std::vector<int64_t>& values, const std::vector<int64_t>& dims) {
  t.set_name(name);
  t.set_data_type(::onnx::TensorProto::INT64);
  for (int64_t d : dims) t.add_dims(d);
  for (int64_t v : values) t.add_int64_data(v);
}

namespace {

int64_t element_count(const ::onnx::TensorProto& t, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    NABLA_CHECK(d >= 0 && !__builtin_mul_overflow(n, d, &n), what, ": invalid dims");
  }
  return n;
}

template <class T, class Field>
std::vector<T> values_of(const ::onnx::TensorProto& t, const Field& field,
                         const std::string& what) {
  NABLA_CHECK(t.data_location() != ::onnx::TensorProto::EXTERNAL, what,
              ": data in an external file is not supported; save the model as one file");
  const int64_t n = element_count(t, what);
  std::vector<T> out;
  if (t.has_raw_data()) {
    NABLA_CHECK(t.raw_data().size() == static_cast<size_t>(n) * sizeof(T), what,
                ": raw_data holds ", t.raw_data().size(), " bytes for ", n, " values of ",
                sizeof(T), " bytes");
    out.resize(static_cast<size_t>(n));
    std::memcpy(out.data(), t.raw_data().data(), t.raw_data().size());
    return out;
  }
  NABLA_CHECK(field.size() == n, what, ": holds ", field.size(), " values for dims of ", n);
  out.assign(field.begin(), field.end());
  return out;
}

}  // namespace

std::vector<float> float_values(const ::onnx::TensorProto& t, const std::string& what) {
  NABLA_CHECK(
      t.data_type() == ::onnx::TensorProto::FLOAT, what, ": data type ",
      ::onnx::TensorProto::DataType_Name(static_cast<::onnx::TensorProto::DataType>(t.data_type())),
      " is not supported (float32 only)");
  return values_of<float>(t, t.float_data(), what);
}

std::vector<int64_t> int64_values(const ::onnx::TensorProto& t, const std::string& what) {
  NABLA_CHECK(
      t.data_type() == ::onnx::TensorProto::INT64, what, ": data type ",
      ::onnx::TensorProto::DataType_Name(static_cast<::onnx::TensorProto::DataType>(t.data_type())),
      " is not int64");
  return values_of<int64_t>(t, t.int64_data(), what);
}

std::vector<float> to_floats(const Tensor& t) {
  const std::vector<double> v = t.to_vector();
  return {v.begin(), v.end()};
}

}  // namespace nabla::onnx::proto
