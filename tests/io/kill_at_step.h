// Crash tests without timers: a writer forked into a child stops right after the step of an atomic
// write the test chooses (the hook of io/atomic_file_hook.h), and the parent SIGKILLs it there.
// So each kill lands exactly where intended: the test can neither pass without a kill landing
// mid-write nor fail because the machine was slow.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "io/atomic_file_hook.h"

namespace nabla::testing {

namespace kill_at_step_detail {
inline std::vector<std::string> recorded;
inline int stop_at = 0, seen = 0, stopped_fd = -1;

inline void record(const char* step, const char* /*path*/) {
  recorded.emplace_back(step);
}

// In the child: at the chosen step, tell the parent through the pipe and wait to be killed.
inline void stop_here(const char* /*step*/, const char* /*path*/) {
  if (++seen != stop_at) return;
  const char byte = 1;
  if (::write(stopped_fd, &byte, 1) != 1) ::_exit(3);
  for (;;) ::pause();
}
}  // namespace kill_at_step_detail

// The steps `write` takes through atomic writes, in order ("file created", "file written", ...),
// recorded by running it once in this process.
inline std::vector<std::string> atomic_write_steps(const std::function<void()>& write) {
  namespace d = kill_at_step_detail;
  d::recorded.clear();
  io::detail::set_atomic_write_hook(d::record);
  write();
  io::detail::set_atomic_write_hook(nullptr);
  return d::recorded;
}

// Runs `write` in a forked child, stops it right after its `stop`-th step (1-based) and SIGKILLs
// it. Returns the child's pid, or -1 after a test failure naming `where` when the child never
// reached that step or ended by itself.
inline pid_t kill_writer_after_step(int stop, const std::function<void()>& write,
                                    const std::string& where) {
  namespace d = kill_at_step_detail;
  int stopped[2];
  if (::pipe(stopped) != 0) {
    ADD_FAILURE() << where << ": pipe failed";
    return -1;
  }
  const pid_t child = ::fork();
  if (child < 0) {
    ADD_FAILURE() << where << ": fork failed";
    return -1;
  }
  if (child == 0) {
    ::close(stopped[0]);
    d::stop_at = stop;
    d::seen = 0;
    d::stopped_fd = stopped[1];
    io::detail::set_atomic_write_hook(d::stop_here);
    try {
      write();
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(stopped[1]);
  char byte = 0;
  const ssize_t got = ::read(stopped[0], &byte, 1);
  ::close(stopped[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (got != 1) {
    ADD_FAILURE() << where << ": the writer never reached it, status " << status;
    return -1;
  }
  if (!WIFSIGNALED(status)) {
    ADD_FAILURE() << where << ": the writer stopped by itself: " << status;
    return -1;
  }
  return child;
}

}  // namespace nabla::testing
