// Training diagnostics: activation and gradient statistics, update ratios, non-finite guards
// (see include/nabla/train/diagnostics.h).
#include "nabla/train/diagnostics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/io/plot.h"

namespace nabla::train {

namespace {

Tensor contiguous_or_self(const Tensor& t) {
  return t.is_contiguous() ? t : t.contiguous();
}

// Whether any value has an all-ones exponent (Inf or NaN). Written on the bits so that the loop
// has no branch and vectorises: an OR over integers, unlike a float sum, may be reordered.
template <class T>
bool any_non_finite(const T* v, int64_t n) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr Bits exponent =
      static_cast<Bits>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  Bits bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    Bits b;
    std::memcpy(&b, v + i, sizeof b);
    bad |= static_cast<Bits>((b & exponent) == exponent);
  }
  return bad != 0;
}

std::string name_of(double v) {
  return std::isnan(v) ? "NaN" : v > 0 ? "Inf" : "-Inf";
}

// "0.Conv2d.weight" for parameter "weight" of child "0", a Conv2d.
std::vector<std::pair<std::string, Tensor>> labelled_parameters(const nn::Module& model) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, child] : model.named_children())
    for (const auto& [pname, p] : child->named_parameters())
      out.emplace_back(name + "." + child->name() + "." + pname, p);
  // A model with parameters of its own (not a plain Sequential) keeps their names.
  for (const auto& [pname, p] : model.named_parameters(false)) out.emplace_back(pname, p);
  return out;
}

std::string field(double v) {
  if (std::isnan(v)) return "";
  std::ostringstream s;
  s << std::setprecision(9) << v;
  return s.str();
}

double parse_field(const std::string& s) {
  return s.empty() ? std::nan("") : std::stod(s);
}

// One line series per name (of a layer or parameter), in first-seen order, x the step. Points
// whose y is not finite, or not positive on a log axis (a frozen layer's ratio of 0, a layer
// without a gradient), are left out.
template <class Items, class Value, class Keep>
std::vector<io::Series> series_of(const std::vector<DiagnosticsRecord>& records, Items items,
                                  Value value, bool log_y, Keep keep) {
  std::vector<io::Series> series;
  std::map<std::string, size_t> index;
  for (const DiagnosticsRecord& r : records)
    for (const auto& item : items(r)) {
      const double y = value(item);
      if (!keep(item.name) || !std::isfinite(y) || (log_y && y <= 0)) continue;
      auto it = index.find(item.name);
      if (it == index.end()) {
        it = index.emplace(item.name, series.size()).first;
        series.push_back({item.name, {}, {}});
      }
      series[it->second].x.push_back(static_cast<double>(r.step));
      series[it->second].y.push_back(y);
    }
  return series;
}

}  // namespace

TensorStats tensor_stats(const Tensor& t) {
  TensorStats s;
  if (!t.defined() || t.numel() == 0) return s;
  const Tensor c = contiguous_or_self(t);
  const int64_t n = c.numel();
  dispatch(c.dtype(), [&]<class T>() {
    const T* v = c.data<T>();
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(v[i]);
    const double mean = sum / static_cast<double>(n);
    double squares = 0;  // two passes: no cancellation when |mean| >> std
    for (int64_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(v[i]) - mean;
      squares += d * d;
    }
    s.mean = mean;
    s.std = std::sqrt(squares / static_cast<double>(n));
  });
  return s;
}

std::string first_non_finite(const Tensor& t) {
  if (!t.defined() || t.numel() == 0) return "";
  const Tensor c = contiguous_or_self(t);
  const int64_t n = c.numel();
  return dispatch(c.dtype(), [&]<class T>() -> std::string {
    const T* v = c.data<T>();
    if (!any_non_finite(v, n)) return "";
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(v[i])) return name_of(static_cast<double>(v[i]));
    return "";
  });
}

// ---- GradientGuard ----

GradientGuard::GradientGuard(const nn::Module& model) : params_(labelled_parameters(model)) {}

void GradientGuard::check(const StepInfo& info) const {
  for (const auto& [name, p] : params_) {
    // first_non_finite reads a contiguous gradient in place, with the branch-free scan.
    const std::string bad = first_non_finite(p.grad());
    if (!bad.empty())
      detail::throw_error("train: gradient of ", name, " became ", bad, " at epoch ",
                          info.epoch + 1, ", batch ", info.batch + 1, " (step ", info.step, ")");
  }
}

// ---- Diagnostics ----

Diagnostics::Diagnostics(nn::Sequential& model, DiagnosticsOptions options)
    : options(options), model_(model) {
  NABLA_CHECK(options.every() >= 1, "DiagnosticsOptions::every must be >= 1, got ",
              options.every());
  NABLA_CHECK(options.histogram_bins() >= 1, "Diagnostics: histogram_bins must be >= 1, got ",
              options.histogram_bins());
  for (const auto& [name, child] : model.named_children())
    layers_.push_back({name, name + "." + child->name()});
  for (auto& [label, tensor] : labelled_parameters(model)) {
    Param p;
    p.label = label;
    p.tensor = tensor;
    params_.push_back(std::move(p));
  }
  hook_id_ = model_.add_forward_hook([this](const std::string& child, const nn::Module&,
                                            const Tensor& output) { on_forward(child, output); });
}

Diagnostics::~Diagnostics() {
  model_.remove_forward_hook(hook_id_);
}

void Diagnostics::attach(Trainer& trainer, int64_t first_step, int64_t steps_per_epoch) {
  NABLA_CHECK(first_step >= 0 && steps_per_epoch >= 1, "Diagnostics::attach: first_step ",
              first_step, " and steps_per_epoch ", steps_per_epoch, " must be >= 0 and >= 1");
  next_step_ = first_step;
  steps_per_epoch_ = steps_per_epoch;
  trainer.after_backward.push_back([this](const StepInfo& info) { after_backward(info); });
  trainer.after_step.push_back([this](const StepInfo& info) { after_step(info); });
}

std::string Diagnostics::position(int64_t step) const {
  std::ostringstream s;
  s << "epoch " << step / steps_per_epoch_ + 1 << ", batch " << step % steps_per_epoch_ + 1
    << " (step " << step << ")";
  return s.str();
}

void Diagnostics::on_forward(const std::string& child, const Tensor& output) {
  // Evaluation (validation, test) runs without gradients or in eval mode: not a training step.
  if (!autograd::grad_mode_enabled() || !model_.is_training()) return;
  size_t index = 0;
  while (index < layers_.size() && layers_[index].child != child) ++index;
  if (index == layers_.size()) return;  // a child added after the Diagnostics was made
  const Layer& layer = layers_[index];
  if (options.check_activations()) {
    const std::string bad = first_non_finite(output);
    if (!bad.empty())
      detail::throw_error("train: output of ", layer.label, " became ", bad, " at ",
                          position(next_step_));
  }
  if (!recording(next_step_)) return;
  if (outputs_.empty()) output_stats_.clear();
  Tensor kept = output;
  if (kept.requires_grad()) kept.retain_grad();
  outputs_.emplace_back(index, kept);
  output_stats_.push_back(tensor_stats(output));
  if (next_step_ == 0) {
    const Tensor c = contiguous_or_self(output);
    std::vector<double> values = c.to_vector();
    initial_.emplace_back(layer.label, std::move(values));
  }
}

void Diagnostics::after_backward(const StepInfo& info) {
  next_step_ = info.step;
  if (!recording(info.step)) return;
  for (const auto& [index, output] : outputs_) {
    const Tensor g = output.grad();
    const std::string bad = first_non_finite(g);
    if (!bad.empty())
      detail::throw_error("train: gradient of the output of ", layers_[index].label, " became ",
                          bad, " at epoch ", info.epoch + 1, ", batch ", info.batch + 1, " (step ",
                          info.step, ")");
  }
  for (Param& p : params_) {
    p.value = tensor_stats(p.tensor);
    p.gradient = tensor_stats(p.tensor.grad());
    const Tensor c = contiguous_or_self(p.tensor);
    const int64_t n = c.numel();
    p.before.resize(static_cast<size_t>(n));
    dispatch(c.dtype(), [&]<class T>() {
      const T* v = c.data<T>();
      for (int64_t i = 0; i < n; ++i) p.before[static_cast<size_t>(i)] = static_cast<float>(v[i]);
    });
  }
}

void Diagnostics::after_step(const StepInfo& info) {
  next_step_ = info.step + 1;
  if (!recording(info.step)) return;
  DiagnosticsRecord r;
  r.step = info.step;
  r.epoch = info.epoch + 1;
  r.batch = info.batch + 1;
  for (size_t k = 0; k < outputs_.size(); ++k) {
    const auto& [index, output] = outputs_[k];
    r.layers.push_back({layers_[index].label, output_stats_[k], tensor_stats(output.grad())});
  }
  for (Param& p : params_) {
    const Tensor c = contiguous_or_self(p.tensor);
    const int64_t n = c.numel();
    double delta = 0, weight = 0;
    dispatch(c.dtype(), [&]<class T>() {
      const T* v = c.data<T>();
      for (int64_t i = 0; i < n; ++i) {
        const double before = p.before[static_cast<size_t>(i)];
        const double d = static_cast<double>(v[i]) - before;
        delta += d * d;
        weight += before * before;
      }
    });
    const double ratio = weight > 0 ? std::sqrt(delta / weight) : std::nan("");
    r.parameters.push_back({p.label, p.value, p.gradient, ratio});
  }
  records_.push_back(std::move(r));
  outputs_.clear();  // releases the activations and their gradients
}

void Diagnostics::write_csv(const std::string& path) const {
  std::ostringstream out;
  out << "step,epoch,batch,name,kind,mean,std,grad_mean,grad_std,update_ratio\n";
  for (const DiagnosticsRecord& r : records_) {
    const std::string where =
        std::to_string(r.step) + "," + std::to_string(r.epoch) + "," + std::to_string(r.batch);
    for (const LayerRecord& l : r.layers)
      out << where << "," << l.name << ",layer," << field(l.activation.mean) << ","
          << field(l.activation.std) << "," << field(l.gradient.mean) << ","
          << field(l.gradient.std) << ",\n";
    for (const ParameterRecord& p : r.parameters)
      out << where << "," << p.name << ",parameter," << field(p.value.mean) << ","
          << field(p.value.std) << "," << field(p.gradient.mean) << "," << field(p.gradient.std)
          << "," << field(p.update_ratio) << "\n";
  }
  io::write_file_atomic(path, out.str());
}

void Diagnostics::read_csv(const std::string& path, int64_t before_step) {
  std::ifstream in(path);
  if (!in) return;
  std::string line;
  std::getline(in, line);
  NABLA_CHECK(line == "step,epoch,batch,name,kind,mean,std,grad_mean,grad_std,update_ratio", path,
              ":1: not a diagnostics.csv header: '", line, "'");
  std::vector<DiagnosticsRecord> earlier;
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream fields(line);
    std::string item;
    while (std::getline(fields, item, ',')) f.push_back(item);
    if (!line.empty() && line.back() == ',') f.emplace_back();
    NABLA_CHECK(f.size() == 10 && (f[4] == "layer" || f[4] == "parameter"), path, ":", line_number,
                ": expected 10 fields with kind layer or parameter, got '", line, "'");
    int64_t step = 0;
    try {
      step = std::stoll(f[0]);
      if (step >= before_step) continue;
      if (earlier.empty() || earlier.back().step != step)
        earlier.push_back({step, std::stoll(f[1]), std::stoll(f[2]), {}, {}});
      DiagnosticsRecord& r = earlier.back();
      if (f[4] == "layer")
        r.layers.push_back(
            {f[3], {parse_field(f[5]), parse_field(f[6])}, {parse_field(f[7]), parse_field(f[8])}});
      else
        r.parameters.push_back({f[3],
                                {parse_field(f[5]), parse_field(f[6])},
                                {parse_field(f[7]), parse_field(f[8])},
                                parse_field(f[9])});
    } catch (const std::logic_error&) {  // stoll / stod: not a number
      detail::throw_error(path, ":", line_number, ": not a number in '", line, "'");
    }
  }
  records_.insert(records_.begin(), std::make_move_iterator(earlier.begin()),
                  std::make_move_iterator(earlier.end()));
}

std::vector<std::string> Diagnostics::write_plots(const std::string& dir) const {
  namespace fs = std::filesystem;
  std::vector<std::string> written;
  const auto path = [&](const char* name) { return (fs::path(dir) / name).string(); };
  if (!initial_.empty()) {
    io::HistogramGrid grid;
    grid.figure.title = "Activations at initialisation (step 0)";
    grid.figure.x_label = "activation";
    grid.bins = options.histogram_bins();
    for (const auto& [name, values] : initial_) {
      const TensorStats s = tensor_stats(
          Tensor::from_vector(values, {static_cast<int64_t>(values.size())}, kFloat64));
      std::ostringstream title;
      title << name << "  mean " << std::setprecision(2) << s.mean << " std " << s.std;
      grid.panels.push_back({title.str(), values});
    }
    io::write_histogram_grid(path("diagnostics_init_histograms.png"), grid);
    written.emplace_back("diagnostics_init_histograms.png");
  }
  if (records_.empty()) return written;

  const auto all = [](const std::string&) { return true; };
  // Weights only: biases start at small values, so their ratios are large and say little.
  const auto weights = [](const std::string& name) {
    return name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
  };
  const auto parameters = [](const DiagnosticsRecord& r) -> const auto& {
    return r.parameters;
  };
  const auto layers = [](const DiagnosticsRecord& r) -> const auto& {
    return r.layers;
  };
  const auto ratio_of = [](const ParameterRecord& p) { return p.update_ratio; };

  io::LinePlot ratio;
  ratio.figure = {.title = "Update / weight ratio  \u2016\u0394w\u2016 / \u2016w\u2016",
                  .x_label = "step",
                  .y_label = "ratio"};
  ratio.log_y = true;
  ratio.series = series_of(records_, parameters, ratio_of, true, weights);
  if (ratio.series.empty()) ratio.series = series_of(records_, parameters, ratio_of, true, all);
  if (!ratio.series.empty()) {
    const double first = static_cast<double>(records_.front().step);
    const double last = static_cast<double>(records_.back().step);
    ratio.series.push_back({"1e-3 (rule of thumb)", {first, last}, {1e-3, 1e-3}});
    io::write_line_plot(path("diagnostics_update_ratio.png"), ratio);
    written.emplace_back("diagnostics_update_ratio.png");
  }

  io::LinePlot act;
  act.figure = {.title = "Activation std per layer", .x_label = "step", .y_label = "std"};
  act.series = series_of(
      records_, layers, [](const LayerRecord& l) { return l.activation.std; }, false, all);
  if (!act.series.empty()) {
    io::write_line_plot(path("diagnostics_activation_std.png"), act);
    written.emplace_back("diagnostics_activation_std.png");
  }

  io::LinePlot grad;
  grad.figure = {
      .title = "Gradient std per layer (d loss / d output)", .x_label = "step", .y_label = "std"};
  grad.log_y = true;
  grad.series = series_of(
      records_, layers, [](const LayerRecord& l) { return l.gradient.std; }, true, all);
  if (!grad.series.empty()) {
    io::write_line_plot(path("diagnostics_gradient_std.png"), grad);
    written.emplace_back("diagnostics_gradient_std.png");
  }
  return written;
}

}  // namespace nabla::train
