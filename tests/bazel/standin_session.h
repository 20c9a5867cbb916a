/* The set-up of the C tests that run generated libraries against the recording stand-in
 * libcuda (tests/runtime/standin_libcuda.c) instead of a GPU. */
#ifndef RULES_TRITON_TESTS_BAZEL_STANDIN_SESSION_H_
#define RULES_TRITON_TESTS_BAZEL_STANDIN_SESSION_H_

#include <cuda.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* Points the runtime at the stand-in given as the test's only argument, with its log in
 * TEST_TMPDIR (written to `log_path`) and one device of compute capability `capability`
 * (e.g. "9.0"), and makes a context on that device current, since the runtime launches in the
 * current context. The stand-in reads its STANDIN_* variables once, on first use (here): set
 * any others before calling this. Returns 0, or 2 after saying why. */
static int standin_session_open(int argc, char **argv, const char *capability, char log_path[PATH_MAX]) {
  char standin_path[PATH_MAX];
  if (argc != 2 || realpath(argv[1], standin_path) == NULL) {
    fprintf(stderr, "usage: %s STANDIN_LIBCUDA\n", argv[0]);
    return 2;
  }
  snprintf(log_path, PATH_MAX, "%s/standin.log", getenv("TEST_TMPDIR"));
  setenv("TTLINK_LIBCUDA_PATH", standin_path, 1);
  setenv("STANDIN_LOG", log_path, 1);
  setenv("STANDIN_DEVICES", capability, 1);
  void *standin = dlopen(standin_path, RTLD_NOW | RTLD_LOCAL);
  if (standin == NULL) {
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  CUcontext (*context_create)(int);
  CUresult (*set_current)(CUcontext);
  /* Casts through void * keep -Wpedantic quiet about object-to-function pointer conversion. */
  *(void **)(&context_create) = dlsym(standin, "standin_context_create");
  *(void **)(&set_current) = dlsym(standin, "cuCtxSetCurrent");
  set_current(context_create(0));
  return 0;
}

#endif /* RULES_TRITON_TESTS_BAZEL_STANDIN_SESSION_H_ */
