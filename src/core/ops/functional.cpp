// The functional API (nabla::nn::functional, in nabla/ops/conv.h): its options turned into the
// per-dimension parameters the ops read (nabla/detail/conv_params.h), and the calls.
#include "nabla/detail/conv_params.h"
#include "nabla/ops.h"

namespace nabla {

detail::Conv2dParams detail::conv2d_params(const nn::functional::Conv2dFuncOptions& options) {
  return {.stride_h = options.stride().h,
          .stride_w = options.stride().w,
          .pad_h = options.padding().h,
          .pad_w = options.padding().w,
          .dilation_h = options.dilation().h,
          .dilation_w = options.dilation().w,
          .groups = options.groups(),
          .floor_mode = options.floor_mode(),
          .algorithm = options.algorithm()};
}

detail::Pool2dParams detail::pool2d_params(const nn::functional::Pool2dFuncOptions& options) {
  return {.kernel_h = options.kernel_size().h,
          .kernel_w = options.kernel_size().w,
          .stride_h = options.stride().h,
          .stride_w = options.stride().w,
          .pad_h = options.padding().h,
          .pad_w = options.padding().w,
          .floor_mode = options.floor_mode()};
}

namespace nn::functional {

Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options) {
  return detail::conv2d(input, weight, options.bias(), detail::conv2d_params(options));
}

Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& options) {
  return detail::max_pool2d(x, detail::pool2d_params(options));
}

Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& options) {
  return detail::avg_pool2d(x, detail::pool2d_params(options));
}

}  // namespace nn::functional
}  // namespace nabla
