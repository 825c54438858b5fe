// General matrix multiply, C = alpha·op(A)·op(B) + beta·C, row-major, op = transpose or not.
// A is M×K after op, B is K×N after op, C is M×N. With beta = 0, C is not read (it may hold NaN).
//
// nabla's own kernel (gemm_kernel.h): packed panels and a register-blocked micro-kernel, compiled
// for several instruction sets and picked at run time (isa.h), spread over nabla's thread pool;
// A·Bᵀ with few rows (a Linear's forward) as dot products of rows read in place instead.
// Every element of C is summed in an order fixed by the shape, so the result is bitwise the same
// for any thread count. Tiny products (the XOR network's 4×2·2×8) take gemm_naive, which costs
// less than packing them.
#pragma once

#include <cstdint>

namespace nabla::cpu {

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// A Linear layer's forward: C = op(A)·op(B) + bias, bias[j] added to every row's column j (null:
// no bias), then, with relu, max(C, 0) as relu_forward computes it. Bit for bit the same as
// filling C's rows with the bias, gemm with alpha = beta = 1, and a ReLU pass; but each thread
// writes the bias into, and clamps, only the block of C it computes, while that block is in its
// own cache. Filling all of C on the calling thread left the other thread reading its columns
// from the caller's cache, and a separate ReLU pass wrote all of C again.
template <class T>
void gemm_bias_relu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A,
                    int64_t lda, const T* B, int64_t ldb, const T* bias, bool relu, T* C,
                    int64_t ldc);

// The reference triple loop (also the small-size path); tests compare the fast path with it.
template <class T>
void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// One compiled kernel by name, for tests and benchmarks (gemm picks by active_isa()).
// avx512_logic_on_avx2 is the AVX-512 kernel's tiling and 64-byte vectors compiled for AVX2: it
// lets a machine without AVX-512 test the code an AVX-512 machine runs.
enum class GemmKernel { generic, avx2, avx512, avx512_logic_on_avx2 };
const char* gemm_kernel_name(GemmKernel kernel);
bool gemm_kernel_supported(GemmKernel kernel);

// gemm with the given kernel for every size (no small-size shortcut); throws if the CPU lacks it.
template <class T>
void gemm_with(GemmKernel kernel, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
               T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C,
               int64_t ldc);

// The kernel gemm runs (by active_isa()).
GemmKernel gemm_active_kernel();

// Whether gemm_with(kernel, ...) computes such a product as dot products of op(A)'s rows with
// B's rows (!trans_a, trans_b, few rows of C): each element then sums K lane-wise and folds the
// lanes, an order of its own, the same for any thread count. For tests.
template <class T>
bool gemm_dot_products(GemmKernel kernel, bool trans_a, bool trans_b, int64_t M, int64_t K);
// How many pieces gemm cuts such a product's K into (1: none), each summed into its own copy of
// C and the copies added in piece order: an order of its own, the same for any thread count and
// kernel. For tests.
int64_t gemm_k_pieces(bool trans_b, int64_t M, int64_t N, int64_t K);

// A product's op(A) packed once for many products with the same A (Winograd's transformed weights
// against each step's tiles): gemm packs A's panels again at every call, which costs as much as
// a third of a product whose N is as small as its K. The panels are one kernel's (its tile height
// and cache blocks): pack and multiply with the same kernel.
//   std::vector<float> a(cpu::gemm_packed_a_size<float>(kernel, M, K));
//   cpu::gemm_pack_a(kernel, trans_a, M, K, A, lda, a.data());
//   cpu::gemm_packed_a(kernel, M, N, K, alpha, a.data(), trans_b, B, ldb, beta, C, ldc);
// gives C = alpha·op(A)·op(B) + beta·C, each element summed in the order gemm_with(kernel, ...)
// sums it (bit for bit the same, except where gemm_with cuts K into pieces, gemm_k_pieces, or
// computes A·Bᵀ as dot products, gemm_dot_products), and the same for any thread count.
template <class T>
int64_t gemm_packed_a_size(GemmKernel kernel, int64_t M, int64_t K);  // elements
// Elements enough for gemm_packed_a_size(kernel, M, K) and (kernel, K, M) with every kernel and
// element type: a bound known from the shape alone, for a workspace sized before the kernel is
// chosen (each kernel pads op(A)'s rows to whole tiles of at most 16 rows).
int64_t gemm_packed_a_bound(int64_t M, int64_t K);
template <class T>
void gemm_pack_a(GemmKernel kernel, bool trans_a, int64_t M, int64_t K, const T* A, int64_t lda,
                 T* packed);
template <class T>
void gemm_packed_a(GemmKernel kernel, int64_t M, int64_t N, int64_t K, T alpha, const T* packed_a,
                   bool trans_b, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// op(B) in a kernel's panels, written there by its producer (the column Winograd's transforms):
// gemm_packed_ab then multiplies it with no packing at all. gemm packs B's panels from memory at
// every call, a pass as long as the product's N·K that reads what its producer has just written.
// The layout: K's slices (gemm's own: equal depths kstep of at most the kernel's KC, by K alone,
// the last maybe shallower), one after the other; in each, B's columns in panels of nr,
// round_up(N, nr) / nr of them; a panel is its slice's rows of nr consecutive elements, and is
// kstep + 1 rows long whatever the slice's depth (the rows past it are not read). So an element's
// offset is a row's part plus a column's, and panels as long as their slice, which would lie a
// multiple of 4 KiB apart on the usual shapes (192 rows of 16 floats), do not put a row written
// across the panels in one cache set. The last panel's columns past N are read (their products
// go to no element of C): write them, or call zero_padding.
//   cpu::GemmPanelsB b = cpu::gemm_panels_b<float>(kernel, K, N);
//   std::vector<float> panels(b.size());
//   panels[b.row(k) + b.column(n)] = op(B)[k][n] for every k, n; b.zero_padding(panels.data());
//   cpu::gemm_packed_ab(kernel, M, N, K, alpha, a.data(), panels.data(), beta, C, ldc);
// A run of columns [n, n + len) of one row is contiguous while it stays in one panel, which is
// what lets a producer write rows with unit-stride vector loops.
struct GemmPanelsB {
  int64_t nr, kstep, K, N;
  int64_t columns() const { return (N + nr - 1) / nr * nr; }  // N and the padding
  int64_t panel() const { return nr * (kstep + 1); }          // from one panel to the next
  int64_t size() const { return columns() / nr * panel() * ((K + kstep - 1) / kstep); }
  int64_t row(int64_t k) const { return k / kstep * (columns() / nr * panel()) + k % kstep * nr; }
  int64_t column(int64_t n) const { return n / nr * panel() + n % nr; }
  template <class T>
  void zero_padding(T* panels) const;
};
template <class T>
GemmPanelsB gemm_panels_b(GemmKernel kernel, int64_t K, int64_t N);
// Elements enough for gemm_panels_b(kernel, K, N).size() with every kernel and element type (no
// panel is wider than 32 elements, no slice of K shallower than 128), for a workspace sized
// before the kernel is chosen.
int64_t gemm_panels_b_bound(int64_t K, int64_t N);
// op(B) (K × N) from memory into the panels (columns past N zeroed): for tests, and for a B used
// in many products.
template <class T>
void gemm_pack_b(GemmKernel kernel, bool trans_b, int64_t K, int64_t N, const T* B, int64_t ldb,
                 T* panels);
// C = alpha·op(A)·op(B) + beta·C from A packed by gemm_pack_a and B in gemm_panels_b's layout,
// with the same kernel: bit for bit what gemm_packed_a computes from the same operands.
template <class T>
void gemm_packed_ab(GemmKernel kernel, int64_t M, int64_t N, int64_t K, T alpha, const T* packed_a,
                    const T* panels_b, T beta, T* C, int64_t ldc);

}  // namespace nabla::cpu
