// Convolution kernels: the naive loops first (the definition), then im2col/col2im and the GEMM
// versions built on them. See conv.h for layouts and conventions.
#include "kernels/cpu/conv.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/gemm.h"

namespace nabla::cpu {

// ---- the definition, as loops ----

template <class T>
void conv2d_forward_naive(T* out, const T* inp, const T* weight, const T* bias,
                          const Conv2dShape& s) {
  const int64_t Cg = s.C / s.groups, OCg = s.OC / s.groups;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oc = 0; oc < s.OC; ++oc) {
      const int64_t g = oc / OCg;
      for (int64_t oh = 0; oh < s.OH; ++oh)
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          T acc = bias ? bias[oc] : T(0);
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < s.KH; ++kh)
              for (int64_t kw = 0; kw < s.KW; ++kw) {
                const int64_t ih = oh * s.stride_h - s.pad_h + kh * s.dilation_h;
                const int64_t iw = ow * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;  // zero padding
                acc += inp[((n * s.C + g * Cg + c) * s.H + ih) * s.W + iw] *
                       weight[((oc * Cg + c) * s.KH + kh) * s.KW + kw];
              }
          out[((n * s.OC + oc) * s.OH + oh) * s.OW + ow] = acc;
        }
    }
}

template <class T>
void conv2d_backward_input_naive(T* dinp, const T* dout, const T* weight, const Conv2dShape& s) {
  const int64_t Cg = s.C / s.groups, OCg = s.OC / s.groups;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oc = 0; oc < s.OC; ++oc) {
      const int64_t g = oc / OCg;
      for (int64_t oh = 0; oh < s.OH; ++oh)
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          const T d = dout[((n * s.OC + oc) * s.OH + oh) * s.OW + ow];
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < s.KH; ++kh)
              for (int64_t kw = 0; kw < s.KW; ++kw) {
                const int64_t ih = oh * s.stride_h - s.pad_h + kh * s.dilation_h;
                const int64_t iw = ow * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                dinp[((n * s.C + g * Cg + c) * s.H + ih) * s.W + iw] +=
                    d * weight[((oc * Cg + c) * s.KH + kh) * s.KW + kw];
              }
        }
    }
}

template <class T>
void conv2d_backward_weight_naive(T* dweight, T* dbias, const T* dout, const T* inp,
                                  const Conv2dShape& s) {
  const int64_t Cg = s.C / s.groups, OCg = s.OC / s.groups;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oc = 0; oc < s.OC; ++oc) {
      const int64_t g = oc / OCg;
      for (int64_t oh = 0; oh < s.OH; ++oh)
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          const T d = dout[((n * s.OC + oc) * s.OH + oh) * s.OW + ow];
          if (dbias) dbias[oc] += d;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < s.KH; ++kh)
              for (int64_t kw = 0; kw < s.KW; ++kw) {
                const int64_t ih = oh * s.stride_h - s.pad_h + kh * s.dilation_h;
                const int64_t iw = ow * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                dweight[((oc * Cg + c) * s.KH + kh) * s.KW + kw] +=
                    d * inp[((n * s.C + g * Cg + c) * s.H + ih) * s.W + iw];
              }
        }
    }
}

// ---- im2col + GEMM ----

namespace {

// Above this many `col` elements a chunk stops growing: the GEMM is already large, and a
// bigger buffer only falls out of cache between im2col and the GEMM.
constexpr int64_t kColBudget = int64_t{1} << 21;

// The outputs o in [lo, hi) whose input index o·stride + offset lies in [0, size): outside it
// a window reads padding.
struct Range {
  int64_t lo, hi;
};
Range valid_outputs(int64_t offset, int64_t stride, int64_t size, int64_t outputs) {
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  hi = std::min(hi, outputs);
  return {std::min(lo, hi), hi};
}

// col (C·KH·KW, nb·P) = the patches of images [n0, n0 + nb): row (c, kh, kw), column
// (image, oh, ow) holds inp[n, c, oh·sh - ph + kh·dh, ow·sw - pw + kw·dw], 0 in the padding.
template <class T>
void im2col(T* col, const T* inp, const Conv2dShape& s, int64_t n0, int64_t nb) {
  const int64_t P = s.OH * s.OW, cols = nb * P;
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t h_off = kh * s.dilation_h - s.pad_h;
      const Range rh = valid_outputs(h_off, s.stride_h, s.H, s.OH);
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t w_off = kw * s.dilation_w - s.pad_w;
        const Range rw = valid_outputs(w_off, s.stride_w, s.W, s.OW);
        T* row = col + ((c * s.KH + kh) * s.KW + kw) * cols;
        for (int64_t i = 0; i < nb; ++i) {
          const T* plane = inp + ((n0 + i) * s.C + c) * s.H * s.W;
          T* dst = row + i * P;
          std::fill(dst, dst + rh.lo * s.OW, T(0));
          for (int64_t oh = rh.lo; oh < rh.hi; ++oh) {
            const T* src = plane + (oh * s.stride_h + h_off) * s.W + w_off;
            T* d = dst + oh * s.OW;
            std::fill(d, d + rw.lo, T(0));
            if (s.stride_w == 1) {
              std::memcpy(d + rw.lo, src + rw.lo, sizeof(T) * (rw.hi - rw.lo));
            } else {
              for (int64_t ow = rw.lo; ow < rw.hi; ++ow) d[ow] = src[ow * s.stride_w];
            }
            std::fill(d + rw.hi, d + s.OW, T(0));
          }
          std::fill(dst + rh.hi * s.OW, dst + P, T(0));
        }
      }
    }
}

// The adjoint of im2col: dinp[n, c, ih, iw] += every col entry that im2col copied from there.
template <class T>
void col2im(T* dinp, const T* col, const Conv2dShape& s, int64_t n0, int64_t nb) {
  const int64_t P = s.OH * s.OW, cols = nb * P;
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t h_off = kh * s.dilation_h - s.pad_h;
      const Range rh = valid_outputs(h_off, s.stride_h, s.H, s.OH);
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t w_off = kw * s.dilation_w - s.pad_w;
        const Range rw = valid_outputs(w_off, s.stride_w, s.W, s.OW);
        const T* row = col + ((c * s.KH + kh) * s.KW + kw) * cols;
        for (int64_t i = 0; i < nb; ++i) {
          T* plane = dinp + ((n0 + i) * s.C + c) * s.H * s.W;
          for (int64_t oh = rh.lo; oh < rh.hi; ++oh) {
            T* d = plane + (oh * s.stride_h + h_off) * s.W + w_off;
            const T* src = row + i * P + oh * s.OW;
            if (s.stride_w == 1) {
              for (int64_t ow = rw.lo; ow < rw.hi; ++ow) d[ow] += src[ow];
            } else {
              for (int64_t ow = rw.lo; ow < rw.hi; ++ow) d[ow * s.stride_w] += src[ow];
            }
          }
        }
      }
    }
}

// dout[n0 : n0 + nb] as one (OC, nb·P) matrix, so that each group's output gradient has a
// column per (image, position). One image already has that layout and is read in place; more are
// gathered into tmp with the image and channel axes swapped.
template <class T>
const T* dout_chunk(T* tmp, const T* dout, const Conv2dShape& s, int64_t n0, int64_t nb) {
  const int64_t P = s.OH * s.OW;
  if (nb == 1) return dout + n0 * s.OC * P;
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t oc = 0; oc < s.OC; ++oc)
      std::memcpy(tmp + oc * nb * P + i * P, dout + ((n0 + i) * s.OC + oc) * P, sizeof(T) * P);
  return tmp;
}

}  // namespace

int64_t conv2d_images_per_chunk(const Conv2dShape& s) {
  const int64_t per_image = s.C * s.KH * s.KW * s.OH * s.OW;
  return std::clamp<int64_t>(kColBudget / std::max<int64_t>(per_image, 1), 1,
                             std::max<int64_t>(s.N, 1));
}

int64_t conv2d_workspace_size(const Conv2dShape& s) {
  const int64_t cols = conv2d_images_per_chunk(s) * s.OH * s.OW;
  return (s.C * s.KH * s.KW + s.OC) * cols;
}

// Per chunk and group g: out_g (OC/G, nb·P) = weight_g (OC/G, C/G·KH·KW) · col_g.
template <class T>
void conv2d_forward(T* out, const T* inp, const T* weight, const T* bias, const Conv2dShape& s,
                    T* workspace) {
  const int64_t G = s.groups, OCg = s.OC / G, K = s.C / G * s.KH * s.KW, P = s.OH * s.OW;
  const int64_t chunk = conv2d_images_per_chunk(s);
  T* col = workspace;
  T* tmp = workspace + s.C * s.KH * s.KW * chunk * P;
  for (int64_t n0 = 0; n0 < s.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, s.N - n0), cols = nb * P;
    im2col(col, inp, s, n0, nb);
    // One image: the GEMM writes (OC, P) straight into the output.
    T* dst = nb == 1 ? out + n0 * s.OC * P : tmp;
    for (int64_t g = 0; g < G; ++g)
      gemm<T>(false, false, OCg, cols, K, T(1), weight + g * OCg * K, K, col + g * K * cols, cols,
              T(0), dst + g * OCg * cols, cols);
    for (int64_t i = 0; i < nb; ++i)
      for (int64_t oc = 0; oc < s.OC; ++oc) {
        const T* src = dst + oc * cols + (nb == 1 ? 0 : i * P);
        T* o = out + ((n0 + i) * s.OC + oc) * P;
        const T b = bias ? bias[oc] : T(0);
        for (int64_t p = 0; p < P; ++p) o[p] = src[p] + b;
      }
  }
}

// Per chunk and group g: dcol_g = weight_gᵀ · dout_g, then col2im adds it into dinp.
template <class T>
void conv2d_backward_input(T* dinp, const T* dout, const T* weight, const Conv2dShape& s,
                           T* workspace) {
  const int64_t G = s.groups, OCg = s.OC / G, K = s.C / G * s.KH * s.KW, P = s.OH * s.OW;
  const int64_t chunk = conv2d_images_per_chunk(s);
  T* col = workspace;
  T* tmp = workspace + s.C * s.KH * s.KW * chunk * P;
  for (int64_t n0 = 0; n0 < s.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, s.N - n0), cols = nb * P;
    const T* d = dout_chunk(tmp, dout, s, n0, nb);
    for (int64_t g = 0; g < G; ++g)
      gemm<T>(true, false, K, cols, OCg, T(1), weight + g * OCg * K, K, d + g * OCg * cols, cols,
              T(0), col + g * K * cols, cols);
    col2im(dinp, col, s, n0, nb);
  }
}

// Per chunk and group g: dweight_g += dout_g · col_gᵀ; dbias sums dout's rows.
template <class T>
void conv2d_backward_weight(T* dweight, T* dbias, const T* dout, const T* inp, const Conv2dShape& s,
                            T* workspace) {
  const int64_t G = s.groups, OCg = s.OC / G, K = s.C / G * s.KH * s.KW, P = s.OH * s.OW;
  const int64_t chunk = conv2d_images_per_chunk(s);
  T* col = workspace;
  T* tmp = workspace + s.C * s.KH * s.KW * chunk * P;
  for (int64_t n0 = 0; n0 < s.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, s.N - n0), cols = nb * P;
    const T* d = dout_chunk(tmp, dout, s, n0, nb);
    im2col(col, inp, s, n0, nb);
    for (int64_t g = 0; g < G; ++g)
      gemm<T>(false, true, OCg, K, cols, T(1), d + g * OCg * cols, cols, col + g * K * cols, cols,
              T(1), dweight + g * OCg * K, K);
    if (dbias)
      for (int64_t oc = 0; oc < s.OC; ++oc) {
        const T* row = d + oc * cols;
        T acc = 0;
        for (int64_t p = 0; p < cols; ++p) acc += row[p];
        dbias[oc] += acc;
      }
  }
}

#define NABLA_INSTANTIATE(T)                                                                   \
  template void conv2d_forward<T>(T*, const T*, const T*, const T*, const Conv2dShape&, T*);   \
  template void conv2d_backward_input<T>(T*, const T*, const T*, const Conv2dShape&, T*);      \
  template void conv2d_backward_weight<T>(T*, T*, const T*, const T*, const Conv2dShape&, T*); \
  template void conv2d_forward_naive<T>(T*, const T*, const T*, const T*, const Conv2dShape&); \
  template void conv2d_backward_input_naive<T>(T*, const T*, const T*, const Conv2dShape&);    \
  template void conv2d_backward_weight_naive<T>(T*, T*, const T*, const T*, const Conv2dShape&);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu
