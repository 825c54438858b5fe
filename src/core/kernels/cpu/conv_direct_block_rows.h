// The direct forward with a row's outputs in vector lanes, for layers of few output channels
// (rows_fit in conv_direct_block.cpp: at most 3/4 of a block of them, stride 1, rows of at least
// one vector). LeNet-5's conv1 has 6 output channels, which fill 6 of the channel kernels' 16 lanes
// with AVX-512: 10 of every 16 multiply-adds there run on zero weights, and each tile's rows need
// a transpose on the way out. Here a tile is V vectors of one output row for all Q = OC channels
// (V·Q accumulators): each tap loads the V input vectors once and multiplies them by Q broadcast
// weights, packed (C·KH·KW, OC) by pack_weight, and the rows store straight from registers.
// The weight gradient below puts the positions in lanes too.
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

// The weight gradient the same way: a vector of a row's positions of the output gradient times the
// input vectors under each tap, each lane summed apart over a run of images (the caller adds the
// lanes at the end of the run, conv_direct_block.cpp). No transpose of the output gradient, and
// no multiply-add on a channel past OC. The sums' order is fixed by the shape and the
// instruction set: another order than the channel kernels', and the same for any thread count.

// Output channels per weight-gradient sweep for kernel width KW: Q·KW accumulators beside Q
// output-gradient vectors and one input vector, up to 6 (LeNet-5's conv1, 5 wide: two sweeps of
// 3 channels with AVX-512, three of 2 with AVX2).
template <int KW>
constexpr int kRowWeightChannels = std::clamp((kRegisters - 1) / (KW + 1), 1, 6);

// {0, 1, …, L − 1}: each lane's index, for counted's mask.
template <class T>
NABLA_DT inline Vec<T> lane_index() {
  Vec<T> index;
  for (int64_t l = 0; l < lanes<T>; ++l) index[l] = T(l);
  return index;
}

// v's lanes that vector `at` of a row counts: all but the first v·L − at where the last vector
// starts at OW − L and overlaps the one before (which counted those positions).
template <class T>
NABLA_DT inline Vec<T> counted(Vec<T> v, const Vec<T>& index, int64_t skip) {
  return skip > 0 ? (index < T(skip) ? Vec<T>{} : v) : v;
}

// part[(oc·K + k)·L + l] += Σ over one image's rows of dout's channel oc at lane l of its vectors
// times the input under tap k at the same place, for Q channels from oc0 (K = C·KH·KW taps in
// (c, kh, kw) order); dout the image's (OC, OH, OW), xp its zero-padded copy (C, HP, WP). (With
// the rows innermost, one vector of them at a time, LeNet-5's conv1 took 0.25 ms against 0.19.)
template <class T, int KW, int Q>
NABLA_DT void weight_rows_sweep(T* part, const T* dout, const T* xp, int64_t oc0,
                                const Conv2dShape& s, const Geometry& g) {
  constexpr int64_t L = lanes<T>;
  const int64_t P = s.OH * s.OW, nv = (s.OW + L - 1) / L;
  const Vec<T> index = lane_index<T>();
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      T* pk = part + (oc0 * g.K + (c * s.KH + kh) * KW) * L;
      Vec<T> acc[Q * KW];
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q) std::memcpy(&acc[q * KW], pk + q * g.K * L, sizeof(Vec<T>) * KW);
      const T* x0 = xp + (c * g.HP + kh) * g.WP;
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        const T* xr = x0 + oh * g.WP;
        const T* dr = dout + oc0 * P + oh * s.OW;
        for (int64_t v = 0; v < nv; ++v) {
          const int64_t at = std::min(v * L, s.OW - L);
          Vec<T> dv[Q];
#pragma GCC unroll 8
          for (int q = 0; q < Q; ++q) {
            std::memcpy(&dv[q], dr + q * P + at, sizeof dv[q]);
            dv[q] = counted<T>(dv[q], index, v * L - at);
          }
#pragma GCC unroll 7
          for (int kw = 0; kw < KW; ++kw) {
            Vec<T> xv;
            std::memcpy(&xv, xr + at + kw, sizeof xv);
#pragma GCC unroll 8
            for (int q = 0; q < Q; ++q) acc[q * KW + kw] += xv * dv[q];
          }
        }
      }
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q) std::memcpy(pk + q * g.K * L, &acc[q * KW], sizeof(Vec<T>) * KW);
    }
}

template <class T, int KW, int... Q>
constexpr auto weight_rows_sweeps(std::integer_sequence<int, Q...>) {
  using Sweep = void (*)(T*, const T*, const T*, int64_t, const Conv2dShape&, const Geometry&);
  return std::array<Sweep, sizeof...(Q)>{&weight_rows_sweep<T, KW, Q + 1>...};
}

// One image into part (g.grad_w elements: (OC, K, L) weight sums, then (OC, L) bias sums).
template <class T, int KW>
NABLA_DT void weight_rows_image(T* part, const T* dout, const T* xp, const Conv2dShape& s,
                                const Geometry& g) {
  constexpr int64_t L = lanes<T>;
  constexpr auto sweep =
      weight_rows_sweeps<T, KW>(std::make_integer_sequence<int, kRowWeightChannels<KW>>{});
  const Tiles t = tiles_of(s.OC, kRowWeightChannels<KW>);
  for (int64_t oc0 = 0; oc0 < s.OC; oc0 += t.r)
    sweep[std::min(t.r, s.OC - oc0) - 1](part, dout, xp, oc0, s, g);
  const int64_t P = s.OH * s.OW, nv = (s.OW + L - 1) / L;
  const Vec<T> index = lane_index<T>();
  for (int64_t oc = 0; oc < s.OC; ++oc) {
    T* pb = part + (s.OC * g.K + oc) * L;
    Vec<T> acc;
    std::memcpy(&acc, pb, sizeof acc);
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t v = 0; v < nv; ++v) {
        const int64_t at = std::min(v * L, s.OW - L);
        Vec<T> dv;
        std::memcpy(&dv, dout + oc * P + oh * s.OW + at, sizeof dv);
        acc += counted<T>(dv, index, v * L - at);
      }
    std::memcpy(pb, &acc, sizeof acc);
  }
}

// forward_rows for Q = 1, …, 3L / 4: the kernels for each channel count rows_fit takes.
template <class T, int... Q>
constexpr std::array<typename Kernels<T>::Forward, sizeof...(Q)> rows_kernels(
    std::integer_sequence<int, Q...>) {
  return {&forward_rows<T, Q + 1>...};
}
