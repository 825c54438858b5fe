// Helpers shared by the tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nabla/error.h"
#include "nabla/random.h"
#include "nabla/tensor.h"
#include "nabla/threads.h"

namespace nabla::testing {

// The message of the nabla::Error that f() throws; a test failure when it throws none.
template <class F>
std::string error_message(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected nabla::Error";
  return "";
}

inline std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> names;
  for (const auto& entry : named) names.push_back(entry.first);
  return names;
}

// Sets the pool's thread count for a scope and restores the previous one.
class ThreadCount {
 public:
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_ = num_threads();
};

// n values drawn uniformly from [-1, 1): a kernel test's random inputs.
template <class T>
std::vector<T> random_values(int64_t n, Generator& gen) {
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) x = static_cast<T>(gen.uniform(-1, 1));
  return v;
}

}  // namespace nabla::testing
