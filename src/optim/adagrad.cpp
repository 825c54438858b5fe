// Adagrad: torch.optim.Adagrad's rule (1.13), one fused loop per parameter.
#include "nabla/optim/adagrad.h"

#include <cmath>

#include "nabla/autograd.h"

namespace nabla::optim {

Adagrad::Adagrad(std::vector<Tensor> params, const AdagradOptions& options)
    : Optimizer(std::move(params), "Adagrad"),
      options(options),
      sums_(params_.size()),
      steps_(params_.size(), 0) {
  NABLA_CHECK(options.lr() >= 0, "Adagrad: invalid learning rate: ", options.lr());
  NABLA_CHECK(options.lr_decay() >= 0, "Adagrad: invalid lr_decay value: ", options.lr_decay());
  NABLA_CHECK(options.weight_decay() >= 0,
              "Adagrad: invalid weight_decay value: ", options.weight_decay());
  NABLA_CHECK(
      options.initial_accumulator_value() >= 0,
      "Adagrad: invalid initial_accumulator_value value: ", options.initial_accumulator_value());
  NABLA_CHECK(options.eps() >= 0, "Adagrad: invalid epsilon value: ", options.eps());
  for (size_t i = 0; i < params_.size(); ++i)
    sums_[i] = state_like(i, options.initial_accumulator_value());
}

void Adagrad::step() {
  NoGradGuard no_grad;
  const double wd = options.weight_decay(), eps = options.eps();
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor grad = grad_of(i);
    if (!grad.defined()) continue;
    const int64_t t = ++steps_[i];
    const double clr = options.lr() / (1 + static_cast<double>(t - 1) * options.lr_decay());
    dispatch(params_[i].dtype(), [&]<class T>() {
      T* p = params_[i].data<T>();
      T* sum = sums_[i].data<T>();
      const T* g = grad.data<T>();
      const int64_t n = params_[i].numel();
      for (int64_t k = 0; k < n; ++k) {
        T gk = g[k] + T(wd) * p[k];
        sum[k] += gk * gk;
        p[k] -= T(clr) * gk / (std::sqrt(sum[k]) + T(eps));
      }
    });
  }
}

}  // namespace nabla::optim
