// Learning-rate schedules, stepped once per epoch, with PyTorch's formulas
// (torch.optim.lr_scheduler closed forms). With η₀ the optimizer's lr when the scheduler is made
// and e the epoch:
//
//   StepLR             η = η₀ · γ^⌊e / step_size⌋
//   ExponentialLR      η = η₀ · γ^e
//   CosineAnnealingLR  η = η_min + (η₀ - η_min) · (1 + cos(π · e / T_max)) / 2
//
// Optional linear warmup, as SequentialLR([LinearLR(start_factor, total_iters=W), schedule],
// milestones=[W]): for e < W, η = η₀ · (s + (1 - s) · e / W); from e = W on the schedule runs with
// its epoch counted from 0 (e - W).
//
//   optim::Adam opt(model.parameters(), optim::AdamOptions(1e-3));
//   optim::CosineAnnealingLR sched(opt, optim::CosineAnnealingLROptions(/*t_max=*/10));
//   for (int64_t epoch = 0; epoch < 10; ++epoch) { train_one_epoch(); sched.step(); }
//
// ReduceLROnPlateau (below) is not a closed form: it reacts to a metric, so it is its own class
// stepped with step(metric), not an LRScheduler.
//
// Each scheduler's options are read with options() and changed with set_options(), which
// validates them as the constructor does (throwing, changing nothing, with a message naming the
// field and value: "StepLROptions::gamma must be > 0, got 0").
//
// Construction sets the optimizer's lr to the epoch-0 value (η₀, or η₀·s with warmup), as PyTorch
// does. Each value is computed from the closed form, never from the previous lr, so a resumed
// schedule (load_state) gives the same bits as one that never stopped.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nabla/arg.h"
#include "nabla/optim/optimizer.h"

namespace nabla::optim {

// A saved state() read back by key, as the load_state functions of the schedulers and of
// train::EarlyStopping check it: every name in `keys` present and no other, and those in
// `counts` non-negative whole numbers. Throws "<who>::load_state: ..." naming the entry.
std::map<std::string, double> read_state(const std::vector<std::pair<std::string, double>>& state,
                                         const char* who, std::initializer_list<const char*> keys,
                                         std::initializer_list<const char*> counts);

// Linear warmup before a schedule; epochs == 0 means none.
struct Warmup {
  int64_t epochs = 0;             // >= 0
  double start_factor = 1.0 / 3;  // PyTorch LinearLR's default; in (0, 1]
};
// Throws "<options>::warmup.epochs must be >= 0, got -1" (and so on) when `warmup` is invalid.
void validate(const Warmup& warmup, const char* options);

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Ends an epoch: the epoch count goes up by one and the optimizer gets that epoch's lr.
  void step();
  // The lr the optimizer has now (PyTorch's get_last_lr()).
  double lr() const { return lr_at(epoch_); }
  // The lr of epoch `epoch` (>= 0), from the closed form; changes nothing.
  double lr_at(int64_t epoch) const;
  // Epochs stepped so far (PyTorch's last_epoch).
  int64_t epoch() const { return epoch_; }
  double base_lr() const { return base_lr_; }
  const std::string& name() const { return name_; }

  // Everything needed to continue: "epoch" and "base_lr" (what PyTorch's state_dict() holds
  // beside the options, which the caller recreates).
  std::vector<std::pair<std::string, double>> state() const;
  // Restores state() of a scheduler of the same kind and sets the optimizer's lr to match.
  // Throws, changing nothing, on a missing or unknown name, a negative or fractional epoch or a
  // negative base_lr.
  void load_state(const std::vector<std::pair<std::string, double>>& state);

 protected:
  // Throws when `warmup` is invalid, naming it as a field of "<name>Options".
  LRScheduler(Optimizer& optimizer, std::string name, Warmup warmup);
  // The schedule's lr at epoch e, counted from the end of the warmup.
  virtual double scheduled_lr(int64_t epoch) const = 0;
  // Sets the optimizer's lr for the current epoch; derived constructors call it once ready.
  void apply();
  // For set_options: the new options' warmup (already validated).
  void set_warmup(const Warmup& warmup) { warmup_ = warmup; }

 private:
  Optimizer* optimizer_;
  std::string name_;
  Warmup warmup_;
  double base_lr_;
  int64_t epoch_ = 0;
};

// A closed-form schedule with options O, read with options() and changed with set_options(),
// which validates them first (validate(const O&), beside each O), as the optimizers'
// WithOptions does.
template <class O>
class ScheduleWithOptions : public LRScheduler {
 public:
  const O& options() const { return options_; }
  // Throws, changing nothing, when `options` are invalid; otherwise the optimizer gets the
  // current epoch's lr under the new options (each lr is the closed form's, never a running
  // product, so the schedule simply continues with them).
  void set_options(const O& options) {
    validate(options);
    options_ = options;
    set_warmup(options.warmup());
    apply();
  }

 protected:
  ScheduleWithOptions(Optimizer& optimizer, std::string name, const O& options)
      : LRScheduler(optimizer, std::move(name), validated(options).warmup()), options_(options) {}

 private:
  static const O& validated(const O& options) {
    validate(options);
    return options;
  }
  O options_;
};

struct StepLROptions {
  explicit StepLROptions(int64_t step_size) : step_size_(step_size) {}
  NABLA_ARG(int64_t, step_size);   // epochs between decays, >= 1
  NABLA_ARG(double, gamma) = 0.1;  // factor per decay, > 0
  NABLA_ARG(Warmup, warmup) = {};
};
// Throws, naming the field and the value, when the options are invalid.
void validate(const StepLROptions& options);

class StepLR : public ScheduleWithOptions<StepLROptions> {
 public:
  StepLR(Optimizer& optimizer, const StepLROptions& options);

 protected:
  double scheduled_lr(int64_t epoch) const override;
};

struct ExponentialLROptions {
  explicit ExponentialLROptions(double gamma) : gamma_(gamma) {}
  NABLA_ARG(double, gamma);  // factor per epoch, > 0
  NABLA_ARG(Warmup, warmup) = {};
};
void validate(const ExponentialLROptions& options);

class ExponentialLR : public ScheduleWithOptions<ExponentialLROptions> {
 public:
  ExponentialLR(Optimizer& optimizer, const ExponentialLROptions& options);

 protected:
  double scheduled_lr(int64_t epoch) const override;
};

struct CosineAnnealingLROptions {
  explicit CosineAnnealingLROptions(int64_t t_max) : t_max_(t_max) {}
  NABLA_ARG(int64_t, t_max);       // epochs from η₀ down to η_min (after the warmup), >= 1
  NABLA_ARG(double, eta_min) = 0;  // the lowest lr, >= 0
  NABLA_ARG(Warmup, warmup) = {};
};
void validate(const CosineAnnealingLROptions& options);

class CosineAnnealingLR : public ScheduleWithOptions<CosineAnnealingLROptions> {
 public:
  CosineAnnealingLR(Optimizer& optimizer, const CosineAnnealingLROptions& options);

 protected:
  double scheduled_lr(int64_t epoch) const override;
};

// ReduceLROnPlateau: PyTorch's, rule for rule. After each epoch step(metric) compares the metric
// with the best so far; once it has not improved for more than `patience` epochs, the lr becomes
// max(lr · factor, min_lr) (unless that changes it by no more than eps) and `cooldown` epochs
// follow in which bad epochs are not counted.
//   improved (mode min, threshold_mode rel):  metric < best · (1 − threshold)
//            (min, abs): metric < best − threshold    (max, rel): metric > best · (1 + threshold)
//            (max, abs): metric > best + threshold
// A NaN metric is never an improvement, as in PyTorch.
//
//   optim::ReduceLROnPlateau plateau(opt, optim::ReduceLROnPlateauOptions().patience(2));
//   for (...) { train_one_epoch(); plateau.step(validation_loss()); }
struct ReduceLROnPlateauOptions {
  NABLA_ARG(std::string, mode) = "min";  // min: lower is better (a loss); max: an accuracy
  NABLA_ARG(double, factor) = 0.1;       // the lr's factor per reduction, in (0, 1)
  NABLA_ARG(int64_t, patience) = 10;     // bad epochs tolerated before a reduction, >= 0
  NABLA_ARG(double, threshold) = 1e-4;   // how much better counts as better, >= 0
  NABLA_ARG(std::string, threshold_mode) = "rel";  // rel (a fraction of best) | abs
  NABLA_ARG(int64_t, cooldown) = 0;  // epochs after a reduction with bad epochs not counted
  NABLA_ARG(double, min_lr) = 0;     // the lr never goes below it, >= 0
  NABLA_ARG(double, eps) = 1e-8;     // a reduction smaller than this is skipped, >= 0
};
void validate(const ReduceLROnPlateauOptions& options);

class ReduceLROnPlateau {
 public:
  // The optimizer must outlive the scheduler; its lr is left as it is.
  // Throws naming the option for a mode, factor, patience, threshold, cooldown, min_lr or eps
  // outside its range.
  ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});

  const ReduceLROnPlateauOptions& options() const { return options_; }
  // Throws, changing nothing, when `options` are invalid. The counts and the best metric carry
  // on, except that a new mode restarts best from its worst value (the old best is on the
  // other scale of "better"). The lr is left as it is until the next reduction.
  void set_options(const ReduceLROnPlateauOptions& options);

  // Ends an epoch whose metric was `metric`; returns true when it reduced the lr.
  bool step(double metric);
  double lr() const { return optimizer_->lr(); }
  int64_t epoch() const { return epoch_; }  // steps so far (PyTorch's last_epoch)
  // The best metric so far; ±infinity (the mode's worst) before the first step.
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  int64_t cooldown_counter() const { return cooldown_counter_; }

  // Everything needed to continue: "epoch", "best" (NaN while there is none, so it survives
  // JSON), "num_bad_epochs", "cooldown_counter" and "lr", the optimizer's current lr.
  std::vector<std::pair<std::string, double>> state() const;
  // Restores state() and sets the optimizer's lr. Throws, changing nothing, on a missing or
  // unknown entry or a value out of range.
  void load_state(const std::vector<std::pair<std::string, double>>& state);

 private:
  bool is_better(double metric) const;
  double worst() const;

  ReduceLROnPlateauOptions options_;
  Optimizer* optimizer_;
  int64_t epoch_ = 0;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
};

}  // namespace nabla::optim
