/* Host nanoseconds per call of a linked library's entry points against the no-op driver
 * (noop_cuda.c), so that no GPU queue hides the dispatcher's own cost.
 *
 *   dispatch_cost LIBRARY NAME ALGO_ID ALGO_FUNCTION VARIANT [REPORTING_COPY]
 *
 * Times the aligned VARIANT's entry point, ALGO_FUNCTION (`NAME_{algo}`), NAME(..., ALGO_ID)
 * and NAME_default, CALLS calls each, interleaved over REPEATS rounds; prints one JSON line
 * per entry point with the median round. REPORTING_COPY, a copy of a ttlink LIBRARY at
 * another path, is loaded as a second instance with its own runtime after
 * TTLINK_REPORT_VARIANTS=1 is set (LIBRARY's first calls run with it unset), and its entry
 * points are timed in the same rounds: the cost of the report, off and on, in one run.
 */
#include "harness.h"

#define CALLS 1000000
#define REPEATS 21
#define ENTRIES 4

/* Arguments that satisfy every hint of the aligned variant: the dispatcher picks it. */
static const CUdeviceptr A = 0x10000, B = 0x20000, C = 0x30000;
static const int32_t n = 4096, one = 1;

static int algo_id;
static const char *labels[ENTRIES] = {"variant", "algo", "dispatch", "default"};

static CUresult call(void *const *entry, int which) {
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

/* Opens PATH as its own instance and calls each of NAMES once (the first calls, which load
 * the modules and read TTLINK_REPORT_VARIANTS). */
static int open_entries(const char *path, const char *const *names, void **entry) {
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    printf("{\"error\": \"dlopen\", \"detail\": \"%s\"}\n", dlerror());
    return 1;
  }
  for (int i = 0; i < ENTRIES; i++) {
    entry[i] = dlsym(library, names[i]);
    if (entry[i] == NULL) {
      printf("{\"error\": \"dlsym\", \"detail\": \"%s\"}\n", names[i]);
      return 1;
    }
  }
  for (int i = 0; i < ENTRIES; i++) {
    CUresult result = call(entry, i);
    if (result != CUDA_SUCCESS) {
      printf("{\"error\": \"%s returned %d\"}\n", names[i], (int)result);
      return 1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: dispatch_cost LIBRARY NAME ALGO_ID ALGO_FUNCTION VARIANT [REPORTING_COPY]\n");
    return 2;
  }
  char default_name[256];
  snprintf(default_name, sizeof default_name, "%s_default", argv[2]);
  const char *names[ENTRIES] = {argv[5], argv[4], argv[2], default_name};
  algo_id = atoi(argv[3]);
  int instances = argc == 7 ? 2 : 1; /* instance 1 reports variants */
  static void *entry[2][ENTRIES];
  unsetenv("TTLINK_REPORT_VARIANTS");
  if (open_entries(argv[1], names, entry[0]) != 0) return 1;
  if (instances == 2) {
    setenv("TTLINK_REPORT_VARIANTS", "1", 1);
    if (open_entries(argv[6], names, entry[1]) != 0) return 1;
  }
  static double ns[2][ENTRIES][REPEATS];
  for (int round = 0; round < REPEATS; round++)
    for (int i = 0; i < ENTRIES; i++)
      for (int instance = 0; instance < instances; instance++) {
        int64_t start = now_ns();
        for (int k = 0; k < CALLS; k++) call(entry[instance], i);
        ns[instance][i][round] = (double)(now_ns() - start) / CALLS;
      }
  for (int instance = 0; instance < instances; instance++)
    for (int i = 0; i < ENTRIES; i++) {
      double *rounds = ns[instance][i];
      qsort(rounds, REPEATS, sizeof rounds[0], compare_double);
      printf("{\"call\": \"%s\", \"symbol\": \"%s\", \"report_variants\": %s, \"ns_per_call\": %.2f, "
             "\"min\": %.2f, \"max\": %.2f, \"calls\": %d, \"repeats\": %d}\n",
             labels[i], names[i], instance == 1 ? "true" : "false", rounds[REPEATS / 2], rounds[0],
             rounds[REPEATS - 1], CALLS, REPEATS);
    }
  return 0;
}
