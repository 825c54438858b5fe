// Tensor memory accounting and its limit (include/nabla/memory.h).
//
// The hot path is memory_acquire/memory_release, once per tensor buffer, on every thread that
// makes tensors: batch slices running side by side make dozens each per training step. One
// atomic count that every thread adds to was a cache line handed from core to core at each of
// them (a build without the count ran LeNet-5's 2-thread epoch 1-11% faster in four alternated
// pairs, session 32; session 23 had seen it within the noise). So each
// thread counts into a counter of its own and adds what it holds to the shared total only when
// that grows past kFlush either way: the total plus every thread's counter is the exact count,
// which memory_in_use() adds up. The peak is the shared total plus the allocating thread's own
// counter, exact on one thread and within kFlush per other thread that allocates. With a limit
// set, an allocation adds up the exact count under a lock instead: strict, and slower.
// Everything that builds text runs only when the limit is hit.
#include "nabla/memory.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <sstream>
#include <vector>

#include "nabla/error.h"

namespace nabla {
namespace {

constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

// What a thread's counter holds before it goes into the shared total.
constexpr int64_t kFlush = int64_t{1} << 20;

// Written rarely (a flush, a new peak, a new limit) and read at every allocation: a line of its
// own.
struct alignas(64) Shared {
  std::atomic<int64_t> flushed{0};  // the threads' flushed counts (negative when one thread frees
                                    // what others made)
  std::atomic<size_t> peak{0};
  std::atomic<size_t> limit{kNoLimit};
};
Shared shared;

// A thread's counter: bytes it counted minus bytes it released, not yet flushed. Written by its
// thread only, read by memory_in_use().
struct alignas(64) ThreadCount {
  std::atomic<int64_t> pending{0};
  ThreadCount();
  ~ThreadCount();
};

// The live threads' counters; never destroyed, so a thread ending after static destruction
// began still finds it.
struct Registry {
  std::mutex mutex;
  std::vector<ThreadCount*> counts;
};
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

// Set once this thread's counter is destroyed: a tensor freed later counts straight into the
// shared total.
thread_local bool count_gone = false;

ThreadCount::ThreadCount() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.counts.push_back(this);
}

ThreadCount::~ThreadCount() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  shared.flushed.fetch_add(pending.load(std::memory_order_relaxed), std::memory_order_relaxed);
  std::erase(r.counts, this);
  count_gone = true;
}

ThreadCount* thread_count() {
  if (count_gone) return nullptr;
  thread_local ThreadCount count;
  return &count;
}

// The exact count; with the registry's lock held.
size_t count_locked(const Registry& r) {
  int64_t total = shared.flushed.load(std::memory_order_relaxed);
  for (const ThreadCount* c : r.counts) total += c->pending.load(std::memory_order_relaxed);
  return static_cast<size_t>(total);
}

void raise_peak(size_t now) {
  size_t peak = shared.peak.load(std::memory_order_relaxed);
  while (now > peak && !shared.peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

thread_local MemoryContext* innermost = nullptr;

// Who set the limit, for the message; null while the refused NABLA_MEMORY_LIMIT stands.
std::atomic<const char*> limit_source{"set_memory_limit"};

// Why NABLA_MEMORY_LIMIT was refused. A refused value makes the limit 0, so that the first
// allocation reports it (nothing can be thrown while static objects start); written only then.
std::string environment_error;

[[maybe_unused]] const bool environment_read = [] {
  const char* text = std::getenv("NABLA_MEMORY_LIMIT");
  if (text == nullptr || *text == '\0') return false;
  try {
    set_memory_limit(parse_memory_size(text), "NABLA_MEMORY_LIMIT");
  } catch (const Error& e) {
    environment_error = std::string("environment variable NABLA_MEMORY_LIMIT: ") + e.what();
    shared.limit.store(0, std::memory_order_relaxed);
    limit_source.store(nullptr, std::memory_order_relaxed);
  }
  return true;
}();

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

void set_memory_limit(size_t bytes, const char* source) {
  limit_source.store(source, std::memory_order_relaxed);
  shared.limit.store(bytes == 0 ? kNoLimit : bytes, std::memory_order_relaxed);
}

size_t memory_limit() {
  size_t limit = shared.limit.load(std::memory_order_relaxed);
  return limit == kNoLimit ? 0 : limit;
}

size_t memory_in_use() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return count_locked(r);
}

size_t memory_peak() {
  return std::max(shared.peak.load(std::memory_order_relaxed), memory_in_use());
}

void reset_memory_peak() {
  shared.peak.store(memory_in_use(), std::memory_order_relaxed);
}

size_t parse_memory_size(const std::string& text) {
  auto fail = [&](const char* why) -> size_t {
    detail::throw_error("memory size '", text, "': ", why,
                        "; write bytes or a number with K, M, G or T (binary: 1K = 1024), "
                        "such as 512M or 2G, or 0 for no limit");
  };
  std::string s = lower(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return fail("empty");
  s.erase(0, first);
  if (s == "none") return 0;
  double number = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), number);
  if (ec != std::errc() || end == s.data()) return fail("not a number");
  std::string unit = s.substr(static_cast<size_t>(end - s.data()));
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  if (unit.size() >= 2 && unit.substr(unit.size() - 2) == "ib")
    unit.resize(unit.size() - 2);
  else if (unit.size() >= 2 && unit.back() == 'b')
    unit.pop_back();
  else if (unit == "b")
    unit.clear();
  double scale = 1;
  if (unit == "k")
    scale = 0x1p10;
  else if (unit == "m")
    scale = 0x1p20;
  else if (unit == "g")
    scale = 0x1p30;
  else if (unit == "t")
    scale = 0x1p40;
  else if (!unit.empty())
    return fail("unknown unit");
  if (!std::isfinite(number) || number < 0) return fail("must be a finite number >= 0");
  double bytes = std::floor(number * scale);
  if (bytes >= 0x1p63) return fail("larger than 2^63 bytes");
  return static_cast<size_t>(bytes);
}

std::string format_bytes(size_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf,
                value >= 100  ? "%.0f %s"
                : value >= 10 ? "%.1f %s"
                              : "%.2f %s",
                value, units[unit]);
  return buf;
}

MemoryContext::MemoryContext(const char* what) noexcept : chars_(what), outer_(innermost) {
  innermost = this;
}
MemoryContext::MemoryContext(const std::string& what) noexcept : string_(&what), outer_(innermost) {
  innermost = this;
}
MemoryContext::MemoryContext(const void* object, std::string (*describe)(const void*)) noexcept
    : object_(object), describe_(describe), outer_(innermost) {
  innermost = this;
}
MemoryContext::~MemoryContext() {
  innermost = outer_;
}

std::string MemoryContext::text() const {
  if (chars_ != nullptr) return chars_;
  if (string_ != nullptr) return *string_;
  return describe_(object_);
}

std::string MemoryContext::current() {
  std::string out;
  for (const MemoryContext* c = innermost; c != nullptr; c = c->outer_)
    out = c->text() + (out.empty() ? "" : ", " + out);
  return out;
}

namespace detail {

namespace {
[[noreturn]] void throw_limit(size_t bytes, size_t in_use, const Shape& shape, DType dtype) {
  const char* source = limit_source.load(std::memory_order_relaxed);
  if (source == nullptr) throw Error(environment_error);
  const size_t limit = shared.limit.load(std::memory_order_relaxed);
  const std::string context = MemoryContext::current();
  throw_error("memory limit: allocating ", dtype_name(dtype), " ", shape, " (", format_bytes(bytes),
              ")", context.empty() ? "" : " in " + context,
              " would exceed the limit: ", format_bytes(in_use), " in use + ", format_bytes(bytes),
              " > ", format_bytes(limit), " (", limit, " bytes, from ", source, ")");
}

// Adds `delta` bytes to the calling thread's counter (`mine`, from thread_count()), flushing it
// into the shared total once past kFlush either way, or straight to the total for a thread whose
// counter has ended. Returns the count as this thread sees it: the total plus its own counter.
int64_t count_bytes(ThreadCount* mine, int64_t delta) {
  if (!mine) return shared.flushed.fetch_add(delta, std::memory_order_relaxed) + delta;
  // Only this thread writes its counter: a load and a store, no locked instruction.
  int64_t pending = mine->pending.load(std::memory_order_relaxed) + delta;
  int64_t flushed;
  if (pending > kFlush || pending < -kFlush) {
    flushed = shared.flushed.fetch_add(pending, std::memory_order_relaxed) + pending;
    pending = 0;
  } else {
    flushed = shared.flushed.load(std::memory_order_relaxed);
  }
  mine->pending.store(pending, std::memory_order_relaxed);
  return flushed + pending;
}
}  // namespace

void memory_acquire(size_t bytes, const Shape& shape, DType dtype) {
  // Before any lock: a thread's first call registers its counter, which takes the registry's.
  ThreadCount* mine = thread_count();
  const auto n = static_cast<int64_t>(bytes);
  if (shared.limit.load(std::memory_order_relaxed) != kNoLimit) [[unlikely]] {
    // Under the lock, so that two threads cannot both pass with the last bytes.
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    const size_t before = count_locked(r);
    const size_t after = before + bytes;
    if (after > shared.limit.load(std::memory_order_relaxed) || after < before)
      throw_limit(bytes, before, shape, dtype);
    count_bytes(mine, n);
    raise_peak(after);
    return;
  }
  raise_peak(static_cast<size_t>(std::max<int64_t>(0, count_bytes(mine, n))));
}

void memory_release(size_t bytes) noexcept {
  count_bytes(thread_count(), -static_cast<int64_t>(bytes));
}

}  // namespace detail
}  // namespace nabla
