// Not API: the per-dimension parameters the conv2d and pooling ops and their kernels read, and the
// ops that take them. Users write the options of nabla/ops/conv.h (F::conv2d with
// F::Conv2dFuncOptions, F::max_pool2d, ...) or of the layers (nn::Conv2dOptions, ...); both turn
// into these structs here, so there is one public dialect and one place that reads it.
// Tests of the ops themselves and nn::Sequential's fused conv2d_relu and max_pool2d_relu call
// these directly.
#pragma once

#include <cstdint>

#include "nabla/ops/conv.h"
#include "nabla/tensor.h"

namespace nabla::nn {
struct Conv2dOptions;
struct Pool2dOptions;
}  // namespace nabla::nn

namespace nabla::detail {

// conv2d's hyper-parameters, per dimension (h = rows, w = columns). Set fields by name,
//   Conv2dParams{.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}
// or with the chained setters that set both dims:  Conv2dParams().stride(2).padding(1)
struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;      // step between windows, >= 1
  int64_t pad_h = 0, pad_w = 0;            // zeros added on each side, >= 0
  int64_t dilation_h = 1, dilation_w = 1;  // gap between kernel taps, >= 1 (1 = dense)
  int64_t groups = 1;                      // C and OC split into this many independent blocks
  bool floor_mode = false;                 // true: PyTorch's floor, false: exact fit or throw
  ConvAlgorithm algorithm = ConvAlgorithm::Im2colGemm;

  Conv2dParams& stride(int64_t s) { return stride_h = stride_w = s, *this; }
  Conv2dParams& padding(int64_t p) { return pad_h = pad_w = p, *this; }
  Conv2dParams& dilation(int64_t d) { return dilation_h = dilation_w = d, *this; }
  Conv2dParams& floor(bool on = true) { return floor_mode = on, *this; }
  Conv2dParams& naive(bool on = true) {
    return algorithm = on ? ConvAlgorithm::Naive : ConvAlgorithm::Im2colGemm, *this;
  }
};

// Pooling windows, per dimension. stride 0 means "equal to the kernel" (PyTorch's default).
// Padding may be at most half the kernel, so every window overlaps the input.
struct Pool2dParams {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 0, stride_w = 0;
  int64_t pad_h = 0, pad_w = 0;
  bool floor_mode = false;  // as in Conv2dParams

  Pool2dParams& kernel(int64_t k) { return kernel_h = kernel_w = k, *this; }
  Pool2dParams& stride(int64_t s) { return stride_h = stride_w = s, *this; }
  Pool2dParams& padding(int64_t p) { return pad_h = pad_w = p, *this; }
  Pool2dParams& floor(bool on = true) { return floor_mode = on, *this; }
};

// The public options in per-dimension form (src/core/ops/functional.cpp, src/core/nn/conv.cpp
// and pooling.cpp). A layer's pooling stride 0 becomes the kernel size.
Conv2dParams conv2d_params(const nn::functional::Conv2dFuncOptions& options);
Conv2dParams conv2d_params(const nn::Conv2dOptions& options);
Pool2dParams pool2d_params(const nn::functional::Pool2dFuncOptions& options);
Pool2dParams pool2d_params(const nn::Pool2dOptions& options);

// The ops (src/core/ops/conv.cpp, pool.cpp); F::conv2d, F::max_pool2d and F::avg_pool2d in
// nabla/ops/conv.h document their shapes, formulas and requirements.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              const Conv2dParams& params = {});
// relu(conv2d(input, weight, bias, params)) as one op: the ReLU runs in the convolution's
// epilogue while the output is in cache, and backward masks the gradient with the saved output.
// Same result and gradients as the two ops; nn::Sequential uses it for a Conv2d then a ReLU
// (Module::forward_relu).
Tensor conv2d_relu(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
                   const Conv2dParams& params = {});
Tensor max_pool2d(const Tensor& x, const Pool2dParams& params);
// max_pool2d(relu(x), params) as one op: each window's max clamped at 0, no ReLU output and no
// ReLU backward pass. The same values and gradients as the two ops bit for bit; it equals
// relu(max_pool2d(x)) too except where a window holds a NaN (ReLU maps it to 0). nn::Sequential
// uses it for a ReLU then a MaxPool2d (Module::forward_after_relu).
Tensor max_pool2d_relu(const Tensor& x, const Pool2dParams& params);
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& params);

// batch_norm in training on one slice of a batch whose slices run together
// (autograd::BatchSlices; nn::BatchNorm1d/2d call it there): mean and variance of the whole
// batch, through `sum_over_slices` (sums a buffer in place over the slices, as SumAcrossRanks
// does over ranks; every slice calls it alike). Unlike a rank's, each slice's dy is already that
// of the whole batch's mean loss, so backward adds the slices' sums unweighted and dx is the
// slice's rows of whole-batch batch norm's. Give the running statistics to one slice only: it
// updates them with the whole batch's statistics. With `relu`, batch_norm_relu's slice.
Tensor batch_norm_slice(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                        const Tensor& weight, const Tensor& bias, double momentum, double eps,
                        const SumAcrossRanks& sum_over_slices, bool relu = false);

// relu(batch_norm(...)) as one op, in training or evaluation: the ReLU applied in the pass that
// normalises, and backward takes the gradient through it with the mask recomputed from x inside
// its own two passes (rows too short for the vector kernels, (N, C) features, save the output
// and mask with it instead). The same values and gradients as the two ops, bit for bit;
// nn::Sequential uses it for a BatchNorm1d/2d then a ReLU wherever batch_norm_relu_inference
// declines (Module::forward_relu).
Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias, bool training,
                       double momentum = 0.1, double eps = 1e-5,
                       const SumAcrossRanks& sum_across_ranks = {});

// relu(batch_norm(x, ..., training = false, ...)) in one pass, for inference only
// (src/core/ops/norm.cpp): an undefined Tensor where a gradient could be needed or there are no
// running statistics. nn::Sequential uses it for a BatchNorm1d/2d then a ReLU in evaluation.
Tensor batch_norm_relu_inference(const Tensor& x, const Tensor& running_mean,
                                 const Tensor& running_var, const Tensor& weight,
                                 const Tensor& bias, double eps);

}  // namespace nabla::detail
