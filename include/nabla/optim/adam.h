// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019). With t the parameter's step:
//   Adam:  g = grad + weight_decay·p         AdamW:  p *= 1 - lr·weight_decay, g = grad
//   m = β1·m + (1 - β1)·g,   v = β2·v + (1 - β2)·g²,   amsgrad: v̂ = max(v̂, v) else v̂ = v
//   p -= lr / (1 - β1ᵗ) · m / (√v̂ / √(1 - β2ᵗ) + eps)
#pragma once

#include <cstdint>
#include <utility>

#include "nabla/optim/optimizer.h"

namespace nabla::optim {

// (beta1, beta2): decay rates of the first and second moment averages.
using Betas = std::pair<double, double>;

struct AdamOptions {
  AdamOptions(double lr = 1e-3) : lr_(lr) {}
  NABLA_ARG(double, lr);
  NABLA_ARG(Betas, betas) = {0.9, 0.999};  // decay of m and of v
  NABLA_ARG(double, eps) = 1e-8;           // added to the denominator
  NABLA_ARG(double, weight_decay) = 0;     // L2 penalty added to the gradient
  NABLA_ARG(bool, amsgrad) = false;        // normalise by the largest v seen so far
};

struct AdamWOptions {
  AdamWOptions(double lr = 1e-3) : lr_(lr) {}
  NABLA_ARG(double, lr);
  NABLA_ARG(Betas, betas) = {0.9, 0.999};
  NABLA_ARG(double, eps) = 1e-8;
  NABLA_ARG(double, weight_decay) = 1e-2;  // decoupled: shrinks p directly, not via the gradient
  NABLA_ARG(bool, amsgrad) = false;
};

// Throw, naming the optimizer and the value, when the options are invalid.
void validate(const AdamOptions& options);
void validate(const AdamWOptions& options);

// The state and loop Adam and AdamW share.
class AdamBase : public Optimizer {
 protected:
  AdamBase(std::vector<Tensor> params, const char* name);
  // decoupled_decay: AdamW's p *= 1 - lr·wd; l2_decay: Adam's g += wd·p.
  void adam_step(double lr, Betas betas, double eps, double l2_decay, double decoupled_decay,
                 bool amsgrad);
  StateRefs state_refs() override;

 private:
  std::vector<Tensor> exp_avgs_, exp_avg_sqs_, max_exp_avg_sqs_;
  std::vector<int64_t> steps_;
};

class Adam : public WithOptions<AdamBase, AdamOptions> {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& options = {});
  void step() override;
  std::vector<std::pair<std::string, double>> hyperparameters() const override;
  void set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) override;
};

class AdamW : public WithOptions<AdamBase, AdamWOptions> {
 public:
  AdamW(std::vector<Tensor> params, const AdamWOptions& options = {});
  void step() override;
  std::vector<std::pair<std::string, double>> hyperparameters() const override;
  void set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) override;
};

}  // namespace nabla::optim
