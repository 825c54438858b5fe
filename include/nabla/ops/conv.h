// The ops of convolutional networks (CS231n lectures 5-7): conv2d, max/avg pooling, batch
// normalisation and dropout. Included by nabla/ops.h, which stays the one header users need.
// Forward and backward of each sit side by side in src/ops/{conv,pool,norm,dropout}.cpp.
//
// Images are (N, C, H, W): batch, channels, height, width, contiguous or not.
//
// Output size. A window of size F (dilated: d·(F-1)+1) moved in steps of S over an input of size
// W padded by P on each side has (W - F + 2P)/S + 1 positions. CS231n calls a configuration
// valid only when that is an integer. nabla throws nabla::Error, explaining the arithmetic,
// when it is not and the windows would never reach some rows or columns of the input itself;
// a misfit that leaves out only padding (kernel 3, padding 1, stride 2 on an even size) loses
// nothing and is accepted. PyTorch always floors, silently ignoring input rows or columns; set
// `floor_mode = true` to get PyTorch's behaviour.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "nabla/arg.h"
#include "nabla/random.h"
#include "nabla/size2.h"
#include "nabla/tensor.h"

namespace nabla {

// Which conv2d kernels run. Both give the same numbers up to float rounding (a test checks).
enum class ConvAlgorithm {
  Im2colGemm,  // patches unrolled into a matrix, one large GEMM per chunk of images (fast)
  Naive,       // the definition as nested loops: the readable reference for students
};

// The output extent of one dimension under conv2d's rule, or throws the error conv2d would.
// `what` names the op and dimension in the message, e.g. "conv2d: input height".
int64_t conv_output_size(int64_t size, int64_t kernel, int64_t pad, int64_t stride,
                         int64_t dilation, bool floor_mode, const char* what);

// Mean over each channel's whole plane: x (N, C, H, W) -> (N, C), or (N, C, 1, 1) with keepdim.
// Composed from mean over dims {2, 3}, so it needs no op of its own.
Tensor global_avg_pool2d(const Tensor& x, bool keepdim = false);

// Batch normalisation (Ioffe & Szegedy 2015), per channel c:
//   y = (x - mean_c) / sqrt(var_c + eps) · weight_c + bias_c
//   x: (N, C) or (N, C, H, W); statistics over N (and H, W). running_mean, running_var,
//   weight, bias: (C) each, or undefined (no running statistics / no affine transform).
// training, or no running statistics: mean and the biased variance of this batch are used,
//   and when running statistics exist they are updated in place, as PyTorch does:
//     running_mean = (1 - momentum) · running_mean + momentum · mean
//     running_var  = (1 - momentum) · running_var  + momentum · var · M / (M - 1)   (unbiased)
//   with M = N·H·W values per channel (M must be > 1).
// otherwise: running_mean and running_var are used and left unchanged.
// Differentiable in x, weight and bias (the running statistics are buffers, not inputs).
//
// Synchronised batch norm (docs/distributed.md): with batch statistics and a non-empty
// `sum_across_ranks` (which must sum a buffer in place over the ranks of a data-parallel job,
// every rank calling it alike), mean and variance are those of all ranks' batches together:
// forward sums [Σx, M] and then Σ(x - mean)² over the ranks (C + 1 and C doubles), and the
// running statistics get the global values (M the global count). Backward sums per channel
// Σdy and Σdy·xhat (2·C doubles), each rank's weighted by its batch size N, because each rank's
// dy is that of its own mean loss and DataParallel averages gradients weighted the same way; so
// after that average, weight and bias gradients equal batch norm's over the global batch, and
// dx equals (global N / local N) times its rows of it. weight and bias gradients stay local
// (DataParallel reduces them). With one rank (global M equal to local M) the results are
// bitwise those of the plain op.
using SumAcrossRanks = std::function<void(std::span<double>)>;
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5, const SumAcrossRanks& sum_across_ranks = {});

// Inverted dropout (CS231n): in training each element is zeroed with probability p and the
// survivors are scaled by 1 / (1 - p), so evaluation needs no rescaling; not training (or p = 0)
// returns x unchanged. The mask is drawn from `gen`, so one seed gives one mask. p in [0, 1].
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

}  // namespace nabla

// ---- conv2d and pooling, in LibTorch's dialect (torch::nn::functional) ----
// The same options style as the layers (nn::Conv2dOptions): named, chained setters with the
// defaults beside them, one value or {h, w} per spatial setting.
//   namespace F = nabla::nn::functional;  // or nabla::F
//   F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).stride(2).padding(1));
//   F::max_pool2d(x, F::MaxPool2dFuncOptions(2));   // stride defaults to the kernel size
// The ops read these options in a per-dimension form that is not API (nabla/detail/conv_params.h).
namespace nabla::nn::functional {

struct Conv2dFuncOptions {
  NABLA_ARG(Tensor, bias);              // (OC), or undefined for none
  NABLA_ARG(Size2, stride) = 1;         // step between windows, >= 1
  NABLA_ARG(Size2, padding) = 0;        // zeros added on each side, >= 0
  NABLA_ARG(Size2, dilation) = 1;       // gap between kernel taps, >= 1 (1 = dense)
  NABLA_ARG(int64_t, groups) = 1;       // C and OC split into this many independent blocks
  NABLA_ARG(bool, floor_mode) = false;  // PyTorch's floor instead of "exact fit or throw"
  NABLA_ARG(ConvAlgorithm, algorithm) = ConvAlgorithm::Im2colGemm;
};

// Pooling windows; max and average pooling take the same options.
struct Pool2dFuncOptions {
  Pool2dFuncOptions(Size2 kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}
  NABLA_ARG(Size2, kernel_size);
  NABLA_ARG(Size2, stride);             // the kernel size unless set, as in PyTorch
  NABLA_ARG(Size2, padding) = 0;        // at most half the kernel
  NABLA_ARG(bool, floor_mode) = false;  // as in Conv2dFuncOptions
};
using MaxPool2dFuncOptions = Pool2dFuncOptions;
using AvgPool2dFuncOptions = Pool2dFuncOptions;

// 2-d convolution (cross-correlation, as in PyTorch), with s = stride, p = padding,
// d = dilation, G = groups:
//   input (N, C, H, W), weight (OC, C/G, KH, KW), bias (OC) or undefined for none
//   -> (N, OC, OH, OW), OH = (H + 2·p_h - d_h·(KH - 1) - 1) / s_h + 1 (same for W).
//   out[n, oc, oh, ow] = bias[oc] + Σ_{c, kh, kw} input[n, g·C/G + c, oh·s_h - p_h + kh·d_h,
//                                                        ow·s_w - p_w + kw·d_w]
//                                                  · weight[oc, c, kh, kw]
// with g = oc / (OC/G) and zeros outside the input. Differentiable in input, weight and bias.
//   requires: same dtype; C and OC divisible by groups; weight.size(1) == C / groups;
//             the dilated kernel fits in the padded input; exact fit unless floor_mode.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options = {});
// Largest value of each window: x (N, C, H, W) -> (N, C, OH, OW), padding reads -inf. The
// gradient goes to the first maximal element of each window (row-major order), as in PyTorch.
Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& options);
// Mean of each window: x (N, C, H, W) -> (N, C, OH, OW). Padding counts as zeros in the mean
// (the divisor is always KH·KW: PyTorch's count_include_pad = true).
Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& options);

}  // namespace nabla::nn::functional

namespace nabla {
namespace F = nn::functional;
}  // namespace nabla
