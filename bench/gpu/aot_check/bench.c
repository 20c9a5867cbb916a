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

/* One way to launch the vector add: through the ttlink entry point, or raw on `function`. */
struct launcher {
  add_entry entry; /* NULL: call cuLaunchKernel on `function` directly */
  CUfunction function;
  CUresult (*launch)(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int,
                     unsigned int, CUstream, void **, void **);
  unsigned int block;
  void **args;
};

static CUresult launch_once(const struct launcher *l, CUstream stream, CUdeviceptr x, CUdeviceptr y, CUdeviceptr out,
                            int32_t n) {
  if (l->entry != NULL) return l->entry(stream, x, y, out, n);
  return l->launch(l->function, (unsigned int)((n + 1023) / 1024), 1, 1, l->block, 1, 1, 0, stream, l->args, NULL);
}

/*
 * Microseconds per launch, two ways: `throughput` over `batch * rounds` back-to-back launches
 * and a final synchronisation (bounded by the GPU's launch rate), and `enqueue`, the host
 * time of batches of `batch` launches with untimed synchronisation between them (the cost of
 * the call itself, the queue never full).
 */
static CUresult run_loops(const struct launcher *l, CUstream stream, CUdeviceptr x, CUdeviceptr y, CUdeviceptr out,
                          int32_t n, int batch, int rounds, double *throughput, double *enqueue) {
  CUresult status = synchronize(stream);
  double start = now_us();
  for (int i = 0; i < batch * rounds && status == CUDA_SUCCESS; ++i) status = launch_once(l, stream, x, y, out, n);
  if (status == CUDA_SUCCESS) status = synchronize(stream);
  *throughput = (now_us() - start) / (batch * rounds);
  double queued = 0.0;
  for (int r = 0; r < rounds && status == CUDA_SUCCESS; ++r) {
    double batch_start = now_us();
    for (int i = 0; i < batch && status == CUDA_SUCCESS; ++i) status = launch_once(l, stream, x, y, out, n);
    queued += now_us() - batch_start;
    if (status == CUDA_SUCCESS) status = synchronize(stream);
  }
  *enqueue = queued / (batch * rounds);
  return status;
}

/* Through the ttlink entry point. */
int bench_entry(add_entry entry, CUstream stream, CUdeviceptr x, CUdeviceptr y, CUdeviceptr out, int32_t n, int batch,
                int rounds, double *throughput, double *enqueue) {
  struct launcher l = {entry, NULL, NULL, 0, NULL};
  return (int)run_loops(&l, stream, x, y, out, n, batch, rounds, throughput, enqueue);
}

/* With cuLaunchKernel called directly on a module loaded from `cubin`. */
int bench_raw(const void *cubin, const char *name, unsigned int block, int hidden, CUstream stream, CUdeviceptr x,
              CUdeviceptr y, CUdeviceptr out, int32_t n, int batch, int rounds, double *throughput, double *enqueue) {
  CUresult (*load)(CUmodule *, const void *) = (CUresult(*)(CUmodule *, const void *))driver("cuModuleLoadData");
  CUresult (*get)(CUfunction *, CUmodule, const char *) =
      (CUresult(*)(CUfunction *, CUmodule, const char *))driver("cuModuleGetFunction");
  CUresult (*unload)(CUmodule) = (CUresult(*)(CUmodule))driver("cuModuleUnload");
  struct launcher l = {NULL, NULL, NULL, block, NULL};
  *(void **)(&l.launch) = driver("cuLaunchKernel");
  CUmodule module;
  CUresult status = load(&module, cubin);
  if (status != CUDA_SUCCESS) return (int)status;
  status = get(&l.function, module, name);
  CUdeviceptr scratch = 0;
  void *args[8] = {&x, &y, &out, &n};
  for (int i = 0; i < hidden && i < 4; ++i) args[4 + i] = &scratch;
  l.args = args;
  if (status == CUDA_SUCCESS) status = run_loops(&l, stream, x, y, out, n, batch, rounds, throughput, enqueue);
  unload(module);
  return (int)status;
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
