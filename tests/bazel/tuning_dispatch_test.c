/* The example matmul linked with `tuning = [examples/matmul_record.bzl]` (//tests/bazel:matmul_tuned):
 * matmul_autotuned runs the config the record chose for the call's key, and the nearest key's
 * for a key it lacks. Runs against the recording stand-in libcuda (argv[1]); the threads per
 * block of the last launch in its log tell the algo (4 warps: 128, 8 warps: 256), the grid
 * its block sizes (BLOCK_SIZE_M x BLOCK_SIZE_N tiles). */
#include <cuda.h>
#include <stdio.h>
#include <string.h>

#include "tests/bazel/matmul_tuned.h"
#include "tests/bazel/standin_session.h"

/* The block x and grid x of the last launch in the log. */
static int last_launch(const char *path, unsigned *block, unsigned *grid) {
  FILE *log = fopen(path, "r");
  if (log == NULL) return -1;
  char line[8192], last[8192] = "";
  while (fgets(line, sizeof line, log) != NULL)
    if (strncmp(line, "launch ", 7) == 0) snprintf(last, sizeof last, "%s", line);
  fclose(log);
  const char *found_grid = strstr(last, " grid="), *found_block = strstr(last, " block=");
  if (found_grid == NULL || found_block == NULL) return -1;
  return sscanf(found_grid, " grid=%u", grid) == 1 && sscanf(found_block, " block=%u", block) == 1 ? 0 : -1;
}

struct tuned_case {
  const char *name;
  int m, n, k, b_col;
  unsigned block, tile_m, tile_n; /* what the chosen config launches with */
};

int main(int argc, char **argv) {
  char log_path[PATH_MAX];
  if (standin_session_open(argc, argv, "9.0", log_path) != 0) return 2;

  const struct tuned_case cases[] = {
      {"x @ W.T, M 16 (recorded: 64x128x32 w4)", 16, 4096, 4096, 1, 128, 64, 128},
      {"x @ W.T, M 4096 (recorded: 128x256x64 w8)", 4096, 4096, 4096, 1, 256, 128, 256},
      {"A row, B row, 4001 (recorded: 128x128x32 w4)", 4001, 4001, 4001, 0, 128, 128, 128},
      {"x @ W.T, M 48 (not recorded: nearest M 32 or 64, 64x128x32 w4)", 48, 4096, 4096, 1, 128, 64, 128},
      {"A row, B row, 6144 (not recorded: nearest 8192, 128x256x64 w8)", 6144, 6144, 6144, 0, 256, 128, 256},
  };
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    const struct tuned_case *c = &cases[i];
    int stride_bk = c->b_col ? 1 : c->n, stride_bn = c->b_col ? c->k : 1;
    CUresult status =
        matmul_autotuned(NULL, 0x10000, 0x20000, 0x30000, c->m, c->n, c->k, c->k, 1, stride_bk, stride_bn, c->n, 1);
    unsigned block = 0, grid = 0;
    unsigned tiles = ((unsigned)c->m + c->tile_m - 1) / c->tile_m * (((unsigned)c->n + c->tile_n - 1) / c->tile_n);
    int ok = status == CUDA_SUCCESS && last_launch(log_path, &block, &grid) == 0 && block == c->block && grid == tiles;
    printf("%s %s: status %d, block %u, grid %u (expected block %u, grid %u)\n", ok ? "ok" : "FAIL", c->name,
           (int)status, block, grid, c->block, tiles);
    failures += !ok;
  }
  return failures ? 1 : 0;
}
