/* Three libraries link kernels that share their parameters and their API name `add`:
 * //tests/bazel/v1:kernels links add_kernel with the prefix v1_, //tests/bazel/v3:kernels
 * sub_kernel with v3_, //tests/bazel:add_short add_kernel again without a prefix. Each entry
 * point must launch its own kernel, and the test must link at all: every object of the
 * libraries is linked (alwayslink), so two copies of one variant symbol would clash. Runs
 * against the recording stand-in libcuda (argv[1]), which logs every launch: no GPU needed. */
#include <cuda.h>
#include <stdio.h>
#include <string.h>

#include "triton/add_short.h"
#include "tests/bazel/v1/kernels.h"
#include "tests/bazel/v3/kernels.h"
#include "tests/bazel/standin_session.h"

/* Reads the kernel names of the launches logged in `path`, in order, into `names`. */
static int launched_kernels(const char *path, char names[][128], int capacity) {
  FILE *log = fopen(path, "r");
  if (log == NULL) return 0;
  char line[4096];
  int count = 0;
  while (count < capacity && fgets(line, sizeof line, log) != NULL) {
    const char *name = strstr(line, " name=");
    if (strncmp(line, "launch ", 7) == 0 && name != NULL) sscanf(name, " name=%127s", names[count++]);
  }
  fclose(log);
  return count;
}

int main(int argc, char **argv) {
  char log_path[PATH_MAX];
  if (standin_session_open(argc, argv, "8.0", log_path) != 0) return 2;

  int failures = 0;
  CUresult added = v1_add_default(NULL, 0x10000, 0x20000, 0x30000, 4096);
  CUresult subtracted = v3_add_default(NULL, 0x10000, 0x20000, 0x30000, 4096);
  CUresult unprefixed = add_default(NULL, 0x10000, 0x20000, 0x30000, 4096);
  if (added != CUDA_SUCCESS || subtracted != CUDA_SUCCESS || unprefixed != CUDA_SUCCESS) {
    printf("v1_add_default returned %d, v3_add_default %d, add_default %d\n", (int)added, (int)subtracted,
           (int)unprefixed);
    ++failures;
  }
  const char *calls[] = {"v1_add_default", "v3_add_default", "add_default"};
  const char *expected[] = {"add_kernel", "sub_kernel", "add_kernel"};
  char names[4][128];
  int launches = launched_kernels(log_path, names, 4);
  if (launches != 3) {
    printf("expected 3 launches, the log has %d\n", launches);
    return 1;
  }
  for (int i = 0; i < 3; ++i) {
    printf("%s launched %s\n", calls[i], names[i]);
    failures += strcmp(names[i], expected[i]) != 0;
  }
  return failures ? 1 : 0;
}
