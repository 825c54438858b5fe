// Gradcheck cases for reductions: sum, mean, max, over all dims, one dim, several dims (with
// negative indices) and keepdim, on shapes with a batch of 1 or 3.
//
// max has a kink wherever two candidates tie: its inputs are distinct values 0.1 apart in random
// order (case_inputs::distinct), so a ±eps step never changes which element is the maximum and
// the "first maximal element" rule is never exercised by a tie.
#include "gradcheck/cases.h"
#include "nabla/ops.h"

namespace nabla {

void add_reduce_cases(std::vector<GradcheckCase>& cases) {
  using namespace case_inputs;
  using Inputs = std::vector<Tensor>;
  auto normal_of = [](Shape s) { return [s](Generator& g) { return Inputs{normal(s, g)}; }; };
  auto distinct_of = [](Shape s) {
    return [s](Generator& g) { return Inputs{distinct(s, 0.1, g)}; };
  };

  cases.push_back({Op::sum, "sum([3, 4, 5]) over all", normal_of({3, 4, 5}),
                   [](const Inputs& x) { return sum(x[0]); }});
  cases.push_back(
      {Op::sum, "sum([3, 4, 5], {0, 2}, keepdim)", normal_of({3, 4, 5}), [](const Inputs& x) {
         return sum(x[0], {0, 2}, true);
       }});
  cases.push_back({Op::sum, "sum([1, 4, 5], {-1})", normal_of({1, 4, 5}),
                   [](const Inputs& x) { return sum(x[0], {-1}); }});
  cases.push_back(
      {Op::sum, "sum([2, 3, 4, 2], {-3, -1})", normal_of({2, 3, 4, 2}), [](const Inputs& x) {
         return sum(x[0], {-3, -1});
       }});
  cases.push_back({Op::mean, "mean([3, 4, 5]) over all", normal_of({3, 4, 5}),
                   [](const Inputs& x) { return mean(x[0]); }});
  cases.push_back(
      {Op::mean, "mean([3, 4, 5], {-1, 0}, keepdim)", normal_of({3, 4, 5}), [](const Inputs& x) {
         return mean(x[0], {-1, 0}, true);
       }});
  cases.push_back({Op::mean, "mean([1, 6], {1})", normal_of({1, 6}),
                   [](const Inputs& x) { return mean(x[0], {1}); }});
  cases.push_back({Op::max, "max([3, 4, 5]) over all, distinct values", distinct_of({3, 4, 5}),
                   [](const Inputs& x) { return max(x[0]); }});
  cases.push_back({Op::max, "max([3, 4, 5], {1}), distinct values", distinct_of({3, 4, 5}),
                   [](const Inputs& x) { return max(x[0], {1}); }});
  cases.push_back({Op::max, "max([2, 3, 4, 2], {0, -1}, keepdim), distinct values",
                   distinct_of({2, 3, 4, 2}), [](const Inputs& x) {
                     return max(x[0], {0, -1}, true);
                   }});
  cases.push_back({Op::max, "max([1, 5], {-1}), distinct values", distinct_of({1, 5}),
                   [](const Inputs& x) { return max(x[0], {-1}); }});
}

}  // namespace nabla
