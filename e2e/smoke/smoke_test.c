/* Links the rules_triton library like any cc_library, then checks its API without a GPU:
 * the algo table, and that a launch returns a CUDA error instead of crashing or exiting. */
#include <stdio.h>

#include "kernels/copy.h"

int main(void) {
  int failures = 0;
  if (smoke_copy_get_num_algos() != 2) {
    printf("expected 2 algos, got %d\n", smoke_copy_get_num_algos());
    ++failures;
  }
  for (int algo = 0; algo < smoke_copy_get_num_algos(); ++algo) {
    printf("algo %d: %s\n", algo, smoke_copy_get_algo_name(algo));
    failures += smoke_copy_get_algo_name(algo) == NULL;
  }
  failures += smoke_copy_get_algo_name(2) != NULL;
  CUresult launched = smoke_copy_default(NULL, 0, 0, 1024);
  printf("launch without a driver: %d\n", (int)launched);
  failures += launched == CUDA_SUCCESS;
  return failures ? 1 : 0;
}
