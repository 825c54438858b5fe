// The gradcheck registry, split by op family: each family's cases sit beside its ops' tests, in
// tests/ops/<family>_gradcheck.cpp (compiled into the library, see CMakeLists.txt), so adding an
// op's case touches only that file. A new family adds its function here and in registry.cpp.
// Internal to the library.
//
// Inputs are built from the Generator the caller passes, in float64, with awkward shapes and
// values chosen away from each op's kinks; every family file says how it avoids them.
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "nabla/gradcheck.h"

namespace nabla {

void add_arithmetic_cases(std::vector<GradcheckCase>& cases);
void add_matmul_cases(std::vector<GradcheckCase>& cases);
void add_reduce_cases(std::vector<GradcheckCase>& cases);
void add_shape_cases(std::vector<GradcheckCase>& cases);
void add_activation_cases(std::vector<GradcheckCase>& cases);
void add_loss_cases(std::vector<GradcheckCase>& cases);
void add_conv_cases(std::vector<GradcheckCase>& cases);

// Input builders shared by the family files; all return float64 tensors.
namespace case_inputs {

inline Tensor normal(const Shape& shape, Generator& gen) {
  return Tensor::randn(shape, gen, kFloat64);
}

inline Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen) {
  return Tensor::uniform(shape, lo, hi, gen, kFloat64);
}

// |x| uniform in [lo, hi] with a random sign: keeps x away from 0 (abs's kink, a divisor).
inline Tensor signed_magnitude(const Shape& shape, double lo, double hi, Generator& gen) {
  Tensor t = uniform(shape, lo, hi, gen);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] *= gen.next_u64() & 1 ? 1.0 : -1.0;
  return t;
}

// Uniform in [lo, hi], except that a value closer than `margin` to a kink is moved to
// kink ± margin (on its own side): the ±eps of a central difference never crosses a kink.
inline Tensor away_from(const Shape& shape, double lo, double hi, const std::vector<double>& kinks,
                        double margin, Generator& gen) {
  Tensor t = uniform(shape, lo, hi, gen);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    for (double k : kinks)
      if (std::abs(p[i] - k) < margin) p[i] = p[i] < k ? k - margin : k + margin;
  return t;
}

// Distinct values `gap` apart, centred on 0, in random order: no ties for max-like ops, and no
// two candidates close enough to swap under a ±eps perturbation.
inline Tensor distinct(const Shape& shape, double gap, Generator& gen) {
  Tensor t = Tensor::empty(shape, kFloat64);
  const int64_t n = t.numel();
  double* p = t.data<double>();
  for (int64_t i = 0; i < n; ++i) p[i] = gap * (static_cast<double>(i) - 0.5 * (n - 1));
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(p[i], p[static_cast<int64_t>(gen.below(static_cast<uint64_t>(i + 1)))]);
  return t;
}

}  // namespace case_inputs

}  // namespace nabla
