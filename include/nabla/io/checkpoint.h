// Checkpoints: a training run saved to a directory, so that `nabla train --resume DIR` continues
// exactly where it stopped. docs/checkpoints.md describes the files in full.
//
//   DIR/model.safetensors       the model's state_dict: parameters and buffers under PyTorch's
//                               names ("0.weight", "1.running_mean"), readable by
//                               safetensors.torch.load_file; __metadata__ also holds the
//                               trainer's JSON and the model card, so the file alone is a
//                               model (nabla/load_model.h)
//   DIR/optimizer.safetensors   the optimizer's state ("state.0.exp_avg", "state.0.step");
//                               __metadata__ names the optimizer and holds its hyperparameters
//   DIR/trainer_state.json      epoch, step, each random generator's state, the trainer's JSON
//
// save_checkpoint() replaces the directory as a whole (io/atomic_file.h): after a crash at any
// moment DIR is the previous checkpoint or the new one, never a mix of the two.
//
//   io::TrainingState state;                          // epoch, step, RNG states, the JSON
//   state.epoch = 3;
//   state.rng["shuffle"] = gen.state();
//   io::save_checkpoint("runs/lenet", model, &opt, state);
//
//   io::TrainingState s = io::read_training_state("runs/lenet");  // rebuild from s.config,
//   io::load_checkpoint("runs/lenet", model, &opt);              // then load weights and state
//   gen.set_state(s.rng.at("shuffle"));
//
// Not here: keeping several checkpoints (name the directories), the trainer's loop itself.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "nabla/io/atomic_file.h"  // resolve_atomic_directory, to find a checkpoint
#include "nabla/io/safetensors.h"
#include "nabla/nn/module.h"
#include "nabla/optim/optimizer.h"

namespace nabla::io {

// ---- model weights ----

// PyTorch's state_dict order and names: each module's parameters, then its buffers, then its
// children's, depth first, with dotted paths ("0.weight", "0.bias", "1.running_mean").
NamedTensors state_dict(const nn::Module& module);

// Batch norm's int64 num_batches_tracked: the one entry a file may lack and still load strictly
// (files from before nabla counted batches); the model's counter then keeps its value.
bool may_be_missing(const std::string& name, const Tensor& t);

// Copies `tensors` into the module's parameters and buffers, in place, so every handle to them
// (members, optimizers) sees the loaded values; dtypes are converted to the module's.
// strict: the names must match the module's exactly (as PyTorch's load_state_dict(strict=True)),
// but for entries that may_be_missing; otherwise missing and unexpected names are skipped. A
// shape mismatch is always an error.
// Throws, changing nothing, one message listing every missing and unexpected name and every shape
// mismatch; `source` (a file name) heads it.
void load_state_dict(nn::Module& module, const NamedTensors& tensors, bool strict = true,
                     const std::string& source = "state_dict");

// The weights alone as one safetensors file, written atomically; `metadata` goes in its header.
void save_weights(const std::string& path, const nn::Module& module, const Metadata& metadata = {});
// Loads a file save_weights (or PyTorch's safetensors.torch.save_file) wrote; returns its
// metadata.
Metadata load_weights(const std::string& path, nn::Module& module, bool strict = true);

// ---- whole training runs ----

struct TrainingState {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimizer steps taken
  // Generator::state() of each random stream the run draws from, under the trainer's names.
  std::map<std::string, std::string> rng;
  // The trainer's own JSON (model description, training options, history); must be valid JSON.
  // Kept as JSON in the files, so read back re-serialized (same value, compact spacing).
  std::string config = "{}";
};

// The __metadata__ entry in which model.safetensors records the epochs done (TrainingState::epoch),
// so that the weights file alone says how far its run got.
inline constexpr const char* kEpochMetadataKey = "nabla.epoch";

// Writes `model` and, unless null, `optimizer` and `state` to the directory `dir`, replacing
// what was there atomically; creates `dir`'s parent directories as needed.
void save_checkpoint(const std::string& dir, const nn::Module& model,
                     const optim::Optimizer* optimizer, const TrainingState& state);

// Reads trainer_state.json alone: what the trainer needs to rebuild model and optimizer.
TrainingState read_training_state(const std::string& dir);

// Loads weights into `model` (strictly: names and shapes must match) and, unless null, the
// optimizer's state and hyperparameters (its kind and parameter count must match the saved
// one's), and returns the training state. Every file is read and checked before anything is
// changed; errors name the file and, for a corrupt file, the byte offset.
TrainingState load_checkpoint(const std::string& dir, nn::Module& model,
                              optim::Optimizer* optimizer);

}  // namespace nabla::io
