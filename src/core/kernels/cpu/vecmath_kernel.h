// The vector-math kernels, written once over the vector width and compiled once per instruction
// set: vecmath_generic.cpp, vecmath_avx2.cpp and vecmath_avx512.cpp each define
// NABLA_VECMATH_TARGET (a target attribute, or nothing for the baseline) and include this file.
// Everything here has internal linkage, so copies compiled for different instruction sets are
// never merged by the linker (as in gemm_kernel.h).
//
// Each function is the classic scheme (Cody & Waite range reduction, then a polynomial on the
// reduced argument, as Cephes, fdlibm and SLEEF do), with coefficients fitted for this file by a
// Remez exchange (vecmath_remez.py) on the reduced interval:
// - exp:   x = n·ln2 + r, |r| <= ln2/2; e^r = 1 + r + r²·P(r); 2^n applied as 2^(n/2)·2^(n-n/2),
//          so the denormal results are rounded once and 2^n itself never overflows its exponent.
// - expm1: the same reduction; 2^n·(r + r²P) + (2^n - 1), exact near 0 where e^x - 1 cancels.
// - log:   x = 2^e·m, m in [√½, √2); f = m - 1, s = f / (2 + f), log m = 2·atanh s
//          = f - (f²/2 - s·(f²/2 + R(s²))) (fdlibm's arrangement: f is exact, the rest small).
// - log1p: log(1 + u) computed in the rounded t = 1 + u, plus the rounding error (u - (t-1)) / t.
// - tanh:  |x| < 0.625: x + x·x²·Q(x²); otherwise 1 - 2 / (e^2|x| + 1), sign restored.
// - sigmoid: e = e^-|x|; 1 / (1 + e) for x >= 0, e / (1 + e) below, so nothing overflows.
// Special values follow the C library: NaN in, NaN out; ±inf and ±0 as std::exp, std::log give.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "kernels/cpu/vecmath_internal.h"

#ifndef NABLA_VECMATH_TARGET
#error "define NABLA_VECMATH_TARGET before including vecmath_kernel.h"
#endif

namespace nabla::cpu::vecmath_detail {
namespace {

template <class T>
struct Consts;

template <>
struct Consts<float> {
  using I = int32_t;
  static constexpr int mantissa = 23;
  static constexpr I bias = 127;
  // t = x·log2e + magic leaves round(x·log2e) in t's low mantissa bits.
  static constexpr float magic = 12582912.0f;  // 1.5 · 2^23
  static constexpr float log2e = 1.44269504088896341f;
  // ln2 = hi + lo; hi has 9 significant bits, so n·hi is exact for |n| <= 2^15.
  static constexpr float exp_ln2_hi = 0.693359375f, exp_ln2_lo = -2.12194440e-4f;
  // e^x overflows above ln(FLT_MAX) = 88.72 and is below half the least denormal under -103.97.
  static constexpr float exp_hi = 88.8f, exp_lo = -104.0f;
  // expm1(x) rounds to -1 below -17.4 (e^x under half an ulp of 1).
  static constexpr float expm1_lo = -20.0f;
  static constexpr float exp_p[] = {5.00000002693416711885e-01f, 1.66665770059505974343e-01f,
                                    4.16663752494553785155e-02f, 8.36317525554846480373e-03f,
                                    1.39411136430499476950e-03f};
  // log: m's bits are brought into [√½, √2) by this offset (0x3f3504f3 is √½).
  static constexpr I one_bits = 0x3f800000, sqrt_half_bits = 0x3f3504f3, mantissa_mask = 0x7fffff;
  static constexpr float log_ln2_hi = 6.9313812256e-01f, log_ln2_lo = 9.0580006145e-06f;
  static constexpr float denormal_scale = 33554432.0f;  // 2^25
  static constexpr int denormal_shift = 25;
  static constexpr float log_p[] = {6.66666852660291131549e-01f, 3.99887188730379261603e-01f,
                                    2.95820468622046084395e-01f};
  static constexpr float tanh_q[] = {-3.33333331833585877479e-01f, 1.33333049828767341571e-01f,
                                     -5.39595502961540476883e-02f, 2.17709958945935984354e-02f,
                                     -8.35000855535378630479e-03f, 2.29894200659403434572e-03f};
};

template <>
struct Consts<double> {
  using I = int64_t;
  static constexpr int mantissa = 52;
  static constexpr I bias = 1023;
  static constexpr double magic = 6755399441055744.0;  // 1.5 · 2^52
  static constexpr double log2e = 1.44269504088896338700e+00;
  // hi has 32 trailing zero bits, so n·hi is exact for |n| < 2^11.
  static constexpr double exp_ln2_hi = 6.93147180369123816490e-01,
                          exp_ln2_lo = 1.90821492927058770002e-10;
  // ln(DBL_MAX) = 709.78; below -745.14 e^x is under half the least denormal.
  static constexpr double exp_hi = 709.8, exp_lo = -745.2;
  static constexpr double expm1_lo = -40.0;
  static constexpr double exp_p[] = {
      5.00000000000000000000e-01, 1.66666666666666712926e-01, 4.16666666666666851704e-02,
      8.33333333332614105415e-03, 1.38888888888744131515e-03, 1.98412698748019294915e-04,
      2.48015873473037195488e-05, 2.75572554241602006860e-06, 2.75572529482030397130e-07,
      2.51052069584619992025e-08, 2.09215769842518297681e-09};
  static constexpr I one_bits = 0x3ff0000000000000, sqrt_half_bits = 0x3fe6a09e667f3bcd,
                     mantissa_mask = 0x000fffffffffffff;
  static constexpr double log_ln2_hi = 6.93147180369123816490e-01,
                          log_ln2_lo = 1.90821492927058770002e-10;
  static constexpr double denormal_scale = 18014398509481984.0;  // 2^54
  static constexpr int denormal_shift = 54;
  static constexpr double log_p[] = {6.66666666666666962726e-01, 3.99999999998985056315e-01,
                                     2.85714286263712702318e-01, 2.22222110773963865693e-01,
                                     1.81828928873930706356e-01, 1.53316079586379272470e-01,
                                     1.46177368854973177559e-01};
  static constexpr double tanh_q[] = {
      -3.33333333333333314830e-01, 1.33333333333330583681e-01,  -5.39682539679143327693e-02,
      2.18694885196994044663e-02,  -8.86323511736730740296e-03, 3.59212191963797491598e-03,
      -1.45577666496599349849e-03, 5.89666642102641106078e-04,  -2.37609012645151210317e-04,
      9.26061524972567257693e-05,  -3.12387840304341032264e-05, 6.50268865111857871653e-06};
};

// One vector of T, VB bytes wide, and the same-width integer vector its bits are read as.
template <class T, int VB>
struct Vec {
  using C = Consts<T>;
  using I = typename C::I;
  typedef T V __attribute__((vector_size(VB)));
  typedef I VI __attribute__((vector_size(VB)));
  static constexpr int lanes = VB / int(sizeof(T));

  static NABLA_VECMATH_TARGET inline V splat(T s) { return V{} + s; }
  static NABLA_VECMATH_TARGET inline VI bits(V v) { return (VI)v; }
  static NABLA_VECMATH_TARGET inline V from_bits(VI i) { return (V)i; }

  // Horner's rule over coefficients c[0] + c[1]·x + ... (a·b + c contracts to an FMA where the
  // target has one).
  template <size_t N>
  static NABLA_VECMATH_TARGET inline V poly(V x, const T (&c)[N]) {
    V r = splat(c[N - 1]);
    for (size_t i = N - 1; i-- > 0;) r = r * x + c[i];
    return r;
  }

  // 2^k for integer k in the normal exponent range, as a vector of T.
  static NABLA_VECMATH_TARGET inline V pow2(VI k) {
    return from_bits((k + C::bias) << C::mantissa);
  }

  // x = n·ln2 + r: returns r, and n as integers (k) and as T (nf). x must be clamped to the
  // range where |n| fits the magic number's mantissa.
  static NABLA_VECMATH_TARGET inline V reduce(V x, VI& k) {
    const V t = x * C::log2e + C::magic;
    const V nf = t - C::magic;
    k = bits(t) - bits(splat(C::magic));
    return x - nf * C::exp_ln2_hi - nf * C::exp_ln2_lo;
  }

  static NABLA_VECMATH_TARGET inline V exp(V x) {
    x = x > C::exp_hi ? splat(C::exp_hi) : x;  // NaN fails both tests and stays NaN
    x = x < C::exp_lo ? splat(C::exp_lo) : x;
    VI k;
    const V r = reduce(x, k);
    const V p = (r + r * r * poly(r, C::exp_p)) + T(1);
    const VI k1 = k >> 1;
    return p * pow2(k1) * pow2(k - k1);
  }

  static NABLA_VECMATH_TARGET inline V expm1(V x) {
    V xc = x > C::exp_hi ? splat(C::exp_hi) : x;
    xc = xc < C::expm1_lo ? splat(C::expm1_lo) : xc;
    VI k;
    const V r = reduce(xc, k);
    const V em1 = r + r * r * poly(r, C::exp_p);  // e^r - 1
    // 2^k·(e^r - 1) + (2^k - 1), computed with 2^(k-1) and doubled so that k = 128 (1024)
    // still has an exponent; doubling is exact, so the rounding is that of the direct form.
    const V half = pow2(k - 1);
    const V y = (half * em1 + (half - T(0.5))) * T(2);
    return x == 0 ? x : y;  // keeps the sign of -0
  }

  // log x for x > 0 finite and normal-or-denormal; the callers patch the special values.
  static NABLA_VECMATH_TARGET inline V log_core(V x) {
    const auto tiny = x < std::numeric_limits<T>::min();
    const V xs = tiny ? x * C::denormal_scale : x;
    const VI shift = tiny ? VI{} + C::denormal_shift : VI{};
    const VI ix = bits(xs) + (C::one_bits - C::sqrt_half_bits);
    const VI e = (ix >> C::mantissa) - C::bias - shift;
    const V f = from_bits((ix & C::mantissa_mask) + C::sqrt_half_bits) - T(1);
    // e as T without an int -> float conversion instruction (AVX2 has none for 64-bit lanes).
    const V ef = from_bits(e + bits(splat(C::magic))) - C::magic;
    const V s = f / (f + T(2));
    const V z = s * s;
    const V R = z * poly(z, C::log_p);
    const V hfsq = T(0.5) * f * f;
    return ef * C::log_ln2_hi - ((hfsq - (s * (hfsq + R) + ef * C::log_ln2_lo)) - f);
  }

  static NABLA_VECMATH_TARGET inline V log(V x) {
    constexpr T inf = std::numeric_limits<T>::infinity();
    V y = log_core(x);
    y = x == inf ? x : y;
    y = x == 0 ? splat(-inf) : y;
    return x >= 0 ? y : splat(std::numeric_limits<T>::quiet_NaN());
  }

  static NABLA_VECMATH_TARGET inline V log1p(V u) {
    constexpr T inf = std::numeric_limits<T>::infinity();
    const V t = u + T(1);
    const V c = u - (t - T(1));  // the rounding error of t, exact
    V y = log_core(t) + (c == 0 ? V{} : c / t);
    y = t == inf ? t : y;
    y = t == 0 ? splat(-inf) : y;
    y = u == 0 ? u : y;  // ±0 stays ±0
    return t >= 0 ? y : splat(std::numeric_limits<T>::quiet_NaN());
  }

  // The sign bit alone (splat(-0.0) would not do: 0 + -0 is +0).
  static constexpr I sign_bit = std::numeric_limits<I>::min();

  static NABLA_VECMATH_TARGET inline V abs(V x) { return from_bits(bits(x) & ~sign_bit); }

  static NABLA_VECMATH_TARGET inline V tanh(V x) {
    const V a = abs(x);
    const V w = x * x;
    const V small = x + x * w * poly(w, C::tanh_q);
    const V big = T(1) - T(2) / (exp(a + a) + T(1));
    // Copy x's sign onto the large branch (a NaN x gives NaN from exp and keeps it).
    const V signed_big = from_bits(bits(big) | (bits(x) & sign_bit));
    const V y = a < T(0.625) ? small : signed_big;
    return x == 0 ? x : y;  // keeps the sign of -0
  }

  static NABLA_VECMATH_TARGET inline V sigmoid(V x) {
    // One division with the numerator chosen (1 or e), not e · (1 / (1 + e)): the product would
    // round a third time, and float's worst case would be 3 ulp instead of 2.
    const V e = exp(-abs(x));
    return (x >= 0 ? splat(T(1)) : e) / (T(1) + e);
  }

  template <Fn F>
  static NABLA_VECMATH_TARGET inline V apply(V v) {
    if constexpr (F == Fn::exp) return exp(v);
    if constexpr (F == Fn::expm1) return expm1(v);
    if constexpr (F == Fn::log) return log(v);
    if constexpr (F == Fn::log1p) return log1p(v);
    if constexpr (F == Fn::tanh) return tanh(v);
    if constexpr (F == Fn::sigmoid) return sigmoid(v);
  }

  // y[i] = F(x[i]); the last partial vector goes through a zero-padded copy, so every element
  // gets the same arithmetic wherever it sits. y may equal x.
  template <Fn F>
  static NABLA_VECMATH_TARGET void map(T* y, const T* x, int64_t n) {
    int64_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      V v;
      std::memcpy(&v, x + i, sizeof(V));
      v = apply<F>(v);
      std::memcpy(y + i, &v, sizeof(V));
    }
    if (i < n) {
      V v{};
      std::memcpy(&v, x + i, sizeof(T) * size_t(n - i));
      v = apply<F>(v);
      std::memcpy(y + i, &v, sizeof(T) * size_t(n - i));
    }
  }

  // y = e^(x - shift), returning Σ y: whole vectors summed lane-wise, then the lanes in order,
  // then the tail in order: a fixed order for a given n and instruction set.
  static NABLA_VECMATH_TARGET T exp_sum(T* y, const T* x, T shift, int64_t n) {
    V acc{};
    int64_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      V v;
      std::memcpy(&v, x + i, sizeof(V));
      v = exp(v - shift);
      acc += v;
      if (y) std::memcpy(y + i, &v, sizeof(V));
    }
    T total = 0;
    for (int l = 0; l < lanes; ++l) total += acc[l];
    if (i < n) {
      V v{};
      std::memcpy(&v, x + i, sizeof(T) * size_t(n - i));
      v = exp(v - shift);
      for (int64_t l = 0; l < n - i; ++l) total += v[l];
      if (y) std::memcpy(y + i, &v, sizeof(T) * size_t(n - i));
    }
    return total;
  }

  // The largest of x[0..n) (n >= 1). A NaN may or may not win; callers only need the row to
  // turn NaN, which it does through the sum either way.
  static NABLA_VECMATH_TARGET T max(const T* x, int64_t n) {
    T m = x[0];
    int64_t i = 0;
    if (n >= lanes) {
      V acc;
      std::memcpy(&acc, x, sizeof(V));
      for (i = lanes; i + lanes <= n; i += lanes) {
        V v;
        std::memcpy(&v, x + i, sizeof(V));
        acc = v > acc ? v : acc;
      }
      for (int l = 0; l < lanes; ++l) m = acc[l] > m ? acc[l] : m;
    }
    for (; i < n; ++i) m = x[i] > m ? x[i] : m;
    return m;
  }

  // ---- max pooling's 2×2 stride-2 windows, without padding ----
  // Window (oh, ow) covers a, b = row 2oh, columns 2ow and 2ow + 1, and c, d below them; its
  // index in the plane is at = 2oh·W + 2ow for a, and at + 1, at + W, at + W + 1. A vector holds
  // `lanes` windows of a row: two loads of each input row, split into even (a, c) and odd (b, d)
  // elements. Rows shorter than a vector go to the half-width copy (Narrow).
  // Dependent on T, as NormKernel::Double is.
  typedef std::conditional_t<sizeof(T) != 0, int32_t, T> Int32;
  typedef Int32 VA __attribute__((vector_size(lanes * sizeof(int32_t))));  // argmax lanes
  using Narrow = Vec<T, (VB > 16 ? VB / 2 : VB)>;

  template <size_t... L>
  static NABLA_VECMATH_TARGET inline V evens(const V& x0, const V& x1, std::index_sequence<L...>) {
    return __builtin_shufflevector(x0, x1, int(2 * L)...);
  }
  template <size_t... L>
  static NABLA_VECMATH_TARGET inline V odds(const V& x0, const V& x1, std::index_sequence<L...>) {
    return __builtin_shufflevector(x0, x1, int(2 * L + 1)...);
  }
  // Lanes [Half·lanes/2, (Half + 1)·lanes/2) of e and o, interleaved: e0 o0 e1 o1 ...
  template <int Half, size_t... L>
  static NABLA_VECMATH_TARGET inline V interleave(const V& e, const V& o,
                                                  std::index_sequence<L...>) {
    return __builtin_shufflevector(e, o, int((L % 2 ? lanes : 0) + L / 2 + Half * lanes / 2)...);
  }
  using Lanes = std::make_index_sequence<lanes>;

  static NABLA_VECMATH_TARGET inline VI even_offsets() {  // 2·lane
    VI v;
    for (int l = 0; l < lanes; ++l) v[l] = I(2 * l);
    return v;
  }

  // `count` (<= lanes) windows: x holds 2·lanes elements of each of the two input rows, a_at the
  // plane index of each window's a. The same comparisons as pool.cpp's max_pool_planes in the
  // same order (a, b, c, d): a value is taken when larger, or (without Relu) when it is a NaN
  // and the best so far is not. With Relu the best starts at 0 with no position (-1), so only
  // values > 0 are ever taken.
  template <bool Relu>
  static NABLA_VECMATH_TARGET inline void pool_windows(T* out, int32_t* argmax, const V (&x)[4],
                                                       const VI& a_at, I W, int64_t count) {
    const V cand[4] = {evens(x[0], x[1], Lanes{}), odds(x[0], x[1], Lanes{}),
                       evens(x[2], x[3], Lanes{}), odds(x[2], x[3], Lanes{})};
    const VI cand_at[4] = {a_at, a_at + 1, a_at + W, a_at + (W + 1)};
    V best = Relu ? V{} : cand[0];
    VI where = Relu ? VI{} - 1 : a_at;
    for (int k = Relu ? 0 : 1; k < 4; ++k) {
      const V v = cand[k];
      VI take = v > best;
      if constexpr (!Relu) take |= (v != v) & (best == best);
      best = take ? v : best;
      where = take ? cand_at[k] : where;
    }
    const VA where32 = __builtin_convertvector(where, VA);
    if (count == lanes) {
      std::memcpy(out, &best, sizeof(V));
      std::memcpy(argmax, &where32, sizeof(VA));
    } else {
      for (int64_t l = 0; l < count; ++l) out[l] = best[l], argmax[l] = where32[l];
    }
  }

  // f(i, count) over a row of n windows in groups [i, i + count): whole vectors, the last one
  // overlapping the one before (the same values written again), or, in a row shorter than the
  // narrowest copy's 16-byte vector, one window at a time through zero-padded vectors.
  template <class F>
  static NABLA_VECMATH_TARGET inline void window_groups(int64_t n, F&& f) {
    if (n < lanes)
      for (int64_t i = 0; i < n; ++i) f(i, int64_t{1});
    else
      for (int64_t i0 = 0; i0 < n; i0 += lanes) f(i0 + lanes <= n ? i0 : n - lanes, int64_t{lanes});
  }

  // Windows [0, n) of one row pair (r0 and the row below), their a at plane index at + 2·window.
  template <bool Relu>
  static NABLA_VECMATH_TARGET void pool_row(T* out, int32_t* argmax, const T* r0, int64_t n,
                                            int64_t at, I W) {
    if (n < lanes && VB > 16) return Narrow::template pool_row<Relu>(out, argmax, r0, n, at, W);
    const VI offsets = even_offsets();
    window_groups(
        n, [&](int64_t i, int64_t count) __attribute__((always_inline)) NABLA_VECMATH_TARGET {
          V x[4] = {};  // the two rows, two vectors each
          for (int r = 0; r < 2; ++r) {
            const T* row = r0 + r * W + 2 * i;
            if (count == lanes) {
              std::memcpy(&x[2 * r], row, sizeof(V));
              std::memcpy(&x[2 * r + 1], row + lanes, sizeof(V));
            } else {
              x[2 * r][0] = row[0], x[2 * r][1] = row[1];
            }
          }
          pool_windows<Relu>(out + i, argmax + i, x, offsets + I(at + 2 * i), W, count);
        });
  }

  template <bool Relu>
  static NABLA_VECMATH_TARGET void max_pool_2x2_impl(T* out, int32_t* argmax, const T* inp,
                                                     int64_t planes, int64_t H, int64_t W,
                                                     int64_t OH, int64_t OW) {
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t o = (p * OH + oh) * OW;
        pool_row<Relu>(out + o, argmax + o, inp + (p * H + 2 * oh) * W, OW, 2 * oh * W, I(W));
      }
  }

  static NABLA_VECMATH_TARGET void max_pool_2x2(T* out, int32_t* argmax, const T* inp,
                                                int64_t planes, int64_t H, int64_t W, int64_t OH,
                                                int64_t OW, bool relu) {
    if (relu)
      max_pool_2x2_impl<true>(out, argmax, inp, planes, H, W, OH, OW);
    else
      max_pool_2x2_impl<false>(out, argmax, inp, planes, H, W, OH, OW);
  }

  // The backward of `count` windows whose a is at a_at: rows d0, d1 get each window's four
  // elements, 0 + g (adding g into a zeroed gradient, -0 included) at the argmax, else 0.
  static NABLA_VECMATH_TARGET inline void unpool_windows(T* d0, T* d1, const V& dout, const VI& w,
                                                         const VI& a_at, I W, int64_t count) {
    const V g = T(0) + dout;
    const V a = w == a_at ? g : V{}, b = w == a_at + 1 ? g : V{};
    const V c = w == a_at + W ? g : V{}, d = w == a_at + (W + 1) ? g : V{};
    const V rows[4] = {interleave<0>(a, b, Lanes{}), interleave<1>(a, b, Lanes{}),
                       interleave<0>(c, d, Lanes{}), interleave<1>(c, d, Lanes{})};
    if (count == lanes) {
      std::memcpy(d0, &rows[0], sizeof(V)), std::memcpy(d0 + lanes, &rows[1], sizeof(V));
      std::memcpy(d1, &rows[2], sizeof(V)), std::memcpy(d1 + lanes, &rows[3], sizeof(V));
    } else {
      for (int64_t l = 0; l < 2 * count; ++l)
        d0[l] = rows[l / lanes][l % lanes], d1[l] = rows[2 + l / lanes][l % lanes];
    }
  }

  static NABLA_VECMATH_TARGET void unpool_row(T* d0, const T* dout, const int32_t* argmax,
                                              int64_t n, int64_t at, I W) {
    if (n < lanes && VB > 16) return Narrow::unpool_row(d0, dout, argmax, n, at, W);
    T* d1 = d0 + W;
    const VI offsets = even_offsets();
    window_groups(
        n, [&](int64_t i, int64_t count) __attribute__((always_inline)) NABLA_VECMATH_TARGET {
          V g{};
          VA w32{};
          if (count == lanes) {
            std::memcpy(&g, dout + i, sizeof(V));
            std::memcpy(&w32, argmax + i, sizeof(VA));
          } else {  // one window
            g[0] = dout[i], w32[0] = argmax[i];
          }
          unpool_windows(d0 + 2 * i, d1 + 2 * i, g, __builtin_convertvector(w32, VI),
                         offsets + I(at + 2 * i), W, count);
        });
  }

  // max_pool_2x2's backward: all of dinp written, a last row or column that no window covers
  // (odd H or W) with zeros.
  static NABLA_VECMATH_TARGET void max_pool_2x2_backward(T* dinp, const T* dout,
                                                         const int32_t* argmax, int64_t planes,
                                                         int64_t H, int64_t W, int64_t OH,
                                                         int64_t OW) {
    for (int64_t p = 0; p < planes; ++p) {
      T* plane = dinp + p * H * W;
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t o = (p * OH + oh) * OW;
        T* d0 = plane + 2 * oh * W;
        unpool_row(d0, dout + o, argmax + o, OW, 2 * oh * W, I(W));
        if (W > 2 * OW) d0[W - 1] = d0[2 * W - 1] = T(0);
      }
      for (int64_t e = 2 * OH * W; e < H * W; ++e) plane[e] = T(0);
    }
  }
};

}  // namespace
}  // namespace nabla::cpu::vecmath_detail

#include "kernels/cpu/vecmath_table.h"
