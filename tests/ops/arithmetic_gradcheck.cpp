// Gradcheck cases for element-wise arithmetic: add sub mul div neg pow exp log sqrt abs clamp.
//
// Kinks and poles are avoided by construction, never by tolerance:
//   - div: divisors have |b| in [0.5, 2], far from the pole at 0;
//   - pow, log, sqrt: inputs in [0.5, 2] (positive, so fractional and negative powers, log and
//     sqrt are smooth and their derivatives stay moderate);
//   - abs: |x| in [0.2, 2] with random signs, away from the kink at 0;
//   - clamp to [-0.5, 0.5]: inputs span [-1.5, 1.5] so both the pass-through and the clamped
//     regions are hit, but every value is at least 0.1 from -0.5 and 0.5.
// Binary ops broadcast on purpose ([3, 1, 4] with [5, 1], a 0-d operand) so that the sum_to in
// their backward is checked, and mul/add also take the same tensor twice (two contributions).
#include "gradcheck/cases.h"
#include "nabla/ops.h"

namespace nabla {

void add_arithmetic_cases(std::vector<GradcheckCase>& cases) {
  using namespace case_inputs;
  using Inputs = std::vector<Tensor>;

  cases.push_back({Op::add, "[3, 1, 4] + [5, 1]",
                   [](Generator& g) {
                     return Inputs{normal({3, 1, 4}, g), normal({5, 1}, g)};
                   },
                   [](const Inputs& x) { return add(x[0], x[1]); }});
  cases.push_back({Op::add, "x + x, x [1, 6]",
                   [](Generator& g) {
                     return Inputs{normal({1, 6}, g)};
                   },
                   [](const Inputs& x) { return add(x[0], x[0]); }});
  cases.push_back({Op::sub, "[2, 1, 3] - [2, 3]",
                   [](Generator& g) {
                     return Inputs{normal({2, 1, 3}, g), normal({2, 3}, g)};
                   },
                   [](const Inputs& x) { return sub(x[0], x[1]); }});
  cases.push_back({Op::sub, "[] - [3, 2]",
                   [](Generator& g) {
                     return Inputs{normal({}, g), normal({3, 2}, g)};
                   },
                   [](const Inputs& x) { return sub(x[0], x[1]); }});
  cases.push_back({Op::mul, "[3, 1, 4] * [5, 1]",
                   [](Generator& g) {
                     return Inputs{normal({3, 1, 4}, g), normal({5, 1}, g)};
                   },
                   [](const Inputs& x) { return mul(x[0], x[1]); }});
  cases.push_back({Op::mul, "x * x, x [3, 2]",
                   [](Generator& g) {
                     return Inputs{normal({3, 2}, g)};
                   },
                   [](const Inputs& x) { return mul(x[0], x[0]); }});
  cases.push_back({Op::div, "[2, 3] / [3, 1, 1], |b| in [0.5, 2]",
                   [](Generator& g) {
                     return Inputs{normal({2, 3}, g), signed_magnitude({3, 1, 1}, 0.5, 2, g)};
                   },
                   [](const Inputs& x) { return div(x[0], x[1]); }});
  cases.push_back({Op::div, "[1, 4] / [], |b| in [0.5, 2]",
                   [](Generator& g) {
                     return Inputs{normal({1, 4}, g), signed_magnitude({}, 0.5, 2, g)};
                   },
                   [](const Inputs& x) { return div(x[0], x[1]); }});
  cases.push_back({Op::neg, "[1, 7]",
                   [](Generator& g) {
                     return Inputs{normal({1, 7}, g)};
                   },
                   [](const Inputs& x) { return neg(x[0]); }});
  for (auto [p, label] : {std::pair{3.0, "3"}, std::pair{0.5, "0.5"}, std::pair{-1.5, "-1.5"}}) {
    cases.push_back({Op::pow, std::string("[3, 2, 5] ^ ") + label + ", x in [0.5, 2]",
                     [](Generator& g) {
                       return Inputs{uniform({3, 2, 5}, 0.5, 2, g)};
                     },
                     [p = p](const Inputs& x) { return pow(x[0], p); }});
  }
  cases.push_back({Op::exp, "[3, 2, 5]",
                   [](Generator& g) {
                     return Inputs{normal({3, 2, 5}, g)};
                   },
                   [](const Inputs& x) { return exp(x[0]); }});
  cases.push_back({Op::log, "[1, 4, 3], x in [0.5, 2]",
                   [](Generator& g) {
                     return Inputs{uniform({1, 4, 3}, 0.5, 2, g)};
                   },
                   [](const Inputs& x) { return log(x[0]); }});
  cases.push_back({Op::sqrt, "[4, 3], x in [0.5, 2]",
                   [](Generator& g) {
                     return Inputs{uniform({4, 3}, 0.5, 2, g)};
                   },
                   [](const Inputs& x) { return sqrt(x[0]); }});
  cases.push_back({Op::abs, "[3, 5], |x| in [0.2, 2]",
                   [](Generator& g) {
                     return Inputs{signed_magnitude({3, 5}, 0.2, 2, g)};
                   },
                   [](const Inputs& x) { return abs(x[0]); }});
  cases.push_back({Op::clamp, "clamp([3, 7], -0.5, 0.5), x >= 0.1 from the bounds",
                   [](Generator& g) {
                     return Inputs{away_from({3, 7}, -1.5, 1.5, {-0.5, 0.5}, 0.1, g)};
                   },
                   [](const Inputs& x) { return clamp(x[0], -0.5, 0.5); }});
}

}  // namespace nabla
