/*
 * Drives generated kernel entry points against the stand-in libcuda (see standin_libcuda.c).
 * Built by test_runtime.py with -include of the generated headers and the entry names as
 * macros: EVERY (every scalar type; cuda:80, 86, 90 + PTX), EVERY_NO_PTX (same, no PTX),
 * DIVIDING (same kernel, a grid dividing by the arguments i32 and i16 - 1), GRID_OF_ARGS
 * (same kernel, the grid given by the arguments i64, i32, u32) and BIG (needs > 48 KiB of
 * shared memory); and the dispatcher `reached` of the same kernel (cuda:90), whose variants
 * are one specialised on out_ptr:16 and unit=1 and the generic one. Prints `key=value`
 * lines; the tests read them.
 *
 * usage: harness SCENARIO [ARG...]   (scenarios: launch, choose N, race THREADS, reload,
 *                                     unload_race THREADS ROUNDS, grid_limits, big, divide,
 *                                     no_context, twice, dispatch)
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static CUcontext (*context_create)(int device);
static void (*context_destroy)(CUcontext context);
static CUresult (*set_current)(CUcontext context);

static CUstream const STREAM = (CUstream)0x5a5a;

static CUresult launch_every(int32_t n) {
  uint16_t f16_one = 0x3c00, bf16_one = 0x3f80;
  return EVERY(STREAM, 0x7000, n, 1, -2, 0x1234, -5, 0x0102030405060708LL, 0xab, 0xbeef, 0xdeadbeefu,
               0x1122334455667788ULL, f16_one, bf16_one, 1.5f, 2.5);
}

static CUresult launch_every_no_ptx(void) {
  return EVERY_NO_PTX(STREAM, 0x7000, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0f, 0.0);
}

static CUresult launch_dividing(int32_t i32, int16_t i16) {
  return DIVIDING(STREAM, 0x7000, 1000, 0, 0, i16, i32, 0, 0, 0, 0, 0, 0, 0, 0.0f, 0.0);
}

static CUresult launch_grid(int64_t x, int32_t y, uint32_t z) {
  return GRID_OF_ARGS(STREAM, 0x7000, 64, 0, 0, 0, y, x, 0, 0, z, 0, 0, 0, 0.0f, 0.0);
}

/* Through the dispatcher: an aligned out_ptr and unit == 1 reach the specialised variant,
 * anything else the generic one. */
static CUresult launch_reached(CUdeviceptr out_ptr, int32_t unit) {
  return reached_default(STREAM, out_ptr, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0f, 0.0, unit);
}

static CUresult launch_big(void) {
  return BIG(STREAM, 0x1000, 0x2000, 0x3000, 512, 512, 256, 256, 512, 512);
}

static CUcontext make_current(int device) {
  CUcontext context = context_create(device);
  set_current(context);
  return context;
}

struct race {
  pthread_barrier_t *start;
  CUcontext context;
  CUresult status;
};

static void *race_thread(void *arg) {
  struct race *race = (struct race *)arg;
  set_current(race->context);
  pthread_barrier_wait(race->start);
  race->status = launch_every(1000);
  return NULL;
}

static int race(int threads) {
  CUcontext contexts[2] = {context_create(0), context_create(1)};
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads);
  struct race *races = (struct race *)calloc((size_t)threads, sizeof *races);
  pthread_t *ids = (pthread_t *)calloc((size_t)threads, sizeof *ids);
  for (int i = 0; i < threads; ++i) {
    races[i].start = &start;
    races[i].context = contexts[i % 2];
    pthread_create(&ids[i], NULL, race_thread, &races[i]);
  }
  int failures = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(ids[i], NULL);
    failures += races[i].status != CUDA_SUCCESS;
  }
  printf("failures=%d\n", failures);
  pthread_barrier_destroy(&start);
  free(races);
  free(ids);
  return 0;
}

struct unload_race {
  CUcontext context;
  int done; /* atomic: the unloading thread has finished */
  long launches, failures;
};

static void *launch_until_done(void *arg) {
  struct unload_race *race = (struct unload_race *)arg;
  set_current(race->context);
  do {
    race->failures += launch_every(64) != CUDA_SUCCESS;
    race->launches++;
  } while (!__atomic_load_n(&race->done, __ATOMIC_ACQUIRE));
  return NULL;
}

/* THREADS threads launch in one context while this one unloads, and in odd rounds loads
 * again (in even ones the launches do): no launch may use an unloaded module's function. */
static int unload_race(int threads, int rounds) {
  CUcontext context = make_current(0);
  LOAD_EVERY();
  struct unload_race *races = (struct unload_race *)calloc((size_t)threads, sizeof *races);
  pthread_t *ids = (pthread_t *)calloc((size_t)threads, sizeof *ids);
  for (int i = 0; i < threads; ++i) {
    races[i].context = context;
    pthread_create(&ids[i], NULL, launch_until_done, &races[i]);
  }
  for (int round = 0; round < rounds; ++round) {
    usleep(100); /* time for the threads to launch what is loaded */
    UNLOAD_EVERY();
    if (round % 2 == 1) LOAD_EVERY();
  }
  long launches = 0, failures = 0;
  for (int i = 0; i < threads; ++i) {
    __atomic_store_n(&races[i].done, 1, __ATOMIC_RELEASE);
    pthread_join(ids[i], NULL);
    launches += races[i].launches;
    failures += races[i].failures;
  }
  printf("launches=%ld failures=%ld\n", launches, failures);
  free(races);
  free(ids);
  return 0;
}

/* The largest grid every CUDA device takes in each dimension, and one more. */
static void grid_limits(void) {
  make_current(0);
  printf("x_max=%d\n", launch_grid(2147483647, 1, 1));
  printf("x_over=%d\n", launch_grid(2147483648LL, 1, 1));
  printf("y_max=%d\n", launch_grid(1, 65535, 1));
  printf("y_over=%d\n", launch_grid(1, 65536, 1));
  printf("z_max=%d\n", launch_grid(1, 1, 65535));
  printf("z_over=%d\n", launch_grid(1, 1, 65536));
  printf("all_over=%d\n", launch_grid(INT64_MAX, INT32_MAX, UINT32_MAX));
}

int main(int argc, char **argv) {
  const char *path = getenv("TTLINK_LIBCUDA_PATH");
  void *standin = path != NULL ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
  if (standin != NULL) {
    *(void **)(&context_create) = dlsym(standin, "standin_context_create");
    *(void **)(&context_destroy) = dlsym(standin, "standin_context_destroy");
    *(void **)(&set_current) = dlsym(standin, "cuCtxSetCurrent");
  }
  const char *scenario = argc > 1 ? argv[1] : "";
  const char *arg = argc > 2 ? argv[2] : "0";
  const char *arg2 = argc > 3 ? argv[3] : "0";
  if (strcmp(scenario, "no_context") == 0 || standin == NULL) {
    printf("status=%d\n", launch_every(1000));
    return 0;
  }
  if (strcmp(scenario, "launch") == 0) {
    make_current(0);
    printf("status=%d\n", launch_every(1000));
    printf("empty=%d\n", launch_every(0));
    return 0;
  }
  if (strcmp(scenario, "choose") == 0) {
    for (int device = 0; device < atoi(arg); ++device) {
      make_current(device);
      printf("device=%d every=%d no_ptx=%d\n", device, launch_every(64), launch_every_no_ptx());
    }
    return 0;
  }
  if (strcmp(scenario, "race") == 0) return race(atoi(arg));
  if (strcmp(scenario, "reload") == 0) {
    CUcontext first = make_current(0);
    printf("first=%d\n", launch_every(64));
    UNLOAD_EVERY();
    printf("after_unload=%d\n", launch_every(64));
    context_destroy(first);
    CUcontext second = make_current(0);
    printf("same_address=%d\n", second == first);
    LOAD_EVERY();
    printf("second=%d\n", launch_every(64));
    return 0;
  }
  if (strcmp(scenario, "unload_race") == 0) return unload_race(atoi(arg), atoi(arg2));
  if (strcmp(scenario, "grid_limits") == 0) {
    grid_limits();
    return 0;
  }
  if (strcmp(scenario, "big") == 0) {
    make_current(0);
    printf("status=%d\n", launch_big());
    return 0;
  }
  if (strcmp(scenario, "divide") == 0) {
    make_current(0);
    printf("argument_zero=%d\n", launch_dividing(0, 3));
    printf("group_zero=%d\n", launch_dividing(7, 1));
    printf("status=%d\n", launch_dividing(7, 3));
    return 0;
  }
  if (strcmp(scenario, "dispatch") == 0) {
    make_current(0);
    printf("specialised=%d\n", launch_reached(0x7000, 1));
    printf("specialised_again=%d\n", launch_reached(0x7100, 1));
    printf("generic=%d\n", launch_reached(0x7004, 1));
    printf("generic_again=%d\n", launch_reached(0x7000, 2));
    return 0;
  }
  if (strcmp(scenario, "twice") == 0) {
    make_current(0);
    printf("first=%d\n", launch_every(64));
    printf("second=%d\n", launch_every(64));
    return 0;
  }
  fprintf(stderr, "unknown scenario '%s'\n", scenario);
  return 2;
}
