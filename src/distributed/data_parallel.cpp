// DataParallel and the start-up checks (include/nabla/distributed.h). No MPI
// here: everything goes through Communicator, so this file compiles the same with and without it.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <thread>

#include "nabla/autograd.h"
#include "nabla/distributed.h"
#include "nabla/error.h"

namespace nabla::distributed {

namespace {

// FNV-1a, 64-bit: a cheap checksum whose only job is to differ when bytes differ.
uint64_t fnv1a(const void* data, size_t bytes, uint64_t hash = 0xcbf29ce484222325ULL) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) hash = (hash ^ p[i]) * 0x100000001b3ULL;
  return hash;
}

// The elements of a contiguous tensor as bytes.
std::span<std::byte> bytes_of(Tensor t) {
  return dispatch(t.dtype(), [&]<class T>() {
    return std::as_writable_bytes(std::span<T>(t.data<T>(), static_cast<size_t>(t.numel())));
  });
}

uint64_t hash_tensor(const Tensor& t, uint64_t hash) {
  const Tensor c = t.detach().contiguous();
  const std::span<std::byte> bytes = bytes_of(c);
  return fnv1a(bytes.data(), bytes.size(), hash);
}

// "1 and 3" / "1, 2 and 3".
std::string rank_list(const std::vector<int>& ranks) {
  std::ostringstream out;
  for (size_t i = 0; i < ranks.size(); ++i)
    out << (i == 0 ? "" : i + 1 == ranks.size() ? " and " : ", ") << ranks[i];
  return out.str();
}

std::vector<int> ranks_differing_from_0(const std::vector<uint64_t>& values) {
  std::vector<int> out;
  for (size_t r = 1; r < values.size(); ++r)
    if (values[r] != values[0]) out.push_back(static_cast<int>(r));
  return out;
}

}  // namespace

void check_same_on_all_ranks(const std::string& what, const std::string& text, Communicator& comm) {
  if (comm.size() == 1) return;
  const std::vector<int> differ =
      ranks_differing_from_0(comm.allgather(fnv1a(text.data(), text.size())));
  NABLA_CHECK(differ.empty(), "distributed: the ", what, " of rank", differ.size() > 1 ? "s " : " ",
              rank_list(differ), " differ",
              " from rank 0's --- every rank must be started with the same command line");
}

void decorrelate(Generator& generator, const Communicator& comm) {
  if (comm.rank() == 0) return;
  const std::string state = generator.state();
  generator.seed(fnv1a(state.data(), state.size()) ^
                 (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(comm.rank())));
}

int threads_per_rank() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const long ranks = local ? std::max(1L, std::strtol(local, nullptr, 10)) : 1L;
  return static_cast<int>(std::max(1L, static_cast<long>(cores) / ranks));
}

bool same_on_all_ranks(uint64_t value, Communicator& comm) {
  return comm.size() == 1 || ranks_differing_from_0(comm.allgather(value)).empty();
}

DataParallel::DataParallel(nn::Module& model, optim::Optimizer& optimizer, Communicator& comm,
                           DataParallelOptions opts)
    : options(opts), optimizer_(optimizer), comm_(comm) {
  NABLA_CHECK(options.bucket_bytes() > 0, "DataParallel: bucket_bytes must be positive, got ",
              options.bucket_bytes());
  NABLA_CHECK(options.check_every() >= 0, "DataParallel: check_every must be >= 0, got ",
              options.check_every());
  params_ = optimizer.params();
  NABLA_CHECK(!params_.empty(), "DataParallel: the optimizer has no parameters");
  for (const Tensor& b : model.buffers())
    if (is_floating(b.dtype())) buffers_.push_back(b);
  const DType dtype = params_.front().dtype();
  std::ostringstream structure;
  for (const Tensor& p : params_) {
    NABLA_CHECK(p.dtype() == dtype && p.is_contiguous(), "DataParallel: parameters must all be ",
                "contiguous ", dtype_name(dtype), "; one is ", p.shape(), " ",
                dtype_name(p.dtype()));
    structure << "p" << p.shape() << ";";
  }
  for (const Tensor& b : buffers_) {
    NABLA_CHECK(b.dtype() == dtype && b.is_contiguous(), "DataParallel: buffers must be ",
                "contiguous ", dtype_name(dtype), " like the parameters; one is ", b.shape(), " ",
                dtype_name(b.dtype()));
    structure << "b" << b.shape() << ";";
  }
  check_same_on_all_ranks("model structure (parameter and buffer shapes)", structure.str(), comm_);
  broadcast_parameters();
}

void DataParallel::broadcast_parameters() {
  if (comm_.size() == 1) return;
  auto send = [&](const Tensor& t) { comm_.broadcast(bytes_of(t)); };
  for (const Tensor& p : params_) send(p);
  for (const Tensor& b : buffers_) send(b);
  // The optimizer's buffers (a resumed run's moments) must match as well.
  for (const auto& [name, t] : optimizer_.state())
    if (t.is_contiguous()) send(t);
}

int64_t DataParallel::allreduce_gradients(int64_t samples, double loss, int64_t correct) {
  if (comm_.size() == 1) {  // nothing to average: the gradients stay bitwise as they are
    epoch_samples_ += static_cast<double>(samples);
    epoch_loss_ += loss * static_cast<double>(samples);
    epoch_correct_ += static_cast<double>(correct);
    return samples;
  }
  return params_.front().dtype() == kFloat64 ? allreduce_typed<double>(samples, loss, correct)
                                             : allreduce_typed<float>(samples, loss, correct);
}

// Layout of the flat buffer: [samples, loss sum, correct, P has-gradient flags, gradients...,
// buffers...]. Each rank's gradient and buffers are scaled by its sample count before the sum and
// the sum by 1 / (total samples) after it: the result is the mean over the global batch however
// unequal the shards are (the last batch).
template <class T>
int64_t DataParallel::allreduce_typed(int64_t samples, double loss, int64_t correct) {
  std::vector<T>& flat = [this]() -> std::vector<T>& {
    if constexpr (std::is_same_v<T, float>)
      return flat_f_;
    else
      return flat_d_;
  }();
  const size_t P = params_.size();
  const size_t header = 3 + P;
  size_t total = header;
  for (const Tensor& p : params_) total += static_cast<size_t>(p.numel());
  for (const Tensor& b : buffers_) total += static_cast<size_t>(b.numel());
  flat.resize(total);

  const T weight = static_cast<T>(samples);
  flat[0] = weight;
  flat[1] = static_cast<T>(loss * static_cast<double>(samples));
  flat[2] = static_cast<T>(correct);
  size_t at = header;
  std::vector<Tensor>& grads = grads_;
  grads.resize(P);
  for (size_t i = 0; i < P; ++i) {
    grads[i] = params_[i].grad();
    const auto n = static_cast<size_t>(params_[i].numel());
    flat[3 + i] = grads[i].defined() ? T(1) : T(0);
    if (grads[i].defined()) {
      if (!grads[i].is_contiguous()) grads[i] = grads[i].contiguous();
      const T* g = grads[i].template data<T>();
      for (size_t k = 0; k < n; ++k) flat[at + k] = g[k] * weight;
    } else {
      std::fill(flat.begin() + static_cast<std::ptrdiff_t>(at),
                flat.begin() + static_cast<std::ptrdiff_t>(at + n), T(0));
    }
    at += n;
  }
  for (const Tensor& b : buffers_) {
    const T* v = b.template data<T>();
    for (int64_t k = 0; k < b.numel(); ++k) flat[at + static_cast<size_t>(k)] = v[k] * weight;
    at += static_cast<size_t>(b.numel());
  }

  const int64_t bucket = std::max<int64_t>(1, options.bucket_bytes() / int64_t{sizeof(T)});
  comm_.allreduce_sum_buckets(std::span<T>(flat), bucket);

  const double global = static_cast<double>(flat[0]);
  NABLA_CHECK(global > 0, "distributed: a global batch with no samples");
  epoch_samples_ += global;
  epoch_loss_ += static_cast<double>(flat[1]);
  epoch_correct_ += static_cast<double>(flat[2]);
  const T inv = static_cast<T>(1.0 / global);
  at = header;
  NoGradGuard no_grad;
  for (size_t i = 0; i < P; ++i) {
    const auto n = static_cast<size_t>(params_[i].numel());
    if (flat[3 + i] > T(0)) {
      // A parameter that some rank's backward reached: every rank steps it (zeros elsewhere).
      if (!grads[i].defined()) grads[i] = Tensor::empty(params_[i].shape(), params_[i].dtype());
      T* g = grads[i].template data<T>();
      for (size_t k = 0; k < n; ++k) g[k] = flat[at + k] * inv;
      params_[i].set_grad(grads[i]);
    }
    at += n;
  }
  for (Tensor& b : buffers_) {
    T* v = b.template data<T>();
    for (int64_t k = 0; k < b.numel(); ++k) v[k] = flat[at + static_cast<size_t>(k)] * inv;
    at += static_cast<size_t>(b.numel());
  }
  for (Tensor& g : grads) g = Tensor();  // the parameters hold them; keep no extra reference
  return static_cast<int64_t>(global);
}

void DataParallel::check_consistency(int64_t step) {
  if (comm_.size() == 1) return;
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const Tensor& p : params_) hash = hash_tensor(p, hash);
  for (const Tensor& b : buffers_) hash = hash_tensor(b, hash);
  for (const auto& [name, t] : optimizer_.state()) hash = hash_tensor(t, hash);
  const std::vector<int> differ = ranks_differing_from_0(comm_.allgather(hash));
  NABLA_CHECK(differ.empty(), "distributed: after step ", step + 1,
              " the parameters, buffers or optimizer state of rank", differ.size() > 1 ? "s " : " ",
              rank_list(differ), " differ from rank 0's",
              " (checksum mismatch): the replicas have diverged");
}

DataParallel::EpochSums DataParallel::take_epoch_sums() {
  const EpochSums sums{epoch_samples_, epoch_loss_, epoch_correct_};
  epoch_samples_ = epoch_loss_ = epoch_correct_ = 0;
  return sums;
}

std::string DataParallel::summary(double train_seconds) const {
  std::ostringstream out;
  const double per_step =
      steps > 0 ? comm_.stats.allreduce_seconds / static_cast<double>(steps) : 0;
  const double mb = steps > 0 ? static_cast<double>(comm_.stats.allreduce_bytes) /
                                    static_cast<double>(steps) / 1e6
                              : 0;
  out << "all-reduce over " << comm_.size() << " ranks: " << std::fixed << std::setprecision(3)
      << 1e3 * per_step << " ms per step (" << std::setprecision(2) << mb << " MB per rank), "
      << std::setprecision(1)
      << (train_seconds > 0 ? 100 * comm_.stats.allreduce_seconds / train_seconds : 0.0)
      << "% of the training time";
  return out.str();
}

}  // namespace nabla::distributed
