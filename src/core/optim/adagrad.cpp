// Adagrad: torch.optim.Adagrad's rule (1.13), one fused loop over each thread's part of the
// parameters.
#include "nabla/optim/adagrad.h"

#include <cmath>

#include "nabla/autograd.h"
#include "optim/step_parts.h"

namespace nabla::optim {

void validate(const AdagradOptions& options) {
  NABLA_CHECK(options.lr() >= 0, "Adagrad: invalid learning rate: ", options.lr());
  NABLA_CHECK(options.lr_decay() >= 0, "Adagrad: invalid lr_decay value: ", options.lr_decay());
  NABLA_CHECK(options.weight_decay() >= 0,
              "Adagrad: invalid weight_decay value: ", options.weight_decay());
  NABLA_CHECK(
      options.initial_accumulator_value() >= 0,
      "Adagrad: invalid initial_accumulator_value value: ", options.initial_accumulator_value());
  NABLA_CHECK(options.eps() >= 0, "Adagrad: invalid epsilon value: ", options.eps());
}

Adagrad::Adagrad(std::vector<Tensor> params, const AdagradOptions& options)
    : WithOptions(std::move(params), "Adagrad", options),
      sums_(params_.size()),
      steps_(params_.size(), 0) {
  for (size_t i = 0; i < params_.size(); ++i)
    sums_[i] = state_like(i, options.initial_accumulator_value());
}

void Adagrad::step() {
  NoGradGuard no_grad;
  const double wd = options().weight_decay(), eps = options().eps();
  // Each parameter's learning rate for this step, kept per thread like the step's other lists
  // (step_parts.h), so that a step allocates nothing.
  thread_local std::vector<double> this_threads_lrs;
  std::vector<double>& lrs = this_threads_lrs;
  lrs.resize(params_.size());
  auto prepare = [&](size_t i) {
    const int64_t t = ++steps_[i];
    lrs[i] =
        options().lr() * lr_multiplier(i) / (1 + static_cast<double>(t - 1) * options().lr_decay());
    return std::array<Tensor*, 3>{&sums_[i]};
  };
  auto grad = [&](size_t i) { return grad_of(i); };
  detail::for_each_part(params_, grad, prepare,
                        [&](size_t i, const detail::Part& part, int64_t begin, int64_t end) {
                          dispatch(part.dtype, [&]<class T>() {
                            T* p = part.values<T>(begin);
                            T* sum = part.buffer<T>(0, begin);
                            const T* g = part.gradient<T>(begin);
                            const T clr = T(lrs[i]);
                            for (int64_t k = 0; k < end - begin; ++k) {
                              T gk = g[k] + T(wd) * p[k];
                              sum[k] += gk * gk;
                              p[k] -= clr * gk / (std::sqrt(sum[k]) + T(eps));
                            }
                          });
                        });
}

// ---------------------------------------------------------------- state for checkpoints

Optimizer::StateRefs Adagrad::state_refs() {
  return {{{"sum", &sums_, true}}, &steps_};
}

std::vector<std::pair<std::string, double>> Adagrad::hyperparameters() const {
  return {{"lr", options().lr()},
          {"lr_decay", options().lr_decay()},
          {"weight_decay", options().weight_decay()},
          {"initial_accumulator_value", options().initial_accumulator_value()},
          {"eps", options().eps()}};
}

void Adagrad::set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) {
  AdagradOptions o = options();
  for (const auto& [key, value] : values) {
    if (key == "lr")
      o.lr(value);
    else if (key == "lr_decay")
      o.lr_decay(value);
    else if (key == "weight_decay")
      o.weight_decay(value);
    else if (key == "initial_accumulator_value")
      o.initial_accumulator_value(value);
    else if (key == "eps")
      o.eps(value);
    else
      NABLA_CHECK(false, "Adagrad: unknown hyperparameter '", key, "'");
  }
  set_options(o);
}

}  // namespace nabla::optim
