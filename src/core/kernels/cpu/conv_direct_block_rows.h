// The direct forward with a row's outputs in vector lanes, for layers of few output channels
// (rows_fit in conv_direct_block.cpp: at most 3/4 of a block of them, stride 1, rows of at least
// one vector). LeNet-5's conv1 has 6 output channels, which fill 6 of the channel kernels' 16 lanes
// with AVX-512: 10 of every 16 multiply-adds there run on zero weights, and each tile's rows need
// a transpose on the way out. Here a tile is V vectors of one output row for all Q = OC channels
// (V·Q accumulators): each tap loads the V input vectors once and multiplies them by Q broadcast
// weights, packed (C·KH·KW, OC) by pack_weight, and the rows store straight from registers.
// Each output's sum runs over (c, kh, kw) in the channel kernels' order, from zero, then the bias
// and ReLU: the same bits whichever kernel computes it. Included by conv_direct_block_kernel.h
// once per instruction set, inside that target's namespace (hence no #pragma once).

#ifndef NABLA_DT
#error "include conv_direct_block_rows.h through conv_direct_block_kernel.h"
#endif

// Vectors per tile for Q channels: as many as the registers hold beside their Q·V accumulators
// and one broadcast, up to 4, so that as many independent sums as fit hide the multiply-add
// latency (AVX2's 16 registers: 2 for LeNet-5's 6 channels, 12 accumulators).
template <int Q>
constexpr int kRowVectors = std::clamp((kRegisters - 1) / (Q + 1), 1, 4);

// Row outputs [at[v], at[v] + L) for v < V of every channel: out + q·P is channel q's row, x the
// row's first input in the padded image (C planes of HP·WP), w the packed weight.
template <class T, int V, int Q>
NABLA_DT void rows_tile(T* out, int64_t P, const T* x, const int64_t* at, const T* w, const T* bias,
                        const Conv2dShape& s, const Geometry& g, bool relu) {
  Vec<T> acc[Q * V];
#pragma GCC unroll 32
  for (int j = 0; j < Q * V; ++j) acc[j] = Vec<T>{};
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const T* xr = x + (c * g.HP + kh) * g.WP;
      for (int64_t kw = 0; kw < s.KW; ++kw, w += Q) {
        Vec<T> xv[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) std::memcpy(&xv[v], xr + at[v] + kw, sizeof xv[v]);
#pragma GCC unroll 8
        for (int q = 0; q < Q; ++q) {
          const T wq = w[q];
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[q * V + v] += wq * xv[v];
        }
      }
    }
#pragma GCC unroll 8
  for (int q = 0; q < Q; ++q)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      Vec<T> y = acc[q * V + v] + (bias ? bias[q] : T(0));
      if (relu) y = y < 0 ? Vec<T>{} : y;
      std::memcpy(out + q * P + at[v], &y, sizeof y);
    }
}

// A row's vectors [v, nv) in tiles of V, the rest in tiles of fewer. Vector v covers outputs
// [v·L, v·L + L), the last one [OW − L, OW): it overlaps the one before rather than reading past
// the padded row (its sums are the same bits, computed twice).
template <class T, int V, int Q>
NABLA_DT void rows_from(T* out, int64_t P, const T* x, int64_t v, int64_t nv, const T* w,
                        const T* bias, const Conv2dShape& s, const Geometry& g, bool relu) {
  constexpr int64_t L = lanes<T>;
  for (; v + V <= nv; v += V) {
    int64_t at[V];
    for (int i = 0; i < V; ++i) at[i] = std::min((v + i) * L, s.OW - L);
    rows_tile<T, V, Q>(out, P, x, at, w, bias, s, g, relu);
  }
  if constexpr (V > 1)
    if (v < nv) rows_from<T, V - 1, Q>(out, P, x, v, nv, w, bias, s, g, relu);
}

// One image's output rows [oh0, oh1): out (OC, OH, OW) from its zero-padded copy xp (C, HP, WP)
// and wp packed (C·KH·KW, OC), then bias and ReLU. Q = OC.
template <class T, int Q>
NABLA_DT void forward_rows(T* out, const T* xp, const T* wp, const T* bias, const Conv2dShape& s,
                           const Geometry& g, bool relu, int64_t oh0, int64_t oh1) {
  constexpr int64_t L = lanes<T>;
  const int64_t P = s.OH * s.OW, nv = (s.OW + L - 1) / L;
  for (int64_t oh = oh0; oh < oh1; ++oh)
    rows_from<T, kRowVectors<Q>, Q>(out + oh * s.OW, P, xp + oh * g.WP, 0, nv, wp, bias, s, g,
                                    relu);
}

// forward_rows for Q = 1, …, 3L / 4: the kernels for each channel count rows_fit takes.
template <class T, int... Q>
constexpr std::array<typename Kernels<T>::Forward, sizeof...(Q)> rows_kernels(
    std::integer_sequence<int, Q...>) {
  return {&forward_rows<T, Q + 1>...};
}
