// Transfer learning: start a model from another run's weights, freeze some of its layers and give
// others a learning rate of their own (CS231n lecture 7: with little data, train only the last
// layers of a network pretrained on a similar task).
//
//   auto model = make_model("lenet5", five_classes);             // a 5-class head
//   InitReport r = init_from_checkpoint(*model, "runs/pre");     // weights of a 10-class run;
//   std::cout << r.summary();                                    // its head 11 is replaced
//   TrainableParameters t = trainable_parameters(*model, "features", "head=10");
//   optim::SGD opt(t.params, optim::SGDOptions(0.01));           // frozen ones are not given
//   opt.set_lr_multipliers(t.lr_multipliers);
//
// Layers are the model's top-level children, as its parameter names show them ("7.weight" is
// layer 7's). A layer selector, as --freeze and --lr-mult take them, is one of
//   features   every layer before the first Linear: the convolutional feature extractor
//   head       the last layer that has parameters: the classifier
//   N, A-B     layer N, layers A to B inclusive
//   PATH       a parameter ("0.weight") or a module path ("0", or "2.1" inside a container)
// A selector that matches no parameter is an error (naming the closest valid one), so a typo
// cannot silently train what was meant to be frozen.
//
// Not here: unfreezing during a run (fine-tune in two runs instead), batch-norm statistics
// (a frozen BatchNorm's running mean and variance still update in training mode, as PyTorch's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nabla/data/dataset.h"
#include "nabla/nn/module.h"
#include "nabla/tensor.h"
#ifdef NABLA_HAVE_ONNX
#include "nabla/onnx.h"
#endif

namespace nabla::app {

struct InitReport {
  std::string checkpoint;             // the directory whose weights were read
  int64_t loaded = 0;                 // tensors copied (parameters and buffers)
  std::vector<std::string> replaced;  // "replaced head 11.Linear (84 -> 10) by (84 -> 5)"
  // One line per fact, each ending in '\n'.
  std::string summary() const;
};

// Copies the weights of a checkpoint into `model` by name. `path` is a checkpoint directory or a
// run's --out directory (then its best/, else final/, else last/, as eval does). The head keeps
// the model's own fresh initialisation, and is reported, when the task changed: its shape differs
// (another class count), or `class_names` is given and differs from the classes the checkpoint
// was trained on (its trainer_state.json, as nabla train writes it). Throws, changing nothing,
// naming the parameter and both shapes for a shape mismatch anywhere else, and naming the tensors
// that only one side has.
InitReport init_from_checkpoint(nn::Module& model, const std::string& path,
                                const std::vector<std::string>& class_names = {});

// The input normalisation a nabla train checkpoint (or run directory, resolved as above) was
// trained with, or none when its trainer_state.json does not say. A run started --init-from uses
// it for its own data, so that pretrained layers see inputs scaled as they were trained on.
std::optional<data::Normalization> checkpoint_normalization(const std::string& path);
#ifdef NABLA_HAVE_ONNX
// Image samples are uint8 pixels, which the data loader divides by 255 before normalising; an
// ONNX graph takes the pixels themselves (docs/onnx.md, the input contract): 255 for images,
// 1 for flat samples.
float onnx_input_scale(const std::vector<int64_t>& sample_shape);
// The normalisation an imported ONNX model's leading Sub and Div nodes apply, in the data
// loader's units (pixels / 255 for images); empty when it has none.
data::Normalization onnx_normalization(const onnx::ImportedModel& imported);
#endif

// The names of the parameters that `selectors` (comma-separated, see above) pick, in the model's
// order. `option` ("--freeze") heads error messages.
std::vector<std::string> select_parameters(const nn::Module& model, const std::string& selectors,
                                           const std::string& option = "--freeze");

struct TrainableParameters {
  std::vector<Tensor> params;          // what the optimizer gets: all but the frozen, in order
  std::vector<std::string> names;      // their names
  std::vector<double> lr_multipliers;  // one per entry of params; 1 unless --lr-mult set it
  std::vector<std::string> frozen;     // names of the frozen parameters
  int64_t frozen_values = 0;           // their element count
  // "froze 4 tensors (2572 values): 0.weight, ...; lr x10: 11.weight, 11.bias", or "" when
  // nothing is frozen or scaled.
  std::string summary() const;
};

// Freezes the parameters `freeze` selects (requires_grad false, so no gradient reaches them) and
// returns the others with their learning-rate multipliers from `lr_mult`, a comma-separated list
// of SELECTOR=FACTOR ("features=0.1,head=10"; a later entry overrides an earlier one for the
// parameters both select). Empty strings freeze and scale nothing. Throws, freezing nothing, for
// a bad selector or factor (finite, >= 0), a factor whose selector picks only frozen parameters,
// or a freeze that leaves nothing to train.
TrainableParameters trainable_parameters(nn::Module& model, const std::string& freeze,
                                         const std::string& lr_mult);

}  // namespace nabla::app
