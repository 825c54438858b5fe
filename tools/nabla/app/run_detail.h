// The pieces of a training run that run.cpp's Run class, run_setup.cpp and trained_model.cpp
// share: options and progress to and from JSON (the run's trainer_state.json), the data sets and
// the objects the options make. Internal to the application; users call app/run.h.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "app/run.h"
#include "nabla/io/checkpoint.h"
#include "nabla/optim/lr_scheduler.h"
#include "nabla/optim/optimizer.h"

namespace nabla::app::run_detail {

using json = nlohmann::json;

// "a, b or c".
std::string join(const std::vector<std::string>& items);
// Throws "<what> 'value' is not one of ...; did you mean ...?" unless value is a choice.
void check_choice(const char* what, const std::string& value,
                  const std::vector<std::string>& choices);
bool is_preset(const std::string& model);

json options_to_json(const RunOptions& o);
// The options as the run used them (trainer_state.json's "effective_options", the report):
// options_to_json's keys, with each default resolved (threads: the count that ran; lr_gamma: the
// schedule's factor; weight_decay: the optimizer's) and null for an option that does not apply
// (lr_gamma without a schedule that has one, momentum under Adam).
json effective_options(const RunOptions& o);
// The step schedule's epochs between decays and the factor of step, exponential and plateau
// schedules, 0 resolved to the schedule's default.
int64_t effective_lr_step_size(const RunOptions& o);
double effective_lr_gamma(const RunOptions& o);
RunOptions options_from_json(const json& j);
// A Trainer's position inside an epoch; null in an epoch-end checkpoint.
json progress_to_json(const train::EpochProgress& p);
train::EpochProgress progress_from_json(const json& config, int64_t epochs_done);
// JSON has no NaN: a missing validation value is null.
json number_or_null(double v);
double number_or_nan(const json& j);
json history_to_json(const std::vector<train::EpochMetrics>& rows);
std::vector<train::EpochMetrics> history_from_json(const json& j);
// A scheduler's state() as a JSON object; NaN (no value yet) as null.
json state_to_json(const std::vector<std::pair<std::string, double>>& state);
std::vector<std::pair<std::string, double>> state_from_json(const json& j);
// The run config in a checkpoint's trainer_state.json; throws naming `dir` when it is not one.
json checkpoint_config(const io::TrainingState& state, const std::string& dir);

struct RunData {
  data::Dataset train, val, test;
  data::Normalization normalization;
};
RunData load_run_data(const RunOptions& o);
// csv:TRAIN[,TEST] and folder:PATH (file_datasets.cpp); without a test part, a fifth of the data
// (fixed by the seed) is the test set.
bool is_file_dataset(const std::string& dataset);
data::Dataset load_file_dataset(const RunOptions& o, data::Split split);
data::AugmentOptions augment_options(const RunOptions& o, const data::Dataset& train);

std::string read_text_file(const std::string& path);

// --normalize MEAN,STD (one pair for every channel) or M1,...,MC,S1,...,SC.
Normalization parse_normalize(const std::string& text);
std::vector<int64_t> described_input(const std::string& description);
std::unique_ptr<optim::Optimizer> make_optimizer(const RunOptions& o, std::vector<Tensor> params);
// With a memory limit, checks before the first step that the gradients and the optimizer's state
// fit beside what is already held.
void check_training_memory(const RunOptions& o, const std::vector<Tensor>& params);
std::unique_ptr<optim::LRScheduler> make_scheduler(const RunOptions& o, optim::Optimizer& opt);
std::unique_ptr<optim::ReduceLROnPlateau> make_plateau(const RunOptions& o, optim::Optimizer& opt);

std::string default_out_dir(const RunOptions& o);
int64_t parameter_count(const nn::Module& m);
// Appended to an error that ends training: what the checkpoint `last` (OUT/last) still holds.
std::string last_good_checkpoint(const std::string& last);
// Batch norm in training mode normalises each channel over the batch: a last batch of one image
// (one value per channel in BatchNorm1d) would throw at the end of the first epoch, losing it.
// Sets o.drop_last for a batch-norm model whose `train_size` images, split over `ranks` (each
// rank normalising its own slice unless o.sync_batchnorm), leave such a batch, and returns the
// notice to print ("" when nothing changes).
std::string take_drop_last_for_batch_norm(RunOptions& o, int64_t train_size, int64_t ranks,
                                          const nn::Module& model);
std::string percent(double fraction);  // "12.50%"

// The generator of every layer with random state (dropout) and the layer's dotted path, depth
// first.
void find_dropouts(nn::Module& m, const std::string& prefix,
                   std::vector<std::pair<std::string, Generator*>>& out);
// The filters of the first layer that has some to draw (a convolution's weight); undefined if none.
Tensor first_filters(const nn::Module& m);

}  // namespace nabla::app::run_detail
