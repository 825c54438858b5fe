// How many threads nabla's compute may use. Today that is OpenBLAS's GEMM (and OpenMP loops, when
// the library is built with OpenMP); nabla's own kernels are single-threaded.
//
// OpenBLAS's GEMM rounds differently with different thread counts (one LeNet-5 epoch ends a few
// last bits apart with 1 and 2 threads), so bitwise reproducibility holds for the same count
// only: `nabla train --resume` should be given the --threads of the original run.
#pragma once

namespace nabla {

// requires: n >= 1 (else throws nabla::Error).
void set_num_threads(int n);
// The count in effect: what set_num_threads() set, or OpenBLAS's own default (OPENBLAS_NUM_THREADS
// or the number of cores).
int num_threads();

}  // namespace nabla
