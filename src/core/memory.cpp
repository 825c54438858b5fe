// Tensor memory accounting and its limit (include/nabla/memory.h).
//
// The hot path is memory_acquire/memory_release, once per tensor buffer: one relaxed atomic add
// (or sub) on the live count, a relaxed load of the limit, and a relaxed load of the peak that
// turns into a compare-exchange only when a new peak is reached. Everything that builds text runs
// only when the limit is hit.
#include "nabla/memory.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "nabla/error.h"

namespace nabla {
namespace {

constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

std::atomic<size_t> live_bytes{0};
std::atomic<size_t> peak_bytes{0};
std::atomic<size_t> limit_bytes{kNoLimit};

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
    limit_bytes.store(0, std::memory_order_relaxed);
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
  limit_bytes.store(bytes == 0 ? kNoLimit : bytes, std::memory_order_relaxed);
}

size_t memory_limit() {
  size_t limit = limit_bytes.load(std::memory_order_relaxed);
  return limit == kNoLimit ? 0 : limit;
}

size_t memory_in_use() {
  return live_bytes.load(std::memory_order_relaxed);
}

size_t memory_peak() {
  return peak_bytes.load(std::memory_order_relaxed);
}

void reset_memory_peak() {
  peak_bytes.store(live_bytes.load(std::memory_order_relaxed), std::memory_order_relaxed);
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
  const size_t limit = limit_bytes.load(std::memory_order_relaxed);
  const std::string context = MemoryContext::current();
  throw_error("memory limit: allocating ", dtype_name(dtype), " ", shape, " (", format_bytes(bytes),
              ")", context.empty() ? "" : " in " + context,
              " would exceed the limit: ", format_bytes(in_use), " in use + ", format_bytes(bytes),
              " > ", format_bytes(limit), " (", limit, " bytes, from ", source, ")");
}
}  // namespace

void memory_acquire(size_t bytes, const Shape& shape, DType dtype) {
  const size_t before = live_bytes.fetch_add(bytes, std::memory_order_relaxed);
  const size_t after = before + bytes;
  if (after > limit_bytes.load(std::memory_order_relaxed) || after < before) [[unlikely]] {
    live_bytes.fetch_sub(bytes, std::memory_order_relaxed);
    throw_limit(bytes, before, shape, dtype);
  }
  size_t peak = peak_bytes.load(std::memory_order_relaxed);
  while (after > peak &&
         !peak_bytes.compare_exchange_weak(peak, after, std::memory_order_relaxed)) {
  }
}

void memory_release(size_t bytes) noexcept {
  live_bytes.fetch_sub(bytes, std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace nabla
