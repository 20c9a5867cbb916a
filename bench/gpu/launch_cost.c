/* Host nanoseconds per launch of the same 128 x 128 x 128 fp16 matmul (one thread block),
 * plain and while capturing into a CUDA graph.
 *
 *   launch_cost raw LIBRARY VARIANT SHARED THREADS   cuLaunchKernel on the CUfunction that
 *                                                    upstream's VARIANT exports as VARIANT_func
 *   launch_cost algo LIBRARY NAME ALGO_ID            NAME(stream, args, ALGO_ID): the dispatcher
 *   launch_cost full LIBRARY SYMBOL                  SYMBOL(stream, args): NAME_default or NAME_{algo}
 *   launch_cost variant LIBRARY SYMBOL               the aligned variant's entry point: no :1 arguments
 *
 * Prints one JSON line: median ns per launch over batches, plain and captured, and whether
 * the graph's result equals the plain launch's bit for bit.
 */
#include "harness.h"

#define N 128
#define BATCH 100
#define BATCHES 200
#define WARMUP 2000

typedef CUresult (*full_fn)(CUstream, CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t, int32_t, int32_t,
                            int32_t, int32_t, int32_t, int32_t, int32_t);
typedef CUresult (*aligned_variant_fn)(CUstream, CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t, int32_t,
                                       int32_t, int32_t, int32_t);

static enum { RAW, ALGO, FULL, VARIANT } mode;
static void *entry;
static CUfunction raw_function;
static unsigned raw_shared, raw_threads;
static int algo_id;
static CUdeviceptr a, b, c;

static CUresult launch(CUstream stream) {
  int32_t n = N, one = 1;
  switch (mode) {
    case RAW: {
      CUdeviceptr scratch = 0;
      /* upstream's parameter order: pointers, M N K, the strides that are not :1, two scratch pointers */
      void *params[] = {&a, &b, &c, &n, &n, &n, &n, &n, &n, &scratch, &scratch};
      return cuLaunchKernel(raw_function, 1, 1, 1, raw_threads, 1, 1, raw_shared, stream, params, NULL);
    }
    case ALGO:
      return ((matmul_algo_fn)entry)(stream, a, b, c, n, n, n, n, one, n, one, n, one, algo_id);
    case FULL:
      return ((full_fn)entry)(stream, a, b, c, n, n, n, n, one, n, one, n, one);
    case VARIANT:
      return ((aligned_variant_fn)entry)(stream, a, b, c, n, n, n, n, n, n);
  }
  return CUDA_ERROR_INVALID_VALUE;
}

static int compare_i64(const void *x, const void *y) {
  int64_t l = *(const int64_t *)x, r = *(const int64_t *)y;
  return (l > r) - (l < r);
}

/* Median over batches of (host time of BATCH launches) / BATCH; the GPU drains between batches. */
static CUresult time_plain(CUstream stream, double *ns_per_launch) {
  static int64_t samples[BATCHES];
  for (int i = 0; i < WARMUP; i++) CHECK(launch(stream));
  CHECK(cuStreamSynchronize(stream));
  for (int batch = 0; batch < BATCHES; batch++) {
    int64_t start = now_ns();
    for (int i = 0; i < BATCH; i++) CHECK(launch(stream));
    samples[batch] = now_ns() - start;
    CHECK(cuStreamSynchronize(stream));
  }
  qsort(samples, BATCHES, sizeof samples[0], compare_i64);
  *ns_per_launch = (double)samples[BATCHES / 2] / BATCH;
  return CUDA_SUCCESS;
}

static CUresult time_captured(CUstream stream, double *ns_per_launch, int *same_result) {
  static int64_t samples[BATCHES];
  size_t bytes = (size_t)N * N * sizeof(_Float16);
  _Float16 *plain = malloc(bytes), *graphed = malloc(bytes);
  CHECK(cuMemsetD16Async(c, 0xFFFF, (size_t)N * N, stream));
  CHECK(launch(stream));
  CHECK(cuStreamSynchronize(stream));
  CHECK(cuMemcpyDtoH(plain, c, bytes));
  for (int batch = 0; batch < BATCHES; batch++) {
    CUgraph graph;
    CUgraphExec exec;
    CHECK(cuMemsetD16Async(c, 0xFFFF, (size_t)N * N, stream));
    CHECK(cuStreamSynchronize(stream));
    CHECK(cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
    int64_t start = now_ns();
    for (int i = 0; i < BATCH; i++) CHECK(launch(stream));
    samples[batch] = now_ns() - start;
    CHECK(cuStreamEndCapture(stream, &graph));
    if (batch == BATCHES - 1) {
      CHECK(cuGraphInstantiateWithFlags(&exec, graph, 0));
      CHECK(cuGraphLaunch(exec, stream));
      CHECK(cuStreamSynchronize(stream));
      CHECK(cuMemcpyDtoH(graphed, c, bytes));
      CHECK(cuGraphExecDestroy(exec));
    }
    CHECK(cuGraphDestroy(graph));
  }
  qsort(samples, BATCHES, sizeof samples[0], compare_i64);
  *ns_per_launch = (double)samples[BATCHES / 2] / BATCH;
  *same_result = memcmp(plain, graphed, bytes) == 0 && !isnan((double)plain[0]);
  free(plain);
  free(graphed);
  return CUDA_SUCCESS;
}

static CUresult run(void) {
  CUdevice device;
  CUcontext context;
  CUstream stream;
  CHECK(cuInit(0));
  CHECK(cuDeviceGet(&device, 0));
  CHECK(cuDevicePrimaryCtxRetain(&context, device));
  CHECK(cuCtxSetCurrent(context));
  CHECK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  size_t bytes = (size_t)N * N * sizeof(_Float16);
  CHECK(cuMemAlloc(&a, bytes));
  CHECK(cuMemAlloc(&b, bytes));
  CHECK(cuMemAlloc(&c, bytes));
  CHECK(cuMemsetD16(a, 0x3C00, (size_t)N * N)); /* 1.0: every element of C becomes N */
  CHECK(cuMemsetD16(b, 0x3C00, (size_t)N * N));
  double plain_ns, captured_ns;
  int same_result;
  CHECK(time_plain(stream, &plain_ns));
  CHECK(time_captured(stream, &captured_ns, &same_result));
  printf("{\"plain_ns\": %.1f, \"captured_ns\": %.1f, \"graph_matches_plain\": %s}\n", plain_ns, captured_ns,
         same_result ? "true" : "false");
  return CUDA_SUCCESS;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: launch_cost raw LIBRARY VARIANT SHARED THREADS | algo LIBRARY NAME ALGO_ID | "
                    "full|variant LIBRARY SYMBOL\n");
    return 2;
  }
  void *library = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    printf("{\"error\": \"dlopen\", \"detail\": \"%s\"}\n", dlerror());
    return 1;
  }
  if (strcmp(argv[1], "raw") == 0 && argc == 6) {
    /* upstream's load_VARIANT fills the exported global VARIANT_func */
    char symbol[256];
    snprintf(symbol, sizeof symbol, "load_%s", argv[3]);
    void (*load)(void) = (void (*)(void))dlsym(library, symbol);
    snprintf(symbol, sizeof symbol, "%s_func", argv[3]);
    CUfunction *function = dlsym(library, symbol);
    if (load == NULL || function == NULL) {
      printf("{\"error\": \"dlsym\", \"detail\": \"load_%s or %s\"}\n", argv[3], symbol);
      return 1;
    }
    CHECK(cuInit(0));
    CUdevice device;
    CUcontext context;
    CHECK(cuDeviceGet(&device, 0));
    CHECK(cuDevicePrimaryCtxRetain(&context, device));
    CHECK(cuCtxSetCurrent(context));
    load();
    mode = RAW;
    raw_function = *function;
    raw_shared = (unsigned)atoi(argv[4]);
    raw_threads = (unsigned)atoi(argv[5]);
  } else {
    entry = dlsym(library, argv[3]);
    if (entry == NULL) {
      printf("{\"error\": \"dlsym\", \"detail\": \"%s\"}\n", argv[3]);
      return 1;
    }
    if (strcmp(argv[1], "algo") == 0 && argc == 5) {
      mode = ALGO;
      algo_id = atoi(argv[4]);
    } else if (strcmp(argv[1], "algo") == 0) {
      fprintf(stderr, "launch_cost: algo needs ALGO_ID\n");
      return 2;
    }
    else if (strcmp(argv[1], "full") == 0) mode = FULL;
    else if (strcmp(argv[1], "variant") == 0) mode = VARIANT;
    else {
      fprintf(stderr, "launch_cost: unknown mode %s\n", argv[1]);
      return 2;
    }
  }
  return run() != CUDA_SUCCESS;
}
