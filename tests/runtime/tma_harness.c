/*
 * Drives the hand-written variants of fixtures/tma_variants.c (tensor descriptors, scratch,
 * launch attributes) against the stand-in libcuda (standin_libcuda.c). Prints `key=value`
 * lines, among them `outstanding`: the stand-in's scratch allocations not freed at the end.
 *
 * usage: tma_harness SCENARIO [ARG...]
 *   tma A_BASE A_SHAPE0 A_SHAPE1 A_STRIDE0 A_STRIDE1 A_PADDING B_BASE ... B_PADDING M GRID_X
 *   plain N | scratch N | huge_scratch N | cooperative N | cluster16 GRID_X
 *   race THREADS         THREADS threads in two contexts (devices 0 and 1) launch tma_kernel
 *   hook                 a launch through a scratch allocator hook, then one through the default
 *   hook_misaligned      a hook that returns memory aligned to 16 bytes only
 *   hook_null            a hook that returns 0 and CUDA_SUCCESS
 *   hook_fails_second    a hook whose second allocation fails
 *   hook_switch          a hook that replaces the allocator while it allocates
 *   hook_race THREADS    THREADS threads launch while the allocator keeps changing
 *   unload_race ROUNDS   4 threads launch while tma_kernel is unloaded and loaded again
 *   hook_half            ttlink_set_scratch_allocator with only one of the two functions
 */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tma_variants.h"
#include "ttlink_runtime.h"

static CUcontext (*context_create)(int device);
static CUresult (*set_current)(CUcontext context);
static int (*scratch_outstanding)(void);

static CUstream const STREAM = (CUstream)0x5a5a;

/* A launch every device of the tests takes: a is fp16 1000 x 777 in rows of 784, b 300 x 500
 * bytes in rows of 512. */
static CUresult launch_valid(void) {
  return tma_kernel(STREAM, 0x10000, 1000, 777, 784, 1, 0, 0x20000, 300, 500, 512, 1, 0, 5, 10);
}

static CUresult launch_from_arguments(char **values) {
  long long v[14];
  for (int i = 0; i < 14; ++i) v[i] = strtoll(values[i], NULL, 0);
  return tma_kernel(STREAM, (CUdeviceptr)v[0], v[1], v[2], v[3], v[4], (int32_t)v[5], (CUdeviceptr)v[6], v[7], v[8],
                    v[9], v[10], (int32_t)v[11], (int32_t)v[12], v[13]);
}

/* A thread that launches `launches` times, or while `*running` is not 0 if `launches` is -1;
 * then, unless it ran until told, counts itself out of `*running` (when not NULL). */
struct racer {
  pthread_barrier_t *start;
  CUcontext context;
  int launches;
  int failures;
  int *running; /* atomic */
};

static void *race_thread(void *arg) {
  struct racer *racer = (struct racer *)arg;
  set_current(racer->context);
  pthread_barrier_wait(racer->start);
  if (racer->launches < 0) {
    while (__atomic_load_n(racer->running, __ATOMIC_ACQUIRE)) racer->failures += launch_valid() != CUDA_SUCCESS;
    return NULL;
  }
  for (int i = 0; i < racer->launches; ++i) racer->failures += launch_valid() != CUDA_SUCCESS;
  if (racer->running != NULL) __atomic_sub_fetch(racer->running, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void race(int threads) {
  CUcontext contexts[2] = {context_create(0), context_create(1)};
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads);
  struct racer *racers = (struct racer *)calloc((size_t)threads, sizeof *racers);
  pthread_t *ids = (pthread_t *)calloc((size_t)threads, sizeof *ids);
  for (int i = 0; i < threads; ++i) {
    racers[i].start = &start;
    racers[i].context = contexts[i % 2];
    racers[i].launches = 4;
    pthread_create(&ids[i], NULL, race_thread, &racers[i]);
  }
  int failures = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(ids[i], NULL);
    failures += racers[i].failures;
  }
  printf("failures=%d\n", failures);
  pthread_barrier_destroy(&start);
  free(racers);
  free(ids);
}

/* 4 threads launch tma_kernel in one context until ROUNDS unloads (every other one followed
 * by a load) are done: tensor maps, scratch and cuLaunchKernelEx all happen while the launch
 * holds the function, so no launch may use an unloaded module's function. */
static void unload_race(int rounds) {
  CUcontext context = context_create(0);
  set_current(context);
  load_tma_kernel();
  enum { THREADS = 4 };
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, THREADS + 1);
  int running = 1; /* atomic: launch until this is 0 */
  struct racer racers[THREADS];
  pthread_t ids[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    racers[i] = (struct racer){&start, context, -1, 0, &running};
    pthread_create(&ids[i], NULL, race_thread, &racers[i]);
  }
  pthread_barrier_wait(&start);
  for (int round = 0; round < rounds; ++round) {
    usleep(100); /* time for the threads to launch what is loaded */
    unload_tma_kernel();
    if (round % 2 == 1) load_tma_kernel();
  }
  __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
  int failures = 0;
  for (int i = 0; i < THREADS; ++i) {
    pthread_join(ids[i], NULL);
    failures += racers[i].failures;
  }
  printf("failures=%d\n", failures);
  pthread_barrier_destroy(&start);
}

/* A scratch allocator hook that hands out addresses 4096 apart from `base`, `offset` bytes
 * past a 4 KiB boundary (0 if `null`), fails its allocation number `fail_at` (-1: none),
 * makes `switch_to` the allocator when it allocates (if not NULL), and checks that each
 * allocation is released once, to it, with its size and on STREAM. */
struct hook {
  pthread_mutex_t lock;
  CUdeviceptr base;
  size_t offset;
  int null, fail_at;
  struct hook *switch_to;
  int allocs, releases, mismatches;
  CUdeviceptr pointers[4096];
  size_t bytes[4096];
};

static struct hook *hook_create(CUdeviceptr base, size_t offset, int null, int fail_at) {
  struct hook *hook = (struct hook *)calloc(1, sizeof *hook);
  pthread_mutex_init(&hook->lock, NULL);
  hook->base = base;
  hook->offset = offset;
  hook->null = null;
  hook->fail_at = fail_at;
  return hook;
}

static void hook_destroy(struct hook *hook) {
  pthread_mutex_destroy(&hook->lock);
  free(hook);
}

static CUresult hook_release(CUdeviceptr pointer, size_t bytes, CUstream stream, void *user);

static CUresult hook_alloc(CUdeviceptr *pointer, size_t bytes, CUstream stream, void *user) {
  struct hook *hook = (struct hook *)user;
  pthread_mutex_lock(&hook->lock);
  int slot = hook->allocs++;
  CUresult status = slot == hook->fail_at || slot >= 4096 ? CUDA_ERROR_OUT_OF_MEMORY : CUDA_SUCCESS;
  if (status == CUDA_SUCCESS) {
    hook->pointers[slot] = hook->null ? 0 : hook->base + 4096u * (unsigned)slot + hook->offset;
    hook->bytes[slot] = bytes;
    *pointer = hook->pointers[slot];
  }
  hook->mismatches += stream != STREAM;
  pthread_mutex_unlock(&hook->lock);
  if (hook->switch_to != NULL) ttlink_set_scratch_allocator(hook_alloc, hook_release, hook->switch_to);
  return status;
}

static CUresult hook_release(CUdeviceptr pointer, size_t bytes, CUstream stream, void *user) {
  struct hook *hook = (struct hook *)user;
  pthread_mutex_lock(&hook->lock);
  int found = 0;
  for (int i = 0; i < hook->allocs && i < 4096 && !found; ++i) {
    if (hook->pointers[i] == pointer && hook->bytes[i] == bytes) {
      hook->pointers[i] = 0; /* released: a second release would not find it */
      found = 1;
    }
  }
  hook->mismatches += !found || stream != STREAM;
  hook->releases++;
  pthread_mutex_unlock(&hook->lock);
  return CUDA_SUCCESS;
}

/* One launch through the hook, then one through the default after resetting it. */
static void run_hook(size_t offset, int null, int fail_at) {
  struct hook *hook = hook_create(0x900000000ull, offset, null, fail_at);
  printf("set=%d\n", ttlink_set_scratch_allocator(hook_alloc, hook_release, hook));
  printf("status=%d\n", launch_valid());
  for (int i = 0; i < hook->allocs && i < 4096; ++i) printf("hook_alloc_bytes_%d=%zu\n", i, hook->bytes[i]);
  printf("hook_allocs=%d\nhook_releases=%d\nhook_mismatches=%d\n", hook->allocs, hook->releases, hook->mismatches);
  printf("reset=%d\n", ttlink_set_scratch_allocator(NULL, NULL, NULL));
  printf("default_status=%d\n", launch_valid());
  printf("hook_allocs_after_reset=%d\n", hook->allocs);
  hook_destroy(hook);
}

/* Hook 0 makes hook 1 the allocator as it allocates: the launch under way still allocates all
 * its scratch from hook 0 and releases it there; the next launch uses hook 1. */
static void hook_switch(void) {
  struct hook *hooks[2] = {hook_create(0x900000000ull, 0, 0, -1), hook_create(0xa00000000ull, 0, 0, -1)};
  hooks[0]->switch_to = hooks[1];
  ttlink_set_scratch_allocator(hook_alloc, hook_release, hooks[0]);
  printf("first=%d\n", launch_valid());
  printf("second=%d\n", launch_valid());
  ttlink_set_scratch_allocator(NULL, NULL, NULL);
  for (int h = 0; h < 2; ++h) {
    printf("hook%d_allocs=%d\nhook%d_releases=%d\n", h, hooks[h]->allocs, h, hooks[h]->releases);
    printf("hook%d_mismatches=%d\n", h, hooks[h]->mismatches);
    hook_destroy(hooks[h]);
  }
}

/* THREADS threads launch 8 times each while this one keeps switching the allocator between
 * two hooks and the default: every allocation must come back to the allocator that made it. */
static void hook_race(int threads) {
  struct hook *hooks[2] = {hook_create(0x900000000ull, 0, 0, -1), hook_create(0xa00000000ull, 0, 0, -1)};
  CUcontext context = context_create(0);
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
  struct racer *racers = (struct racer *)calloc((size_t)threads, sizeof *racers);
  pthread_t *ids = (pthread_t *)calloc((size_t)threads, sizeof *ids);
  int running = threads;
  for (int i = 0; i < threads; ++i) {
    racers[i] = (struct racer){&start, context, 8, 0, &running};
    pthread_create(&ids[i], NULL, race_thread, &racers[i]);
  }
  pthread_barrier_wait(&start);
  for (int round = 0; __atomic_load_n(&running, __ATOMIC_ACQUIRE) > 0; ++round) {
    struct hook *hook = round % 3 < 2 ? hooks[round % 3] : NULL;
    ttlink_set_scratch_allocator(hook != NULL ? hook_alloc : NULL, hook != NULL ? hook_release : NULL, hook);
    sched_yield();
  }
  int failures = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(ids[i], NULL);
    failures += racers[i].failures;
  }
  ttlink_set_scratch_allocator(NULL, NULL, NULL);
  printf("failures=%d\n", failures);
  for (int h = 0; h < 2; ++h) {
    printf("hook%d_allocs=%d\nhook%d_releases=%d\n", h, hooks[h]->allocs, h, hooks[h]->releases);
    printf("hook%d_mismatches=%d\n", h, hooks[h]->mismatches);
    hook_destroy(hooks[h]);
  }
  pthread_barrier_destroy(&start);
  free(racers);
  free(ids);
}

int main(int argc, char **argv) {
  const char *path = getenv("TTLINK_LIBCUDA_PATH");
  void *standin = path != NULL ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
  if (standin == NULL) {
    fprintf(stderr, "TTLINK_LIBCUDA_PATH must name the stand-in libcuda\n");
    return 2;
  }
  *(void **)(&context_create) = dlsym(standin, "standin_context_create");
  *(void **)(&set_current) = dlsym(standin, "cuCtxSetCurrent");
  *(void **)(&scratch_outstanding) = dlsym(standin, "standin_scratch_outstanding");
  const char *scenario = argc > 1 ? argv[1] : "";
  int arg = argc > 2 ? atoi(argv[2]) : 0;
  if (strcmp(scenario, "race") == 0) {
    race(arg);
  } else if (strcmp(scenario, "hook_race") == 0) {
    hook_race(arg);
  } else if (strcmp(scenario, "unload_race") == 0) {
    unload_race(arg);
  } else if (strcmp(scenario, "hook_switch") == 0) {
    set_current(context_create(0));
    hook_switch();
  } else {
    set_current(context_create(0));
    if (strcmp(scenario, "tma") == 0 && argc == 16) {
      printf("status=%d\n", launch_from_arguments(argv + 2));
    } else if (strcmp(scenario, "plain") == 0) {
      printf("status=%d\n", plain_kernel(STREAM, 0x7000, arg));
    } else if (strcmp(scenario, "scratch") == 0) {
      printf("status=%d\n", scratch_kernel(STREAM, 0x7000, arg));
    } else if (strcmp(scenario, "huge_scratch") == 0) {
      printf("status=%d\n", huge_scratch_kernel(STREAM, 0x7000, arg));
    } else if (strcmp(scenario, "cooperative") == 0) {
      printf("status=%d\n", cooperative_kernel(STREAM, 0x7000, arg));
    } else if (strcmp(scenario, "cluster16") == 0) {
      printf("status=%d\n", cluster16_kernel(STREAM, 0x7000, strtoll(argv[2], NULL, 0)));
    } else if (strcmp(scenario, "hook") == 0) {
      run_hook(0, 0, -1);
    } else if (strcmp(scenario, "hook_misaligned") == 0) {
      run_hook(16, 0, -1);
    } else if (strcmp(scenario, "hook_null") == 0) {
      run_hook(0, 1, -1);
    } else if (strcmp(scenario, "hook_fails_second") == 0) {
      run_hook(0, 0, 1);
    } else if (strcmp(scenario, "hook_half") == 0) {
      printf("set=%d\n", ttlink_set_scratch_allocator(hook_alloc, NULL, NULL));
      printf("status=%d\n", launch_valid());
    } else {
      fprintf(stderr, "unknown scenario '%s' or wrong arguments\n", scenario);
      return 2;
    }
  }
  printf("outstanding=%d\n", scratch_outstanding != NULL ? scratch_outstanding() : -1);
  return 0;
}
