// Batch normalisation layers (Ioffe & Szegedy 2015) over the batch_norm op (nabla/ops/conv.h):
// BatchNorm1d for (N, C) features, BatchNorm2d for (N, C, H, W) images, statistics per channel.
//
// Training: normalises with the batch's mean and biased variance and updates the running
// statistics in place: running = (1 - momentum)·running + momentum·batch (the variance term
// unbiased, M/(M-1)). Evaluation: normalises with the running statistics and changes nothing.
// running_mean (zeros) and running_var (ones) are registered buffers, so they are saved with
// the parameters; weight (ones) and bias (zeros) are parameters when affine. As in PyTorch, the
// int64 buffer num_batches_tracked counts the training forwards (it changes no result: nabla has
// no cumulative-average momentum); track_num_batches(false) leaves it out.
//
//   nn::BatchNorm2d bn(nn::BatchNormOptions(32).momentum(0.01));
//
// Synchronised batch norm for data-parallel training: set sum_across_ranks (or call
// distributed::set_sync_batchnorm on the whole model) and training statistics are those of all
// ranks' batches together (batch_norm in nabla/ops/conv.h).
#pragma once

#include <cstdint>
#include <string>

#include "nabla/nn/module.h"
#include "nabla/nn/options.h"
#include "nabla/ops/conv.h"

namespace nabla::nn {

struct BatchNormOptions {
  BatchNormOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT: implicit
  NABLA_ARG(int64_t, num_features);                                        // C
  NABLA_ARG(double, eps) = 1e-5;                                           // added to the variance
  NABLA_ARG(double, momentum) = 0.1;            // weight of the newest batch, in [0, 1]
  NABLA_ARG(bool, affine) = true;               // learn weight (γ) and bias (β)
  NABLA_ARG(bool, track_running_stats) = true;  // false: batch statistics in eval mode too
  NABLA_ARG(bool, track_num_batches) = true;    // count training batches (with running stats)
  NABLA_ARG(DType, dtype) = kFloat32;           // of parameters and float buffers
};

// The shared implementation; use BatchNorm1d or BatchNorm2d.
class BatchNormBase : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  // relu(forward(input)) as one op. In evaluation with running statistics and no gradient needed
  // (NoGradGuard, or nothing requires grad), one pass over the input with no graph
  // (batch_norm_relu_inference); otherwise (training, batch statistics, or a gradient to record)
  // the op batch_norm_relu, whose backward recomputes the ReLU's mask from the input.
  Tensor forward_relu(const Tensor& input) override;
  // "32, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true"
  std::string extra_repr() const override;
  LayerConfig config() const override;
  // Sets sum_across_ranks.
  bool sync_statistics(const SumAcrossRanks& sum) override;
  bool has_batch_statistics() const override { return true; }
  // In batch slices that run together its statistics are the whole batch's (not with
  // sum_across_ranks set: slices of a rank's batch are not summed over ranks as well).
  bool slices_together() const override { return !sum_across_ranks; }
  // running_mean = 0, running_var = 1, num_batches_tracked = 0.
  void reset_running_stats();
  // reset_running_stats(), and weight = 1, bias = 0.
  void reset_parameters();

  BatchNormOptions options;
  Tensor weight;               // (C); undefined unless affine
  Tensor bias;                 // (C); undefined unless affine
  Tensor running_mean;         // (C) buffer; undefined unless track_running_stats
  Tensor running_var;          // (C) buffer; undefined unless track_running_stats
  Tensor num_batches_tracked;  // 0-d int64 buffer; undefined unless track_running_stats and
                               // track_num_batches
  // Empty (the default): statistics of this process's batch. Set: sums the statistics over the
  // ranks of a data-parallel job in training (synchronised batch norm).
  SumAcrossRanks sum_across_ranks;

 protected:
  BatchNormBase(const BatchNormOptions& options, int input_dims);

 private:
  // The layer's shape checks, then `op` with its errors prefixed by the layer ("BatchNorm2d(32)").
  template <class F>
  Tensor run(const Tensor& input, F op);
  // forward, and with `relu` forward_relu's op (batch_norm_relu).
  Tensor apply(const Tensor& input, bool relu);

  int input_dims_;  // 2 for BatchNorm1d, 4 for BatchNorm2d
};

class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(const BatchNormOptions& options) : BatchNormBase(options, 2) {}
  BatchNorm1d(int64_t num_features) : BatchNorm1d(BatchNormOptions(num_features)) {}
  std::string name() const override { return "BatchNorm1d"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
};

class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(const BatchNormOptions& options) : BatchNormBase(options, 4) {}
  BatchNorm2d(int64_t num_features) : BatchNorm2d(BatchNormOptions(num_features)) {}
  std::string name() const override { return "BatchNorm2d"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
};

}  // namespace nabla::nn
