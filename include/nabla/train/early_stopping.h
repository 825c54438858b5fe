// EarlyStopping: ends training once the validation loss has stopped improving (CS231n lecture 7:
// keep the model of the best validation epoch, stop when it no longer gets better).
//
//   train::EarlyStopping stopper(train::EarlyStoppingOptions(/*patience=*/3).min_delta(1e-3));
//   for (int64_t epoch = 1; ...; ++epoch) {
//     const double val_loss = train_and_validate();
//     if (stopper.update(epoch, val_loss)) break;    // stopper.reason() says why
//     if (stopper.improved()) save_best_checkpoint();
//   }
//
// An epoch improves when its loss is below best − min_delta (the first finite loss always does);
// a NaN or infinite loss never improves. Training stops after `patience` epochs in a row without
// improvement, as Keras's EarlyStopping(monitor="val_loss", patience, min_delta) and Lightning's
// do.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nabla/arg.h"

namespace nabla::train {

struct EarlyStoppingOptions {
  explicit EarlyStoppingOptions(int64_t patience) : patience_(patience) {}
  NABLA_ARG(int64_t, patience);      // epochs without improvement before stopping, >= 1
  NABLA_ARG(double, min_delta) = 0;  // how much lower counts as lower, >= 0
};

class EarlyStopping {
 public:
  // Throws naming the option for patience < 1 or a negative or non-finite min_delta.
  explicit EarlyStopping(EarlyStoppingOptions options);

  // Records the validation loss of `epoch` (1-based, increasing); returns true when training
  // should stop after it. Once stopped, further updates are an error.
  bool update(int64_t epoch, double loss);

  bool improved() const { return improved_; }  // the last update set a new best
  bool stopped() const { return stopped_epoch_ > 0; }
  double best() const { return best_; }                     // NaN before the first improvement
  int64_t best_epoch() const { return best_epoch_; }        // 0 before the first improvement
  int64_t bad_epochs() const { return bad_epochs_; }        // epochs in a row without improvement
  int64_t stopped_epoch() const { return stopped_epoch_; }  // 0 while not stopped
  // "validation loss did not improve by more than 0.001 for 3 epochs (best 0.4123 at epoch 5)";
  // "" while not stopped.
  std::string reason() const;

  // Everything needed to continue: "best" (NaN if none), "best_epoch", "bad_epochs",
  // "last_epoch", "stopped_epoch".
  std::vector<std::pair<std::string, double>> state() const;
  // Restores state(); throws, changing nothing, on a missing or unknown entry or a bad value.
  void load_state(const std::vector<std::pair<std::string, double>>& state);

  EarlyStoppingOptions options;

 private:
  double best_;
  int64_t best_epoch_ = 0, bad_epochs_ = 0, last_epoch_ = 0, stopped_epoch_ = 0;
  bool improved_ = false;
};

}  // namespace nabla::train
