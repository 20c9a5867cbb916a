/* Correctness where the runtime's module cache matters: threads launching at once, a second
 * CUDA context on the same device, and every device of the machine.
 *
 *   isolation LIBRARY NAME threads COUNT   COUNT threads make their first launches at once
 *   isolation LIBRARY NAME reload COUNT    the same right after unload_NAME, every module
 *                                          having been loaded before
 *   isolation LIBRARY NAME unload_race COUNT
 *                                          COUNT threads check every algo UNLOAD_RACE_ROUNDS
 *                                          times while the main thread calls unload_NAME
 *                                          every UNLOAD_INTERVAL_US microseconds
 *   isolation LIBRARY NAME contexts        primary context, a created one, primary again,
 *                                          the created one destroyed and another created
 *   isolation LIBRARY NAME devices         device 0, 1, ... and then device 0 again
 *
 * Each check runs every algo of NAME on poisoned outputs and compares with a CPU reference;
 * one JSON line per check. Run each mode in a fresh process: the first launch is the test.
 */
#include <pthread.h>
#include <unistd.h>

#include "harness.h"

/* 96 reaches the fully aligned variant, 77 an unaligned one: both module loads happen. */
static const int SIZES[] = {96, 77};
#define NUM_SIZES (int)(sizeof SIZES / sizeof SIZES[0])

#define UNLOAD_RACE_ROUNDS 20
#define UNLOAD_INTERVAL_US 200

static struct matmul_api api;

/* Runs every algo at every size in the current context; prints one line; returns 1 if all passed. */
static int check_all_algos(const char *test, const char *where, CUstream stream, uint64_t seed) {
  int ok = 1;
  double worst = 0.0;
  char failure[256] = "";
  for (int s = 0; s < NUM_SIZES; s++) {
    struct problem p;
    CUresult created = problem_create(&p, SIZES[s], seed + (uint64_t)s);
    if (created != CUDA_SUCCESS) return 0;
    for (int algo = 0; algo < api.num_algos(); algo++) {
      CUresult result = problem_poison(&p, stream);
      if (result == CUDA_SUCCESS) result = problem_launch(&p, &api, stream, algo);
      double error = result == CUDA_SUCCESS ? problem_error(&p, stream) : INFINITY;
      if (result != CUDA_SUCCESS || !(error <= FP16_REL_ERROR_BOUND)) {
        if (ok)
          snprintf(failure, sizeof failure, "algo %d at n=%d: %s, rel. error %g", algo, SIZES[s],
                   result_name(result), error);
        ok = 0;
      }
      if (error > worst) worst = error;
    }
    problem_destroy(&p);
  }
  char worst_text[32] = "null"; /* JSON has no infinity: an unwritten or failed result */
  if (isfinite(worst)) snprintf(worst_text, sizeof worst_text, "%g", worst);
  printf("{\"test\": \"%s\", \"where\": \"%s\", \"ok\": %s, \"max_rel_error\": %s, \"detail\": \"%s\"}\n", test,
         where, ok ? "true" : "false", worst_text, failure);
  fflush(stdout);
  return ok;
}

struct thread_job {
  const char *test;
  CUcontext context;
  pthread_barrier_t *start;
  int index, rounds, ok;
  int *running; /* atomic: threads that have not finished */
};

static void *thread_main(void *arg) {
  struct thread_job *job = arg;
  CUstream stream;
  char where[64];
  snprintf(where, sizeof where, "thread %d", job->index);
  job->ok = 0;
  if (cuCtxSetCurrent(job->context) != CUDA_SUCCESS) return NULL;
  if (cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING) != CUDA_SUCCESS) return NULL;
  pthread_barrier_wait(job->start);
  job->ok = 1;
  for (int round = 0; round < job->rounds; round++)
    job->ok &= check_all_algos(job->test, where, stream, 1000 + (uint64_t)(job->index * job->rounds + round));
  cuStreamDestroy(stream);
  __atomic_sub_fetch(job->running, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* TEST "reload": every algo runs once here first, then unload_NAME, so that the threads
 * race on loading modules again. TEST "unload_race": the same, and this thread keeps
 * unloading while the threads launch. */
static CUresult run_threads(const char *test, int count) {
  int unload_race = strcmp(test, "unload_race") == 0;
  CUdevice device;
  CUcontext primary;
  CHECK(cuDeviceGet(&device, 0));
  CHECK(cuDevicePrimaryCtxRetain(&primary, device));
  if (strcmp(test, "reload") == 0 || unload_race) {
    CHECK(cuCtxSetCurrent(primary));
    check_all_algos(test, "before the unload", NULL, 1);
    api.unload();
  }
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)count);
  struct thread_job *jobs = calloc((size_t)count, sizeof *jobs);
  pthread_t *threads = calloc((size_t)count, sizeof *threads);
  int running = count;
  for (int i = 0; i < count; i++) {
    jobs[i] = (struct thread_job){.test = test,
                                  .context = primary,
                                  .start = &start,
                                  .index = i,
                                  .rounds = unload_race ? UNLOAD_RACE_ROUNDS : 1,
                                  .running = &running};
    pthread_create(&threads[i], NULL, thread_main, &jobs[i]);
  }
  int unloads = 0;
  while (unload_race && __atomic_load_n(&running, __ATOMIC_ACQUIRE) > 0) {
    usleep(UNLOAD_INTERVAL_US);
    api.unload();
    unloads++;
  }
  int passed = 0;
  for (int i = 0; i < count; i++) {
    pthread_join(threads[i], NULL);
    passed += jobs[i].ok;
  }
  printf("{\"test\": \"%s\", \"where\": \"all %d threads\", \"ok\": %s, \"unloads\": %d}\n", test, count,
         passed == count ? "true" : "false", unloads);
  return CUDA_SUCCESS;
}

static CUresult create_context(CUcontext *context, CUdevice device) {
#if CUDA_VERSION >= 13000
  return cuCtxCreate(context, NULL, 0, device);
#else
  return cuCtxCreate(context, 0, device);
#endif
}

static CUresult run_contexts(void) {
  CUdevice device;
  CUcontext primary, second, third;
  CHECK(cuDeviceGet(&device, 0));
  CHECK(cuDevicePrimaryCtxRetain(&primary, device));
  CHECK(cuCtxSetCurrent(primary));
  check_all_algos("contexts", "primary context", NULL, 1);
  CHECK(create_context(&second, device));
  CHECK(cuCtxSetCurrent(second));
  check_all_algos("contexts", "created context", NULL, 2);
  CHECK(cuCtxSetCurrent(primary));
  check_all_algos("contexts", "primary context again", NULL, 3);
  /* A new context may reuse the destroyed one's handle value: the cache must not. */
  CHECK(cuCtxDestroy(second));
  CHECK(create_context(&third, device));
  CHECK(cuCtxSetCurrent(third));
  check_all_algos("contexts", "context created after destroying one", NULL, 4);
  CHECK(cuCtxSetCurrent(primary));
  check_all_algos("contexts", "primary context at the end", NULL, 5);
  CHECK(cuCtxDestroy(third));
  return CUDA_SUCCESS;
}

static CUresult run_devices(void) {
  int count;
  CHECK(cuDeviceGetCount(&count));
  printf("{\"test\": \"devices\", \"device_count\": %d}\n", count);
  for (int step = 0; step <= count; step++) {
    int ordinal = step % count; /* ends on device 0 again */
    CUdevice device;
    CUcontext primary;
    char where[64];
    CHECK(cuDeviceGet(&device, ordinal));
    CHECK(cuDevicePrimaryCtxRetain(&primary, device));
    CHECK(cuCtxSetCurrent(primary));
    snprintf(where, sizeof where, "device %d%s", ordinal, step == count ? " again" : "");
    check_all_algos("devices", where, NULL, 10 + (uint64_t)step);
  }
  return CUDA_SUCCESS;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr,
            "usage: isolation LIBRARY NAME threads COUNT | reload COUNT | unload_race COUNT | contexts | devices\n");
    return 2;
  }
  if (load_matmul_api(argv[1], argv[2], &api) != 0) return 1;
  CHECK(cuInit(0));
  if ((strcmp(argv[3], "threads") == 0 || strcmp(argv[3], "reload") == 0 || strcmp(argv[3], "unload_race") == 0) &&
      argc == 5)
    return run_threads(argv[3], atoi(argv[4])) != CUDA_SUCCESS;
  if (strcmp(argv[3], "contexts") == 0) return run_contexts() != CUDA_SUCCESS;
  if (strcmp(argv[3], "devices") == 0) return run_devices() != CUDA_SUCCESS;
  fprintf(stderr, "isolation: unknown mode %s\n", argv[3]);
  return 2;
}
