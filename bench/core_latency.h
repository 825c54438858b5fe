// How long a cache line takes to pass between the first two CPUs this process may run on (on a
// 2-core machine, where a 2-thread pool runs): a thread on each, one stores a counter, the other
// waits to see it and answers, and the round trips' time over two is the one-way latency.
// (Unpinned, the second thread often starts on the first one's CPU and the two take turns.) Cores
// that share an L3 answer in tens of nanoseconds; cores on different dies (chiplets, sockets) in
// well over a hundred, and there every line that one thread writes and the other reads costs that
// much. A virtual machine's vCPUs can move between dies while it runs: a Zen 4 guest measured
// 25-30 ns for minutes, then 160-180 ns, and back, and a Zen 5 guest 48-91 ns and 216-281 ns
// (docs/performance.md, "Session 25: two threads on two dies" and "Session 26").
//   double ns = core_to_core_ns();  // the median of 5 trials; 0 with fewer than two CPUs
// Header-only, like fma_peak.h; takes a few tens of milliseconds.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

// One-way latency in nanoseconds: the median of `trials` runs of `round_trips` round trips.
inline double core_to_core_ns(int trials = 5, int round_trips = 20000) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
  int cpus[2], found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
  if (found < 2) return 0;
  const auto pin = [](int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
  };
  struct alignas(64) Line {
    std::atomic<int> value{0};
  };
  std::vector<double> ns;
  for (int t = 0; t < trials; ++t) {
    Line line;
    std::thread other([&] {
      pin(cpus[1]);
      for (int i = 0; i < round_trips; ++i) {
        while (line.value.load(std::memory_order_acquire) != 2 * i + 1) {
        }
        line.value.store(2 * i + 2, std::memory_order_release);
      }
    });
    pin(cpus[0]);
    // The first round trip is not timed: it waits for the other thread to start.
    line.value.store(1, std::memory_order_release);
    while (line.value.load(std::memory_order_acquire) != 2) {
    }
    const auto start = std::chrono::steady_clock::now();
    for (int i = 1; i < round_trips; ++i) {
      line.value.store(2 * i + 1, std::memory_order_release);
      while (line.value.load(std::memory_order_acquire) != 2 * i + 2) {
      }
    }
    const auto end = std::chrono::steady_clock::now();
    other.join();
    ns.push_back(std::chrono::duration<double, std::nano>(end - start).count() /
                 (2.0 * (round_trips - 1)));
  }
  pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
}
