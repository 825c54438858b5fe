// What gemm.cpp (threading, small sizes, K splitting; plain C++) and the per-instruction-set
// kernels (gemm_generic.cpp, gemm_avx2.cpp, gemm_avx512.cpp, all from gemm_kernel.h) share.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nabla::cpu::gemm_detail {

// C = alpha·op(A)·op(B) + beta·C, as passed to cpu::gemm.
template <class T>
struct Problem {
  bool trans_a, trans_b;
  int64_t M, N, K;
  T alpha;
  const T* A;
  int64_t lda;
  const T* B;
  int64_t ldb;
  T beta;
  T* C;
  int64_t ldc;
  // Set: op(A) as Kernel::pack_a_all laid it out (A, lda and trans_a are then not read), for
  // products that share one A (cpu::gemm_packed_a). Blocks must then start at row 0.
  const T* a_packed = nullptr;
  // Set: op(B) in cpu::GemmPanelsB's layout (B, ldb and trans_b are then not read), for
  // cpu::gemm_packed_ab. Column blocks must start at multiples of nr.
  const T* b_packed = nullptr;
  // Set by cpu::gemm_bias_relu: the thread that computes a block of C first writes the bias into
  // it (beta is then 1) and, with relu, clamps it at 0 once all of K is summed (gemm.cpp's
  // start_block and finish_block). The kernels do not read these.
  const T* bias = nullptr;
  bool relu = false;
};

// One compiled kernel: computes rows [m0, m1) and columns [n0, n1) of C over all of K, alone on
// the calling thread. Each element of C gets the same arithmetic in the same order wherever the
// block bounds fall (provided m0 and n0 are multiples of mr and nr), which is what makes any
// split over threads give bitwise the same result.
//
// Configurations whose A panel is the one kept in L1 (a_stationary) can also run a product as
// one op(B) shared by every thread: for each of K's slices, all threads pack disjoint runs of
// B's panels into one buffer (pack_b_slice), then each computes its own rows of C against the
// whole packed slice (rows_on_packed_b). B is then packed once per slice, not once per thread.
// Null for the other configurations.
template <class T>
struct Kernel {
  int mr, nr;          // register tile: blocks should start at multiples of these
  int64_t kc, mc, nc;  // deepest slice of K (slice_depth), most rows of A, columns of B per block
  void (*block)(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
  // All of op(A) as block() packs it, each block of MC rows (from row 0) and slice of K in turn:
  // round_up(M, mr) · K elements at dst (packed_a_offset gives where each block's panels are).
  void (*pack_a_all)(const Problem<T>& p, T* dst);
  // All of op(B) in cpu::GemmPanelsB's layout (the last panel's columns past N zeroed), its
  // size() elements at dst.
  void (*pack_b_all)(const Problem<T>& p, T* dst);
  // op(B)[pc : pc + kc, n0 : n1] as NR-column panels at dst (n0 a multiple of nr; the panel
  // holding column N - 1 zero-padded), the layout rows_on_packed_b reads.
  void (*pack_b_slice)(const Problem<T>& p, int64_t pc, int64_t kc, int64_t n0, int64_t n1, T* dst);
  // Rows [m0, m1) and columns [n0, n1) of C (m0, n0 multiples of mr, nr), summed over K's slice
  // [pc, pc + kc) from b_slice (those columns' panels): the slice's share of what block()
  // computes, in the same order.
  void (*rows_on_packed_b)(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                           int64_t pc, int64_t kc, const T* b_slice);
  // Rows [m0, m1) and columns [n0, n1) of C with A's rows read in place (!trans_a) and
  // op(B) = Bᵀ, as dot products of A's rows with B's rows: no packing. Each element's order
  // depends on K alone, so any bounds give the same bits.
  void (*rows_times_bt)(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
  int dot_rows, dot_columns;  // rows_times_bt's tile: rows of A by rows of B
};

// The depth of each of K's slices: equal slices of at most kc_max. It depends on K alone, so
// every element of C sums its products in the same order whatever block of C, and whichever
// thread, computes it.
inline int64_t slice_depth(int64_t K, int64_t kc_max) {
  const int64_t slices = (K + kc_max - 1) / kc_max;
  return (K + slices - 1) / slices;
}

// Per instruction set (each defined in its own file, compiled for that set).
template <class T>
Kernel<T> generic_kernel();
template <class T>
Kernel<T> avx2_kernel();
template <class T>
Kernel<T> avx512_kernel();
// The AVX-512 kernel's tile and vector width compiled for AVX2 (each 64-byte vector becomes two
// ymm), so that its logic is tested on machines without AVX-512. Tests only: it is slow.
template <class T>
Kernel<T> avx512_logic_on_avx2_kernel();

// The calling thread's packing buffer, at least `bytes` long, 64-byte aligned; kept and reused
// (grown only when a larger one is needed), so steady-state calls allocate nothing.
void* packing_buffer(size_t bytes);

}  // namespace nabla::cpu::gemm_detail
