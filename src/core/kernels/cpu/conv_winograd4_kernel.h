// Winograd F(4×4, 3×3)'s four tile transforms (Lavin and Gray's points 0, ±1, ±2, ∞): 4×4 outputs
// from each 6×6 input patch, 36 transform-domain positions ξ = 6·row + column. Included by
// conv_winograd_kernel.h inside its per-target anonymous namespace (NABLA_WT, NABLA_IVDEP and
// split_phases come from there), so it is compiled once per instruction set too; deliberately no
// #pragma once.
//
// As in F(2×2), loops run along a row of tiles with unit stride; tile k's 6 columns 4k .. 4k + 5
// are the row's 4 phases (columns ≡ 0, 1, 2, 3 mod 4) at k, then phases 0 and 1 at k + 1.
//   Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// Every coefficient is a small integer, exact in binary; G's sixths and twelfths (the weight
// transforms, conv_winograd.cpp) are not.

// o = Bᵀ x (6 → 6), the input transform along one axis.
template <class T>
NABLA_WT inline void bt6(const T* x, T* o) {
  const T a = x[4] - T(4) * x[2], b = x[3] - T(4) * x[1];
  const T c = x[4] - x[2], e = T(2) * (x[3] - x[1]);
  o[0] = T(4) * x[0] - T(5) * x[2] + x[4];
  o[1] = a + b, o[2] = a - b, o[3] = c + e, o[4] = c - e;
  o[5] = T(4) * x[1] - T(5) * x[3] + x[5];
}

// o = B x (6 → 6), its adjoint (the input gradient).
template <class T>
NABLA_WT inline void b6(const T* x, T* o) {
  const T p = x[1] + x[2], q = x[3] + x[4], u = x[2] - x[1], v = x[3] - x[4];
  o[0] = T(4) * x[0];
  o[1] = T(4) * u - T(2) * v + T(4) * x[5];
  o[2] = T(-5) * x[0] - T(4) * p - q;
  o[3] = T(2) * v - u - T(5) * x[5];
  o[4] = x[0] + p + q;
  o[5] = x[5];
}

// o = Aᵀ x (6 → 4), the output transform along one axis.
template <class T>
NABLA_WT inline void at6(const T* x, T* o) {
  const T p = x[1] + x[2], q = x[3] + x[4], u = x[1] - x[2], v = x[3] - x[4];
  o[0] = x[0] + p + q;
  o[1] = u + T(2) * v;
  o[2] = p + T(4) * q;
  o[3] = u + T(8) * v + x[5];
}

// o = A x (4 → 6), its adjoint (the output gradient).
template <class T>
NABLA_WT inline void a6(const T* x, T* o) {
  const T p = x[0] + x[2], q = x[1] + x[3], r = x[0] + T(4) * x[2], s = T(2) * x[1] + T(8) * x[3];
  o[0] = x[0], o[1] = p + q, o[2] = p - q, o[3] = r + s, o[4] = r - s, o[5] = x[3];
}

// V (ξ, ·, tile) = Bᵀ d B for tile rows [th0, th1) of one input plane; each padded input row's
// horizontal transform (6 rows of TW) is computed once and read by the tile rows sharing it.
template <class T>
NABLA_WT void input_tiles4(T* dst, int64_t xs, const T* plane, const Conv2dShape& s,
                           const Geometry& t, int64_t th0, int64_t th1, T* work) {
  const int64_t TW = t.TW, rows = 4 * (th1 - th0) + 2, L = TW + 1;
  T* P = work;          // 4 phases × L
  T* hall = P + 4 * L;  // rows × 6 × TW
  const T *p0 = P, *p1 = P + L, *p2 = P + 2 * L, *p3 = P + 3 * L;
  for (int64_t rr = 0; rr < rows; ++rr) {
    T* h = hall + rr * 6 * TW;
    const int64_t r = 4 * th0 + rr - s.pad_h;
    if (r < 0 || r >= s.H) {
      NABLA_IVDEP for (int64_t k = 0; k < 6 * TW; ++k) h[k] = T(0);
      continue;
    }
    split_phases<4>(P, L, plane + r * s.W, -s.pad_w, s.W, L);
    NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
      const T x[6] = {p0[k], p1[k], p2[k], p3[k], p0[k + 1], p1[k + 1]};
      T o[6];
      bt6(x, o);
      for (int64_t j = 0; j < 6; ++j) h[j * TW + k] = o[j];
    }
  }
  for (int64_t th = 0; th < th1 - th0; ++th) {
    const T* h = hall + 4 * th * 6 * TW;
    T* d = dst + th * TW;
    for (int64_t j = 0; j < 6; ++j) {
      const T* hj = h + j * TW;
      T* dj = d + j * xs;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        T x[6], o[6];
        for (int64_t i = 0; i < 6; ++i) x[i] = hj[i * 6 * TW + k];
        bt6(x, o);
        for (int64_t i = 0; i < 6; ++i) dj[6 * i * xs + k] = o[i];
      }
    }
  }
}

// Y (ξ, ·, tile) = A dy Aᵀ for tile rows [th0, th1) of one output-gradient plane, zero past its
// edges.
template <class T>
NABLA_WT void output_grad_tiles4(T* dst, int64_t xs, const T* plane, const Conv2dShape& s,
                                 const Geometry& t, int64_t th0, int64_t th1, T* work) {
  const int64_t TW = t.TW;
  T* P = work;        // 4 phases × TW
  T* h = P + 4 * TW;  // 4 rows × 6 × TW
  const T *p0 = P, *p1 = P + TW, *p2 = P + 2 * TW, *p3 = P + 3 * TW;
  for (int64_t th = th0; th < th1; ++th) {
    for (int64_t r = 0; r < 4; ++r) {
      T* hr = h + r * 6 * TW;
      const int64_t oh = 4 * th + r;
      if (oh >= s.OH) {
        NABLA_IVDEP for (int64_t k = 0; k < 6 * TW; ++k) hr[k] = T(0);
        continue;
      }
      split_phases<4>(P, TW, plane + oh * s.OW, 0, s.OW, TW);
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        const T x[4] = {p0[k], p1[k], p2[k], p3[k]};
        T o[6];
        a6(x, o);
        for (int64_t j = 0; j < 6; ++j) hr[j * TW + k] = o[j];
      }
    }
    T* d = dst + (th - th0) * TW;
    for (int64_t j = 0; j < 6; ++j) {
      const T* hj = h + j * TW;
      T* dj = d + j * xs;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        T x[4], o[6];
        for (int64_t r = 0; r < 4; ++r) x[r] = hj[r * 6 * TW + k];
        a6(x, o);
        for (int64_t i = 0; i < 6; ++i) dj[6 * i * xs + k] = o[i];
      }
    }
  }
}

// out plane (OH, OW) = Aᵀ M A per tile of tile rows [th0, th1), plus bias, then ReLU when asked;
// only outputs inside the plane are written.
template <class T>
NABLA_WT void output_tiles4(T* plane, const T* src, int64_t xs, const Conv2dShape& s,
                            const Geometry& t, int64_t th0, int64_t th1, T bias, bool relu,
                            T* work) {
  const int64_t TW = t.TW, quads = s.OW / 4;
  T* h = work;         // 4 rows × 6 × TW
  T* y = h + 24 * TW;  // 4 × TW: the row's outputs by column mod 4
  for (int64_t th = th0; th < th1; ++th) {
    const T* m = src + (th - th0) * TW;
    for (int64_t j = 0; j < 6; ++j) {
      const T* mj = m + j * xs;
      T* hj = h + j * TW;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        T x[6], o[4];
        for (int64_t i = 0; i < 6; ++i) x[i] = mj[6 * i * xs + k];
        at6(x, o);
        for (int64_t r = 0; r < 4; ++r) hj[r * 6 * TW + k] = o[r];
      }
    }
    for (int64_t r = 0; r < 4 && 4 * th + r < s.OH; ++r) {
      const T* hr = h + r * 6 * TW;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        T x[6], o[4];
        for (int64_t j = 0; j < 6; ++j) x[j] = hr[j * TW + k];
        at6(x, o);
        for (int64_t c = 0; c < 4; ++c)
          y[c * TW + k] = relu ? std::max(o[c] + bias, T(0)) : o[c] + bias;
      }
      T* o = plane + (4 * th + r) * s.OW;
      const T *y0 = y, *y1 = y + TW, *y2 = y + 2 * TW, *y3 = y + 3 * TW;
      NABLA_IVDEP for (int64_t k = 0; k < quads; ++k) {
        o[4 * k] = y0[k], o[4 * k + 1] = y1[k], o[4 * k + 2] = y2[k], o[4 * k + 3] = y3[k];
      }
      for (int64_t c = 0; c < s.OW % 4; ++c) o[4 * quads + c] = y[c * TW + quads];
    }
  }
}

// dinp plane (H, W) += B X Bᵀ per tile of tile rows [th0, th1). The 6×6 patches of neighbouring
// tiles overlap by 2 rows and 2 columns, so they are first summed, tile by tile in a fixed order,
// into zero-padded rows (4 per tile row, plus 2) kept as their 4 column phases (L = TW + 1 each);
// what of them lies inside the plane is then added to dinp. The rows a block shares with the next
// one get both blocks' sums, the caller running them in order.
template <class T>
NABLA_WT void input_grad_tiles4(T* plane, const T* src, int64_t xs, const Conv2dShape& s,
                                const Geometry& t, int64_t th0, int64_t th1, T* work) {
  const int64_t TW = t.TW, rows = 4 * (th1 - th0) + 2, L = TW + 1;
  T* h = work;          // 6 rows × 6 × TW
  T* t4 = h + 36 * TW;  // a patch row's columns 4 and 5, added to the next tile's phases 0, 1
  T* t5 = t4 + TW;
  T* acc = t5 + TW;  // 4 phases × rows × L
  NABLA_IVDEP for (int64_t k = 0; k < 4 * rows * L; ++k) acc[k] = T(0);
  for (int64_t th = 0; th < th1 - th0; ++th) {
    const T* x = src + th * TW;
    for (int64_t j = 0; j < 6; ++j) {
      const T* xj = x + j * xs;
      T* hj = h + j * TW;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        T in[6], o[6];
        for (int64_t i = 0; i < 6; ++i) in[i] = xj[6 * i * xs + k];
        b6(in, o);
        for (int64_t a = 0; a < 6; ++a) hj[a * 6 * TW + k] = o[a];
      }
    }
    for (int64_t a = 0; a < 6; ++a) {
      const T* ha = h + a * 6 * TW;
      T* a0 = acc + (4 * th + a) * L;
      T *a1 = a0 + rows * L, *a2 = a1 + rows * L, *a3 = a2 + rows * L;
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) {
        T in[6], o[6];
        for (int64_t j = 0; j < 6; ++j) in[j] = ha[j * TW + k];
        b6(in, o);
        a0[k] += o[0], a1[k] += o[1], a2[k] += o[2], a3[k] += o[3];
        t4[k] = o[4], t5[k] = o[5];
      }
      NABLA_IVDEP for (int64_t k = 0; k < TW; ++k) a0[k + 1] += t4[k], a1[k + 1] += t5[k];
    }
  }
  // Padded column m = iw + pad_w lives in phase m % 4 at m / 4; columns pad_w .. pad_w + W - 1
  // are the inside.
  const int64_t ih0 = std::max<int64_t>(4 * th0 - s.pad_h, 0);
  const int64_t ih1 = std::min<int64_t>(4 * th1 + 2 - s.pad_h, s.H);
  for (int64_t ih = ih0; ih < ih1; ++ih) {
    const T* a0 = acc + (ih + s.pad_h - 4 * th0) * L;
    const T *a1 = a0 + rows * L, *a2 = a1 + rows * L, *a3 = a2 + rows * L;
    const T* phase[4] = {a0, a1, a2, a3};
    T* d = plane + ih * s.W - s.pad_w;  // d[m]: padded column m
    const int64_t end = s.pad_w + s.W;
    int64_t m = s.pad_w;
    for (; m % 4 && m < end; ++m) d[m] += phase[m % 4][m / 4];
    const int64_t k0 = m / 4, k1 = end / 4;
    NABLA_IVDEP for (int64_t k = k0; k < k1; ++k) {
      d[4 * k] += a0[k], d[4 * k + 1] += a1[k], d[4 * k + 2] += a2[k], d[4 * k + 3] += a3[k];
    }
    for (m = std::max(m, 4 * k1); m < end; ++m) d[m] += phase[m % 4][m / 4];
  }
}
