/* Host nanoseconds per call of matmul_autotuned over calling the algo it chooses directly,
 * against the no-op driver (noop_cuda.c, through TTLINK_LIBCUDA_PATH), so that only the
 * lookup differs. Built by autotune_cost.py with -include of the dispatcher's header; the
 * library holds the example matmul's three configs and the table of examples/matmul_record.bzl.
 *
 * Cases, CALLS calls each, interleaved over REPEATS rounds, the median round printed as one
 * JSON line each: the chosen algo called directly; K_autotuned with a key the table holds;
 * with a key it lacks (the nearest of its keys); and with that key decided at run time
 * (imported: the path of a key run-time tuning has decided). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CALLS 2000000
#define REPEATS 11

static const CUdeviceptr A = 0x10000, B = 0x20000, C = 0x30000;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* x @ W.T with M rows: the layout the table keys on (stride_am = K, stride_ak = 1, stride_bk = 1, stride_bn = K). */
static CUresult direct(int32_t m) { return matmul_128x256x64x8_warps8xstages3(NULL, A, B, C, m, 4096, 4096, 4096, 1, 1, 4096, 4096, 1); }
static CUresult autotuned(int32_t m) { return matmul_autotuned(NULL, A, B, C, m, 4096, 4096, 4096, 1, 1, 4096, 4096, 1); }

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ns per call of `entry(m)` over REPEATS rounds; -1 if a call fails. */
static double median_ns(CUresult (*entry)(int32_t), int32_t m) {
  double rounds[REPEATS];
  for (int r = 0; r < REPEATS; ++r) {
    int64_t start = now_ns();
    for (int i = 0; i < CALLS; ++i)
      if (entry(m) != CUDA_SUCCESS) return -1;
    rounds[r] = (double)(now_ns() - start) / CALLS;
  }
  qsort(rounds, REPEATS, sizeof rounds[0], compare);
  return rounds[REPEATS / 2];
}

int main(void) {
  static const struct { const char *name; CUresult (*entry)(int32_t); int32_t m; } before[] = {
      {"direct", direct, 4096},
      {"autotuned_recorded_key", autotuned, 4096},
      {"autotuned_nearest_key", autotuned, 1000},
  };
  for (int i = 0; i < 3; ++i)
    printf("{\"case\": \"%s\", \"ns_per_call\": %.2f}\n", before[i].name, median_ns(before[i].entry, before[i].m));
  if (matmul_tuning_import("1000 4096 4096 4096 1 1 4096 128x256x64x8_warps8xstages3\n") != CUDA_SUCCESS) return 1;
  printf("{\"case\": \"direct_again\", \"ns_per_call\": %.2f}\n", median_ns(direct, 1000));
  printf("{\"case\": \"autotuned_decided_key\", \"ns_per_call\": %.2f}\n", median_ns(autotuned, 1000));
  return 0;
}
