/* Host nanoseconds per call of a linked library's entry points against the no-op driver
 * (noop_cuda.c), so that no GPU queue hides the dispatcher's own cost.
 *
 *   dispatch_cost LIBRARY NAME ALGO_ID ALGO_FUNCTION VARIANT
 *
 * Times the aligned VARIANT's entry point, ALGO_FUNCTION (`NAME_{algo}`), NAME(..., ALGO_ID)
 * and NAME_default, CALLS calls each, interleaved over REPEATS rounds; prints one JSON line
 * per entry point with the median round.
 */
#include "harness.h"

#define CALLS 1000000
#define REPEATS 21

/* Arguments that satisfy every hint of the aligned variant: the dispatcher picks it. */
static const CUdeviceptr A = 0x10000, B = 0x20000, C = 0x30000;
static const int32_t n = 4096, one = 1;

static void *entry[4];
static int algo_id;
static const char *labels[4] = {"variant", "algo", "dispatch", "default"};

static CUresult call(int which) {
  switch (which) {
    case 0: return ((matmul_aligned_variant_fn)entry[0])(NULL, A, B, C, n, n, n, n, n, n);
    case 1: return ((matmul_full_fn)entry[1])(NULL, A, B, C, n, n, n, n, one, n, one, n, one);
    case 2: return ((matmul_algo_fn)entry[2])(NULL, A, B, C, n, n, n, n, one, n, one, n, one, algo_id);
    default: return ((matmul_full_fn)entry[3])(NULL, A, B, C, n, n, n, n, one, n, one, n, one);
  }
}

static int compare_double(const void *x, const void *y) {
  double l = *(const double *)x, r = *(const double *)y;
  return (l > r) - (l < r);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: dispatch_cost LIBRARY NAME ALGO_ID ALGO_FUNCTION VARIANT\n");
    return 2;
  }
  void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    printf("{\"error\": \"dlopen\", \"detail\": \"%s\"}\n", dlerror());
    return 1;
  }
  char default_name[256];
  snprintf(default_name, sizeof default_name, "%s_default", argv[2]);
  const char *names[4] = {argv[5], argv[4], argv[2], default_name};
  for (int i = 0; i < 4; i++) {
    entry[i] = dlsym(library, names[i]);
    if (entry[i] == NULL) {
      printf("{\"error\": \"dlsym\", \"detail\": \"%s\"}\n", names[i]);
      return 1;
    }
  }
  algo_id = atoi(argv[3]);
  for (int i = 0; i < 4; i++) {
    CUresult result = call(i);
    if (result != CUDA_SUCCESS) {
      printf("{\"error\": \"%s returned %d\"}\n", names[i], (int)result);
      return 1;
    }
  }
  static double ns[4][REPEATS];
  for (int round = 0; round < REPEATS; round++)
    for (int i = 0; i < 4; i++) {
      int64_t start = now_ns();
      for (int k = 0; k < CALLS; k++) call(i);
      ns[i][round] = (double)(now_ns() - start) / CALLS;
    }
  for (int i = 0; i < 4; i++) {
    qsort(ns[i], REPEATS, sizeof ns[i][0], compare_double);
    printf("{\"call\": \"%s\", \"symbol\": \"%s\", \"ns_per_call\": %.2f, \"min\": %.2f, \"max\": %.2f, "
           "\"calls\": %d, \"repeats\": %d}\n",
           labels[i], names[i], ns[i][REPEATS / 2], ns[i][0], ns[i][REPEATS - 1], CALLS, REPEATS);
  }
  return 0;
}
