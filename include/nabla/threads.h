// How many threads nabla's compute may use: the size of its one thread pool (src/parallel.h),
// which runs the GEMM, the convolution kernels and the large element-wise loops.
//
// Results do not depend on the count: every kernel splits its work so that each output element
// is computed by one thread in a fixed order, and splits reductions into pieces fixed by the
// problem size, combined in a fixed order (tests/train/determinism_test.cpp checks training runs
// agree bitwise across counts).
#pragma once

#include <cstdint>
#include <type_traits>

namespace nabla {

// requires: n >= 1 (else throws nabla::Error). Call it between computations, not during one.
void set_num_threads(int n);
// The count in effect: what set_num_threads() set, else the environment variable
// NABLA_NUM_THREADS, else the number of cores.
int num_threads();

// fn(begin, end) over [0, n) cut into at most num_threads() contiguous ranges of at least `grain`
// indices each, on the thread pool (the calling thread takes a range too; inside a parallel
// region it runs all of them): for work outside the kernels, such as the data loader's batch
// assembly. Each index must come out the same whichever range holds it.
void parallel_ranges_erased(int64_t n, int64_t grain, void (*fn)(void*, int64_t, int64_t),
                            void* ctx);
template <class F>
void parallel_ranges(int64_t n, int64_t grain, F&& fn) {
  using Fn = std::remove_reference_t<F>;
  parallel_ranges_erased(
      n, grain, [](void* f, int64_t begin, int64_t end) { (*static_cast<Fn*>(f))(begin, end); },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

}  // namespace nabla
