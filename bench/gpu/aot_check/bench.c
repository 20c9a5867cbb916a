/*
 * Launch loops for run.py (loaded with ctypes): launch cost of a ttlink entry point against
 * raw cuLaunchKernel on the same cubin, and a first-launch race on the real driver.
 * The driver is opened with dlopen, like the ttlink runtime does.
 */
#define _POSIX_C_SOURCE 200809L
#include <cuda.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

typedef CUresult (*add_entry)(CUstream stream, CUdeviceptr x, CUdeviceptr y, CUdeviceptr out, int32_t n);

static void *driver(const char *name) {
  static void *library;
  if (library == NULL) library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  return library != NULL ? dlsym(library, name) : NULL;
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static CUresult synchronize(CUstream stream) {
  CUresult (*sync)(CUstream) = (CUresult(*)(CUstream))driver("cuStreamSynchronize");
  return sync(stream);
}

/* Microseconds per call of `entry` over `iterations` back-to-back launches. */
double bench_entry_us(add_entry entry, CUstream stream, CUdeviceptr x, CUdeviceptr y, CUdeviceptr out, int32_t n,
                      int iterations, int *status) {
  CUresult first_error = synchronize(stream);
  double start = now_us();
  for (int i = 0; i < iterations; ++i) {
    CUresult result = entry(stream, x, y, out, n);
    if (first_error == CUDA_SUCCESS) first_error = result;
  }
  CUresult result = synchronize(stream);
  double elapsed = now_us() - start;
  *status = (int)(first_error != CUDA_SUCCESS ? first_error : result);
  return elapsed / iterations;
}

/* The same loop with cuLaunchKernel called directly on a module loaded from `cubin`. */
double bench_raw_us(const void *cubin, const char *name, unsigned int block, int hidden, CUstream stream, CUdeviceptr x,
                    CUdeviceptr y, CUdeviceptr out, int32_t n, int iterations, int *status) {
  CUresult (*load)(CUmodule *, const void *) = (CUresult(*)(CUmodule *, const void *))driver("cuModuleLoadData");
  CUresult (*get)(CUfunction *, CUmodule, const char *) =
      (CUresult(*)(CUfunction *, CUmodule, const char *))driver("cuModuleGetFunction");
  CUresult (*unload)(CUmodule) = (CUresult(*)(CUmodule))driver("cuModuleUnload");
  CUresult (*launch)(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int,
                     unsigned int, CUstream, void **, void **) =
      (CUresult(*)(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int,
                   unsigned int, CUstream, void **, void **))driver("cuLaunchKernel");
  CUmodule module;
  CUfunction function;
  CUresult first_error = load(&module, cubin);
  if (first_error != CUDA_SUCCESS) {
    *status = (int)first_error;
    return 0.0;
  }
  first_error = get(&function, module, name);
  CUdeviceptr scratch = 0;
  void *args[8] = {&x, &y, &out, &n};
  for (int i = 0; i < hidden && i < 4; ++i) args[4 + i] = &scratch;
  unsigned int grid = (unsigned int)((n + 1023) / 1024);
  synchronize(stream);
  double start = now_us();
  for (int i = 0; i < iterations && first_error == CUDA_SUCCESS; ++i) {
    first_error = launch(function, grid, 1, 1, block, 1, 1, 0, stream, args, NULL);
  }
  CUresult result = synchronize(stream);
  double elapsed = now_us() - start;
  unload(module);
  *status = (int)(first_error != CUDA_SUCCESS ? first_error : result);
  return elapsed / iterations;
}

struct racer {
  add_entry entry;
  CUcontext context;
  CUstream stream;
  CUdeviceptr x, y, out;
  int32_t n;
  pthread_barrier_t *start;
  CUresult status;
};

static void *race_one(void *arg) {
  struct racer *racer = (struct racer *)arg;
  CUresult (*set_current)(CUcontext) = (CUresult(*)(CUcontext))driver("cuCtxSetCurrent");
  set_current(racer->context);
  pthread_barrier_wait(racer->start);
  racer->status = racer->entry(racer->stream, racer->x, racer->y, racer->out, racer->n);
  if (racer->status == CUDA_SUCCESS) racer->status = synchronize(racer->stream);
  return NULL;
}

/* `threads` threads (<= 64) launch `entry` at once, each into its own output; returns failures. */
int bench_race(add_entry entry, CUstream stream, CUdeviceptr x, CUdeviceptr y, const CUdeviceptr *outs, int threads,
               int32_t n) {
  CUresult (*get_current)(CUcontext *) = (CUresult(*)(CUcontext *))driver("cuCtxGetCurrent");
  CUcontext context;
  get_current(&context);
  struct racer racers[64];
  pthread_t ids[64];
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned int)threads);
  for (int i = 0; i < threads; ++i) {
    racers[i] = (struct racer){entry, context, stream, x, y, outs[i], n, &start, CUDA_SUCCESS};
    pthread_create(&ids[i], NULL, race_one, &racers[i]);
  }
  int failures = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(ids[i], NULL);
    failures += racers[i].status != CUDA_SUCCESS;
  }
  pthread_barrier_destroy(&start);
  return failures;
}
