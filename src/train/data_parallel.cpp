// The Trainer glue of data-parallel training (include/nabla/train/data_parallel.h).
#include "nabla/train/data_parallel.h"

#include <numeric>
#include <span>
#include <vector>

#include "nabla/error.h"

namespace nabla::distributed {

void attach(DataParallel& dp, train::Trainer& trainer) {
  trainer.after_backward.push_back([&dp](const train::StepInfo& info) {
    dp.allreduce_gradients(static_cast<int64_t>(info.input->labels.size()), info.loss,
                           info.correct);
  });
  trainer.after_step.push_back([&dp](const train::StepInfo& info) {
    ++dp.steps;
    if (dp.options.check_every() > 0 && (info.step + 1) % dp.options.check_every() == 0)
      dp.check_consistency(info.step);
  });
}

train::EpochMetrics global_metrics(DataParallel& dp, const train::EpochMetrics& local,
                                   int64_t val_samples) {
  train::EpochMetrics m = local;
  const DataParallel::EpochSums epoch = dp.take_epoch_sums();
  if (epoch.samples > 0) {
    m.train_loss = epoch.loss / epoch.samples;
    m.train_acc = epoch.correct / epoch.samples;
    m.images_per_s = m.seconds > 0 ? epoch.samples / m.seconds : 0.0;
  }
  const bool has_val = m.has_validation();
  const auto n = has_val ? static_cast<double>(val_samples) : 0.0;
  double sums[3] = {has_val ? m.val_loss * n : 0.0, has_val ? m.val_acc * n : 0.0, n};
  dp.communicator().allreduce_sum(std::span<double>(sums));
  if (sums[2] > 0) {
    m.val_loss = sums[0] / sums[2];
    m.val_acc = sums[1] / sums[2];
  }
  return m;
}

data::Dataset shard(const data::Dataset& dataset, Communicator& comm) {
  if (comm.size() == 1 || dataset.empty()) return dataset;
  const int64_t n = dataset.size(), R = comm.size(), r = comm.rank();
  NABLA_CHECK(n >= R, "distributed: ", dataset.name(), " has ", n, " samples, fewer than the ", R,
              " ranks that share its evaluation");
  std::vector<int64_t> indices(static_cast<size_t>(n * (r + 1) / R - n * r / R));
  std::iota(indices.begin(), indices.end(), n * r / R);
  return dataset.subset(indices);
}

train::EvalResult reduce(const train::EvalResult& local, Communicator& comm) {
  if (comm.size() == 1) return local;
  const int64_t K = local.confusion.num_classes();
  // [samples, classes, K×K confusion counts]; loss sums go separately as double.
  std::vector<int64_t> counts(static_cast<size_t>(2 + K * K), 0);
  counts[0] = local.samples;
  counts[1] = K;
  for (int64_t t = 0; t < K; ++t)
    for (int64_t p = 0; p < K; ++p)
      counts[static_cast<size_t>(2 + t * K + p)] = local.confusion.count(t, p);
  NABLA_CHECK(same_on_all_ranks(static_cast<uint64_t>(K), comm),
              "distributed: ranks evaluated different numbers of classes");
  comm.allreduce_sum(std::span<int64_t>(counts));
  double loss_sum = local.loss * static_cast<double>(local.samples);
  comm.allreduce_sum(std::span<double>(&loss_sum, 1));

  train::EvalResult out;
  out.samples = counts[0];
  out.confusion = train::ConfusionMatrix(K);
  int64_t correct = 0;
  for (int64_t t = 0; t < K; ++t)
    for (int64_t p = 0; p < K; ++p)
      for (int64_t i = counts[static_cast<size_t>(2 + t * K + p)]; i > 0; --i) {
        out.confusion.add(t, p);
        correct += t == p;
      }
  if (out.samples > 0) {
    out.loss = loss_sum / static_cast<double>(out.samples);
    out.accuracy = static_cast<double>(correct) / static_cast<double>(out.samples);
  }
  return out;
}

}  // namespace nabla::distributed
