/* matmul_demo [SIZE ...]: runs matmul_autotuned and every compiled algo of the linked `matmul` on square
 * row-major SIZE problems (default 4096 and 4001, sizes divisible by 16 and not; the record
 * gives both a specialised variant), checks each against a CPU reference and
 * prints TFLOP/s.
 * Without a GPU it says so, lists the compiled algos and exits 0. */
#include <stdio.h>
#include <stdlib.h>

#include "examples/cuda_driver.h"
#include "examples/matmul.h"
#include "examples/matmul_check.h"

enum { ITERATIONS = 20 };

static const char *algo_name(int algo) {
  return algo == MATMUL_AUTOTUNED ? "autotuned (the record's choice)" : matmul_get_algo_name(algo);
}

static void list_algos(void) {
  int count = matmul_get_num_algos();
  printf("%d compiled matmul algos (constexpr values _warps x stages):\n", count);
  for (int algo = 0; algo < count; ++algo) printf("  %d  %s\n", algo, matmul_get_algo_name(algo));
}

int main(int argc, char **argv) {
  int sizes[16] = {4096, 4001};
  int size_count = 2;
  if (argc > 1) {
    size_count = 0;
    for (int i = 1; i < argc && size_count < 16; ++i) {
      sizes[size_count] = atoi(argv[i]);
      if (sizes[size_count] <= 0) {
        fprintf(stderr, "matmul_demo: '%s' is not a positive size\n", argv[i]);
        return 2;
      }
      ++size_count;
    }
  }

  struct cuda_session session;
  char why[256];
  if (cuda_session_open(&session, why, sizeof why) != 0) {
    printf("matmul_demo: no usable GPU: %s. Nothing to run.\n", why);
    list_algos();
    return 0;
  }
  printf("GPU 0: %s\n", session.device_name);
  list_algos();

  int failures = 0;
  for (int s = 0; s < size_count; ++s) {
    int size = sizes[s];
    printf("\nM = N = K = %d (fp16 in, fp32 accumulate, fp16 out)\n", size);
    for (int algo = MATMUL_AUTOTUNED; algo < matmul_get_num_algos(); ++algo) {
      struct matmul_outcome o = matmul_check(&session, algo, size, size, size, 0, ITERATIONS);
      if (o.status != CUDA_SUCCESS) {
        printf("  algo %d %-36s  FAILED: %s\n", algo, algo_name(algo), cuda_error_name(&session, o.status));
        ++failures;
        continue;
      }
      printf("  algo %d %-36s %8.1f TFLOP/s  %7.3f ms  %s (%d of %d sampled outputs wrong, max error %.1e)\n", algo,
             algo_name(algo), o.tflops, o.milliseconds, o.wrong ? "WRONG" : "correct", o.wrong,
             o.checked, o.max_error);
      if (o.wrong) ++failures;
    }
  }
  cuda_session_close(&session);
  return failures ? 1 : 0;
}
