// Early stopping on the validation loss (see include/nabla/train/early_stopping.h).
#include "nabla/train/early_stopping.h"

#include <cmath>
#include <map>
#include <sstream>

#include "nabla/error.h"
#include "nabla/optim/lr_scheduler.h"

namespace nabla::train {

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options(options), best_(std::nan("")) {
  NABLA_CHECK(options.patience() >= 1, "EarlyStoppingOptions::patience must be >= 1, got ",
              options.patience());
  NABLA_CHECK(options.min_delta() >= 0 && std::isfinite(options.min_delta()),
              "EarlyStoppingOptions::min_delta must be a finite number >= 0, got ",
              options.min_delta());
}

bool EarlyStopping::update(int64_t epoch, double loss) {
  NABLA_CHECK(!stopped(), "EarlyStopping::update: training already stopped after epoch ",
              stopped_epoch_);
  NABLA_CHECK(epoch > last_epoch_, "EarlyStopping::update: epoch ", epoch,
              " does not follow epoch ", last_epoch_);
  last_epoch_ = epoch;
  improved_ = std::isfinite(loss) && (best_epoch_ == 0 || loss < best_ - options.min_delta());
  if (improved_) {
    best_ = loss;
    best_epoch_ = epoch;
    bad_epochs_ = 0;
    return false;
  }
  if (++bad_epochs_ < options.patience()) return false;
  stopped_epoch_ = epoch;
  return true;
}

std::string EarlyStopping::reason() const {
  if (!stopped()) return "";
  std::ostringstream s;
  s << "validation loss did not improve";
  if (options.min_delta() > 0) s << " by more than " << options.min_delta();
  s << " for " << bad_epochs_ << " epoch" << (bad_epochs_ == 1 ? "" : "s");
  if (best_epoch_ > 0)
    s << " (best " << best_ << " at epoch " << best_epoch_ << ")";
  else
    s << " (no finite loss yet)";
  return s.str();
}

std::vector<std::pair<std::string, double>> EarlyStopping::state() const {
  return {{"best", best_},
          {"best_epoch", static_cast<double>(best_epoch_)},
          {"bad_epochs", static_cast<double>(bad_epochs_)},
          {"last_epoch", static_cast<double>(last_epoch_)},
          {"stopped_epoch", static_cast<double>(stopped_epoch_)}};
}

void EarlyStopping::load_state(const std::vector<std::pair<std::string, double>>& state) {
  std::map<std::string, double> v = optim::read_state(
      state, "EarlyStopping", {"best", "best_epoch", "bad_epochs", "last_epoch", "stopped_epoch"},
      {"best_epoch", "bad_epochs", "last_epoch", "stopped_epoch"});
  NABLA_CHECK((v["best_epoch"] == 0) == std::isnan(v["best"]),
              "EarlyStopping::load_state: best is ", v["best"], " but best_epoch is ",
              v["best_epoch"]);
  best_ = v["best"];
  best_epoch_ = static_cast<int64_t>(v["best_epoch"]);
  bad_epochs_ = static_cast<int64_t>(v["bad_epochs"]);
  last_epoch_ = static_cast<int64_t>(v["last_epoch"]);
  stopped_epoch_ = static_cast<int64_t>(v["stopped_epoch"]);
  improved_ = false;
}

}  // namespace nabla::train
