// How many threads nabla's compute may use: the size of its one thread pool (src/parallel.h),
// which runs the GEMM, the convolution kernels and the large element-wise loops.
//
// Results do not depend on the count: every kernel splits its work so that each output element
// is computed by one thread in a fixed order, and splits reductions into pieces fixed by the
// problem size, combined in a fixed order (tests/train/determinism_test.cpp checks training runs
// agree bitwise across counts).
#pragma once

namespace nabla {

// requires: n >= 1 (else throws nabla::Error). Call it between computations, not during one.
void set_num_threads(int n);
// The count in effect: what set_num_threads() set, else the environment variable
// NABLA_NUM_THREADS, else the number of cores.
int num_threads();

}  // namespace nabla
