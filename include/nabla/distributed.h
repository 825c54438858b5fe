// Data-parallel training over MPI, as Horovod and PyTorch's DistributedDataParallel do it: every
// process (rank) holds a replica of the model, trains on its own slice of each global batch, and
// the gradients are averaged with MPI_Allreduce before every optimizer step, so all replicas take
// the same step the single-process run takes on the whole batch.
//
//   int main(int argc, char** argv) {
//     distributed::Session mpi(&argc, &argv);       // MPI_Init if started by mpirun
//     distributed::Communicator& world = distributed::Communicator::world();
//     data::DataLoader loader(train, data::DataLoaderOptions(64).shuffle(true).seed(1)
//                                        .shard_index(world.rank()).shard_count(world.size()));
//     train::Trainer trainer(model, opt, loader);
//     distributed::DataParallel dp(model, opt, world);  // broadcasts rank 0's weights
//     distributed::attach(dp, trainer);  // all-reduces gradients each step (train/data_parallel.h)
//     trainer.fit();
//   }
//   $ mpirun -np 2 ./program
//
// Without MPI (NABLA_MPI off at build time, or a program not started by mpirun) the world has
// one rank and every collective is a copy or nothing, so callers need no #ifdef.
//
// What is reduced, and when (docs/distributed.md): after each backward, one flat buffer of
// [sample count, loss sum, correct count, per-parameter "has a gradient" flags, gradients, floating
// buffers (batch-norm running statistics)], each rank's part weighted by its sample count, cut
// into buckets of about bucket_bytes with one all-reduce each. Every check_every steps a checksum
// of parameters, buffers and optimizer state is compared across ranks.
//
// Batch norm keeps per-rank statistics unless set_sync_batchnorm makes it synchronised.
//
// Not here: the Trainer glue (attach, an epoch's metrics and an evaluation over all ranks, sharded
// data sets), which is nabla/train/data_parallel.h, so that nabla::distributed needs nothing but
// nabla::core; model parallelism; fault tolerance (a failed rank ends the job:
// Communicator::abort).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nabla/arg.h"
#include "nabla/nn/module.h"
#include "nabla/optim/optimizer.h"
#include "nabla/random.h"

namespace nabla::distributed {

// True when this nabla was built with MPI (the CMake option NABLA_MPI).
bool mpi_built();
// True when the environment says an MPI launcher (mpirun, mpiexec, srun) started this process.
bool launched_by_mpi();

// MPI_Init on construction and MPI_Finalize on destruction, when MPI is built in and the process
// was started by an MPI launcher (or `force`); otherwise nothing, and the world has one rank.
class Session {
 public:
  Session(int* argc, char*** argv, bool force = false);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
};

// Time spent in collectives, for the docs' communication numbers.
struct CommStats {
  double allreduce_seconds = 0;
  int64_t allreduce_calls = 0;
  int64_t allreduce_bytes = 0;  // payload per rank, summed over calls
};

// MPI_COMM_WORLD, or a world of one process when MPI is not running.
class Communicator {
 public:
  static Communicator& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_main() const { return rank_ == 0; }

  // In-place sums over all ranks; every rank must call with the same count.
  void allreduce_sum(std::span<float> data);
  void allreduce_sum(std::span<double> data);
  void allreduce_sum(std::span<int64_t> data);
  // Starts in-place sums of several buffers one after another and waits for all of them: bucket
  // i + 1 is handed to MPI while bucket i is in flight.
  void allreduce_sum_buckets(std::span<float> data, int64_t bucket_elements);
  void allreduce_sum_buckets(std::span<double> data, int64_t bucket_elements);
  // Copies rank `root`'s bytes to every rank.
  void broadcast(std::span<std::byte> data, int root = 0);
  std::string broadcast(const std::string& text, int root = 0);
  // Every rank's value, indexed by rank.
  std::vector<uint64_t> allgather(uint64_t value);
  void barrier();
  // Ends every rank of the job (MPI_Abort); with one rank, std::exit(code).
  [[noreturn]] void abort(int code);

  CommStats stats;

 private:
  Communicator();
  int rank_ = 0, size_ = 1;
};

// Throws unless every rank passes the same text (a model description, a run's options), naming
// `what` and the ranks whose text differs from rank 0's.
void check_same_on_all_ranks(const std::string& what, const std::string& text,
                             Communicator& comm = Communicator::world());

// Compute threads for each rank when no thread count is given: the machine's cores shared by the
// ranks on this host (OpenMPI's OMPI_COMM_WORLD_LOCAL_SIZE), at least 1.
int threads_per_rank();

// Gives rank r > 0 its own stream of a generator that every rank seeded alike (dropout): reseeds it
// from its state and r, so the shards do not all get rank 0's masks. Rank 0's is left as it is.
void decorrelate(Generator& generator, const Communicator& comm = Communicator::world());

// True when every rank passes the same value (every rank must call it).
bool same_on_all_ranks(uint64_t value, Communicator& comm = Communicator::world());

// Synchronised batch norm: every BatchNorm1d/2d layer in `model` (at any depth) normalises in
// training with the mean and variance of all ranks' batches together, summed over `comm` (one
// all-reduce of C + 1 and one of C doubles per layer in forward, one of 2·C in backward; see
// batch_norm in nabla/ops/conv.h). Every rank must call it alike. With one rank the results are
// those of plain batch norm. Returns the number of layers changed. `comm` must outlive the model's
// use. clear_sync_batchnorm restores per-rank statistics.
int64_t set_sync_batchnorm(nn::Module& model, Communicator& comm = Communicator::world());
int64_t clear_sync_batchnorm(nn::Module& model);

struct DataParallelOptions {
  // Gradients are all-reduced in buckets of about this many bytes (one MPI call each).
  NABLA_ARG(int64_t, bucket_bytes) = int64_t{2} << 20;
  // Every this many steps, all ranks compare a checksum of parameters, buffers and optimizer
  // state and throw naming the rank that differs; 0: never.
  NABLA_ARG(int64_t, check_every) = 0;
};

// The gradient all-reduce for one model and optimizer (see the top of this file).
class DataParallel {
 public:
  // Broadcasts rank 0's parameters and buffers, so replicas start equal even if their
  // initialisation differed. requires: same model structure on every rank (checked: the
  // parameter shapes' checksum), all parameters and floating buffers of one dtype.
  DataParallel(nn::Module& model, optim::Optimizer& optimizer,
               Communicator& comm = Communicator::world(), DataParallelOptions options = {});

  // After backward on `samples` local samples (mean loss `loss`, `correct` of them right):
  // replaces every gradient by the average over all ranks' samples and buffers by their
  // sample-weighted average. Returns the global sample count.
  int64_t allreduce_gradients(int64_t samples, double loss, int64_t correct);
  // Copies rank 0's parameters and buffers to every rank.
  void broadcast_parameters();
  // Throws naming the ranks whose parameters, buffers or optimizer state differ from rank 0's.
  void check_consistency(int64_t step);

  // The global batches' sums since the last call (samples, loss times samples, correct), which
  // it zeroes: an epoch's train numbers over all ranks.
  struct EpochSums {
    double samples = 0, loss = 0, correct = 0;
  };
  EpochSums take_epoch_sums();
  Communicator& communicator() const { return comm_; }
  // "all-reduce: 2.1 ms per step (0.9 MB), 4% of the training time" for the run's summary.
  std::string summary(double train_seconds) const;

  DataParallelOptions options;
  int64_t steps = 0;

 private:
  template <class T>
  int64_t allreduce_typed(int64_t samples, double loss, int64_t correct);
  optim::Optimizer& optimizer_;
  Communicator& comm_;
  std::vector<Tensor> params_, buffers_, grads_;
  std::vector<float> flat_f_;
  std::vector<double> flat_d_;
  double epoch_samples_ = 0, epoch_loss_ = 0, epoch_correct_ = 0;
};

}  // namespace nabla::distributed
