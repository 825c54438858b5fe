// The convolution's definition as loops (conv.h's *_naive kernels): slow, obviously right, and
// the reference every fast path is tested against.
#include <algorithm>

#include "kernels/cpu/conv.h"

namespace nabla::cpu {

namespace {

// One loop nest visits every term of the convolution: out[o] += inp[i] · weight[w], for each
// output element o and each weight w whose window position falls inside the image (outside, the
// zero padding contributes nothing). The three naive kernels are what each does with a term.
// output_start(o, oc) is called before the first term of output o, oc being its channel.
template <class Start, class Term>
void for_each_term(const Conv2dShape& s, Start output_start, Term term) {
  const int64_t Cg = s.C / s.groups, OCg = s.OC / s.groups;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oc = 0; oc < s.OC; ++oc) {
      const int64_t g = oc / OCg;
      for (int64_t oh = 0; oh < s.OH; ++oh)
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          const int64_t o = ((n * s.OC + oc) * s.OH + oh) * s.OW + ow;
          output_start(o, oc);
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < s.KH; ++kh)
              for (int64_t kw = 0; kw < s.KW; ++kw) {
                const int64_t ih = oh * s.stride_h - s.pad_h + kh * s.dilation_h;
                const int64_t iw = ow * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;  // zero padding
                term(o, ((n * s.C + g * Cg + c) * s.H + ih) * s.W + iw,
                     ((oc * Cg + c) * s.KH + kh) * s.KW + kw);
              }
        }
    }
}

}  // namespace

template <class T>
void conv2d_forward_naive(T* out, const T* inp, const T* weight, const T* bias,
                          const Conv2dShape& s) {
  for_each_term(
      s, [&](int64_t o, int64_t oc) { out[o] = bias ? bias[oc] : T(0); },
      [&](int64_t o, int64_t i, int64_t w) { out[o] += inp[i] * weight[w]; });
}

template <class T>
void conv2d_backward_input_naive(T* dinp, const T* dout, const T* weight, const Conv2dShape& s) {
  std::fill(dinp, dinp + s.N * s.C * s.H * s.W, T(0));
  for_each_term(
      s, [](int64_t, int64_t) {},
      [&](int64_t o, int64_t i, int64_t w) { dinp[i] += dout[o] * weight[w]; });
}

template <class T>
void conv2d_backward_weight_naive(T* dweight, T* dbias, const T* dout, const T* inp,
                                  const Conv2dShape& s) {
  for_each_term(
      s,
      [&](int64_t o, int64_t oc) {
        if (dbias) dbias[oc] += dout[o];
      },
      [&](int64_t o, int64_t i, int64_t w) { dweight[w] += dout[o] * inp[i]; });
}

#define NABLA_INSTANTIATE(T)                                                                   \
  template void conv2d_forward_naive<T>(T*, const T*, const T*, const T*, const Conv2dShape&); \
  template void conv2d_backward_input_naive<T>(T*, const T*, const T*, const Conv2dShape&);    \
  template void conv2d_backward_weight_naive<T>(T*, T*, const T*, const T*, const Conv2dShape&);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu
