// Trainer: the supervised training loop for a classifier, as every CS231n assignment writes it.
//
//   for each epoch:   model.train()
//     for each batch: zero_grad, logits = model(images), loss = cross_entropy(logits, labels),
//                     loss.backward(), optimizer.step()
//     validation under NoGradGuard with model.eval(); scheduler.step()
//
//   train::Trainer trainer(model, opt, train_loader, train::TrainerOptions().epochs(5));
//   trainer.validation(&val_loader).scheduler(&sched);
//   trainer.on_epoch_end = [&](const train::EpochMetrics& m) { save(m); };
//   trainer.fit();
//
// Epoch k (0-based) draws its batches from train_loader.epoch(k), whose order depends only on
// (seed, k), so fit(first_epoch = k) after restoring model, optimizer, scheduler and generator
// states repeats exactly what an uninterrupted run does from epoch k on.
//
// Not here: files, checkpoints, plots (train/run.h does those), mixed precision, gradient
// accumulation, early stopping (a callback can throw to stop).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <vector>

#include "nabla/data/dataloader.h"
#include "nabla/nn/module.h"
#include "nabla/nn/options.h"
#include "nabla/optim/lr_scheduler.h"
#include "nabla/optim/optimizer.h"
#include "nabla/train/metrics.h"
#include "nabla/train/progress.h"

namespace nabla::train {

struct EvalResult {
  double loss = 0;      // mean cross-entropy over the samples
  double accuracy = 0;  // fraction correct
  int64_t samples = 0;
  ConfusionMatrix confusion;
};

// Mean cross-entropy, accuracy and confusion matrix of `model` over every batch of `loader`,
// under NoGradGuard and in eval mode; the model's training flag is restored afterwards.
// requires: the model maps a batch's images to logits (B, num_classes of the loader's data set).
EvalResult evaluate(nn::Module& model, const data::DataLoader& loader);

// What a step hook sees: where the loop is and what this step computed.
struct StepInfo {
  int64_t epoch = 0;                   // 0-based
  int64_t batch = 0;                   // 0-based index within the epoch
  int64_t step = 0;                    // 0-based optimizer step counted over the whole run
  double loss = 0;                     // the batch's mean loss
  const data::Batch* input = nullptr;  // the batch (images, labels)
  const Tensor* logits = nullptr;      // the model's output for it
};

struct TrainerOptions {
  NABLA_ARG(int64_t, epochs) = 1;                // fit() runs epochs [first_epoch, epochs)
  NABLA_ARG(std::ostream*, progress) = nullptr;  // progress display; null: none
  NABLA_ARG(bool, interactive) = false;          // progress goes to a terminal (see progress.h)
};

class Trainer {
 public:
  // The model, optimizer and loader must outlive the trainer.
  Trainer(nn::Module& model, optim::Optimizer& optimizer, const data::DataLoader& train_loader,
          TrainerOptions options = {});

  // Evaluated after each epoch; null (the default) skips validation.
  Trainer& validation(const data::DataLoader* loader);
  // Stepped after each epoch; null (the default): the optimizer's lr stays.
  Trainer& scheduler(optim::LRScheduler* scheduler);

  // Step hooks, called in the order they were added. `after_backward` runs once the step's
  // gradients are ready and before optimizer.step() (gradient all-reduce, clipping, gradient
  // statistics); `after_step` runs after optimizer.step() (update ratios, step checkpoints).
  // A hook that throws ends fit() with its exception.
  using StepHook = std::function<void(const StepInfo&)>;
  std::vector<StepHook> after_backward;
  std::vector<StepHook> after_step;
  // Called after each training batch, with the epoch's running numbers.
  std::function<void(const ProgressState&)> on_batch_end;
  // Called after each epoch, after validation and the scheduler step (so a checkpoint taken
  // here resumes at the next epoch).
  std::function<void(const EpochMetrics&)> on_epoch_end;

  // Trains epoch `epoch` (0-based), validates, steps the scheduler; returns its row.
  EpochMetrics run_epoch(int64_t epoch);
  // run_epoch for epoch = first_epoch ... options.epochs() - 1, calling on_epoch_end after each.
  std::vector<EpochMetrics> fit(int64_t first_epoch = 0);

  TrainerOptions options;

 private:
  nn::Module& model_;
  optim::Optimizer& optimizer_;
  const data::DataLoader& train_loader_;
  const data::DataLoader* val_loader_ = nullptr;
  optim::LRScheduler* scheduler_ = nullptr;
};

}  // namespace nabla::train
