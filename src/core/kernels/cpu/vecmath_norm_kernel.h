// Batch norm's vector kernels (vec::centered_sums, scale_shift, centered_combination and their
// ReLU-gated forms), over one vector width like the rest of vecmath_kernel.h, which includes this
// file through vecmath_table.h (once per instruction set, each in its own translation unit).
// Apart from the Vec struct only to keep each file a readable size.
#pragma once

#include "kernels/cpu/vecmath_kernel.h"

namespace nabla::cpu::vecmath_detail {
namespace {

template <class T, int VB>
struct NormKernel {
  using V = typename Vec<T, VB>::V;
  static constexpr int lanes = Vec<T, VB>::lanes;

  // Vectors of doubles as wide as V (double spelled through T: GCC drops a dependent
  // vector_size on a non-dependent type), and a V's values as kParts of them.
  typedef std::conditional_t<sizeof(T) != 0, double, T> Double;
  typedef Double VD __attribute__((vector_size(VB)));
  static constexpr int kDoubles = VB / int(sizeof(double));
  static constexpr int kParts = lanes / kDoubles;  // double vectors per V: 2 for float
  static constexpr int kChains = 4;

  static NABLA_VECMATH_TARGET inline void load_doubles(const T* p, VD (&d)[kParts]) {
    if constexpr (kParts == 1) {
      std::memcpy(&d[0], p, sizeof(VD));
    } else {
      typedef T H __attribute__((vector_size(VB / kParts)));
      for (int j = 0; j < kParts; ++j) {
        H h;
        std::memcpy(&h, p + j * kDoubles, sizeof(H));
        d[j] = __builtin_convertvector(h, VD);
      }
    }
  }

  // x·a + b, the one expression of batch norm's normalise: its ReLU's mask is recomputed from it
  // in the backward (relu_gate), so both must round (and contract to FMA) alike.
  static NABLA_VECMATH_TARGET inline V affine(V xv, T a, T b) { return xv * a + b; }
  // dy where relu(x·ga + gb) passes the gradient (x·ga + gb > 0), else 0: relu_mask's value
  // wherever the forward's output is that ReLU.
  static NABLA_VECMATH_TARGET inline V relu_gate(V dv, V xv, T ga, T gb) {
    return affine(xv, ga, gb) > 0 ? dv : V{};
  }

  // Batch norm's channel sums, in double whatever T is: out[0] = Σ u, out[1] = Σ u·(x − m) over
  // `rows` rows of n values (row r of x at x + r·stride, of dy likewise), with u = dy
  // (Sums::grad), dy through the ReLU gate (Sums::grad_relu), or u = x − m (Sums::moments: the
  // shifted moments Σ d, Σ d²). Each sum runs in kChains vectors of doubles (independent chains,
  // so the adds' latency overlaps) over every whole step of a row, the rest of a row in one
  // scalar sum; the chains' lanes are added in order at the end, then the scalar sum: an order
  // fixed by the shape and instruction set, the same for grad_relu as for grad on masked dy.
  enum class Sums { moments, grad, grad_relu };

  template <Sums kSums>
  static NABLA_VECMATH_TARGET void centered_sums_impl(double* out, const T* dy, const T* x,
                                                      double m, int64_t rows, int64_t n,
                                                      int64_t stride, T ga, T gb) {
    constexpr bool kWithDy = kSums != Sums::moments;
    constexpr int step = kChains * kDoubles;
    VD s1[kChains] = {}, s2[kChains] = {};
    double t1 = 0, t2 = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = x + r * stride;
      const T* ur = kWithDy ? dy + r * stride : nullptr;
      int64_t i = 0;
      for (; i + step <= n; i += step)
        for (int j = 0; j < kChains; j += kParts) {
          VD xd[kParts], ud[kParts];
          load_doubles(xr + i + j * kDoubles, xd);
          if constexpr (kSums == Sums::grad_relu) {
            // kParts double vectors are one V of T: gate it whole, then widen it.
            V xv, dv;
            std::memcpy(&xv, xr + i + j * kDoubles, sizeof(V));
            std::memcpy(&dv, ur + i + j * kDoubles, sizeof(V));
            const V g = relu_gate(dv, xv, ga, gb);
            T gated[lanes];
            std::memcpy(gated, &g, sizeof(V));
            load_doubles(gated, ud);
          } else if constexpr (kWithDy) {
            load_doubles(ur + i + j * kDoubles, ud);
          }
          for (int p = 0; p < kParts; ++p) {
            const VD d = xd[p] - m;
            const VD u = kWithDy ? ud[p] : d;
            s1[j + p] += u;
            s2[j + p] += u * d;
          }
        }
      // The rest of the row in order, a vector's worth at a time; with the gate computed through
      // a zero-padded vector, as the forward's row_map computes a row's tail.
      while (i < n) {
        const int64_t len = std::min<int64_t>(lanes, n - i);
        T gated[lanes] = {};
        if constexpr (kSums == Sums::grad_relu) {
          V xv{}, dv{};
          const size_t bytes = sizeof(T) * size_t(len);
          std::memcpy(&xv, xr + i, bytes);
          std::memcpy(&dv, ur + i, bytes);
          const V g = relu_gate(dv, xv, ga, gb);
          std::memcpy(gated, &g, bytes);
        }
        for (int64_t l = 0; l < len; ++l, ++i) {
          const double d = double(xr[i]) - m;
          const double u = kSums == Sums::grad_relu ? double(gated[l])
                           : kWithDy                ? double(ur[i])
                                                    : d;
          t1 += u;
          t2 += u * d;
        }
      }
    }
    double a = 0, b = 0;
    for (int j = 0; j < kChains; ++j)
      for (int l = 0; l < kDoubles; ++l) a += s1[j][l], b += s2[j][l];
    out[0] = a + t1, out[1] = b + t2;
  }

  // y = x·a + b (affine_relu: clamped at 0, as relu's own x > 0 ? x : 0), or (combination)
  // y = a·dy + b·(x − m) + d: batch norm's normalise and input gradient over one row. The tail
  // goes through a zero-padded vector, so each element gets the same arithmetic wherever it sits.
  // combination_relu: the same with dy through the ReLU gate of x·ga + gb.
  enum class RowMap { affine, affine_relu, combination, combination_relu };

  template <RowMap F>
  static NABLA_VECMATH_TARGET inline V row_value(V dv, V xv, T a, T b, T m, T d, T ga, T gb) {
    if constexpr (F == RowMap::combination) return a * dv + b * (xv - m) + d;
    if constexpr (F == RowMap::combination_relu)
      return a * relu_gate(dv, xv, ga, gb) + b * (xv - m) + d;
    const V v = affine(xv, a, b);
    if constexpr (F == RowMap::affine_relu) return v > 0 ? v : V{};
    return v;
  }

  template <RowMap F>
  static NABLA_VECMATH_TARGET void row_map(T* y, const T* dy, const T* x, int64_t n, T a, T b, T m,
                                           T d, T ga = T(0), T gb = T(0)) {
    int64_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      V dv{}, xv;
      if (dy) std::memcpy(&dv, dy + i, sizeof(V));
      std::memcpy(&xv, x + i, sizeof(V));
      const V v = row_value<F>(dv, xv, a, b, m, d, ga, gb);
      std::memcpy(y + i, &v, sizeof(V));
    }
    if (i < n) {
      V dv{}, xv{};
      const size_t bytes = sizeof(T) * size_t(n - i);
      if (dy) std::memcpy(&dv, dy + i, bytes);
      std::memcpy(&xv, x + i, bytes);
      const V v = row_value<F>(dv, xv, a, b, m, d, ga, gb);
      std::memcpy(y + i, &v, bytes);
    }
  }

  static NABLA_VECMATH_TARGET void scale_shift(T* y, const T* x, int64_t n, T a, T b, bool relu) {
    if (relu)
      row_map<RowMap::affine_relu>(y, nullptr, x, n, a, b, T(0), T(0));
    else
      row_map<RowMap::affine>(y, nullptr, x, n, a, b, T(0), T(0));
  }

  static NABLA_VECMATH_TARGET void centered_combination(T* y, const T* dy, const T* x, int64_t n,
                                                        T a, T b, T m, T d) {
    row_map<RowMap::combination>(y, dy, x, n, a, b, m, d);
  }

  static NABLA_VECMATH_TARGET void centered_combination_relu(T* y, const T* dy, const T* x,
                                                             int64_t n, T a, T b, T m, T d, T ga,
                                                             T gb) {
    row_map<RowMap::combination_relu>(y, dy, x, n, a, b, m, d, ga, gb);
  }

  static NABLA_VECMATH_TARGET void centered_sums(double* out, const T* dy, const T* x, double m,
                                                 int64_t rows, int64_t n, int64_t stride) {
    if (dy)
      centered_sums_impl<Sums::grad>(out, dy, x, m, rows, n, stride, T(0), T(0));
    else
      centered_sums_impl<Sums::moments>(out, dy, x, m, rows, n, stride, T(0), T(0));
  }

  static NABLA_VECMATH_TARGET void centered_sums_relu(double* out, const T* dy, const T* x,
                                                      double m, int64_t rows, int64_t n,
                                                      int64_t stride, T ga, T gb) {
    centered_sums_impl<Sums::grad_relu>(out, dy, x, m, rows, n, stride, ga, gb);
  }
};

}  // namespace
}  // namespace nabla::cpu::vecmath_detail
