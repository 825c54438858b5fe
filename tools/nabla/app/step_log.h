// The loss per optimizer step, the noisy curve of CS231n's lecture 6: every step of a run in
// OUT/steps.csv (step, epoch, loss, accuracy of the batch, lr; steps and epochs 1-based) and
// OUT/loss_steps.png, the loss against the iteration with a smoothed line (an exponential moving
// average, 0.9 as TensorBoard's slider, corrected for its start at 0 as Adam's moments are).
// Written after every epoch; a resumed run reads the steps before its first one back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/optim/optimizer.h"
#include "nabla/train/trainer.h"

namespace nabla::app {

class StepLog {
 public:
  // Records every step of `trainer` from step `first_step` (0-based: the steps already done)
  // with `optimizer`'s learning rate; with first_step > 0, reads the rows before it back from
  // out_dir/steps.csv.
  StepLog(train::Trainer& trainer, const optim::Optimizer& optimizer, std::string out_dir,
          int64_t first_step);
  // Writes steps.csv and loss_steps.png.
  void write() const;

 private:
  struct Row {
    int64_t step, epoch;
    double loss, accuracy, lr;
  };
  std::string out_dir_;
  std::vector<Row> rows_;
};

}  // namespace nabla::app
