/* GPU test of the linked examples: every matmul algo with the specialised variants (1024)
 * and with the generic one, reached by a size that is not a multiple of 16 (1001) and by an
 * A off the 16-byte grid; and vector_add on a ragged length. Fails without a GPU: tagged
 * "requires-gpu", "manual". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "examples/cuda_driver.h"
#include "examples/matmul.h"
#include "examples/matmul_check.h"
#include "examples/vector_add.h"

static int check_vector_add(const struct cuda_session *session, int n) {
  const struct cuda_driver *cu = &session->driver;
  size_t bytes = (size_t)n * sizeof(float);
  float *x = malloc(bytes), *y = malloc(bytes), *out = malloc(bytes);
  CUdeviceptr x_gpu = 0, y_gpu = 0, out_gpu = 0;
  int wrong = -1;
  CUresult r = (x && y && out) ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
  if (r == CUDA_SUCCESS) {
    for (int i = 0; i < n; ++i) {
      x[i] = (float)i;
      y[i] = 0.5f * (float)(n - i);
    }
    r = cu->mem_alloc(&x_gpu, bytes);
  }
  if (r == CUDA_SUCCESS) r = cu->mem_alloc(&y_gpu, bytes);
  if (r == CUDA_SUCCESS) r = cu->mem_alloc(&out_gpu, bytes);
  if (r == CUDA_SUCCESS) r = cu->memcpy_htod(x_gpu, x, bytes);
  if (r == CUDA_SUCCESS) r = cu->memcpy_htod(y_gpu, y, bytes);
  if (r == CUDA_SUCCESS) r = vector_add_default(NULL, x_gpu, y_gpu, out_gpu, n);
  if (r == CUDA_SUCCESS) r = cu->ctx_synchronize();
  if (r == CUDA_SUCCESS) r = cu->memcpy_dtoh(out, out_gpu, bytes);
  if (r == CUDA_SUCCESS) {
    wrong = 0;
    for (int i = 0; i < n; ++i) wrong += out[i] != x[i] + y[i];
  }
  printf("vector_add n=%d: %s, %d wrong\n", n, cuda_error_name(session, r), wrong);
  if (x_gpu) cu->mem_free(x_gpu);
  if (y_gpu) cu->mem_free(y_gpu);
  if (out_gpu) cu->mem_free(out_gpu);
  free(x);
  free(y);
  free(out);
  return r == CUDA_SUCCESS && wrong == 0;
}

int main(void) {
  struct cuda_session session;
  char why[256];
  if (cuda_session_open(&session, why, sizeof why) != 0) {
    fprintf(stderr, "gpu_test: FAILED: no usable GPU: %s\n", why);
    return 1;
  }
  int failures = 0;
  const struct {
    int size, a_offset;
  } cases[] = {{1024, 0}, {1001, 0}, {1001, 1}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    int size = cases[c].size, a_offset = cases[c].a_offset;
    for (int algo = MATMUL_AUTOTUNED; algo < matmul_get_num_algos(); ++algo) {
      struct matmul_outcome o = matmul_check(&session, algo, size, size, size, a_offset, 0);
      int ok = o.status == CUDA_SUCCESS && o.wrong == 0 && o.checked > 0;
      printf("matmul %d A offset %d algo %d %s: %s, %d of %d wrong\n", size, a_offset, algo,
             algo == MATMUL_AUTOTUNED ? "autotuned" : matmul_get_algo_name(algo), cuda_error_name(&session, o.status), o.wrong, o.checked);
      failures += !ok;
    }
  }
  failures += !check_vector_add(&session, 100003);
  cuda_session_close(&session);
  printf("%s\n", failures ? "FAILED" : "PASSED");
  return failures ? 1 : 0;
}
