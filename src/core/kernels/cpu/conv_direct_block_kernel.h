// The micro-kernels of conv_direct_block.h, written once over GCC vectors and compiled once per
// instruction set: conv_direct_block.cpp includes this file three times, each inside its own
// namespace with NABLA_DIRECT_TARGET set to a target attribute (or nothing for the baseline),
// NABLA_DIRECT_BYTES to its register width and NABLA_DIRECT_RMAX to the most accumulators of a
// tile that fit its registers. All of it has internal linkage, so the copies are never merged.
// (The matching #pragma once is deliberately absent: the file is included once per target.)

#ifndef NABLA_DIRECT_TARGET
#error "define NABLA_DIRECT_TARGET before including conv_direct_block_kernel.h"
#endif

namespace {

#define NABLA_DT NABLA_DIRECT_TARGET

constexpr int kRmax = NABLA_DIRECT_RMAX;
// Kernel rows per weight-gradient sweep: 2·KW accumulators, at most 14.
constexpr int kWeightRows = 2;
constexpr int kVectorBytes = NABLA_DIRECT_BYTES;
template <class T>
constexpr int64_t lanes = kVectorBytes / int64_t(sizeof(T));

template <class T>
struct VecOf {
  typedef T type __attribute__((vector_size(kVectorBytes)));
};
template <class T>
using Vec = typename VecOf<T>::type;

// res[j·L + l] = Σ over (c, kh, kw) of x[c·plane + kh·WP + j + kw] · w[((c·KH + kh)·KW + kw)·L + l]
// for j < R: R outputs of one row for one block of output channels. Each tap's weight vector is
// loaded once and multiplied by R broadcast inputs.
template <class T, int R>
NABLA_DT void forward_tile(T* res, const T* x, const T* w, int64_t C, int64_t KH, int64_t KW,
                           int64_t plane, int64_t WP) {
  constexpr int64_t L = lanes<T>;
  Vec<T> acc[R];
#pragma GCC unroll 16
  for (int j = 0; j < R; ++j) acc[j] = Vec<T>{};
  for (int64_t c = 0; c < C; ++c)
    for (int64_t kh = 0; kh < KH; ++kh) {
      const T* xr = x + c * plane + kh * WP;
      for (int64_t kw = 0; kw < KW; ++kw, w += L) {
        Vec<T> wv;
        std::memcpy(&wv, w, sizeof wv);
#pragma GCC unroll 16
        for (int j = 0; j < R; ++j) acc[j] += xr[j + kw] * wv;
      }
    }
  std::memcpy(res, acc, sizeof acc);
}

// One image: out (OC, OH, OW) from its zero-padded copy xp (C, HP, WP), then bias and ReLU.
template <class T, int R>
NABLA_DT void forward_image(T* out, const T* xp, const T* wp, const T* bias, const Conv2dShape& s,
                            const Geometry& g, bool relu) {
  constexpr int64_t L = lanes<T>;
  const int64_t P = s.OH * s.OW;
  T res[R * L];
  for (int64_t b = 0; b < g.OCB; ++b) {
    const int64_t used = std::min(L, s.OC - b * L);
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t t = 0; t < g.fw.blocks; ++t) {
        const int64_t ow0 = t * R, n = std::min<int64_t>(R, s.OW - ow0);
        forward_tile<T, R>(res, xp + oh * g.WP + ow0, wp + b * g.K * L, s.C, s.KH, s.KW,
                           g.HP * g.WP, g.WP);
        for (int64_t l = 0; l < used; ++l) {
          const T add = bias ? bias[b * L + l] : T(0);
          T* o = out + (b * L + l) * P + oh * s.OW + ow0;
          if (relu)
            for (int64_t j = 0; j < n; ++j) o[j] = std::max(res[j * L + l] + add, T(0));
          else
            for (int64_t j = 0; j < n; ++j) o[j] = res[j * L + l] + add;
        }
      }
  }
}

// acc[r][l] = Σ over oc < OC, kh in [kh0, kh1), kw < KW of
//   grad[oc·gp + (KH − 1 − kh)·GW + KW − 1 − kw + l] · w[((oc·KH + kh)·KW + kw)·C + r]
// for r < R: one vector of L input positions of one row, for R input channels. The output
// gradient's rows are read as vectors (its planes zero-bordered), the weights broadcast.
template <class T, int R>
NABLA_DT void input_tile(T* res, const T* grad, const T* w, int64_t OC, int64_t C, int64_t kh0,
                         int64_t kh1, int64_t KH, int64_t KW, int64_t gp, int64_t GW) {
  Vec<T> acc[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r] = Vec<T>{};
  for (int64_t oc = 0; oc < OC; ++oc)
    for (int64_t kh = kh0; kh < kh1; ++kh) {
      const T* gr = grad + oc * gp + (KH - 1 - kh) * GW + KW - 1;
      const T* wr = w + (oc * KH + kh) * KW * C;
      for (int64_t kw = 0; kw < KW; ++kw) {
        Vec<T> gv;
        std::memcpy(&gv, gr - kw, sizeof gv);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) acc[r] += wr[kw * C + r] * gv;
      }
    }
  std::memcpy(res, acc, sizeof acc);
}

// One image: dinp (C, H, W) += convᵀ(dout, weight), from the output gradient with a zero border
// G (OC, GH, GW; data from row KH − 1, column KW − 1) and the weight wq (OC, KH, KW, C).
template <class T, int R>
NABLA_DT void input_image(T* dinp, const T* G, const T* wq, const Conv2dShape& s,
                          const Geometry& g) {
  constexpr int64_t L = lanes<T>;
  T res[R * L];
  for (int64_t t = 0; t < g.ic.blocks; ++t) {
    const int64_t c0 = t * R, nc = std::min<int64_t>(R, s.C - c0);
    for (int64_t ih = 0; ih < s.H; ++ih) {
      // Kernel rows outside [kh0, kh1) would read only the zero border (output rows < 0 or ≥ OH).
      const int64_t kh0 = std::max<int64_t>(0, ih + s.pad_h - s.OH + 1);
      const int64_t kh1 = std::min(s.KH, ih + s.pad_h + 1);
      for (int64_t iw0 = 0; iw0 < s.W; iw0 += L) {
        input_tile<T, R>(res, G + (ih + s.pad_h) * g.GW + iw0 + s.pad_w, wq + c0, s.OC, s.C, kh0,
                         kh1, s.KH, s.KW, g.GH * g.GW, g.GW);
        const int64_t n = std::min(L, s.W - iw0);
        for (int64_t r = 0; r < nc; ++r) {
          T* d = dinp + ((c0 + r) * s.H + ih) * s.W + iw0;
          for (int64_t j = 0; j < n; ++j) d[j] += res[r * L + j];
        }
      }
    }
  }
}

// sums[(r·KW + kw)·L + l] += Σ over oh < OH, ow < OW of grad[(oh·OW + ow)·L + l] ·
// x[(oh + r)·WP + ow + kw] for r < KB: the KW taps of KB kernel rows of one channel, for one
// block of output channels, over one image. Each tap's sum runs over the positions in order.
template <class T, int KW, int KB>
NABLA_DT void weight_rows(T* sums, const T* grad, const T* x, int64_t OH, int64_t OW, int64_t WP) {
  constexpr int64_t L = lanes<T>;
  Vec<T> acc[KB * KW];
  std::memcpy(acc, sums, sizeof acc);
  for (int64_t oh = 0; oh < OH; ++oh) {
    const T* xr = x + oh * WP;
    const T* gr = grad + oh * OW * L;
    for (int64_t ow = 0; ow < OW; ++ow) {
      Vec<T> gv;
      std::memcpy(&gv, gr + ow * L, sizeof gv);
#pragma GCC unroll 16
      for (int t = 0; t < KB * KW; ++t) acc[t] += xr[t / KW * WP + ow + t % KW] * gv;
    }
  }
  std::memcpy(sums, acc, sizeof acc);
}

// One image: sums (OCB, C, KH, KW, L) += its gradient Gt (OCB, OH, OW, L) ⋆ its padded copy xp,
// kWeightRows kernel rows per sweep (more independent accumulators where registers allow), and
// bias (OCB, L) += Gt summed over the positions in order.
template <class T, int KW>
NABLA_DT void weight_image(T* sums, T* bias, const T* Gt, const T* xp, const Conv2dShape& s,
                           const Geometry& g) {
  constexpr int64_t L = lanes<T>;
  const int64_t P = s.OH * s.OW;
  for (int64_t b = 0; b < g.OCB; ++b) {
    const T* grad = Gt + b * P * L;
    Vec<T> acc;
    std::memcpy(&acc, bias + b * L, sizeof acc);
    for (int64_t p = 0; p < P; ++p) {
      Vec<T> gv;
      std::memcpy(&gv, grad + p * L, sizeof gv);
      acc += gv;
    }
    std::memcpy(bias + b * L, &acc, sizeof acc);
    for (int64_t c = 0; c < s.C; ++c) {
      T* sc = sums + (b * s.C + c) * s.KH * KW * L;
      const T* x = xp + c * g.HP * g.WP;
      int64_t kh = 0;
      for (; kh + kWeightRows <= s.KH; kh += kWeightRows)
        weight_rows<T, KW, kWeightRows>(sc + kh * KW * L, grad, x + kh * g.WP, s.OH, s.OW, g.WP);
      for (; kh < s.KH; ++kh)
        weight_rows<T, KW, 1>(sc + kh * KW * L, grad, x + kh * g.WP, s.OH, s.OW, g.WP);
    }
  }
}

template <class T, int... Rs>
Kernels<T> pick(std::integer_sequence<int, Rs...>, const Geometry& g, int64_t KW) {
  constexpr typename Kernels<T>::Forward forward[] = {&forward_image<T, Rs + 1>...};
  constexpr typename Kernels<T>::Input input[] = {&input_image<T, Rs + 1>...};
  constexpr typename Kernels<T>::Weight weight[] = {
      &weight_image<T, 1>, &weight_image<T, 2>, &weight_image<T, 3>, &weight_image<T, 4>,
      &weight_image<T, 5>, &weight_image<T, 6>, &weight_image<T, 7>};
  static_assert(sizeof weight / sizeof weight[0] == kMaxKernel);
  return {forward[g.fw.r - 1], input[g.ic.r - 1], weight[KW - 1]};
}

// The kernels for a geometry built with rmax = kRmax, and kernel width KW.
template <class T>
Kernels<T> kernels(const Geometry& g, int64_t KW) {
  return pick<T>(std::make_integer_sequence<int, kRmax>{}, g, KW);
}

#undef NABLA_DT

}  // namespace
