// Gradcheck cases for activations: sigmoid tanh relu leaky_relu elu softmax log_softmax maxout.
//
// Kinks are avoided by construction, never by tolerance:
//   - relu, leaky_relu, elu: inputs in [-2, 2] but at least 0.1 from the kink at 0, so both
//     branches are hit and ±eps never crosses between them;
//   - maxout: all values distinct and 0.1 apart, so no group has a tie and no ±eps perturbation
//     changes which piece wins.
// softmax and log_softmax run over the last dim, dim 0 and a middle dim (inner stride > 1), and
// maxout over a middle dim, because those walk the (outer, n, inner) layout differently.
#include "gradcheck/cases.h"
#include "nabla/ops.h"

namespace nabla {

void add_activation_cases(std::vector<GradcheckCase>& cases) {
  using namespace case_inputs;
  using Inputs = std::vector<Tensor>;

  cases.push_back({Op::sigmoid, "[3, 5]",
                   [](Generator& g) {
                     return Inputs{normal({3, 5}, g)};
                   },
                   [](const Inputs& x) { return sigmoid(x[0]); }});
  cases.push_back({Op::sigmoid, "[1, 4], x in [-6, 6]",
                   [](Generator& g) {
                     return Inputs{uniform({1, 4}, -6, 6, g)};
                   },
                   [](const Inputs& x) { return sigmoid(x[0]); }});
  cases.push_back({Op::tanh, "[1, 7]",
                   [](Generator& g) {
                     return Inputs{normal({1, 7}, g)};
                   },
                   [](const Inputs& x) { return tanh(x[0]); }});
  cases.push_back({Op::tanh, "[3, 2, 4]",
                   [](Generator& g) {
                     return Inputs{normal({3, 2, 4}, g)};
                   },
                   [](const Inputs& x) { return tanh(x[0]); }});
  cases.push_back({Op::relu, "[3, 4], |x| >= 0.1",
                   [](Generator& g) {
                     return Inputs{away_from({3, 4}, -2, 2, {0}, 0.1, g)};
                   },
                   [](const Inputs& x) { return relu(x[0]); }});
  cases.push_back({Op::relu, "[1, 5] transposed, |x| >= 0.1",
                   [](Generator& g) {
                     return Inputs{away_from({5, 1}, -2, 2, {0}, 0.1, g)};
                   },
                   [](const Inputs& x) { return relu(x[0].t()); }});
  cases.push_back({Op::leaky_relu, "[3, 2, 5], slope 0.1, |x| >= 0.1",
                   [](Generator& g) {
                     return Inputs{away_from({3, 2, 5}, -2, 2, {0}, 0.1, g)};
                   },
                   [](const Inputs& x) { return leaky_relu(x[0], 0.1); }});
  cases.push_back({Op::leaky_relu, "[1, 6], slope -0.5, |x| >= 0.1",
                   [](Generator& g) {
                     return Inputs{away_from({1, 6}, -2, 2, {0}, 0.1, g)};
                   },
                   [](const Inputs& x) { return leaky_relu(x[0], -0.5); }});
  cases.push_back({Op::elu, "[2, 3], alpha 1.3, |x| >= 0.1",
                   [](Generator& g) {
                     return Inputs{away_from({2, 3}, -2, 2, {0}, 0.1, g)};
                   },
                   [](const Inputs& x) { return elu(x[0], 1.3); }});
  cases.push_back({Op::elu, "[1, 4, 3], alpha 1, |x| >= 0.1",
                   [](Generator& g) {
                     return Inputs{away_from({1, 4, 3}, -2, 2, {0}, 0.1, g)};
                   },
                   [](const Inputs& x) { return elu(x[0]); }});
  cases.push_back({Op::softmax, "[3, 5], dim -1",
                   [](Generator& g) {
                     return Inputs{normal({3, 5}, g)};
                   },
                   [](const Inputs& x) { return softmax(x[0], -1); }});
  cases.push_back({Op::softmax, "[4, 3], dim 0",
                   [](Generator& g) {
                     return Inputs{normal({4, 3}, g)};
                   },
                   [](const Inputs& x) { return softmax(x[0], 0); }});
  cases.push_back({Op::softmax, "[2, 3, 4], dim 1",
                   [](Generator& g) {
                     return Inputs{normal({2, 3, 4}, g)};
                   },
                   [](const Inputs& x) { return softmax(x[0], 1); }});
  cases.push_back({Op::softmax, "[1, 6], dim 1",
                   [](Generator& g) {
                     return Inputs{normal({1, 6}, g)};
                   },
                   [](const Inputs& x) { return softmax(x[0], 1); }});
  cases.push_back({Op::log_softmax, "[3, 5], dim -1",
                   [](Generator& g) {
                     return Inputs{normal({3, 5}, g)};
                   },
                   [](const Inputs& x) { return log_softmax(x[0], -1); }});
  cases.push_back({Op::log_softmax, "[3, 4, 2], dim 1",
                   [](Generator& g) {
                     return Inputs{normal({3, 4, 2}, g)};
                   },
                   [](const Inputs& x) { return log_softmax(x[0], 1); }});
  cases.push_back({Op::log_softmax, "[5, 1], dim 0",
                   [](Generator& g) {
                     return Inputs{normal({5, 1}, g)};
                   },
                   [](const Inputs& x) { return log_softmax(x[0], 0); }});
  cases.push_back({Op::maxout, "[3, 6] -> [3, 3], pieces 2, dim 1, no ties",
                   [](Generator& g) {
                     return Inputs{distinct({3, 6}, 0.1, g)};
                   },
                   [](const Inputs& x) { return maxout(x[0], 2, 1); }});
  cases.push_back({Op::maxout, "[1, 6, 2] -> [1, 2, 2], pieces 3, dim 1, no ties",
                   [](Generator& g) {
                     return Inputs{distinct({1, 6, 2}, 0.1, g)};
                   },
                   [](const Inputs& x) { return maxout(x[0], 3, 1); }});
  cases.push_back({Op::maxout, "[2, 3, 9] -> [2, 3, 3], pieces 3, dim -1, no ties",
                   [](Generator& g) {
                     return Inputs{distinct({2, 3, 9}, 0.1, g)};
                   },
                   [](const Inputs& x) { return maxout(x[0], 3, -1); }});
}

}  // namespace nabla
