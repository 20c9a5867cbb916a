/*
 * ttlink runtime: driver resolution, per-context module cache, binary choice and launch.
 * See ttlink_runtime.h for the contract.
 */
#include "ttlink_runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Above this much dynamic shared memory a kernel must opt in (CUDA's static limit). */
#define TTLINK_DEFAULT_SHARED_LIMIT 49152u

/* The largest grid of every device since compute capability 3.0. */
#define TTLINK_MAX_GRID_X 2147483647
#define TTLINK_MAX_GRID_YZ 65535

/* The driver functions the runtime uses, resolved with dlsym. */
struct ttlink_driver {
  CUresult (*init)(unsigned int flags);
  CUresult (*ctx_get_current)(CUcontext *ctx);
  CUresult (*ctx_get_id)(CUcontext ctx, unsigned long long *id); /* NULL before CUDA 12.0 */
  CUresult (*ctx_get_device)(CUdevice *device);
  CUresult (*device_get_attribute)(int *value, CUdevice_attribute attribute, CUdevice device);
  CUresult (*module_load_data)(CUmodule *module, const void *image);
  CUresult (*module_get_function)(CUfunction *function, CUmodule module, const char *name);
  CUresult (*module_unload)(CUmodule module);
  CUresult (*func_set_attribute)(CUfunction function, CUfunction_attribute attribute, int value);
  CUresult (*launch_kernel)(CUfunction function, unsigned int grid_x, unsigned int grid_y, unsigned int grid_z,
                            unsigned int block_x, unsigned int block_y, unsigned int block_z,
                            unsigned int shared_bytes, CUstream stream, void **params, void **extra);
  /* Run-time tuning only: without them K_autotuned runs the table's choice. */
  CUresult (*event_create)(CUevent *event, unsigned int flags);
  CUresult (*event_record)(CUevent event, CUstream stream);
  CUresult (*event_synchronize)(CUevent event);
  CUresult (*event_elapsed_time)(float *milliseconds, CUevent start, CUevent end);
  CUresult (*event_destroy)(CUevent event);
  CUresult (*stream_is_capturing)(CUstream stream, CUstreamCaptureStatus *status);
};

/* A module loaded for one context. Nodes are never freed: readers walk the list without the
 * lock. After unload `function` is NULL and the node waits for a reload in the same context.
 *
 * A launch counts itself in `launches` before it reads `function` and leaves when
 * cuLaunchKernel has returned; an unload clears `function`, then waits until `launches` is 0
 * before it unloads the module. Both sides write, then read the other's variable, sequentially
 * consistent: either the launch sees NULL, or the unload sees the launch and waits for it. */
struct ttlink_loaded {
  struct ttlink_loaded *next; /* immutable once published */
  uint64_t context_key;       /* cuCtxGetId, else the CUcontext handle */
  CUmodule module;            /* under the variant's lock */
  CUfunction function;        /* atomic: NULL while not loaded */
  unsigned int shared_bytes;  /* written before `function` is published, read while counted */
  unsigned int launches;      /* atomic: launches that may be using `function` */
};

static struct ttlink_driver driver;
static CUresult driver_status = CUDA_ERROR_NOT_INITIALIZED;
static pthread_once_t driver_once = PTHREAD_ONCE_INIT;
/* TTLINK_REPORT_VARIANTS, read with the driver: written once under driver_once, which every
 * launch passes before it reads this. */
static int report_variants;
/* TTLINK_AUTOTUNE, read with the driver likewise. */
static int autotune_everywhere;

static void *symbol(void *library, const char *name, int *missing) {
  void *address = dlsym(library, name);
  if (address == NULL) *missing = 1;
  return address;
}

static int is_set(const char *variable) {
  const char *value = getenv(variable);
  return value != NULL && value[0] != '\0' && strcmp(value, "0") != 0;
}

static void resolve_driver(void) {
  report_variants = is_set("TTLINK_REPORT_VARIANTS");
  autotune_everywhere = is_set("TTLINK_AUTOTUNE");
  const char *path = getenv("TTLINK_LIBCUDA_PATH");
  void *library = dlopen(path != NULL && path[0] != '\0' ? path : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    driver_status = CUDA_ERROR_SHARED_OBJECT_INIT_FAILED;
    return;
  }
  int missing = 0;
  /* Casts through void * keep -Wpedantic quiet about object-to-function pointer conversion. */
#define TTLINK_RESOLVE(field, name) *(void **)(&driver.field) = symbol(library, name, &missing)
  TTLINK_RESOLVE(init, "cuInit");
  TTLINK_RESOLVE(ctx_get_current, "cuCtxGetCurrent");
  TTLINK_RESOLVE(ctx_get_device, "cuCtxGetDevice");
  TTLINK_RESOLVE(device_get_attribute, "cuDeviceGetAttribute");
  TTLINK_RESOLVE(module_load_data, "cuModuleLoadData");
  TTLINK_RESOLVE(module_get_function, "cuModuleGetFunction");
  TTLINK_RESOLVE(module_unload, "cuModuleUnload");
  TTLINK_RESOLVE(func_set_attribute, "cuFuncSetAttribute");
  TTLINK_RESOLVE(launch_kernel, "cuLaunchKernel");
  int optional = 0;
  *(void **)(&driver.ctx_get_id) = symbol(library, "cuCtxGetId", &optional);
  int timing_missing = 0;
#define TTLINK_RESOLVE_TIMING(field, name) *(void **)(&driver.field) = symbol(library, name, &timing_missing)
  TTLINK_RESOLVE_TIMING(event_create, "cuEventCreate");
  TTLINK_RESOLVE_TIMING(event_record, "cuEventRecord");
  TTLINK_RESOLVE_TIMING(event_synchronize, "cuEventSynchronize");
  TTLINK_RESOLVE_TIMING(event_elapsed_time, "cuEventElapsedTime");
  TTLINK_RESOLVE_TIMING(event_destroy, "cuEventDestroy_v2");
  TTLINK_RESOLVE_TIMING(stream_is_capturing, "cuStreamIsCapturing");
  if (timing_missing) driver.stream_is_capturing = NULL; /* tells tuning it cannot time */
#undef TTLINK_RESOLVE_TIMING
#undef TTLINK_RESOLVE
  if (missing) {
    dlclose(library);
    driver_status = CUDA_ERROR_SHARED_OBJECT_INIT_FAILED;
    return;
  }
  driver_status = driver.init(0);
}

static CUresult current_context_key(uint64_t *key) {
  pthread_once(&driver_once, resolve_driver);
  if (driver_status != CUDA_SUCCESS) return driver_status;
  CUcontext context = NULL;
  CUresult status = driver.ctx_get_current(&context);
  if (status != CUDA_SUCCESS) return status;
  if (context == NULL) return CUDA_ERROR_INVALID_CONTEXT;
  unsigned long long id;
  /* The id tells apart a context destroyed and re-created at the same address. */
  if (driver.ctx_get_id != NULL && driver.ctx_get_id(context, &id) == CUDA_SUCCESS) {
    *key = (uint64_t)id;
  } else {
    *key = (uint64_t)(uintptr_t)context;
  }
  return CUDA_SUCCESS;
}

static struct ttlink_loaded *find_loaded(struct ttlink_variant *variant, uint64_t key) {
  struct ttlink_loaded *node = __atomic_load_n(&variant->loaded, __ATOMIC_ACQUIRE);
  while (node != NULL && node->context_key != key) node = node->next;
  return node;
}

/* The device's own cubin, else the newest cubin of the same major with a lower minor, else
 * PTX no newer than the device; NULL if none fits. */
static const struct ttlink_image *select_image(const struct ttlink_kernel *kernel, int major, int minor) {
  const struct ttlink_image *cubin = NULL;
  const struct ttlink_image *ptx = NULL;
  for (int i = 0; i < kernel->num_images; ++i) {
    const struct ttlink_image *image = &kernel->images[i];
    if (image->format == TTLINK_CUBIN) {
      if (image->arch / 10 == major && image->arch % 10 <= minor && (cubin == NULL || image->arch > cubin->arch)) {
        cubin = image;
      }
    } else if (image->arch <= 10 * major + minor && (ptx == NULL || image->arch > ptx->arch)) {
      ptx = image;
    }
  }
  return cubin != NULL ? cubin : ptx;
}

/* Loads the best binary for the current context's device. Called with the variant's lock held. */
static CUresult load_module(const struct ttlink_kernel *kernel, CUmodule *module, CUfunction *function,
                            unsigned int *shared_bytes) {
  CUdevice device;
  int major = 0;
  int minor = 0;
  CUresult status = driver.ctx_get_device(&device);
  if (status == CUDA_SUCCESS)
    status = driver.device_get_attribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
  if (status == CUDA_SUCCESS)
    status = driver.device_get_attribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
  if (status != CUDA_SUCCESS) return status;

  const struct ttlink_image *image = select_image(kernel, major, minor);
  if (image == NULL) return CUDA_ERROR_NO_BINARY_FOR_GPU;
  if (image->shared_bytes > TTLINK_DEFAULT_SHARED_LIMIT) {
    int optin = 0;
    status = driver.device_get_attribute(&optin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, device);
    if (status != CUDA_SUCCESS) return status;
    if (optin < 0 || image->shared_bytes > (unsigned int)optin) return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
  }

  status = driver.module_load_data(module, image->data);
  if (status != CUDA_SUCCESS) return status;
  status = driver.module_get_function(function, *module, kernel->name);
  if (status == CUDA_SUCCESS && image->shared_bytes > TTLINK_DEFAULT_SHARED_LIMIT) {
    status = driver.func_set_attribute(*function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                       (int)image->shared_bytes);
  }
  if (status != CUDA_SUCCESS) {
    driver.module_unload(*module);
    return status;
  }
  *shared_bytes = image->shared_bytes;
  return CUDA_SUCCESS;
}

/* The function loaded for the current context and its shared memory size, loading it first
 * if needed. On success the launch is counted in `*counted`: hand that to release_function. */
static CUresult acquire_function(struct ttlink_variant *variant, struct ttlink_loaded **counted, CUfunction *function,
                                 unsigned int *shared_bytes) {
  uint64_t key;
  CUresult status = current_context_key(&key);
  if (status != CUDA_SUCCESS) return status;
  struct ttlink_loaded *node = find_loaded(variant, key);
  if (node != NULL) {
    __atomic_add_fetch(&node->launches, 1, __ATOMIC_SEQ_CST);
    *function = __atomic_load_n(&node->function, __ATOMIC_SEQ_CST);
    if (*function != NULL) {
      *shared_bytes = node->shared_bytes;
      *counted = node;
      return CUDA_SUCCESS;
    }
    /* Not loaded: uncount before taking the lock, which an unload holds while it waits. */
    __atomic_sub_fetch(&node->launches, 1, __ATOMIC_SEQ_CST);
  }
  pthread_mutex_lock(&variant->lock);
  node = find_loaded(variant, key);
  *function = node != NULL ? node->function : NULL;
  if (*function == NULL) {
    CUmodule module = NULL;
    status = load_module(variant->kernel, &module, function, shared_bytes);
    if (status == CUDA_SUCCESS && node == NULL) {
      node = (struct ttlink_loaded *)calloc(1, sizeof *node);
      if (node == NULL) {
        driver.module_unload(module);
        status = CUDA_ERROR_OUT_OF_MEMORY;
      } else {
        node->context_key = key;
        node->next = variant->loaded;
        __atomic_store_n(&variant->loaded, node, __ATOMIC_RELEASE);
      }
    }
    if (status == CUDA_SUCCESS) {
      node->module = module;
      node->shared_bytes = *shared_bytes;
      __atomic_store_n(&node->function, *function, __ATOMIC_RELEASE);
    }
  } else {
    *shared_bytes = node->shared_bytes;
  }
  if (status == CUDA_SUCCESS) {
    /* Counted before the lock is released: an unload, which takes it next, waits for this launch. */
    __atomic_add_fetch(&node->launches, 1, __ATOMIC_SEQ_CST);
    *counted = node;
  }
  pthread_mutex_unlock(&variant->lock);
  return status;
}

/* Uncounts a launch that acquire_function counted: an unload may go on once none is left. */
static void release_function(struct ttlink_loaded *node) {
  __atomic_sub_fetch(&node->launches, 1, __ATOMIC_SEQ_CST);
}

/* Writes the variant's description unless another launch has: one line per variant and process,
 * however many threads launch it first at once. */
static void report_first_launch(struct ttlink_variant *variant) {
  if (__atomic_exchange_n(&variant->reported, 1, __ATOMIC_RELAXED)) return;
  fprintf(stderr, "ttlink: %s\n", variant->kernel->description);
}

CUresult ttlink_launch(struct ttlink_variant *variant, CUstream stream, int64_t grid_x, int64_t grid_y,
                       int64_t grid_z, void **args, struct ttlink_tensor_arg *tensors, CUdeviceptr *scratch) {
  (void)tensors;
  (void)scratch;
  const struct ttlink_kernel *kernel = variant->kernel;
  if (kernel->num_tensor_args != 0 || kernel->num_scratch_params != 0 || kernel->num_ctas > 1 ||
      kernel->launch_flags != 0)
    return CUDA_ERROR_NOT_SUPPORTED; /* not yet: tensor maps, scratch and launch attributes */
  if (grid_x == 0 || grid_y == 0 || grid_z == 0) return CUDA_SUCCESS;
  if (grid_x < 0 || grid_y < 0 || grid_z < 0 || grid_x > TTLINK_MAX_GRID_X || grid_y > TTLINK_MAX_GRID_YZ ||
      grid_z > TTLINK_MAX_GRID_YZ)
    return CUDA_ERROR_INVALID_VALUE;
  struct ttlink_loaded *node;
  CUfunction function;
  unsigned int shared_bytes;
  CUresult status = acquire_function(variant, &node, &function, &shared_bytes);
  if (status == CUDA_SUCCESS) {
    status = driver.launch_kernel(function, (unsigned int)grid_x, (unsigned int)grid_y, (unsigned int)grid_z,
                                  variant->kernel->block_x, 1, 1, shared_bytes, stream, args, NULL);
    release_function(node);
  }
  /* After the launch is uncounted, so that writing to stderr never holds up an unload. */
  if (report_variants && !__atomic_load_n(&variant->reported, __ATOMIC_RELAXED)) report_first_launch(variant);
  return status;
}

CUresult ttlink_set_scratch_allocator(ttlink_scratch_alloc alloc, ttlink_scratch_release release, void *user) {
  (void)user;
  return (alloc == NULL) != (release == NULL) ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_SUPPORTED;
}

CUresult ttlink_load(struct ttlink_variant *variant) {
  struct ttlink_loaded *node;
  CUfunction function;
  unsigned int shared_bytes;
  CUresult status = acquire_function(variant, &node, &function, &shared_bytes);
  if (status == CUDA_SUCCESS) release_function(node);
  return status;
}

CUresult ttlink_unload(struct ttlink_variant *variant) {
  uint64_t key;
  CUresult status = current_context_key(&key);
  if (status != CUDA_SUCCESS) return status;
  pthread_mutex_lock(&variant->lock);
  struct ttlink_loaded *node = find_loaded(variant, key);
  if (node != NULL && node->function != NULL) {
    __atomic_store_n(&node->function, NULL, __ATOMIC_SEQ_CST);
    /* Launches that read the function before it was cleared end within their cuLaunchKernel
     * call; later ones see NULL and queue on the lock. */
    while (__atomic_load_n(&node->launches, __ATOMIC_SEQ_CST) != 0) sched_yield();
    status = driver.module_unload(node->module);
    node->module = NULL;
  }
  pthread_mutex_unlock(&variant->lock);
  return status;
}

/* A slot's states, in the order it goes through them: TABLE holds the table's choice, which
 * tuning may replace; TUNING still holds it while one thread times the algos; DECIDED holds
 * the tuned or imported choice. Import may decide a slot in any state but EMPTY. */
enum { TTLINK_SLOT_EMPTY, TTLINK_SLOT_CLAIMED, TTLINK_SLOT_TABLE, TTLINK_SLOT_TUNING, TTLINK_SLOT_DECIDED };

static uint64_t slot_hash(uint64_t context, const int64_t *key, int key_length) {
  uint64_t hash = context; /* h * 31 + value: a shift and a subtraction per value, then one mix */
  for (int i = 0; i < key_length; ++i) hash = hash * 31 + (uint64_t)key[i];
  hash = (hash ^ (hash >> 31)) * 0xbf58476d1ce4e5b9ull;
  return hash ^ (hash >> 32);
}

/* Whether tuning may time launches on `stream` now: never while it is being captured into a
 * graph (the launches would be recorded, not run), nor when capture status is unknown. */
static int may_time(CUstream stream) {
  CUstreamCaptureStatus status;
  return driver.stream_is_capturing != NULL && driver.stream_is_capturing(stream, &status) == CUDA_SUCCESS &&
         status == CU_STREAM_CAPTURE_STATUS_NONE;
}

/* The fastest algo on `stream`, or `fallback` if timing fails. */
static int fastest_algo(struct ttlink_tuning *tuning, int fallback, ttlink_run_algo run, CUstream stream,
                        const void *call) {
  CUevent start, end;
  if (driver.event_create(&start, CU_EVENT_DEFAULT) != CUDA_SUCCESS) return fallback;
  if (driver.event_create(&end, CU_EVENT_DEFAULT) != CUDA_SUCCESS) {
    driver.event_destroy(start);
    return fallback;
  }
  int best = fallback, timed = 0;
  float best_ms = 0;
  for (int algo = 0; algo < tuning->num_algos; ++algo) { /* loads each module before timing */
    if (run(algo, stream, call) != CUDA_SUCCESS) continue;
    int failed = driver.event_record(start, stream) != CUDA_SUCCESS;
    for (int i = 0; i < TTLINK_TUNING_RUNS && !failed; ++i) failed = run(algo, stream, call) != CUDA_SUCCESS;
    float ms;
    failed = failed || driver.event_record(end, stream) != CUDA_SUCCESS ||
             driver.event_synchronize(end) != CUDA_SUCCESS || driver.event_elapsed_time(&ms, start, end) != CUDA_SUCCESS;
    if (!failed && (!timed || ms < best_ms)) {
      best = algo;
      best_ms = ms;
      timed = 1;
    }
  }
  driver.event_destroy(start);
  driver.event_destroy(end);
  return best;
}

/* The slot of (context, key): one holding them, else an empty one that this call claimed
 * (state TTLINK_SLOT_CLAIMED, key written, to be published by the caller), else -1 (every
 * slot holds another key). `*state` is the slot's state as found. */
static int find_slot(struct ttlink_tuning *tuning, uint64_t context, const int64_t *key, int claim, int *state) {
  int n = tuning->key_length;
  size_t key_bytes = (size_t)n * sizeof key[0];
  uint64_t hash = slot_hash(context, key, n);
  for (int probe = 0; probe < TTLINK_TUNING_SLOTS; ++probe) {
    int slot = (int)((hash + (uint64_t)probe) % TTLINK_TUNING_SLOTS);
    *state = __atomic_load_n(&tuning->states[slot], __ATOMIC_ACQUIRE);
    if (*state == TTLINK_SLOT_EMPTY) {
      if (!claim) return -1;
      int expected = TTLINK_SLOT_EMPTY;
      if (__atomic_compare_exchange_n(&tuning->states[slot], &expected, TTLINK_SLOT_CLAIMED, 0, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE)) {
        tuning->contexts[slot] = context;
        memcpy(&tuning->keys[(size_t)slot * (size_t)n], key, key_bytes);
        return slot;
      }
      *state = expected; /* another thread claimed it first: see whose key it holds */
    }
    while (*state == TTLINK_SLOT_CLAIMED) { /* its key is being written: a few stores */
      sched_yield();
      *state = __atomic_load_n(&tuning->states[slot], __ATOMIC_ACQUIRE);
    }
    if (tuning->contexts[slot] == context && memcmp(&tuning->keys[(size_t)slot * (size_t)n], key, key_bytes) == 0)
      return slot;
  }
  return -1;
}

static void decide(struct ttlink_tuning *tuning, int slot, int algo) {
  __atomic_store_n(&tuning->algos[slot], algo, __ATOMIC_RELAXED);
  __atomic_store_n(&tuning->states[slot], TTLINK_SLOT_DECIDED, __ATOMIC_RELEASE);
}

CUresult ttlink_autotune(struct ttlink_tuning *tuning, const int64_t *key, ttlink_table_algo table_algo,
                         ttlink_run_algo run, CUstream stream, const void *call) {
  uint64_t context;
  if (current_context_key(&context) != CUDA_SUCCESS) return run(table_algo(key), stream, call);
  int state;
  int slot = find_slot(tuning, context, key, 1, &state);
  if (slot < 0) return run(table_algo(key), stream, call); /* every slot holds another key */
  if (state == TTLINK_SLOT_EMPTY) { /* claimed by this call: the table's choice, looked up once */
    __atomic_store_n(&tuning->algos[slot], table_algo(key), __ATOMIC_RELAXED);
    __atomic_store_n(&tuning->states[slot], TTLINK_SLOT_TABLE, __ATOMIC_RELEASE);
    state = TTLINK_SLOT_TABLE;
  }
  int on = autotune_everywhere || __atomic_load_n(&tuning->enabled, __ATOMIC_RELAXED);
  int expected = TTLINK_SLOT_TABLE;
  if (state == TTLINK_SLOT_TABLE && on && may_time(stream) &&
      __atomic_compare_exchange_n(&tuning->states[slot], &expected, TTLINK_SLOT_TUNING, 0, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE)) {
    int best = fastest_algo(tuning, __atomic_load_n(&tuning->algos[slot], __ATOMIC_RELAXED), run, stream, call);
    decide(tuning, slot, best);
    return run(best, stream, call);
  }
  return run(__atomic_load_n(&tuning->algos[slot], __ATOMIC_RELAXED), stream, call);
}

/* Whether the key of `a` sorts before that of `b` (value by value). */
static int key_before(const int64_t *a, const int64_t *b, int n) {
  for (int i = 0; i < n; ++i)
    if (a[i] != b[i]) return a[i] < b[i];
  return 0;
}

/* Adds `count` bytes of `text` at `*length` of the text being exported, as many as fit
 * before the last byte of `buffer`, which is kept for the NUL. */
static void append(char *buffer, size_t size, size_t *length, const char *text, size_t count) {
  if (*length + 1 < size) memcpy(buffer + *length, text, count < size - 1 - *length ? count : size - 1 - *length);
  *length += count;
}

int ttlink_tuning_export(struct ttlink_tuning *tuning, char *buffer, size_t size) {
  uint64_t context;
  if (current_context_key(&context) != CUDA_SUCCESS) return -1;
  int n = tuning->key_length;
  size_t length = 0;
  const int64_t *last = NULL;
  for (;;) { /* the decided keys of this context in order: the next after `last`, each round */
    int next = -1;
    for (int slot = 0; slot < TTLINK_TUNING_SLOTS; ++slot) {
      const int64_t *key = &tuning->keys[(size_t)slot * (size_t)n];
      if (__atomic_load_n(&tuning->states[slot], __ATOMIC_ACQUIRE) != TTLINK_SLOT_DECIDED ||
          tuning->contexts[slot] != context || (last != NULL && !key_before(last, key, n)))
        continue;
      if (next < 0 || key_before(key, &tuning->keys[(size_t)next * (size_t)n], n)) next = slot;
    }
    if (next < 0) break;
    last = &tuning->keys[(size_t)next * (size_t)n];
    for (int i = 0; i < n; ++i) {
      char value[24];
      append(buffer, size, &length, value, (size_t)snprintf(value, sizeof value, "%lld ", (long long)last[i]));
    }
    const char *name = tuning->algo_names[__atomic_load_n(&tuning->algos[next], __ATOMIC_RELAXED)];
    append(buffer, size, &length, name, strlen(name));
    append(buffer, size, &length, "\n", 1);
  }
  if (size > 0) buffer[length < size ? length : size - 1] = '\0';
  return (int)length;
}

/* Reads one line "V1 ... VN ALGO_NAME\n" of `text` into key[] and *algo; the text after it,
 * or NULL if the line is malformed or names no algo. */
static const char *parse_line(const struct ttlink_tuning *tuning, const char *text, int64_t *key, int *algo) {
  for (int i = 0; i < tuning->key_length; ++i) {
    if (*text != '-' && (*text < '0' || *text > '9')) return NULL;
    char *end;
    errno = 0;
    key[i] = strtoll(text, &end, 10);
    if (errno != 0 || *end != ' ') return NULL;
    text = end + 1;
  }
  const char *end = strchr(text, '\n');
  if (end == NULL) return NULL;
  for (*algo = 0; *algo < tuning->num_algos; ++*algo) {
    const char *name = tuning->algo_names[*algo];
    if (strlen(name) == (size_t)(end - text) && memcmp(name, text, (size_t)(end - text)) == 0) return end + 1;
  }
  return NULL;
}

CUresult ttlink_tuning_import(struct ttlink_tuning *tuning, const char *text) {
  uint64_t context;
  CUresult status = current_context_key(&context);
  if (status != CUDA_SUCCESS) return status;
  int64_t key[TTLINK_TUNING_MAX_KEY];
  int algo;
  if (tuning->key_length > TTLINK_TUNING_MAX_KEY) return CUDA_ERROR_NOT_SUPPORTED;
  for (const char *line = text; *line != '\0';) /* all of it well-formed before anything is decided */
    if ((line = parse_line(tuning, line, key, &algo)) == NULL) return CUDA_ERROR_INVALID_VALUE;
  for (const char *line = text; *line != '\0';) {
    line = parse_line(tuning, line, key, &algo);
    int state;
    int slot = find_slot(tuning, context, key, 1, &state);
    if (slot < 0) return CUDA_ERROR_OUT_OF_MEMORY;
    decide(tuning, slot, algo);
  }
  return CUDA_SUCCESS;
}
