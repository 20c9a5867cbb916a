/*
 * Drives a generated `tuned_autotuned` against the stand-in libcuda (standin_libcuda.c). Built
 * by test_autotune.py with -include of the dispatcher's header: `tuned` links the every_scalar
 * kernel with 2, 4 and 8 warps (algos 0, 1, 2: 64, 128 and 256 threads per block) and a table
 * keyed on `n`. Prints `key=value` lines; the tests read them and the stand-in's log.
 *
 * usage: autotune_harness SCENARIO N [ARG]   (scenarios: calls N COUNT, enabled N COUNT,
 *                                            race N THREADS, late N, contexts N, roundtrip N,
 *                                            import N TEXT)
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CUcontext (*context_create)(int device);
static CUresult (*set_current)(CUcontext context);

static CUstream const STREAM = (CUstream)0x5a5a;

static CUresult call(int32_t n) {
  return tuned_autotuned(STREAM, 0x7000, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0f, 0.0, 0);
}

/* COUNT calls with `n`; the first status that is not CUDA_SUCCESS, else 0. */
static int calls(int32_t n, int count) {
  int status = 0;
  for (int i = 0; i < count; ++i) {
    CUresult result = call(n);
    if (status == 0) status = (int)result;
  }
  return status;
}

struct racer {
  pthread_barrier_t *start;
  CUcontext context;
  int32_t n;
  int status;
};

static void *race_thread(void *arg) {
  struct racer *racer = (struct racer *)arg;
  set_current(racer->context);
  pthread_barrier_wait(racer->start);
  racer->status = calls(racer->n, 4);
  return NULL;
}

static int race(int32_t n, int threads) {
  CUcontext context = context_create(0);
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads);
  struct racer *racers = (struct racer *)calloc((size_t)threads, sizeof *racers);
  pthread_t *ids = (pthread_t *)calloc((size_t)threads, sizeof *ids);
  for (int i = 0; i < threads; ++i) {
    racers[i] = (struct racer){&start, context, n, 0};
    pthread_create(&ids[i], NULL, race_thread, &racers[i]);
  }
  int status = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(ids[i], NULL);
    if (status == 0) status = racers[i].status;
  }
  pthread_barrier_destroy(&start);
  free(racers);
  free(ids);
  set_current(context); /* one more call, after the key is decided */
  if (status == 0) status = calls(n, 1);
  printf("status=%d\n", status);
  return 0;
}

int main(int argc, char **argv) {
  void *standin = dlopen(getenv("TTLINK_LIBCUDA_PATH"), RTLD_NOW | RTLD_LOCAL);
  if (standin == NULL || argc < 3) {
    fprintf(stderr, "usage: autotune_harness SCENARIO N [ARG] (with TTLINK_LIBCUDA_PATH)\n");
    return 2;
  }
  *(void **)(&context_create) = dlsym(standin, "standin_context_create");
  *(void **)(&set_current) = dlsym(standin, "cuCtxSetCurrent");
  const char *scenario = argv[1];
  int32_t n = atoi(argv[2]);
  int arg = argc > 3 ? atoi(argv[3]) : 1; /* COUNT or THREADS */
  if (strcmp(scenario, "race") == 0) {
    tuned_autotune_enable(1);
    return race(n, arg);
  }
  CUcontext first = context_create(0);
  set_current(first);
  if (strcmp(scenario, "calls") == 0 || strcmp(scenario, "enabled") == 0) {
    if (strcmp(scenario, "enabled") == 0) tuned_autotune_enable(1);
    printf("status=%d\n", calls(n, arg));
    return 0;
  }
  if (strcmp(scenario, "late") == 0) { /* a key met with tuning off is tuned once it is on */
    int status = calls(n, 1);
    tuned_autotune_enable(1);
    printf("status=%d\n", status != 0 ? status : calls(n, 2));
    return 0;
  }
  if (strcmp(scenario, "contexts") == 0) {
    tuned_autotune_enable(1);
    int status = calls(n, 1);
    set_current(context_create(1));
    int second = calls(n, 1);
    set_current(first);
    printf("status=%d\n", status != 0 ? status : second != 0 ? second : calls(n, 1));
    return 0;
  }
  if (strcmp(scenario, "roundtrip") == 0) { /* tune n and 4096 here, export, import in another context */
    tuned_autotune_enable(1);
    int status = calls(n, 1) | calls(4096, 1);
    char text[4096], cut[6];
    int length = tuned_tuning_export(text, sizeof text);
    printf("status=%d\nlength=%d\nshort=%d\ncut=[%s]\ntext=[%s]\n", status, length,
           tuned_tuning_export(cut, sizeof cut), cut, text);
    tuned_autotune_enable(0);
    set_current(context_create(1));
    printf("empty=%d\n", tuned_tuning_export(cut, sizeof cut));
    printf("imported=%d\n", (int)tuned_tuning_import(text));
    printf("again=%d\n", tuned_tuning_export(text, sizeof text) == length && calls(n, 1) == 0);
    return 0;
  }
  if (strcmp(scenario, "import") == 0) { /* argv[3]: the text, with '|' for newlines */
    for (char *c = argv[3]; *c != '\0'; ++c)
      if (*c == '|') *c = '\n';
    printf("status=%d\n", (int)tuned_tuning_import(argv[3]));
    printf("calls=%d\n", calls(n, 1));
    return 0;
  }
  fprintf(stderr, "unknown scenario %s\n", scenario);
  return 2;
}
