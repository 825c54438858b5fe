/* Times cblas_sgemm (row-major, C = A·B, square n×n) through whichever BLAS it is linked with.
 * bench/blas_compare.sh builds it once against OpenBLAS and once against BLIS, so the two
 * libraries run the very same calls. Prints one line per size: "n <n> gflops <median>".
 * Plain C on purpose: nothing of nabla is involved, only the BLAS. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, and the pthread barriers BLIS uses */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  static const int sizes[] = {256, 512, 1024, 2048};
  if (reps < 1 || reps > 64) {
    fprintf(stderr, "usage: %s [reps 1..64]\n", argv[0]);
    return 2;
  }
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
    int n = sizes[s];
    size_t count = (size_t)n * (size_t)n;
    float* a = malloc(count * sizeof *a);
    float* b = malloc(count * sizeof *b);
    float* c = malloc(count * sizeof *c);
    if (!a || !b || !c) {
      fprintf(stderr, "out of memory at n = %d\n", n);
      return 1;
    }
    unsigned state = 12345u;
    for (size_t i = 0; i < count; ++i) {
      state = state * 1664525u + 1013904223u;
      a[i] = (float)(state >> 8) / 16777216.0f - 0.5f;
      b[i] = (float)(state >> 9) / 8388608.0f - 0.5f;
    }
    /* One untimed call: thread pool start-up and first-touch page faults are not GEMM speed. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double gflops[64];
    for (int r = 0; r < reps; ++r) {
      double t0 = now_seconds();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
      double dt = now_seconds() - t0;
      gflops[r] = 2.0 * n * (double)n * n / dt * 1e-9;
    }
    qsort(gflops, (size_t)reps, sizeof gflops[0], compare_doubles);
    /* c[0] is printed so the compiler cannot drop the calls, and as a cross-library sanity check.
     */
    printf("n %d gflops %.2f c00 %.4f\n", n, gflops[reps / 2], c[0]);
    free(a);
    free(b);
    free(c);
  }
  return 0;
}
