// Gradcheck cases for shape ops: reshape (also view, flatten, squeeze and unsqueeze, which record
// as reshape), transpose, permute, expand, slice (also select), index_select, concat,
// contiguous (also clone) and to_dtype. All are linear, so there are no kinks to avoid; the
// cases aim at layouts instead: non-contiguous inputs, negative dims and indices, steps > 1,
// repeated indices and a tensor passed twice (gradients that must add up).
//
// to_dtype goes through float32 and back. Its inputs are multiples of 1/8 in [-2, 2] and its
// step is 2^-10, so x ± eps is exact in float32 and the round trip is exactly the identity at
// every point the check evaluates; only the float32 rounding of the upstream gradient remains
// (relative 6e-8, under the 1e-6 tolerance).
#include <cmath>

#include "gradcheck/cases.h"
#include "nabla/ops.h"

namespace nabla {

void add_shape_cases(std::vector<GradcheckCase>& cases) {
  using namespace case_inputs;
  using Inputs = std::vector<Tensor>;
  auto normal_of = [](Shape s) { return [s](Generator& g) { return Inputs{normal(s, g)}; }; };

  cases.push_back({Op::reshape, "[2, 3, 4] -> [4, -1]", normal_of({2, 3, 4}), [](const Inputs& x) {
                     return x[0].reshape({4, -1});
                   }});
  cases.push_back(
      {Op::reshape, "[3, 4]^T -> [2, 6] (copies)", normal_of({3, 4}), [](const Inputs& x) {
         return x[0].t().reshape({2, 6});
       }});
  cases.push_back({Op::reshape, "[3, 1, 4] squeeze, unsqueeze(-1), flatten", normal_of({3, 1, 4}),
                   [](const Inputs& x) { return x[0].squeeze().unsqueeze(-1).flatten(); }});
  cases.push_back({Op::transpose, "[2, 3, 4].transpose(0, -1)", normal_of({2, 3, 4}),
                   [](const Inputs& x) { return x[0].transpose(0, -1); }});
  cases.push_back(
      {Op::transpose, "[1, 5].t()", normal_of({1, 5}), [](const Inputs& x) { return x[0].t(); }});
  cases.push_back({Op::permute, "[2, 3, 4, 1].permute(2, 0, -1, 1)", normal_of({2, 3, 4, 1}),
                   [](const Inputs& x) {
                     return x[0].permute({2, 0, -1, 1});
                   }});
  cases.push_back({Op::expand, "[3, 1] -> [2, 3, 4]", normal_of({3, 1}), [](const Inputs& x) {
                     return x[0].expand({2, 3, 4});
                   }});
  cases.push_back({Op::expand, "[] -> [2, 3]", normal_of({}), [](const Inputs& x) {
                     return x[0].expand({2, 3});
                   }});
  cases.push_back({Op::slice, "[3, 8][:, 1:7:2]", normal_of({3, 8}),
                   [](const Inputs& x) { return x[0].slice(1, 1, 7, 2); }});
  cases.push_back({Op::slice, "[5, 4][-3:-1]", normal_of({5, 4}),
                   [](const Inputs& x) { return x[0].slice(0, -3, -1); }});
  cases.push_back({Op::slice, "[2, 3, 4].select(1, -1)", normal_of({2, 3, 4}),
                   [](const Inputs& x) { return x[0].select(1, -1); }});
  cases.push_back(
      {Op::index_select, "[4, 3] rows {2, 0, 2}", normal_of({4, 3}), [](const Inputs& x) {
         return index_select(x[0], 0, {2, 0, 2});
       }});
  cases.push_back(
      {Op::index_select, "[2, 5, 3] dim -2 {4, 1}", normal_of({2, 5, 3}), [](const Inputs& x) {
         return index_select(x[0], -2, {4, 1});
       }});
  cases.push_back({Op::concat, "[2, 3] | [2, 1] | [2, 2] along -1",
                   [](Generator& g) {
                     return Inputs{normal({2, 3}, g), normal({2, 1}, g), normal({2, 2}, g)};
                   },
                   [](const Inputs& x) {
                     return concat({x[0], x[1], x[2]}, -1);
                   }});
  cases.push_back({Op::concat, "[1, 2, 3] | [3, 2, 3] along 0",
                   [](Generator& g) {
                     return Inputs{normal({1, 2, 3}, g), normal({3, 2, 3}, g)};
                   },
                   [](const Inputs& x) {
                     return concat({x[0], x[1]}, 0);
                   }});
  cases.push_back({Op::concat, "x | x along 1, x [3, 2]", normal_of({3, 2}), [](const Inputs& x) {
                     return concat({x[0], x[0]}, 1);
                   }});
  cases.push_back({Op::contiguous, "[3, 5]^T contiguous", normal_of({3, 5}),
                   [](const Inputs& x) { return x[0].t().contiguous(); }});
  cases.push_back({Op::contiguous, "[2, 6][:, ::2] contiguous", normal_of({2, 6}),
                   [](const Inputs& x) { return x[0].slice(1, 0, 6, 2).contiguous(); }});
  cases.push_back({Op::contiguous, "[1, 4] clone", normal_of({1, 4}),
                   [](const Inputs& x) { return x[0].clone(); }});
  GradcheckOptions exact_step;
  exact_step.eps = 0x1p-10;
  cases.push_back({Op::to_dtype, "[3, 4] float64 -> float32 -> float64, x in (1/8)Z",
                   [](Generator& g) {
                     Tensor t = uniform({3, 4}, -2, 2, g);
                     double* p = t.data<double>();
                     for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::round(p[i] * 8) / 8;
                     return Inputs{t};
                   },
                   [](const Inputs& x) { return x[0].to(kFloat32).to(kFloat64); }, exact_step});
}

}  // namespace nabla
