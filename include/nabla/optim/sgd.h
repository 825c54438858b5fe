// SGD with optional momentum (heavy ball or Nesterov), dampening and L2 weight decay.
// With g = grad + weight_decay·p:
//   b = g (first step), b = momentum·b + (1 - dampening)·g (after)
//   d = nesterov ? g + momentum·b : b   (d = g without momentum)
//   p -= lr·d
#pragma once

#include "nabla/optim/optimizer.h"

namespace nabla::optim {

struct SGDOptions {
  SGDOptions(double lr) : lr_(lr) {}
  NABLA_ARG(double, lr);                // learning rate
  NABLA_ARG(double, momentum) = 0;      // 0: plain SGD
  NABLA_ARG(double, dampening) = 0;     // scales the new gradient into the momentum buffer
  NABLA_ARG(double, weight_decay) = 0;  // L2 penalty added to the gradient
  NABLA_ARG(bool, nesterov) = false;    // requires momentum > 0 and dampening 0
};
// Throws, naming the optimizer and the value, when the options are invalid.
void validate(const SGDOptions& options);

class SGD : public WithOptions<Optimizer, SGDOptions> {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& options);
  void step() override;
  std::vector<std::pair<std::string, double>> hyperparameters() const override;
  void set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) override;

 protected:
  StateRefs state_refs() override;

 private:
  std::vector<Tensor> momentum_buffers_;  // undefined until a parameter's first step
};

}  // namespace nabla::optim
