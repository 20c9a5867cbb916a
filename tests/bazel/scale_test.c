/* Links the dispatcher of scale_kernel, whose parameter `scale` is named like the API. */
#include <stdio.h>

#include "tests/bazel/scale_lib.h"

int main(void) {
  if (scale_get_num_algos() != 1) {
    printf("expected 1 algo, got %d\n", scale_get_num_algos());
    return 1;
  }
  return 0;
}
