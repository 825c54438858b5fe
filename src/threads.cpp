// Thread count for OpenBLAS (declared in its cblas.h) and, when compiled in, OpenMP.
#include "nabla/threads.h"

#include <cblas.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "nabla/error.h"

namespace nabla {

void set_num_threads(int n) {
  NABLA_CHECK(n >= 1, "set_num_threads: the thread count must be at least 1, got ", n);
  openblas_set_num_threads(n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

int num_threads() {
  return openblas_get_num_threads();
}

}  // namespace nabla
