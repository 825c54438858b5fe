// Sanity checks before a long training run, as CS231n's lecture 6 ("babysitting the learning
// process") does them by hand:
//
//   (a) init loss     with no regularisation, the mean cross-entropy of the untrained model is
//                     close to ln C (C classes): its logits are small, so softmax is near uniform
//   (b) regularised   adding an L2 penalty λ·Σw² over the weight matrices and kernels raises it
//   (c) overfit       a few examples (20) are learned to 100% training accuracy within a bounded
//                     number of Adam steps, with dropout off
//   (d) gradcheck     on the real model in float64 on a small batch, a handful of random entries
//                     of every parameter tensor: backward against central differences
//
//   app::SanityOptions o;
//   o.model = "lenet5";
//   app::SanityReport r = app::run_sanity_checks(o);
//   std::cout << r.str();   // one PASS/FAIL line per check with its numbers
//   return r.passed() ? 0 : 1;
//
// run_sanity_checks(factory, ...) takes any model: each check builds a fresh one, so (c) does not
// train the model that (d) checks and (d)'s switch to float64 touches nothing else.
//
// Why the init-loss tolerance is 10% of ln C: for logits z with a spread s over the classes
// (independent of the label), E[loss] ≈ ln C + s²/2, so |loss − ln C| ≤ 0.1·ln C (0.23 for ten
// classes) allows a logit spread up to about 0.68 and fails an initialisation whose logits are
// several units wide — the "too large initial weights" case the lecture shows.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nabla/data/dataset.h"
#include "nabla/nn/module.h"

namespace nabla::app {

struct SanityOptions {
  std::string model = "lenet5";           // a preset or a JSON description's path (models.h)
  std::string dataset = "fashion-mnist";  // as RunOptions::dataset
  std::string data_dir;                   // "": the dataset's default directory
  uint64_t seed = 0;                      // weights and the samples drawn for each check
  int threads = 0;                        // 0: the pool's default
  int64_t train_subset = 0;               // load only the first N training images (0: all)

  int64_t init_batch = 256;           // (a), (b): samples the losses are averaged over
  double init_tolerance = 0.1;        // (a): allowed |loss − ln C| as a fraction of ln C
  double reg_strength = 1e3;          // (b): λ of the penalty λ·Σw² (CS231n uses 1e3)
  int64_t overfit_samples = 20;       // (c)
  int64_t overfit_max_steps = 200;    // (c): full-batch Adam steps allowed
  double overfit_lr = 1e-3;           // (c): Adam's learning rate
  int64_t gradcheck_batch = 8;        // (d): samples in the float64 batch
  int64_t gradcheck_elements = 6;     // (d): entries sampled from each parameter tensor
  double gradcheck_tolerance = 1e-5;  // (d): max relative error allowed
};

// One parameter tensor's gradient check.
struct ParameterGradcheck {
  std::string name;  // "0.weight"
  double max_rel_error = 0;
  int64_t checked = 0;               // entries compared
  std::vector<int64_t> worst_index;  // of the worst entry
  double analytic = 0, numeric = 0;  // at the worst entry
};

struct SanityReport {
  int64_t num_classes = 0;

  // (a)
  double init_loss = 0;
  double expected_init_loss = 0;  // ln C
  double init_logit_spread = 0;   // mean over samples of the logits' std across classes
  bool init_passed = false;

  // (b)
  double reg_penalty = 0;  // λ·Σw²
  double reg_loss = 0;     // init_loss + reg_penalty, computed through the graph
  bool reg_passed = false;

  // (c)
  int64_t overfit_steps = 0;    // steps taken (the first that reached 100%, or the maximum)
  double overfit_accuracy = 0;  // training accuracy on the subset when it stopped
  double overfit_loss = 0;      // training loss when it stopped
  bool overfit_passed = false;

  // (d)
  std::vector<ParameterGradcheck> gradchecks;
  double gradcheck_max_rel_error = 0;
  bool gradcheck_passed = false;

  SanityOptions options;  // what was checked, for str()

  bool passed() const { return init_passed && reg_passed && overfit_passed && gradcheck_passed; }
  // One line per check, "PASS"/"FAIL" first, with its numbers; then one line per parameter of (d).
  std::string str() const;
};

// Builds a fresh model, the same one every call (same architecture and initial weights).
using ModelFactory = std::function<std::shared_ptr<nn::Module>()>;

// The four checks on models from `make_model`, with samples from `train` (normalised by
// `normalization`; empty means none). The model maps a batch (B, sample shape...) to logits
// (B, train.num_classes()). Each check uses min(train.size(), its count) samples, taken from a
// seeded shuffle of `train`; throws nabla::Error when `train` is empty or a count is not positive.
SanityReport run_sanity_checks(const ModelFactory& make_model, const data::Dataset& train,
                               const data::Normalization& normalization,
                               const SanityOptions& options);

// Loads options.dataset (training split) and builds options.model as `nabla train` does (same
// weights for the same seed), then runs the checks. Throws nabla::Error for an unknown model or
// dataset (naming the valid choices) or missing data.
SanityReport run_sanity_checks(const SanityOptions& options);

}  // namespace nabla::app
