// The end of vecmath_kernel.h, which includes it (once per instruction set, each in its own
// translation unit): Adam's and SGD's updates (vec::adam, vec::sgd) over one vector width, whole
// vectors and then the tail in a vector of its own, so an element's bits never depend on where it
// sits; dropout's mask and product (vec::dropout); and the table of one width's functions that
// each per-set file makes. Apart from the Vec struct only to keep each file a readable size.
#pragma once

#include "kernels/cpu/vecmath_kernel.h"
#include "kernels/cpu/vecmath_norm_kernel.h"

namespace nabla::cpu::vecmath_detail {
namespace {

template <class T, int VB>
struct AdamKernel {
  using V = typename Vec<T, VB>::V;
  static constexpr int lanes = Vec<T, VB>::lanes;

  static NABLA_VECMATH_TARGET inline V adam_value(V pv, V gv, V& mv, V& vv,
                                                  const vec::AdamStep<T>& s) {
    if (s.decoupled) pv = pv * s.shrink;
    const V u = gv + s.l2 * pv;
    mv = s.beta1 * mv + s.one_minus_beta1 * u;
    vv = s.beta2 * vv + s.one_minus_beta2 * u * u;
    V root;
    for (int l = 0; l < lanes; ++l) root[l] = std::sqrt(vv[l]);  // one vsqrtp (no errno)
    return pv - s.step_size * mv / (root / s.bias_correction2_sqrt + s.eps);
  }

  // `bytes` of each array at element i through one vector (sizeof(V) for whole vectors, a
  // constant once inlined, so the copies compile to plain loads and stores).
  static NABLA_VECMATH_TARGET inline void adam_at(T* p, const T* g, T* m, T* v, int64_t i,
                                                  size_t bytes, const vec::AdamStep<T>& s) {
    V pv{}, gv{}, mv{}, vv{};
    std::memcpy(&pv, p + i, bytes);
    std::memcpy(&gv, g + i, bytes);
    std::memcpy(&mv, m + i, bytes);
    std::memcpy(&vv, v + i, bytes);
    pv = adam_value(pv, gv, mv, vv, s);
    std::memcpy(p + i, &pv, bytes);
    std::memcpy(m + i, &mv, bytes);
    std::memcpy(v + i, &vv, bytes);
  }

  static NABLA_VECMATH_TARGET void adam(T* p, const T* g, T* m, T* v, int64_t n,
                                        const vec::AdamStep<T>& s) {
    int64_t i = 0;
    for (; i + lanes <= n; i += lanes) adam_at(p, g, m, v, i, sizeof(V), s);
    if (i < n) adam_at(p, g, m, v, i, sizeof(T) * size_t(n - i), s);
  }
};

// SGD's update, laid out as Adam's: the flags are the same for every element, so each branch
// goes the same way through the whole array.
template <class T, int VB>
struct SgdKernel {
  using V = typename Vec<T, VB>::V;
  static constexpr int lanes = Vec<T, VB>::lanes;

  static NABLA_VECMATH_TARGET inline void sgd_at(T* p, const T* g, T* buf, int64_t i, size_t bytes,
                                                 const vec::SgdStep<T>& s) {
    V pv{}, gv{}, bv{};
    std::memcpy(&pv, p + i, bytes);
    std::memcpy(&gv, g + i, bytes);
    V d = gv;
    if (s.decay) d = d + s.weight_decay * pv;
    if (s.with_momentum) {
      if (s.first) {
        bv = d;
      } else {
        std::memcpy(&bv, buf + i, bytes);
        bv = s.momentum * bv + s.damp * d;
      }
      std::memcpy(buf + i, &bv, bytes);
      d = s.nesterov ? d + s.momentum * bv : bv;
    }
    pv = pv - s.lr * d;
    std::memcpy(p + i, &pv, bytes);
  }

  static NABLA_VECMATH_TARGET void sgd(T* p, const T* g, T* buf, int64_t n,
                                       const vec::SgdStep<T>& s) {
    // On two threads each updates the part of the parameters it updated last step, which the
    // other thread has since read: asked for 2 KiB ahead, a line is on its way by the time its
    // store needs it (LeNet-5's step on 2 threads: 0.022-0.023 s an epoch against 0.026-0.030).
    constexpr int64_t ahead = 2048 / sizeof(T);
    int64_t i = 0;
    for (; i + ahead + lanes <= n; i += lanes) {
      __builtin_prefetch(p + i + ahead, 1);
      sgd_at(p, g, buf, i, sizeof(V), s);
    }
    for (; i + lanes <= n; i += lanes) sgd_at(p, g, buf, i, sizeof(V), s);
    if (i < n) sgd_at(p, g, buf, i, sizeof(T) * size_t(n - i), s);
  }
};

// Dropout's mask and output: a plain loop, which GCC vectorises for each instruction set it is
// compiled for (a 64-bit unsigned compare, a select, a product; the baseline's SSE2 has no 64-bit
// compare, so its copy stays scalar). Every copy gives the same bits.
template <class T>
struct DropoutKernel {
  static NABLA_VECMATH_TARGET void dropout(T* __restrict mask, T* __restrict out,
                                           const T* __restrict in, const uint64_t* __restrict draws,
                                           int64_t n, uint64_t threshold, T scale) {
    for (int64_t i = 0; i < n; ++i) {
      mask[i] = (draws[i] >> 11) < threshold ? T(0) : scale;
      out[i] = in[i] * mask[i];
    }
  }
};

template <class T, int VB>
Table<T> make_table() {
  using W = Vec<T, VB>;
  Table<T> t;
  t.exp = &W::template map<Fn::exp>;
  t.expm1 = &W::template map<Fn::expm1>;
  t.log = &W::template map<Fn::log>;
  t.log1p = &W::template map<Fn::log1p>;
  t.tanh = &W::template map<Fn::tanh>;
  t.sigmoid = &W::template map<Fn::sigmoid>;
  t.exp_sum = &W::exp_sum;
  t.max = &W::max;
  t.centered_sums = &NormKernel<T, VB>::centered_sums;
  t.scale_shift = &NormKernel<T, VB>::scale_shift;
  t.centered_combination = &NormKernel<T, VB>::centered_combination;
  t.centered_sums_relu = &NormKernel<T, VB>::centered_sums_relu;
  t.centered_combination_relu = &NormKernel<T, VB>::centered_combination_relu;
  t.max_pool_2x2 = &W::max_pool_2x2;
  t.max_pool_2x2_backward = &W::max_pool_2x2_backward;
  t.adam = &AdamKernel<T, VB>::adam;
  t.sgd = &SgdKernel<T, VB>::sgd;
  t.dropout = &DropoutKernel<T>::dropout;
  return t;
}

}  // namespace
}  // namespace nabla::cpu::vecmath_detail
