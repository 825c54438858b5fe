// Restores the thread count a test changed (set_num_threads is process-wide, and later tests
// expect the count they started with).
#pragma once

#include "nabla/threads.h"

namespace nabla::testing {

struct ThreadsGuard {
  int previous = num_threads();
  ~ThreadsGuard() { set_num_threads(previous); }
};

}  // namespace nabla::testing
