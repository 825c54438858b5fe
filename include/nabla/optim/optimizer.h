// Optimizer: updates parameters in place from their .grad, as torch.optim.
//
//   optim::Adam opt(model.parameters(), optim::AdamOptions(1e-2));
//   for (...) { opt.zero_grad(); loss(model).backward(); opt.step(); }
//
// Each optimizer follows PyTorch 1.13's update rule exactly (tests/fixtures holds trajectories
// recorded from torch.optim). step() runs one plain loop per parameter over raw data, keeps its
// state buffers between steps and allocates nothing after the first step. A parameter whose
// .grad is undefined (no backward reached it) is skipped and its state left untouched.
//
// Not here: parameter groups, closures, state saving.
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/nn/options.h"
#include "nabla/tensor.h"

namespace nabla::optim {

class Optimizer {
 public:
  // requires: `params` is non-empty; each is a defined, contiguous leaf tensor.
  Optimizer(std::vector<Tensor> params, const char* name);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Drops every parameter's .grad, so the next backward starts from nothing.
  void zero_grad();
  // One update of every parameter that has a gradient, under NoGradGuard.
  virtual void step() = 0;

  // The learning rate, for schedules.
  virtual double lr() const = 0;
  virtual void set_lr(double lr) = 0;

  const std::vector<Tensor>& params() const { return params_; }

 protected:
  // The gradient of params_[i], contiguous, or an undefined tensor when it has none.
  Tensor grad_of(size_t i) const;
  // A zero-filled (or `value`-filled) state buffer shaped like params_[i].
  Tensor state_like(size_t i, double value = 0) const;

  std::vector<Tensor> params_;
};

}  // namespace nabla::optim
