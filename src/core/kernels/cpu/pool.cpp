// Pooling kernels; see pool.h. The per-plane loops are the definition; the entry points split
// the planes over the pool and take the 2×2 stride-2 fast path when it applies.
#include "kernels/cpu/pool.h"

#include <algorithm>
#include <limits>

#include "kernels/cpu/vecmath.h"
#include "parallel.h"

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

// ---- one plane, any window: the definition ----

// Planes are independent, so every kernel below is "this loop over planes [p0, p1)".
// Relu: the running maximum starts at 0 instead of -inf with no position (-1), so only an element
// > 0 is ever taken (a NaN never is): the max of the window after relu, and its first position.
template <bool Relu, class T>
void max_pool_planes(T* out, int32_t* argmax, const T* inp, const Pool2dShape& s, int64_t p0,
                     int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    const T* plane = inp + p * s.H * s.W;
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const Window w = window_at(s, oh, ow);
        T best = Relu ? T(0) : -std::numeric_limits<T>::infinity();
        int64_t where = Relu ? -1 : w.h0 * s.W + w.w0;
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw) {
            const T v = plane[ih * s.W + iw];
            if (v > best || (!Relu && v != v && best == best)) best = v, where = ih * s.W + iw;
          }
        const int64_t o = (p * s.OH + oh) * s.OW + ow;
        out[o] = best;
        argmax[o] = static_cast<int32_t>(where);
      }
  }
}

// Zeroes each plane, then adds each output's gradient at its argmax (windows may overlap).
template <class T>
void max_pool_backward_planes(T* dinp, const T* dout, const int32_t* argmax, const Pool2dShape& s,
                              int64_t p0, int64_t p1) {
  const int64_t outs = s.OH * s.OW;
  for (int64_t p = p0; p < p1; ++p) {
    T* plane = dinp + p * s.H * s.W;
    std::fill(plane, plane + s.H * s.W, T(0));
    for (int64_t o = p * outs; o < (p + 1) * outs; ++o)
      if (argmax[o] >= 0) plane[argmax[o]] += dout[o];
  }
}

template <class T>
void avg_pool_planes(T* out, const T* inp, const Pool2dShape& s, int64_t p0, int64_t p1) {
  const T scale = T(1) / static_cast<T>(s.KH * s.KW);
  for (int64_t p = p0; p < p1; ++p) {
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
void avg_pool_backward_planes(T* dinp, const T* dout, const Pool2dShape& s, int64_t p0,
                              int64_t p1) {
  const T scale = T(1) / static_cast<T>(s.KH * s.KW);
  for (int64_t p = p0; p < p1; ++p) {
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

// ---- 2×2 windows, stride 2, no padding (every CNN's downsampling) ----

bool is_2x2_stride_2(const Pool2dShape& s) {
  return s.KH == 2 && s.KW == 2 && s.stride_h == 2 && s.stride_w == 2 && s.pad_h == 0 &&
         s.pad_w == 0;
}

// Planes per task: enough work (about 16K input elements) to be worth a hand-off.
int64_t plane_grain(const Pool2dShape& s) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(s.H * s.W, 1));
}

}  // namespace

// ---- entry points: planes split over the pool (each plane computed by one thread) ----

template <class T>
void max_pool2d_forward(T* out, int32_t* argmax, const T* inp, const Pool2dShape& s, bool relu) {
  parallel::parallel_for(s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    if (is_2x2_stride_2(s))  // the same windows through the vector kernels (vecmath.h)
      vec::max_pool_2x2(out + p0 * s.OH * s.OW, argmax + p0 * s.OH * s.OW, inp + p0 * s.H * s.W,
                        p1 - p0, s.H, s.W, s.OH, s.OW, relu);
    else
      (relu ? max_pool_planes<true, T> : max_pool_planes<false, T>)(out, argmax, inp, s, p0, p1);
  });
}

template <class T>
void max_pool2d_backward(T* dinp, const T* dout, const int32_t* argmax, const Pool2dShape& s) {
  parallel::parallel_for(s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    if (is_2x2_stride_2(s))  // each element written once (vecmath.h)
      vec::max_pool_2x2_backward(dinp + p0 * s.H * s.W, dout + p0 * s.OH * s.OW,
                                 argmax + p0 * s.OH * s.OW, p1 - p0, s.H, s.W, s.OH, s.OW);
    else
      max_pool_backward_planes(dinp, dout, argmax, s, p0, p1);
  });
}

template <class T>
void avg_pool2d_forward(T* out, const T* inp, const Pool2dShape& s) {
  parallel::parallel_for(s.planes, plane_grain(s),
                         [&](int64_t p0, int64_t p1) { avg_pool_planes(out, inp, s, p0, p1); });
}

template <class T>
void avg_pool2d_backward(T* dinp, const T* dout, const Pool2dShape& s) {
  parallel::parallel_for(s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    avg_pool_backward_planes(dinp, dout, s, p0, p1);
  });
}

template <class T>
void max_pool2d_forward_naive(T* out, int32_t* argmax, const T* inp, const Pool2dShape& s,
                              bool relu) {
  (relu ? max_pool_planes<true, T> : max_pool_planes<false, T>)(out, argmax, inp, s, 0, s.planes);
}

template <class T>
void avg_pool2d_forward_naive(T* out, const T* inp, const Pool2dShape& s) {
  avg_pool_planes(out, inp, s, 0, s.planes);
}

#define NABLA_INSTANTIATE(T)                                                                   \
  template void max_pool2d_forward<T>(T*, int32_t*, const T*, const Pool2dShape&, bool);       \
  template void max_pool2d_backward<T>(T*, const T*, const int32_t*, const Pool2dShape&);      \
  template void avg_pool2d_forward<T>(T*, const T*, const Pool2dShape&);                       \
  template void avg_pool2d_backward<T>(T*, const T*, const Pool2dShape&);                      \
  template void max_pool2d_forward_naive<T>(T*, int32_t*, const T*, const Pool2dShape&, bool); \
  template void avg_pool2d_forward_naive<T>(T*, const T*, const Pool2dShape&);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu
