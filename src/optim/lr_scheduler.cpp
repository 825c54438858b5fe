// Learning-rate schedules: closed forms of torch.optim.lr_scheduler, plus LinearLR-style warmup.
#include "nabla/optim/lr_scheduler.h"

#include <cmath>
#include <numbers>

#include "nabla/error.h"

namespace nabla::optim {

LRScheduler::LRScheduler(Optimizer& optimizer, std::string name, Warmup warmup)
    : optimizer_(&optimizer), name_(std::move(name)), warmup_(warmup), base_lr_(optimizer.lr()) {
  NABLA_CHECK(warmup.epochs >= 0, name_, ": warmup epochs must be >= 0, got ", warmup.epochs);
  NABLA_CHECK(warmup.start_factor > 0 && warmup.start_factor <= 1, name_,
              ": warmup start_factor must be in (0, 1], got ", warmup.start_factor);
}

double LRScheduler::lr_at(int64_t epoch) const {
  NABLA_CHECK(epoch >= 0, name_, ": epoch must be >= 0, got ", epoch);
  if (epoch < warmup_.epochs) {
    const double s = warmup_.start_factor;
    return base_lr_ * (s + (1 - s) * static_cast<double>(epoch) / warmup_.epochs);
  }
  return scheduled_lr(epoch - warmup_.epochs);
}

void LRScheduler::apply() {
  optimizer_->set_lr(lr_at(epoch_));
}

void LRScheduler::step() {
  ++epoch_;
  apply();
}

std::vector<std::pair<std::string, double>> LRScheduler::state() const {
  return {{"epoch", static_cast<double>(epoch_)}, {"base_lr", base_lr_}};
}

void LRScheduler::load_state(const std::vector<std::pair<std::string, double>>& state) {
  double epoch = -1, base_lr = -1;
  bool has_epoch = false, has_base = false;
  for (const auto& [key, value] : state) {
    if (key == "epoch") {
      epoch = value, has_epoch = true;
    } else if (key == "base_lr") {
      base_lr = value, has_base = true;
    } else {
      detail::throw_error(name_, "::load_state: unknown entry '", key,
                          "' (expected epoch and base_lr)");
    }
  }
  NABLA_CHECK(has_epoch && has_base, name_, "::load_state: missing ",
              has_epoch ? "base_lr" : "epoch");
  NABLA_CHECK(epoch >= 0 && epoch == std::floor(epoch), name_,
              "::load_state: epoch must be a non-negative integer, got ", epoch);
  NABLA_CHECK(base_lr >= 0, name_, "::load_state: base_lr must be >= 0, got ", base_lr);
  epoch_ = static_cast<int64_t>(epoch);
  base_lr_ = base_lr;
  apply();
}

StepLR::StepLR(Optimizer& optimizer, const StepLROptions& options)
    : LRScheduler(optimizer, "StepLR", options.warmup()), options(options) {
  NABLA_CHECK(options.step_size() >= 1, "StepLR: step_size must be >= 1, got ",
              options.step_size());
  NABLA_CHECK(options.gamma() > 0, "StepLR: gamma must be > 0, got ", options.gamma());
  apply();
}

double StepLR::scheduled_lr(int64_t epoch) const {
  return base_lr() * std::pow(options.gamma(), static_cast<double>(epoch / options.step_size()));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, const ExponentialLROptions& options)
    : LRScheduler(optimizer, "ExponentialLR", options.warmup()), options(options) {
  NABLA_CHECK(options.gamma() > 0, "ExponentialLR: gamma must be > 0, got ", options.gamma());
  apply();
}

double ExponentialLR::scheduled_lr(int64_t epoch) const {
  return base_lr() * std::pow(options.gamma(), static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, const CosineAnnealingLROptions& options)
    : LRScheduler(optimizer, "CosineAnnealingLR", options.warmup()), options(options) {
  NABLA_CHECK(options.t_max() >= 1, "CosineAnnealingLR: t_max must be >= 1, got ", options.t_max());
  NABLA_CHECK(options.eta_min() >= 0, "CosineAnnealingLR: eta_min must be >= 0, got ",
              options.eta_min());
  apply();
}

// PyTorch's _get_closed_form_lr, term for term, so the values match its bits.
double CosineAnnealingLR::scheduled_lr(int64_t epoch) const {
  const double eta_min = options.eta_min();
  return eta_min + (base_lr() - eta_min) *
                       (1 + std::cos(std::numbers::pi * static_cast<double>(epoch) /
                                     static_cast<double>(options.t_max()))) /
                       2;
}

}  // namespace nabla::optim
