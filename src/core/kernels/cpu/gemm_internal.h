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
};

// One compiled kernel: computes rows [m0, m1) and columns [n0, n1) of C over all of K, alone on
// the calling thread. Each element of C gets the same arithmetic in the same order wherever the
// block bounds fall (provided m0 and n0 are multiples of mr and nr), which is what makes any
// split over threads give bitwise the same result.
template <class T>
struct Kernel {
  int mr, nr;  // register tile: blocks should start at multiples of these
  void (*block)(const Problem<T>& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
};

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
