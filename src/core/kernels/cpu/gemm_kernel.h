// The GEMM kernel, written once over the vector width and compiled once per instruction set:
// gemm_generic.cpp, gemm_avx2.cpp and gemm_avx512.cpp each define NABLA_GEMM_TARGET (a target
// attribute, or nothing for the baseline) and include this file. Everything here has internal
// linkage, so the copies compiled for different instruction sets can never be merged by the
// linker (an AVX-512 copy standing in for the baseline one would crash older CPUs).
//
// Structure (GotoBLAS / BLIS): C is computed in MC × NC blocks over KC-deep slices of K; op(A)'s
// slice of a block is packed into MR-row panels and op(B)'s into NR-column panels, and one
// register-blocked micro-kernel computes each MR×NR tile of C from a pair of panels. Packing
// absorbs the transposes and zero-pads ragged edges, so one micro-kernel serves every case; its
// accumulators (MR × NR/lanes vectors) stay in registers over the slice. Which packed block
// stays in which cache is the configuration's (Config::a_stationary, block()).
// The dot-product path for A·Bᵀ with few rows is in gemm_dots_kernel.h, included below.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_internal.h"
#include "nabla/error.h"

#ifndef NABLA_GEMM_TARGET
#error "define NABLA_GEMM_TARGET before including gemm_kernel.h"
#endif

namespace nabla::cpu::gemm_detail {
namespace {

// VB: vector bytes; MR rows × NV vectors per tile; KC, MC, NC: cache blocking (elements).
// Loop order (block()): with AStat false, B's panel stays in L1 while A's panels stream past it
// (BLIS's order for the 6×16 tile: KC 256, MC 144, NC 4096, its values for Zen); with AStat
// true, A's panel stays in L1 while B's packed block (KC × NC, sized for L2) streams past it,
// prefetched PF rows of B ahead (0: none).
template <class T, int VB, int MR_, int NV_, int KC_ = 256, int MC_ = 144, int NC_ = 4096,
          bool AStat_ = false, int PF_ = 0>
struct Config {
  using Scalar = T;
  static constexpr int vector_bytes = VB;
  static constexpr int lanes = VB / int(sizeof(T));
  static constexpr int MR = MR_, NV = NV_, NR = NV_ * lanes;
  static constexpr int64_t KC = KC_, MC = MC_, NC = NC_;
  static constexpr bool a_stationary = AStat_;
  static constexpr int prefetch_b = PF_;
  static_assert(MC_ % MR_ == 0 && NC_ % (NV_ * (VB / int(sizeof(T)))) == 0);
};

// The AVX-512 configuration (gemm_avx512.cpp; gemm_avx2.cpp compiles it for AVX2 too, for the
// tests): a 12×32 float tile (12×16 double), 24 zmm accumulators. Its blocks, measured on Zen 5
// (48 KiB L1D, 1 MiB L2; docs/performance.md): A's 12 × 384 float panel (18 KiB) is reused tile
// after tile from L1, B's 384 × 384 block (576 KiB) stays in L2 and streams through L1 (with
// software prefetch), A's block of up to 1536 rows comes from L3; the same bytes for double.
// Deeper slices than the AVX2 kernel's also mean fewer passes over C.
template <class T>
using Avx512Config = Config<T, 64, 12, 2, 1536 / sizeof(T), 1536, 384, true, 16>;

constexpr int64_t min_of(int64_t a, int64_t b) {
  return a < b ? a : b;
}
constexpr int64_t round_up(int64_t x, int64_t to) {
  return (x + to - 1) / to * to;
}

// acc = Σ_k a[k]·b[k] over one slice, then C = alpha·acc + beta·C (C not read when beta_zero,
// so NaN in an uninitialised C does not leak through). a: kc × MR, packed; b: kc rows of NR,
// b_step apart (NR when packed, ldb when read in place). Prefetch: fetch B's rows
// Cfg::prefetch_b ahead (packed B only: they run on into the next panel, which the next tile
// reads when A's panel is the stationary one).
// Rows < MR: only the panel's first Rows rows (a whole tile of C that has fewer rows left), with
// the same arithmetic for each of them as a full tile's.
template <class Cfg, bool Prefetch = false, int Rows = Cfg::MR, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET __attribute__((always_inline)) inline void tile(int64_t kc, const T* a,
                                                                  const T* b, int64_t b_step, T* c,
                                                                  int64_t ldc, T alpha, T beta,
                                                                  bool beta_zero) {
  typedef T V __attribute__((vector_size(Cfg::vector_bytes)));
  constexpr int MR = Rows, NV = Cfg::NV, L = Cfg::lanes;
  static_assert(Rows >= 1 && Rows <= Cfg::MR);
  V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) acc[i][j] = V{};
  // The tile of C is read at the end: fetch its lines while the slice is summed.
  for (int i = 0; i < MR; ++i)
    __builtin_prefetch(c + i * ldc, 1), __builtin_prefetch(c + i * ldc + Cfg::NR - 1, 1);
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    if constexpr (Prefetch && Cfg::prefetch_b > 0)  // each 64-byte line of that row of B
      for (int j = 0; j < NV * int(sizeof(V)); j += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(b + Cfg::prefetch_b * b_step) + j);
    V bv[NV];
    for (int j = 0; j < NV; ++j) std::memcpy(&bv[j], b + j * L, sizeof(V));
    for (int i = 0; i < MR; ++i) {
      const V ai = a[i] - V{};  // a broadcast: s - 0 is s exactly, so this folds away
      for (int j = 0; j < NV; ++j) acc[i][j] += ai * bv[j];
    }
    a += Cfg::MR;
    b += b_step;
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) {
      T* p = c + i * ldc + j * L;
      V r = acc[i][j] * alpha;
      if (!beta_zero) {
        V old;
        std::memcpy(&old, p, sizeof(V));
        r += old * beta;
      }
      std::memcpy(p, &r, sizeof(V));
    }
}

// A tile of C that sticks out of the matrix: the same tile() on a copy, so its elements get
// exactly the arithmetic of a full tile's.
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void edge_tile(int64_t kc, const T* a, const T* b, int64_t b_step, T* c,
                                 int64_t ldc, int m, int n, T alpha, T beta, bool beta_zero) {
  constexpr int MR = Cfg::MR, NR = Cfg::NR;
  alignas(64) T buf[MR * NR] = {};
  if (!beta_zero)
    for (int i = 0; i < m; ++i) std::memcpy(buf + i * NR, c + i * ldc, sizeof(T) * n);
  tile<Cfg>(kc, a, b, b_step, buf, NR, alpha, beta, beta_zero);
  for (int i = 0; i < m; ++i) std::memcpy(c + i * ldc, buf + i * NR, sizeof(T) * n);
}

// dst[t·ld_dst + r] = src[r·ld_src + t] for r, t < 8: eight loads, three rounds of shuffles,
// eight stores, instead of 64 scalar moves. (__builtin_shufflevector: GCC 12 and clang both have
// it; GCC's own __builtin_shuffle is unknown to clang, which builds the fuzz targets.)
NABLA_GEMM_TARGET inline void transpose_8x8(float* dst, int64_t ld_dst, const float* src,
                                            int64_t ld_src) {
  typedef float V __attribute__((vector_size(32)));
  V r[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) std::memcpy(&r[i], src + i * ld_src, sizeof(V));
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int h = 0; h < 2; ++h) {
      u[i + 2 * h] = __builtin_shufflevector(t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + 2 * h + 1] =
          __builtin_shufflevector(t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  // u[i] (i < 4) holds rows 0-3 at k = i and i + 4; u[i + 4] the same for rows 4-7.
  for (int i = 0; i < 4; ++i) {
    const V lo = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    const V hi = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    std::memcpy(dst + i * ld_dst, &lo, sizeof(V));
    std::memcpy(dst + (i + 4) * ld_dst, &hi, sizeof(V));
  }
}

// op(A)[i0 : i0 + mc, k0 : k0 + kc] into MR-row panels (kc × MR each), rows past mc zeroed.
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void pack_a(T* dst, const Problem<T>& p, int64_t i0, int64_t mc, int64_t k0,
                              int64_t kc) {
  constexpr int MR = Cfg::MR;
  for (int64_t s = 0; s < mc; s += MR, dst += MR * kc) {
    const int m = int(min_of(MR, mc - s));
    if (!p.trans_a) {
      const T* src = p.A + (i0 + s) * p.lda + k0;
      int64_t k8 = 0;
      if constexpr (sizeof(T) == 4 && MR >= 8) {
        // 8×8 register transposes over rows 0-7, 8-15, ..., the last block ending at row MR
        // (overlapping the one before it when MR is not a multiple of 8: same values twice).
        if (m == MR)
          for (k8 = 0; k8 + 8 <= kc; k8 += 8)
            for (int r = 0; r < MR; r += 8) {
              const int r0 = r + 8 <= MR ? r : MR - 8;
              transpose_8x8(dst + k8 * MR + r0, MR, src + r0 * p.lda + k8, p.lda);
            }
      }
      for (int i = 0; i < m; ++i)
        for (int64_t k = k8; k < kc; ++k) dst[k * MR + i] = src[i * p.lda + k];
      for (int i = m; i < MR; ++i)
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = T(0);
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = p.A + (k0 + k) * p.lda + i0 + s;
        T* d = dst + k * MR;
        if (m == MR) {
          std::memcpy(d, src, sizeof(T) * MR);
        } else {
          for (int i = 0; i < m; ++i) d[i] = src[i];
          for (int i = m; i < MR; ++i) d[i] = T(0);
        }
      }
    }
  }
}

// pack_b's row order (A-stationary configurations): from this slice depth, across at most this
// many panels at once.
constexpr int64_t kRowPackMinK = 256, kRowPackPanels = 64;

// op(B)[k0 : k0 + kc, j0 : j0 + nc] into NR-column panels (kc × NR each), columns past nc zeroed.
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void pack_b(T* dst, const Problem<T>& p, int64_t k0, int64_t kc, int64_t j0,
                              int64_t nc) {
  constexpr int NR = Cfg::NR;
  int64_t s0 = 0;  // the panels from s0 on are packed one by one below
  if (Cfg::a_stationary && !p.trans_b && kc >= kRowPackMinK) {
    // Deep slices of an untransposed B: row by row across up to kRowPackPanels full panels, so
    // each row of B is read once and in order, rather than one NR-wide piece of it per panel
    // (on a large B, a page apart from the next row's, where the hardware prefetchers stop).
    // On Zen 5, 0.45-0.55 cycles an element against 0.7-1.7 panel by panel (n = 1024, 2048).
    // Short slices keep the panel order: LeNet's K of 6 to 25 lost up to 25% this way. So does
    // the AVX2 configuration (its B panel the one kept in L1): 64 × 784 × 256 lost 10-20%.
    const int64_t full = nc / NR * NR;
    for (int64_t r0 = 0; r0 < full; r0 += kRowPackPanels * NR) {
      const int64_t r1 = min_of(full, r0 + kRowPackPanels * NR);
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = p.B + (k0 + k) * p.ldb + j0;
        for (int64_t s = r0; s < r1; s += NR)
          std::memcpy(dst + s * kc + k * NR, src + s, sizeof(T) * NR);
      }
    }
    s0 = full;
  }
  dst += s0 * kc;
  for (int64_t s = s0; s < nc; s += NR, dst += NR * kc) {
    const int n = int(min_of(NR, nc - s));
    if (!p.trans_b) {
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = p.B + (k0 + k) * p.ldb + j0 + s;
        T* d = dst + k * NR;
        if (n == NR) {
          std::memcpy(d, src, sizeof(T) * NR);
        } else {
          for (int j = 0; j < n; ++j) d[j] = src[j];
          for (int j = n; j < NR; ++j) d[j] = T(0);
        }
      }
    } else {
      // A transpose: 8×8 blocks through registers for float, then what is left one by one.
      const T* src = p.B + (j0 + s) * p.ldb + k0;
      int j8 = 0;
      if constexpr (sizeof(T) == 4) {
        for (; j8 + 8 <= n; j8 += 8)
          for (int64_t k = 0; k + 8 <= kc; k += 8)
            transpose_8x8(dst + k * NR + j8, NR, src + j8 * p.ldb + k, p.ldb);
      }
      const int64_t k8 = sizeof(T) == 4 ? kc / 8 * 8 : 0;
      for (int64_t k = 0; k < kc; ++k)
        for (int j = k < k8 ? j8 : 0; j < n; ++j) dst[k * NR + j] = src[j * p.ldb + k];
      for (int j = n; j < NR; ++j)
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + j] = T(0);
    }
  }
}

// The packed blocks of one step of block(): A's rows [ic, ic + mc) (a_pack) and B's columns
// [jc, jc + nc) (b_pack, or B itself when b_in_place) over K's slice [pc, pc + kc).
template <class T>
struct Blocks {
  const T* a_pack;
  const T* b_pack;
  bool b_in_place;
  int64_t ic, mc, jc, nc, pc, kc;
  int64_t b_panel = 0;  // elements from one panel of b_pack to the next (NR·kc, or more)
};

// Packs op(B)'s slice of the block into b_buf, where k.b_pack points (only its ragged last panel
// when B is read in place: that one still needs its zero padding).
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void pack_b_block(const Problem<T>& p, const Blocks<T>& k, T* b_buf) {
  constexpr int NR = Cfg::NR;
  if (!k.b_in_place) {
    pack_b<Cfg>(b_buf, p, k.pc, k.kc, k.jc, k.nc);
  } else if (k.nc % NR != 0) {  // at the buffer's start
    const int64_t full = k.nc - k.nc % NR;
    pack_b<Cfg>(b_buf, p, k.pc, k.kc, k.jc + full, k.nc % NR);
  }
}

// Tile heights below MR that get a tile() of their own, with no copy through edge_tile()'s
// buffer, which computes all MR rows. Two thirds of MR: 8 rows with the AVX-512 kernel's 12,
// what is left of C's 128 rows in Winograd's products on 128 channels (a tenth of their tiles)
// and of a batch slice of 32; 4 with the other kernels' 6 (of 64 rows). A third: 4 with the
// AVX-512 kernel (a batch of 64 or 256: the MLP's Linear layers at batch 64 spent 11% of an
// epoch in edge_tile), 2 with the others' 6 (LeNet-5's slices of 32 rows).
template <class Cfg>
constexpr int kShortRows = Cfg::MR * 2 / 3;
template <class Cfg>
constexpr int kShorterRows = Cfg::MR / 3;

// The third-height tile as a call: inlined into the loop nest beside the others, it made the
// AVX2 configuration's square products 5-9% slower (block() inlines that nest whole).
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET __attribute__((noinline)) void shorter_tile(int64_t kc, const T* a, const T* b,
                                                              int64_t b_step, T* c, int64_t ldc,
                                                              T alpha, T beta, bool beta_zero) {
  tile<Cfg, false, kShorterRows<Cfg>>(kc, a, b, b_step, c, ldc, alpha, beta, beta_zero);
}

// Every tile of the block: row by row of tiles when rows_outer (A's panel stays in L1 while B's
// panels pass), else column by column (B's panel stays). Inlined into block(), as one loop nest
// with it: short slices (LeNet's K of 6 to 25) make a tile a few dozen cycles, and a call per
// block with the blocks in memory cost the AVX2 kernel up to 10% there.
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET __attribute__((always_inline)) inline void tiles(const Problem<T>& p,
                                                                   const Blocks<T>& k,
                                                                   bool rows_outer) {
  constexpr int MR = Cfg::MR, NR = Cfg::NR;
  const bool first = k.pc == 0;
  const T beta = first ? p.beta : T(1);
  const bool beta_zero = first && p.beta == T(0);
  const auto one = [&](int64_t ir, int64_t jr) __attribute__((always_inline)) NABLA_GEMM_TARGET {
    const int m = int(min_of(MR, k.mc - ir)), n = int(min_of(NR, k.nc - jr));
    const bool direct = k.b_in_place && n == NR;
    const T* b = direct ? p.B + k.pc * p.ldb + k.jc + jr
                        : k.b_pack + (k.b_in_place ? 0 : jr / NR * k.b_panel);
    const int64_t b_step = direct ? p.ldb : NR;
    const T* a = k.a_pack + ir * k.kc;
    T* c = p.C + (k.ic + ir) * p.ldc + k.jc + jr;
    if (n == NR && m == kShortRows<Cfg>) {  // C's last rows, as many as the short tile has
      tile<Cfg, false, kShortRows<Cfg>>(k.kc, a, b, b_step, c, p.ldc, p.alpha, beta, beta_zero);
    } else if (n == NR && m == kShorterRows<Cfg>) {
      shorter_tile<Cfg>(k.kc, a, b, b_step, c, p.ldc, p.alpha, beta, beta_zero);
    } else if (m != MR || n != NR) {
      edge_tile<Cfg>(k.kc, a, b, b_step, c, p.ldc, m, n, p.alpha, beta, beta_zero);
    } else if (Cfg::prefetch_b == 0 || direct) {
      tile<Cfg>(k.kc, a, b, b_step, c, p.ldc, p.alpha, beta, beta_zero);
    } else {
      tile<Cfg, true>(k.kc, a, b, NR, c, p.ldc, p.alpha, beta, beta_zero);
    }
  };
  if (Cfg::a_stationary && rows_outer) {
    for (int64_t ir = 0; ir < k.mc; ir += MR)
      for (int64_t jr = 0; jr < k.nc; jr += NR) one(ir, jr);
  } else {
    for (int64_t jr = 0; jr < k.nc; jr += NR)
      for (int64_t ir = 0; ir < k.mc; ir += MR) one(ir, jr);
  }
}

// tiles() as a function of its own: measured faster for the AVX-512 configuration's order (its
// small-M products, 6 × 50176 × 25, by 7%), where the inlined loop nest was not.
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET __attribute__((noinline)) void tiles_outlined(const Problem<T>& p,
                                                                const Blocks<T>& k,
                                                                bool rows_outer) {
  tiles<Cfg>(p, k, rows_outer);
}

// The calling thread's packing buffer, sized for the largest blocks this configuration uses
// (not one product's need): the buffer only grows, so a thread allocates once, at its first
// product, rather than again whenever it happens to claim a larger block than before. Pages it
// never touches cost no memory.
template <class Cfg>
constexpr int64_t most_packing_elems() {
  return round_up(Cfg::MC * Cfg::KC, 64) + Cfg::NC * Cfg::KC;
}
template <class Cfg, class T = typename Cfg::Scalar>
T* thread_packing_buffer() {
  return static_cast<T*>(packing_buffer(sizeof(T) * most_packing_elems<Cfg>()));
}

// Where pack_a_all put the panels of A's rows [ic, ic + mc) over K's slice from pc: the blocks of
// rows before it are round_up(MC, MR) = MC rows each, and its slices before pc are as deep as pc.
template <class Cfg>
constexpr int64_t packed_a_offset(int64_t K, int64_t ic, int64_t mc, int64_t pc) {
  return ic * K + round_up(mc, Cfg::MR) * pc;
}

// The panels of A for the block and slice in k: from Problem::a_packed, or packed now into buf.
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET __attribute__((always_inline)) inline const T* a_panels(const Problem<T>& p,
                                                                          T* buf,
                                                                          const Blocks<T>& k) {
  if (p.a_packed) return p.a_packed + packed_a_offset<Cfg>(p.K, k.ic, k.mc, k.pc);
  pack_a<Cfg>(buf, p, k.ic, k.mc, k.pc, k.kc);
  return buf;
}

template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void pack_a_all(const Problem<T>& p, T* dst) {
  const int64_t kstep = slice_depth(p.K, Cfg::KC);
  for (int64_t ic = 0; ic < p.M; ic += Cfg::MC) {
    const int64_t mc = min_of(Cfg::MC, p.M - ic);
    for (int64_t pc = 0; pc < p.K; pc += kstep)
      pack_a<Cfg>(dst + packed_a_offset<Cfg>(p.K, ic, mc, pc), p, ic, mc, pc,
                  min_of(kstep, p.K - pc));
  }
}

// All of op(B) in cpu::GemmPanelsB's layout (gemm.h), panel by panel.
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void pack_b_all(const Problem<T>& p, T* dst) {
  constexpr int NR = Cfg::NR;
  const GemmPanelsB b{NR, slice_depth(p.K, Cfg::KC), p.K, p.N};
  for (int64_t pc = 0; pc < p.K; pc += b.kstep)
    for (int64_t j = 0; j < p.N; j += NR)
      pack_b<Cfg>(dst + b.row(pc) + b.column(j), p, pc, min_of(b.kstep, p.K - pc), j,
                  min_of(NR, p.N - j));
}

// B's panels for the block in k: from Problem::b_packed (GemmPanelsB's layout), or packed now
// into b_buf.
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET __attribute__((always_inline)) inline void b_panels(const Problem<T>& p,
                                                                      int64_t kstep, Blocks<T>& k,
                                                                      T* b_buf) {
  if (p.b_packed) {
    const GemmPanelsB b{Cfg::NR, kstep, p.K, p.N};
    k.b_pack = p.b_packed + b.row(k.pc) + b.column(k.jc);
    k.b_panel = b.panel();
  } else {
    pack_b_block<Cfg>(p, k, b_buf);
    k.b_panel = Cfg::NR * k.kc;
  }
}

template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void block(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  constexpr int MR = Cfg::MR, NR = Cfg::NR;
  // K's slices depend on K alone, so every element of C sums its products in the same order
  // whatever block of C it is computed in, and whatever the order of the loops below.
  const int64_t kstep = slice_depth(p.K, Cfg::KC);
  const int64_t mc_max = min_of(Cfg::MC, round_up(m1 - m0, MR));
  // With few rows of C, each panel of B serves few tiles, and copying it costs more than it
  // saves: full panels of an untransposed B are then read in place (same values, same order),
  // each serving all its tiles at once, all of B's columns one block.
  const bool b_in_place = !p.b_packed && !p.trans_b && m1 - m0 <= 4 * MR;
  const bool rows_outer = Cfg::a_stationary && !b_in_place;
  const int64_t nc_step = b_in_place ? n1 - n0 : Cfg::NC;
  const int64_t nc_max = b_in_place ? NR : min_of(Cfg::NC, round_up(n1 - n0, NR));
  const int64_t a_elems = round_up(mc_max * kstep, 64);
  NABLA_ASSERT(a_elems + nc_max * kstep <= most_packing_elems<Cfg>());
  NABLA_ASSERT(!p.a_packed || m0 == 0);
  NABLA_ASSERT(!p.b_packed || n0 % NR == 0);
  T* a_pack = thread_packing_buffer<Cfg>();
  T* b_buf = a_pack + a_elems;
  Blocks<T> k{a_pack, b_buf, b_in_place, 0, 0, 0, 0, 0, 0};
  if constexpr (Cfg::a_stationary) {
    for (k.ic = m0; k.ic < m1; k.ic += Cfg::MC) {
      k.mc = min_of(Cfg::MC, m1 - k.ic);
      for (k.pc = 0; k.pc < p.K; k.pc += kstep) {
        k.kc = min_of(kstep, p.K - k.pc);
        k.a_pack = a_panels<Cfg>(p, a_pack, k);
        for (k.jc = n0; k.jc < n1; k.jc += nc_step) {
          k.nc = min_of(nc_step, n1 - k.jc);
          b_panels<Cfg>(p, kstep, k, b_buf);
          tiles_outlined<Cfg>(p, k, rows_outer);
        }
      }
    }
  } else {
    for (k.jc = n0; k.jc < n1; k.jc += nc_step) {
      k.nc = min_of(nc_step, n1 - k.jc);
      for (k.pc = 0; k.pc < p.K; k.pc += kstep) {
        k.kc = min_of(kstep, p.K - k.pc);
        b_panels<Cfg>(p, kstep, k, b_buf);
        for (k.ic = m0; k.ic < m1; k.ic += Cfg::MC) {
          k.mc = min_of(Cfg::MC, m1 - k.ic);
          k.a_pack = a_panels<Cfg>(p, a_pack, k);
          tiles<Cfg>(p, k, rows_outer);
        }
      }
    }
  }
}

template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void pack_b_slice(const Problem<T>& p, int64_t pc, int64_t kc, int64_t n0,
                                    int64_t n1, T* dst) {
  pack_b<Cfg>(dst, p, pc, kc, n0, n1 - n0);
}

// Kernel::rows_on_packed_b: block()'s A-stationary loops over one slice of K, with every block
// of B's columns already packed (column jc's panel at b_slice + (jc - n0)·kc).
template <class Cfg, class T = typename Cfg::Scalar>
NABLA_GEMM_TARGET void rows_on_packed_b(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0,
                                        int64_t n1, int64_t pc, int64_t kc, const T* b_slice) {
  T* a_pack = thread_packing_buffer<Cfg>();
  Blocks<T> k{a_pack, b_slice, false, 0, 0, 0, 0, pc, kc, Cfg::NR * kc};
  for (k.ic = m0; k.ic < m1; k.ic += Cfg::MC) {
    k.mc = min_of(Cfg::MC, m1 - k.ic);
    pack_a<Cfg>(a_pack, p, k.ic, k.mc, pc, kc);
    for (k.jc = n0; k.jc < n1; k.jc += Cfg::NC) {
      k.nc = min_of(Cfg::NC, n1 - k.jc);
      k.b_pack = b_slice + (k.jc - n0) * kc;
      tiles_outlined<Cfg>(p, k, true);
    }
  }
}

#include "kernels/cpu/gemm_dots_kernel.h"

template <class Cfg>
Kernel<typename Cfg::Scalar> make_kernel() {
  Kernel<typename Cfg::Scalar> k{Cfg::MR,
                                 Cfg::NR,
                                 Cfg::KC,
                                 Cfg::MC,
                                 Cfg::NC,
                                 &block<Cfg>,
                                 &pack_a_all<Cfg>,
                                 &pack_b_all<Cfg>,
                                 nullptr,
                                 nullptr,
                                 &rows_times_bt<Cfg>,
                                 kDotRows<Cfg>,
                                 kDotColumns<Cfg>};
  if constexpr (Cfg::a_stationary) {  // the shared-B path (gemm_internal.h)
    k.pack_b_slice = &pack_b_slice<Cfg>;
    k.rows_on_packed_b = &rows_on_packed_b<Cfg>;
  }
  return k;
}

}  // namespace
}  // namespace nabla::cpu::gemm_detail
