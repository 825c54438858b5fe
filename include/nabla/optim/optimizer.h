// Optimizer: updates parameters in place from their .grad, as torch.optim.
//
//   optim::Adam opt(model.parameters(), optim::AdamOptions(1e-2));
//   for (...) { opt.zero_grad(); loss(model).backward(); opt.step(); }
//
// Each optimizer follows PyTorch 1.13's update rule exactly (tests/fixtures holds trajectories
// recorded from torch.optim). step() runs one plain loop per parameter over raw data, keeps its
// state buffers between steps and allocates nothing after the first step. A parameter whose
// .grad is undefined (no backward reached it) is skipped and its state left untouched.
//
// State for checkpoints: state() / load_state() name each buffer as PyTorch's
// optimizer.state_dict()["state"] does, flattened ("state.0.exp_avg"), and hyperparameters()
// lists param_groups' values ("lr", "betas.0"); io/checkpoint.h stores both.
//
// Per-layer learning rates (transfer learning): set_lr_multipliers() gives each parameter a factor
// on the learning rate, which is what PyTorch's parameter groups are mostly used for.
//
// Not here: parameter groups as such, closures.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nabla/arg.h"
#include "nabla/tensor.h"

namespace nabla::optim {

class Optimizer {
 public:
  // requires: `params` is non-empty; each is a defined, contiguous leaf tensor.
  Optimizer(std::vector<Tensor> params, const char* name);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Drops every parameter's .grad, so the next backward starts from nothing.
  void zero_grad();
  // One update of every parameter that has a gradient, under NoGradGuard.
  virtual void step() = 0;

  // The learning rate, for schedules.
  virtual double lr() const = 0;
  virtual void set_lr(double lr) = 0;

  const std::vector<Tensor>& params() const { return params_; }

  // ---- per-parameter learning rates ----
  // Parameter i is updated with lr()·lr_multiplier(i), everywhere the rule uses the learning rate
  // (AdamW's decoupled decay included), as if it were alone in a PyTorch parameter group whose lr
  // is base·multiplier; schedules set the base and the factors stay. All 1 unless set, and a
  // factor of 1 gives bit-identical updates to the plain rule. The factors are not part of
  // state(): whoever rebuilds the optimizer from a checkpoint sets them again (nabla train does,
  // from its --lr-mult option).
  // requires: one finite factor >= 0 per parameter (else throws naming the index and value).
  void set_lr_multipliers(std::vector<double> multipliers);
  double lr_multiplier(size_t i) const { return lr_multipliers_[i]; }
  const std::vector<double>& lr_multipliers() const { return lr_multipliers_; }

  // ---- state, for checkpoints ----
  // The name given to the constructor ("Adam").
  const std::string& name() const { return name_; }
  // Per-parameter state as "state.<i>.<buffer>", i the parameter's index and <buffer> PyTorch's
  // name (momentum_buffer, sum, square_avg, grad_avg, exp_avg, exp_avg_sq, max_exp_avg_sq); the
  // step count is a 0-d float64 "state.<i>.step". Only parameters that have state appear. The
  // tensors alias the live buffers: clone them to keep a snapshot.
  std::vector<std::pair<std::string, Tensor>> state() const;
  // Replaces all state with copies of `state` (as state() of the same kind of optimizer over
  // same-shaped parameters returned), converting dtypes to the parameters'. A buffer or step not
  // given is reset, as for a parameter never stepped.
  // Throws, changing nothing, on an unknown name, an index past the parameters, a shape that is
  // not its parameter's, a step that is not a non-negative integer, or a missing buffer this
  // optimizer always keeps (Adagrad's sum).
  void load_state(const std::vector<std::pair<std::string, Tensor>>& state);
  // Hyperparameters under PyTorch's param_groups names, tuples flattened ("betas.0") and flags as
  // 0/1: everything load_state() needs beside the buffers to continue the same run.
  virtual std::vector<std::pair<std::string, double>> hyperparameters() const;
  // Sets those given (others keep their value). Throws, changing nothing, on a name this
  // optimizer does not have or a value its options reject.
  virtual void set_hyperparameters(const std::vector<std::pair<std::string, double>>& values);

 protected:
  // What state() and load_state() read and write: each per-parameter buffer list under its
  // PyTorch name, and the step counters (null when the optimizer keeps none). A buffer marked
  // `always` is defined from construction on, so a loaded state must hold it.
  struct StateBuffer {
    const char* name;
    std::vector<Tensor>* tensors;
    bool always = false;
  };
  struct StateRefs {
    std::vector<StateBuffer> buffers;
    std::vector<int64_t>* steps = nullptr;
  };
  virtual StateRefs state_refs() { return {}; }

  // The gradient of params_[i], contiguous, or an undefined tensor when it has none.
  Tensor grad_of(size_t i) const;
  // A zero-filled (or `value`-filled) state buffer shaped like params_[i].
  Tensor state_like(size_t i, double value = 0) const;

  std::vector<Tensor> params_;

 private:
  std::string name_;
  std::vector<double> lr_multipliers_;
};

// What every optimizer with an options struct O shares: options() reads them; set_options() and
// set_lr() change them, each first checked by validate(const O&) (declared beside O, throwing the
// constructor's messages), so no change can give an optimizer options its constructor refuses.
template <class Base, class O>
class WithOptions : public Base {
 public:
  const O& options() const { return options_; }
  // Throws, changing nothing, when `options` are invalid.
  void set_options(const O& options) {
    validate(options);
    options_ = options;
  }
  double lr() const override { return options_.lr(); }
  void set_lr(double lr) override { set_options(O(options_).lr(lr)); }

 protected:
  WithOptions(std::vector<Tensor> params, const char* name, const O& options)
      : Base(std::move(params), name), options_(options) {
    validate(options);
  }

 private:
  O options_;
};

}  // namespace nabla::optim
