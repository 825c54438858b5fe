// A whole training run, as `nabla train` performs it: data, model, optimizer and schedule from a
// handful of options; the Trainer's loop; and the files a run leaves in its output directory.
//
//   OUT/metrics.csv      one row per epoch (train/metrics.h)
//   OUT/loss.png         train and validation loss per epoch
//   OUT/accuracy.png     train and validation accuracy per epoch
//   OUT/steps.csv        one row per optimizer step, and loss_steps.png (app/step_log.h)
//   OUT/filters.png      the first Conv2d layer's filters (CS231n's grid; none for an MLP)
//   OUT/confusion.png    the final model's confusion matrix on the test set
//   OUT/last/            a full checkpoint after every epoch (and every checkpoint_every steps,
//                        and when interrupted): `--resume OUT` continues from it
//   OUT/best/            the weights of the epoch with the best validation accuracy (with
//                        early_stopping: the lowest validation loss, early stopping's metric)
//   OUT/diagnostics.csv  with diagnostics: per-layer statistics and update ratios every
//                        diagnostics_every steps, and diagnostics_*.png (train/diagnostics.h)
//   OUT/final/           the weights after the last epoch
// Each checkpoint is an io/checkpoint.h directory; its trainer_state.json "config" holds this
// run's options, the model's JSON description, the data's class names and normalisation, the
// schedule's state and the metrics so far, so eval, predict and resume need nothing else.
//
// Exact resumption: the batch order depends only on (seed, epoch), and the checkpoint holds the
// weights, the optimizer's buffers, the schedule's epoch and every dropout generator's state, so
// `train --epochs 2` then `--resume --epochs 3` ends with the same bits as `--epochs 3` (with
// the same thread count). A checkpoint taken in the middle of an epoch also holds the Trainer's
// EpochProgress (next batch, running sums), so the resumed epoch's metrics row is the same too.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nabla/data/dataloader.h"
#include "nabla/data/dataset.h"
#include "nabla/data/datasets.h"
#include "nabla/nn/sequential.h"
#include "nabla/train/metrics.h"
#include "nabla/train/trainer.h"

namespace nabla::app {

struct RunOptions {
  std::string model = "lenet5";  // mlp | lenet5 | convnet, or a JSON description's path
  // fashion-mnist | mnist | cifar10 | csv:TRAIN[,TEST] | folder:PATH (docs/data.md)
  std::string dataset = "fashion-mnist";
  std::string label_column;      // csv: the label column's name or 0-based index; "": the last
  bool skip_bad_images = false;  // folder: leave out images that cannot be decoded
  std::string data_dir;          // "": the dataset's default directory
  int64_t epochs = 5;
  int64_t batch_size = 64;
  // Skip each epoch's last, smaller batch. Taken automatically, with a notice, when a batch-norm
  // model would meet a last batch of one image, whose statistics cannot be computed.
  bool drop_last = false;
  std::string optimizer = "adam";  // sgd | adam | adamw | rmsprop | adagrad
  double lr = 1e-3;
  double momentum = 0;                 // sgd and rmsprop (PyTorch's default 0)
  std::optional<double> weight_decay;  // none: the optimizer's default (AdamW 1e-2, others 0)
  std::string lr_schedule = "none";    // none | step | cosine | exponential | plateau
  int64_t lr_step_size = 0;            // step: epochs between decays; 0: max(1, epochs / 3)
  double lr_gamma = 0;                 // step: 0 means 0.1; exponential: 0 means 0.9
  int64_t warmup_epochs = 0;           // linear warmup before the schedule
  // plateau (optim::ReduceLROnPlateau on the validation loss; lr_gamma is its factor, 0: 0.1):
  int64_t lr_patience = 10;  // epochs without improvement before the lr drops
  int64_t lr_cooldown = 0;   // epochs after a drop in which bad epochs are not counted
  double min_lr = 0;         // the lr never drops below it
  // Diagnostics and regularisation (train/diagnostics.h, train/early_stopping.h;
  // docs/training.md "Diagnostics", "Schedules and early stopping"):
  bool diagnostics = false;             // per-layer statistics, update ratios, plots
  int64_t diagnostics_every = 10;       // record every N-th step
  double clip_grad_norm = 0;            // > 0: clip the gradients' total L2 norm to this
  int64_t early_stopping = 0;           // > 0: stop after N epochs without val-loss improvement
  double early_stopping_min_delta = 0;  // an improvement must exceed this
  std::optional<double> dropout;        // models.h's ModelConfig::dropout (presets only)
  uint64_t seed = 0;                    // weights, split, shuffling, augmentation, dropout
  int threads = 0;                      // 0: OpenBLAS's default
  std::string out_dir;                  // "": runs/<model>-<YYYYmmdd-HHMMSS>
  double val_fraction = 0.1;            // of the training set, held out for validation
  int64_t train_subset = 0;             // use the first N training images (0: all)
  int64_t test_subset = 0;              // use the first N test images (0: all)
  bool augment = false;                 // random crops (and flips, except for MNIST)
  // Under mpirun (docs/distributed.md): compare the replicas' checksums every N steps (0: never).
  int64_t check_replicas_every = 0;
  // Synchronised batch norm: statistics over all ranks' batches (distributed::set_sync_batchnorm).
  bool sync_batchnorm = false;
  // Transfer learning (app/transfer.h, docs/training.md "Transfer learning"):
  std::string classes;       // "": all; "0-4", "5,6,7": only those classes, relabelled 0..k-1
  std::string init_from;     // "": fresh weights; else a model file, checkpoint or run dir
  std::string normalize;     // "MEAN,STD" an --init-from file without its own was trained with
  std::string freeze;        // layer selectors whose parameters stay fixed ("features", "0,3")
  std::string lr_mult;       // per-layer learning-rate factors ("head=10,features=0.1")
  bool interactive = false;  // progress goes to a terminal (progress.h)
  // Interrupted training (train/interrupt.h; docs/cli.md, "Resuming"):
  int64_t checkpoint_every = 0;               // also save OUT/last every N steps (0: epochs only)
  bool handle_signals = false;                // SIGINT/SIGTERM: stop after the step, save OUT/last
  std::function<bool()> stop_when = nullptr;  // asked after each step: true stops as a signal does
};

// What can change when a run is continued; everything else comes from the checkpoint.
struct ResumeOptions {
  int64_t epochs = 0;    // the new total; 0: the saved total
  int threads = 0;       // 0: OpenBLAS's default
  std::string data_dir;  // "": the saved one (for data that moved)
  bool interactive = false;
  int64_t checkpoint_every = -1;              // -1: the saved one; 0: after epochs only
  bool handle_signals = false;                // as RunOptions
  std::function<bool()> stop_when = nullptr;  // as RunOptions
};

// Where a run stopped early (a signal or stop_when): OUT/last holds that point, and
// resume_training goes on from the next batch.
struct Interruption {
  int64_t epoch = 0;       // 1-based, the epoch it stopped in
  int64_t batch = 0;       // batches of it done (0: stopped between epochs)
  int64_t batches = 0;     // batches per epoch
  int signal = 0;          // SIGINT, SIGTERM, or 0 for stop_when
  std::string checkpoint;  // OUT/last
};

struct RunResult {
  std::string out_dir;
  int64_t stopped_early = 0;  // the epoch early stopping ended the run after (0: it did not)
  std::vector<train::EpochMetrics> history;  // every epoch of the run, resumed ones included
  train::EvalResult test;                    // the final weights on the test set
  int64_t best_epoch = 0;                    // 1-based; the one saved in OUT/best
  std::optional<Interruption> interrupted;   // set if it stopped early (then `test` is empty)
};

// Trains from scratch, printing a header, progress, one summary line per epoch and the test
// accuracy to `out`. Throws nabla::Error for bad options (naming the option and the valid
// choices), missing data (with a hint), or a diverging loss; a checkpoint saved before an error
// stays usable by resume_training. With handle_signals or stop_when a run may stop early: it then
// saves OUT/last and returns with `interrupted` set (the signal handlers are installed only
// while the Trainer runs, so a signal while loading data still ends the process as usual).
RunResult run_training(const RunOptions& options, std::ostream& out);

// "runs/NAME-YYYYmmdd-HHMMSS" (local time): where a run or a search writes without --out.
std::string timestamped_run_dir(const std::string& name);
// Continues the run in `dir` (an OUT directory) from OUT/last up to the total number of epochs.
RunResult resume_training(const std::string& dir, const ResumeOptions& options, std::ostream& out);

// A trained model with what is needed to feed it: rebuilt from a model file (nabla::load_model).
struct TrainedModel {
  std::shared_ptr<nn::Sequential> model;  // in eval mode
  std::string checkpoint;                 // the checkpoint directory, or the model file, loaded
  int64_t epoch = 0;                      // epochs it was trained for (0: not known)
  RunOptions options;                     // of the run that made it; dataset "" when not known
  std::vector<int64_t> sample_shape;      // (C, H, W) or (F)
  std::vector<std::string> class_names;
  data::Normalization normalization;
  std::string config;  // the run's config as JSON ("" when not known: bare weights, ONNX)
};
// For weights without a description (a PyTorch state dict) or to override it: eval's and
// predict's --model and --normalize, and what a data set tells about the input.
struct ModelFileOptions {
  std::string model;                 // a preset or a JSON description's path; "": the file's own
  std::string normalize;             // "MEAN,STD" (every channel) or C means then C stds; "": none
  std::vector<int64_t> input_shape;  // of the data, for a preset; empty: the preset's
  std::vector<std::string> class_names;  // of the data, when the file has none
};
// `path` is a model file (model.safetensors, or a copy of it anywhere), a checkpoint directory
// or a run's OUT directory (then OUT/best, else OUT/final, else OUT/last is used).
TrainedModel load_trained_model(const std::string& path, const ModelFileOptions& file = {});

// The data set a run trains or tests on, as run_training loads it (subsets applied);
// `data_dir` "" means options.data_dir.
data::Dataset load_run_dataset(const RunOptions& options, data::Split split,
                               const std::string& data_dir = "");

// The JSON description `nabla train` builds for options.model (a preset sized to the samples,
// or a description file whose output must have `classes` values). Throws nabla::Error naming an
// unknown model, with the closest preset.
std::string model_description(const RunOptions& options, const Shape& sample_shape,
                              int64_t classes);

// Loader over `dataset` normalised as the model was trained (no shuffling, no augmentation).
data::DataLoader eval_loader(const TrainedModel& trained, const data::Dataset& dataset,
                             int64_t batch_size = 256);

// The softmax probabilities of one sample (C, H, W) or (F) given as raw pixels (0..255) or
// features, normalised as in training. Returns one probability per class.
std::vector<double> predict_probabilities(const TrainedModel& trained, const data::Dataset& one,
                                          int64_t index = 0);

// The valid values of the choice options (nabla/suggest.h names the closest to a typo).
const std::vector<std::string>& optimizer_names();
const std::vector<std::string>& lr_schedule_names();
// csv:PATH and folder:PATH are accepted beside these
const std::vector<std::string>& dataset_names();

}  // namespace nabla::app
