// The thread pool behind src/parallel.h.
//
// One job runs at a time. Its tasks are claimed through one 64-bit atomic word that packs the
// job's generation, its task count and its claims (the next unclaimed task, or for a job of one
// task per thread a mask of the claimed ones: claim_and_run), so a worker that wakes late for
// an old job can never claim a task of a newer one: its compare-and-swap expects the old
// generation and fails. The caller claims tasks too, so a job finishes even if no worker ever
// wakes (an oversubscribed machine), and waits only for tasks that were actually claimed.
//
// A parallel loop inside a task of a job (a batch slice's kernels) is offered in a slot of its
// own with the same claiming scheme, to threads that have finished their share of the job: a
// slice that ends first then works on the other slice's loops instead of spinning until it ends.
// Only while some thread is idle, though: publishing an offer writes cache lines every thread
// reads, and while all of them are busy no one can take it. (A LeNet-5 epoch on 2 threads made
// 16,866 offers, 16,748 of them with no thread idle; bench/pool_bench times such a loop.)
//
// Workers spin for a short while after a job before sleeping on a futex, because a training step
// runs dozens of parallel loops back to back and a futex wake costs several microseconds. The
// futex calls are made directly: libstdc++ 12's std::atomic::wait on a 64-bit word was seen to
// miss a wake-up here, and a sleeper count lets the caller skip the system call when no thread
// sleeps.
#include "nabla/threads.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "nabla/error.h"
#include "parallel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NABLA_CPU_RELAX() _mm_pause()
#else
#define NABLA_CPU_RELAX() ((void)0)
#endif

namespace nabla {
namespace {

thread_local bool t_in_region = false;
// True while this thread runs a task of a pool job: a parallel loop started there may be offered
// to the pool's idle threads (ThreadPool::offer). A SerialRegion's thread is no pool thread, and
// a task taken from an offer offers nothing itself.
thread_local bool t_in_pool_task = false;

// state word: generation (16 bits) | tasks (24 bits) | claims (24 bits: the next task, or a mask
// of the claimed tasks in a job of at most one task per thread; an offer uses the next task)
constexpr int kTaskBits = 24;
constexpr uint64_t kTaskMask = (uint64_t{1} << kTaskBits) - 1;
constexpr int64_t kMaxTasksPerJob = int64_t{1} << kTaskBits;
uint64_t generation_of(uint64_t s) {
  return s >> (2 * kTaskBits);
}
uint64_t tasks_of(uint64_t s) {
  return (s >> kTaskBits) & kTaskMask;
}
uint64_t next_of(uint64_t s) {
  return s & kTaskMask;
}
// A fresh state word: `tasks` unclaimed tasks of `generation` (kept to its 16 bits).
uint64_t state_of(uint64_t generation, int64_t tasks) {
  return ((generation & 0xffff) << (2 * kTaskBits)) | (uint64_t(tasks) << kTaskBits);
}

constexpr auto kSpin = std::chrono::microseconds(300);

// A 32-bit word threads can sleep on until it changes.
class Futex {
 public:
  uint32_t load() const { return word_.load(std::memory_order_seq_cst); }
  void store(uint32_t v) { word_.store(v, std::memory_order_seq_cst); }
  uint32_t fetch_add(uint32_t v) { return word_.fetch_add(v, std::memory_order_seq_cst); }
  // Sleeps while the word still holds `expected` (returns at once if it does not).
  void wait(uint32_t expected) {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    if (word_.load(std::memory_order_seq_cst) == expected)
      syscall(SYS_futex, &word_, FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  }
  // Call after changing the word.
  void wake_all() {
    if (sleepers_.load(std::memory_order_seq_cst) > 0)
      syscall(SYS_futex, &word_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }

 private:
  std::atomic<uint32_t> word_{0};
  std::atomic<int> sleepers_{0};
};

class ThreadPool {
 public:
  explicit ThreadPool(int threads) : affinity_tasks_(uint64_t(std::min(threads, kTaskBits))) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
  }
  ~ThreadPool() {
    stop_.store(true);
    wake_.fetch_add(1);
    wake_.wake_all();
    for (auto& w : workers_) w.join();
  }

  int idle() const { return idle_.load(std::memory_order_relaxed); }

  // Returns false, running nothing, when another thread's job holds the pool.
  bool run(int64_t tasks, void (*fn)(void*, int64_t), void* ctx) {
    std::unique_lock job(job_mutex_, std::try_to_lock);
    if (!job) return false;
    for (int64_t first = 0; first < tasks; first += kMaxTasksPerJob) {
      const int64_t count = std::min(tasks - first, kMaxTasksPerJob);
      run_job(count, fn, ctx, first);
    }
    if (error_) {
      auto error = std::exchange(error_, nullptr);
      std::rethrow_exception(error);
    }
    return true;
  }

  // Runs a parallel loop started inside a task of a job (a slice of a batch, whose loops would
  // otherwise run serially) as an offer: its tasks go to whichever threads have nothing to do,
  // the offering thread included, which claims them too, so the loop ends even if no thread
  // ever helps. A slice that ends early then helps with the other slice's remaining kernels
  // instead of waiting for it. Tasks compute the same whichever thread runs them (parallel.h's
  // rule), so the results do not change. Returns false, running nothing, while another offer
  // holds the one slot.
  bool offer(int64_t tasks, void (*fn)(void*, int64_t), void* ctx) {
    if (tasks > kMaxTasksPerJob || idle_.load(std::memory_order_relaxed) == 0) return false;
    bool free = false;
    if (!offer_busy_.compare_exchange_strong(free, true)) return false;
    offer_fn_.store(fn, std::memory_order_relaxed);
    offer_ctx_.store(ctx, std::memory_order_relaxed);
    offer_done_.store(0, std::memory_order_relaxed);
    const uint64_t generation = generation_of(offer_state_.load(std::memory_order_relaxed)) + 1;
    offer_state_.store(state_of(generation, tasks), std::memory_order_release);
    // Sleeping threads: a worker wakes for any change of wake_ (and finds no new job), the
    // caller of the job wakes on done_ without a change.
    wake_.fetch_add(1);
    wake_.wake_all();
    done_.wake_all();
    help_offer();
    while (offer_done_.load(std::memory_order_acquire) != uint64_t(tasks)) NABLA_CPU_RELAX();
    std::exception_ptr error;
    {
      std::lock_guard lock(error_mutex_);
      error = std::exchange(offer_error_, nullptr);
    }
    offer_busy_.store(false, std::memory_order_release);
    if (error) std::rethrow_exception(error);
    return true;
  }

 private:
  // fn(ctx, task); an exception it throws is kept in `error` if that holds none yet (the first
  // one is rethrown on the caller once all tasks have ended).
  void run_keeping_error(void (*fn)(void*, int64_t), void* ctx, int64_t task,
                         std::exception_ptr& error) {
    try {
      fn(ctx, task);
    } catch (...) {
      std::lock_guard lock(error_mutex_);
      if (!error) error = std::current_exception();
    }
  }

  // Claims and runs tasks of the current offer until none is left unclaimed; returns whether it
  // ran any. The state word is the job's layout; a claim succeeds only while the generation it
  // read is current, and an offer is replaced only once all its tasks have ended, so the
  // function and context read before a successful claim are that offer's.
  bool help_offer() {
    uint64_t s = offer_state_.load(std::memory_order_acquire);
    bool ran = false;
    while (next_of(s) < tasks_of(s)) {
      void (*fn)(void*, int64_t) = offer_fn_.load(std::memory_order_relaxed);
      void* ctx = offer_ctx_.load(std::memory_order_relaxed);
      if (!offer_state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
      const bool was_in_region = std::exchange(t_in_region, true);
      const bool was_pool_task = std::exchange(t_in_pool_task, false);
      run_keeping_error(fn, ctx, int64_t(next_of(s)), offer_error_);
      t_in_region = was_in_region;
      t_in_pool_task = was_pool_task;
      offer_done_.fetch_add(1, std::memory_order_acq_rel);
      ran = true;
      s = offer_state_.load(std::memory_order_acquire);
    }
    return ran;
  }

  void run_job(int64_t tasks, void (*fn)(void*, int64_t), void* ctx, int64_t offset) {
    fn_ = fn;
    ctx_ = ctx;
    offset_ = offset;
    done_.store(0);
    const uint64_t generation = generation_of(state_.load(std::memory_order_relaxed)) + 1;
    state_.store(state_of(generation, tasks), std::memory_order_release);
    wake_.fetch_add(1);
    wake_.wake_all();
    const bool was_in_region = std::exchange(t_in_region, true);
    claim_and_run(generation & 0xffff, 0);
    t_in_region = was_in_region;
    // Tasks claimed by workers may still be running.
    const auto spin_until = std::chrono::steady_clock::now() + kSpin;
    const Idle idle(idle_);
    for (int i = 0;; ++i) {
      const uint32_t done = done_.load();
      if (done == uint32_t(tasks)) break;
      if (help_offer()) continue;
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > spin_until) {
        done_.wait(done);
      } else {
        NABLA_CPU_RELAX();
      }
    }
  }

  // Claims tasks of `generation` until none is left; returns when the job has no unclaimed task.
  // `self`: this thread's place in the pool, 0 for the job's caller.
  //
  // A job of at most one task per thread (a parallel_for's ranges, a batch's slices, the
  // optimizer's parts) gives task k to thread k, whoever claims first: the claimed tasks are a
  // mask, and each thread claims its own task before any other. So one range of the data lands
  // on the same thread from one job to the next and stays in its cache; with the first come
  // first served the worker, woken first, took task 0 in four jobs of five and the caller the
  // rest, and each swap moved that data between the cores. A task whose thread is late is still
  // taken by one that is free. Larger jobs keep the counter: the next task to whoever asks.
  void claim_and_run(uint64_t generation, int self) {
    uint64_t s = state_.load(std::memory_order_acquire);
    while (generation_of(s) == generation) {
      const uint64_t tasks = tasks_of(s), field = next_of(s);
      uint64_t task;
      if (tasks <= affinity_tasks_) {
        const uint64_t all = (uint64_t{1} << tasks) - 1;
        if (field == all) return;
        task = uint64_t(self) < tasks && !(field >> self & 1) ? uint64_t(self)
                                                              : uint64_t(std::countr_one(field));
        if (!state_.compare_exchange_weak(s, s | uint64_t{1} << task, std::memory_order_acq_rel))
          continue;
      } else {
        if (field >= tasks) return;
        task = field;
        if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
      }
      const bool was_pool_task = std::exchange(t_in_pool_task, true);
      run_keeping_error(fn_, ctx_, offset_ + int64_t(task), error_);
      t_in_pool_task = was_pool_task;
      if (done_.fetch_add(1) + 1 == uint32_t(tasks)) done_.wake_all();
      s = state_.load(std::memory_order_acquire);
    }
  }

  void work(int self) {
    t_in_region = true;
    // Not wake_.load(): a worker that starts late must still see the jobs (and the stop)
    // published since the pool was made.
    uint32_t seen = 0;
    while (true) {
      const auto spin_until = std::chrono::steady_clock::now() + kSpin;
      {
        const Idle idle(idle_);
        for (int i = 0; wake_.load() == seen; ++i) {
          if (help_offer()) continue;
          if ((i & 63) == 63 && std::chrono::steady_clock::now() > spin_until) {
            wake_.wait(seen);
          } else {
            NABLA_CPU_RELAX();
          }
        }
      }
      seen = wake_.load();
      if (stop_.load()) return;
      claim_and_run(generation_of(state_.load(std::memory_order_acquire)), self);
    }
  }

  std::vector<std::thread> workers_;
  // Jobs of at most this many tasks are claimed by mask (claim_and_run): one per thread, and no
  // more than the state word's field has bits.
  uint64_t affinity_tasks_ = 0;
  std::atomic<uint64_t> state_{0};
  Futex wake_;  // bumped for every job, and to stop
  Futex done_;  // tasks of the current job that have ended
  std::atomic<bool> stop_{false};
  void (*fn_)(void*, int64_t) = nullptr;
  void* ctx_ = nullptr;
  int64_t offset_ = 0;
  std::mutex job_mutex_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
  // The one offer (state: generation | tasks | next task, as state_), its function, context,
  // ended tasks and first exception; busy from the offer's start until all its tasks ended.
  std::atomic<uint64_t> offer_state_{0};
  std::atomic<void (*)(void*, int64_t)> offer_fn_{nullptr};
  std::atomic<void*> offer_ctx_{nullptr};
  std::atomic<uint64_t> offer_done_{0};
  std::atomic<bool> offer_busy_{false};
  // Threads waiting for work (a job's caller waiting for its tasks, a worker waiting for a job),
  // which may take an offer. On a line of its own: it changes only when a thread starts or stops
  // waiting, and offer() reads it for every loop inside a task. A worker woken by a job or an
  // offer leaves the count for a moment; an offer made then is refused, and its loop runs on its
  // own thread as it would with every thread busy (the same results, a missed chance to help).
  alignas(64) std::atomic<int> idle_{0};
  struct Idle {  // counts the enclosing scope's thread in idle_
    explicit Idle(std::atomic<int>& n) : count(n) { count.fetch_add(1); }
    ~Idle() { count.fetch_sub(1); }
    Idle(const Idle&) = delete;
    Idle& operator=(const Idle&) = delete;
    std::atomic<int>& count;
  };
  std::exception_ptr offer_error_;
};

int default_threads() {
  if (const char* env = std::getenv("NABLA_NUM_THREADS"); env && *env) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    NABLA_CHECK(*end == '\0' && n >= 1 && n <= 1024,
                "NABLA_NUM_THREADS must be a whole number from 1 to 1024, got '", env, "'");
    return int(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

struct PoolState {
  std::mutex mutex;             // guards resizing
  std::atomic<int> threads{0};  // 0 = not yet decided
  std::unique_ptr<ThreadPool> pool;
};

PoolState& pool_state() {
  static PoolState state;
  return state;
}

}  // namespace

void set_num_threads(int n) {
  NABLA_CHECK(n >= 1, "set_num_threads: the thread count must be at least 1, got ", n);
  auto& st = pool_state();
  std::lock_guard lock(st.mutex);
  if (st.threads == n) return;
  st.pool.reset();
  st.threads = n;
}

int num_threads() {
  auto& st = pool_state();
  if (int n = st.threads.load(std::memory_order_relaxed)) return n;
  std::lock_guard lock(st.mutex);
  if (st.threads == 0) st.threads = default_threads();
  return st.threads;
}

void parallel_ranges_erased(int64_t n, int64_t grain, void (*fn)(void*, int64_t, int64_t),
                            void* ctx) {
  parallel::parallel_for(n, grain, [&](int64_t begin, int64_t end) { fn(ctx, begin, end); });
}

namespace parallel {

bool in_parallel_region() {
  return t_in_region;
}

SerialRegion::SerialRegion() : previous_(std::exchange(t_in_region, true)) {}
SerialRegion::~SerialRegion() {
  t_in_region = previous_;
}

bool may_share() {
  return t_in_pool_task;
}

int idle_threads() {
  auto& st = pool_state();
  std::lock_guard lock(st.mutex);
  return st.pool ? st.pool->idle() : 0;
}

bool share_tasks(int64_t tasks, void (*fn)(void*, int64_t), void* ctx) {
  if (!t_in_pool_task) return false;
  // A pool task runs only while the pool exists, and the pool is replaced only between jobs.
  ThreadPool* pool = pool_state().pool.get();
  return pool && pool->offer(tasks, fn, ctx);
}

void run_tasks(int64_t tasks, void (*fn)(void*, int64_t), void* ctx) {
  auto& st = pool_state();
  if (num_threads() == 1) {
    for (int64_t t = 0; t < tasks; ++t) fn(ctx, t);
    return;
  }
  ThreadPool* pool = nullptr;
  {
    std::lock_guard lock(st.mutex);
    if (!st.pool && st.threads > 1) st.pool = std::make_unique<ThreadPool>(st.threads);
    pool = st.pool.get();
  }
  if (!pool) {
    for (int64_t t = 0; t < tasks; ++t) fn(ctx, t);
    return;
  }
  if (!pool->run(tasks, fn, ctx)) {
    for (int64_t t = 0; t < tasks; ++t) fn(ctx, t);
  }
}

}  // namespace parallel
}  // namespace nabla
