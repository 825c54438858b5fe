// Communicator and Session (include/nabla/distributed.h): the only file that includes mpi.h.
// Built with NABLA_MPI (CMake option) it wraps MPI_COMM_WORLD; without, or when MPI was not
// initialised, the world is one rank and the collectives are no-ops.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>

#include "nabla/distributed.h"
#include "nabla/error.h"

#if NABLA_MPI
#include <mpi.h>
#endif

namespace nabla::distributed {

namespace {

#if NABLA_MPI
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool mpi_running() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

// MPI's error text for a return code, so a failed collective names what MPI said.
void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  detail::throw_error("distributed: ", call, " failed: ", std::string(text, length));
}

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}
template <>
MPI_Datatype mpi_type<int64_t>() {
  return MPI_INT64_T;
}

// MPI counts are int: a buffer above 2^31 elements goes in pieces.
constexpr int64_t kMaxCount = int64_t{1} << 30;
#endif

// Sums `data` over the ranks in buckets of `bucket` elements, all in flight at once (a plain
// all-reduce is one bucket, or pieces of kMaxCount where MPI's int count demands it).
template <class T>
void allreduce_buckets(Communicator& comm, std::span<T> data, int64_t bucket) {
  if (comm.size() == 1 || data.empty()) return;
  NABLA_CHECK(bucket > 0, "distributed: bucket size must be positive, got ", bucket);
#if NABLA_MPI
  const double start = now_seconds();
  bucket = std::min(bucket, kMaxCount);
  std::vector<MPI_Request> requests;
  requests.reserve(static_cast<size_t>((static_cast<int64_t>(data.size()) + bucket - 1) / bucket));
  for (size_t done = 0; done < data.size();) {
    const int count = static_cast<int>(std::min<int64_t>(bucket, data.size() - done));
    requests.emplace_back();
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data.data() + done, count, mpi_type<T>(), MPI_SUM,
                             MPI_COMM_WORLD, &requests.back()),
              "MPI_Iallreduce");
    done += static_cast<size_t>(count);
  }
  check_mpi(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE),
            "MPI_Waitall");
  comm.stats.allreduce_calls += static_cast<int64_t>(requests.size());
  comm.stats.allreduce_seconds += now_seconds() - start;
  comm.stats.allreduce_bytes += static_cast<int64_t>(data.size_bytes());
#else
  (void)bucket;
#endif
}

}  // namespace

bool mpi_built() {
#if NABLA_MPI
  return true;
#else
  return false;
#endif
}

bool launched_by_mpi() {
  // OpenMPI's mpirun, PMIx (OpenMPI 4+, Slurm), MPICH's Hydra and Slurm's srun.
  for (const char* name :
       {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

Session::Session(int* argc, char*** argv, bool force) {
#if NABLA_MPI
  if (!force && !launched_by_mpi()) return;
  if (mpi_running()) return;  // someone else owns MPI
  int provided = 0;
  // Only the main thread calls MPI; the compute pool's threads never do.
  check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes (check_mpi throws), so the failing rank can name itself.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  active_ = true;
#else
  (void)argc, (void)argv, (void)force;
#endif
}

Session::~Session() {
#if NABLA_MPI
  if (active_ && mpi_running()) MPI_Finalize();
#endif
}

Communicator::Communicator() {
#if NABLA_MPI
  if (mpi_running()) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
#endif
}

Communicator& Communicator::world() {
  // Made on first use, after Session's MPI_Init; a world asked for before it has one rank.
  static Communicator world;
#if NABLA_MPI
  if (world.size_ == 1 && mpi_running()) world = Communicator();
#endif
  return world;
}

void Communicator::allreduce_sum(std::span<float> data) {
  allreduce_buckets(*this, data, std::numeric_limits<int64_t>::max());
}
void Communicator::allreduce_sum(std::span<double> data) {
  allreduce_buckets(*this, data, std::numeric_limits<int64_t>::max());
}
void Communicator::allreduce_sum(std::span<int64_t> data) {
  allreduce_buckets(*this, data, std::numeric_limits<int64_t>::max());
}
void Communicator::allreduce_sum_buckets(std::span<float> data, int64_t bucket_elements) {
  allreduce_buckets(*this, data, bucket_elements);
}
void Communicator::allreduce_sum_buckets(std::span<double> data, int64_t bucket_elements) {
  allreduce_buckets(*this, data, bucket_elements);
}

void Communicator::broadcast(std::span<std::byte> data, int root) {
  NABLA_CHECK(root >= 0 && root < size_, "distributed: broadcast root ", root, " is outside [0, ",
              size_, ")");
  if (size_ == 1 || data.empty()) return;
#if NABLA_MPI
  for (size_t done = 0; done < data.size();) {
    const int count = static_cast<int>(std::min<int64_t>(kMaxCount, data.size() - done));
    check_mpi(MPI_Bcast(data.data() + done, count, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    done += static_cast<size_t>(count);
  }
#endif
}

std::string Communicator::broadcast(const std::string& text, int root) {
  if (size_ == 1) return text;
  int64_t length = rank_ == root ? static_cast<int64_t>(text.size()) : 0;
  broadcast(std::as_writable_bytes(std::span<int64_t>(&length, 1)), root);
  std::string out = rank_ == root ? text : std::string(static_cast<size_t>(length), '\0');
  broadcast(std::as_writable_bytes(std::span<char>(out.data(), out.size())), root);
  return out;
}

std::vector<uint64_t> Communicator::allgather(uint64_t value) {
  std::vector<uint64_t> all(static_cast<size_t>(size_), value);
  if (size_ == 1) return all;
#if NABLA_MPI
  check_mpi(MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD),
            "MPI_Allgather");
#endif
  return all;
}

void Communicator::barrier() {
  if (size_ == 1) return;
#if NABLA_MPI
  check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

void Communicator::abort(int code) {
  std::cout.flush();
  std::cerr.flush();
#if NABLA_MPI
  if (size_ > 1 && mpi_running()) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace nabla::distributed
