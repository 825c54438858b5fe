// A whole training run and its files (see app/run.h): the Run class, which turns the options
// (run_setup.cpp makes the data sets, model, optimizer and schedules from them) into a Trainer,
// its hooks and the run directory's checkpoints, plots and report; the loop itself is the
// Trainer's, the files are io/'s.
#include "app/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/auto_invert.h"
#include "app/curves.h"
#include "app/misclassified.h"
#include "app/report.h"
#include "app/run_detail.h"
#include "app/run_info.h"
#include "app/step_log.h"
#include "app/transfer.h"
#include "nabla/data/classes.h"
#include "nabla/data/datasets.h"
#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/image.h"
#include "nabla/io/plot.h"
#include "nabla/memory.h"
#include "nabla/models.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/dropout.h"
#include "nabla/nn/summary.h"
#include "nabla/ops.h"
#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/clip_grad.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"
#include "nabla/suggest.h"
#include "nabla/threads.h"
#include "nabla/train/data_parallel.h"
#include "nabla/train/diagnostics.h"
#include "nabla/train/early_stopping.h"
#include "nabla/train/interrupt.h"

namespace nabla::app {

namespace fs = std::filesystem;
using namespace run_detail;

namespace {

// ---- the run ----

// Everything a run holds while it trains; built fresh or from a checkpoint.
class Run {
 public:
  // Under mpirun only rank 0 prints (docs/distributed.md); the others write to a null stream.
  Run(RunOptions options, std::ostream& out)
      : o_(std::move(options)), out_(world_.is_main() ? out : null_out_) {}

  void setup(const std::string& data_dir_override) {
    if (o_.threads > 0)
      set_num_threads(o_.threads);
    else if (world_.size() > 1 && std::getenv("NABLA_NUM_THREADS") == nullptr)
      set_num_threads(distributed::threads_per_rank());  // the host's cores shared by its ranks
    // A signal reaches the ranks at different steps; one that stopped while the others wait in
    // the next all-reduce would hang the job. Under MPI a signal ends the job (mpirun stops all).
    if (world_.size() > 1) o_.handle_signals = false;
    NABLA_CHECK(o_.epochs >= 1, "--epochs must be at least 1, got ", o_.epochs);
    NABLA_CHECK(o_.batch_size >= 1, "--batch-size must be at least 1, got ", o_.batch_size);
    RunOptions data_options = o_;
    if (!data_dir_override.empty()) data_options.data_dir = data_dir_override;
    data_ = load_run_data(data_options);
    if (description_.empty())
      description_ = model_description(o_, data_.train.sample_shape(), data_.train.num_classes());
    const std::vector<int64_t> input = described_input(description_);
    NABLA_CHECK(Shape(input) == data_.train.sample_shape() ||
                    (data_.train.sample_shape().size() == 1 &&
                     Shape(input).numel() == data_.train.sample_shape().numel()),
                o_.model, ": the model takes input ", Shape(input), " but ", o_.dataset,
                " samples are ", data_.train.sample_shape());
    model_ = model_from_json(description_, o_.seed, o_.model);
    // A resumed run gets its weights from OUT/last; only a fresh one reads --init-from.
    if (!o_.init_from.empty()) {
      if (!resuming_)
        out_ << init_from_checkpoint(*model_, o_.init_from, data_.train.class_names()).summary();
      // Pretrained layers expect their input scaled as in pretraining (as torchvision's models
      // expect ImageNet's statistics); a resumed run finds the same numbers in its own checkpoint.
      const auto pretrained = checkpoint_normalization(resuming_ ? o_.out_dir : o_.init_from);
      if (pretrained && pretrained->mean.size() == data_.normalization.mean.size())
        data_.normalization = *pretrained;
      // Weights without a card (a PyTorch state dict) say nothing: --normalize does.
      if (!o_.normalize.empty()) {
        NABLA_CHECK(resuming_ || !pretrained, "--normalize: ", o_.init_from,
                    " carries the normalisation it was trained with; drop --normalize");
        data_.normalization =
            for_channels(parse_normalize(o_.normalize), data_.train.sample_shape()[0]);
      }
    }
    NABLA_CHECK(o_.normalize.empty() || !o_.init_from.empty(),
                "--normalize gives the normalisation of pretrained weights (--init-from); without "
                "them a run normalises by its training set's statistics");
    const TrainableParameters trainable = trainable_parameters(*model_, o_.freeze, o_.lr_mult);
    out_ << trainable.summary();
    optimizer_ = make_optimizer(o_, trainable.params);
    check_training_memory(o_, trainable.params);
    optimizer_->set_lr_multipliers(trainable.lr_multipliers);
    scheduler_ = make_scheduler(o_, *optimizer_);
    plateau_ = make_plateau(o_, *optimizer_);
    NABLA_CHECK(o_.clip_grad_norm >= 0 && std::isfinite(o_.clip_grad_norm),
                "--clip-grad-norm must be a positive number (0: off), got ", o_.clip_grad_norm);
    NABLA_CHECK(o_.diagnostics_every >= 1, "--diagnostics-every must be at least 1, got ",
                o_.diagnostics_every);
    NABLA_CHECK(o_.early_stopping >= 0, "--early-stopping must be >= 0 epochs, got ",
                o_.early_stopping);
    NABLA_CHECK(o_.early_stopping == 0 || o_.val_fraction > 0,
                "--early-stopping watches the validation loss; it needs --val-fraction > 0");
    NABLA_CHECK(o_.early_stopping_min_delta >= 0 && std::isfinite(o_.early_stopping_min_delta),
                "--early-stopping-min-delta must be a finite number >= 0, got ",
                o_.early_stopping_min_delta);
    if (o_.early_stopping > 0)
      stopper_ = std::make_unique<train::EarlyStopping>(
          train::EarlyStoppingOptions(o_.early_stopping).min_delta(o_.early_stopping_min_delta));

    out_ << take_drop_last_for_batch_norm(o_, data_.train.size(), world_.size(), *model_);
    train_loader_ = std::make_unique<data::DataLoader>(
        data_.train, data::DataLoaderOptions(o_.batch_size)
                         .drop_last(o_.drop_last)
                         .shuffle(true)
                         .seed(o_.seed)
                         .normalize(data_.normalization)
                         .augment(augment_options(o_, data_.train))
                         .shard_index(world_.rank())
                         .shard_count(world_.size()));
    // Evaluation uses the training batch size: its activations then fit the buffers the training
    // step already holds in the storage cache, instead of adding a second, larger set to the
    // run's peak memory (docs/performance.md, "Training loop").
    // Under MPI each rank evaluates its share and the results are summed (distributed::reduce).
    // --val-fraction 0 holds nothing out: no validation loader, and OUT/best follows the training
    // accuracy (end_epoch).
    if (!data_.val.empty())
      val_loader_ = std::make_unique<data::DataLoader>(
          distributed::shard(data_.val, world_),
          data::DataLoaderOptions(o_.batch_size).normalize(data_.normalization));
    test_loader_ = std::make_unique<data::DataLoader>(
        distributed::shard(data_.test, world_),
        data::DataLoaderOptions(o_.batch_size).normalize(data_.normalization));
    fs::create_directories(o_.out_dir);
    border_ = border_stats(data_.train);  // for predict's auto-invert (app/auto_invert.h)
  }

  // Restores weights, optimizer, schedule, generators and history from OUT/last.
  void restore(const io::TrainingState& state) {
    io::load_checkpoint((fs::path(o_.out_dir) / "last").string(), *model_, optimizer_.get());
    const json config = json::parse(state.config);
    if (scheduler_)
      scheduler_->load_state({{"epoch", config.at("scheduler").at("epoch").get<double>()},
                              {"base_lr", config.at("scheduler").at("base_lr").get<double>()}});
    std::vector<std::pair<std::string, Generator*>> dropouts;
    find_dropouts(*model_, "", dropouts);
    for (auto& [name, d] : dropouts) {
      const auto it = state.rng.find("dropout." + name);
      NABLA_CHECK(it != state.rng.end(), o_.out_dir,
                  "/last: no generator state for the dropout layer '", name, "'");
      d->set_state(it->second);
    }
    if (plateau_) plateau_->load_state(state_from_json(config.at("plateau")));
    if (stopper_) stopper_->load_state(state_from_json(config.at("early_stopping")));
    history_ = history_from_json(config.at("history"));
    best_epoch_ = config.at("best_epoch").get<int64_t>();
    best_acc_ = config.at("best_acc").get<double>();
    record_ = RunRecord(config.contains("run") ? config.at("run") : json(nullptr));
    first_epoch_ = state.epoch;
    resume_at_ = progress_from_json(config, state.epoch);
    NABLA_CHECK(resume_at_.batch == 0 || o_.epochs > resume_at_.epoch, "--resume: ", o_.out_dir,
                "/last stopped in epoch ", resume_at_.epoch + 1, "; --epochs ", o_.epochs,
                " would leave it unfinished");
    NABLA_CHECK(resume_at_.batch <= train_loader_->num_batches(), o_.out_dir, "/last: batch ",
                resume_at_.batch, " of an epoch of ", train_loader_->num_batches(), " batches");
  }

  void set_description(std::string d) { description_ = std::move(d); }
  void set_resuming() { resuming_ = true; }

  RunResult train() {
    if (o_.sync_batchnorm) {
      // With one rank this is plain batch norm, bit for bit, so it is accepted without mpirun.
      sync_batchnorm_layers_ = distributed::set_sync_batchnorm(*model_, world_);
      NABLA_CHECK(sync_batchnorm_layers_ > 0, "--sync-batchnorm: model ", o_.model,
                  " has no BatchNorm1d/BatchNorm2d layer to synchronise");
    }
    print_header();
    out_ << nn::format_summary(nn::summary(*model_, described_input(description_), o_.batch_size));
    train::Trainer trainer(
        *model_, *optimizer_, *train_loader_,
        train::TrainerOptions().epochs(o_.epochs).progress(&out_).interactive(o_.interactive));
    if (!data_.val.empty()) trainer.validation(val_loader_.get());
    trainer.scheduler(scheduler_.get());
    if (world_.size() > 1) {
      // Data-parallel (docs/distributed.md): same options and model on every rank, rank 0's
      // weights broadcast, gradients all-reduced after each backward.
      distributed::check_same_on_all_ranks(
          "run options and model description",
          options_to_json(o_).dump() + description_ + std::to_string(o_.check_replicas_every),
          world_);
      dp_ = std::make_unique<distributed::DataParallel>(
          *model_, *optimizer_, world_,
          distributed::DataParallelOptions().check_every(o_.check_replicas_every));
      distributed::attach(*dp_, trainer);
      // Rank 0's dropout generators, restored or fresh, stay; the others draw their own masks.
      std::vector<std::pair<std::string, Generator*>> dropouts;
      find_dropouts(*model_, "", dropouts);
      for (auto& dropout : dropouts) distributed::decorrelate(*dropout.second, world_);
    }
    install_step_checks(trainer);
    trainer.on_epoch_end = [this](const train::EpochMetrics& m) {
      end_epoch(dp_ ? distributed::global_metrics(*dp_, m,
                                                  val_loader_ ? val_loader_->dataset().size() : 0)
                    : m);
    };
    if (stopper_ && stopper_->stopped()) {
      // Resuming a run that early stopping ended: the stop stands, whatever --epochs says.
      out_ << "early stopping: the run already stopped after epoch " << stopper_->stopped_epoch()
           << ": " << stopper_->reason() << "\n";
      trainer.options.epochs(stopper_->stopped_epoch());
    }
    try {
      return fit_or_stop(trainer);
    } catch (const Error& e) {
      detail::throw_error(e.what(), first_non_finite_output(trainer.progress()),
                          last_good_checkpoint(path("last")));
    }
  }

 private:
  // What each step checks, in this order after the backward (and after a data-parallel gradient
  // all-reduce): non-finite gradients, clipping, diagnostics (docs/training.md "Diagnostics").
  void install_step_checks(train::Trainer& trainer) {
    trainer_ = &trainer;
    gradient_guard_ = std::make_unique<train::GradientGuard>(*model_);
    trainer.after_backward.push_back(
        [this](const train::StepInfo& s) { gradient_guard_->check(s); });
    if (o_.clip_grad_norm > 0) {
      const double max_norm = o_.clip_grad_norm;
      trainer.after_backward.push_back([this, max_norm](const train::StepInfo&) {
        optim::clip_grad_norm(optimizer_->params(), max_norm);
      });
    }
    steps_ = std::make_unique<StepLog>(
        trainer, *optimizer_, o_.out_dir,
        resume_at_.epoch * train_loader_->num_batches() + resume_at_.batch);
    if (o_.diagnostics) {
      diagnostics_ = std::make_unique<train::Diagnostics>(
          *model_, train::DiagnosticsOptions().every(o_.diagnostics_every));
      const int64_t batches = train_loader_->num_batches();
      const int64_t first_step = resume_at_.epoch * batches + resume_at_.batch;
      if (resuming_) diagnostics_->read_csv(path("diagnostics.csv"), first_step);
      diagnostics_->attach(trainer, first_step, batches);
    }
  }

  // Appended to an error that ends training (a non-finite loss): runs the step's batch `at`
  // forward again, with the weights it failed with, and names the first layer whose output is
  // not finite. Costs nothing until training has failed; "" if every output is finite.
  std::string first_non_finite_output(const train::EpochProgress& at) {
    if (o_.diagnostics || at.batch >= train_loader_->num_batches()) return "";  // named already
    std::string found;
    const int id = model_->add_forward_hook(
        [&found](const std::string& name, const nn::Module& child, const Tensor& output) {
          if (!found.empty()) return;
          const std::string bad = train::first_non_finite(output);
          if (!bad.empty()) found = name + "." + child.name() + " (" + bad + ")";
        });
    try {
      NoGradGuard no_grad;
      data::Batch batch;
      train_loader_->epoch(at.epoch).batch_into(at.batch, batch);
      model_->train(true);
      model_->forward(batch.images);
    } catch (const Error&) {  // the probe is a courtesy: its own failure must not hide the error
    }
    model_->remove_forward_hook(id);
    return found.empty() ? "" : "; the first layer output that is not finite: " + found;
  }

  json config_json() const {
    json j;
    j["format"] = "nabla-train-run";
    j["version"] = 1;
    j["options"] = options_to_json(o_);
    j["effective_options"] = effective_options(o_);
    j["run"] = record_.to_json();
    if (!test_.is_null()) j["test"] = test_;
    if (border_) j["border"] = {{"mean", border_->mean}, {"std", border_->std}};
    j["model"] = json::parse(description_);
    j["sample_shape"] =
        std::vector<int64_t>(data_.train.sample_shape().begin(), data_.train.sample_shape().end());
    j["class_names"] = data_.train.class_names();
    j["normalization"] = {{"mean", data_.normalization.mean}, {"std", data_.normalization.std}};
    j["scheduler"] = scheduler_
                         ? json{{"epoch", scheduler_->epoch()}, {"base_lr", scheduler_->base_lr()}}
                         : json(nullptr);
    j["history"] = history_to_json(history_);
    j["best_epoch"] = best_epoch_;
    j["best_acc"] = best_acc_;
    j["plateau"] = plateau_ ? state_to_json(plateau_->state()) : json(nullptr);
    j["early_stopping"] = stopper_ ? state_to_json(stopper_->state()) : json(nullptr);
    return j;
  }

  // Runs the trainer from resume_at_; checkpoints every checkpoint_every steps and, stopped by a
  // signal or stop_when, saves OUT/last where it stopped. Call it last in train(): its step hook
  // must come after every other, so that a checkpoint holds what they did.
  RunResult fit_or_stop(train::Trainer& trainer) {
    NABLA_CHECK(o_.checkpoint_every >= 0, "--checkpoint-every must be >= 0, got ",
                o_.checkpoint_every);
    if (o_.checkpoint_every > 0) {
      const int64_t every = o_.checkpoint_every, batches = train_loader_->num_batches();
      trainer.after_step.push_back([this, &trainer, every, batches](const train::StepInfo& s) {
        // After an epoch's last step the epoch's own checkpoint follows at once.
        if ((s.step + 1) % every == 0 && s.batch + 1 < batches)
          save_last(training_state(trainer.progress()));
      });
    }
    if (o_.handle_signals || o_.stop_when)
      trainer.stop_when = [this] {
        return (o_.handle_signals && train::stop_requested()) || (o_.stop_when && o_.stop_when());
      };
    {
      // Only around the loop: a signal while loading data or writing the final files ends the
      // process as usual, and a second Ctrl-C while OUT/last is saved below does too.
      std::optional<train::InterruptGuard> guard;
      if (o_.handle_signals) guard.emplace();
      trainer.fit_from(resume_at_);
    }
    // Early stopping ends the loop through request_stop() too, but it is the end of the run.
    if (!trainer.stopped() || (stopper_ && stopper_->stopped())) return finish();

    const train::EpochProgress& at = trainer.progress();
    if (at.batch > 0) save_last(training_state(at));  // else end_epoch saved this point
    Interruption stop;
    stop.epoch = at.epoch + 1;
    stop.batch = at.batch;
    stop.batches = train_loader_->num_batches();
    stop.signal = o_.handle_signals ? train::stop_signal() : 0;
    stop.checkpoint = path("last");
    write_partial_report("interrupted in epoch " + std::to_string(stop.epoch) + " after batch " +
                         std::to_string(stop.batch) + "/" + std::to_string(stop.batches) +
                         "; resume with: nabla train --resume " + o_.out_dir);
    RunResult result;
    result.out_dir = o_.out_dir;
    result.history = history_;
    result.best_epoch = best_epoch_;
    result.interrupted = stop;
    return result;
  }

  void save_last(const io::TrainingState& state) const {
    if (!world_.is_main()) return;  // under MPI rank 0 writes every file
    steps_->write();                // steps.csv up to the checkpoint, for a resume to read back
    io::save_checkpoint(path("last"), *model_, optimizer_.get(), state);
  }

  // A checkpoint in the middle of epoch at.epoch: the completed epochs' state, with the Trainer's
  // position and running sums in config's "epoch_progress" (docs/checkpoints.md).
  io::TrainingState training_state(const train::EpochProgress& at) const {
    io::TrainingState state = training_state(at.epoch);
    if (at.batch == 0) return state;
    state.step += at.batch;
    json config = config_json();
    config["epoch_progress"] = progress_to_json(at);
    state.config = config.dump();
    return state;
  }

  io::TrainingState training_state(int64_t epoch) const {
    io::TrainingState state;
    state.epoch = epoch;
    state.step = epoch * train_loader_->num_batches();
    std::vector<std::pair<std::string, Generator*>> dropouts;
    find_dropouts(*model_, "", dropouts);
    for (const auto& [name, d] : dropouts) state.rng["dropout." + name] = d->state();
    state.config = config_json().dump();
    return state;
  }

  std::string path(const char* name) const { return (fs::path(o_.out_dir) / name).string(); }

  void print_header() {
    out_ << "model " << o_.model << " (" << parameter_count(*model_) << " parameters), "
         << o_.dataset << ": " << data_.train.size() << " train / " << data_.val.size() << " val / "
         << data_.test.size() << " test images\n"
         << o_.optimizer << " lr " << o_.lr;
    if (scheduler_) out_ << " (" << o_.lr_schedule << " schedule)";
    out_ << ", batch " << o_.batch_size << ", " << num_threads() << " thread"
         << (num_threads() == 1 ? "" : "s") << ", seed " << o_.seed << "\n";
    if (resume_at_.batch > 0)
      out_ << "resuming epoch " << resume_at_.epoch + 1 << " of " << o_.epochs << " after batch "
           << resume_at_.batch << "/" << train_loader_->num_batches() << "\n";
    else if (first_epoch_ > 0)
      out_ << "resuming after epoch " << first_epoch_ << " of " << o_.epochs << "\n";
    if (world_.size() > 1)
      out_ << "data-parallel over " << world_.size() << " MPI ranks, " << o_.batch_size
           << " images per step in all\n";
    if (o_.sync_batchnorm)
      out_ << "synchronised batch norm (" << sync_batchnorm_layers_ << " layers) over "
           << world_.size() << " rank"
           << (world_.size() == 1 ? ": the same as per-rank statistics" : "s") << "\n";
    out_ << "writing to " << o_.out_dir << "\n" << std::flush;
  }

  void end_epoch(const train::EpochMetrics& m) {
    history_.push_back(m);
    if (trainer_) record_.set_epoch_times(trainer_->epoch_times());
    const double score = m.has_validation() ? m.val_acc : m.train_acc;
    bool best = best_epoch_ == 0 || score > best_acc_;
    // Without validation data the plateau schedule watches the training loss.
    if (plateau_) plateau_->step(m.has_validation() ? m.val_loss : m.train_loss);
    if (stopper_) {
      // OUT/best follows the metric early stopping watches: the lowest validation loss.
      const bool stop = stopper_->update(m.epoch, m.val_loss);
      best = stopper_->improved();
      if (stop && trainer_) trainer_->request_stop();
    }
    if (best) best_epoch_ = m.epoch, best_acc_ = score;

    std::ostringstream line;
    line << "epoch " << m.epoch << "/" << o_.epochs << "  train loss " << std::fixed
         << std::setprecision(4) << m.train_loss << " acc " << percent(m.train_acc);
    if (m.has_validation())
      line << "  val loss " << std::setprecision(4) << m.val_loss << " acc " << percent(m.val_acc);
    line << "  lr " << std::defaultfloat << std::setprecision(3) << m.lr << "  " << std::fixed
         << std::setprecision(1) << m.seconds << "s  " << std::setprecision(0) << m.images_per_s
         << " img/s" << (best ? "  *best" : "");
    out_ << line.str() << "\n" << std::flush;
    if (stopper_ && stopper_->stopped())
      out_ << "early stopping after epoch " << m.epoch << " of " << o_.epochs << ": "
           << stopper_->reason() << "; OUT/best holds epoch " << stopper_->best_epoch() << "\n"
           << std::flush;
    train_seconds_ += m.seconds;
    if (!world_.is_main()) return;  // under MPI rank 0 writes every file

    // The files a reader may look at first; then the checkpoints, last/ as the resume point.
    train::write_metrics_csv(path("metrics.csv"), history_);
    write_curves(o_.out_dir, history_);
    steps_->write();
    if (diagnostics_) {
      diagnostics_->write_csv(path("diagnostics.csv"));
      diagnostics_->write_plots(o_.out_dir);
    }
    const io::TrainingState state = training_state(m.epoch);
    if (best) io::save_checkpoint(path("best"), *model_, nullptr, state);
    io::save_checkpoint(path("last"), *model_, optimizer_.get(), state);
    write_partial_report("training, " + std::to_string(m.epoch) + " of " +
                         std::to_string(o_.epochs) + " epochs done");
  }

  // report.html stays current while the run trains and after an interrupt or a crash, not only
  // when it ends; it reads its configuration from OUT/last, saved just before.
  void write_partial_report(const std::string& status) const {
    if (world_.is_main())
      write_run_report(
          o_.out_dir, {{"status", status}, {"best validation epoch", std::to_string(best_epoch_)}});
  }

  RunResult finish() {
    RunResult result;
    result.out_dir = o_.out_dir;
    if (stopper_) result.stopped_early = stopper_->stopped_epoch();
    result.history = history_;
    result.best_epoch = best_epoch_;
    // Before OUT/final is saved, so that its trainer_state.json holds the test result.
    result.test = distributed::reduce(train::evaluate(*model_, *test_loader_), world_);
    test_ = {{"accuracy", result.test.accuracy},
             {"loss", result.test.loss},
             {"samples", result.test.samples}};
    if (world_.is_main())
      io::save_checkpoint(
          path("final"), *model_, nullptr,
          training_state(stopper_ && stopper_->stopped() ? stopper_->stopped_epoch() : o_.epochs));
    if (const Tensor filters = world_.is_main() ? first_filters(*model_) : Tensor();
        filters.defined())
      io::write_filter_grid_png(path("filters.png"), filters.detach(),
                                {.title = "First-layer filters, " + o_.model});
    if (dp_) out_ << dp_->summary(train_seconds_) << "\n";
    if (!world_.is_main()) return result;
    io::write_confusion_matrix_png(path("confusion.png"), result.test.confusion.counts(),
                                   data_.test.class_names(),
                                   "Confusion matrix, " + o_.dataset + " test set");
    // The whole test set in order (test_loader_ holds this rank's shard under MPI).
    const bool wrong_drawn = write_misclassified_png(
        path("misclassified.png"), data_.test,
        find_misclassified(
            *model_, data::DataLoader(
                         data_.test,
                         data::DataLoaderOptions(o_.batch_size).normalize(data_.normalization))));
    write_run_report(o_.out_dir, {{"test accuracy", percent(result.test.accuracy) + " of " +
                                                        std::to_string(result.test.samples) +
                                                        " images (final weights)"},
                                  {"best validation epoch", std::to_string(best_epoch_)}});
    out_ << "test accuracy " << percent(result.test.accuracy) << " (" << result.test.samples
         << " images, final weights; best validation epoch " << best_epoch_ << ")\n"
         << "wrote metrics.csv, loss.png, accuracy.png, "
         << (first_filters(*model_).defined() ? "filters.png, " : "") << "confusion.png, "
         << (wrong_drawn ? "misclassified.png, " : "")
         << "report.html and checkpoints best/, final/, last/ to " << o_.out_dir << "\n";
    return result;
  }

  distributed::Communicator& world_ = distributed::Communicator::world();
  std::ostream null_out_{nullptr};  // what ranks other than 0 print: nothing
  RunOptions o_;
  std::ostream& out_;
  RunData data_;
  std::string description_;
  std::shared_ptr<nn::Sequential> model_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  std::unique_ptr<optim::LRScheduler> scheduler_;
  std::unique_ptr<data::DataLoader> train_loader_, val_loader_, test_loader_;
  std::vector<train::EpochMetrics> history_;
  int64_t first_epoch_ = 0, best_epoch_ = 0;
  train::EpochProgress resume_at_;  // where fit goes on from: first_epoch_, or inside it
  double best_acc_ = 0;
  bool resuming_ = false;
  int64_t sync_batchnorm_layers_ = 0;
  std::unique_ptr<distributed::DataParallel> dp_;      // under mpirun -np N > 1
  std::unique_ptr<optim::ReduceLROnPlateau> plateau_;  // --lr-schedule plateau
  std::unique_ptr<train::EarlyStopping> stopper_;      // --early-stopping
  std::unique_ptr<train::GradientGuard> gradient_guard_;
  std::unique_ptr<train::Diagnostics> diagnostics_;  // --diagnostics
  std::unique_ptr<StepLog> steps_;                   // steps.csv, loss_steps.png
  train::Trainer* trainer_ = nullptr;                // while train() runs
  double train_seconds_ = 0;
  RunRecord record_;  // date, duration, version, CPU (trainer_state.json's "run")
  json test_ = nullptr;
  std::optional<BorderStats>
      border_;  // of the training images  // the final weights' test result, once measured
};

}  // namespace

RunResult run_training(const RunOptions& options, std::ostream& out) {
  RunOptions o = options;
  if (o.out_dir.empty()) o.out_dir = default_out_dir(o);
  // Ranks may read the clock on either side of a second: all take rank 0's directory.
  o.out_dir = distributed::Communicator::world().broadcast(o.out_dir);
  NABLA_CHECK(!fs::exists(fs::path(o.out_dir) / "last"), o.out_dir,
              " already holds a training run --- continue it with --resume ", o.out_dir,
              " or choose another --out");
  Run run(o, out);
  run.setup("");
  return run.train();
}

RunResult resume_training(const std::string& dir, const ResumeOptions& options, std::ostream& out) {
  const std::string last = (fs::path(dir) / "last").string();
  NABLA_CHECK(fs::is_directory(io::resolve_atomic_directory(last)), "--resume ", dir,
              ": no checkpoint ", last, " --- pass the --out directory of an earlier nabla train");
  const io::TrainingState state = io::read_training_state(last);
  const json config = checkpoint_config(state, last);
  RunOptions o = options_from_json(config.at("options"));
  o.out_dir = dir;
  o.interactive = options.interactive;
  o.threads = options.threads;
  if (options.checkpoint_every >= 0) o.checkpoint_every = options.checkpoint_every;
  o.handle_signals = options.handle_signals;
  o.stop_when = options.stop_when;
  if (options.epochs > 0) o.epochs = options.epochs;
  if (!options.data_dir.empty()) o.data_dir = options.data_dir;
  NABLA_CHECK(o.epochs >= state.epoch, "--resume: the run already has ", state.epoch,
              " epochs; --epochs ", o.epochs, " would go back");
  Run run(o, out);
  run.set_description(config.at("model").dump());
  run.set_resuming();
  run.setup("");
  run.restore(state);
  return run.train();
}

}  // namespace nabla::app
