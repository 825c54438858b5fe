// RMSprop: torch.optim.RMSprop's rule (1.13), one fused loop over each thread's part of the
// parameters.
#include "nabla/optim/rmsprop.h"

#include <cmath>

#include "nabla/autograd.h"
#include "optim/step_parts.h"

namespace nabla::optim {

void validate(const RMSpropOptions& options) {
  NABLA_CHECK(options.lr() >= 0, "RMSprop: invalid learning rate: ", options.lr());
  NABLA_CHECK(options.eps() >= 0, "RMSprop: invalid epsilon value: ", options.eps());
  NABLA_CHECK(options.momentum() >= 0, "RMSprop: invalid momentum value: ", options.momentum());
  NABLA_CHECK(options.weight_decay() >= 0,
              "RMSprop: invalid weight_decay value: ", options.weight_decay());
  NABLA_CHECK(options.alpha() >= 0, "RMSprop: invalid alpha value: ", options.alpha());
}

RMSprop::RMSprop(std::vector<Tensor> params, const RMSpropOptions& options)
    : WithOptions(std::move(params), "RMSprop", options),
      square_avgs_(params_.size()),
      grad_avgs_(params_.size()),
      momentum_buffers_(params_.size()) {}

void RMSprop::step() {
  NoGradGuard no_grad;
  const double lr = options().lr(), alpha = options().alpha(), eps = options().eps();
  const double wd = options().weight_decay(), momentum = options().momentum();
  const bool centered = options().centered();
  auto prepare = [&](size_t i) {
    // Each buffer is made on first use, also when options changed after a checkpoint's load.
    if (!square_avgs_[i].defined()) square_avgs_[i] = state_like(i);
    if (centered && !grad_avgs_[i].defined()) grad_avgs_[i] = state_like(i);
    if (momentum > 0 && !momentum_buffers_[i].defined()) momentum_buffers_[i] = state_like(i);
    return std::array<Tensor*, 3>{&square_avgs_[i], centered ? &grad_avgs_[i] : nullptr,
                                  momentum > 0 ? &momentum_buffers_[i] : nullptr};
  };
  auto grad = [&](size_t i) { return grad_of(i); };
  detail::for_each_part(params_, grad, prepare,
                        [&](size_t i, const detail::Part& part, int64_t begin, int64_t end) {
                          const double lr_i = lr * lr_multiplier(i);
                          dispatch(part.dtype, [&]<class T>() {
                            T* p = part.values<T>(begin);
                            const T* g = part.gradient<T>(begin);
                            T* sq = part.buffer<T>(0, begin);
                            T* ga = part.buffer<T>(1, begin);
                            T* buf = part.buffer<T>(2, begin);
                            for (int64_t k = 0; k < end - begin; ++k) {
                              T gk = g[k] + T(wd) * p[k];
                              sq[k] = T(alpha) * sq[k] + T(1 - alpha) * gk * gk;
                              T avg;
                              if (ga) {
                                ga[k] = T(alpha) * ga[k] + T(1 - alpha) * gk;
                                avg = std::sqrt(sq[k] - ga[k] * ga[k]) + T(eps);
                              } else {
                                avg = std::sqrt(sq[k]) + T(eps);
                              }
                              if (buf) {
                                buf[k] = T(momentum) * buf[k] + gk / avg;
                                p[k] -= T(lr_i) * buf[k];
                              } else {
                                p[k] -= T(lr_i) * gk / avg;
                              }
                            }
                          });
                        });
}

// ---------------------------------------------------------------- state for checkpoints

Optimizer::StateRefs RMSprop::state_refs() {
  return {{{"square_avg", &square_avgs_},
           {"momentum_buffer", &momentum_buffers_},
           {"grad_avg", &grad_avgs_}}};
}

std::vector<std::pair<std::string, double>> RMSprop::hyperparameters() const {
  return {{"lr", options().lr()},
          {"alpha", options().alpha()},
          {"eps", options().eps()},
          {"weight_decay", options().weight_decay()},
          {"momentum", options().momentum()},
          {"centered", options().centered() ? 1.0 : 0.0}};
}

void RMSprop::set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) {
  RMSpropOptions o = options();
  for (const auto& [key, value] : values) {
    if (key == "lr")
      o.lr(value);
    else if (key == "alpha")
      o.alpha(value);
    else if (key == "eps")
      o.eps(value);
    else if (key == "weight_decay")
      o.weight_decay(value);
    else if (key == "momentum")
      o.momentum(value);
    else if (key == "centered")
      o.centered(value != 0);
    else
      NABLA_CHECK(false, "RMSprop: unknown hyperparameter '", key, "'");
  }
  set_options(o);
}

}  // namespace nabla::optim
