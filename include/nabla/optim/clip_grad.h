// Gradient clipping by norm, as torch.nn.utils.clip_grad_norm_: the gradients of `params` are
// treated as one vector g; when ‖g‖ > max_norm every gradient is scaled in place by
// max_norm / (‖g‖ + 1e-6), so the whole vector keeps its direction and gets norm max_norm.
//
//   loss.backward();
//   const double norm = optim::clip_grad_norm(model.parameters(), /*max_norm=*/1.0);
//   opt.step();
//
// Returns ‖g‖ before clipping (PyTorch's total_norm), accumulated in double in parameter order,
// so the result does not depend on the thread count. Parameters without a gradient are skipped.
// A non-finite norm (a NaN or Inf gradient) is returned and nothing is scaled: multiplying by
// max_norm / Inf would turn the gradients into zeros and NaNs and hide where the problem was.
#pragma once

#include <vector>

#include "nabla/tensor.h"

namespace nabla::optim {

// norm_type: 2 (Euclidean) or INFINITY (the largest |g_i|).
// requires: max_norm > 0 (else throws naming the value).
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

// The norm of the gradients of `params`, as clip_grad_norm computes it, changing nothing.
double grad_norm(const std::vector<Tensor>& params, double norm_type = 2.0);

}  // namespace nabla::optim
