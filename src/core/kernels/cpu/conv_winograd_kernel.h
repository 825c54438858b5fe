// Winograd F(2×2, 3×3)'s four tile transforms (and, through conv_winograd4_kernel.h at the end,
// F(4×4, 3×3)'s) and both sizes' weight transforms, written once and compiled once per
// instruction set: conv_winograd.cpp includes
// this file three times, each inside its own namespace and with NABLA_WINOGRAD_TARGET set to a
// target attribute (or nothing for the baseline), and picks a copy by active_isa(). Everything is
// in an anonymous namespace, so the copies are never merged.
//
// Every loop runs over a row of tiles (k, the tile column) with unit stride, so the compiler
// vectorises it at the target's width. The 2-column step between tiles is taken care of by
// splitting rows into their even and odd columns (E, O) once: a tile k's 4 columns are then
// E[k], O[k], E[k + 1], O[k + 1].
//
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 -1 -1]
// (The matching #pragma once is deliberately absent: the file is included once per target.)

#ifndef NABLA_WINOGRAD_TARGET
#error "define NABLA_WINOGRAD_TARGET before including conv_winograd_kernel.h"
#endif

namespace {

#define NABLA_WT NABLA_WINOGRAD_TARGET

#include "kernels/cpu/conv_phases_kernel.h"

// V (ξ, ·, tile) = Bᵀ d B for the tiles of tile rows [th0, th1) of one input plane (H, W). dst
// points at the first of them, xs apart between two ξ. Each padded input row's horizontal
// transform (4 rows of TW) is computed once into `work` and read by the two tile rows sharing it.
template <class T>
NABLA_WT void input_tiles(T* dst, int64_t xs, const T* plane, const Conv2dShape& s,
                          const Geometry& t, int64_t th0, int64_t th1, T* work) {
  const int64_t TW = t.TW, rows = 2 * (th1 - th0) + 2;
  T* E = work;
  T* O = E + TW + 1;
  T* hall = O + TW + 1;  // rows × 4 × TW
  for (int64_t rr = 0; rr < rows; ++rr) {
    T* h = hall + rr * 4 * TW;
    const int64_t r = 2 * th0 + rr - s.pad_h;
    if (r < 0 || r >= s.H) {
      NABLA_IVDEP for (int64_t k = 0; k < 4 * TW; ++k) h[k] = T(0);
      continue;
    }
    split_phases<2>(E, TW + 1, plane + r * s.W, -s.pad_w, s.W, TW + 1);
    NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
      h[k] = E[k] - E[k + 1];
      h[TW + k] = O[k] + E[k + 1];
      h[2 * TW + k] = E[k + 1] - O[k];
      h[3 * TW + k] = O[k] - O[k + 1];
    }
  }
  for (int64_t th = 0; th < th1 - th0; ++th) {
    const T* h = hall + 2 * th * 4 * TW;
    T* d = dst + th * TW;
    for (int64_t j = 0; j < 4; ++j) {
      const T *h0 = h + j * TW, *h1 = h0 + 4 * TW, *h2 = h1 + 4 * TW, *h3 = h2 + 4 * TW;
      T *d0 = d + j * xs, *d1 = d0 + 4 * xs, *d2 = d1 + 4 * xs, *d3 = d2 + 4 * xs;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        d0[k] = h0[k] - h2[k];
        d1[k] = h1[k] + h2[k];
        d2[k] = h2[k] - h1[k];
        d3[k] = h1[k] - h3[k];
      }
    }
  }
}

// Y (ξ, ·, tile) = A dy Aᵀ for tile rows [th0, th1) of one output-gradient plane (OH, OW), zero
// past its edges.
template <class T>
NABLA_WT void output_grad_tiles(T* dst, int64_t xs, const T* plane, const Conv2dShape& s,
                                const Geometry& t, int64_t th0, int64_t th1, T* work) {
  const int64_t TW = t.TW;
  T* E = work;
  T* O = E + TW;
  T* h = O + TW;  // 2 rows × 4 × TW
  for (int64_t th = th0; th < th1; ++th) {
    for (int64_t r = 0; r < 2; ++r) {
      T* hr = h + r * 4 * TW;
      const int64_t oh = 2 * th + r;
      if (oh >= s.OH) {
        NABLA_IVDEP for (int64_t k = 0; k < 4 * TW; ++k) hr[k] = T(0);
        continue;
      }
      split_phases<2>(E, TW, plane + oh * s.OW, 0, s.OW, TW);
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        hr[k] = E[k];
        hr[TW + k] = E[k] + O[k];
        hr[2 * TW + k] = E[k] - O[k];
        hr[3 * TW + k] = -O[k];
      }
    }
    T* d = dst + (th - th0) * TW;
    for (int64_t j = 0; j < 4; ++j) {
      const T *h0 = h + j * TW, *h1 = h0 + 4 * TW;
      T *d0 = d + j * xs, *d1 = d0 + 4 * xs, *d2 = d1 + 4 * xs, *d3 = d2 + 4 * xs;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        d0[k] = h0[k];
        d1[k] = h0[k] + h1[k];
        d2[k] = h0[k] - h1[k];
        d3[k] = -h1[k];
      }
    }
  }
}

// out plane (OH, OW) = Aᵀ M A per tile of tile rows [th0, th1), plus bias, then ReLU when asked
// (max(v, 0), as the im2col path); only outputs inside the plane are written.
template <class T>
NABLA_WT void output_tiles(T* plane, const T* src, int64_t xs, const Conv2dShape& s,
                           const Geometry& t, int64_t th0, int64_t th1, T bias, bool relu,
                           T* work) {
  const int64_t TW = t.TW, pairs = s.OW / 2;
  T* h = work;  // 2 rows × 4 × TW
  T* y0 = h + 8 * TW;
  T* y1 = y0 + TW;
  for (int64_t th = th0; th < th1; ++th) {
    const T* m = src + (th - th0) * TW;
    for (int64_t j = 0; j < 4; ++j) {
      const T *m0 = m + j * xs, *m1 = m0 + 4 * xs, *m2 = m1 + 4 * xs, *m3 = m2 + 4 * xs;
      T *s0 = h + j * TW, *s1 = s0 + 4 * TW;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        s0[k] = m0[k] + m1[k] + m2[k];
        s1[k] = m1[k] - m2[k] - m3[k];
      }
    }
    for (int64_t r = 0; r < 2 && 2 * th + r < s.OH; ++r) {
      const T *q0 = h + r * 4 * TW, *q1 = q0 + TW, *q2 = q1 + TW, *q3 = q2 + TW;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        y0[k] = q0[k] + q1[k] + q2[k] + bias;
        y1[k] = q1[k] - q2[k] - q3[k] + bias;
      }
      if (relu)
        NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) y0[k] = std::max(y0[k], T(0)),
                                                     y1[k] = std::max(y1[k], T(0));
      T* o = plane + (2 * th + r) * s.OW;
      NABLA_IVDEP for (int64_t k = 0; k < pairs; ++k) o[2 * k] = y0[k], o[2 * k + 1] = y1[k];
      if (s.OW % 2) o[s.OW - 1] = y0[pairs];
    }
  }
}

// dinp plane (H, W) += B X Bᵀ per tile of tile rows [th0, th1). Neighbouring tiles' 4×4 patches
// overlap by 2 rows and 2 columns, so the patches are first summed, tile by tile in a fixed order,
// into zero-padded rows (2 per tile row, plus 2) kept as their even and odd columns (AE, AO: TW + 1
// each); what of them lies inside the plane is then added to dinp (the padding is dropped). The
// rows a block shares with the next one get both blocks' sums, the caller running them in order.
template <class T>
NABLA_WT void input_grad_tiles(T* plane, const T* src, int64_t xs, const Conv2dShape& s,
                               const Geometry& t, int64_t th0, int64_t th1, T* work) {
  const int64_t TW = t.TW, rows = 2 * (th1 - th0) + 2, L = TW + 1;
  T* h = work;  // 4 rows × 4 × TW
  T* AE = h + 16 * TW;
  T* AO = AE + rows * L;
  NABLA_IVDEP for (int64_t k = 0; k < 2 * rows * L; ++k) AE[k] = T(0);
  for (int64_t th = 0; th < th1 - th0; ++th) {
    const T* x = src + th * TW;
    for (int64_t j = 0; j < 4; ++j) {
      const T *x0 = x + j * xs, *x1 = x0 + 4 * xs, *x2 = x1 + 4 * xs, *x3 = x2 + 4 * xs;
      T *h0 = h + j * TW, *h1 = h0 + 4 * TW, *h2 = h1 + 4 * TW, *h3 = h2 + 4 * TW;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        h0[k] = x0[k];
        h1[k] = x1[k] - x2[k] + x3[k];
        h2[k] = x1[k] + x2[k] - x0[k];
        h3[k] = -x3[k];
      }
    }
    for (int64_t a = 0; a < 4; ++a) {
      const T *q0 = h + a * 4 * TW, *q1 = q0 + TW, *q2 = q1 + TW, *q3 = q2 + TW;
      T* e = AE + (2 * th + a) * L;
      T* o = AO + (2 * th + a) * L;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) e[k] += q0[k], o[k] += q1[k] - q2[k] + q3[k];
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) e[k + 1] += q1[k] + q2[k] - q0[k],
          o[k + 1] -= q3[k];
    }
  }
  // Padded column m = iw + pad_w lives in AE[m / 2] when m is even, AO[m / 2] when odd. Columns
  // pad_w .. pad_w + W - 1 are the inside; interleave them back pair by pair.
  const int64_t ih0 = std::max<int64_t>(2 * th0 - s.pad_h, 0);
  const int64_t ih1 = std::min<int64_t>(2 * th1 + 2 - s.pad_h, s.H);
  for (int64_t ih = ih0; ih < ih1; ++ih) {
    const T* e = AE + (ih + s.pad_h - 2 * th0) * L;
    const T* o = AO + (ih + s.pad_h - 2 * th0) * L;
    T* d = plane + ih * s.W - s.pad_w;  // d[m]: padded column m
    int64_t m = s.pad_w;
    if (m % 2) d[m] += o[m / 2], ++m;
    const int64_t end = s.pad_w + s.W, pairs = (end - m) / 2, k0 = m / 2;
    NABLA_IVDEP for (int64_t k = k0; k < k0 + pairs; ++k) {
      d[2 * k] += e[k];
      d[2 * k + 1] += o[k];
    }
    if ((end - m) % 2) d[end - 1] += e[(end - 1) / 2];
  }
}

#include "kernels/cpu/conv_winograd4_kernel.h"

// ---- the weight's transforms, G g Gᵀ and its adjoint, over blocks of kPairBlock pairs (the
// loops over a block's pairs have unit stride, so they vectorise at the target's width) ----

// o = G x along one axis of a 3×3 kernel (3 → M + 2 values).
template <int M, class T>
NABLA_WT inline void g_rows(const T* x, int64_t stride, T* o) {
  const T x0 = x[0], x1 = x[stride], x2 = x[2 * stride];
  if constexpr (M == 2) {
    o[0] = x0, o[1] = T(0.5) * (x0 + x1 + x2), o[2] = T(0.5) * (x0 - x1 + x2), o[3] = x2;
  } else {
    const T sixth = T(1) / T(6);
    const T p = x0 + x2, r = (T(0.25) * x0 + x2) * sixth, q = x1 * (T(0.5) * sixth);
    o[0] = T(0.25) * x0, o[1] = -(p + x1) * sixth, o[2] = -(p - x1) * sixth;
    o[3] = r + q, o[4] = r - q, o[5] = x2;
  }
}

// o = Gᵀ x along one axis (M + 2 → 3 values), the adjoint of g_rows.
template <int M, class T>
NABLA_WT inline void gt_rows(const T* x, int64_t stride, T* o) {
  if constexpr (M == 2) {
    const T x0 = x[0], x1 = x[stride], x2 = x[2 * stride], x3 = x[3 * stride];
    o[0] = x0 + T(0.5) * (x1 + x2), o[1] = T(0.5) * (x1 - x2), o[2] = T(0.5) * (x1 + x2) + x3;
  } else {
    const T p = x[stride] + x[2 * stride], u = x[stride] - x[2 * stride];
    const T q = x[3 * stride] + x[4 * stride], v = x[3 * stride] - x[4 * stride];
    const T sixth = T(1) / T(6);
    o[0] = T(0.25) * (x[0] + q * sixth) - p * sixth;
    o[1] = (T(0.5) * v - u) * sixth;
    o[2] = (q - p) * sixth + x[5 * stride];
  }
}

// U planes (ξ, plane) = G g Gᵀ for the pairs of blocks [b0, b1).
template <int M, class T>
NABLA_WT void weight_blocks(T* U, const T* weight, int64_t plane, int64_t b0, int64_t b1) {
  constexpr int64_t a = M + 2;
  T block[a * a][kPairBlock];
  for (int64_t k0 = b0 * kPairBlock; k0 < std::min(b1 * kPairBlock, plane); k0 += kPairBlock) {
    const int64_t n = std::min(kPairBlock, plane - k0);
    for (int64_t j = 0; j < n; ++j) {
      const T* g = weight + (k0 + j) * 9;
      T col[a][3], row[a];  // col = G g, then each of its rows times Gᵀ
      for (int64_t k = 0; k < 3; ++k) {
        T o[a];
        g_rows<M>(g + k, 3, o);
        for (int64_t i = 0; i < a; ++i) col[i][k] = o[i];
      }
      for (int64_t i = 0; i < a; ++i) {
        g_rows<M>(col[i], 1, row);
        for (int64_t l = 0; l < a; ++l) block[a * i + l][j] = row[l];
      }
    }
    for (int64_t xi = 0; xi < a * a; ++xi) std::copy_n(block[xi], n, U + xi * plane + k0);
  }
}

// dw (plane, 3, 3) += Gᵀ W G for the pairs of blocks [b0, b1), from the ξ planes of Wg. The loop
// over a block's pairs reads and writes the block buffers with unit stride, so it vectorises.
template <int M, class T>
NABLA_WT void weight_grad_back(T* dw, const T* Wg, int64_t plane, int64_t b0, int64_t b1) {
  constexpr int64_t a = M + 2;
  T block[a * a][kPairBlock], out[9][kPairBlock];
  for (int64_t k0 = b0 * kPairBlock; k0 < std::min(b1 * kPairBlock, plane); k0 += kPairBlock) {
    const int64_t n = std::min(kPairBlock, plane - k0);
    for (int64_t xi = 0; xi < a * a; ++xi) std::copy_n(Wg + xi * plane + k0, n, block[xi]);
    for (int64_t j = 0; j < n; ++j) {
      T r[a][3];
      for (int64_t i = 0; i < a; ++i) gt_rows<M>(&block[a * i][j], kPairBlock, r[i]);
      for (int64_t l = 0; l < 3; ++l) {  // column l of dw = Gᵀ r
        T col[3];
        gt_rows<M>(&r[0][l], 3, col);
        for (int64_t i = 0; i < 3; ++i) out[3 * i + l][j] = col[i];
      }
    }
    for (int64_t j = 0; j < n; ++j)
      for (int64_t q = 0; q < 9; ++q) dw[(k0 + j) * 9 + q] += out[q][j];
  }
}

template <class T>
Transforms<T> transforms(int64_t m) {
  if (m == 4)
    return {input_tiles4<T>,      output_grad_tiles4<T>, output_tiles4<T>,
            input_grad_tiles4<T>, weight_blocks<4, T>,   weight_grad_back<4, T>};
  return {input_tiles<T>,      output_grad_tiles<T>, output_tiles<T>,
          input_grad_tiles<T>, weight_blocks<2, T>,  weight_grad_back<2, T>};
}

#undef NABLA_WT

}  // namespace
