// Stop requests from SIGINT and SIGTERM (see include/nabla/train/interrupt.h).
#include "nabla/train/interrupt.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "nabla/error.h"

namespace nabla::train {

namespace {

// -1: no request; otherwise the signal number (0 for request_stop without a signal). A lock-free
// atomic is one of the few things a signal handler may touch.
std::atomic<int> g_stop{-1};
static_assert(std::atomic<int>::is_always_lock_free);

}  // namespace

bool stop_requested() {
  return g_stop.load(std::memory_order_relaxed) >= 0;
}

int stop_signal() {
  return std::max(0, g_stop.load(std::memory_order_relaxed));
}

// Also the signal handler: one relaxed store to a lock-free atomic, which is async-signal-safe.
void request_stop(int signal) {
  g_stop.store(signal, std::memory_order_relaxed);
}

void clear_stop_request() {
  g_stop.store(-1, std::memory_order_relaxed);
}

InterruptGuard::InterruptGuard() {
  clear_stop_request();
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a read or write the signal lands in goes on instead of failing with EINTR.
  // SA_RESETHAND: the second signal of a kind gets the default action (see the header).
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  if (::sigaction(SIGINT, &action, &previous_interrupt_) != 0)
    detail::throw_error("InterruptGuard: cannot install a SIGINT handler: ", std::strerror(errno));
  if (::sigaction(SIGTERM, &action, &previous_terminate_) != 0) {
    const int error = errno;
    ::sigaction(SIGINT, &previous_interrupt_, nullptr);
    detail::throw_error("InterruptGuard: cannot install a SIGTERM handler: ", std::strerror(error));
  }
  // A signal the process was started ignoring (a shell's background job, nohup) stays ignored.
  for (auto [signal, previous] :
       {std::pair{SIGINT, &previous_interrupt_}, std::pair{SIGTERM, &previous_terminate_}})
    if (!(previous->sa_flags & SA_SIGINFO) && previous->sa_handler == SIG_IGN)
      ::sigaction(signal, previous, nullptr);
}

InterruptGuard::~InterruptGuard() {
  ::sigaction(SIGTERM, &previous_terminate_, nullptr);
  ::sigaction(SIGINT, &previous_interrupt_, nullptr);
}

}  // namespace nabla::train
