/* Shared pieces of the GPU benchmark's C harnesses: driver checks, a clock, the linked
 * matmul API loaded from a shared library, and square fp16 matmul problems with a CPU
 * reference.
 *
 * Every harness prints one JSON object per line on stdout; bench/gpu/run.py reads them.
 * The matmul API is the one both `ttlink link` and upstream's link.py generate:
 *   CUresult NAME(CUstream, CUdeviceptr a, b, c, int32_t M, N, K, 6 strides, int algo_id);
 *   int NAME_get_num_algos(void);
 *   void unload_NAME(void);
 */
#ifndef BENCH_GPU_HARNESS_H
#define BENCH_GPU_HARNESS_H

#include <cuda.h>
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Prints the failing call as a JSON line and returns its code from the enclosing function. */
#define CHECK(call)                                                                     \
  do {                                                                                  \
    CUresult check_result_ = (call);                                                    \
    if (check_result_ != CUDA_SUCCESS) {                                                \
      const char *check_name_ = NULL;                                                   \
      cuGetErrorName(check_result_, &check_name_);                                      \
      printf("{\"error\": \"%s\", \"call\": \"%s\", \"line\": %d}\n",                   \
             check_name_ ? check_name_ : "?", #call, __LINE__);                         \
      fflush(stdout);                                                                   \
      return check_result_;                                                             \
    }                                                                                   \
  } while (0)

static inline int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline const char *result_name(CUresult result) {
  const char *name = NULL;
  if (cuGetErrorName(result, &name) != CUDA_SUCCESS || name == NULL) return "unknown CUresult";
  return name;
}

typedef CUresult (*matmul_algo_fn)(CUstream, CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t,
                                   int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int);
/* NAME_default and NAME_{algo}: the full arguments, no algo_id. */
typedef CUresult (*matmul_full_fn)(CUstream, CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t, int32_t,
                                   int32_t, int32_t, int32_t, int32_t, int32_t, int32_t);
/* The aligned variant's entry point: stride_ak, stride_bn and stride_cn are :1, so absent. */
typedef CUresult (*matmul_aligned_variant_fn)(CUstream, CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t,
                                              int32_t, int32_t, int32_t, int32_t);
typedef int (*num_algos_fn)(void);

struct matmul_api {
  matmul_algo_fn call;
  num_algos_fn num_algos;
  void (*unload)(void); /* every variant's module in the current context */
};

/* dlopen()s LIBRARY (RTLD_LOCAL: ours and upstream's may share symbol names) and finds NAME. */
static inline int load_matmul_api(const char *library, const char *name, struct matmul_api *api) {
  void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    printf("{\"error\": \"dlopen\", \"detail\": \"%s\"}\n", dlerror());
    return 1;
  }
  char num_algos[256], unload[256];
  snprintf(num_algos, sizeof num_algos, "%s_get_num_algos", name);
  snprintf(unload, sizeof unload, "unload_%s", name);
  api->call = (matmul_algo_fn)dlsym(handle, name);
  api->num_algos = (num_algos_fn)dlsym(handle, num_algos);
  *(void **)&api->unload = dlsym(handle, unload);
  if (api->call == NULL || api->num_algos == NULL || api->unload == NULL) {
    printf("{\"error\": \"dlsym\", \"detail\": \"%s, %s or %s missing\"}\n", name, num_algos, unload);
    return 1;
  }
  return 0;
}

/* A contiguous n x n x n fp16 problem: device buffers in the current context and the
 * expected result computed on the CPU in float. */
struct problem {
  int n;
  CUdeviceptr a, b, c;
  _Float16 *host_c;
  float *expected;
};

static inline float next_random(uint64_t *state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((*state >> 40) & 0xFFFF) / 32768.0f - 1.0f; /* uniform in [-1, 1) */
}

static inline CUresult problem_create(struct problem *p, int n, uint64_t seed) {
  size_t count = (size_t)n * n;
  memset(p, 0, sizeof *p);
  p->n = n;
  _Float16 *host_a = malloc(count * sizeof *host_a);
  _Float16 *host_b = malloc(count * sizeof *host_b);
  p->host_c = malloc(count * sizeof *p->host_c);
  p->expected = calloc(count, sizeof *p->expected);
  for (size_t i = 0; i < count; i++) host_a[i] = (_Float16)next_random(&seed);
  for (size_t i = 0; i < count; i++) host_b[i] = (_Float16)next_random(&seed);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      float a = (float)host_a[(size_t)i * n + k];
      for (int j = 0; j < n; j++) p->expected[(size_t)i * n + j] += a * (float)host_b[(size_t)k * n + j];
    }
  CHECK(cuMemAlloc(&p->a, count * sizeof(_Float16)));
  CHECK(cuMemAlloc(&p->b, count * sizeof(_Float16)));
  CHECK(cuMemAlloc(&p->c, count * sizeof(_Float16)));
  CHECK(cuMemcpyHtoD(p->a, host_a, count * sizeof(_Float16)));
  CHECK(cuMemcpyHtoD(p->b, host_b, count * sizeof(_Float16)));
  free(host_a);
  free(host_b);
  return CUDA_SUCCESS;
}

static inline void problem_destroy(struct problem *p) {
  cuMemFree(p->a);
  cuMemFree(p->b);
  cuMemFree(p->c);
  free(p->host_c);
  free(p->expected);
}

/* Fills C with NaN (0xFFFF) so that an element the kernel did not write fails the check. */
static inline CUresult problem_poison(struct problem *p, CUstream stream) {
  return cuMemsetD16Async(p->c, 0xFFFF, (size_t)p->n * p->n, stream);
}

static inline CUresult problem_launch(struct problem *p, const struct matmul_api *api, CUstream stream, int algo) {
  int n = p->n;
  return api->call(stream, p->a, p->b, p->c, n, n, n, n, 1, n, 1, n, 1, algo);
}

/* Relative error bound for fp16 output with fp32 accumulation (rounding alone: ~3e-4). */
#define FP16_REL_ERROR_BOUND 2e-3

/* Copies C back (after synchronising STREAM); returns ||C - expected|| / ||expected||, or
 * INFINITY when any element is NaN (unwritten). */
static inline double problem_error(struct problem *p, CUstream stream) {
  size_t count = (size_t)p->n * p->n;
  if (cuStreamSynchronize(stream) != CUDA_SUCCESS) return INFINITY;
  if (cuMemcpyDtoH(p->host_c, p->c, count * sizeof(_Float16)) != CUDA_SUCCESS) return INFINITY;
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < count; i++) {
    double got = (double)p->host_c[i], want = (double)p->expected[i];
    if (isnan(got)) return INFINITY;
    diff += (got - want) * (got - want);
    norm += want * want;
  }
  return norm > 0.0 ? sqrt(diff / norm) : sqrt(diff);
}

#endif
