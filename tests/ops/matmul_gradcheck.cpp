// Gradcheck cases for matmul, linear and linear_relu. matmul is smooth everywhere, so inputs are
// plain normals; the shapes are what is awkward: non-square, batch 1, broadcast batch dims, 1-d
// operands on either side (and both: a dot product), a transposed operand (GEMM's transpose flag
// instead of a copy), and one product large enough to take the packed GEMM path, checked on a
// random sample of elements.
#include <algorithm>
#include <cmath>

#include "gradcheck/cases.h"
#include "nabla/ops.h"

namespace nabla {

void add_matmul_cases(std::vector<GradcheckCase>& cases) {
  using namespace case_inputs;
  using Inputs = std::vector<Tensor>;
  auto matmul_of = [](const Inputs& x) { return matmul(x[0], x[1]); };
  auto pair = [](Shape a, Shape b) {
    return [a, b](Generator& g) { return Inputs{normal(a, g), normal(b, g)}; };
  };

  cases.push_back({Op::matmul, "[3, 5] . [5, 2]", pair({3, 5}, {5, 2}), matmul_of});
  cases.push_back({Op::matmul, "[1, 4] . [4, 3]", pair({1, 4}, {4, 3}), matmul_of});
  cases.push_back({Op::matmul, "[3, 2, 4] . [4, 5]", pair({3, 2, 4}, {4, 5}), matmul_of});
  cases.push_back(
      {Op::matmul, "[2, 1, 3, 4] . [3, 4, 2]", pair({2, 1, 3, 4}, {3, 4, 2}), matmul_of});
  cases.push_back({Op::matmul, "[4] . [3, 4, 2]", pair({4}, {3, 4, 2}), matmul_of});
  cases.push_back({Op::matmul, "[2, 3, 4] . [4]", pair({2, 3, 4}, {4}), matmul_of});
  cases.push_back({Op::matmul, "[5] . [5]", pair({5}, {5}), matmul_of});
  cases.push_back({Op::matmul, "[4, 3]^T . [4, 2]", pair({4, 3}, {4, 2}),
                   [](const Inputs& x) { return matmul(x[0].t(), x[1]); }});
  cases.push_back({Op::matmul, "[3, 5] . [2, 5]^T", pair({3, 5}, {2, 5}),
                   [](const Inputs& x) { return matmul(x[0], x[1].t()); }});
  GradcheckOptions sampled;
  sampled.max_elements = 60;
  cases.push_back({Op::matmul, "[24, 33] . [33, 17] (packed GEMM path, 60 elements sampled)",
                   pair({24, 33}, {33, 17}), matmul_of, sampled});

  // linear: x (..., in) · W (out, in)ᵀ + b (out), with and without bias, batch 1, 3-d input.
  auto triple = [](Shape x, Shape w, Shape b) {
    return [x, w, b](Generator& g) { return Inputs{normal(x, g), normal(w, g), normal(b, g)}; };
  };
  auto linear_of = [](const Inputs& x) { return linear(x[0], x[1], x[2]); };
  cases.push_back({Op::linear, "[3, 5] . [2, 5]^T + [2]", triple({3, 5}, {2, 5}, {2}), linear_of});
  cases.push_back({Op::linear, "[1, 4] . [6, 4]^T + [6]", triple({1, 4}, {6, 4}, {6}), linear_of});
  cases.push_back(
      {Op::linear, "[2, 3, 4] . [5, 4]^T + [5]", triple({2, 3, 4}, {5, 4}, {5}), linear_of});
  cases.push_back({Op::linear, "[3, 4] . [2, 4]^T (no bias)", pair({3, 4}, {2, 4}),
                   [](const Inputs& x) { return linear(x[0], x[1]); }});
  // linear_relu: relu(linear(...)) in one op. Inputs drawn until no output lies within 0.05 of
  // the kink at 0, where the finite differences would straddle it.
  auto away_from_kink = [](Shape x, Shape w, Shape b) {
    return [x, w, b](Generator& g) {
      for (;;) {
        Inputs in{normal(x, g), normal(w, g), normal(b, g)};
        const std::vector<double> y = linear(in[0], in[1], in[2]).to_vector();
        if (std::none_of(y.begin(), y.end(), [](double v) { return std::abs(v) < 0.05; }))
          return in;
      }
    };
  };
  auto linear_relu_of = [](const Inputs& x) { return detail::linear_relu(x[0], x[1], x[2]); };
  cases.push_back({Op::linear_relu, "relu([3, 5] . [4, 5]^T + [4]), |pre-activation| >= 0.05",
                   away_from_kink({3, 5}, {4, 5}, {4}), linear_relu_of});
  cases.push_back({Op::linear_relu, "relu([2, 2, 3] . [5, 3]^T + [5]), |pre-activation| >= 0.05",
                   away_from_kink({2, 2, 3}, {5, 3}, {5}), linear_relu_of});
}

}  // namespace nabla
