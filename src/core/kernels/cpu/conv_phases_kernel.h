// Helpers of the per-instruction-set convolution kernels (conv_winograd_kernel.h,
// conv_winograd_cols_kernel.h), included by each of them inside its anonymous namespace, once per
// target, after it has defined NABLA_WT (the target attribute). Deliberately no #pragma once.

// "This loop carries no dependence through memory": the vectoriser may ignore the possible
// aliasing of its pointers. GCC's ivdep, or clang's spelling of it (the asan preset builds with
// clang, which would warn about GCC's pragma and ignore it).
#ifndef NABLA_IVDEP
#if defined(__clang__)
#define NABLA_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#else
#define NABLA_IVDEP _Pragma("GCC ivdep")
#endif
#endif

// Row src (n long) read from column off on, as its Step phases: phase ph, k = src[Step·k + ph +
// off], each `count` long and L apart, 0 outside [0, n). One pass over the row, reading Step
// adjacent columns at a time: a strided read per phase is what the vectoriser does worst.
template <int Step, class T>
NABLA_WT void split_phases(T* dst, int64_t L, const T* src, int64_t off, int64_t n, int64_t count) {
  // Tiles k in [lo, hi) read only columns inside the row.
  int64_t lo = off >= 0 ? 0 : (Step - 1 - off) / Step;
  int64_t hi = n - Step - off < 0 ? 0 : (n - Step - off) / Step + 1;
  lo = std::min(lo, count), hi = std::clamp(hi, lo, count);
  for (int64_t k = 0; k < count; ++k) {
    if (k == lo) k = hi;  // the inside is below
    if (k == count) break;
    for (int64_t ph = 0; ph < Step; ++ph) {
      const int64_t c = Step * k + ph + off;
      dst[ph * L + k] = c >= 0 && c < n ? src[c] : T(0);
    }
  }
  const T* row = src + off;
  NABLA_IVDEP for (int64_t k = lo; k < hi; ++k) for (int64_t ph = 0; ph < Step; ++ph)
      dst[ph * L + k] = row[Step * k + ph];
}
