// The epoch curves of training runs: loss.png and accuracy.png of one run (app/run.h), and the
// same overlaid for several runs (`nabla compare`, app/compare.h).
#pragma once

#include <string>
#include <vector>

#include "nabla/train/metrics.h"

namespace nabla::app {

// DIR/loss.png and DIR/accuracy.png: train and validation per epoch (validation when measured).
void write_curves(const std::string& dir, const std::vector<train::EpochMetrics>& history);

// One run among those compared: its legend name and its epochs.
struct NamedHistory {
  std::string name;
  std::vector<train::EpochMetrics> history;
};
// PATH_PREFIX + "loss.png" and + "accuracy.png": each run's validation curve (its training curve
// when it had no validation set) in its own colour, named in the legend.
void write_overlaid_curves(const std::string& path_prefix, const std::vector<NamedHistory>& runs);

}  // namespace nabla::app
