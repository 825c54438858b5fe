// The micro-kernels of conv_direct_block.h, written once over GCC vectors and compiled once per
// instruction set: conv_direct_block.cpp includes this file three times, each inside its own
// namespace with NABLA_DIRECT_TARGET set to a target attribute (or nothing for the baseline),
// NABLA_DIRECT_BYTES to its register width, NABLA_DIRECT_RMAX to the most accumulators of a
// tile that fit its registers and NABLA_DIRECT_BLOCKS to the output-channel blocks per tile. All of
// it has internal linkage, so the copies are never merged. (The matching #pragma once is
// deliberately absent: the file is included once per target.)

#ifndef NABLA_DIRECT_TARGET
#error "define NABLA_DIRECT_TARGET before including conv_direct_block_kernel.h"
#endif

namespace {

#define NABLA_DT NABLA_DIRECT_TARGET

constexpr int kRmax = NABLA_DIRECT_RMAX;
constexpr int kVectorBytes = NABLA_DIRECT_BYTES;
// Vector registers: 32 zmm with AVX-512, 16 ymm or xmm otherwise.
constexpr int kRegisters = kVectorBytes == 64 ? 32 : 16;
// Blocks of output channels per forward tile (2: AVX-512 and AVX2), halving the broadcasts per
// multiply-add.
constexpr int kBlocks = NABLA_DIRECT_BLOCKS;
// Blocks per tile of R outputs or input channels: pairs only up to 24 accumulators with 32
// registers (with 28, the convnet's 28-wide rows, GCC spilled and the forward lost to one
// block), 12 with 16 (beside two weight vectors and a broadcast).
template <int R>
constexpr int kTileBlocks = kBlocks == 2 && 2 * R <= (kRegisters == 32 ? 24 : 12) ? 2 : 1;
// The weight gradient's sweep keeps KB kernel rows of KW taps for B blocks of output channels in
// accumulators, beside B vectors of the output gradient and one broadcast input. B = 2 wherever
// one kernel row of two blocks fits (each broadcast then serves two multiply-adds), and as many
// rows as fit beside, up to 3: more independent sums hide the multiply-add latency, and more taps
// share each load of the output gradient.
template <int KW>
constexpr int kWeightBlocks = (kRegisters - 3) / (2 * KW) >= 1 ? 2 : 1;
template <int KW, int B>
constexpr int kWeightRows = std::clamp((kRegisters - B - 1) / (B * KW), 1, 3);
template <class T>
constexpr int64_t lanes = kVectorBytes / int64_t(sizeof(T));

template <class T>
struct VecOf {
  typedef T type __attribute__((vector_size(kVectorBytes)));
};
template <class T>
using Vec = typename VecOf<T>::type;

#include "kernels/cpu/conv_direct_block_lanes.h"

// res[(i·R + j)·L + l] = Σ over (c, kh, kw) of x[c·plane + kh·WP + j·S + kw] ·
// w[i·wb + ((c·KH + kh)·KW + kw)·L + l] for i < B, j < R: R outputs of one row (stride S) for B
// blocks of output channels (wb elements apart). Each tap's B weight vectors are loaded once and
// each multiplied by the R broadcast inputs. K0: the kernel's height and width when known at
// compile time (3 or 5: its taps unrolled), 0 when read from KH and KW.
template <class T, int R, int S, int B, int K0 = 0>
NABLA_DT void forward_tile(T* res, const T* x, const T* w, int64_t wb, int64_t C, int64_t KH,
                           int64_t KW, int64_t plane, int64_t WP) {
  constexpr int64_t L = lanes<T>;
  Vec<T> acc[B * R];
#pragma GCC unroll 32
  for (int j = 0; j < B * R; ++j) acc[j] = Vec<T>{};
  const auto tap = [&](const T* xr, int64_t kw) __attribute__((always_inline)) NABLA_DT {
    Vec<T> wv[B];
#pragma GCC unroll 2
    for (int i = 0; i < B; ++i) std::memcpy(&wv[i], w + i * wb, sizeof wv[i]);
    const T* xk = xr + kw;
    // With 16 registers, hide from GCC that one tap's inputs are another's (at stride S, tap kw +
    // S reads tap kw's inputs one output on): carried across taps they spilled, and AVX2's
    // stride-2 tiles of 6 ran at half speed. With 32 the carried broadcasts pay.
    if constexpr (kRegisters == 16) asm("" : "+r"(xk));
#pragma GCC unroll 16
    for (int j = 0; j < R; ++j) {
      const T xv = xk[j * S];
#pragma GCC unroll 2
      for (int i = 0; i < B; ++i) acc[i * R + j] += xv * wv[i];
    }
    w += L;
  };
  for (int64_t c = 0; c < C; ++c) {
    if constexpr (K0 > 0) {
#pragma GCC unroll 5
      for (int kh = 0; kh < K0; ++kh)
#pragma GCC unroll 5
        for (int kw = 0; kw < K0; ++kw) tap(x + c * plane + kh * WP, kw);
    } else {
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw) tap(x + c * plane + kh * WP, kw);
    }
  }
  std::memcpy(res, acc, sizeof acc);
}

// forward_tile for the shape's kernel: with AVX-512, 3×3 kernels unrolled, and 5×5 ones for one
// block at stride 1 (LeNet-5's), for float. Elsewhere the unrolled copies did not pay for their
// compile time (each is a large function, clang's ASan build of this file took 6 minutes with
// them on every ISA, against 2 without): with AVX2's 16 registers GCC spilled the tiles of two
// blocks (the convnet's C32 forward 10.4 → 17.1 ms), the 5×5 tiles of one block were level, and
// the stride-2 3×3 tiles of two blocks and 4 outputs were level too (13.1 / 12.2 / 12.1 against
// 12.2 / 12.7 ms; the 3×3 tiles of one block are on layers use_direct_block sends to im2col on
// AVX2; with AVX2 and taps not sharing broadcasts, session 21, level or slower on every layer).
// Double's kernels serve the tests and gradient checks.
template <class T, int R, int S, int B>
NABLA_DT inline void forward_tile_for(T* res, const T* x, const T* w, int64_t wb,
                                      const Conv2dShape& s, int64_t plane, int64_t WP) {
  if constexpr (sizeof(T) == 4 && kRegisters == 32) {
    if (s.KH == 3 && s.KW == 3)
      return forward_tile<T, R, S, B, 3>(res, x, w, wb, s.C, 3, 3, plane, WP);
    if constexpr (B == 1 && S == 1)
      if (s.KH == 5 && s.KW == 5)
        return forward_tile<T, R, S, B, 5>(res, x, w, wb, s.C, 5, 5, plane, WP);
  }
  forward_tile<T, R, S, B>(res, x, w, wb, s.C, s.KH, s.KW, plane, WP);
}

// One block of a whole forward tile into its channels' rows: res (R outputs × L channels) is
// transposed in registers L outputs at a time, and row o + u·P (u < used) gets channel u's R
// outputs, plus its bias, through ReLU if asked (std::max's: NaN stays NaN). One value at a time
// L apart, these stores were a tenth of the stride-2 VGG layer's forward.
template <class T, int R, int J0 = 0>
NABLA_DT inline void store_tile(T* o, int64_t P, const T* res, int64_t used, const T* bias,
                                bool relu) {
  constexpr int L = int(lanes<T>), M = R - J0 < L ? R - J0 : L;
  Vec<T> v[L];
  load_transposed<T>(v, res + J0 * L, L, M);
  for (int64_t u = 0; u < used; ++u) {
    Vec<T> x = v[u] + (bias ? bias[u] : T(0));
    if (relu) x = x < 0 ? Vec<T>{} : x;
    store_lanes<T, M>(o + u * P + J0, x);
  }
  if constexpr (J0 + L < R) store_tile<T, R, J0 + L>(o, P, res, used, bias, relu);
}

// One tile: R outputs of a row from x (the tile's first input in the padded image) for nb ≤ B
// blocks of output channels from w (their packed weights, wb elements a block), into their
// channels' rows from out (P elements apart), plus bias and ReLU.
template <class T, int R, int S, int B>
NABLA_DT void forward_tile_store(T* out, const T* x, const T* w, const T* bias,
                                 const Conv2dShape& s, const Geometry& g, bool relu, int64_t nb,
                                 int64_t used) {
  constexpr int64_t L = lanes<T>;
  const int64_t P = s.OH * s.OW, wb = g.K * L, plane = g.HP * g.WP;
  T res[B * R * L];
  if constexpr (B == 2)
    if (nb == 2) forward_tile_for<T, R, S, 2>(res, x, w, wb, s, plane, g.WP);
  if (nb == 1) forward_tile_for<T, R, S, 1>(res, x, w, wb, s, plane, g.WP);
  for (int64_t i = 0; i < nb; ++i)
    store_tile<T, R>(out + i * L * P, P, res + i * R * L, std::min(L, used - i * L),
                     bias ? bias + i * L : nullptr, relu);
}

template <class T>
using TileStore = void (*)(T*, const T*, const T*, const T*, const Conv2dShape&, const Geometry&,
                           bool, int64_t, int64_t);
template <class T, int S, int B, int... N>
constexpr std::array<TileStore<T>, sizeof...(N)> narrower_tiles(std::integer_sequence<int, N...>) {
  return {&forward_tile_store<T, N + 1, S, B>...};
}

// One image's output rows [oh0, oh1): out (OC, OH, OW) from its zero-padded copy xp (C, HP, WP),
// then bias and ReLU; kTileBlocks blocks of output channels per tile where that many remain.
// A row's last tile is only as wide as the outputs left, not a whole one whose extras are thrown
// away (the VGG stride-2 layer's 16-wide rows in AVX2's tiles of 6: 12.8–12.9 ms as 6 + 6 + 6,
// 11.3–11.8 as 6 + 6 + 4, conv_bench, 1 thread); each output's sum keeps its order.
template <class T, int R, int S>
NABLA_DT void forward_image(T* out, const T* xp, const T* wp, const T* bias, const Conv2dShape& s,
                            const Geometry& g, bool relu, int64_t oh0, int64_t oh1) {
  constexpr int64_t L = lanes<T>;
  constexpr int B = kTileBlocks<R>;
  constexpr std::array<TileStore<T>, R> tile =
      narrower_tiles<T, S, B>(std::make_integer_sequence<int, R>{});
  const int64_t P = s.OH * s.OW, wb = g.K * L;
  for (int64_t b = 0; b < g.OCB; b += B) {
    const int64_t nb = std::min<int64_t>(B, g.OCB - b);
    const int64_t used = std::min(nb * L, s.OC - b * L);
    T* const ob = out + b * L * P;
    const T* const w = wp + b * wb;
    const T* const bb = bias ? bias + b * L : nullptr;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      int64_t ow0 = 0;
      for (; ow0 + R <= s.OW; ow0 += R)
        forward_tile_store<T, R, S, B>(ob + oh * s.OW + ow0, xp + (oh * g.WP + ow0) * S, w, bb, s,
                                       g, relu, nb, used);
      if (ow0 < s.OW)
        tile[s.OW - ow0 - 1](ob + oh * s.OW + ow0, xp + (oh * g.WP + ow0) * S, w, bb, s, g, relu,
                             nb, used);
    }
  }
}

// res[(b·R + r)·L + l] = Σ over the nt taps i, then oc < OC, of
//   grad[off[i] + b·GR + oc·GW + l] · w[(tap[i]·OC + oc)·R + r]
// for b < B, r < R: one vector of L input positions (one phase of the stride) of B rows S apart
// (one output row, GR elements, apart, with the same taps), for R input channels. The output
// gradient's rows are read as vectors (its planes zero-bordered), the weights broadcast; the taps
// are those whose window covers the row, in (kh, kw) order. For each tap the output channels'
// rows (GW apart) and weights (R apart) are consecutive, read in one stream each.
template <class T, int R, int B>
NABLA_DT void input_tile(T* res, const T* grad, int64_t GR, int64_t GW, const T* w, int64_t OC,
                         int nt, const int64_t* tap, const int64_t* off) {
  Vec<T> acc[B * R];
#pragma GCC unroll 32
  for (int r = 0; r < B * R; ++r) acc[r] = Vec<T>{};
  for (int i = 0; i < nt; ++i) {
    const T* go = grad + off[i];
    const T* wo = w + tap[i] * OC * R;
    for (int64_t oc = 0; oc < OC; ++oc, go += GW, wo += R) {
      Vec<T> gv[B];
#pragma GCC unroll 2
      for (int b = 0; b < B; ++b) std::memcpy(&gv[b], go + b * GR, sizeof gv[b]);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const T wv = wo[r];
#pragma GCC unroll 2
        for (int b = 0; b < B; ++b) acc[b * R + r] += wv * gv[b];
      }
    }
  }
  std::memcpy(res, acc, sizeof acc);
}

template <class T>
inline void prefetch_for_write(const T* d, int64_t n) {
  for (int64_t x = 0; x < n; x += 64 / int64_t(sizeof(T))) __builtin_prefetch(d + x, 1);
}

// The taps (kh·KW + kw) that input row ih's columns of phase φ take, with their offsets into
// the bordered output gradient G (see input_image; its rows GR elements apart): those whose output
// row lies in [0, OH) and whose column has this phase, in (kh, kw) order. Returns their count.
inline int input_taps(int64_t* tap, int64_t* off, int64_t ih, int64_t phase, const Conv2dShape& s,
                      int64_t GR) {
  const int64_t S = s.stride_w;
  int nt = 0;
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    const int64_t dh = ih + s.pad_h - kh;
    if (dh < 0 || dh % S != 0 || dh / S >= s.OH) continue;
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const int64_t dw = phase + s.pad_w - kw;  // ≥ −(KW − 1): the border's width
      if (dw % S != 0) continue;
      tap[nt] = kh * s.KW + kw;
      off[nt++] = dh / S * GR + s.KW - 1 + dw / S;
    }
  }
  return nt;
}

// d[0, n) = a row's n ≤ S·L columns from q0·S on, from each phase φ's vector v[φ] of columns
// (q0 + j)·S + φ: at stride 2 the two phases interleaved in registers, stored whole.
template <class T>
NABLA_DT inline void store_row(T* d, const T* v0, const T* v1, int64_t S, int64_t n) {
  constexpr int64_t L = lanes<T>;
  // Whole vectors as fixed-size copies (moves), a row's last part as a variable one.
  if (S == 1) {
    if (n == L)
      std::memcpy(d, v0, sizeof(T) * L);
    else
      std::memcpy(d, v0, sizeof(T) * n);
    return;
  }
  Vec<T> a, b, row[2];
  std::memcpy(&a, v0, sizeof a);
  std::memcpy(&b, v1, sizeof b);
  row[0] = interleave<0>(a, b, std::make_index_sequence<L>{});
  row[1] = interleave<1>(a, b, std::make_index_sequence<L>{});
  if (n == 2 * L)
    std::memcpy(d, row, sizeof row);
  else
    std::memcpy(d, row, sizeof(T) * n);
}

// One image: dinp (C, H, W) = convᵀ(dout, weight), every element written, from the output
// gradient with a zero border G (OH, OC, GW; data from column KW − 1) and the weight wq (C / R
// tiles, KH·KW, OC, R). Input column iw = q·S + φ takes, from kernel column kw with
// (φ + pw − kw) divisible by S, output column q + (φ + pw − kw) / S: for each phase φ a vector of
// consecutive q reads consecutive outputs, and the phases' vectors of a row together make S·L
// consecutive columns, stored once. With kTileBlocks = 2 a tile shares each broadcast weight
// between two vectors: two neighbouring ones of a row where a row has more than one, else those
// of rows ih and ih + S, which take the same taps one output row apart (except at the image's
// edges).
template <class T, int R>
NABLA_DT void input_image(T* dinp, const T* G, const T* wq, const Conv2dShape& s,
                          const Geometry& g) {
  constexpr int64_t L = lanes<T>;
  constexpr int kTaps = kMaxKernel * kMaxKernel, kMaxStride = 2;
  const int64_t S = s.stride_w, GR = s.OC * g.GW, KK = s.KH * s.KW;
  constexpr int B = kTileBlocks<R>;
  // Per phase, rows b < B (S apart) and channels r < R: res[φ][(b·R + r)·L + l].
  T res[kMaxStride][B * R * L];
  // Per row of the pair and phase: the taps and their offsets (input_taps).
  int64_t tap[B][kMaxStride][kTaps], off[B][kMaxStride][kTaps];
  int nt[B][kMaxStride];
  bool paired[kMaxStride];
  const int64_t columns = (s.W + S - 1) / S;  // of phase 0, the most of any phase
  if (B == 2 && columns > L) {
    // Rows of two vectors or more: a tile takes two neighbouring vectors of one row instead of
    // two rows, so every tile has both (the rows at the image's edges have no partner with the
    // same taps) and each output channel's two vectors are one contiguous read.
    for (int64_t t = 0; t < g.ic.blocks; ++t) {
      const int64_t c0 = t * R, nc = std::min<int64_t>(R, s.C - c0);
      const T* w = wq + t * KK * s.OC * R;
      for (int64_t ih = 0; ih < s.H; ++ih) {
        for (int64_t phase = 0; phase < S; ++phase)
          nt[0][phase] = input_taps(tap[0][phase], off[0][phase], ih, phase, s, GR);
        if (ih + 1 < s.H)  // the next row's outputs, fetched while this one is summed
          for (int64_t r = 0; r < nc; ++r)
            prefetch_for_write(dinp + ((c0 + r) * s.H + ih + 1) * s.W, s.W);
        for (int64_t q0 = 0; q0 < columns; q0 += 2 * L) {
          const int vectors = q0 + L < columns ? 2 : 1;
          for (int64_t phase = 0; phase < S; ++phase) {
            T* rp = res[phase];
            if (nt[0][phase] == 0)
              std::fill(rp, rp + vectors * R * L, T(0));
            else if (vectors == 2)
              input_tile<T, R, 2>(rp, G + q0, L, g.GW, w, s.OC, nt[0][phase], tap[0][phase],
                                  off[0][phase]);
            else
              input_tile<T, R, 1>(rp, G + q0, L, g.GW, w, s.OC, nt[0][phase], tap[0][phase],
                                  off[0][phase]);
          }
          for (int b = 0; b < vectors; ++b) {
            const int64_t q = q0 + b * L, n = std::min(S * L, s.W - q * S);
            for (int64_t r = 0; r < nc; ++r)
              store_row(dinp + ((c0 + r) * s.H + ih) * s.W + q * S, res[0] + (b * R + r) * L,
                        res[S - 1] + (b * R + r) * L, S, n);
          }
        }
      }
    }
    return;
  }
  for (int64_t t = 0; t < g.ic.blocks; ++t) {
    const int64_t c0 = t * R, nc = std::min<int64_t>(R, s.C - c0);
    const T* w = wq + t * KK * s.OC * R;
    for (int64_t base = 0; base < s.H; base += B * S)
      for (int64_t ih = base; ih < std::min(base + S, s.H); ++ih) {
        // The row S below, when there is one in this block: paired, phase by phase, where it
        // takes the same taps.
        const int rows = B == 2 && ih + S < s.H ? 2 : 1;
        for (int64_t phase = 0; phase < S; ++phase) {
          for (int b = 0; b < rows; ++b)
            nt[b][phase] = input_taps(tap[b][phase], off[b][phase], ih + b * S, phase, s, GR);
          // Row B − 1 is the second row (rows == 2 only where B == 2); spelled so for B == 1 too.
          paired[phase] =
              rows == 2 && nt[0][phase] == nt[B - 1][phase] && nt[0][phase] > 0 &&
              std::equal(tap[0][phase], tap[0][phase] + nt[0][phase], tap[B - 1][phase]);
        }
        // The rows the next block of rows writes for ih (those that exist): fetched while this
        // one is summed.
        for (int64_t b = 0; b < B && ih + (B + b) * S < s.H; ++b)
          for (int64_t r = 0; r < nc; ++r)
            prefetch_for_write(dinp + ((c0 + r) * s.H + ih + (B + b) * S) * s.W, s.W);
        for (int64_t q0 = 0; q0 < columns; q0 += L) {
          for (int64_t phase = 0; phase < S; ++phase) {
            T* rp = res[phase];
            if constexpr (B == 2)
              if (paired[phase]) {
                input_tile<T, R, 2>(rp, G + q0, GR, g.GW, w, s.OC, nt[0][phase], tap[0][phase],
                                    off[0][phase]);
                continue;
              }
            for (int b = 0; b < rows; ++b) {
              if (nt[b][phase] > 0)
                input_tile<T, R, 1>(rp + b * R * L, G + q0, GR, g.GW, w, s.OC, nt[b][phase],
                                    tap[b][phase], off[b][phase]);
              else
                std::fill(rp + b * R * L, rp + (b + 1) * R * L, T(0));
            }
          }
          const int64_t n = std::min(S * L, s.W - q0 * S);
          for (int b = 0; b < rows; ++b)
            for (int64_t r = 0; r < nc; ++r)
              store_row(dinp + ((c0 + r) * s.H + ih + b * S) * s.W + q0 * S,
                        res[0] + (b * R + r) * L, res[S - 1] + (b * R + r) * L, S, n);
        }
      }
  }
}

// sums[i·sb + r·SR + kw·L + l] += Σ over oh < OH, ow < OW of grad[i·gb + (oh·OW + ow)·L + l] ·
// x[r·XR + oh·S·WP + ow·S + kw] for i < B, r < KB: the KW taps of KB kernel rows, for B blocks of
// output channels (sums sb and grad gb elements apart), over one image. The rows are XR apart in
// the padded image and SR apart in the sums: WP and KW·L for consecutive rows of one channel,
// and with Across, `plane` and `channel` (HP·WP and KH·KW·L) for the same row of consecutive
// channels. Each tap's sum runs over the positions in order.
template <class T, int KW, int KB, int S, int B, bool Across = false>
NABLA_DT void weight_rows(T* sums, int64_t sb, const T* grad, int64_t gb, const T* x, int64_t OH,
                          int64_t OW, int64_t WP, int64_t plane = 0, int64_t channel = 0) {
  constexpr int64_t L = lanes<T>;
  constexpr int N = KB * KW;
  // Compile-time KW·L and the row width when not Across, so the usual sweeps lose nothing.
  const int64_t XR = Across ? plane : WP, SR = Across ? channel : KW * L;
  Vec<T> acc[B * N];
#pragma GCC unroll 2
  for (int i = 0; i < B; ++i)
#pragma GCC unroll 3
    for (int r = 0; r < KB; ++r)
      std::memcpy(&acc[i * N + r * KW], sums + i * sb + r * SR, sizeof(Vec<T>) * KW);
  for (int64_t oh = 0; oh < OH; ++oh) {
    const T* xr = x + oh * S * WP;
    const T* gr = grad + oh * OW * L;
    for (int64_t ow = 0; ow < OW; ++ow) {
      Vec<T> gv[B];
#pragma GCC unroll 2
      for (int i = 0; i < B; ++i) std::memcpy(&gv[i], gr + i * gb + ow * L, sizeof gv[i]);
#pragma GCC unroll 16
      for (int t = 0; t < N; ++t) {
        const T xv = xr[t / KW * XR + ow * S + t % KW];
#pragma GCC unroll 2
        for (int i = 0; i < B; ++i) acc[i * N + t] += xv * gv[i];
      }
    }
  }
#pragma GCC unroll 2
  for (int i = 0; i < B; ++i)
#pragma GCC unroll 3
    for (int r = 0; r < KB; ++r)
      std::memcpy(sums + i * sb + r * SR, &acc[i * N + r * KW], sizeof(Vec<T>) * KW);
}

// The kernel rows of channel c, and of c + 1 where `two`, for B blocks of output channels, KB
// rows per sweep (kWeightRows: with B = 2, AVX-512's 32 registers take 3 rows of a 3×3 kernel,
// AVX2's 16 take 2). A row left over in each of two channels (AVX2's 3×3 kernels) is swept
// with the other channel's: the same number of accumulators as the sweeps before it, where alone
// it had half, too few independent sums to hide the multiply-add latency (stride-2 VGG layer's
// weight gradient with AVX2, 1 thread, medians of 5: 14.0 → 12.8 ms; the convnet C32 level).
template <class T, int KW, int S, int B>
NABLA_DT void weight_channels(T* sc, int64_t sb, const T* grad, int64_t gb, const T* x, bool two,
                              const Conv2dShape& s, const Geometry& g) {
  constexpr int KB = kWeightRows<KW, B>;
  const int64_t plane = g.HP * g.WP, channel = s.KH * KW * g.L;
  const bool pair_last = KB == 2 && two && s.KH % 2 == 1;
  const int64_t end = s.KH - pair_last;  // the rows each channel sweeps on its own
  const auto rows = [&]<int N>(int64_t kh, int64_t c) __attribute__((always_inline)) NABLA_DT {
    weight_rows<T, KW, N, S, B>(sc + c * channel + kh * KW * g.L, sb, grad, gb,
                                x + c * plane + kh * g.WP, s.OH, s.OW, g.WP);
  };
  for (int64_t c = 0; c <= int64_t{two}; ++c) {
    int64_t kh = 0;
    for (; kh + KB <= end; kh += KB) rows.template operator()<KB>(kh, c);
    // The rows left (fewer than KB) in one sweep: a 5×5 kernel in sweeps of 3 and 2 rows, not 3,
    // 1, 1.
    if constexpr (KB == 3)
      if (end - kh == 2) rows.template operator()<2>(kh, c), kh += 2;
    for (; kh < end; ++kh) rows.template operator()<1>(kh, c);
  }
  if constexpr (KB == 2)
    if (pair_last)
      weight_rows<T, KW, 2, S, B, true>(sc + end * KW * g.L, sb, grad, gb, x + end * g.WP, s.OH,
                                        s.OW, g.WP, plane, channel);
}

// One image: sums (OCB, C, KH, KW, L) += its gradient Gt (OCB, OH, OW, L) ⋆ its padded copy xp,
// kWeightBlocks blocks of output channels per sweep where that many remain, and bias (OCB, L) +=
// Gt summed over the positions in order. Each sum's order is the positions', however the sums
// are grouped into sweeps.
template <class T, int KW, int S>
NABLA_DT void weight_image(T* sums, T* bias, const T* Gt, const T* xp, const Conv2dShape& s,
                           const Geometry& g) {
  constexpr int64_t L = lanes<T>;
  const int64_t P = s.OH * s.OW, sb = s.C * s.KH * KW * L;
  for (int64_t b = 0; b < g.OCB; ++b) {
    const T* grad = Gt + b * P * L;
    Vec<T> acc;
    std::memcpy(&acc, bias + b * L, sizeof acc);
    for (int64_t p = 0; p < P; ++p) {
      Vec<T> gv;
      std::memcpy(&gv, grad + p * L, sizeof gv);
      acc += gv;
    }
    std::memcpy(bias + b * L, &acc, sizeof acc);
  }
  constexpr int B = kWeightBlocks<KW>;
  for (int64_t b = 0; b < g.OCB; b += B) {
    const int64_t nb = std::min<int64_t>(B, g.OCB - b);
    const T* grad = Gt + b * P * L;
    for (int64_t c = 0; c < s.C; c += 2) {
      T* sc = sums + b * sb + c * s.KH * KW * L;
      const T* x = xp + c * g.HP * g.WP;
      const bool two = c + 1 < s.C;
      if constexpr (B == 2)
        if (nb == 2) weight_channels<T, KW, S, 2>(sc, sb, grad, P * L, x, two, s, g);
      if (nb == 1) weight_channels<T, KW, S, 1>(sc, sb, grad, P * L, x, two, s, g);
    }
  }
}

// dst[b][p][l] = dout[b·L + l][p] for the P positions of one image's output gradient (OC
// planes): the layout weight_image reads, a vector of L output channels per position. L
// positions at a time through a register transpose; the lanes past OC get zeros. (One value at a
// time, L apart, it was 6% of a LeNet-5 epoch.)
template <class T>
NABLA_DT void transpose_grad(T* dst, const T* dout, int64_t OC, int64_t P) {
  constexpr int64_t L = lanes<T>;
  for (int64_t b = 0; b * L < OC; ++b) {
    const int64_t used = std::min(L, OC - b * L);
    const T* src = dout + b * L * P;
    T* block = dst + b * P * L;
    int64_t p = 0;
    for (; p + L <= P; p += L) {
      Vec<T> v[L];
      load_transposed<T>(v, src + p, P, used);
      for (int64_t q = 0; q < L; ++q) std::memcpy(block + (p + q) * L, &v[q], sizeof v[q]);
    }
    for (; p < P; ++p)
      for (int64_t l = 0; l < L; ++l) block[p * L + l] = l < used ? src[l * P + p] : T(0);
  }
}

// dw[(b·L + l)·K + k] = sums[(b·K + k)·L + l] for the OC output channels: the weight gradient's
// lanes back to rows, L values of K at a time through a register transpose. (One value at a time,
// L apart, it was 1.5% of the stride-2 VGG layer at 2 threads.)
// With Add, dw += those rows instead.
template <class T, bool Add = false>
NABLA_DT void sums_to_rows(T* dw, const T* sums, int64_t OC, int64_t K) {
  constexpr int64_t L = lanes<T>;
  for (int64_t b = 0; b * L < OC; ++b) {
    const int64_t used = std::min(L, OC - b * L);
    for (int64_t k = 0; k < K; k += L) {
      const int64_t n = std::min(L, K - k);
      Vec<T> v[L];
      load_transposed<T>(v, sums + (b * K + k) * L, L, n);
      for (int64_t l = 0; l < used; ++l) {
        T* row = dw + (b * L + l) * K + k;
        if constexpr (Add) {
          Vec<T> old{};
          std::memcpy(&old, row, sizeof(T) * n);
          v[l] += old;
        }
        std::memcpy(row, &v[l], sizeof(T) * n);
      }
    }
  }
}

#include "kernels/cpu/conv_direct_block_rows.h"

template <class T, int S, int... Rs>
Kernels<T> pick(std::integer_sequence<int, Rs...>, const Geometry& g, const Conv2dShape& s) {
  constexpr typename Kernels<T>::Forward forward[] = {&forward_image<T, Rs + 1, S>...};
  constexpr typename Kernels<T>::Input input[] = {&input_image<T, Rs + 1>...};
  constexpr typename Kernels<T>::Weight weight[] = {&weight_image<T, 1, S>, &weight_image<T, 2, S>,
                                                    &weight_image<T, 3, S>, &weight_image<T, 4, S>,
                                                    &weight_image<T, 5, S>, &weight_image<T, 6, S>,
                                                    &weight_image<T, 7, S>};
  static_assert(sizeof weight / sizeof weight[0] == kMaxKernel);
  constexpr auto rows = rows_kernels<T>(std::make_integer_sequence<int, int(lanes<T>) * 3 / 4>{});
  constexpr typename Kernels<T>::RowsWeight rows_weight[] = {
      &weight_rows_image<T, 1>, &weight_rows_image<T, 2>, &weight_rows_image<T, 3>,
      &weight_rows_image<T, 4>, &weight_rows_image<T, 5>, &weight_rows_image<T, 6>,
      &weight_rows_image<T, 7>};
  static_assert(sizeof rows_weight / sizeof rows_weight[0] == kMaxKernel);
  const bool in_rows = S == 1 && g.rows;
  return {in_rows ? rows[s.OC - 1] : forward[g.fw.r - 1],
          input[g.ic.r - 1],
          weight[s.KW - 1],
          in_rows ? rows_weight[s.KW - 1] : nullptr,
          &transpose_grad<T>,
          &sums_to_rows<T>,
          &sums_to_rows<T, true>};
}

// The kernels for a geometry of shape s built with rmax = kRmax.
template <class T>
Kernels<T> kernels(const Geometry& g, const Conv2dShape& s) {
  if (s.stride_w == 2) return pick<T, 2>(std::make_integer_sequence<int, kRmax>{}, g, s);
  return pick<T, 1>(std::make_integer_sequence<int, kRmax>{}, g, s);
}

#undef NABLA_DT

}  // namespace
