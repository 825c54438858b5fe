// The Trainer's side of data-parallel training (nabla/distributed.h holds the communicator and
// the gradient all-reduce; this glue sits in nabla::train, above both, so that distributed needs
// nothing but the core):
//
//   distributed::DataParallel dp(model, opt, world);
//   distributed::attach(dp, trainer);                   // all-reduce after every backward
//   train::EpochMetrics m = distributed::global_metrics(dp, local, val_samples);
//   train::EvalResult test = distributed::reduce(evaluate(model, distributed::shard(test_set)));
#pragma once

#include <cstdint>

#include "nabla/data/dataset.h"
#include "nabla/distributed.h"
#include "nabla/train/metrics.h"
#include "nabla/train/trainer.h"

namespace nabla::distributed {

// Adds dp's gradient all-reduce to trainer.after_backward and its consistency check (every
// dp.options.check_every() steps) to trainer.after_step.
void attach(DataParallel& dp, train::Trainer& trainer);

// An epoch's metrics over all ranks: the Trainer's train numbers are this rank's shard's, so they
// are replaced by the global batches' sums since the last call; validation numbers over
// `val_samples` local samples are sample-weighted across ranks. Every rank must call it.
train::EpochMetrics global_metrics(DataParallel& dp, const train::EpochMetrics& local,
                                   int64_t val_samples);

// This rank's contiguous share of a data set for sharded evaluation: samples
// [size·r/R, size·(r+1)/R); an empty data set is returned as it is. Throws when a rank would get
// no sample.
data::Dataset shard(const data::Dataset& dataset, Communicator& comm = Communicator::world());

// Sums an evaluation over the ranks (loss and correct weighted by samples, confusion counts);
// every rank gets the whole-set result.
train::EvalResult reduce(const train::EvalResult& local,
                         Communicator& comm = Communicator::world());

}  // namespace nabla::distributed
