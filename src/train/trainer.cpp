// The training loop and evaluation (see include/nabla/train/trainer.h).
#include "nabla/train/trainer.h"

#include <chrono>
#include <cmath>
#include <iostream>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/nn/inference.h"
#include "nabla/ops.h"

namespace nabla::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double>(end - start).count();
}

double seconds_since(Clock::time_point start) {
  return seconds_between(start, Clock::now());
}

// Restores a module's training flag when a scope ends, even by an exception.
class ModeGuard {
 public:
  ModeGuard(nn::Module& model, bool training) : model_(model), previous_(model.is_training()) {
    model_.train(training);
  }
  ~ModeGuard() { model_.train(previous_); }
  ModeGuard(const ModeGuard&) = delete;
  ModeGuard& operator=(const ModeGuard&) = delete;

 private:
  nn::Module& model_;
  bool previous_;
};

void check_finite_loss(double loss, int64_t epoch, int64_t batch) {
  NABLA_CHECK(std::isfinite(loss), "train: the loss became ", loss, " in epoch ", epoch + 1,
              ", batch ", batch + 1,
              " --- the learning rate is probably too high; try a smaller --lr");
}

}  // namespace

int64_t count_correct(const Tensor& logits, const std::vector<int64_t>& labels,
                      ConfusionMatrix* confusion) {
  NABLA_CHECK(logits.dim() == 2 && logits.size(0) == static_cast<int64_t>(labels.size()),
              "train: the model returned ", logits.shape(), " for a batch of ", labels.size(),
              " samples; expected logits (batch, classes)");
  const int64_t B = logits.size(0), K = logits.size(1);
  const int64_t row_stride = logits.strides()[0], col_stride = logits.strides()[1];
  return dispatch(logits.dtype(), [&]<class T>() {
    const T* values = logits.data<T>();
    int64_t correct = 0;
    for (int64_t b = 0; b < B; ++b) {
      const T* row = values + b * row_stride;
      int64_t best = 0;
      for (int64_t k = 1; k < K; ++k)
        if (row[k * col_stride] > row[best * col_stride]) best = k;
      correct += best == labels[static_cast<size_t>(b)];
      if (confusion) confusion->add(labels[static_cast<size_t>(b)], best);
    }
    return correct;
  });
}

EvalResult evaluate(nn::Module& model, const data::DataLoader& loader) {
  NoGradGuard no_grad;
  ModeGuard mode(model, false);
  EvalResult result;
  result.confusion = ConfusionMatrix(loader.dataset().num_classes());
  double loss_sum = 0;
  int64_t correct = 0;
  const data::DataLoader::Epoch batches = loader.epoch(0);
  data::Batch batch;
  for (int64_t i = 0; i < batches.size(); ++i) {
    batches.batch_into(i, batch);
    Tensor logits = nn::infer(model, batch.images);
    NABLA_CHECK(logits.dim() == 2 && logits.size(1) == loader.dataset().num_classes(),
                "evaluate: the model returned ", logits.shape(), " but the data set '",
                loader.dataset().name(), "' has ", loader.dataset().num_classes(), " classes");
    const auto n = static_cast<int64_t>(batch.labels.size());
    loss_sum += cross_entropy(logits, batch.labels, Reduction::Sum).item();
    correct += count_correct(logits, batch.labels, &result.confusion);
    result.samples += n;
  }
  if (result.samples > 0) {
    result.loss = loss_sum / static_cast<double>(result.samples);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(result.samples);
  }
  return result;
}

Trainer::Trainer(nn::Module& model, optim::Optimizer& optimizer,
                 const data::DataLoader& train_loader, TrainerOptions options)
    : options(options), model_(model), optimizer_(optimizer), train_loader_(train_loader) {
  NABLA_CHECK(options.epochs() >= 0, "Trainer: epochs must be >= 0, got ", options.epochs());
  NABLA_CHECK(!train_loader.dataset().empty(), "Trainer: the training set '",
              train_loader.dataset().name(), "' is empty");
}

int64_t Trainer::slices_for(int64_t rows) const {
  const int64_t per_slice = options.slice_rows();
  if (slicing_ == nn::Slicing::whole || per_slice <= 0 || rows <= per_slice) return 1;
  return (rows + per_slice - 1) / per_slice;
}

double Trainer::forward_backward(const data::Batch& batch, int64_t epoch, int64_t index,
                                 int64_t& correct, Tensor& logits) {
  const auto rows = static_cast<int64_t>(batch.labels.size());
  const int64_t slices = slices_for(rows);
  if (slices == 1) {
    logits = model_.forward(batch.images);
    Tensor loss = cross_entropy(logits, batch.labels);
    const double loss_value = loss.item();
    check_finite_loss(loss_value, epoch, index);
    loss.backward();
    correct = count_correct(logits, batch.labels);
    return loss_value;
  }
  if (slices_.size() < static_cast<size_t>(slices)) slices_.resize(static_cast<size_t>(slices));
  batch_slices_.run(
      rows, slices,
      [&](int64_t s, int64_t begin, int64_t end) {
        Slice& slice = slices_[static_cast<size_t>(s)];
        slice.labels.assign(batch.labels.begin() + begin, batch.labels.begin() + end);
        Tensor out = model_.forward(batch.images.slice(0, begin, end));
        Tensor loss = cross_entropy(out, slice.labels);
        slice.loss = loss.item();
        check_finite_loss(slice.loss, epoch, index);
        slice.correct = count_correct(out, slice.labels);
        slice.logits = out.detach();
        return loss;
      },
      slicing_ == nn::Slicing::together);
  const autograd::BatchSlices::Times& sliced = batch_slices_.last_times();
  times_.slices += sliced.slices;
  times_.slice_work += sliced.slice_work;
  times_.gradient_sum += sliced.gradient_sum;
  // The batch's numbers from the slices', in slice order; its logits gathered for the hooks.
  const Tensor& first = slices_[0].logits;
  const Shape shape{rows, first.size(1)};
  if (!logits_.defined() || logits_.dtype() != first.dtype() || !(logits_.shape() == shape))
    logits_ = Tensor::empty(shape, first.dtype());
  double loss_value = 0;
  correct = 0;
  for (int64_t s = 0; s < slices; ++s) {
    Slice& slice = slices_[static_cast<size_t>(s)];
    const int64_t begin = rows * s / slices, end = rows * (s + 1) / slices;
    loss_value += slice.loss * static_cast<double>(end - begin) / static_cast<double>(rows);
    correct += slice.correct;
    // slice.logits stays until the next step's slice replaces it, on a pool thread: freeing it
    // here would move its buffer into this thread's storage cache at every step.
    logits_.slice(0, begin, end).copy_(slice.logits);
  }
  logits = logits_;
  return loss_value;
}

Trainer& Trainer::validation(const data::DataLoader* loader) {
  val_loader_ = loader;
  return *this;
}

Trainer& Trainer::scheduler(optim::LRScheduler* scheduler) {
  scheduler_ = scheduler;
  return *this;
}

EpochMetrics Trainer::run_epoch(int64_t epoch) {
  stop_pending_ = false;
  EpochProgress start;
  start.epoch = epoch;
  return run_epoch_from(start);
}

bool Trainer::should_stop() {
  // Latched, so a predicate is asked once per step and a request is never lost.
  if (!stop_pending_ && stop_when && stop_when()) stop_pending_ = true;
  return stop_pending_;
}

EpochMetrics Trainer::run_epoch_from(const EpochProgress& start) {
  const int64_t epoch = start.epoch;
  NABLA_CHECK(start.batch >= 0 && start.batch <= train_loader_.num_batches(),
              "Trainer: cannot go on from batch ", start.batch, " of epoch ", epoch + 1,
              ": an epoch has ", train_loader_.num_batches(), " batches");
  stopped_ = false;
  progress_ = start;
  times_ = EpochTimes{};
  batch_slices_.cut_sums_as(optimizer_.params());  // each epoch: the list may have grown
  EpochMetrics m;
  m.epoch = epoch + 1;
  m.lr = optimizer_.lr();
  ProgressState state;
  state.epoch = epoch + 1;
  state.epochs = options.epochs();
  state.batches = train_loader_.num_batches();
  ProgressBar bar(options.progress() ? *options.progress() : std::cout, options.interactive());

  // A resumed epoch adds its time to what the saved part took.
  const auto started = Clock::now();
  auto elapsed = [&] { return start.seconds + seconds_since(started); };
  {
    ModeGuard mode(model_, true);
    slicing_ = options.slice_rows() > 0 ? nn::slicing(model_) : nn::Slicing::whole;
    if (slicing_ != nn::Slicing::whole &&
        !nn::slice_is_worth_a_thread(model_, train_loader_.dataset().sample_shape(),
                                     options.slice_rows()))
      slicing_ = nn::Slicing::whole;
    const data::DataLoader::Epoch batches = train_loader_.epoch(epoch);
    data::Batch batch;  // one buffer for the epoch: a step allocates nothing (steady_state_test)
    for (int64_t i = start.batch; i < batches.size(); ++i) {
      const Clock::time_point step_start = Clock::now();
      batches.batch_into(i, batch);
      const Clock::time_point loaded = Clock::now();
      optimizer_.zero_grad();
      Tensor logits;
      int64_t correct = 0;
      const double loss_value = forward_backward(batch, epoch, i, correct, logits);
      const Clock::time_point backward_done = Clock::now();
      StepInfo info{epoch, i, epoch * batches.size() + i, loss_value, correct, &batch, &logits};
      for (const StepHook& hook : after_backward) hook(info);
      optimizer_.step();
      const Clock::time_point stepped = Clock::now();
      // Counted before the after_step hooks, so a checkpoint taken there includes this step.
      const auto n = static_cast<int64_t>(batch.labels.size());
      progress_.loss_sum += loss_value * static_cast<double>(n);
      progress_.correct += correct;
      progress_.images += n;
      progress_.batch = i + 1;
      progress_.seconds = elapsed();
      for (const StepHook& hook : after_step) hook(info);

      state.batch = i + 1;
      state.images = progress_.images;
      state.loss = progress_.loss_sum / static_cast<double>(progress_.images);
      state.accuracy =
          static_cast<double>(progress_.correct) / static_cast<double>(progress_.images);
      state.seconds = progress_.seconds;
      if (options.progress()) bar.update(state);
      if (on_batch_end) on_batch_end(state);
      const bool stop = should_stop() && i + 1 < batches.size();
      times_.steps += 1;
      times_.data += seconds_between(step_start, loaded);
      times_.forward_backward += seconds_between(loaded, backward_done);
      times_.optimizer += seconds_between(backward_done, stepped);
      times_.other += seconds_since(stepped);
      if (stop) {
        stopped_ = true;
        break;
      }
    }
  }
  if (options.progress()) bar.finish();
  m.seconds = elapsed();
  if (progress_.images > 0) {
    m.train_loss = progress_.loss_sum / static_cast<double>(progress_.images);
    m.train_acc = static_cast<double>(progress_.correct) / static_cast<double>(progress_.images);
  }
  m.images_per_s = m.seconds > 0 ? static_cast<double>(progress_.images) / m.seconds : 0.0;
  if (stopped_) return m;
  if (val_loader_ && !val_loader_->dataset().empty()) {
    const EvalResult val = evaluate(model_, *val_loader_);
    m.val_loss = val.loss;
    m.val_acc = val.accuracy;
  }
  if (scheduler_) scheduler_->step();
  return m;
}

std::vector<EpochMetrics> Trainer::fit(int64_t first_epoch) {
  NABLA_CHECK(first_epoch >= 0, "Trainer::fit: first_epoch must be >= 0, got ", first_epoch);
  EpochProgress start;
  start.epoch = first_epoch;
  return fit_from(start);
}

std::vector<EpochMetrics> Trainer::fit_from(const EpochProgress& start) {
  NABLA_CHECK(start.epoch >= 0, "Trainer::fit_from: the epoch must be >= 0, got ", start.epoch);
  stop_pending_ = stopped_ = false;
  std::vector<EpochMetrics> rows;
  EpochProgress from = start;
  for (int64_t epoch = start.epoch; epoch < options.epochs(); ++epoch) {
    EpochMetrics m = run_epoch_from(from);
    if (stopped_) break;
    rows.push_back(m);
    if (on_epoch_end) on_epoch_end(rows.back());
    from = EpochProgress{};
    from.epoch = epoch + 1;
    progress_ = from;
    if (epoch + 1 < options.epochs() && should_stop()) {
      stopped_ = true;
      break;
    }
  }
  return rows;
}

}  // namespace nabla::train
