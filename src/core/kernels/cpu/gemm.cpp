// cpu::gemm's front: the small-size path, the choice of compiled kernel, and how a product is
// split over threads. The arithmetic is in gemm_kernel.h.
#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/isa.h"
#include "nabla/error.h"
#include "parallel.h"

namespace nabla::cpu {
namespace {

using gemm_detail::Kernel;
using gemm_detail::Problem;

// Up to this many multiply-adds the triple loop beats packing (the XOR network's products).
constexpr int64_t kSmallGemm = 8 * 1024;
// Below this many multiply-adds one thread does the whole product: waking a second costs more.
constexpr int64_t kParallelGemm = 64 * 1024;
// A C of at most kSplitKMaxC elements with K of at least kSplitKMinK (a weight gradient: few
// outputs, summed over a whole batch of positions) has too few tiles to share among threads, so
// K is cut into pieces, each summed into its own copy of C, and the copies added in piece order.
// The cut depends on the shape alone (never on the thread count), so the result does not either.
constexpr int64_t kSplitKMaxC = 1024;
constexpr int64_t kSplitKMinK = 4096;
constexpr int64_t kSplitKPieceK = 2048;
constexpr int64_t kSplitKMaxPieces = 8;
// A Linear's input gradient, dY·W with W's rows the layer's outputs (op(B) = B, K of at least
// kRowSplitMinK, a batch-sized C: at most kRowSplitMaxRows rows and kRowSplitMaxC elements;
// larger products lose more to the extra copies than they gain), is cut the same way, into
// pieces of B's rows: each thread then reads the rows of the weight that the layer's forward
// (by output columns) and the optimizer's step (parallel::Arrays) give it, where cutting C's
// columns made every thread read every row. A row read by a second core costs the step that
// updates it an invalidation per line: when this host placed its two vCPUs on different dies
// (170 ns a line between them, against 26 on one die) the MLP's 256×256 weight took its
// optimizer 80 µs a step instead of 10. The copies of C are added by columns, each thread its
// own, from every piece.
constexpr int64_t kRowSplitMaxRows = 128;
constexpr int64_t kRowSplitMaxC = 64 * 1024;
constexpr int64_t kRowSplitMinK = 256;
constexpr int64_t kRowSplitPieceK = 128;
constexpr int64_t kRowSplitMaxPieces = 4;
// The copies of C are added on one thread below this many elements of C; in runs of kSumChunk
// columns of a row.
constexpr int64_t kParallelSum = 4 * 1024;
constexpr int64_t kSumChunk = 256;
// From this many multiply-adds, with at least kSharedBMinRowTiles rows of tiles per thread, the
// kernels that offer it take the shared-B path (run_shared_b); on one thread only once C has
// more rows than one block of A, where block() would pack each slice of B once per block.
constexpr int64_t kSharedBGemm = 32 * 1024 * 1024;
constexpr int64_t kSharedBMinRowTiles = 8;
// The most bytes of packed B the shared-B path keeps (n = 2048 fits in one chunk of columns).
constexpr int64_t kSharedBBytes = 4 * 1024 * 1024;

// The dot-product path (Kernel::rows_times_bt) for op(A)·Bᵀ, a Linear's forward, against
// block(), which packs A and transposes B into panels first. bench/gemm_bench's Linear forwards
// on Zen 5, one and two threads: the dot products win from K = 400 (LeNet-5's fc1, its slices
// of 32, the MLP's fc1: 13-28% under AVX2; level with AVX-512) while C has at most 64 rows,
// and lose at K ≤ 256 (the MLP's fc2, LeNet-5's fc2), at 128 or more rows, and with AVX-512
// once a tile's rows of B no longer fit in L1 (the convnet's K = 3136 with 4 of them).
// One row is always a dot product: block() would pack all of B for it.
constexpr int64_t kDotsMaxRows = 64;
constexpr int64_t kDotsMinK = 384;
constexpr int64_t kDotsMaxTileBytes = 40 * 1024;

struct AlignedFree {
  void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{64}); }
};

// A per-thread scratch buffer that only grows.
struct Scratch {
  std::unique_ptr<std::byte[], AlignedFree> data;
  size_t size = 0;
  void* get(size_t bytes) {
    if (bytes > size) {
      data.reset(static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{64})));
      size = bytes;
    }
    return data.get();
  }
};

thread_local Scratch t_packing;
thread_local Scratch t_split_k;
thread_local Scratch t_shared_b;

template <class T>
Kernel<T> kernel_for(GemmKernel kernel) {
  switch (kernel) {
#if defined(__x86_64__) || defined(__i386__)
    case GemmKernel::avx512:
      return gemm_detail::avx512_kernel<T>();
    case GemmKernel::avx2:
      return gemm_detail::avx2_kernel<T>();
    case GemmKernel::avx512_logic_on_avx2:
      return gemm_detail::avx512_logic_on_avx2_kernel<T>();
#endif
    default:
      return gemm_detail::generic_kernel<T>();
  }
}

GemmKernel kernel_for(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return GemmKernel::avx512;
    case Isa::avx2:
      return GemmKernel::avx2;
    case Isa::generic:
      break;
  }
  return GemmKernel::generic;
}

// Rows or columns [0, n) in `parts` runs whose bounds are multiples of `unit`; part r's start.
int64_t part_start(int64_t n, int64_t unit, int64_t parts, int64_t r) {
  const int64_t units = (n + unit - 1) / unit;
  return std::min(n, units * r / parts * unit);
}

// gemm_bias_relu's epilogue on rows [m0, m1) and columns [n0, n1) of C, run by the thread that
// computes them: the bias as their starting value before the kernel sums onto it (beta = 1), and
// the ReLU once the last of K's slices has.
template <class T>
void start_block(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  if (!p.bias) return;
  for (int64_t i = m0; i < m1; ++i) std::copy(p.bias + n0, p.bias + n1, p.C + i * p.ldc + n0);
}

template <class T>
void finish_block(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  if (!p.relu) return;
  for (int64_t i = m0; i < m1; ++i) {
    T* c = p.C + i * p.ldc + n0;
    relu_forward(c, c, n1 - n0);
  }
}

// A block of C through `compute` (one kernel call over all of K), with the epilogue around it.
template <class T, class Compute>
void block_with_epilogue(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                         Compute&& compute) {
  start_block(p, m0, m1, n0, n1);
  compute(m0, m1, n0, n1);
  finish_block(p, m0, m1, n0, n1);
}

// Cuts C into pm × pn blocks, one task each, choosing the cut that minimises a simple model of
// the slowest thread's time: its blocks' multiply-adds (16 a cycle) plus packing (about one
// cycle an element, and a block packs its rows of A and its columns of B over all of K).
void choose_grid(int64_t M, int64_t N, int64_t mr, int64_t nr, int threads, int64_t& pm,
                 int64_t& pn) {
  const int64_t ms = (M + mr - 1) / mr, ns = (N + nr - 1) / nr;
  double best = 0;
  pm = pn = 1;
  for (int64_t a = 1; a <= std::min<int64_t>(ms, 2 * threads); ++a)
    for (int64_t b = 1; b <= std::min<int64_t>(ns, 2 * threads) && a * b <= 2 * threads; ++b) {
      const double rows = double((ms + a - 1) / a * mr), cols = double((ns + b - 1) / b * nr);
      const double rounds = double((a * b + threads - 1) / threads);
      const double cost = rounds * (rows * cols / 16 + rows + cols);
      if (best == 0 || cost < best * 0.999) best = cost, pm = a, pn = b;
    }
}

// The shared-B path (Kernel::rows_on_packed_b): for each slice of K, the threads pack op(B)'s
// slice together, NR-column runs each, then each computes a run of C's rows against all of it.
// Two rounds of tasks per slice: the end of the first is the barrier the second needs, and a
// task never waits for another, so any number of pool threads (fewer than tasks included) runs
// it. Rows are split between the threads, so each packs only its own rows of A, and the packed
// slice is one copy in L3 that every core reads into its own L2. A wide B is taken in chunks of
// columns (whole blocks of kernel.nc) that keep the packed slice within kSharedBBytes.
template <class T>
void run_shared_b(const Kernel<T>& kernel, const Problem<T>& p, int threads) {
  const int64_t kstep = gemm_detail::slice_depth(p.K, kernel.kc);
  const int64_t most_cols =
      std::max<int64_t>(1, kSharedBBytes / int64_t(sizeof(T)) / kstep / kernel.nc) * kernel.nc;
  const int64_t chunks = (p.N + most_cols - 1) / most_cols;
  T* b_slice = static_cast<T*>(t_shared_b.get(sizeof(T) * size_t(most_cols * kstep)));
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const int64_t n0 = part_start(p.N, kernel.nc, chunks, chunk);
    const int64_t n1 = part_start(p.N, kernel.nc, chunks, chunk + 1);
    for (int64_t pc = 0; pc < p.K; pc += kstep) {
      const int64_t kc = std::min(kstep, p.K - pc);
      parallel::parallel_tasks(threads, [&](int64_t r) {
        const int64_t j0 = n0 + part_start(n1 - n0, kernel.nr, threads, r);
        const int64_t j1 = n0 + part_start(n1 - n0, kernel.nr, threads, r + 1);
        if (j0 < j1) kernel.pack_b_slice(p, pc, kc, j0, j1, b_slice + (j0 - n0) * kc);
      });
      parallel::parallel_tasks(threads, [&](int64_t r) {
        const int64_t m0 = part_start(p.M, kernel.mr, threads, r);
        const int64_t m1 = part_start(p.M, kernel.mr, threads, r + 1);
        if (pc == 0) start_block(p, m0, m1, n0, n1);
        kernel.rows_on_packed_b(p, m0, m1, n0, n1, pc, kc, b_slice);
        if (pc + kc == p.K) finish_block(p, m0, m1, n0, n1);
      });
    }
  }
}

// How many pieces run() cuts K into (1: none), from the shape alone.
int64_t k_pieces(bool trans_b, int64_t M, int64_t N, int64_t K) {
  if (M * N <= kSplitKMaxC && K >= kSplitKMinK)
    return std::min(kSplitKMaxPieces, K / kSplitKPieceK);
  if (!trans_b && K >= kRowSplitMinK && M <= kRowSplitMaxRows && M * N <= kRowSplitMaxC &&
      M * N * K >= kParallelGemm)
    return std::min(kRowSplitMaxPieces, K / kRowSplitPieceK);
  return 1;
}

// K cut into `pieces` equal runs (a count the caller takes from the shape alone), each summed
// into its own copy of C by one block() call, then the copies added in piece order: the same
// bits on any number of threads. Each thread takes a contiguous run of pieces (the first thread
// the first run of K), and then a run of C's columns, in whole cache lines, to add up.
template <class T>
void run_split_k(const Kernel<T>& kernel, const Problem<T>& p, int64_t pieces, int threads) {
  const int64_t mn = p.M * p.N;
  T* partial = static_cast<T*>(t_split_k.get(sizeof(T) * size_t(pieces * mn)));
  const int64_t tasks = std::min<int64_t>(threads, pieces);
  parallel::parallel_tasks(tasks, [&](int64_t t) {
    for (int64_t piece = pieces * t / tasks; piece < pieces * (t + 1) / tasks; ++piece) {
      const int64_t k0 = p.K * piece / pieces, k1 = p.K * (piece + 1) / pieces;
      Problem<T> q = p;
      q.K = k1 - k0;
      q.A = p.trans_a ? p.A + k0 * p.lda : p.A + k0;
      q.B = p.trans_b ? p.B + k0 : p.B + k0 * p.ldb;
      q.alpha = T(1);
      q.beta = T(0);
      q.C = partial + piece * mn;
      q.ldc = p.N;
      q.bias = nullptr;
      q.relu = false;
      kernel.block(q, 0, p.M, 0, p.N);
    }
  });
  const int64_t line = 64 / int64_t(sizeof(T));
  const int64_t parts =
      threads == 1 || mn < kParallelSum ? 1 : std::min<int64_t>(threads, (p.N + line - 1) / line);
  parallel::parallel_tasks(parts, [&](int64_t r) {
    const int64_t n0 = part_start(p.N, line, parts, r), n1 = part_start(p.N, line, parts, r + 1);
    if (n0 == n1) return;
    start_block(p, 0, p.M, n0, n1);
    T sum[kSumChunk];
    for (int64_t i = 0; i < p.M; ++i) {
      T* c = p.C + i * p.ldc;
      for (int64_t j0 = n0; j0 < n1; j0 += kSumChunk) {
        const int64_t n = std::min(kSumChunk, n1 - j0);
        const T* first = partial + i * p.N + j0;
        std::copy(first, first + n, sum);
        for (int64_t piece = 1; piece < pieces; ++piece) {
          const T* part = first + piece * mn;
          for (int64_t j = 0; j < n; ++j) sum[j] += part[j];
        }
        if (p.beta == T(0)) {
          for (int64_t j = 0; j < n; ++j) c[j0 + j] = p.alpha * sum[j];
        } else {
          for (int64_t j = 0; j < n; ++j) c[j0 + j] = p.alpha * sum[j] + p.beta * c[j0 + j];
        }
      }
    }
    finish_block(p, 0, p.M, n0, n1);
  });
}

template <class T>
bool dots_pay(const Kernel<T>& kernel, const Problem<T>& p) {
  if (p.trans_a || !p.trans_b) return false;
  return p.M == 1 || (p.M <= kDotsMaxRows && p.K >= kDotsMinK &&
                      int64_t(kernel.dot_columns) * p.K * int64_t(sizeof(T)) <= kDotsMaxTileBytes);
}

template <class T>
void run(const Kernel<T>& kernel, const Problem<T>& p) {
  const int threads = parallel::in_parallel_region() ? 1 : num_threads();
  const int64_t macs = p.M * p.N * p.K;
  const auto block = [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    kernel.block(p, m0, m1, n0, n1);
  };
  if (p.a_packed) {  // its panels are laid out from row 0: the threads split the columns
    const int64_t pn = threads == 1 || macs < kParallelGemm
                           ? 1
                           : std::min<int64_t>(threads, (p.N + kernel.nr - 1) / kernel.nr);
    parallel::parallel_tasks(pn, [&](int64_t c) {
      block_with_epilogue(p, 0, p.M, part_start(p.N, kernel.nr, pn, c),
                          part_start(p.N, kernel.nr, pn, c + 1), block);
    });
    return;
  }
  if (dots_pay(kernel, p)) {
    const int64_t parts = threads == 1 || macs < kParallelGemm ? 1 : threads;
    // Split by columns, each thread reads only its rows of B: a Linear's weight rows, which the
    // optimizer's step then updates on the same thread (parallel::Arrays cuts a large weight at
    // the same rows). Rows of B read by both threads cost that step a line transfer each: the
    // MLP's on two threads took 0.12-0.20 s an epoch against 0.06-0.08. But the elements are
    // scalar stores, so the cut must fall between cache lines of C, on every row: otherwise the
    // rows are split (LeNet-5's fc2, 84 columns, on two threads: 11 µs by rows, 18-20 by columns).
    const int64_t line = 64 / int64_t(sizeof(T));
    const bool by_columns = p.M == 1 || (reinterpret_cast<uintptr_t>(p.C) % 64 == 0 &&
                                         p.ldc % line == 0 && p.N >= parts * line);
    const auto dots = [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
      kernel.rows_times_bt(p, m0, m1, n0, n1);
    };
    parallel::parallel_tasks(parts, [&](int64_t r) {
      if (by_columns)
        block_with_epilogue(p, 0, p.M, part_start(p.N, line, parts, r),
                            part_start(p.N, line, parts, r + 1), dots);
      else
        block_with_epilogue(p, part_start(p.M, kernel.dot_rows, parts, r),
                            part_start(p.M, kernel.dot_rows, parts, r + 1), 0, p.N, dots);
    });
    return;
  }
  if (const int64_t pieces = k_pieces(p.trans_b, p.M, p.N, p.K); pieces > 1) {
    run_split_k(kernel, p, pieces, threads);
    return;
  }
  if (kernel.rows_on_packed_b && macs >= kSharedBGemm &&
      p.M >= kSharedBMinRowTiles * kernel.mr * threads && (threads > 1 || p.M > kernel.mc)) {
    run_shared_b(kernel, p, threads);
    return;
  }
  if (threads == 1 || macs < kParallelGemm) {
    block_with_epilogue(p, 0, p.M, 0, p.N, block);
    return;
  }
  int64_t pm, pn;
  choose_grid(p.M, p.N, kernel.mr, kernel.nr, threads, pm, pn);
  parallel::parallel_tasks(pm * pn, [&](int64_t task) {
    const int64_t r = task / pn, c = task % pn;
    block_with_epilogue(p, part_start(p.M, kernel.mr, pm, r), part_start(p.M, kernel.mr, pm, r + 1),
                        part_start(p.N, kernel.nr, pn, c), part_start(p.N, kernel.nr, pn, c + 1),
                        block);
  });
}

}  // namespace

namespace gemm_detail {
void* packing_buffer(size_t bytes) {
  return t_packing.get(bytes);
}
}  // namespace gemm_detail

const char* gemm_kernel_name(GemmKernel kernel) {
  switch (kernel) {
    case GemmKernel::generic:
      return "generic";
    case GemmKernel::avx2:
      return "avx2";
    case GemmKernel::avx512:
      return "avx512";
    case GemmKernel::avx512_logic_on_avx2:
      return "avx512_logic_on_avx2";
  }
  return "?";
}

bool gemm_kernel_supported(GemmKernel kernel) {
  switch (kernel) {
    case GemmKernel::avx512:
      return isa_supported(Isa::avx512);
    case GemmKernel::avx2:
    case GemmKernel::avx512_logic_on_avx2:
      return isa_supported(Isa::avx2);
    case GemmKernel::generic:
      return true;
  }
  return false;
}

namespace {
// The error for a kernel this CPU lacks, named by the entry point that was asked to run it.
void check_runnable(GemmKernel kernel, const char* entry) {
  NABLA_CHECK(gemm_kernel_supported(kernel), entry, ": this CPU cannot run the ",
              gemm_kernel_name(kernel), " kernel (it supports up to ", isa_name(detected_isa()),
              ")");
}
}  // namespace

template <class T>
void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0)) {
      for (int64_t j = 0; j < N; ++j) c[j] = T(0);
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
    for (int64_t k = 0; k < K; ++k) {
      T a = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
      if (!trans_b) {
        const T* b = B + k * ldb;
        for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
      } else {
        for (int64_t j = 0; j < N; ++j) c[j] += a * B[j * ldb + k];
      }
    }
  }
}

template <class T>
void gemm_with(GemmKernel kernel, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
               T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C,
               int64_t ldc) {
  check_runnable(kernel, "gemm");
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // no products: C = beta·C
    gemm_naive(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  run(kernel_for<T>(kernel),
      Problem<T>{trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc});
}

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (M * N * K <= kSmallGemm) {
    gemm_naive(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  run(kernel_for<T>(kernel_for(active_isa())),
      Problem<T>{trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc});
}

template <class T>
void gemm_bias_relu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A,
                    int64_t lda, const T* B, int64_t ldb, const T* bias, bool relu, T* C,
                    int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  const T beta = bias ? T(1) : T(0);
  Problem<T> p{trans_a, trans_b, M, N, K, T(1), A, lda, B, ldb, beta, C, ldc};
  p.bias = bias;
  p.relu = relu;
  if (M * N * K <= kSmallGemm || K <= 0) {  // one thread: the epilogue around the triple loop
    block_with_epilogue(p, 0, M, 0, N, [&](int64_t, int64_t, int64_t, int64_t) {
      gemm_naive(trans_a, trans_b, M, N, K, T(1), A, lda, B, ldb, beta, C, ldc);
    });
    return;
  }
  run(kernel_for<T>(kernel_for(active_isa())), p);
}

GemmKernel gemm_active_kernel() {
  return kernel_for(active_isa());
}

template <class T>
bool gemm_dot_products(GemmKernel kernel, bool trans_a, bool trans_b, int64_t M, int64_t K) {
  Problem<T> p{trans_a, trans_b, M, 1, K, T(1), nullptr, 0, nullptr, 0, T(0), nullptr, 0};
  return dots_pay(kernel_for<T>(kernel), p);
}

int64_t gemm_k_pieces(bool trans_b, int64_t M, int64_t N, int64_t K) {
  return k_pieces(trans_b, M, N, K);
}

template <class T>
int64_t gemm_packed_a_size(GemmKernel kernel, int64_t M, int64_t K) {
  const int64_t mr = kernel_for<T>(kernel).mr;
  return (std::max<int64_t>(M, 0) + mr - 1) / mr * mr * std::max<int64_t>(K, 0);
}

int64_t gemm_packed_a_bound(int64_t M, int64_t K) {
  constexpr int64_t kMostTileRows = 16;
  M = std::max<int64_t>(M, 0), K = std::max<int64_t>(K, 0);
  return M * K + (kMostTileRows - 1) * std::max(M, K);
}

template <class T>
void gemm_pack_a(GemmKernel kernel, bool trans_a, int64_t M, int64_t K, const T* A, int64_t lda,
                 T* packed) {
  check_runnable(kernel, "gemm_pack_a");
  if (M <= 0 || K <= 0) return;
  Problem<T> p{trans_a, false, M, 0, K, T(1), A, lda, nullptr, 0, T(0), nullptr, 0};
  kernel_for<T>(kernel).pack_a_all(p, packed);
}

template <class T>
void gemm_packed_a(GemmKernel kernel, int64_t M, int64_t N, int64_t K, T alpha, const T* packed_a,
                   bool trans_b, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  check_runnable(kernel, "gemm_packed_a");
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // no products: C = beta·C (A is not read)
    gemm_naive(false, trans_b, M, N, K, alpha, packed_a, K, B, ldb, beta, C, ldc);
    return;
  }
  Problem<T> p{false, trans_b, M, N, K, alpha, nullptr, 0, B, ldb, beta, C, ldc};
  p.a_packed = packed_a;
  run(kernel_for<T>(kernel), p);
}

template <class T>
void GemmPanelsB::zero_padding(T* panels) const {
  if (N % nr == 0) return;
  const int64_t last = column(N - 1) - (N - 1) % nr;  // the last panel
  for (int64_t k = 0; k < K; ++k) std::fill_n(panels + row(k) + last + N % nr, nr - N % nr, T(0));
}

template <class T>
GemmPanelsB gemm_panels_b(GemmKernel kernel, int64_t K, int64_t N) {
  const Kernel<T> k = kernel_for<T>(kernel);
  return {k.nr, gemm_detail::slice_depth(std::max<int64_t>(K, 1), k.kc), std::max<int64_t>(K, 0),
          std::max<int64_t>(N, 0)};
}

int64_t gemm_panels_b_bound(int64_t K, int64_t N) {
  // S slices of kstep + 1 rows, kstep = ceil(K / S), so S·(kstep + 1) < K + 2S; S is at most
  // ceil(K / KC), and every kernel's KC is at least 192 (AVX-512's for double).
  constexpr int64_t kWidestPanel = 32;
  constexpr int64_t kShallowestSlice = 128;
  K = std::max<int64_t>(K, 0), N = std::max<int64_t>(N, 0);
  const int64_t slices = (K + kShallowestSlice - 1) / kShallowestSlice;
  return (K + 2 * slices) * ((N + kWidestPanel - 1) / kWidestPanel * kWidestPanel);
}

template <class T>
void gemm_pack_b(GemmKernel kernel, bool trans_b, int64_t K, int64_t N, const T* B, int64_t ldb,
                 T* panels) {
  check_runnable(kernel, "gemm_pack_b");
  if (K <= 0 || N <= 0) return;
  Problem<T> p{false, trans_b, 0, N, K, T(1), nullptr, 0, B, ldb, T(0), nullptr, 0};
  kernel_for<T>(kernel).pack_b_all(p, panels);
}

template <class T>
void gemm_packed_ab(GemmKernel kernel, int64_t M, int64_t N, int64_t K, T alpha, const T* packed_a,
                    const T* panels_b, T beta, T* C, int64_t ldc) {
  check_runnable(kernel, "gemm_packed_ab");
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // no products: C = beta·C (neither operand is read)
    gemm_naive(false, false, M, N, K, alpha, packed_a, K, panels_b, N, beta, C, ldc);
    return;
  }
  Problem<T> p{false, false, M, N, K, alpha, nullptr, 0, nullptr, 0, beta, C, ldc};
  p.a_packed = packed_a;
  p.b_packed = panels_b;
  run(kernel_for<T>(kernel), p);
}

#define NABLA_INSTANTIATE(T)                                                                       \
  template void GemmPanelsB::zero_padding<T>(T*) const;                                            \
  template GemmPanelsB gemm_panels_b<T>(GemmKernel, int64_t, int64_t);                             \
  template void gemm_pack_b<T>(GemmKernel, bool, int64_t, int64_t, const T*, int64_t, T*);         \
  template void gemm_packed_ab<T>(GemmKernel, int64_t, int64_t, int64_t, T, const T*, const T*, T, \
                                  T*, int64_t);                                                    \
  template int64_t gemm_packed_a_size<T>(GemmKernel, int64_t, int64_t);                            \
  template void gemm_pack_a<T>(GemmKernel, bool, int64_t, int64_t, const T*, int64_t, T*);         \
  template void gemm_packed_a<T>(GemmKernel, int64_t, int64_t, int64_t, T, const T*, bool,         \
                                 const T*, int64_t, T, T*, int64_t);                               \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*,     \
                        int64_t, T, T*, int64_t);                                                  \
  template void gemm_bias_relu<T>(bool, bool, int64_t, int64_t, int64_t, const T*, int64_t,        \
                                  const T*, int64_t, const T*, bool, T*, int64_t);                 \
  template bool gemm_dot_products<T>(GemmKernel, bool, bool, int64_t, int64_t);                    \
  template void gemm_naive<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t,         \
                              const T*, int64_t, T, T*, int64_t);                                  \
  template void gemm_with<T>(GemmKernel, bool, bool, int64_t, int64_t, int64_t, T, const T*,       \
                             int64_t, const T*, int64_t, T, T*, int64_t);
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

}  // namespace nabla::cpu
