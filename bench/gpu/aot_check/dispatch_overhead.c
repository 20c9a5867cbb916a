/*
 * Dispatcher overhead of a ttlink entry point on the CPU: the entry point against a bare
 * cuLaunchKernel, both into the stand-in libcuda (tests/runtime/standin_libcuda.c), whose
 * functions do next to nothing. Built and run by dispatch_overhead.sh.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CALLS 2000000
#define ROUNDS 15

typedef CUresult (*launch_fn)(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int,
                              unsigned int, unsigned int, CUstream, void **, void **);

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  void *standin = dlopen(getenv("TTLINK_LIBCUDA_PATH"), RTLD_NOW | RTLD_LOCAL);
  if (standin == NULL) return 1;
  CUcontext (*create)(int) = (CUcontext(*)(int))dlsym(standin, "standin_context_create");
  CUresult (*set_current)(CUcontext) = (CUresult(*)(CUcontext))dlsym(standin, "cuCtxSetCurrent");
  CUresult (*load)(CUmodule *, const void *) = (CUresult(*)(CUmodule *, const void *))dlsym(standin, "cuModuleLoadData");
  CUresult (*get)(CUfunction *, CUmodule, const char *) =
      (CUresult(*)(CUfunction *, CUmodule, const char *))dlsym(standin, "cuModuleGetFunction");
  launch_fn launch = (launch_fn)dlsym(standin, "cuLaunchKernel");
  set_current(create(0));

  static const char image[] = "// stand-in image\n.target sm_90\n";
  CUmodule module;
  CUfunction function;
  load(&module, image);
  get(&function, module, "add_kernel");
  CUdeviceptr pointer = 0;
  int32_t n = 1024;
  void *args[] = {&pointer, &pointer, &pointer, &n, &pointer, &pointer};
  if (ADD(NULL, 0, 0, 0, n) != CUDA_SUCCESS) return 1; /* loads the module */

  double overhead[ROUNDS], entry[ROUNDS], bare[ROUNDS];
  for (int r = 0; r < ROUNDS; ++r) {
    double t0 = now_ns();
    for (int i = 0; i < CALLS; ++i) ADD(NULL, 0, 0, 0, n);
    double t1 = now_ns();
    for (int i = 0; i < CALLS; ++i) launch(function, 1, 1, 1, 128, 1, 1, 0, NULL, args, NULL);
    double t2 = now_ns();
    entry[r] = (t1 - t0) / CALLS;
    bare[r] = (t2 - t1) / CALLS;
    overhead[r] = entry[r] - bare[r];
  }
  qsort(overhead, ROUNDS, sizeof overhead[0], by_value);
  qsort(entry, ROUNDS, sizeof entry[0], by_value);
  qsort(bare, ROUNDS, sizeof bare[0], by_value);
  printf("median of %d rounds of %d calls: entry point %.1f ns, bare cuLaunchKernel %.1f ns, overhead %.1f ns\n",
         ROUNDS, CALLS, entry[ROUNDS / 2], bare[ROUNDS / 2], overhead[ROUNDS / 2]);
  return 0;
}
