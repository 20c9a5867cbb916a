/* The example matmul, built from examples/matmul_record.bzl: every algo's dispatcher sends
 * each A/B layout (row- or column-major) at sizes divisible by 16 and at odd sizes, and
 * `x @ W.T` at M = 16, to the variant the JIT specialised for it, not to the generic one.
 *
 * Runs against the recording stand-in libcuda (argv[1]), which logs each launch's arguments.
 * A variant drops its `:1` arguments from the launch, so the three arguments after M, N, K
 * tell which variant ran: the strides the layout leaves not equal to 1 (with distinct M, N,
 * K, each layout gives other values), where the generic variant passes stride_am,
 * stride_ak and stride_bk as they are. An unaligned pointer must still reach the generic one. */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/matmul.h"
#include "tests/bazel/standin_session.h"

/* The 7th, 8th and 9th launch arguments (4-byte integers) of the last launch in the log. */
static int last_launch_strides(const char *path, int strides[3]) {
  FILE *log = fopen(path, "r");
  if (log == NULL) return -1;
  char line[8192], last[8192] = "";
  while (fgets(line, sizeof line, log) != NULL)
    if (strncmp(line, "launch ", 7) == 0) snprintf(last, sizeof last, "%s", line);
  fclose(log);
  const char *args = strstr(last, " args=");
  if (args == NULL) return -1;
  args += strlen(" args=");
  for (int index = 0; index < 9; ++index) {
    const char *end = strchr(args, index < 8 ? ':' : '\n');
    if (end == NULL) return -1;
    if (index >= 6) {
      unsigned int bytes[4];
      if (end - args != 8 || sscanf(args, "%2x%2x%2x%2x", &bytes[0], &bytes[1], &bytes[2], &bytes[3]) != 4) return -1;
      strides[index - 6] = (int)(bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24);
    }
    args = end + 1;
  }
  return 0;
}

struct layout_case {
  const char *name;
  int a_col, b_col, m, n, k;
  CUdeviceptr a;
};

int main(int argc, char **argv) {
  /* a_ptr, b_ptr, c_ptr, M, N, K and the three arguments after them: every variant has 9. */
  setenv("STANDIN_PARAM_SIZES", "8,8,8,4,4,4,4,4,4", 1);
  char log_path[PATH_MAX];
  if (standin_session_open(argc, argv, "9.0", log_path) != 0) return 2;

  const struct layout_case cases[] = {
      {"A row, B row", 0, 0, 32, 48, 64, 0x10000},
      {"A col, B row", 1, 0, 32, 48, 64, 0x10000},
      {"A row, B col", 0, 1, 32, 48, 64, 0x10000},
      {"A col, B col", 1, 1, 32, 48, 64, 0x10000},
      {"A row, B row, odd sizes", 0, 0, 33, 49, 65, 0x10000},
      {"A col, B row, odd sizes", 1, 0, 33, 49, 65, 0x10000},
      {"A row, B col, odd sizes", 0, 1, 33, 49, 65, 0x10000},
      {"A col, B col, odd sizes", 1, 1, 33, 49, 65, 0x10000},
      {"x @ W.T, M 16", 0, 1, 16, 48, 64, 0x10000},
      {"A row, B row, A unaligned", 0, 0, 32, 48, 64, 0x10008},
  };
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    const struct layout_case *c = &cases[i];
    int stride_am = c->a_col ? 1 : c->k, stride_ak = c->a_col ? c->m : 1;
    int stride_bk = c->b_col ? 1 : c->n, stride_bn = c->b_col ? c->k : 1;
    int stride_cm = c->n;
    int expected[3];
    if (c->a == 0x10000) { /* the strides that are not 1, in parameter order, then stride_cm */
      int kept = 0;
      int candidates[4] = {stride_am, stride_ak, stride_bk, stride_bn};
      for (int s = 0; s < 4; ++s)
        if (candidates[s] != 1) expected[kept++] = candidates[s];
      expected[kept] = stride_cm;
    } else { /* the generic variant: every argument */
      expected[0] = stride_am, expected[1] = stride_ak, expected[2] = stride_bk;
    }
    for (int algo = 0; algo < matmul_get_num_algos(); ++algo) {
      CUresult status = matmul(NULL, c->a, 0x20000, 0x30000, c->m, c->n, c->k, stride_am, stride_ak, stride_bk,
                               stride_bn, stride_cm, 1, algo);
      int launched[3];
      if (status != CUDA_SUCCESS || last_launch_strides(log_path, launched) != 0) {
        printf("FAIL %s, algo %s: status %d, no launch logged\n", c->name, matmul_get_algo_name(algo), (int)status);
        ++failures;
        continue;
      }
      int ok = memcmp(launched, expected, sizeof expected) == 0;
      printf("%s %s, algo %s: launched with %d, %d, %d (expected %d, %d, %d)\n", ok ? "ok" : "FAIL", c->name,
             matmul_get_algo_name(algo), launched[0], launched[1], launched[2], expected[0], expected[1], expected[2]);
      failures += !ok;
    }
  }
  return failures ? 1 : 0;
}
