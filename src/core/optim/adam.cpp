// Adam and AdamW: torch.optim.Adam / AdamW's rules (1.13), one fused loop over each thread's part
// of the parameters.
#include "nabla/optim/adam.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/vecmath.h"
#include "nabla/autograd.h"
#include "optim/step_parts.h"

namespace nabla::optim {

namespace {
template <class Options>
void check_adam_options(const char* name, const Options& o) {
  NABLA_CHECK(o.lr() >= 0, name, ": invalid learning rate: ", o.lr());
  NABLA_CHECK(o.eps() >= 0, name, ": invalid epsilon value: ", o.eps());
  NABLA_CHECK(o.betas().first >= 0 && o.betas().first < 1, name,
              ": invalid beta parameter at index 0: ", o.betas().first);
  NABLA_CHECK(o.betas().second >= 0 && o.betas().second < 1, name,
              ": invalid beta parameter at index 1: ", o.betas().second);
  NABLA_CHECK(o.weight_decay() >= 0, name, ": invalid weight_decay value: ", o.weight_decay());
}

// The per-step constants of one parameter's update.
struct AdamScalars {
  double beta1, beta2, step_size, bias_correction2_sqrt, eps, l2_decay, shrink;
};

// One parameter's update with amsgrad: vec::adam's rule with the running maximum of v under the
// root, torch.optim.Adam's loop. Decoupled is a template argument, the constants a copy and the
// pointers restrict, so that the loop has no branch and vectorises: element-wise IEEE
// arithmetic, the same bits at any vector width.
template <class T, bool Decoupled>
void adam_amsgrad_update(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                         T* __restrict vmax, int64_t n, const cpu::vec::AdamStep<T> s) {
  for (int64_t k = 0; k < n; ++k) {
    if constexpr (Decoupled) p[k] *= s.shrink;
    const T gk = g[k] + s.l2 * p[k];
    m[k] = s.beta1 * m[k] + s.one_minus_beta1 * gk;
    v[k] = s.beta2 * v[k] + s.one_minus_beta2 * gk * gk;
    vmax[k] = std::max(vmax[k], v[k]);
    p[k] -= s.step_size * m[k] / (std::sqrt(vmax[k]) / s.bias_correction2_sqrt + s.eps);
  }
}

// One parameter's update in T. Without amsgrad (the usual case) it runs in the vector kernels'
// copy for the CPU's widest vectors (kernels/cpu/vecmath.h); with it, in the loop above.
template <class T>
void adam_update(bool decoupled, bool amsgrad, T* p, const T* g, T* m, T* v, T* vmax, int64_t n,
                 const AdamScalars& s) {
  const cpu::vec::AdamStep<T> step{T(s.beta1),     T(1 - s.beta1), T(s.beta2),
                                   T(1 - s.beta2), T(s.step_size), T(s.bias_correction2_sqrt),
                                   T(s.eps),       T(s.l2_decay),  T(s.shrink),
                                   decoupled};
  if (!amsgrad) return cpu::vec::adam(p, g, m, v, n, step);
  decoupled ? adam_amsgrad_update<T, true>(p, g, m, v, vmax, n, step)
            : adam_amsgrad_update<T, false>(p, g, m, v, vmax, n, step);
}
}  // namespace

AdamBase::AdamBase(std::vector<Tensor> params, const char* name)
    : Optimizer(std::move(params), name),
      exp_avgs_(params_.size()),
      exp_avg_sqs_(params_.size()),
      max_exp_avg_sqs_(params_.size()),
      steps_(params_.size(), 0) {}

void AdamBase::adam_step(double lr, Betas betas, double eps, double l2_decay,
                         double decoupled_decay, bool amsgrad) {
  NoGradGuard no_grad;
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one in the lambda below.
  const double beta1 = betas.first, beta2 = betas.second;
  // Each parameter's constants for this step, kept per thread like the step's other lists
  // (step_parts.h), so that a step allocates nothing.
  thread_local std::vector<AdamScalars> this_threads_scalars;
  std::vector<AdamScalars>& scalars = this_threads_scalars;
  scalars.resize(params_.size());
  // The bias corrections depend on the step count alone, which the parameters usually share:
  // two std::pow per step rather than two per parameter.
  double corrections_t = -1, bias_correction1 = 0, bias_correction2_sqrt = 0;
  auto prepare = [&](size_t i) {
    if (!exp_avgs_[i].defined()) {
      exp_avgs_[i] = state_like(i);
      exp_avg_sqs_[i] = state_like(i);
    }
    // Apart, since amsgrad may have been switched on after a checkpoint without it was loaded.
    if (amsgrad && !max_exp_avg_sqs_[i].defined()) max_exp_avg_sqs_[i] = state_like(i);
    const double t = static_cast<double>(++steps_[i]);
    if (t != corrections_t) {
      corrections_t = t;
      bias_correction1 = 1 - std::pow(beta1, t);
      bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, t));
    }
    const double lr_i = lr * lr_multiplier(i);
    scalars[i] = AdamScalars{beta1, beta2,    lr_i / bias_correction1,   bias_correction2_sqrt,
                             eps,   l2_decay, 1 - lr_i * decoupled_decay};
    return std::array<Tensor*, 3>{&exp_avgs_[i], &exp_avg_sqs_[i],
                                  amsgrad ? &max_exp_avg_sqs_[i] : nullptr};
  };
  auto grad = [&](size_t i) { return grad_of(i); };
  detail::for_each_part(params_, grad, prepare,
                        [&](size_t i, const detail::Part& part, int64_t begin, int64_t end) {
                          dispatch(part.dtype, [&]<class T>() {
                            adam_update<T>(decoupled_decay != 0, amsgrad, part.values<T>(begin),
                                           part.gradient<T>(begin), part.buffer<T>(0, begin),
                                           part.buffer<T>(1, begin), part.buffer<T>(2, begin),
                                           end - begin, scalars[i]);
                          });
                        });
}

void validate(const AdamOptions& options) {
  check_adam_options("Adam", options);
}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options)
    : WithOptions(std::move(params), "Adam", options) {}

void Adam::step() {
  adam_step(options().lr(), options().betas(), options().eps(), options().weight_decay(), 0,
            options().amsgrad());
}

void validate(const AdamWOptions& options) {
  check_adam_options("AdamW", options);
}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& options)
    : WithOptions(std::move(params), "AdamW", options) {}

void AdamW::step() {
  adam_step(options().lr(), options().betas(), options().eps(), 0, options().weight_decay(),
            options().amsgrad());
}

// ---------------------------------------------------------------- state for checkpoints

Optimizer::StateRefs AdamBase::state_refs() {
  return {{{"exp_avg", &exp_avgs_},
           {"exp_avg_sq", &exp_avg_sqs_},
           {"max_exp_avg_sq", &max_exp_avg_sqs_}},
          &steps_};
}

namespace {
template <class Options>
std::vector<std::pair<std::string, double>> adam_hyperparameters(const Options& o) {
  return {
      {"lr", o.lr()},   {"betas.0", o.betas().first},       {"betas.1", o.betas().second},
      {"eps", o.eps()}, {"weight_decay", o.weight_decay()}, {"amsgrad", o.amsgrad() ? 1.0 : 0.0}};
}

template <class Options>
Options with_adam_hyperparameters(const char* name, Options o,
                                  const std::vector<std::pair<std::string, double>>& values) {
  for (const auto& [key, value] : values) {
    if (key == "lr")
      o.lr(value);
    else if (key == "betas.0")
      o.betas({value, o.betas().second});
    else if (key == "betas.1")
      o.betas({o.betas().first, value});
    else if (key == "eps")
      o.eps(value);
    else if (key == "weight_decay")
      o.weight_decay(value);
    else if (key == "amsgrad")
      o.amsgrad(value != 0);
    else
      NABLA_CHECK(false, name, ": unknown hyperparameter '", key, "'");
  }
  check_adam_options(name, o);
  return o;
}
}  // namespace

std::vector<std::pair<std::string, double>> Adam::hyperparameters() const {
  return adam_hyperparameters(options());
}

void Adam::set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) {
  set_options(with_adam_hyperparameters("Adam", options(), values));
}

std::vector<std::pair<std::string, double>> AdamW::hyperparameters() const {
  return adam_hyperparameters(options());
}

void AdamW::set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) {
  set_options(with_adam_hyperparameters("AdamW", options(), values));
}

}  // namespace nabla::optim
