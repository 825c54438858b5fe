// The GEMM kernel's dot-product path (Kernel::rows_times_bt), part of gemm_kernel.h: included
// by it inside its anonymous namespace, once per instruction set, after Config and min_of.
// Deliberately no #pragma once.

// Kernel::rows_times_bt: rows [m0, m1) and columns [n0, n1) of C when op(A) is A in place
// (!trans_a) and op(B) is Bᵀ: each element is the dot product of a row of A with a row of B, both
// contiguous, so nothing is packed. block() would transpose all of B into panels (a Linear's
// whole weight matrix, at every forward) for a C of few rows, and pack A's rows too.
// Each element sums whole vectors of K lane-wise in its own accumulator, folds the lanes (upper
// half onto lower, until one is left), then adds K's last K mod lanes products in order: an
// order fixed by K alone, whatever tile or thread computes the element. A tile is I rows of A
// times J rows of B; the J vectors of B stay in registers while each row of A's vector passes.

// The lanes of v folded: v[l] + v[l + half] for each l < half, again and again to one lane.
// By reference: a 64-byte vector passed by value where AVX-512 is off (the AVX-512 tiling
// compiled for AVX2) draws clang's -Wpsabi.
template <class T, class V>
NABLA_GEMM_TARGET __attribute__((always_inline)) inline T fold_lanes(const V& v) {
  if constexpr (sizeof(V) == sizeof(T)) {
    return v[0];
  } else {
    typedef T H __attribute__((vector_size(sizeof(V) / 2)));
    H lo, hi;
    std::memcpy(&lo, &v, sizeof(H));
    std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof(H), sizeof(H));
    return fold_lanes<T>(lo + hi);
  }
}

template <class Cfg, int I, int J, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET __attribute__((always_inline)) inline void dots(const Problem<T>& p, int64_t i,
                                                                  int64_t j) {
  typedef T V __attribute__((vector_size(Cfg::vector_bytes)));
  constexpr int L = Cfg::lanes;
  const int64_t whole = p.K - p.K % L;
  const T* a[I];
  const T* b[J];
  for (int r = 0; r < I; ++r) a[r] = p.A + (i + r) * p.lda;
  for (int c = 0; c < J; ++c) b[c] = p.B + (j + c) * p.ldb;
  V acc[I][J];
  for (int r = 0; r < I; ++r)
    for (int c = 0; c < J; ++c) acc[r][c] = V{};
  for (int64_t k = 0; k < whole; k += L) {
    V bv[J];
#pragma GCC unroll 8
    for (int c = 0; c < J; ++c) std::memcpy(&bv[c], b[c] + k, sizeof(V));
#pragma GCC unroll 8
    for (int r = 0; r < I; ++r) {
      V av;
      std::memcpy(&av, a[r] + k, sizeof(V));
#pragma GCC unroll 8
      for (int c = 0; c < J; ++c) acc[r][c] += av * bv[c];
    }
  }
  for (int r = 0; r < I; ++r)
    for (int c = 0; c < J; ++c) {
      T sum = fold_lanes<T>(acc[r][c]);
      for (int64_t k = whole; k < p.K; ++k) sum += a[r][k] * b[c][k];
      T* out = p.C + (i + r) * p.ldc + j + c;
      *out = p.beta == T(0) ? p.alpha * sum : p.alpha * sum + p.beta * *out;
    }
}

// The tile: 4 rows of A by 3 rows of B with 16 registers (12 accumulators, 3 vectors of B, one
// of A), by 4 with AVX-512's 32. One row of A alone: by 8.
template <class Cfg>
constexpr int kDotRows = 4;
template <class Cfg>
constexpr int kDotColumns = Cfg::vector_bytes == 64 ? 4 : 3;

// The columns [n0, n1) of rows [i, i + I), J at a time, then one at a time.
template <class Cfg, int I, int J, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET __attribute__((always_inline)) inline void dot_row_run(const Problem<T>& p,
                                                                         int64_t i, int64_t n0,
                                                                         int64_t n1) {
  int64_t j = n0;
  for (; j + J <= n1; j += J) dots<Cfg, I, J>(p, i, j);
  for (; j < n1; ++j) dots<Cfg, I, 1>(p, i, j);
}

template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void rows_times_bt(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0,
                                     int64_t n1) {
  constexpr int I = kDotRows<Cfg>, J = kDotColumns<Cfg>;
  if (m1 - m0 == 1) return dot_row_run<Cfg, 1, 8>(p, m0, n0, n1);  // a batch-1 Linear
  // Runs of 16·J columns: a tile of A's rows stays in L1 while the run's rows of B pass it, and
  // those (16·J rows, 150 KiB of the MLP's first weight under AVX2) stay in L2 for the next tile.
  constexpr int64_t kRun = 16 * J;
  for (int64_t jr = n0; jr < n1; jr += kRun) {
    const int64_t jr1 = min_of(n1, jr + kRun);
    int64_t i = m0;
    for (; i + I <= m1; i += I) dot_row_run<Cfg, I, J>(p, i, jr, jr1);
    for (; i < m1; ++i) dot_row_run<Cfg, 1, J>(p, i, jr, jr1);
  }
}
