/* Three libraries link kernels that share their parameters and their API name `add`:
 * //tests/bazel/v1:kernels links add_kernel with the prefix v1_, //tests/bazel/v3:kernels
 * sub_kernel with v3_, //tests/bazel:add_short add_kernel again without a prefix. Each entry
 * point must launch its own kernel, and the test must link at all: every object of the
 * libraries is linked (alwayslink), so two copies of one variant symbol would clash. Runs
 * against the recording stand-in libcuda (argv[1]), which logs every launch: no GPU needed. */
#include <cuda.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triton/add_short.h"
#include "tests/bazel/v1/kernels.h"
#include "tests/bazel/v3/kernels.h"

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
  char standin_path[PATH_MAX];
  if (argc != 2 || realpath(argv[1], standin_path) == NULL) {
    fprintf(stderr, "usage: prefix_test STANDIN_LIBCUDA\n");
    return 2;
  }
  char log_path[PATH_MAX];
  snprintf(log_path, sizeof log_path, "%s/standin.log", getenv("TEST_TMPDIR"));
  /* The runtime and the stand-in read these on first use. */
  setenv("TTLINK_LIBCUDA_PATH", standin_path, 1);
  setenv("STANDIN_LOG", log_path, 1);
  setenv("STANDIN_DEVICES", "8.0", 1);

  /* The runtime launches in the current context: make one on the stand-in's device 0. */
  void *standin = dlopen(standin_path, RTLD_NOW | RTLD_LOCAL);
  if (standin == NULL) {
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  CUcontext (*context_create)(int);
  CUresult (*set_current)(CUcontext);
  *(void **)(&context_create) = dlsym(standin, "standin_context_create");
  *(void **)(&set_current) = dlsym(standin, "cuCtxSetCurrent");
  set_current(context_create(0));

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
