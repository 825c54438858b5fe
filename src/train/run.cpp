// A whole training run and its files (see include/nabla/train/run.h). This is where options
// become objects: datasets, a model from models.h, an optimizer, a schedule; the loop itself is
// the Trainer's, the files are io/'s. nlohmann-json writes and reads the run's config, which
// io/checkpoint.h stores in trainer_state.json.
#include "nabla/train/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nabla/data/datasets.h"
#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/image.h"
#include "nabla/io/plot.h"
#include "nabla/models.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/dropout.h"
#include "nabla/ops.h"
#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"
#include "nabla/suggest.h"
#include "nabla/threads.h"

namespace nabla::train {

using nlohmann::json;
namespace fs = std::filesystem;

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names = {"sgd", "adam", "adamw", "rmsprop", "adagrad"};
  return names;
}
const std::vector<std::string>& lr_schedule_names() {
  static const std::vector<std::string> names = {"none", "step", "cosine", "exponential"};
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
          {"augment", o.augment}};
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
  return o;
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

// The JSON description of the model for data of `sample_shape` and `classes` classes.
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
  NABLA_CHECK(o.warmup_epochs == 0, "--warmup-epochs needs a --lr-schedule (step, cosine or ",
              "exponential)");
  return nullptr;
}

// Every Dropout module with its dotted path, depth first.
void find_dropouts(nn::Module& m, const std::string& prefix,
                   std::vector<std::pair<std::string, nn::Dropout*>>& out) {
  if (auto* d = dynamic_cast<nn::Dropout*>(&m)) out.emplace_back(prefix, d);
  for (const auto& [name, child] : m.named_children())
    find_dropouts(*child, prefix.empty() ? name : prefix + "." + name, out);
}

nn::Conv2d* first_conv(nn::Module& m) {
  if (auto* c = dynamic_cast<nn::Conv2d*>(&m)) return c;
  for (const auto& [name, child] : m.named_children())
    if (nn::Conv2d* c = first_conv(*child)) return c;
  return nullptr;
}

std::string default_out_dir(const RunOptions& o) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::ostringstream name;
  name << "runs/" << (is_preset(o.model) ? o.model : fs::path(o.model).stem().string()) << "-"
       << std::put_time(&local, "%Y%m%d-%H%M%S");
  return name.str();
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
  Run(RunOptions options, std::ostream& out) : o_(std::move(options)), out_(out) {}

  void setup(const std::string& data_dir_override) {
    if (o_.threads > 0) set_num_threads(o_.threads);
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
    optimizer_ = make_optimizer(o_, model_->parameters());
    scheduler_ = make_scheduler(o_, *optimizer_);

    train_loader_ = std::make_unique<data::DataLoader>(
        data_.train, data::DataLoaderOptions(o_.batch_size)
                         .shuffle(true)
                         .seed(o_.seed)
                         .normalize(data_.normalization)
                         .augment(augment_options(o_, data_.train)));
    // Evaluation uses the training batch size: its activations then fit the buffers the training
    // step already holds in the storage cache, instead of adding a second, larger set to the
    // run's peak memory (docs/performance.md, "Training loop").
    val_loader_ = std::make_unique<data::DataLoader>(
        data_.val, data::DataLoaderOptions(o_.batch_size).normalize(data_.normalization));
    test_loader_ = std::make_unique<data::DataLoader>(
        data_.test, data::DataLoaderOptions(o_.batch_size).normalize(data_.normalization));
    fs::create_directories(o_.out_dir);
  }

  // Restores weights, optimizer, schedule, generators and history from OUT/last.
  void restore(const io::TrainingState& state) {
    io::load_checkpoint((fs::path(o_.out_dir) / "last").string(), *model_, optimizer_.get());
    const json config = json::parse(state.config);
    if (scheduler_)
      scheduler_->load_state({{"epoch", config.at("scheduler").at("epoch").get<double>()},
                              {"base_lr", config.at("scheduler").at("base_lr").get<double>()}});
    std::vector<std::pair<std::string, nn::Dropout*>> dropouts;
    find_dropouts(*model_, "", dropouts);
    for (auto& [name, d] : dropouts) {
      const auto it = state.rng.find("dropout." + name);
      NABLA_CHECK(it != state.rng.end(), o_.out_dir,
                  "/last: no generator state for the dropout layer '", name, "'");
      d->generator().set_state(it->second);
    }
    history_ = history_from_json(config.at("history"));
    best_epoch_ = config.at("best_epoch").get<int64_t>();
    best_acc_ = config.at("best_acc").get<double>();
    first_epoch_ = state.epoch;
  }

  void set_description(std::string d) { description_ = std::move(d); }

  RunResult train() {
    print_header();
    Trainer trainer(*model_, *optimizer_, *train_loader_,
                    TrainerOptions().epochs(o_.epochs).progress(&out_).interactive(o_.interactive));
    if (!data_.val.empty()) trainer.validation(val_loader_.get());
    trainer.scheduler(scheduler_.get());
    trainer.on_epoch_end = [this](const EpochMetrics& m) { end_epoch(m); };
    trainer.fit(first_epoch_);
    return finish();
  }

 private:
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
    return j;
  }

  io::TrainingState training_state(int64_t epoch) const {
    io::TrainingState state;
    state.epoch = epoch;
    state.step = epoch * train_loader_->num_batches();
    std::vector<std::pair<std::string, nn::Dropout*>> dropouts;
    find_dropouts(*model_, "", dropouts);
    for (const auto& [name, d] : dropouts) state.rng["dropout." + name] = d->generator().state();
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
    if (first_epoch_ > 0)
      out_ << "resuming after epoch " << first_epoch_ << " of " << o_.epochs << "\n";
    out_ << "writing to " << o_.out_dir << "\n" << std::flush;
  }

  void end_epoch(const EpochMetrics& m) {
    history_.push_back(m);
    const double score = m.has_validation() ? m.val_acc : m.train_acc;
    const bool best = best_epoch_ == 0 || score > best_acc_;
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

    // The files a reader may look at first; then the checkpoints, last/ as the resume point.
    write_metrics_csv(path("metrics.csv"), history_);
    write_curves();
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
    result.history = history_;
    result.best_epoch = best_epoch_;
    io::save_checkpoint(path("final"), *model_, nullptr, training_state(o_.epochs));
    if (nn::Conv2d* conv = first_conv(*model_)) {
      // Enlarged until the grid is about 320 pixels wide: 5 × 5 filters need it to be seen.
      const Tensor w = conv->weight.detach();
      const int64_t tiles = w.size(1) == 3 ? w.size(0) : w.size(0) * w.size(1);
      const auto cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(tiles))));
      io::FilterGridOptions grid;
      grid.scale = std::max<int64_t>(4, 320 / (cols * (w.size(3) + 1) - 1));
      io::write_filter_grid_png(path("filters.png"), w, grid);
    }
    result.test = evaluate(*model_, *test_loader_);
    io::write_confusion_matrix_png(path("confusion.png"), result.test.confusion.counts(),
                                   data_.test.class_names(),
                                   "Confusion matrix, " + o_.dataset + " test set");
    out_ << "test accuracy " << percent(result.test.accuracy) << " (" << result.test.samples
         << " images, final weights; best validation epoch " << best_epoch_ << ")\n"
         << "wrote metrics.csv, loss.png, accuracy.png, "
         << (first_conv(*model_) ? "filters.png, " : "")
         << "confusion.png and checkpoints best/, final/, last/ to " << o_.out_dir << "\n";
    return result;
  }

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
  double best_acc_ = 0;
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
  const int64_t subset = split == data::Split::Train ? o.train_subset : o.test_subset;
  NABLA_CHECK(subset >= 0, "--", split == data::Split::Train ? "train" : "test",
              "-subset must be >= 0, got ", subset);
  return subset > 0 ? d.first(subset) : d;
}

RunResult run_training(const RunOptions& options, std::ostream& out) {
  RunOptions o = options;
  if (o.out_dir.empty()) o.out_dir = default_out_dir(o);
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
  if (options.epochs > 0) o.epochs = options.epochs;
  if (!options.data_dir.empty()) o.data_dir = options.data_dir;
  NABLA_CHECK(o.epochs >= state.epoch, "--resume: the run already has ", state.epoch,
              " epochs; --epochs ", o.epochs, " would go back");
  Run run(o, out);
  run.set_description(config.at("model").dump());
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
