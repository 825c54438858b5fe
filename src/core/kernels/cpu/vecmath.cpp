// Dispatch for vecmath.h: each call looks up the compiled copy for the active instruction set
// (or a ScopedVariant's choice) and runs it.
#include "kernels/cpu/vecmath.h"

#include <atomic>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/vecmath_internal.h"
#include "nabla/error.h"

namespace nabla::cpu::vec {

namespace {

constexpr int kNoOverride = -1;
std::atomic<int> g_variant{kNoOverride};

template <class T>
vecmath_detail::Table<T> build(Variant v) {
  switch (v) {
#if defined(__x86_64__) || defined(__i386__)
    case Variant::avx512:
      return vecmath_detail::avx512_table<T>();
    case Variant::avx2:
      return vecmath_detail::avx2_table<T>();
    case Variant::avx512_logic_on_avx2:
      return vecmath_detail::avx512_logic_on_avx2_table<T>();
#endif
    default:
      return vecmath_detail::generic_table<T>();
  }
}

Variant variant_for(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return Variant::avx512;
    case Isa::avx2:
      return Variant::avx2;
    case Isa::generic:
      break;
  }
  return Variant::generic;
}

template <class T>
const vecmath_detail::Table<T>& table() {
  static const vecmath_detail::Table<T> tables[] = {
      build<T>(Variant::generic), build<T>(Variant::avx2), build<T>(Variant::avx512),
      build<T>(Variant::avx512_logic_on_avx2)};
  const int o = g_variant.load(std::memory_order_relaxed);
  return tables[o != kNoOverride ? o : static_cast<int>(variant_for(active_isa()))];
}

}  // namespace

template <class T>
void exp(T* y, const T* x, int64_t n) {
  table<T>().exp(y, x, n);
}
template <class T>
void expm1(T* y, const T* x, int64_t n) {
  table<T>().expm1(y, x, n);
}
template <class T>
void log(T* y, const T* x, int64_t n) {
  table<T>().log(y, x, n);
}
template <class T>
void log1p(T* y, const T* x, int64_t n) {
  table<T>().log1p(y, x, n);
}
template <class T>
void tanh(T* y, const T* x, int64_t n) {
  table<T>().tanh(y, x, n);
}
template <class T>
void sigmoid(T* y, const T* x, int64_t n) {
  table<T>().sigmoid(y, x, n);
}
template <class T>
T exp_sum(T* y, const T* x, T shift, int64_t n) {
  return table<T>().exp_sum(y, x, shift, n);
}
template <class T>
T max(const T* x, int64_t n) {
  return table<T>().max(x, n);
}
template <class T>
void centered_sums(double* out, const T* dy, const T* x, double m, int64_t rows, int64_t n,
                   int64_t stride) {
  table<T>().centered_sums(out, dy, x, m, rows, n, stride);
}
template <class T>
void scale_shift(T* y, const T* x, int64_t n, T a, T b, bool relu) {
  table<T>().scale_shift(y, x, n, a, b, relu);
}
template <class T>
void adam(T* p, const T* g, T* m, T* v, int64_t n, const AdamStep<T>& s) {
  table<T>().adam(p, g, m, v, n, s);
}
template <class T>
void sgd(T* p, const T* g, T* buf, int64_t n, const SgdStep<T>& s) {
  table<T>().sgd(p, g, buf, n, s);
}

template <class T>
void dropout(T* mask, T* out, const T* in, const uint64_t* draws, int64_t n, uint64_t threshold,
             T scale) {
  table<T>().dropout(mask, out, in, draws, n, threshold, scale);
}

template <class T>
void centered_combination(T* y, const T* dy, const T* x, int64_t n, T a, T b, T m, T d) {
  table<T>().centered_combination(y, dy, x, n, a, b, m, d);
}

template <class T>
void centered_sums_relu(double* out, const T* dy, const T* x, double m, int64_t rows, int64_t n,
                        int64_t stride, T ga, T gb) {
  table<T>().centered_sums_relu(out, dy, x, m, rows, n, stride, ga, gb);
}

template <class T>
void centered_combination_relu(T* y, const T* dy, const T* x, int64_t n, T a, T b, T m, T d, T ga,
                               T gb) {
  table<T>().centered_combination_relu(y, dy, x, n, a, b, m, d, ga, gb);
}

template <class T>
void max_pool_2x2(T* out, int32_t* argmax, const T* inp, int64_t planes, int64_t H, int64_t W,
                  int64_t OH, int64_t OW, bool relu) {
  table<T>().max_pool_2x2(out, argmax, inp, planes, H, W, OH, OW, relu);
}
template <class T>
void max_pool_2x2_backward(T* dinp, const T* dout, const int32_t* argmax, int64_t planes, int64_t H,
                           int64_t W, int64_t OH, int64_t OW) {
  table<T>().max_pool_2x2_backward(dinp, dout, argmax, planes, H, W, OH, OW);
}

const char* variant_name(Variant v) {
  switch (v) {
    case Variant::generic:
      return "generic";
    case Variant::avx2:
      return "avx2";
    case Variant::avx512:
      return "avx512";
    case Variant::avx512_logic_on_avx2:
      return "avx512_logic_on_avx2";
  }
  return "?";
}

bool variant_supported(Variant v) {
  switch (v) {
    case Variant::avx512:
      return isa_supported(Isa::avx512);
    case Variant::avx2:
    case Variant::avx512_logic_on_avx2:
      return isa_supported(Isa::avx2);
    case Variant::generic:
      return true;
  }
  return false;
}

std::vector<Variant> supported_variants() {
  std::vector<Variant> out;
  for (Variant v :
       {Variant::generic, Variant::avx2, Variant::avx512, Variant::avx512_logic_on_avx2})
    if (variant_supported(v)) out.push_back(v);
  return out;
}

ScopedVariant::ScopedVariant(Variant v) : previous_(g_variant.load()) {
  NABLA_CHECK(variant_supported(v), "vec::ScopedVariant: this CPU does not support ",
              variant_name(v), " (it supports up to ", isa_name(detected_isa()), ")");
  g_variant.store(static_cast<int>(v));
}

ScopedVariant::~ScopedVariant() {
  g_variant.store(previous_);
}

#define NABLA_VECMATH_INSTANTIATE(T)                                                              \
  template void exp<T>(T*, const T*, int64_t);                                                    \
  template void expm1<T>(T*, const T*, int64_t);                                                  \
  template void log<T>(T*, const T*, int64_t);                                                    \
  template void log1p<T>(T*, const T*, int64_t);                                                  \
  template void tanh<T>(T*, const T*, int64_t);                                                   \
  template void sigmoid<T>(T*, const T*, int64_t);                                                \
  template T exp_sum<T>(T*, const T*, T, int64_t);                                                \
  template T max<T>(const T*, int64_t);                                                           \
  template void centered_sums<T>(double*, const T*, const T*, double, int64_t, int64_t, int64_t); \
  template void scale_shift<T>(T*, const T*, int64_t, T, T, bool);                                \
  template void centered_combination<T>(T*, const T*, const T*, int64_t, T, T, T, T);             \
  template void centered_sums_relu<T>(double*, const T*, const T*, double, int64_t, int64_t,      \
                                      int64_t, T, T);                                             \
  template void centered_combination_relu<T>(T*, const T*, const T*, int64_t, T, T, T, T, T, T);  \
  template void adam<T>(T*, const T*, T*, T*, int64_t, const AdamStep<T>&);                       \
  template void sgd<T>(T*, const T*, T*, int64_t, const SgdStep<T>&);                             \
  template void dropout<T>(T*, T*, const T*, const uint64_t*, int64_t, uint64_t, T);              \
  template void max_pool_2x2<T>(T*, int32_t*, const T*, int64_t, int64_t, int64_t, int64_t,       \
                                int64_t, bool);                                                   \
  template void max_pool_2x2_backward<T>(T*, const T*, const int32_t*, int64_t, int64_t, int64_t, \
                                         int64_t, int64_t);

NABLA_VECMATH_INSTANTIATE(float)
NABLA_VECMATH_INSTANTIATE(double)
#undef NABLA_VECMATH_INSTANTIATE

}  // namespace nabla::cpu::vec
