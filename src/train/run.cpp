// A whole training run and its files (see include/nabla/train/run.h). This is where options
// become objects: datasets, a model from models.h, an optimizer, a schedule; the loop itself is
// the Trainer's, the files are io/'s. nlohmann-json writes and reads the run's config, which
// io/checkpoint.h stores in trainer_state.json.
#include "nabla/train/run.h"

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

#include "nabla/data/classes.h"
#include "nabla/data/datasets.h"
#include "nabla/distributed.h"
#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/image.h"
#include "nabla/io/plot.h"
#include "nabla/memory.h"
#include "nabla/models.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/dropout.h"
#include "nabla/ops.h"
#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/clip_grad.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"
#include "nabla/suggest.h"
#include "nabla/threads.h"
#include "nabla/train/diagnostics.h"
#include "nabla/train/early_stopping.h"
#include "nabla/train/interrupt.h"
#include "nabla/train/report.h"
#include "nabla/train/transfer.h"

namespace nabla::train {

using nlohmann::json;
namespace fs = std::filesystem;

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names = {"sgd", "adam", "adamw", "rmsprop", "adagrad"};
  return names;
}
const std::vector<std::string>& lr_schedule_names() {
  static const std::vector<std::string> names = {"none", "step", "cosine", "exponential",
                                                 "plateau"};
  return names;
}
const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"fashion-mnist", "mnist", "cifar10"};
  return names;
}

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i)
    out += (i == 0 ? "" : i + 1 == items.size() ? " or " : ", ") + items[i];
  return out;
}

// Throws "<what> 'value' is not one of ...; did you mean ...?" unless value is a choice.
void check_choice(const char* what, const std::string& value,
                  const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  detail::throw_error("unknown ", what, " '", value, "'", did_you_mean(value, choices),
                      "; expected ", join(choices));
}

bool is_preset(const std::string& model) {
  const auto& names = preset_names();
  return std::find(names.begin(), names.end(), model) != names.end();
}

// ---- options <-> JSON ----

json options_to_json(const RunOptions& o) {
  return {{"model", o.model},
          {"dataset", o.dataset},
          {"data_dir", o.data_dir},
          {"epochs", o.epochs},
          {"batch_size", o.batch_size},
          {"optimizer", o.optimizer},
          {"lr", o.lr},
          {"momentum", o.momentum},
          {"weight_decay", o.weight_decay ? json(*o.weight_decay) : json(nullptr)},
          {"lr_schedule", o.lr_schedule},
          {"lr_step_size", o.lr_step_size},
          {"lr_gamma", o.lr_gamma},
          {"warmup_epochs", o.warmup_epochs},
          {"dropout", o.dropout ? json(*o.dropout) : json(nullptr)},
          {"seed", o.seed},
          {"threads", o.threads},
          {"out_dir", o.out_dir},
          {"val_fraction", o.val_fraction},
          {"train_subset", o.train_subset},
          {"test_subset", o.test_subset},
          {"augment", o.augment},
          {"checkpoint_every", o.checkpoint_every},
          {"lr_patience", o.lr_patience},
          {"lr_cooldown", o.lr_cooldown},
          {"min_lr", o.min_lr},
          {"diagnostics", o.diagnostics},
          {"diagnostics_every", o.diagnostics_every},
          {"clip_grad_norm", o.clip_grad_norm},
          {"early_stopping", o.early_stopping},
          {"early_stopping_min_delta", o.early_stopping_min_delta},
          {"classes", o.classes},
          {"init_from", o.init_from},
          {"freeze", o.freeze},
          {"lr_mult", o.lr_mult},
          {"sync_batchnorm", o.sync_batchnorm}};
}

RunOptions options_from_json(const json& j) {
  RunOptions o;
  o.model = j.at("model").get<std::string>();
  o.dataset = j.at("dataset").get<std::string>();
  o.data_dir = j.at("data_dir").get<std::string>();
  o.epochs = j.at("epochs").get<int64_t>();
  o.batch_size = j.at("batch_size").get<int64_t>();
  o.optimizer = j.at("optimizer").get<std::string>();
  o.lr = j.at("lr").get<double>();
  o.momentum = j.at("momentum").get<double>();
  if (!j.at("weight_decay").is_null()) o.weight_decay = j.at("weight_decay").get<double>();
  o.lr_schedule = j.at("lr_schedule").get<std::string>();
  o.lr_step_size = j.at("lr_step_size").get<int64_t>();
  o.lr_gamma = j.at("lr_gamma").get<double>();
  o.warmup_epochs = j.at("warmup_epochs").get<int64_t>();
  if (!j.at("dropout").is_null()) o.dropout = j.at("dropout").get<double>();
  o.seed = j.at("seed").get<uint64_t>();
  o.threads = j.at("threads").get<int>();
  o.out_dir = j.at("out_dir").get<std::string>();
  o.val_fraction = j.at("val_fraction").get<double>();
  o.train_subset = j.at("train_subset").get<int64_t>();
  o.test_subset = j.at("test_subset").get<int64_t>();
  o.augment = j.at("augment").get<bool>();
  // Absent from checkpoints written before these options existed: then the default stays.
  o.checkpoint_every = j.value("checkpoint_every", o.checkpoint_every);
  o.lr_patience = j.value("lr_patience", o.lr_patience);
  o.lr_cooldown = j.value("lr_cooldown", o.lr_cooldown);
  o.min_lr = j.value("min_lr", o.min_lr);
  o.diagnostics = j.value("diagnostics", o.diagnostics);
  o.diagnostics_every = j.value("diagnostics_every", o.diagnostics_every);
  o.clip_grad_norm = j.value("clip_grad_norm", o.clip_grad_norm);
  o.early_stopping = j.value("early_stopping", o.early_stopping);
  o.early_stopping_min_delta = j.value("early_stopping_min_delta", o.early_stopping_min_delta);
  o.classes = j.value("classes", o.classes);
  o.init_from = j.value("init_from", o.init_from);
  o.freeze = j.value("freeze", o.freeze);
  o.lr_mult = j.value("lr_mult", o.lr_mult);
  o.sync_batchnorm = j.value("sync_batchnorm", o.sync_batchnorm);
  return o;
}

// A Trainer's position inside an epoch; null in an epoch-end checkpoint. Doubles are written
// with 17 digits, so they read back bitwise and the resumed epoch's sums come out the same.
json progress_to_json(const EpochProgress& p) {
  return {{"epoch", p.epoch},     {"batch", p.batch},   {"loss_sum", p.loss_sum},
          {"correct", p.correct}, {"images", p.images}, {"seconds", p.seconds}};
}
EpochProgress progress_from_json(const json& config, int64_t epochs_done) {
  EpochProgress p;
  p.epoch = epochs_done;
  const auto it = config.find("epoch_progress");
  if (it == config.end() || it->is_null()) return p;
  const json& j = *it;
  NABLA_CHECK(j.at("epoch").get<int64_t>() == epochs_done && j.at("batch").get<int64_t>() >= 0,
              "trainer_state.json: epoch_progress ", j.dump(), " does not continue epoch ",
              epochs_done + 1);
  p.batch = j.at("batch").get<int64_t>();
  p.loss_sum = j.at("loss_sum").get<double>();
  p.correct = j.at("correct").get<int64_t>();
  p.images = j.at("images").get<int64_t>();
  p.seconds = j.at("seconds").get<double>();
  return p;
}

// JSON has no NaN: a missing validation value is null.
json number_or_null(double v) {
  return std::isnan(v) ? json(nullptr) : json(v);
}
double number_or_nan(const json& j) {
  return j.is_null() ? std::nan("") : j.get<double>();
}

json history_to_json(const std::vector<EpochMetrics>& rows) {
  json out = json::array();
  for (const EpochMetrics& m : rows)
    out.push_back({{"epoch", m.epoch},
                   {"lr", m.lr},
                   {"train_loss", m.train_loss},
                   {"train_acc", m.train_acc},
                   {"val_loss", number_or_null(m.val_loss)},
                   {"val_acc", number_or_null(m.val_acc)},
                   {"seconds", m.seconds},
                   {"images_per_s", m.images_per_s}});
  return out;
}

std::vector<EpochMetrics> history_from_json(const json& j) {
  std::vector<EpochMetrics> rows;
  for (const json& r : j)
    rows.push_back({r.at("epoch").get<int64_t>(), r.at("lr").get<double>(),
                    r.at("train_loss").get<double>(), r.at("train_acc").get<double>(),
                    number_or_nan(r.at("val_loss")), number_or_nan(r.at("val_acc")),
                    r.at("seconds").get<double>(), r.at("images_per_s").get<double>()});
  return rows;
}

// ---- data ----

struct RunData {
  data::Dataset train, val, test;
  data::Normalization normalization;
};

RunData load_run_data(const RunOptions& o) {
  RunData d;
  data::Dataset full = load_run_dataset(o, data::Split::Train);
  NABLA_CHECK(o.val_fraction >= 0 && o.val_fraction < 1, "--val-fraction must be in [0, 1), got ",
              o.val_fraction);
  auto split = data::train_val_split(full, o.val_fraction, o.seed);
  d.train = split.train;
  d.val = split.val;
  NABLA_CHECK(d.train.size() > 0, o.dataset, ": no training samples left after holding out ",
              d.val.size(), " for validation");
  d.test = load_run_dataset(o, data::Split::Test);
  d.normalization = data::compute_normalization(d.train);
  return d;
}

data::AugmentOptions augment_options(const RunOptions& o, const data::Dataset& train) {
  if (!o.augment) return {};
  NABLA_CHECK(train.sample_shape().size() == 3, "--augment needs images (C, H, W); ", o.dataset,
              " has samples of shape ", train.sample_shape());
  // Shifts of about a seventh of the image, as the usual CIFAR-10 recipe (4 of 32 pixels).
  const int64_t pad = std::max<int64_t>(1, train.sample_shape()[2] / 8);
  // Mirrored digits are other symbols; mirrored clothes and CIFAR objects are the same class.
  return data::AugmentOptions().crop_padding(pad).hflip(o.dataset != "mnist");
}

// ---- model, optimizer, schedule ----

std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  NABLA_CHECK(in.good(), "cannot read the model description '", path, "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string model_description(const RunOptions& o, const Shape& sample_shape, int64_t classes) {
  if (is_preset(o.model)) {
    ModelConfig config;
    config.in_channels = sample_shape[0];
    config.height = sample_shape.size() == 3 ? sample_shape[1] : 1;
    config.width = sample_shape.size() == 3 ? sample_shape[2] : 1;
    config.num_classes = classes;
    config.dropout = o.dropout;
    config.seed = o.seed;
    return preset_json(o.model, config);
  }
  if (!fs::exists(o.model)) {
    detail::throw_error("unknown model '", o.model, "'", did_you_mean(o.model, preset_names()),
                        "; expected ", join(preset_names()),
                        " or the path of a JSON model description");
  }
  NABLA_CHECK(!o.dropout, "--dropout applies to the presets; set the dropout layers' p in ",
              o.model, " instead");
  const std::string text = read_text_file(o.model);
  const std::vector<int64_t> out = model_output_shape(text, o.model);
  NABLA_CHECK(out.size() == 1 && out[0] == classes, o.model, ": the model outputs ", Shape(out),
              " per sample, but ", o.dataset, " has ", classes, " classes");
  return text;
}

namespace {

std::vector<int64_t> described_input(const std::string& description) {
  return json::parse(description).at("input").get<std::vector<int64_t>>();
}

std::unique_ptr<optim::Optimizer> make_optimizer(const RunOptions& o, std::vector<Tensor> params) {
  check_choice("optimizer", o.optimizer, optimizer_names());
  NABLA_CHECK(o.lr > 0 && std::isfinite(o.lr), "--lr must be a positive number, got ", o.lr);
  const bool momentum_used = o.optimizer == "sgd" || o.optimizer == "rmsprop";
  NABLA_CHECK(o.momentum == 0 || momentum_used, "--momentum applies to sgd and rmsprop, not ",
              o.optimizer);
  if (o.optimizer == "sgd")
    return std::make_unique<optim::SGD>(
        params,
        optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay.value_or(0)));
  if (o.optimizer == "adam")
    return std::make_unique<optim::Adam>(
        params, optim::AdamOptions(o.lr).weight_decay(o.weight_decay.value_or(0)));
  if (o.optimizer == "adamw") {
    optim::AdamWOptions options(o.lr);
    if (o.weight_decay) options.weight_decay(*o.weight_decay);
    return std::make_unique<optim::AdamW>(params, options);
  }
  if (o.optimizer == "rmsprop")
    return std::make_unique<optim::RMSprop>(
        params,
        optim::RMSpropOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay.value_or(0)));
  return std::make_unique<optim::Adagrad>(
      params, optim::AdagradOptions(o.lr).weight_decay(o.weight_decay.value_or(0)));
}

// With a memory limit (memory.h), checks before the first step that the gradients and the
// optimizer's state (tensors the size of the parameters) fit beside what is already held; the
// activations need more, and the limit names them when a step allocates them.
void check_training_memory(const RunOptions& o, const std::vector<Tensor>& params) {
  if (memory_limit() == 0) return;
  size_t param_bytes = 0;
  for (const Tensor& p : params) param_bytes += p.numel() * dtype_size(p.dtype());
  const bool adam = o.optimizer == "adam" || o.optimizer == "adamw";
  const int state_copies = adam                                           ? 2
                           : (o.optimizer == "rmsprop" && o.momentum > 0) ? 2
                           : (o.optimizer == "sgd" && o.momentum == 0)    ? 0
                                                                          : 1;
  const size_t need = param_bytes * (1 + state_copies);
  NABLA_CHECK(memory_in_use() + need <= memory_limit(), "memory limit: training ", o.model,
              " with ", o.optimizer, " needs ", format_bytes(need), " more (the gradients and ",
              state_copies, " optimizer state tensor(s) of its ", format_bytes(param_bytes),
              " of trainable parameters), but ", format_bytes(memory_in_use()),
              " is in use and the limit is ", format_bytes(memory_limit()),
              "; raise --memory-limit or use a smaller model");
}

std::unique_ptr<optim::LRScheduler> make_scheduler(const RunOptions& o, optim::Optimizer& opt) {
  check_choice("learning-rate schedule", o.lr_schedule, lr_schedule_names());
  NABLA_CHECK(o.warmup_epochs >= 0, "--warmup-epochs must be >= 0, got ", o.warmup_epochs);
  const optim::Warmup warmup{o.warmup_epochs, 1.0 / 3};
  if (o.lr_schedule == "step") {
    const int64_t step = o.lr_step_size > 0 ? o.lr_step_size : std::max<int64_t>(1, o.epochs / 3);
    return std::make_unique<optim::StepLR>(
        opt, optim::StepLROptions(step).gamma(o.lr_gamma > 0 ? o.lr_gamma : 0.1).warmup(warmup));
  }
  if (o.lr_schedule == "exponential")
    return std::make_unique<optim::ExponentialLR>(
        opt, optim::ExponentialLROptions(o.lr_gamma > 0 ? o.lr_gamma : 0.9).warmup(warmup));
  if (o.lr_schedule == "cosine")
    return std::make_unique<optim::CosineAnnealingLR>(
        opt, optim::CosineAnnealingLROptions(std::max<int64_t>(1, o.epochs - o.warmup_epochs))
                 .warmup(warmup));
  if (o.lr_schedule == "plateau") {
    // Not a closed form: ReduceLROnPlateau reacts to the validation loss (make_plateau).
    NABLA_CHECK(o.warmup_epochs == 0, "--warmup-epochs does not combine with --lr-schedule ",
                "plateau (PyTorch's ReduceLROnPlateau has no warmup either)");
    return nullptr;
  }
  NABLA_CHECK(o.warmup_epochs == 0, "--warmup-epochs needs a --lr-schedule (step, cosine or ",
              "exponential)");
  return nullptr;
}

std::unique_ptr<optim::ReduceLROnPlateau> make_plateau(const RunOptions& o, optim::Optimizer& opt) {
  const bool plateau = o.lr_schedule == "plateau";
  const RunOptions defaults;
  NABLA_CHECK(plateau || (o.lr_patience == defaults.lr_patience &&
                          o.lr_cooldown == defaults.lr_cooldown && o.min_lr == defaults.min_lr),
              "--lr-patience, --lr-cooldown and --min-lr apply to --lr-schedule plateau, not ",
              o.lr_schedule);
  if (!plateau) return nullptr;
  NABLA_CHECK(o.lr_gamma == 0 || o.lr_gamma < 1, "--lr-gamma is the plateau schedule's factor ",
              "and must be below 1, got ", o.lr_gamma);
  return std::make_unique<optim::ReduceLROnPlateau>(opt,
                                                    optim::ReduceLROnPlateauOptions()
                                                        .factor(o.lr_gamma > 0 ? o.lr_gamma : 0.1)
                                                        .patience(o.lr_patience)
                                                        .cooldown(o.lr_cooldown)
                                                        .min_lr(o.min_lr));
}

// A scheduler's state() as a JSON object; NaN (no value yet) as null, which JSON can hold.
json state_to_json(const std::vector<std::pair<std::string, double>>& state) {
  json j = json::object();
  for (const auto& [key, value] : state) j[key] = number_or_null(value);
  return j;
}
std::vector<std::pair<std::string, double>> state_from_json(const json& j) {
  std::vector<std::pair<std::string, double>> state;
  for (const auto& [key, value] : j.items()) state.emplace_back(key, number_or_nan(value));
  return state;
}

// The generator of every layer with random state (dropout) and the layer's dotted path, depth
// first.
void find_dropouts(nn::Module& m, const std::string& prefix,
                   std::vector<std::pair<std::string, Generator*>>& out) {
  if (Generator* g = m.random_generator()) out.emplace_back(prefix, g);
  for (const auto& [name, child] : m.named_children())
    find_dropouts(*child, prefix.empty() ? name : prefix + "." + name, out);
}

// The filters of the first layer that has some to draw (a convolution's weight); undefined if none.
Tensor first_filters(const nn::Module& m) {
  if (Tensor w = m.filters(); w.defined()) return w;
  for (const auto& [name, child] : m.named_children())
    if (Tensor w = first_filters(*child); w.defined()) return w;
  return Tensor();
}

std::string default_out_dir(const RunOptions& o) {
  return timestamped_run_dir(is_preset(o.model) ? o.model : fs::path(o.model).stem().string());
}

int64_t parameter_count(const nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

std::string percent(double fraction) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << 100 * fraction << "%";
  return s.str();
}

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
    }
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
    if (o_.early_stopping > 0)
      stopper_ = std::make_unique<EarlyStopping>(
          EarlyStoppingOptions(o_.early_stopping).min_delta(o_.early_stopping_min_delta));

    train_loader_ = std::make_unique<data::DataLoader>(
        data_.train, data::DataLoaderOptions(o_.batch_size)
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
    val_loader_ = std::make_unique<data::DataLoader>(
        distributed::shard(data_.val, world_),
        data::DataLoaderOptions(o_.batch_size).normalize(data_.normalization));
    test_loader_ = std::make_unique<data::DataLoader>(
        distributed::shard(data_.test, world_),
        data::DataLoaderOptions(o_.batch_size).normalize(data_.normalization));
    fs::create_directories(o_.out_dir);
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
    Trainer trainer(*model_, *optimizer_, *train_loader_,
                    TrainerOptions().epochs(o_.epochs).progress(&out_).interactive(o_.interactive));
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
      dp_->attach(trainer);
      // Rank 0's dropout generators, restored or fresh, stay; the others draw their own masks.
      std::vector<std::pair<std::string, Generator*>> dropouts;
      find_dropouts(*model_, "", dropouts);
      for (auto& dropout : dropouts) distributed::decorrelate(*dropout.second, world_);
    }
    install_step_checks(trainer);
    trainer.on_epoch_end = [this](const EpochMetrics& m) {
      end_epoch(dp_ ? dp_->global_metrics(m, val_loader_->dataset().size()) : m);
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
                          last_good_checkpoint());
    }
  }

 private:
  // What each step checks, in this order after the backward (and after a data-parallel gradient
  // all-reduce): non-finite gradients, clipping, diagnostics (docs/training.md "Diagnostics").
  void install_step_checks(Trainer& trainer) {
    trainer_ = &trainer;
    gradient_guard_ = std::make_unique<GradientGuard>(*model_);
    trainer.after_backward.push_back([this](const StepInfo& s) { gradient_guard_->check(s); });
    if (o_.clip_grad_norm > 0) {
      const double max_norm = o_.clip_grad_norm;
      trainer.after_backward.push_back([this, max_norm](const StepInfo&) {
        optim::clip_grad_norm(optimizer_->params(), max_norm);
      });
    }
    if (o_.diagnostics) {
      diagnostics_ =
          std::make_unique<Diagnostics>(*model_, DiagnosticsOptions().every(o_.diagnostics_every));
      const int64_t batches = train_loader_->num_batches();
      const int64_t first_step = resume_at_.epoch * batches + resume_at_.batch;
      if (resuming_) diagnostics_->read_csv(path("diagnostics.csv"), first_step);
      diagnostics_->attach(trainer, first_step, batches);
    }
  }

  // Appended to an error that ends training (a non-finite loss): runs the step's batch `at`
  // forward again, with the weights it failed with, and names the first layer whose output is
  // not finite. Costs nothing until training has failed; "" if every output is finite.
  std::string first_non_finite_output(const EpochProgress& at) {
    if (o_.diagnostics || at.batch >= train_loader_->num_batches()) return "";  // named already
    std::string found;
    const int id = model_->add_forward_hook(
        [&found](const std::string& name, const nn::Module& child, const Tensor& output) {
          if (!found.empty()) return;
          const std::string bad = first_non_finite(output);
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

  // Appended to an error that ends training: what OUT/last still holds.
  std::string last_good_checkpoint() const {
    const std::string last = path("last");
    if (!fs::is_directory(io::resolve_atomic_directory(last)))
      return "; no checkpoint had been saved yet";
    const io::TrainingState s = io::read_training_state(last);
    std::ostringstream m;
    m << "; the last good checkpoint, " << last << " (" << s.epoch << " epoch"
      << (s.epoch == 1 ? "" : "s") << ", " << s.step << " steps done), is kept";
    return m.str();
  }

  json config_json() const {
    json j;
    j["format"] = "nabla-train-run";
    j["version"] = 1;
    j["options"] = options_to_json(o_);
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
  RunResult fit_or_stop(Trainer& trainer) {
    NABLA_CHECK(o_.checkpoint_every >= 0, "--checkpoint-every must be >= 0, got ",
                o_.checkpoint_every);
    if (o_.checkpoint_every > 0) {
      const int64_t every = o_.checkpoint_every, batches = train_loader_->num_batches();
      trainer.after_step.push_back([this, &trainer, every, batches](const StepInfo& s) {
        // After an epoch's last step the epoch's own checkpoint follows at once.
        if ((s.step + 1) % every == 0 && s.batch + 1 < batches)
          save_last(training_state(trainer.progress()));
      });
    }
    if (o_.handle_signals || o_.stop_when)
      trainer.stop_when = [this] {
        return (o_.handle_signals && stop_requested()) || (o_.stop_when && o_.stop_when());
      };
    {
      // Only around the loop: a signal while loading data or writing the final files ends the
      // process as usual, and a second Ctrl-C while OUT/last is saved below does too.
      std::optional<InterruptGuard> guard;
      if (o_.handle_signals) guard.emplace();
      trainer.fit_from(resume_at_);
    }
    // Early stopping ends the loop through request_stop() too, but it is the end of the run.
    if (!trainer.stopped() || (stopper_ && stopper_->stopped())) return finish();

    const EpochProgress& at = trainer.progress();
    if (at.batch > 0) save_last(training_state(at));  // else end_epoch saved this point
    Interruption stop;
    stop.epoch = at.epoch + 1;
    stop.batch = at.batch;
    stop.batches = train_loader_->num_batches();
    stop.signal = o_.handle_signals ? stop_signal() : 0;
    stop.checkpoint = path("last");
    RunResult result;
    result.out_dir = o_.out_dir;
    result.history = history_;
    result.best_epoch = best_epoch_;
    result.interrupted = stop;
    return result;
  }

  void save_last(const io::TrainingState& state) const {
    if (!world_.is_main()) return;  // under MPI rank 0 writes every file
    io::save_checkpoint(path("last"), *model_, optimizer_.get(), state);
  }

  // A checkpoint in the middle of epoch at.epoch: the completed epochs' state, with the Trainer's
  // position and running sums in config's "epoch_progress" (docs/checkpoints.md).
  io::TrainingState training_state(const EpochProgress& at) const {
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

  void end_epoch(const EpochMetrics& m) {
    history_.push_back(m);
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
    write_metrics_csv(path("metrics.csv"), history_);
    write_curves();
    if (diagnostics_) {
      diagnostics_->write_csv(path("diagnostics.csv"));
      diagnostics_->write_plots(o_.out_dir);
    }
    const io::TrainingState state = training_state(m.epoch);
    if (best) io::save_checkpoint(path("best"), *model_, nullptr, state);
    io::save_checkpoint(path("last"), *model_, optimizer_.get(), state);
  }

  void write_curves() const {
    std::vector<double> epochs, train_loss, val_loss, train_acc, val_acc, val_epochs;
    for (const EpochMetrics& m : history_) {
      epochs.push_back(static_cast<double>(m.epoch));
      train_loss.push_back(m.train_loss);
      train_acc.push_back(100 * m.train_acc);
      if (m.has_validation()) {
        val_epochs.push_back(static_cast<double>(m.epoch));
        val_loss.push_back(m.val_loss);
        val_acc.push_back(100 * m.val_acc);
      }
    }
    io::LinePlot loss;
    loss.figure = {.title = "Loss", .x_label = "epoch", .y_label = "cross-entropy"};
    loss.series.push_back({"train", epochs, train_loss});
    if (!val_epochs.empty()) loss.series.push_back({"validation", val_epochs, val_loss});
    io::write_line_plot(path("loss.png"), loss);
    io::LinePlot acc;
    acc.figure = {.title = "Accuracy", .x_label = "epoch", .y_label = "accuracy (%)"};
    acc.series.push_back({"train", epochs, train_acc});
    if (!val_epochs.empty()) acc.series.push_back({"validation", val_epochs, val_acc});
    io::write_line_plot(path("accuracy.png"), acc);
  }

  RunResult finish() {
    RunResult result;
    result.out_dir = o_.out_dir;
    if (stopper_) result.stopped_early = stopper_->stopped_epoch();
    result.history = history_;
    result.best_epoch = best_epoch_;
    if (world_.is_main())
      io::save_checkpoint(
          path("final"), *model_, nullptr,
          training_state(stopper_ && stopper_->stopped() ? stopper_->stopped_epoch() : o_.epochs));
    if (const Tensor filters = world_.is_main() ? first_filters(*model_) : Tensor();
        filters.defined()) {
      // Enlarged until the grid is about 320 pixels wide: 5 × 5 filters need it to be seen.
      const Tensor w = filters.detach();
      const int64_t tiles = w.size(1) == 3 ? w.size(0) : w.size(0) * w.size(1);
      const auto cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(tiles))));
      io::FilterGridOptions grid;
      grid.scale = std::max<int64_t>(4, 320 / (cols * (w.size(3) + 1) - 1));
      io::write_filter_grid_png(path("filters.png"), w, grid);
    }
    result.test = distributed::reduce(evaluate(*model_, *test_loader_), world_);
    if (dp_) out_ << dp_->summary(train_seconds_) << "\n";
    if (!world_.is_main()) return result;
    io::write_confusion_matrix_png(path("confusion.png"), result.test.confusion.counts(),
                                   data_.test.class_names(),
                                   "Confusion matrix, " + o_.dataset + " test set");
    write_run_report(o_.out_dir, {{"test accuracy", percent(result.test.accuracy) + " of " +
                                                        std::to_string(result.test.samples) +
                                                        " images (final weights)"},
                                  {"best validation epoch", std::to_string(best_epoch_)}});
    out_ << "test accuracy " << percent(result.test.accuracy) << " (" << result.test.samples
         << " images, final weights; best validation epoch " << best_epoch_ << ")\n"
         << "wrote metrics.csv, loss.png, accuracy.png, "
         << (first_filters(*model_).defined() ? "filters.png, " : "")
         << "confusion.png, report.html and checkpoints best/, final/, last/ to " << o_.out_dir
         << "\n";
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
  std::vector<EpochMetrics> history_;
  int64_t first_epoch_ = 0, best_epoch_ = 0;
  EpochProgress resume_at_;  // where fit goes on from: first_epoch_, or inside it
  double best_acc_ = 0;
  bool resuming_ = false;
  int64_t sync_batchnorm_layers_ = 0;
  std::unique_ptr<distributed::DataParallel> dp_;      // under mpirun -np N > 1
  std::unique_ptr<optim::ReduceLROnPlateau> plateau_;  // --lr-schedule plateau
  std::unique_ptr<EarlyStopping> stopper_;             // --early-stopping
  std::unique_ptr<GradientGuard> gradient_guard_;
  std::unique_ptr<Diagnostics> diagnostics_;  // --diagnostics
  Trainer* trainer_ = nullptr;                // while train() runs
  double train_seconds_ = 0;
};

json checkpoint_config(const io::TrainingState& state, const std::string& dir) {
  json config;
  try {
    config = json::parse(state.config);
  } catch (const json::exception& e) {
    detail::throw_error(
        dir, ": the trainer's config in trainer_state.json is not valid JSON: ", e.what());
  }
  NABLA_CHECK(config.is_object() && config.value("format", "") == "nabla-train-run", dir,
              ": not a checkpoint written by nabla train (trainer_state.json has no run config)");
  return config;
}

}  // namespace

data::Dataset load_run_dataset(const RunOptions& o, data::Split split,
                               const std::string& data_dir) {
  const std::string dir = data_dir.empty() ? o.data_dir : data_dir;
  data::Dataset d;
  if (o.dataset.rfind("csv:", 0) == 0) {
    // csv:TRAIN[,TEST]; without a test file, a fifth of TRAIN (fixed by the seed) is the test set.
    const std::string paths = o.dataset.substr(4);
    const size_t comma = paths.find(',');
    const std::string train_path = paths.substr(0, comma);
    NABLA_CHECK(!train_path.empty(), "--dataset csv:PATH needs a path, e.g. csv:iris.csv");
    if (comma != std::string::npos) {
      d = data::load_csv(split == data::Split::Train ? train_path : paths.substr(comma + 1));
    } else {
      auto parts = data::train_val_split(data::load_csv(train_path), 0.2, o.seed ^ 0x7e57);
      d = split == data::Split::Train ? parts.train : parts.val;
    }
  } else {
    check_choice("dataset", o.dataset, dataset_names());
    d = data::load_dataset(o.dataset, dir, split);
  }
  if (!o.classes.empty())
    d = data::select_classes(d, data::parse_class_list(o.classes, d.num_classes()));
  const int64_t subset = split == data::Split::Train ? o.train_subset : o.test_subset;
  NABLA_CHECK(subset >= 0, "--", split == data::Split::Train ? "train" : "test",
              "-subset must be >= 0, got ", subset);
  return subset > 0 ? d.first(subset) : d;
}

std::string timestamped_run_dir(const std::string& name) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::ostringstream dir;
  dir << "runs/" << name << "-" << std::put_time(&local, "%Y%m%d-%H%M%S");
  return dir.str();
}

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

TrainedModel load_trained_model(const std::string& path) {
  std::string dir = path;
  if (fs::is_directory(fs::path(path) / "last") || fs::is_directory(fs::path(path) / "final")) {
    for (const char* sub : {"best", "final", "last"})
      if (fs::is_directory(fs::path(path) / sub)) {
        dir = (fs::path(path) / sub).string();
        break;
      }
  }
  NABLA_CHECK(fs::exists(path), "no checkpoint at '", path,
              "' --- pass a run directory (nabla train --out) or one of its best/, final/, "
              "last/");
  const io::TrainingState state = io::read_training_state(dir);
  const json config = checkpoint_config(state, dir);
  TrainedModel t;
  t.checkpoint = dir;
  t.epoch = state.epoch;
  t.options = options_from_json(config.at("options"));
  const std::string description = config.at("model").dump();
  t.model = model_from_json(description, t.options.seed, dir);
  io::load_checkpoint(dir, *t.model, nullptr);
  t.model->eval();
  t.sample_shape = config.at("sample_shape").get<std::vector<int64_t>>();
  t.class_names = config.at("class_names").get<std::vector<std::string>>();
  t.normalization.mean = config.at("normalization").at("mean").get<std::vector<float>>();
  t.normalization.std = config.at("normalization").at("std").get<std::vector<float>>();
  return t;
}

data::DataLoader eval_loader(const TrainedModel& trained, const data::Dataset& dataset,
                             int64_t batch_size) {
  NABLA_CHECK(dataset.sample_shape() == Shape(trained.sample_shape), dataset.name(),
              ": samples of shape ", dataset.sample_shape(), " but the model in ",
              trained.checkpoint, " was trained on ", Shape(trained.sample_shape));
  NABLA_CHECK(dataset.num_classes() == static_cast<int64_t>(trained.class_names.size()),
              dataset.name(), ": ", dataset.num_classes(), " classes but the model in ",
              trained.checkpoint, " has ", trained.class_names.size());
  return data::DataLoader(dataset,
                          data::DataLoaderOptions(batch_size).normalize(trained.normalization));
}

std::vector<double> predict_probabilities(const TrainedModel& trained, const data::Dataset& one,
                                          int64_t index) {
  NABLA_CHECK(index >= 0 && index < one.size(), "predict: index ", index, " is outside [0, ",
              one.size(), ") of ", one.name());
  const data::Dataset sample = one.subset({index});
  const data::DataLoader loader = eval_loader(trained, sample, 1);
  NoGradGuard no_grad;
  trained.model->eval();
  const Tensor logits = trained.model->forward(loader.epoch(0).batch(0).images);
  return softmax(logits, -1).to_vector();
}

}  // namespace nabla::train
