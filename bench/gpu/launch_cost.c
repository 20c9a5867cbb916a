/* Host nanoseconds per launch of the same 128 x 128 x 128 fp16 matmul (one thread block),
 * plain and while capturing into a CUDA graph, for several launch paths in one process.
 * Batches of the paths are interleaved, so clock and driver drift hit every path alike.
 *
 *   launch_cost PATH...   each PATH is one argument "LABEL|MODE|LIBRARY|SYMBOL[|X|Y]":
 *     raw|LIB|VARIANT|SHARED|THREADS  cuLaunchKernel on the CUfunction that upstream's VARIANT
 *                                     exports as VARIANT_func (after load_VARIANT())
 *     algo|LIB|NAME|ALGO_ID           NAME(stream, args, ALGO_ID): the dispatcher
 *     full|LIB|SYMBOL                 SYMBOL(stream, args): NAME_default or NAME_{algo}
 *     variant|LIB|SYMBOL              the aligned variant's entry point: no :1 arguments
 *
 * Prints one JSON line per path: median ns per launch over batches, plain and captured, and
 * whether the graph's result equals the plain launch's bit for bit.
 */
#include "harness.h"

#define N 128
#define BATCH 100
#define BATCHES 200
#define CAPTURES 50
#define WARMUP 1000
#define MAX_PATHS 16

struct path {
  char spec[512];
  const char *label;
  enum { RAW, ALGO, FULL, VARIANT } mode;
  void *entry;
  CUfunction function; /* RAW */
  unsigned shared, threads; /* RAW */
  int algo_id; /* ALGO */
  int64_t plain[BATCHES], captured[CAPTURES];
};

static struct path paths[MAX_PATHS];
static int num_paths;
static CUdeviceptr a, b, c;

static CUresult launch(const struct path *p, CUstream stream) {
  int32_t n = N, one = 1;
  switch (p->mode) {
    case RAW: {
      CUdeviceptr scratch = 0;
      /* upstream's parameter order: pointers, M N K, the strides that are not :1, two scratch pointers */
      void *params[] = {&a, &b, &c, &n, &n, &n, &n, &n, &n, &scratch, &scratch};
      return cuLaunchKernel(p->function, 1, 1, 1, p->threads, 1, 1, p->shared, stream, params, NULL);
    }
    case ALGO:
      return ((matmul_algo_fn)p->entry)(stream, a, b, c, n, n, n, n, one, n, one, n, one, p->algo_id);
    case FULL:
      return ((matmul_full_fn)p->entry)(stream, a, b, c, n, n, n, n, one, n, one, n, one);
    case VARIANT:
      return ((matmul_aligned_variant_fn)p->entry)(stream, a, b, c, n, n, n, n, n, n);
  }
  return CUDA_ERROR_INVALID_VALUE;
}

static int compare_i64(const void *x, const void *y) {
  int64_t l = *(const int64_t *)x, r = *(const int64_t *)y;
  return (l > r) - (l < r);
}

static double median_per_launch(int64_t *samples, int count) {
  qsort(samples, (size_t)count, sizeof samples[0], compare_i64);
  return (double)samples[count / 2] / BATCH;
}

/* Parses "LABEL|MODE|LIBRARY|SYMBOL[|X|Y]" and resolves its entry point. */
static int parse_path(struct path *p, const char *spec) {
  snprintf(p->spec, sizeof p->spec, "%s", spec);
  char *field[6] = {0};
  int count = 0;
  for (char *token = strtok(p->spec, "|"); token != NULL && count < 6; token = strtok(NULL, "|")) field[count++] = token;
  if (count < 4) return 1;
  p->label = field[0];
  void *library = dlopen(field[2], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    printf("{\"error\": \"dlopen\", \"detail\": \"%s\"}\n", dlerror());
    return 1;
  }
  char symbol[256];
  if (strcmp(field[1], "raw") == 0 && count == 6) {
    p->mode = RAW;
    snprintf(symbol, sizeof symbol, "load_%s", field[3]);
    void (*load)(void) = (void (*)(void))dlsym(library, symbol);
    snprintf(symbol, sizeof symbol, "%s_func", field[3]);
    CUfunction *function = dlsym(library, symbol);
    if (load == NULL || function == NULL) return 1;
    load();
    p->function = *function;
    p->shared = (unsigned)atoi(field[4]);
    p->threads = (unsigned)atoi(field[5]);
    return 0;
  }
  p->entry = dlsym(library, field[3]);
  if (p->entry == NULL) return 1;
  if (strcmp(field[1], "algo") == 0 && count == 5) {
    p->mode = ALGO;
    p->algo_id = atoi(field[4]);
  } else if (strcmp(field[1], "full") == 0) {
    p->mode = FULL;
  } else if (strcmp(field[1], "variant") == 0) {
    p->mode = VARIANT;
  } else {
    return 1;
  }
  return 0;
}

static CUresult measure(CUstream stream) {
  size_t bytes = (size_t)N * N * sizeof(_Float16);
  for (int i = 0; i < num_paths; i++)
    for (int k = 0; k < WARMUP; k++) CHECK(launch(&paths[i], stream));
  CHECK(cuStreamSynchronize(stream));
  for (int batch = 0; batch < BATCHES; batch++)
    for (int i = 0; i < num_paths; i++) {
      int64_t start = now_ns();
      for (int k = 0; k < BATCH; k++) CHECK(launch(&paths[i], stream));
      paths[i].plain[batch] = now_ns() - start;
      CHECK(cuStreamSynchronize(stream)); /* the GPU drains between batches */
    }
  _Float16 *expected = malloc(bytes), *graphed = malloc(bytes);
  for (int capture = 0; capture < CAPTURES; capture++)
    for (int i = 0; i < num_paths; i++) {
      CUgraph graph;
      CHECK(cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
      int64_t start = now_ns();
      for (int k = 0; k < BATCH; k++) CHECK(launch(&paths[i], stream));
      paths[i].captured[capture] = now_ns() - start;
      CHECK(cuStreamEndCapture(stream, &graph));
      if (capture == CAPTURES - 1) { /* replay the last graph: it must compute what a plain launch does */
        CUgraphExec exec;
        CHECK(cuMemsetD16Async(c, 0xFFFF, (size_t)N * N, stream));
        CHECK(launch(&paths[i], stream));
        CHECK(cuStreamSynchronize(stream));
        CHECK(cuMemcpyDtoH(expected, c, bytes));
        CHECK(cuMemsetD16Async(c, 0xFFFF, (size_t)N * N, stream));
        CHECK(cuGraphInstantiateWithFlags(&exec, graph, 0));
        CHECK(cuGraphLaunch(exec, stream));
        CHECK(cuStreamSynchronize(stream));
        CHECK(cuMemcpyDtoH(graphed, c, bytes));
        CHECK(cuGraphExecDestroy(exec));
        int same = memcmp(expected, graphed, bytes) == 0 && expected[0] == (_Float16)N;
        printf("{\"path\": \"%s\", \"plain_ns\": %.1f, \"captured_ns\": %.1f, \"graph_matches_plain\": %s}\n",
               paths[i].label, median_per_launch(paths[i].plain, BATCHES),
               median_per_launch(paths[i].captured, CAPTURES), same ? "true" : "false");
      }
      CHECK(cuGraphDestroy(graph));
    }
  free(expected);
  free(graphed);
  return CUDA_SUCCESS;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc - 1 > MAX_PATHS) {
    fprintf(stderr, "usage: launch_cost \"LABEL|MODE|LIBRARY|SYMBOL[|X|Y]\"...\n");
    return 2;
  }
  CUdevice device;
  CUcontext context;
  CUstream stream;
  CHECK(cuInit(0));
  CHECK(cuDeviceGet(&device, 0));
  CHECK(cuDevicePrimaryCtxRetain(&context, device));
  CHECK(cuCtxSetCurrent(context));
  for (num_paths = 0; num_paths < argc - 1; num_paths++)
    if (parse_path(&paths[num_paths], argv[num_paths + 1]) != 0) {
      printf("{\"error\": \"bad path\", \"detail\": \"%s\"}\n", argv[num_paths + 1]);
      return 2;
    }
  CHECK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  size_t bytes = (size_t)N * N * sizeof(_Float16);
  CHECK(cuMemAlloc(&a, bytes));
  CHECK(cuMemAlloc(&b, bytes));
  CHECK(cuMemAlloc(&c, bytes));
  CHECK(cuMemsetD16(a, 0x3C00, (size_t)N * N)); /* 1.0: every element of C becomes N */
  CHECK(cuMemsetD16(b, 0x3C00, (size_t)N * N));
  return measure(stream) != CUDA_SUCCESS;
}
