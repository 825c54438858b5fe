// Pooling kernels; see pool.h.
#include "kernels/cpu/pool.h"

#include <algorithm>
#include <limits>

namespace nabla::cpu {

namespace {

// The part of output (oh, ow)'s window that lies inside the input: [h0, h1) × [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
};
Window window_at(const Pool2dShape& s, int64_t oh, int64_t ow) {
  const int64_t h = oh * s.stride_h - s.pad_h, w = ow * s.stride_w - s.pad_w;
  return {std::max<int64_t>(h, 0), std::min(h + s.KH, s.H), std::max<int64_t>(w, 0),
          std::min(w + s.KW, s.W)};
}

}  // namespace

template <class T>
void max_pool2d_forward(T* out, int32_t* argmax, const T* inp, const Pool2dShape& s) {
  for (int64_t p = 0; p < s.planes; ++p) {
    const T* plane = inp + p * s.H * s.W;
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const Window w = window_at(s, oh, ow);
        T best = -std::numeric_limits<T>::infinity();
        int64_t where = w.h0 * s.W + w.w0;
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw) {
            const T v = plane[ih * s.W + iw];
            if (v > best || (v != v && best == best)) best = v, where = ih * s.W + iw;
          }
        const int64_t o = (p * s.OH + oh) * s.OW + ow;
        out[o] = best;
        argmax[o] = static_cast<int32_t>(where);
      }
  }
}

template <class T>
void max_pool2d_backward(T* dinp, const T* dout, const int32_t* argmax, const Pool2dShape& s) {
  const int64_t outs = s.OH * s.OW;
  for (int64_t p = 0; p < s.planes; ++p) {
    T* plane = dinp + p * s.H * s.W;
    for (int64_t o = p * outs; o < (p + 1) * outs; ++o) plane[argmax[o]] += dout[o];
  }
}

template <class T>
void avg_pool2d_forward(T* out, const T* inp, const Pool2dShape& s) {
  const T scale = T(1) / static_cast<T>(s.KH * s.KW);
  for (int64_t p = 0; p < s.planes; ++p) {
    const T* plane = inp + p * s.H * s.W;
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const Window w = window_at(s, oh, ow);
        T acc = 0;
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw) acc += plane[ih * s.W + iw];
        out[(p * s.OH + oh) * s.OW + ow] = acc * scale;
      }
  }
}

template <class T>
void avg_pool2d_backward(T* dinp, const T* dout, const Pool2dShape& s) {
  const T scale = T(1) / static_cast<T>(s.KH * s.KW);
  for (int64_t p = 0; p < s.planes; ++p) {
    T* plane = dinp + p * s.H * s.W;
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const Window w = window_at(s, oh, ow);
        const T d = dout[(p * s.OH + oh) * s.OW + ow] * scale;
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw) plane[ih * s.W + iw] += d;
      }
  }
}

#define NABLA_INSTANTIATE(T)                                                              \
  template void max_pool2d_forward<T>(T*, int32_t*, const T*, const Pool2dShape&);        \
  template void max_pool2d_backward<T>(T*, const T*, const int32_t*, const Pool2dShape&); \
  template void avg_pool2d_forward<T>(T*, const T*, const Pool2dShape&);                  \
  template void avg_pool2d_backward<T>(T*, const T*, const Pool2dShape&);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu
