// The four row transforms of the stride-2 column Winograd (conv_winograd_cols.h), written once and
// compiled once per instruction set: conv_winograd_cols.cpp includes this file three times, each
// inside its own namespace and with NABLA_WINOGRAD_COLS_TARGET set to a target attribute (or
// nothing for the baseline). Every loop runs along a row's TW = W/4 output pairs with unit
// stride, so the compiler vectorises it at the target's width: the input row is read 4 columns
// at a time (one pass, which the vectoriser turns into shuffles), the output gradient's row split
// into its even and odd columns once (split_phases).
//
// Columns of the products' planes (conv_winograd_cols.cpp's Layout): planes 0-2 (d0, d1, d2) hold
// TW per (image, output row) and plane 3 (the odd columns) 2·TW, even outputs' then odd
// outputs'. A plane's row r is (input channel c, kernel row kh) = 3c + kh in the forward's input
// and the input gradient, an output channel in the output and its gradient. The planes a
// transform writes are a GEMM's B, in gemm's panels or plain rows (BPlanes): a run of TW columns
// is contiguous either way. Those it reads are a GEMM's C, in plain rows ld (2·ld) long.
// (The matching #pragma once is deliberately absent: the file is included once per target.)

#ifndef NABLA_WINOGRAD_COLS_TARGET
#error "define NABLA_WINOGRAD_COLS_TARGET before including conv_winograd_cols_kernel.h"
#endif

namespace {

#define NABLA_WT NABLA_WINOGRAD_COLS_TARGET

#include "kernels/cpu/conv_phases_kernel.h"

// Where (plane row r, output row oh of image i) starts in planes 0-2, and in plane 3.
struct Slot {
  int64_t q, q3;
};
inline Slot slot_of(int64_t i, int64_t oh, int64_t OH, int64_t TW) {
  return {(i * OH + oh) * TW, (i * OH + oh) * 2 * TW};
}

// The (kernel row, output row) pairs that read input row ih, in a fixed order: kh 1 for an even
// row, kh 0 (if that output row exists) then kh 2 for an odd one. Returns how many (1 or 2).
inline int readers(int64_t ih, int64_t OH, int64_t kh[2], int64_t oh[2]) {
  if (ih % 2 == 0) {
    kh[0] = 1, oh[0] = ih / 2;
    return 1;
  }
  int n = 0;
  if ((ih + 1) / 2 < OH) kh[n] = 0, oh[n++] = (ih + 1) / 2;
  kh[n] = 2, oh[n++] = (ih - 1) / 2;
  return n;
}

// The transformed rows of image i's input channel c (plane (H, W)) into the forward's B planes
// (xs apart, element (r, n) at `at`'s offsets), rows 3c .. 3c + 2. work: 2·(TW + 1).
template <class T>
NABLA_WT void input_rows(T* B, int64_t xs, const BPlanes& at, const T* plane, const Conv2dShape& s,
                         int64_t i, int64_t c, T* work) {
  const int64_t TW = s.W / 4;
  T *m = work, *e = work + TW + 1;  // m[k] = x[4k + 1]; e[k + 1] = x[4k + 3], e[0] = 0
  T* B3 = B + 3 * xs;
  int64_t rows[3], odd_rows[3];  // the rows' parts of the offsets
  for (int64_t kh = 0; kh < 3; ++kh)
    rows[kh] = at.pairs.row(3 * c + kh), odd_rows[kh] = at.odd.row(3 * c + kh);
  // Row kh's runs of slot (i, oh): d (planes 0-2, xs apart), o and o2 (plane 3's two).
  const auto runs = [&](int64_t kh, int64_t oh, T*& d, T*& o, T*& o2) {
    const Slot z = slot_of(i, oh, s.OH, TW);
    d = B + rows[kh] + at.pairs.column(z.q);
    o = B3 + odd_rows[kh] + at.odd.column(z.q3), o2 = B3 + odd_rows[kh] + at.odd.column(z.q3 + TW);
  };
  {  // kernel row 0 of output row 0 reads the padding above the image
    T *d, *o, *o2;
    runs(0, 0, d, o, o2);
    NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) d[k] = d[xs + k] = d[2 * xs + k] = o[k] = o2[k] =
        T(0);
  }
  e[0] = T(0);
  for (int64_t ih = 0; ih < s.H; ++ih) {
    const T* x = plane + ih * s.W;
    int64_t kh[2], oh[2];
    const int n = readers(ih, s.OH, kh, oh);
    // The first reader's rows straight from the input row (each group of 4 columns read once,
    // which the vectoriser turns into shuffles), the second's copied from them.
    T *d0, *oe, *oo;
    runs(kh[0], oh[0], d0, oe, oo);
    T *d1 = d0 + xs, *d2 = d1 + xs;
    NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
      const T x0 = x[4 * k], x1 = x[4 * k + 1], x2 = x[4 * k + 2], x3 = x[4 * k + 3];
      m[k] = x1, e[k + 1] = x3;
      d1[k] = x1, d2[k] = x3 - x1;
      oe[k] = x0, oo[k] = x2;
    }
    NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) d0[k] = e[k] - m[k];
    if (n == 2) {
      T *c0, *ce, *co;
      runs(kh[1], oh[1], c0, ce, co);
      std::copy(d0, d0 + TW, c0);
      std::copy(d1, d1 + TW, c0 + xs);
      std::copy(d2, d2 + TW, c0 + 2 * xs);
      std::copy(oe, oe + TW, ce);
      std::copy(oo, oo + TW, co);
    }
  }
}

// Image i's output channel oc (plane (OH, OW)) from the products M (planes xs apart, rows ld
// long, plane 3's 2·ld), plus bias, then ReLU when asked. work: 2·TW.
template <class T>
NABLA_WT void output_rows(T* plane, const T* M, int64_t xs, int64_t ld, const Conv2dShape& s,
                          int64_t i, int64_t oc, T bias, bool relu, T* work) {
  const int64_t TW = s.W / 4;
  T *e = work, *f = work + TW;
  for (int64_t oh = 0; oh < s.OH; ++oh) {
    const Slot z = slot_of(i, oh, s.OH, TW);
    const T *m0 = M + oc * ld + z.q, *m1 = m0 + xs, *m2 = m1 + xs;
    const T* o = M + 3 * xs + 2 * oc * ld + z.q3;
    NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
      e[k] = m0[k] + m1[k] + o[k] + bias;
      f[k] = m1[k] + m2[k] + o[TW + k] + bias;
    }
    if (relu)
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) e[k] = std::max(e[k], T(0)),
                                                   f[k] = std::max(f[k], T(0));
    T* y = plane + oh * s.OW;
    NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) y[2 * k] = e[k], y[2 * k + 1] = f[k];
  }
}

// The output gradient of image i's channel oc (plane (OH, OW)) into the input gradient's B planes
// (the adjoint of output_rows): d0 = dy[2k], d1 = dy[2k] + dy[2k + 1], d2 = dy[2k + 1], plane 3
// both. work: 2·TW.
template <class T>
NABLA_WT void output_grad_rows(T* B, int64_t xs, const BPlanes& at, const T* plane,
                               const Conv2dShape& s, int64_t i, int64_t oc, T* work) {
  const int64_t TW = s.W / 4;
  const T *e = work, *f = work + TW;
  T *B0 = B + at.pairs.row(oc), *B3 = B + 3 * xs + at.odd.row(oc);
  for (int64_t oh = 0; oh < s.OH; ++oh) {
    split_phases<2>(work, TW, plane + oh * s.OW, 0, s.OW, TW);
    const Slot z = slot_of(i, oh, s.OH, TW);
    T *d0 = B0 + at.pairs.column(z.q), *d1 = d0 + xs, *d2 = d1 + xs;
    T *oe = B3 + at.odd.column(z.q3), *oo = B3 + at.odd.column(z.q3 + TW);
    NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
      d0[k] = e[k];
      d1[k] = e[k] + f[k];
      d2[k] = f[k];
      oe[k] = e[k];
      oo[k] = f[k];
    }
  }
}

// Image i's input channel c (plane (H, W), every element written) from the products' input
// gradient G (rows 3c .. 3c + 2; the adjoint of input_rows): each input row's readers summed in
// their fixed order, then x[4k] = odd-column even output's, x[4k + 1] = g1 − g0 − g2,
// x[4k + 2] = odd-column odd output's, x[4k + 3] = g2[k] + g0[k + 1]. work: 5·TW + 1.
template <class T>
NABLA_WT void input_grad_rows(T* plane, const T* G, int64_t xs, int64_t ld, const Conv2dShape& s,
                              int64_t i, int64_t c, T* work) {
  const int64_t TW = s.W / 4;
  T *g0 = work, *g1 = g0 + TW + 1, *g2 = g1 + TW, *ge = g2 + TW, *go = ge + TW;
  for (int64_t ih = 0; ih < s.H; ++ih) {
    int64_t kh[2], oh[2];
    const int n = readers(ih, s.OH, kh, oh);
    for (int j = 0; j < n; ++j) {
      const Slot z = slot_of(i, oh[j], s.OH, TW);
      const int64_t r = 3 * c + kh[j];
      const T *h0 = G + r * ld + z.q, *h1 = h0 + xs, *h2 = h1 + xs;
      const T* o = G + 3 * xs + 2 * r * ld + z.q3;
      if (j == 0) {
        NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) g0[k] = h0[k], g1[k] = h1[k], g2[k] = h2[k],
                                                     ge[k] = o[k], go[k] = o[TW + k];
      } else {
        NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) g0[k] += h0[k], g1[k] += h1[k], g2[k] += h2[k],
            ge[k] += o[k], go[k] += o[TW + k];
      }
    }
    g0[TW] = T(0);
    T* x = plane + ih * s.W;
    NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
      x[4 * k] = ge[k];
      x[4 * k + 1] = g1[k] - g0[k] - g2[k];
      x[4 * k + 2] = go[k];
      x[4 * k + 3] = g2[k] + g0[k + 1];
    }
  }
}

template <class T>
ColsTransforms<T> cols_transforms() {
  return {input_rows<T>, output_rows<T>, output_grad_rows<T>, input_grad_rows<T>};
}

#undef NABLA_WT

}  // namespace
