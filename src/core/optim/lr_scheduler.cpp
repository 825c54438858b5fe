// Learning-rate schedules: closed forms of torch.optim.lr_scheduler, plus LinearLR-style warmup.
#include "nabla/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>

#include "nabla/error.h"

namespace nabla::optim {

std::map<std::string, double> read_state(const std::vector<std::pair<std::string, double>>& state,
                                         const char* who, std::initializer_list<const char*> keys,
                                         std::initializer_list<const char*> counts) {
  // "a, b and c", as the messages list the expected names.
  std::string expected;
  size_t i = 0;
  for (const char* k : keys) {
    if (i > 0) expected += i + 1 == keys.size() ? " and " : ", ";
    expected += k;
    ++i;
  }
  std::map<std::string, double> values;
  for (const auto& [key, value] : state) {
    bool known = false;
    for (const char* k : keys) known = known || key == k;
    NABLA_CHECK(known, who, "::load_state: unknown entry '", key, "' (expected ", expected, ")");
    values[key] = value;
  }
  for (const char* k : keys) NABLA_CHECK(values.count(k), who, "::load_state: missing ", k);
  for (const char* k : counts)
    NABLA_CHECK(values[k] >= 0 && values[k] == std::floor(values[k]), who, "::load_state: ", k,
                " must be a non-negative integer, got ", values[k]);
  return values;
}

void validate(const Warmup& warmup, const char* options) {
  NABLA_CHECK(warmup.epochs >= 0, options, "::warmup.epochs must be >= 0, got ", warmup.epochs);
  NABLA_CHECK(warmup.start_factor > 0 && warmup.start_factor <= 1, options,
              "::warmup.start_factor must be in (0, 1], got ", warmup.start_factor);
}

LRScheduler::LRScheduler(Optimizer& optimizer, std::string name, Warmup warmup)
    : optimizer_(&optimizer), name_(std::move(name)), warmup_(warmup), base_lr_(optimizer.lr()) {
  validate(warmup, (name_ + "Options").c_str());
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
  std::map<std::string, double> v =
      read_state(state, name_.c_str(), {"epoch", "base_lr"}, {"epoch"});
  NABLA_CHECK(v["base_lr"] >= 0, name_, "::load_state: base_lr must be >= 0, got ", v["base_lr"]);
  epoch_ = static_cast<int64_t>(v["epoch"]);
  base_lr_ = v["base_lr"];
  apply();
}

void validate(const StepLROptions& options) {
  NABLA_CHECK(options.step_size() >= 1, "StepLROptions::step_size must be >= 1, got ",
              options.step_size());
  NABLA_CHECK(options.gamma() > 0, "StepLROptions::gamma must be > 0, got ", options.gamma());
  validate(options.warmup(), "StepLROptions");
}

StepLR::StepLR(Optimizer& optimizer, const StepLROptions& options)
    : ScheduleWithOptions(optimizer, "StepLR", options) {
  apply();
}

double StepLR::scheduled_lr(int64_t epoch) const {
  return base_lr() *
         std::pow(options().gamma(), static_cast<double>(epoch / options().step_size()));
}

void validate(const ExponentialLROptions& options) {
  NABLA_CHECK(options.gamma() > 0, "ExponentialLROptions::gamma must be > 0, got ",
              options.gamma());
  validate(options.warmup(), "ExponentialLROptions");
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, const ExponentialLROptions& options)
    : ScheduleWithOptions(optimizer, "ExponentialLR", options) {
  apply();
}

double ExponentialLR::scheduled_lr(int64_t epoch) const {
  return base_lr() * std::pow(options().gamma(), static_cast<double>(epoch));
}

void validate(const CosineAnnealingLROptions& options) {
  NABLA_CHECK(options.t_max() >= 1, "CosineAnnealingLROptions::t_max must be >= 1, got ",
              options.t_max());
  NABLA_CHECK(options.eta_min() >= 0, "CosineAnnealingLROptions::eta_min must be >= 0, got ",
              options.eta_min());
  validate(options.warmup(), "CosineAnnealingLROptions");
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, const CosineAnnealingLROptions& options)
    : ScheduleWithOptions(optimizer, "CosineAnnealingLR", options) {
  apply();
}

// PyTorch's _get_closed_form_lr, term for term, so the values match its bits.
double CosineAnnealingLR::scheduled_lr(int64_t epoch) const {
  const double eta_min = options().eta_min();
  return eta_min + (base_lr() - eta_min) *
                       (1 + std::cos(std::numbers::pi * static_cast<double>(epoch) /
                                     static_cast<double>(options().t_max()))) /
                       2;
}

void validate(const ReduceLROnPlateauOptions& o) {
  NABLA_CHECK(o.mode() == "min" || o.mode() == "max", "ReduceLROnPlateauOptions::mode '", o.mode(),
              "' is not one of min, max");
  NABLA_CHECK(o.threshold_mode() == "rel" || o.threshold_mode() == "abs",
              "ReduceLROnPlateauOptions::threshold_mode '", o.threshold_mode(),
              "' is not one of rel, abs");
  NABLA_CHECK(o.factor() > 0 && o.factor() < 1,
              "ReduceLROnPlateauOptions::factor must be in (0, 1), got ", o.factor());
  NABLA_CHECK(o.patience() >= 0, "ReduceLROnPlateauOptions::patience must be >= 0, got ",
              o.patience());
  NABLA_CHECK(o.threshold() >= 0, "ReduceLROnPlateauOptions::threshold must be >= 0, got ",
              o.threshold());
  NABLA_CHECK(o.cooldown() >= 0, "ReduceLROnPlateauOptions::cooldown must be >= 0, got ",
              o.cooldown());
  NABLA_CHECK(o.min_lr() >= 0, "ReduceLROnPlateauOptions::min_lr must be >= 0, got ", o.min_lr());
  NABLA_CHECK(o.eps() >= 0, "ReduceLROnPlateauOptions::eps must be >= 0, got ", o.eps());
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : options_(std::move(options)), optimizer_(&optimizer) {
  validate(options_);
  best_ = worst();
}

void ReduceLROnPlateau::set_options(const ReduceLROnPlateauOptions& options) {
  validate(options);
  const bool new_mode = options.mode() != options_.mode();
  options_ = options;
  if (new_mode) best_ = worst();
}

double ReduceLROnPlateau::worst() const {
  const double inf = std::numeric_limits<double>::infinity();
  return options_.mode() == "min" ? inf : -inf;
}

// PyTorch's is_better, comparison for comparison (a NaN metric compares false).
bool ReduceLROnPlateau::is_better(double metric) const {
  const double t = options_.threshold();
  const bool rel = options_.threshold_mode() == "rel";
  if (options_.mode() == "min") return rel ? metric < best_ * (1 - t) : metric < best_ - t;
  return rel ? metric > best_ * (t + 1) : metric > best_ + t;
}

bool ReduceLROnPlateau::step(double metric) {
  ++epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
  }
  if (num_bad_epochs_ <= options_.patience()) return false;
  cooldown_counter_ = options_.cooldown();
  num_bad_epochs_ = 0;
  const double old_lr = optimizer_->lr();
  const double new_lr = std::max(old_lr * options_.factor(), options_.min_lr());
  if (old_lr - new_lr <= options_.eps()) return false;
  optimizer_->set_lr(new_lr);
  return true;
}

std::vector<std::pair<std::string, double>> ReduceLROnPlateau::state() const {
  return {{"epoch", static_cast<double>(epoch_)},
          {"best", std::isinf(best_) ? std::nan("") : best_},
          {"num_bad_epochs", static_cast<double>(num_bad_epochs_)},
          {"cooldown_counter", static_cast<double>(cooldown_counter_)},
          {"lr", optimizer_->lr()}};
}

void ReduceLROnPlateau::load_state(const std::vector<std::pair<std::string, double>>& state) {
  std::map<std::string, double> values = read_state(
      state, "ReduceLROnPlateau", {"epoch", "best", "num_bad_epochs", "cooldown_counter", "lr"},
      {"epoch", "num_bad_epochs", "cooldown_counter"});
  NABLA_CHECK(values["lr"] >= 0, "ReduceLROnPlateau::load_state: lr must be >= 0, got ",
              values["lr"]);
  epoch_ = static_cast<int64_t>(values["epoch"]);
  best_ = std::isnan(values["best"]) ? worst() : values["best"];
  num_bad_epochs_ = static_cast<int64_t>(values["num_bad_epochs"]);
  cooldown_counter_ = static_cast<int64_t>(values["cooldown_counter"]);
  optimizer_->set_lr(values["lr"]);
}

}  // namespace nabla::optim
