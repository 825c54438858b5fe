// SGD: torch.optim.SGD's rule (1.13), one fused vector loop (cpu::vec::sgd) over each thread's
// part of the parameters.
#include "nabla/optim/sgd.h"

#include "kernels/cpu/vecmath.h"
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
    return std::array<Tensor*, 3>{momentum != 0 ? &momentum_buffers_[i] : nullptr};
  };
  auto grad = [&](size_t i) { return grad_of(i); };
  detail::for_each_part(params_, grad, prepare,
                        [&](size_t i, const detail::Part& part, int64_t begin, int64_t end) {
                          dispatch(part.dtype, [&]<class T>() {
                            // The rule runs in the vector kernels' copy for the CPU's widest
                            // vectors (kernels/cpu/vecmath.h); an element's result does not depend
                            // on the cut.
                            const cpu::vec::SgdStep<T> rule{.lr = T(lr * lr_multiplier(i)),
                                                            .momentum = T(momentum),
                                                            .damp = T(damp),
                                                            .weight_decay = T(wd),
                                                            .with_momentum = momentum != 0,
                                                            .first = first_step[i] != 0,
                                                            .nesterov = nesterov,
                                                            .decay = wd != 0};
                            cpu::vec::sgd(part.values<T>(begin), part.gradient<T>(begin),
                                          part.buffer<T>(0, begin), end - begin, rule);
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
