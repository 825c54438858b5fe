// Synchronised batch norm: hands every batch-norm layer of a model the communicator's sum.
#include <span>

#include "nabla/distributed.h"
#include "nabla/nn/normalization.h"

namespace nabla::distributed {

namespace {

int64_t set_sync(nn::Module& module, Communicator* comm) {
  int64_t layers = 0;
  SumAcrossRanks sum;  // empty: this process's statistics only
  if (comm) sum = [comm](std::span<double> data) { comm->allreduce_sum(data); };
  if (module.sync_statistics(sum)) ++layers;
  for (const auto& child : module.children()) layers += set_sync(*child, comm);
  return layers;
}

}  // namespace

int64_t set_sync_batchnorm(nn::Module& model, Communicator& comm) {
  return set_sync(model, &comm);
}

int64_t clear_sync_batchnorm(nn::Module& model) {
  return set_sync(model, nullptr);
}

}  // namespace nabla::distributed
