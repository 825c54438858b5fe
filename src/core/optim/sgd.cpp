// SGD: torch.optim.SGD's rule (1.13), one fused loop over each thread's part of the parameters.
#include "nabla/optim/sgd.h"

#include "nabla/autograd.h"
#include "optim/step_parts.h"

namespace nabla::optim {

void validate(const SGDOptions& options) {
  NABLA_CHECK(options.lr() >= 0, "SGD: invalid learning rate: ", options.lr());
  NABLA_CHECK(options.momentum() >= 0, "SGD: invalid momentum value: ", options.momentum());
  NABLA_CHECK(options.weight_decay() >= 0,
              "SGD: invalid weight_decay value: ", options.weight_decay());
  NABLA_CHECK(!options.nesterov() || (options.momentum() > 0 && options.dampening() == 0),
              "SGD: Nesterov momentum requires a momentum and zero dampening (momentum=",
              options.momentum(), ", dampening=", options.dampening(), ")");
}

SGD::SGD(std::vector<Tensor> params, const SGDOptions& options)
    : WithOptions(std::move(params), "SGD", options), momentum_buffers_(params_.size()) {}

namespace {
// One pass over p, g (and the momentum buffer): the rule specialised at compile time, so each
// inner loop is a straight vectorisable expression. Element-wise, so any cut into ranges gives
// the same bits.
template <class T, bool kMomentum, bool kFirst, bool kNesterov, bool kDecay>
void sgd_update(T* p, const T* g, T* buf, int64_t n, T lr, T momentum, T damp, T wd) {
  for (int64_t k = 0; k < n; ++k) {
    T d = g[k];
    if constexpr (kDecay) d += wd * p[k];
    if constexpr (kMomentum) {
      const T b = kFirst ? d : momentum * buf[k] + damp * d;
      buf[k] = b;
      d = kNesterov ? d + momentum * b : b;
    }
    p[k] -= lr * d;
  }
}

}  // namespace

void SGD::step() {
  NoGradGuard no_grad;
  const double lr = options().lr(), momentum = options().momentum(), wd = options().weight_decay();
  const double damp = 1 - options().dampening();
  const bool nesterov = options().nesterov();
  // Whether parameter i's momentum buffer starts at this step, kept per thread like the step's
  // other lists (step_parts.h), so that a step allocates nothing.
  thread_local std::vector<char> this_threads_first;
  std::vector<char>& first_step = this_threads_first;
  first_step.resize(params_.size());
  auto prepare = [&](size_t i) {
    // The first step seeds the buffer with the gradient itself, not (1 - dampening)·g.
    first_step[i] = momentum != 0 && !momentum_buffers_[i].defined();
    if (first_step[i]) momentum_buffers_[i] = state_like(i);
  };
  auto grad = [&](size_t i) { return grad_of(i); };
  detail::for_each_part(
      params_.size(), grad, prepare,
      [&](size_t i, const Tensor& gradient, int64_t begin, int64_t end) {
        const bool first = first_step[i];
        dispatch(params_[i].dtype(), [&]<class T>() {
          T* p = params_[i].data<T>() + begin;
          const T* g = gradient.data<T>() + begin;
          const int64_t n = end - begin;
          const T a = T(lr * lr_multiplier(i)), m = T(momentum), dp = T(damp), w = T(wd);
          if (momentum == 0) {
            if (wd == 0)
              return sgd_update<T, false, false, false, false>(p, g, nullptr, n, a, m, dp, w);
            return sgd_update<T, false, false, false, true>(p, g, nullptr, n, a, m, dp, w);
          }
          T* buf = momentum_buffers_[i].data<T>() + begin;
          if (first || nesterov || wd != 0) {  // the general momentum rule
            auto general = [&]<bool kFirst, bool kNesterov>() {
              sgd_update<T, true, kFirst, kNesterov, true>(p, g, buf, n, a, m, dp, w);
            };
            if (first)
              return nesterov ? general.template operator()<true, true>()
                              : general.template operator()<true, false>();
            return nesterov ? general.template operator()<false, true>()
                            : general.template operator()<false, false>();
          }
          sgd_update<T, true, false, false, false>(p, g, buf, n, a, m, dp, w);  // the common case
        });
      });
}

// ---------------------------------------------------------------- state for checkpoints

Optimizer::StateRefs SGD::state_refs() {
  return {{{"momentum_buffer", &momentum_buffers_}}};
}

std::vector<std::pair<std::string, double>> SGD::hyperparameters() const {
  return {{"lr", options().lr()},
          {"momentum", options().momentum()},
          {"dampening", options().dampening()},
          {"weight_decay", options().weight_decay()},
          {"nesterov", options().nesterov() ? 1.0 : 0.0}};
}

void SGD::set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) {
  SGDOptions o = options();
  for (const auto& [key, value] : values) {
    if (key == "lr")
      o.lr(value);
    else if (key == "momentum")
      o.momentum(value);
    else if (key == "dampening")
      o.dampening(value);
    else if (key == "weight_decay")
      o.weight_decay(value);
    else if (key == "nesterov")
      o.nesterov(value != 0);
    else
      NABLA_CHECK(false, "SGD: unknown hyperparameter '", key, "'");
  }
  set_options(o);
}

}  // namespace nabla::optim
