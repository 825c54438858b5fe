// Lane moves in registers for the direct convolution's micro-kernels (conv_direct_block_kernel.h):
// L×L transposes, a vector's first lanes stored in pieces, a stride-2 row's two phases
// interleaved. Included by conv_direct_block_kernel.h once per instruction set, inside that
// target's namespace, after Vec<T> and NABLA_DT (hence, like it, no #pragma once).

#ifndef NABLA_DT
#error "include conv_direct_block_lanes.h through conv_direct_block_kernel.h"
#endif

// The L×L transpose of v (v[i][j] becomes v[j][i]) in registers, log2(L) rounds of L shuffles:
// the round with blocks of Half lanes swaps each pair of vectors' off-diagonal blocks.
template <int Half, class V, std::size_t... J>
NABLA_DT inline V low_blocks(V a, V b, std::index_sequence<J...>) {
  constexpr int L = int(sizeof...(J));
  return __builtin_shufflevector(a, b, (int(J) & Half ? L + int(J) - Half : int(J))...);
}
template <int Half, class V, std::size_t... J>
NABLA_DT inline V high_blocks(V a, V b, std::index_sequence<J...>) {
  constexpr int L = int(sizeof...(J));
  return __builtin_shufflevector(a, b, (int(J) & Half ? L + int(J) : int(J) + Half)...);
}
template <class T, int Half>
NABLA_DT inline void transpose_rounds(Vec<T>* v) {
  constexpr int L = int(lanes<T>);
  constexpr auto lanes_seq = std::make_index_sequence<L>{};
  for (int i = 0; i < L; ++i)
    if (!(i & Half)) {
      const Vec<T> a = v[i], b = v[i + Half];
      v[i] = low_blocks<Half>(a, b, lanes_seq);
      v[i + Half] = high_blocks<Half>(a, b, lanes_seq);
    }
  if constexpr (Half > 1) transpose_rounds<T, Half / 2>(v);
}

// v = the L vectors at base + j·stride for j < count (zeros for the rest), transposed in
// registers: v[i] then holds lane i of each of them.
template <class T>
NABLA_DT inline void load_transposed(Vec<T>* v, const T* base, int64_t stride, int64_t count) {
  constexpr int L = int(lanes<T>);
  for (int j = 0; j < L; ++j)
    if (j < count)
      std::memcpy(&v[j], base + j * stride, sizeof v[j]);
    else
      v[j] = Vec<T>{};
  transpose_rounds<T, L / 2>(v);
}

// d[0, M) = the first M lanes of x, in pieces of 2^k lanes taken from x in registers (14 lanes:
// 8 + 4 + 2, each piece's first lane a multiple of its size, so each is a plain extract). A
// memcpy of M·sizeof(T) bytes from &x went through the stack instead: one whole-vector store,
// then loads of parts of it that the store could not forward, a stall for each channel's row;
// 12% of the convnet C32 28² forward's samples (AVX-512, tiles of 14) fell on it. lanes_from is
// a function of its own, not a lambda in store_lanes: a lambda does not take on NABLA_DT's target
// attribute, and a 512-bit shuffle outside an AVX-512 function does not compile inline.
template <int J0, class V, std::size_t... J>
NABLA_DT inline auto lanes_from(V x, std::index_sequence<J...>) {
  return __builtin_shufflevector(x, x, (J0 + int(J))...);
}
template <class T, int M, int J0 = 0>
NABLA_DT inline void store_lanes(T* d, const Vec<T>& x) {
  if constexpr (J0 < M) {
    constexpr int n = int(std::bit_floor(unsigned(M - J0)));
    if constexpr (n == 1) {
      d[J0] = x[J0];
    } else {
      const auto piece = lanes_from<J0>(x, std::make_index_sequence<n>{});
      std::memcpy(d + J0, &piece, sizeof piece);
    }
    store_lanes<T, M, J0 + n>(d, x);
  }
}

// The lanes [H·L/2, H·L/2 + L/2) of a and b interleaved, a's first: the columns 2j (phase 0, from
// a) and 2j + 1 (phase 1, from b) of a stride-2 row, in their order.
template <int H, class V, std::size_t... J>
NABLA_DT inline V interleave(V a, V b, std::index_sequence<J...>) {
  constexpr int L = sizeof...(J);
  return __builtin_shufflevector(a, b, ((int(J) & 1) * L + H * L / 2 + int(J) / 2)...);
}
