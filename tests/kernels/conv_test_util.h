// Helpers shared by the convolution kernels' tests (conv_kernels_test.cpp,
// conv_direct_block_test.cpp): random shapes' sizes, the instruction sets to run, a layer's random
// operands and LeNet-5's two layers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/conv.h"
#include "kernels/cpu/isa.h"
#include "nabla/random.h"
#include "test_util.h"

namespace nabla::testing {

// Uniform in [lo, hi].
inline int64_t pick(Generator& gen, int64_t lo, int64_t hi) {
  return std::min(hi,
                  lo + static_cast<int64_t>(gen.uniform(0, 1) * static_cast<double>(hi - lo + 1)));
}

// The instruction sets this CPU runs, the baseline first: every copy of a kernel a test can check.
inline std::vector<cpu::Isa> supported_isas() {
  std::vector<cpu::Isa> isas{cpu::Isa::generic};
  for (cpu::Isa isa : {cpu::Isa::avx2, cpu::Isa::avx512})
    if (cpu::isa_supported(isa)) isas.push_back(isa);
  return isas;
}

// A layer's random input, weight, bias and output gradient, drawn in that order.
struct ConvOperands {
  std::vector<float> x, w, b, dy;
};
inline ConvOperands random_operands(const cpu::Conv2dShape& s, Generator& gen) {
  ConvOperands o;
  o.x = random_values<float>(s.N * s.C * s.H * s.W, gen);
  o.w = random_values<float>(s.OC * (s.C / s.groups) * s.KH * s.KW, gen);
  o.b = random_values<float>(s.OC, gen);
  o.dy = random_values<float>(s.N * s.OC * s.OH * s.OW, gen);
  return o;
}

// LeNet-5's conv1 on n images: 1 → 6 channels on 28×28, 5×5, padding 2.
constexpr cpu::Conv2dShape lenet_conv1(int64_t n) {
  return {.N = n,
          .C = 1,
          .H = 28,
          .W = 28,
          .OC = 6,
          .KH = 5,
          .KW = 5,
          .OH = 28,
          .OW = 28,
          .pad_h = 2,
          .pad_w = 2};
}

// LeNet-5's conv2 on n images: 6 → 16 channels on 14×14, 5×5, no padding.
constexpr cpu::Conv2dShape lenet_conv2(int64_t n) {
  return {.N = n, .C = 6, .H = 14, .W = 14, .OC = 16, .KH = 5, .KW = 5, .OH = 10, .OW = 10};
}

// A 3×3 convolution with padding 1 (VGG's and ResNet's layers) on n images: c → oc channels on
// h×w, with the given stride in both directions.
constexpr cpu::Conv2dShape conv3x3(int64_t n, int64_t c, int64_t h, int64_t w, int64_t oc,
                                   int64_t stride = 1) {
  return {.N = n,
          .C = c,
          .H = h,
          .W = w,
          .OC = oc,
          .KH = 3,
          .KW = 3,
          .OH = (h - 1) / stride + 1,
          .OW = (w - 1) / stride + 1,
          .stride_h = stride,
          .stride_w = stride,
          .pad_h = 1,
          .pad_w = 1};
}

}  // namespace nabla::testing
