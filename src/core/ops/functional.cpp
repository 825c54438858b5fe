// The functional API's options (nabla::nn::functional, in nabla/ops/conv.h) turned into the
// per-dimension parameters the ops read.
#include "nabla/ops.h"

namespace nabla::nn::functional {

Conv2dParams Conv2dFuncOptions::params() const {
  return {.stride_h = stride().h,
          .stride_w = stride().w,
          .pad_h = padding().h,
          .pad_w = padding().w,
          .dilation_h = dilation().h,
          .dilation_w = dilation().w,
          .groups = groups(),
          .floor_mode = floor_mode(),
          .algorithm = algorithm()};
}

Pool2dParams Pool2dFuncOptions::params() const {
  return {.kernel_h = kernel_size().h,
          .kernel_w = kernel_size().w,
          .stride_h = stride().h,
          .stride_w = stride().w,
          .pad_h = padding().h,
          .pad_w = padding().w,
          .floor_mode = floor_mode()};
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options) {
  return nabla::conv2d(input, weight, options.bias(), options.params());
}

Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& options) {
  return nabla::max_pool2d(x, options.params());
}

Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& options) {
  return nabla::avg_pool2d(x, options.params());
}

}  // namespace nabla::nn::functional
