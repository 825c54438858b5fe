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
// states repeats exactly what an uninterrupted run does from epoch k on. The same holds in the
// middle of an epoch: fit_from(progress) with the EpochProgress saved after batch i goes on with
// batch i + 1 and the epoch's running sums, so its metrics row comes out the same too.
//
// Stopping early: stop_when (e.g. train/interrupt.h's stop_requested) or request_stop() from a
// hook ends fit() after the current step; stopped() and progress() then say where to go on from.
//
//   trainer.stop_when = train::stop_requested;
//   trainer.fit();
//   if (trainer.stopped()) save_checkpoint(..., trainer.progress());  // later: fit_from(it)
//
// Threads: a batch of more than slice_rows() rows is cut into ceil(rows / slice_rows()) slices of
// (nearly) equal size, fixed by the batch size alone, and each slice runs its own forward,
// cross-entropy and backward on a thread of its own (autograd/BatchSlices, as `mpirun -np 2`
// runs half-batches); the parameters' .grad then holds the slices' gradients added in slice
// order. So results are the same bit for bit for any thread count, and differ from an unsliced
// step by float rounding only. Batch norm and dropout take part (the slices then run together,
// on threads of their own, and meet): batch norm normalises by the whole batch's statistics and
// updates its running statistics once, dropout draws the whole batch's masks, so the step is
// the unsliced one up to rounding there too. A model runs whole when a module has a forward hook
// (it would see slices, concurrently) or other state (buffers, a random generator) that cannot
// be shared out (Module::slices_together), and when a slice's work is not worth a second thread:
// under 64 multiply-adds per trainable parameter (nn::summary of one sample × slice_rows()),
// since the slices' gradients cost about a pass over the parameters each (LeNet-5: 216, sliced;
// the MLP: 32, whose 1-thread epoch slicing made 45% slower). slice_rows(0) runs each batch
// whole too. Both rules are nn::slicing and nn::slice_is_worth_a_thread (nabla/nn/inference.h),
// which evaluate() shares: it runs each batch through nn::infer.
//
// Not here: files, checkpoints, plots (the application's app/run.h does those), mixed precision,
// gradient accumulation, deciding when to stop early (train/early_stopping.h decides; on_epoch_end
// can then call request_stop()).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <vector>

#include "nabla/arg.h"
#include "nabla/autograd_slices.h"
#include "nabla/data/dataloader.h"
#include "nabla/nn/inference.h"
#include "nabla/nn/module.h"
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
// under NoGradGuard and in eval mode, each batch through nn::infer (in row slices, one thread
// each, where the model allows); the model's training flag is restored afterwards.
// requires: the model maps a batch's images to logits (B, num_classes of the loader's data set).
EvalResult evaluate(nn::Module& model, const data::DataLoader& loader);

// Correct predictions in a batch: logits (B, K) against B labels, the prediction being the
// argmax (ties to the lowest class); each is also added to `confusion` when given. Reads the
// logits in place, without a copy. Throws nabla::Error when logits are not (B, K).
int64_t count_correct(const Tensor& logits, const std::vector<int64_t>& labels,
                      ConfusionMatrix* confusion = nullptr);

// What a step hook sees: where the loop is and what this step computed.
struct StepInfo {
  int64_t epoch = 0;                   // 0-based
  int64_t batch = 0;                   // 0-based index within the epoch
  int64_t step = 0;                    // 0-based optimizer step counted over the whole run
  double loss = 0;                     // the batch's mean loss
  int64_t correct = 0;                 // the batch's correct predictions (argmax of the logits)
  const data::Batch* input = nullptr;  // the batch (images, labels)
  const Tensor* logits = nullptr;      // the model's output for it
};

// Where an epoch stands after some of its steps: all a checkpoint taken in the middle of an
// epoch needs, besides model, optimizer and generator states, to finish it as if uninterrupted.
struct EpochProgress {
  int64_t epoch = 0;    // 0-based
  int64_t batch = 0;    // training batches done in this epoch, so the next one's index
  double loss_sum = 0;  // sum over those batches of mean loss × batch size
  int64_t correct = 0;  // correct predictions among them
  int64_t images = 0;   // images in them
  double seconds = 0;   // training time spent on them (the row's timing columns)
};

// Where an epoch's training steps spent their time: wall-clock seconds on the calling thread,
// added up over the steps (validation and the scheduler are not steps). The parts add up to the
// steps' time; `slices`, `slice_work` and `gradient_sum` break down `forward_backward` for a
// sliced step (0 when the steps ran whole). `slice_work` over `slices` says how many threads'
// worth of compute the slices kept busy; against a 1-thread run's `slice_work`, how much slower
// the same work ran when spread over threads. bench/compare prints LeNet-5's.
struct EpochTimes {
  int64_t steps = 0;
  double data = 0;              // batches assembled (DataLoader::Epoch::batch_into)
  double forward_backward = 0;  // zero_grad, forward, loss, backward and gradients summed
  double slices = 0;            // of which: the slices, first start to last end
  double slice_work = 0;        //   (their own durations added up; 0 for slices that run
                                //   together, whose durations include waiting for each other)
  double gradient_sum = 0;      // and the slices' gradients added into each .grad
  double optimizer = 0;         // the after_backward hooks and optimizer.step()
  double other = 0;             // the after_step hooks, progress, on_batch_end, stop checks
};

struct TrainerOptions {
  NABLA_ARG(int64_t, epochs) = 1;                // fit() runs epochs [first_epoch, epochs)
  NABLA_ARG(std::ostream*, progress) = nullptr;  // progress display; null: none
  NABLA_ARG(bool, interactive) = false;          // progress goes to a terminal (see progress.h)
  // Rows per batch slice (see "Threads" above); 0: never slice. 32 cuts the usual batch of 64
  // into the 2 slices that keep 2 cores busy (docs/performance.md measures it).
  NABLA_ARG(int64_t, slice_rows) = 32;
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
  // statistics); `after_step` runs after optimizer.step() (update ratios, step checkpoints),
  // when progress() already counts the step. A hook that throws ends fit() with its exception.
  using StepHook = std::function<void(const StepInfo&)>;
  std::vector<StepHook> after_backward;
  std::vector<StepHook> after_step;
  // Called after each training batch, with the epoch's running numbers.
  std::function<void(const ProgressState&)> on_batch_end;
  // Called after each epoch, after validation and the scheduler step (so a checkpoint taken
  // here resumes at the next epoch).
  std::function<void(const EpochMetrics&)> on_epoch_end;

  // Asked after each step (after the step hooks and on_batch_end) and between epochs; once it
  // returns true, fit() stops there and stopped() is true. A request after an epoch's last batch
  // still lets that epoch finish (validation, scheduler, on_epoch_end): a step is never cut in
  // half, an epoch's bookkeeping neither. Null (the default): never.
  std::function<bool()> stop_when;
  // The same from inside a hook: stop after the current step.
  void request_stop() { stop_pending_ = true; }
  // Whether the last fit(), fit_from() or run_epoch() stopped before its end.
  bool stopped() const { return stopped_; }
  // The running epoch's position and sums. After a stopped fit(), where to go on from: save it
  // with the model, optimizer and generators, and later fit_from() it.
  const EpochProgress& progress() const { return progress_; }
  // Where the running (or last) epoch's steps spent their time, from its start or from where a
  // fit_from() went on. Measured on every step: a few clock reads, nothing allocated.
  const EpochTimes& epoch_times() const { return times_; }

  // Trains epoch `epoch` (0-based), validates, steps the scheduler; returns its row. If a stop is
  // requested first, it returns after the stopping step with the row's training numbers so far,
  // no validation and no scheduler step, and stopped() is true.
  EpochMetrics run_epoch(int64_t epoch);
  // run_epoch for epoch = first_epoch ... options.epochs() - 1, calling on_epoch_end after each;
  // returns the rows of the epochs that finished.
  std::vector<EpochMetrics> fit(int64_t first_epoch = 0);
  // fit() that goes on from `start`: epoch start.epoch from batch start.batch with its sums.
  // requires: 0 <= start.batch <= the loader's num_batches().
  std::vector<EpochMetrics> fit_from(const EpochProgress& start);

  TrainerOptions options;

 private:
  nn::Module& model_;
  optim::Optimizer& optimizer_;
  const data::DataLoader& train_loader_;
  const data::DataLoader* val_loader_ = nullptr;
  optim::LRScheduler* scheduler_ = nullptr;

  EpochMetrics run_epoch_from(const EpochProgress& start);
  bool should_stop();
  // One step's forward, loss and backward: returns the batch's mean loss and sets `correct` and
  // `logits` (the batch's, for the step hooks).
  double forward_backward(const data::Batch& batch, int64_t epoch, int64_t index, int64_t& correct,
                          Tensor& logits);
  // How many slices a batch of `rows` runs as: 1 when slicing_ is whole (see "Threads" above).
  int64_t slices_for(int64_t rows) const;

  // The sliced step's state, kept between steps so that a step allocates nothing new.
  // Decided at the start of each epoch: nn::slicing(model), or whole when a slice is not worth
  // a thread or slice_rows() is 0.
  nn::Slicing slicing_ = nn::Slicing::whole;
  autograd::BatchSlices batch_slices_;
  struct Slice {
    std::vector<int64_t> labels;
    Tensor logits;  // detached
    double loss = 0;
    int64_t correct = 0;
  };
  std::vector<Slice> slices_;
  Tensor logits_;  // the batch's logits, gathered from the slices'
  EpochProgress progress_;
  EpochTimes times_;
  bool stop_pending_ = false, stopped_ = false;
};

}  // namespace nabla::train
