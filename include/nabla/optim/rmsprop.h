// RMSprop (Hinton's lecture 6e). With g = grad + weight_decay·p:
//   v = alpha·v + (1 - alpha)·g²
//   centered: m = alpha·m + (1 - alpha)·g, avg = √(v - m²) + eps;  else avg = √v + eps
//   momentum > 0: b = momentum·b + g / avg, p -= lr·b;  else p -= lr·g / avg
#pragma once

#include "nabla/optim/optimizer.h"

namespace nabla::optim {

struct RMSpropOptions {
  RMSpropOptions(double lr = 1e-2) : lr_(lr) {}
  NABLA_ARG(double, lr);
  NABLA_ARG(double, alpha) = 0.99;      // decay of the squared-gradient average
  NABLA_ARG(double, eps) = 1e-8;        // added to the denominator
  NABLA_ARG(double, weight_decay) = 0;  // L2 penalty added to the gradient
  NABLA_ARG(double, momentum) = 0;
  NABLA_ARG(bool, centered) = false;  // normalise by the variance estimate, not the raw mean
};
// Throws, naming the optimizer and the value, when the options are invalid.
void validate(const RMSpropOptions& options);

class RMSprop : public WithOptions<Optimizer, RMSpropOptions> {
 public:
  RMSprop(std::vector<Tensor> params, const RMSpropOptions& options = {});
  void step() override;
  std::vector<std::pair<std::string, double>> hyperparameters() const override;
  void set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) override;

 protected:
  StateRefs state_refs() override;

 private:
  std::vector<Tensor> square_avgs_, grad_avgs_, momentum_buffers_;
};

}  // namespace nabla::optim
