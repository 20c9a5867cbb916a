/*
 * Several CUDA contexts on the real driver, for run.py: the generated vector add (ADD, from
 * add.h, given with -include and -DADD=symbol) must load its module once per context and
 * run correctly in each, also when threads of two contexts race on the first launch and when
 * a context is destroyed and another created (possibly at the same address).
 * Prints `key=value` lines. Uses the driver through dlopen, like the ttlink runtime.
 */
#include <cuda.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 100003
#define THREADS 8

static CUresult (*init)(unsigned int);
static CUresult (*device_get)(CUdevice *, int);
static CUresult (*ctx_create)(CUcontext *, unsigned int, CUdevice);
static CUresult (*ctx_destroy)(CUcontext);
static CUresult (*ctx_set_current)(CUcontext);
static CUresult (*ctx_synchronize)(void);
static CUresult (*mem_alloc)(CUdeviceptr *, size_t);
static CUresult (*mem_free)(CUdeviceptr);
static CUresult (*copy_to_device)(CUdeviceptr, const void *, size_t);
static CUresult (*copy_to_host)(void *, CUdeviceptr, size_t);

static int resolve(void) {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) return 0;
  *(void **)(&init) = dlsym(library, "cuInit");
  *(void **)(&device_get) = dlsym(library, "cuDeviceGet");
  *(void **)(&ctx_create) = dlsym(library, "cuCtxCreate_v2");
  *(void **)(&ctx_destroy) = dlsym(library, "cuCtxDestroy_v2");
  *(void **)(&ctx_set_current) = dlsym(library, "cuCtxSetCurrent");
  *(void **)(&ctx_synchronize) = dlsym(library, "cuCtxSynchronize");
  *(void **)(&mem_alloc) = dlsym(library, "cuMemAlloc_v2");
  *(void **)(&mem_free) = dlsym(library, "cuMemFree_v2");
  *(void **)(&copy_to_device) = dlsym(library, "cuMemcpyHtoD_v2");
  *(void **)(&copy_to_host) = dlsym(library, "cuMemcpyDtoH_v2");
  return init && device_get && ctx_create && ctx_destroy && ctx_set_current && ctx_synchronize && mem_alloc &&
         mem_free && copy_to_device && copy_to_host;
}

/* Buffers of one context: x[i] = i, y[i] = 2 i + seed. */
struct buffers {
  CUcontext context;
  CUdeviceptr x, y, out[THREADS];
};

static int make_buffers(struct buffers *b, int seed) {
  static float host[N];
  ctx_set_current(b->context);
  if (mem_alloc(&b->x, N * sizeof(float)) || mem_alloc(&b->y, N * sizeof(float))) return 0;
  for (int t = 0; t < THREADS; ++t)
    if (mem_alloc(&b->out[t], N * sizeof(float))) return 0;
  for (int i = 0; i < N; ++i) host[i] = (float)i;
  copy_to_device(b->x, host, sizeof host);
  for (int i = 0; i < N; ++i) host[i] = (float)(2 * i + seed);
  copy_to_device(b->y, host, sizeof host);
  return 1;
}

static void free_buffers(struct buffers *b) {
  mem_free(b->x);
  mem_free(b->y);
  for (int t = 0; t < THREADS; ++t) mem_free(b->out[t]);
}

/* Whether out[slot] holds x + y for `seed`. Call with b->context current. */
static int correct(const struct buffers *b, int slot, int seed) {
  static float host[N];
  if (ctx_synchronize() != CUDA_SUCCESS || copy_to_host(host, b->out[slot], sizeof host) != CUDA_SUCCESS) return 0;
  for (int i = 0; i < N; ++i)
    if (host[i] != (float)(3 * i + seed)) return 0;
  return 1;
}

struct racer {
  struct buffers *buffers;
  int slot;
  pthread_barrier_t *start;
  CUresult status;
};

static void *race(void *arg) {
  struct racer *r = (struct racer *)arg;
  ctx_set_current(r->buffers->context);
  pthread_barrier_wait(r->start);
  r->status = ADD(NULL, r->buffers->x, r->buffers->y, r->buffers->out[r->slot], N);
  return NULL;
}

int main(void) {
  CUdevice device;
  if (!resolve() || init(0) || device_get(&device, 0)) {
    printf("driver=0\n");
    return 1;
  }
  struct buffers a = {0}, b = {0};
  if (ctx_create(&a.context, 0, device) || ctx_create(&b.context, 0, device) || !make_buffers(&a, 1) ||
      !make_buffers(&b, 2)) {
    printf("setup=0\n");
    return 1;
  }

  /* One launch per context: each needs its own module. */
  ctx_set_current(a.context);
  printf("first_a=%d\n", ADD(NULL, a.x, a.y, a.out[0], N));
  printf("first_a_correct=%d\n", correct(&a, 0, 1));
  ctx_set_current(b.context);
  printf("first_b=%d\n", ADD(NULL, b.x, b.y, b.out[0], N));
  printf("first_b_correct=%d\n", correct(&b, 0, 2));

  /* Unload in both, then threads of both contexts race on the first launch. */
  ctx_set_current(a.context);
  UNLOAD_ADD();
  ctx_set_current(b.context);
  UNLOAD_ADD();
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, THREADS);
  struct racer racers[THREADS];
  pthread_t ids[THREADS];
  for (int t = 0; t < THREADS; ++t) {
    racers[t] = (struct racer){t % 2 ? &b : &a, t, &start, CUDA_ERROR_UNKNOWN};
    pthread_create(&ids[t], NULL, race, &racers[t]);
  }
  int race_failures = 0;
  for (int t = 0; t < THREADS; ++t) {
    pthread_join(ids[t], NULL);
    ctx_set_current(racers[t].buffers->context);
    race_failures += racers[t].status != CUDA_SUCCESS || !correct(racers[t].buffers, t, t % 2 ? 2 : 1);
  }
  printf("race_failures=%d\n", race_failures);

  /* Destroy a context and create another: the new one must get its own module. */
  ctx_set_current(a.context);
  free_buffers(&a);
  CUcontext old = a.context;
  ctx_destroy(a.context);
  struct buffers c = {0};
  if (ctx_create(&c.context, 0, device) || !make_buffers(&c, 3)) {
    printf("recreate=0\n");
    return 1;
  }
  printf("same_address=%d\n", c.context == old);
  printf("recreated=%d\n", ADD(NULL, c.x, c.y, c.out[0], N));
  printf("recreated_correct=%d\n", correct(&c, 0, 3));
  free_buffers(&c);
  ctx_set_current(b.context);
  free_buffers(&b);
  ctx_destroy(c.context);
  ctx_destroy(b.context);
  return 0;
}
