// Pooling layers: each forwards to its op in src/ops/pool.cpp.
#include "nabla/nn/pooling.h"

#include <sstream>

#include "nabla/ops.h"

namespace nabla::nn {

Size2 Pool2dOptions::effective_stride() const {
  return {stride().h ? stride().h : kernel_size().h, stride().w ? stride().w : kernel_size().w};
}

Pool2dParams Pool2dOptions::params() const {
  return functional::Pool2dFuncOptions(kernel_size())
      .stride(effective_stride())
      .padding(padding())
      .floor_mode(floor_mode())
      .params();
}

namespace {

std::string pool_repr(const Pool2dOptions& options) {
  std::ostringstream out;
  out << "kernel_size=" << to_string(options.kernel_size())
      << ", stride=" << to_string(options.effective_stride())
      << ", padding=" << to_string(options.padding());
  if (options.floor_mode()) out << ", floor_mode=true";
  return out.str();
}

// Runs a pooling op, prefixing its errors with the layer as printed ("MaxPool2d(kernel_size=2,
// stride=2, padding=0)"), so the user sees which layer of a model failed.
template <class Op>
Tensor run_pool(const Module& layer, const Tensor& input, Op op) {
  try {
    return op();
  } catch (const Error& e) {
    throw Error(to_string(layer) + ": input " + input.shape().str() + ": " + e.what());
  }
}

}  // namespace

Tensor MaxPool2d::forward(const Tensor& input) {
  return run_pool(*this, input, [&] { return max_pool2d(input, options.params()); });
}
std::string MaxPool2d::extra_repr() const {
  return pool_repr(options);
}

Tensor AvgPool2d::forward(const Tensor& input) {
  return run_pool(*this, input, [&] { return avg_pool2d(input, options.params()); });
}
std::string AvgPool2d::extra_repr() const {
  return pool_repr(options);
}

Tensor GlobalAvgPool2d::forward(const Tensor& input) {
  NABLA_CHECK(input.dim() == 4, "GlobalAvgPool2d: input ", input.shape(),
              " must be 4-d (N, C, H, W)");
  return global_avg_pool2d(input, options.keepdim());
}
std::string GlobalAvgPool2d::extra_repr() const {
  return options.keepdim() ? "keepdim=true" : "";
}

}  // namespace nabla::nn
