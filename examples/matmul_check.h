/* Runs one algo of the linked `matmul` on the GPU, checks it against a CPU reference and
 * times it. Shared by matmul_demo and matmul_gpu_test. */
#ifndef RULES_TRITON_EXAMPLES_MATMUL_CHECK_H_
#define RULES_TRITON_EXAMPLES_MATMUL_CHECK_H_

#include "examples/cuda_driver.h"

#ifdef __cplusplus
extern "C" {
#endif

struct matmul_outcome {
  CUresult status;     /* first driver or launch error, CUDA_SUCCESS if none */
  int checked;         /* output elements compared with the CPU reference */
  int wrong;           /* of those, outside tolerance */
  double max_error;    /* largest |gpu - reference| / (1 + |reference|) */
  double milliseconds; /* mean time of one launch */
  double tflops;       /* 2 * M * N * K / time */
};

/* `algo` that runs matmul_autotuned: the algo the library's tuning table chose for the key. */
#define MATMUL_AUTOTUNED (-1)

/* C = A @ B for row-major fp16 A (M x K), B (K x N), C (M x N) with algo `algo`, launched
 * `iterations` times after one checked launch. A starts `a_offset` elements into its
 * allocation: an offset that is not a multiple of 8 leaves A off the 16-byte grid, which
 * only the generic variant accepts. */
struct matmul_outcome matmul_check(const struct cuda_session *session, int algo, int m, int n, int k,
                                   int a_offset, int iterations);

#ifdef __cplusplus
}
#endif

#endif /* RULES_TRITON_EXAMPLES_MATMUL_CHECK_H_ */
