// A run's setup, apart from the Run class (run.cpp): the names of the choices, options and
// progress to and from JSON, the data sets, the model description, the optimizer and schedules
// made from the options, and reading a checkpoint's config. Declared in app/run_detail.h.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "app/run_detail.h"
#include "nabla/data/classes.h"
#include "nabla/data/datasets.h"
#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/memory.h"
#include "nabla/models.h"
#include "nabla/nn/module.h"
#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"
#include "nabla/suggest.h"
#include "nabla/threads.h"

namespace nabla::app {

namespace fs = std::filesystem;
using namespace run_detail;

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

namespace run_detail {

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
          {"drop_last", o.drop_last},
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
          {"normalize", o.normalize},
          {"freeze", o.freeze},
          {"lr_mult", o.lr_mult},
          {"sync_batchnorm", o.sync_batchnorm},
          {"label_column", o.label_column},
          {"skip_bad_images", o.skip_bad_images}};
}

json effective_options(const RunOptions& o) {
  json j = options_to_json(o);
  const bool step = o.lr_schedule == "step", plateau = o.lr_schedule == "plateau";
  const bool gamma = step || plateau || o.lr_schedule == "exponential";
  const bool momentum = o.optimizer == "sgd" || o.optimizer == "rmsprop";
  j["threads"] = num_threads();
  j["weight_decay"] = o.weight_decay.value_or(
      o.optimizer == "adamw" ? optim::AdamWOptions(o.lr).weight_decay() : 0.0);
  if (!momentum) j["momentum"] = nullptr;
  j["lr_step_size"] = step ? json(effective_lr_step_size(o)) : json(nullptr);
  j["lr_gamma"] = gamma ? json(effective_lr_gamma(o)) : json(nullptr);
  if (!plateau) j["lr_patience"] = j["lr_cooldown"] = j["min_lr"] = nullptr;
  if (!o.diagnostics) j["diagnostics_every"] = nullptr;
  if (o.early_stopping == 0) j["early_stopping_min_delta"] = nullptr;
  if (!is_file_dataset(o.dataset)) j["label_column"] = j["skip_bad_images"] = nullptr;
  return j;
}

int64_t effective_lr_step_size(const RunOptions& o) {
  return o.lr_step_size > 0 ? o.lr_step_size : std::max<int64_t>(1, o.epochs / 3);
}

double effective_lr_gamma(const RunOptions& o) {
  if (o.lr_gamma > 0) return o.lr_gamma;
  return o.lr_schedule == "exponential" ? 0.9 : 0.1;
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
  o.drop_last = j.value("drop_last", o.drop_last);
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
  o.normalize = j.value("normalize", o.normalize);
  o.freeze = j.value("freeze", o.freeze);
  o.lr_mult = j.value("lr_mult", o.lr_mult);
  o.sync_batchnorm = j.value("sync_batchnorm", o.sync_batchnorm);
  o.label_column = j.value("label_column", o.label_column);
  o.skip_bad_images = j.value("skip_bad_images", o.skip_bad_images);
  return o;
}

// A Trainer's position inside an epoch; null in an epoch-end checkpoint. Doubles are written
// with 17 digits, so they read back bitwise and the resumed epoch's sums come out the same.
json progress_to_json(const train::EpochProgress& p) {
  return {{"epoch", p.epoch},     {"batch", p.batch},   {"loss_sum", p.loss_sum},
          {"correct", p.correct}, {"images", p.images}, {"seconds", p.seconds}};
}
train::EpochProgress progress_from_json(const json& config, int64_t epochs_done) {
  train::EpochProgress p;
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

json history_to_json(const std::vector<train::EpochMetrics>& rows) {
  json out = json::array();
  for (const train::EpochMetrics& m : rows)
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

std::vector<train::EpochMetrics> history_from_json(const json& j) {
  std::vector<train::EpochMetrics> rows;
  for (const json& r : j)
    rows.push_back({r.at("epoch").get<int64_t>(), r.at("lr").get<double>(),
                    r.at("train_loss").get<double>(), r.at("train_acc").get<double>(),
                    number_or_nan(r.at("val_loss")), number_or_nan(r.at("val_acc")),
                    r.at("seconds").get<double>(), r.at("images_per_s").get<double>()});
  return rows;
}

// ---- data ----

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

}  // namespace run_detail

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

namespace run_detail {

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
    return std::make_unique<optim::StepLR>(opt, optim::StepLROptions(effective_lr_step_size(o))
                                                    .gamma(effective_lr_gamma(o))
                                                    .warmup(warmup));
  }
  if (o.lr_schedule == "exponential")
    return std::make_unique<optim::ExponentialLR>(
        opt, optim::ExponentialLROptions(effective_lr_gamma(o)).warmup(warmup));
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
  return std::make_unique<optim::ReduceLROnPlateau>(opt, optim::ReduceLROnPlateauOptions()
                                                             .factor(effective_lr_gamma(o))
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

std::string default_out_dir(const RunOptions& o) {
  return timestamped_run_dir(is_preset(o.model) ? o.model : fs::path(o.model).stem().string());
}

namespace {
bool has_batch_norm(const nn::Module& m) {
  if (m.has_batch_statistics()) return true;
  for (const auto& [name, child] : m.named_children())
    if (has_batch_norm(*child)) return true;
  return false;
}
}  // namespace

std::string last_good_checkpoint(const std::string& last) {
  if (!fs::is_directory(io::resolve_atomic_directory(last)))
    return "; no checkpoint had been saved yet";
  const io::TrainingState s = io::read_training_state(last);
  std::ostringstream m;
  m << "; the last good checkpoint, " << last << " (" << s.epoch << " epoch"
    << (s.epoch == 1 ? "" : "s") << ", " << s.step << " steps done), is kept";
  return m.str();
}

std::string take_drop_last_for_batch_norm(RunOptions& o, int64_t train_size, int64_t ranks,
                                          const nn::Module& model) {
  if (o.drop_last || !has_batch_norm(model)) return "";
  // The last batch's rows, and the fewest that one batch norm normalises: all of them with one
  // rank or synchronised statistics, else rank 0's slice, the smallest (DataLoader::batch_into).
  const int64_t last = train_size % o.batch_size == 0 ? o.batch_size : train_size % o.batch_size;
  const int64_t rows = ranks == 1 || o.sync_batchnorm ? last : last / ranks;
  if (rows != 1) return "";
  o.drop_last = true;
  std::ostringstream notice;
  notice << "notice: the last training batch would hold 1 image";
  if (rows == last)
    notice << " (" << train_size << " = " << train_size / o.batch_size << " x " << o.batch_size
           << " + 1)";
  else
    notice << " on a rank (" << last << " images over " << ranks << " ranks)";
  notice << ", too few for batch norm's statistics; it is dropped each epoch (--drop-last)\n";
  return notice.str();
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

// --normalize MEAN,STD (one pair for every channel) or M1,...,MC,S1,...,SC.
Normalization parse_normalize(const std::string& text) {
  std::vector<float> values;
  std::istringstream parts(text);
  for (std::string part; std::getline(parts, part, ',');) {
    size_t used = 0;
    float v = 0;
    try {
      v = std::stof(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    NABLA_CHECK(!part.empty() && used == part.size(), "--normalize '", text, "': '", part,
                "' is not a number; expected MEAN,STD or the means of every channel, then the "
                "stds");
    values.push_back(v);
  }
  NABLA_CHECK(values.size() % 2 == 0, "--normalize '", text, "': ", values.size(),
              " numbers; expected MEAN,STD or the means of every channel, then the stds");
  const auto half = static_cast<std::ptrdiff_t>(values.size() / 2);
  return Normalization{{values.begin(), values.begin() + half},
                       {values.begin() + half, values.end()}};
}

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

}  // namespace run_detail

data::Dataset load_run_dataset(const RunOptions& o, data::Split split,
                               const std::string& data_dir) {
  const std::string dir = data_dir.empty() ? o.data_dir : data_dir;
  data::Dataset d;
  if (is_file_dataset(o.dataset)) {
    d = load_file_dataset(o, split);
  } else {
    check_choice("dataset", o.dataset, dataset_names());
    d = data::load_dataset(o.dataset, dir, split);
  }
  if (!o.classes.empty())
    d = data::select_classes(d, data::parse_class_list(o.classes, d.num_classes(), "--classes"));
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

}  // namespace nabla::app
