// General matrix multiply, C = alpha·op(A)·op(B) + beta·C, row-major, op = transpose or not.
// A is M×K after op, B is K×N after op, C is M×N. Large products go to the BLAS (OpenBLAS, see
// docs/dependencies.md); tiny ones stay in a plain loop because a BLAS call costs more than
// the arithmetic of a 4×2·2×8 product (the XOR network).
#pragma once

#include <cstdint>

namespace nabla::cpu {

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// The reference triple loop (also the small-size path); tests compare the BLAS path with it.
template <class T>
void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace nabla::cpu
