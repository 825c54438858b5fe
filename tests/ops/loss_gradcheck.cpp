// Gradcheck cases for losses: mse_loss l1_loss binary_cross_entropy
// binary_cross_entropy_with_logits cross_entropy multi_margin_loss.
//
// Kinks and poles are avoided by construction, never by tolerance:
//   - l1_loss: target = input + d with |d| in [0.2, 1], so input - target is never near 0;
//   - binary_cross_entropy: probabilities in [0.1, 0.9], far from the poles of log at 0 and 1
//     and from the -100 clamp;
//   - multi_margin_loss: scores distinct and 0.3 apart, so every s_j - s_y is a multiple of 0.3
//     and each hinge margin - s_y + s_j (margin 1 or 0.5) is at least 0.1 from 0.
// Element-wise losses pass the target as a checked input too (both get gradients), and each
// loss runs with every Reduction, so the spreading of dout in backward is checked.
#include "gradcheck/cases.h"
#include "nabla/ops.h"

namespace nabla {

void add_loss_cases(std::vector<GradcheckCase>& cases) {
  using namespace case_inputs;
  using Inputs = std::vector<Tensor>;

  cases.push_back({Op::mse_loss, "[3, 4] · [3, 4], mean",
                   [](Generator& g) {
                     return Inputs{normal({3, 4}, g), normal({3, 4}, g)};
                   },
                   [](const Inputs& x) { return mse_loss(x[0], x[1]); }});
  cases.push_back({Op::mse_loss, "[1, 5] · [1, 5], none",
                   [](Generator& g) {
                     return Inputs{normal({1, 5}, g), normal({1, 5}, g)};
                   },
                   [](const Inputs& x) { return mse_loss(x[0], x[1], Reduction::None); }});
  cases.push_back({Op::mse_loss, "[2, 3, 2] · [2, 3, 2], sum",
                   [](Generator& g) {
                     return Inputs{normal({2, 3, 2}, g), normal({2, 3, 2}, g)};
                   },
                   [](const Inputs& x) { return mse_loss(x[0], x[1], Reduction::Sum); }});

  auto l1_inputs = [](Shape shape) {
    return [shape](Generator& g) {
      Tensor input = normal(shape, g);
      return Inputs{input, input + signed_magnitude(shape, 0.2, 1, g)};
    };
  };
  cases.push_back({Op::l1_loss, "[3, 4] · [3, 4], mean, |x - t| >= 0.2", l1_inputs({3, 4}),
                   [](const Inputs& x) { return l1_loss(x[0], x[1]); }});
  cases.push_back({Op::l1_loss, "[1, 5] · [1, 5], none, |x - t| >= 0.2", l1_inputs({1, 5}),
                   [](const Inputs& x) { return l1_loss(x[0], x[1], Reduction::None); }});
  cases.push_back({Op::l1_loss, "[2, 3] · [2, 3], sum, |x - t| >= 0.2", l1_inputs({2, 3}),
                   [](const Inputs& x) { return l1_loss(x[0], x[1], Reduction::Sum); }});

  cases.push_back({Op::binary_cross_entropy, "[3, 2] · [3, 2], mean, p in [0.1, 0.9]",
                   [](Generator& g) {
                     return Inputs{uniform({3, 2}, 0.1, 0.9, g), uniform({3, 2}, 0, 1, g)};
                   },
                   [](const Inputs& x) { return binary_cross_entropy(x[0], x[1]); }});
  cases.push_back(
      {Op::binary_cross_entropy, "[1, 4] · [1, 4], none, p in [0.1, 0.9]",
       [](Generator& g) {
         return Inputs{uniform({1, 4}, 0.1, 0.9, g), uniform({1, 4}, 0, 1, g)};
       },
       [](const Inputs& x) { return binary_cross_entropy(x[0], x[1], Reduction::None); }});
  cases.push_back({Op::binary_cross_entropy_with_logits, "[3, 4] · [3, 4], sum, z ~ 2·N(0, 1)",
                   [](Generator& g) {
                     return Inputs{normal({3, 4}, g) * 2.0, uniform({3, 4}, 0, 1, g)};
                   },
                   [](const Inputs& x) {
                     return binary_cross_entropy_with_logits(x[0], x[1], Reduction::Sum);
                   }});
  cases.push_back({Op::binary_cross_entropy_with_logits, "[1, 5] · [1, 5], mean",
                   [](Generator& g) {
                     return Inputs{normal({1, 5}, g), uniform({1, 5}, 0, 1, g)};
                   },
                   [](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1]); }});

  cases.push_back({Op::cross_entropy, "logits [3, 5], labels {4, 0, 2}, mean",
                   [](Generator& g) {
                     return Inputs{normal({3, 5}, g)};
                   },
                   [](const Inputs& x) {
                     return cross_entropy(x[0], {4, 0, 2});
                   }});
  cases.push_back({Op::cross_entropy, "logits [1, 4], labels {3}, none",
                   [](Generator& g) {
                     return Inputs{normal({1, 4}, g)};
                   },
                   [](const Inputs& x) { return cross_entropy(x[0], {3}, Reduction::None); }});
  cases.push_back({Op::cross_entropy, "logits [3, 2], labels {1, 1, 0}, sum",
                   [](Generator& g) {
                     return Inputs{normal({3, 2}, g)};
                   },
                   [](const Inputs& x) {
                     return cross_entropy(x[0], {1, 1, 0}, Reduction::Sum);
                   }});

  cases.push_back({Op::multi_margin_loss, "scores [3, 5], labels {1, 4, 0}, margin 1, mean, / C",
                   [](Generator& g) {
                     return Inputs{distinct({3, 5}, 0.3, g)};
                   },
                   [](const Inputs& x) {
                     return multi_margin_loss(x[0], {1, 4, 0});
                   }});
  cases.push_back({Op::multi_margin_loss, "scores [1, 4], labels {2}, margin 0.5, none, CS231n sum",
                   [](Generator& g) {
                     return Inputs{distinct({1, 4}, 0.3, g)};
                   },
                   [](const Inputs& x) {
                     return multi_margin_loss(x[0], {2}, 0.5, Reduction::None,
                                              /*per_class_divide=*/false);
                   }});
  cases.push_back({Op::multi_margin_loss, "scores [3, 3], labels {0, 2, 2}, margin 1, sum",
                   [](Generator& g) {
                     return Inputs{distinct({3, 3}, 0.3, g)};
                   },
                   [](const Inputs& x) {
                     return multi_margin_loss(x[0], {0, 2, 2}, 1.0, Reduction::Sum);
                   }});
}

}  // namespace nabla
