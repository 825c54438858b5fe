// Watching training from the inside, as CS231n lecture 6 ("babysitting the learning process")
// teaches: per layer, the mean and standard deviation of the activations and of their gradients;
// per parameter, the update-to-weight ratio ‖Δw‖ / ‖w‖ (rule of thumb: about 1e-3); histograms of
// the activations at initialisation; and a stop with a name on the first NaN or Inf.
//
//   train::Diagnostics diag(model, train::DiagnosticsOptions().every(10));
//   diag.attach(trainer, /*first_step=*/0, train_loader.num_batches());
//   trainer.fit();
//   diag.write_csv("OUT/diagnostics.csv");
//   diag.write_plots("OUT");
//
// How it looks: a forward hook on the Sequential (nn/sequential.h) sees each child's output in
// training; the Trainer's after_backward hook reads the gradients, after_step the updates. Only
// every `every`-th step (step % every == 0, steps counted over the run from 0) is recorded: there
// the outputs keep their gradient (Tensor::retain_grad) and the weights are copied before the
// update, so Δw = w_after − w_before is the optimizer's actual step, momentum and weight decay
// included. The gradient statistics are those of the loss with respect to each layer's output
// (the lecture's "gradients" plot), and of each parameter. A Conv2d followed by a ReLU runs fused
// (docs/performance.md): its pre-activation is never made, and the pair reports its output under
// the ReLU's name ("1.ReLU"), with no row for the Conv2d.
//
// Names are the Sequential's child name and type, "0.Conv2d", and for parameters
// "0.Conv2d.weight". Without a Diagnostics nothing is hooked and training pays nothing.
//
// Non-finite values: GradientGuard checks every parameter's gradient after every backward (cheap
// enough to be on by default in nabla train: docs/training.md has the measurement); Diagnostics
// also checks every layer's output on every training forward (check_activations) and the
// recorded outputs' gradients. Each throws nabla::Error naming the tensor and the step:
//   train: gradient of 2.Linear.weight became NaN at epoch 1, batch 37 (step 36)
//   train: output of 3.ReLU became Inf at epoch 2, batch 5 (step 848)
// Epochs and batches are 1-based, steps 0-based, as in the Trainer's messages.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "nabla/arg.h"
#include "nabla/nn/sequential.h"
#include "nabla/train/trainer.h"

namespace nabla::train {

// Mean and standard deviation (population, N in the denominator) of a tensor's values,
// accumulated in double in index order. NaN for an undefined or empty tensor.
struct TensorStats {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double std = std::numeric_limits<double>::quiet_NaN();
};
TensorStats tensor_stats(const Tensor& t);

// "NaN", "Inf" or "-Inf" for the first non-finite value of `t` (index order); "" if all are
// finite or `t` is undefined. A branch-free scan: about one pass of memory bandwidth.
std::string first_non_finite(const Tensor& t);

struct LayerRecord {
  std::string name;        // "1.ReLU"
  TensorStats activation;  // the layer's output over the batch
  TensorStats gradient;    // d loss / d output; NaN where the output has no gradient
};

struct ParameterRecord {
  std::string name;         // "0.Conv2d.weight"
  TensorStats value;        // before the update
  TensorStats gradient;     // as the optimizer saw it (after clipping, if any); NaN if none
  double update_ratio = 0;  // ‖w_after − w_before‖ / ‖w_before‖ (NaN if ‖w_before‖ is 0)
};

struct DiagnosticsRecord {
  int64_t step = 0;   // 0-based over the run
  int64_t epoch = 0;  // 1-based
  int64_t batch = 0;  // 1-based within the epoch
  std::vector<LayerRecord> layers;
  std::vector<ParameterRecord> parameters;
};

// Checks every parameter's gradient for NaN and Inf; run it in after_backward.
class GradientGuard {
 public:
  explicit GradientGuard(const nn::Module& model);
  // Throws "train: gradient of <name> became <NaN|Inf> at epoch E, batch B (step S)".
  // Allocates nothing while the gradients are finite.
  void check(const StepInfo& info) const;

 private:
  std::vector<std::pair<std::string, Tensor>> params_;  // labelled as "0.Conv2d.weight"
};

struct DiagnosticsOptions {
  NABLA_ARG(int64_t, every) = 10;             // record every K-th step, >= 1
  NABLA_ARG(bool, check_activations) = true;  // NaN/Inf check of every layer output, every step
  NABLA_ARG(int, histogram_bins) = 50;        // for the initial-activation histograms
};

class Diagnostics {
 public:
  // The model must outlive the Diagnostics; its forward hook is removed by the destructor.
  // Throws for every < 1.
  explicit Diagnostics(nn::Sequential& model, DiagnosticsOptions options = {});
  ~Diagnostics();
  Diagnostics(const Diagnostics&) = delete;
  Diagnostics& operator=(const Diagnostics&) = delete;

  // Adds after_backward and after_step hooks to `trainer`. `first_step` is the step fit() starts
  // with (epoch · steps_per_epoch + batch when resuming); with steps_per_epoch it names the
  // position of a non-finite activation, found before the Trainer's hooks run.
  void attach(Trainer& trainer, int64_t first_step, int64_t steps_per_epoch);
  // The hooks attach() installs, for a loop of one's own.
  void after_backward(const StepInfo& info);
  void after_step(const StepInfo& info);

  const std::vector<DiagnosticsRecord>& records() const { return records_; }
  // Each layer's output values on step 0, if this Diagnostics saw it (not when resuming).
  const std::vector<std::pair<std::string, std::vector<double>>>& initial_activations() const {
    return initial_;
  }

  // One row per layer and per parameter of each record:
  //   step,epoch,batch,name,kind,mean,std,grad_mean,grad_std,update_ratio
  // kind "layer": mean/std of the output, grad_* of d loss / d output, update_ratio empty;
  // kind "parameter": mean/std of the weights, grad_* of their gradient, and the ratio.
  // A NaN is written as an empty field.
  void write_csv(const std::string& path) const;
  // Reads the records of write_csv with step < before_step back in front of this session's, so
  // that a resumed run's file and plots cover the whole run. A missing file is not an error.
  void read_csv(const std::string& path, int64_t before_step);

  // Writes into `dir`:
  //   diagnostics_init_histograms.png   each layer's activations at step 0 (if seen)
  //   diagnostics_update_ratio.png      ‖Δw‖/‖w‖ per weight over the steps, log scale, with 1e-3
  //   diagnostics_activation_std.png    std of each layer's output over the steps
  //   diagnostics_gradient_std.png      std of d loss / d output per layer, log scale
  // Returns the file names written (the latter three need at least one record).
  std::vector<std::string> write_plots(const std::string& dir) const;

  DiagnosticsOptions options;

 private:
  struct Layer {
    std::string child;  // "1"
    std::string label;  // "1.ReLU"
  };
  struct Param {
    std::string label;
    Tensor tensor;
    std::vector<float> before;  // the weights before the recorded step's update
    TensorStats value, gradient;
  };
  void on_forward(const std::string& child, const Tensor& output);
  bool recording(int64_t step) const { return step % options.every() == 0; }
  std::string position(int64_t step) const;

  nn::Sequential& model_;
  int hook_id_ = -1;
  std::vector<Layer> layers_;
  std::vector<Param> params_;
  int64_t next_step_ = 0, steps_per_epoch_ = 1;
  // Outputs of the step being recorded (gradient retained), by layer, in forward order.
  std::vector<std::pair<size_t, Tensor>> outputs_;
  std::vector<TensorStats> output_stats_;
  std::vector<DiagnosticsRecord> records_;
  std::vector<std::pair<std::string, std::vector<double>>> initial_;
};

}  // namespace nabla::train
