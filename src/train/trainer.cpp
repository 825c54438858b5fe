// The training loop and evaluation (see include/nabla/train/trainer.h).
#include "nabla/train/trainer.h"

#include <chrono>
#include <cmath>
#include <iostream>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/ops.h"

namespace nabla::train {

namespace {

// Correct predictions in a batch: logits (B, K) against B labels; ties go to the lowest class,
// as argmax does. Reads the logits in place: called every training step, it must not copy.
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

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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

}  // namespace

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
    Tensor logits = model.forward(batch.images);
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

Trainer& Trainer::validation(const data::DataLoader* loader) {
  val_loader_ = loader;
  return *this;
}

Trainer& Trainer::scheduler(optim::LRScheduler* scheduler) {
  scheduler_ = scheduler;
  return *this;
}

EpochMetrics Trainer::run_epoch(int64_t epoch) {
  EpochMetrics m;
  m.epoch = epoch + 1;
  m.lr = optimizer_.lr();
  ProgressState state;
  state.epoch = epoch + 1;
  state.epochs = options.epochs();
  state.batches = train_loader_.num_batches();
  ProgressBar bar(options.progress() ? *options.progress() : std::cout, options.interactive());

  double loss_sum = 0;
  int64_t correct = 0;
  const auto start = std::chrono::steady_clock::now();
  {
    ModeGuard mode(model_, true);
    const data::DataLoader::Epoch batches = train_loader_.epoch(epoch);
    data::Batch batch;  // one buffer for the epoch: a step allocates nothing (steady_state_test)
    for (int64_t i = 0; i < batches.size(); ++i) {
      batches.batch_into(i, batch);
      optimizer_.zero_grad();
      Tensor logits = model_.forward(batch.images);
      Tensor loss = cross_entropy(logits, batch.labels);
      const double loss_value = loss.item();
      NABLA_CHECK(std::isfinite(loss_value), "train: the loss became ", loss_value, " in epoch ",
                  epoch + 1, ", batch ", i + 1,
                  " --- the learning rate is probably too high; try a smaller --lr");
      loss.backward();
      StepInfo info{epoch, i, epoch * batches.size() + i, loss_value, &batch, &logits};
      for (const StepHook& hook : after_backward) hook(info);
      optimizer_.step();
      for (const StepHook& hook : after_step) hook(info);

      const auto n = static_cast<int64_t>(batch.labels.size());
      loss_sum += loss_value * static_cast<double>(n);
      correct += count_correct(logits, batch.labels, nullptr);
      state.batch = i + 1;
      state.images += n;
      state.loss = loss_sum / static_cast<double>(state.images);
      state.accuracy = static_cast<double>(correct) / static_cast<double>(state.images);
      state.seconds = seconds_since(start);
      if (options.progress()) bar.update(state);
      if (on_batch_end) on_batch_end(state);
    }
  }
  if (options.progress()) bar.finish();
  m.seconds = seconds_since(start);
  m.train_loss = state.loss;
  m.train_acc = state.accuracy;
  m.images_per_s = m.seconds > 0 ? static_cast<double>(state.images) / m.seconds : 0.0;
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
  std::vector<EpochMetrics> rows;
  for (int64_t epoch = first_epoch; epoch < options.epochs(); ++epoch) {
    rows.push_back(run_epoch(epoch));
    if (on_epoch_end) on_epoch_end(rows.back());
  }
  return rows;
}

}  // namespace nabla::train
