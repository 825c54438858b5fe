#include "app/test_stop.h"

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/atomic_file_hook.h"
#include "nabla/error.h"

namespace nabla::app {

namespace {

// Set once before training starts. The points come one at a time (a run saves between steps),
// from the training thread and the thread that writes checkpoints.
enum class Counted { kAll, kWrites, kChecks };
Counted g_counted = Counted::kAll;
int64_t g_stop_at = 0;
int64_t g_writes = 0, g_checks = 0;  // the points passed so far, of each kind

void pass(bool is_write, const char* step, const char* path) {
  ++(is_write ? g_writes : g_checks);
  if (g_counted == (is_write ? Counted::kChecks : Counted::kWrites)) return;
  const int64_t counted = g_counted == Counted::kWrites   ? g_writes
                          : g_counted == Counted::kChecks ? g_checks
                                                          : g_writes + g_checks;
  if (counted != g_stop_at) return;
  std::fprintf(stderr, "nabla: NABLA_TEST_STOP_AT: stopped after %s %s\n", step, path);
  std::fflush(stderr);
  std::raise(SIGSTOP);
}

void pass_write(const char* step, const char* path) {
  pass(true, step, path);
}

// At a normal exit the point was never reached: say how many points of each kind there were, for
// a test to size its draws.
void report_unreached() {
  std::fprintf(stderr,
               "nabla: NABLA_TEST_STOP_AT: not reached; the run passed %lld write steps and %lld "
               "stop checks\n",
               static_cast<long long>(g_writes), static_cast<long long>(g_checks));
}

}  // namespace

std::function<bool()> test_stop_point_from_env() {
  const char* text = std::getenv("NABLA_TEST_STOP_AT");
  if (text == nullptr || *text == '\0') return nullptr;
  const std::string value = text;
  std::string count = value;
  g_counted = Counted::kAll;
  for (const auto& [prefix, counted] :
       {std::pair{"write:", Counted::kWrites}, std::pair{"check:", Counted::kChecks}})
    if (value.rfind(prefix, 0) == 0) {
      g_counted = counted;
      count = value.substr(std::string(prefix).size());
    }
  char* end = nullptr;
  const long long n = std::strtoll(count.c_str(), &end, 10);
  NABLA_CHECK(!count.empty() && *end == '\0' && n > 0,
              "NABLA_TEST_STOP_AT must be N, write:N or check:N with N a positive integer, got '",
              value, "'");
  g_stop_at = n;
  g_writes = g_checks = 0;
  io::detail::set_atomic_write_hook(pass_write);
  std::atexit(report_unreached);
  return [] {
    pass(false, "stop check", "(after a training step or an epoch)");
    return false;
  };
}

}  // namespace nabla::app
