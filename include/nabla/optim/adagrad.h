// Adagrad (Duchi et al. 2011). With g = grad + weight_decay·p and t the parameter's step count:
//   sum += g²;  p -= lr / (1 + (t - 1)·lr_decay) · g / (√sum + eps)
#pragma once

#include <cstdint>

#include "nabla/optim/optimizer.h"

namespace nabla::optim {

struct AdagradOptions {
  AdagradOptions(double lr = 1e-2) : lr_(lr) {}
  NABLA_ARG(double, lr);
  NABLA_ARG(double, lr_decay) = 0;                   // the rate shrinks as lr / (1 + (t-1)·decay)
  NABLA_ARG(double, weight_decay) = 0;               // L2 penalty added to the gradient
  NABLA_ARG(double, initial_accumulator_value) = 0;  // starting value of the squared-grad sum
  NABLA_ARG(double, eps) = 1e-10;                    // added to the denominator
};
// Throws, naming the optimizer and the value, when the options are invalid.
void validate(const AdagradOptions& options);

class Adagrad : public WithOptions<Optimizer, AdagradOptions> {
 public:
  Adagrad(std::vector<Tensor> params, const AdagradOptions& options = {});
  void step() override;
  std::vector<std::pair<std::string, double>> hyperparameters() const override;
  void set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) override;

 protected:
  StateRefs state_refs() override;

 private:
  std::vector<Tensor> sums_;
  std::vector<int64_t> steps_;
};

}  // namespace nabla::optim
