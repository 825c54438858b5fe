// conv2d: shape rules, forward, and backward for input, weight and bias, side by side.
// N, C, H, W = input batch, channels, height, width; OC = output channels; KH, KW = kernel;
// OH, OW = output size; G = groups.
// The loops live in kernels/cpu/conv.cpp (naive and im2col + GEMM); this file checks shapes,
// picks the kernel named by Conv2dParams::algorithm and records the graph node.
#include "kernels/cpu/conv.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <sstream>

#include "nabla/detail/conv_params.h"
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

using detail::Conv2dParams;

int64_t conv_output_size(int64_t size, int64_t kernel, int64_t pad, int64_t stride,
                         int64_t dilation, bool floor_mode, const char* what) {
  const int64_t span = dilation * (kernel - 1) + 1;  // the window's extent, taps and gaps
  const int64_t room = size + 2 * pad - span;        // W - F + 2P of CS231n's rule
  NABLA_CHECK(room >= 0, what, " ", size, " padded by ", pad, " on each side is smaller than the ",
              dilation > 1 ? "dilated " : "", "kernel (", span, "): the window does not fit");
  // Flooring drops the last room % stride rows of the padded input. When they are all padding
  // (kernel 3, padding 1, stride 2 on an even size, as in every ResNet downsampling conv) no
  // input is lost and the configuration is accepted; when they hold input, it is an error.
  const int64_t left = room % stride;
  if (!floor_mode && left > pad) {
    std::ostringstream ratio;
    ratio << static_cast<double>(room) / static_cast<double>(stride) + 1;
    detail::throw_error(what, " ", size, " with kernel ", span, ", padding ", pad, " and stride ",
                        stride, " does not fit evenly: (W - F + 2P)/S + 1 = (", size, " - ", span,
                        " + ", 2 * pad, ")/", stride, " + 1 = ", ratio.str(),
                        " is not an integer, so the windows would never reach the last ",
                        left - pad,
                        " row(s) or column(s) of the input (input data would be "
                        "ignored); change the stride or padding, or set floor_mode = true to drop "
                        "them as PyTorch does");
  }
  return room / stride + 1;
}

namespace {

cpu::Conv2dShape conv_shape(const Tensor& input, const Tensor& weight, const Tensor& bias,
                            const Conv2dParams& p) {
  const Shape& in = input.shape();
  const Shape& w = weight.shape();
  NABLA_CHECK(input.dim() == 4, "conv2d: input ", in,
              " must be 4-d (N, C, H, W); add a batch dim with unsqueeze(0) for one image");
  NABLA_CHECK(weight.dim() == 4, "conv2d: weight ", w, " must be 4-d (OC, C/groups, KH, KW)");
  check_same_dtype("conv2d", input, weight);
  NABLA_CHECK(p.stride_h >= 1 && p.stride_w >= 1, "conv2d: stride ", p.stride_h, "×", p.stride_w,
              " must be at least 1");
  NABLA_CHECK(p.pad_h >= 0 && p.pad_w >= 0, "conv2d: padding ", p.pad_h, "×", p.pad_w,
              " must not be negative");
  NABLA_CHECK(p.dilation_h >= 1 && p.dilation_w >= 1, "conv2d: dilation ", p.dilation_h, "×",
              p.dilation_w, " must be at least 1");
  NABLA_CHECK(p.groups >= 1, "conv2d: groups ", p.groups, " must be at least 1");
  NABLA_CHECK(in[1] % p.groups == 0, "conv2d: input ", in, " has ", in[1],
              " channels, which do not split into ", p.groups, " groups");
  NABLA_CHECK(w[0] % p.groups == 0, "conv2d: weight ", w, " has ", w[0],
              " output channels, which do not split into ", p.groups, " groups");
  if (p.groups == 1) {
    NABLA_CHECK(w[1] == in[1], "conv2d: input ", in, " has ", in[1], " channels but weight ", w,
                " expects ", w[1]);
  } else {
    NABLA_CHECK(w[1] * p.groups == in[1], "conv2d: input ", in, " has ", in[1],
                " channels but weight ", w, " with ", p.groups, " groups expects ", w[1], " × ",
                p.groups, " = ", w[1] * p.groups);
  }
  NABLA_CHECK(w[2] >= 1 && w[3] >= 1, "conv2d: weight ", w, " has an empty kernel");
  if (bias.defined()) {
    check_same_dtype("conv2d", input, bias);
    NABLA_CHECK(bias.dim() == 1 && bias.size(0) == w[0], "conv2d: bias ", bias.shape(),
                " must have one value per output channel of weight ", w, ", i.e. shape [", w[0],
                "]");
  }
  cpu::Conv2dShape s;
  s.N = in[0], s.C = in[1], s.H = in[2], s.W = in[3];
  s.OC = w[0], s.KH = w[2], s.KW = w[3];
  s.stride_h = p.stride_h, s.stride_w = p.stride_w, s.pad_h = p.pad_h, s.pad_w = p.pad_w;
  s.dilation_h = p.dilation_h, s.dilation_w = p.dilation_w, s.groups = p.groups;
  s.OH = conv_output_size(s.H, s.KH, s.pad_h, s.stride_h, s.dilation_h, p.floor_mode,
                          "conv2d: input height");
  s.OW = conv_output_size(s.W, s.KW, s.pad_w, s.stride_w, s.dilation_w, p.floor_mode,
                          "conv2d: input width");
  return s;
}

Tensor workspace_for(const cpu::Conv2dShape& s, ConvAlgorithm algorithm, DType dtype) {
  if (algorithm == ConvAlgorithm::Naive) return {};
  return Tensor::empty({cpu::conv2d_workspace_size(s)}, dtype);
}

}  // namespace

// conv2d: input (N, C, H, W) ⋆ weight (OC, C/G, KH, KW) + bias (OC) -> out (N, OC, OH, OW).
// Saves the input (for dweight and dbias) and the weight (for dinput), contiguous and detached,
// each only when a gradient that reads it is wanted:
//   dinput  = convᵀ(dout, weight)       (each dout element flows back through its window)
//   dweight = Σ_n dout ⋆ input patches   dbias = Σ_{n, oh, ow} dout
// Gradients are computed only for the inputs that require them.
//
// With `relu` (conv2d_relu) the ReLU is applied in the forward's epilogue and the output is saved
// too: backward first zeroes dout where the output is 0, then runs conv2d's backward.
namespace {

Tensor conv2d_maybe_relu(const Tensor& input, const Tensor& weight, const Tensor& bias,
                         const Conv2dParams& params, bool relu) {
  check_floating(relu ? "conv2d_relu" : "conv2d", input.dtype());
  const cpu::Conv2dShape s = conv_shape(input, weight, bias, params);
  const ConvAlgorithm algo = params.algorithm;
  Tensor x = contiguous_data(input).detach();
  Tensor w = contiguous_data(weight).detach();
  Tensor b = bias.defined() ? contiguous_data(bias).detach() : Tensor();
  Tensor out = Tensor::empty({s.N, s.OC, s.OH, s.OW}, input.dtype());
  dispatch(input.dtype(), [&]<class T>() {
    const T* bp = b.defined() ? b.data<T>() : nullptr;
    if (algo == ConvAlgorithm::Naive) {
      cpu::conv2d_forward_naive(out.data<T>(), x.data<T>(), w.data<T>(), bp, s);
      if (relu)
        for (T& v : std::span(out.data<T>(), static_cast<size_t>(out.numel())))
          v = std::max(v, T(0));
    } else {
      Tensor ws = workspace_for(s, algo, input.dtype());
      cpu::conv2d_forward(out.data<T>(), x.data<T>(), w.data<T>(), bp, s, ws.data<T>(), relu);
    }
  });
  const bool need_dx = input.requires_grad(), need_dw = weight.requires_grad();
  const bool need_db = bias.defined() && bias.requires_grad();
  // Keep only what backward reads: the weight for dinput, the input for dweight and dbias.
  Tensor saved_x = need_dw || need_db ? x : Tensor(), saved_w = need_dx ? w : Tensor();
  Tensor saved_y = relu ? out.detach() : Tensor();  // never `out` itself: a reference cycle
  return autograd::record(
      relu ? Op::conv2d_relu : Op::conv2d, out, {input, weight, bias},
      [x = saved_x, w = saved_w, y = saved_y, s, algo, need_dx, need_dw,
       need_db](const Tensor& dout) {
        const DType dtype = dout.dtype();
        const Shape w_shape{s.OC, s.C / s.groups, s.KH, s.KW};
        Tensor g = contiguous_data(dout);
        if (y.defined()) g = through_relu(g, y);
        // The input-gradient kernels write all of dx (conv.h).
        Tensor dx = need_dx ? Tensor::empty({s.N, s.C, s.H, s.W}, dtype) : Tensor();
        // dbias alone still runs the weight kernel, into a scratch dweight: a frozen conv
        // weight with a trained bias is too rare to deserve a kernel of its own.
        Tensor dw = need_dw || need_db ? Tensor::zeros(w_shape, dtype) : Tensor();
        Tensor db = need_db ? Tensor::zeros({s.OC}, dtype) : Tensor();
        Tensor ws = workspace_for(s, algo, dtype);
        dispatch(dtype, [&]<class T>() {
          const bool naive = algo == ConvAlgorithm::Naive;
          if (!naive && need_dx && (need_dw || need_db)) {
            // In one call: Winograd transforms the output gradient once for both gradients.
            cpu::conv2d_backward(dx.data<T>(), dw.data<T>(), need_db ? db.data<T>() : nullptr,
                                 g.data<T>(), x.data<T>(), w.data<T>(), s, ws.data<T>());
            return;
          }
          if (need_dx) {
            if (naive)
              cpu::conv2d_backward_input_naive(dx.data<T>(), g.data<T>(), w.data<T>(), s);
            else
              cpu::conv2d_backward_input(dx.data<T>(), g.data<T>(), w.data<T>(), s, ws.data<T>());
          }
          if (need_dw || need_db) {
            T* dbp = need_db ? db.data<T>() : nullptr;
            if (naive)
              cpu::conv2d_backward_weight_naive(dw.data<T>(), dbp, g.data<T>(), x.data<T>(), s);
            else
              cpu::conv2d_backward_weight(dw.data<T>(), dbp, g.data<T>(), x.data<T>(), s,
                                          ws.data<T>());
          }
        });
        return Grads{dx, need_dw ? dw : Tensor(), db};
      });
}

}  // namespace

Tensor detail::conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                      const Conv2dParams& params) {
  return conv2d_maybe_relu(input, weight, bias, params, false);
}

Tensor detail::conv2d_relu(const Tensor& input, const Tensor& weight, const Tensor& bias,
                           const Conv2dParams& params) {
  return conv2d_maybe_relu(input, weight, bias, params, true);
}

}  // namespace nabla
