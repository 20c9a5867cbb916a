#include "examples/matmul_check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "examples/fp16.h"
#include "examples/matmul.h"

enum { SAMPLES = 2048 };

/* Small multiples of 1/8 in [-0.5, 0.5]: exact in fp16, and every partial sum of products
 * is exact in the fp32 accumulator, so only the final fp16 rounding differs. */
static void fill(uint16_t *values, size_t count, uint32_t seed) {
  uint32_t state = seed;
  for (size_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    values[i] = float_to_fp16((float)((int)((state >> 16) % 9u) - 4) / 8.0f);
  }
}

static double reference(const uint16_t *a, const uint16_t *b, int n, int k, int row, int column) {
  double sum = 0.0;
  for (int i = 0; i < k; ++i) {
    sum += (double)fp16_to_float(a[(size_t)row * k + i]) * (double)fp16_to_float(b[(size_t)i * n + column]);
  }
  return sum;
}

/* Compares SAMPLES positions, always including the four corners (the last block row and
 * column exercise the masked tails when M or N is not a multiple of the block). */
static void compare(const uint16_t *a, const uint16_t *b, const uint16_t *c, int m, int n, int k,
                    struct matmul_outcome *outcome) {
  uint32_t state = 12345u;
  for (int s = 0; s < SAMPLES; ++s) {
    int row, column;
    if (s < 4) {
      row = (s & 1) ? m - 1 : 0;
      column = (s & 2) ? n - 1 : 0;
    } else {
      state = state * 1664525u + 1013904223u;
      row = (int)(state % (uint32_t)m);
      state = state * 1664525u + 1013904223u;
      column = (int)(state % (uint32_t)n);
    }
    double expected = reference(a, b, n, k, row, column);
    double got = fp16_to_float(c[(size_t)row * n + column]);
    double error = fabs(got - expected) / (1.0 + fabs(expected));
    if (error > outcome->max_error) outcome->max_error = error;
    if (error > 2e-3) ++outcome->wrong; /* fp16 output rounding is at most 2^-11 relative */
    ++outcome->checked;
  }
}

static CUresult launch(int algo, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c, int m, int n, int k) {
  /* Row-major: unit strides along K for A and along N for B and C. */
  if (algo == MATMUL_AUTOTUNED) return matmul_autotuned(NULL, a, b, c, m, n, k, k, 1, n, 1, n, 1);
  return matmul(NULL, a, b, c, m, n, k, k, 1, n, 1, n, 1, algo);
}

struct matmul_outcome matmul_check(const struct cuda_session *session, int algo, int m, int n, int k,
                                   int a_offset, int iterations) {
  const struct cuda_driver *cu = &session->driver;
  struct matmul_outcome outcome = {CUDA_SUCCESS, 0, 0, 0.0, 0.0, 0.0};
  size_t a_count = (size_t)m * k, b_count = (size_t)k * n, c_count = (size_t)m * n;
  uint16_t *a = malloc(a_count * sizeof *a);
  uint16_t *b = malloc(b_count * sizeof *b);
  uint16_t *c = calloc(c_count, sizeof *c);
  CUdeviceptr a_allocation = 0, b_gpu = 0, c_gpu = 0;
  CUevent start = NULL, stop = NULL;
  CUresult r = (a && b && c) ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;

  if (r == CUDA_SUCCESS) {
    fill(a, a_count, 1u);
    fill(b, b_count, 2u);
    r = cu->mem_alloc(&a_allocation, (a_count + (size_t)a_offset) * sizeof *a);
  }
  CUdeviceptr a_gpu = a_allocation + (size_t)a_offset * sizeof *a;
  if (r == CUDA_SUCCESS) r = cu->mem_alloc(&b_gpu, b_count * sizeof *b);
  if (r == CUDA_SUCCESS) r = cu->mem_alloc(&c_gpu, c_count * sizeof *c);
  if (r == CUDA_SUCCESS) r = cu->memcpy_htod(a_gpu, a, a_count * sizeof *a);
  if (r == CUDA_SUCCESS) r = cu->memcpy_htod(b_gpu, b, b_count * sizeof *b);
  if (r == CUDA_SUCCESS) r = cu->memcpy_htod(c_gpu, c, c_count * sizeof *c);
  if (r == CUDA_SUCCESS) r = launch(algo, a_gpu, b_gpu, c_gpu, m, n, k);
  if (r == CUDA_SUCCESS) r = cu->ctx_synchronize();
  if (r == CUDA_SUCCESS) r = cu->memcpy_dtoh(c, c_gpu, c_count * sizeof *c);
  if (r == CUDA_SUCCESS) compare(a, b, c, m, n, k, &outcome);

  if (r == CUDA_SUCCESS && iterations > 0) {
    r = cu->event_create(&start, CU_EVENT_DEFAULT);
    if (r == CUDA_SUCCESS) r = cu->event_create(&stop, CU_EVENT_DEFAULT);
    if (r == CUDA_SUCCESS) r = cu->event_record(start, NULL);
    for (int i = 0; i < iterations && r == CUDA_SUCCESS; ++i) r = launch(algo, a_gpu, b_gpu, c_gpu, m, n, k);
    if (r == CUDA_SUCCESS) r = cu->event_record(stop, NULL);
    if (r == CUDA_SUCCESS) r = cu->event_synchronize(stop);
    float total = 0.0f;
    if (r == CUDA_SUCCESS) r = cu->event_elapsed_time(&total, start, stop);
    if (r == CUDA_SUCCESS) {
      outcome.milliseconds = total / iterations;
      outcome.tflops = 2.0 * m * n * (double)k / (outcome.milliseconds * 1e-3) / 1e12;
    }
  }

  if (start) cu->event_destroy(start);
  if (stop) cu->event_destroy(stop);
  if (a_allocation) cu->mem_free(a_allocation);
  if (b_gpu) cu->mem_free(b_gpu);
  if (c_gpu) cu->mem_free(c_gpu);
  free(a);
  free(b);
  free(c);
  outcome.status = r;
  return outcome;
}
