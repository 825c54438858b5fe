// The inner loop of conv2d's direct weight gradient (conv.cpp), compiled for AVX2 + FMA in
// conv_direct_avx2.cpp; conv.cpp calls it only when active_isa() is avx2 or wider.
#pragma once

#include <cstdint>

namespace nabla::cpu::conv_detail {

// Output columns per step; each (output channel, tap) keeps this many partial sums.
constexpr int64_t kLanes = 8;

// One (output channel, input channel, kernel row) over one image, for KW = 3 or 5:
//   sums[kw·kLanes + l] += Σ over oh < OH and ow ≡ l (mod kLanes), ow < OWL, of
//                          grad[oh·OWL + ow] · image[oh·WP + ow + kw]
// grad holds OH rows of OWL (a multiple of kLanes) values, image the zero-padded input rows
// (WP ≥ OWL + KW − 1 values each, starting at this kernel row). The KW accumulators stay in
// registers for the whole sweep.
template <class T>
void weight_sweep_avx2(T* sums, const T* grad, const T* image, int64_t KW, int64_t OH, int64_t OWL,
                       int64_t WP);

}  // namespace nabla::cpu::conv_detail
