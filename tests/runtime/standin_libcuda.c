/*
 * A recording stand-in for libcuda.so.1, loaded by the ttlink runtime through
 * TTLINK_LIBCUDA_PATH in CPU-only tests. It exports the driver functions the runtime
 * resolves, plus cuCtxSetCurrent, standin_context_create/destroy and
 * standin_scratch_outstanding for the test harnesses.
 *
 * Configured by environment variables, read once on first use:
 *   STANDIN_LOG           file that gets one line per load, unload, attribute set, launch,
 *                         tensor map encode, stream-ordered allocation, free and memset
 *   STANDIN_DEVICES       compute capability of each device, e.g. "8.0,9.0" (default "9.0")
 *   STANDIN_FAIL          "cuFunction:code,..." makes those functions return the code
 *   STANDIN_OPTIN_SHARED  the device's opt-in shared memory limit (default 232448, an H100)
 *   STANDIN_PARAM_SIZES   byte size of each kernel parameter, so launches log argument bytes
 *   STANDIN_LOAD_DELAY_US sleep inside cuModuleLoadData, to widen first-launch races
 *   STANDIN_LAUNCH_DELAY_US sleep inside cuLaunchKernel, to widen launch/unload races
 *   STANDIN_EVENT_MS      "BLOCK:MS,...": how long a launch of BLOCK threads per block takes
 *                         (default 1 ms), as CUDA events on the launching thread time it
 *   STANDIN_COLD_EVENT_MS likewise for a launch whose thread wrote memory with cuMemsetD32Async
 *                         since its last launch (an L2 flush: operands cold); default: as hot.
 *                         "BLOCK:MS/MS/...": the process's k-th cold launch of BLOCK takes the
 *                         k-th time, cycling
 *   STANDIN_L2_BYTES      the device's CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE (default 52428800, an H100)
 *   STANDIN_CAPTURING     set: cuStreamIsCapturing says every stream is being captured
 *   STANDIN_DRIVER_VERSION what cuDriverGetVersion says (default 13000, CUDA 13.0)
 * Built without cuCtxGetId when compiled with -DSTANDIN_NO_CTX_ID (drivers before CUDA 12),
 * and without cuLaunchKernelEx, cuTensorMapEncodeTiled, cuMemAllocAsync and cuMemFreeAsync
 * with -DSTANDIN_NO_EXTENDED_LAUNCH (drivers before CUDA 11.2).
 *
 * cuMemAllocAsync returns addresses aligned to 256 bytes and to no more, as few as a real
 * pool may; cuMemFreeAsync of an address that is not allocated aborts with a message (a
 * double free), as does cuMemsetD32Async of bytes outside every live allocation, and a
 * launch of an unloaded module's function.
 *
 * Using a function of an unloaded module is undefined in the real driver; here it aborts with
 * a message on stderr, whichever of the launch and the unload comes first. Unloaded modules
 * stay allocated (and reachable, so not leaks) to make that check possible.
 */
#include <cuda.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEVICES 8
#define MAX_CONTEXTS 8
#define MAX_PARAMS 64
#define MAX_ALLOCATIONS 65536

struct standin_context {
  int in_use;
  int device;
  unsigned long long id;
};

struct standin_module;

struct standin_function {
  struct standin_module *module;
  char name[128];
  int max_dynamic_shared;
  int non_portable_cluster_size_allowed;
};

/* One cuMemAllocAsync: live until its cuMemFreeAsync. */
struct standin_allocation {
  CUdeviceptr pointer;
  size_t bytes;
  int live;
};

/* A loaded image; it holds the one function the runtime asks for. */
struct standin_module {
  unsigned long long context_id;
  char image[32]; /* "sm_90" for a cubin, "ptx_sm_80" for PTX */
  struct standin_function function;
  int unloaded;                /* atomic */
  int launching;               /* atomic: calls of cuLaunchKernel with its function in progress */
  struct standin_module *next; /* the list of every module loaded, under `lock` */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static FILE *log_file;
static int num_devices = 1;
static int device_cc[MAX_DEVICES] = {90};
static char fail_spec[512];
static int optin_shared = 232448;
static int param_sizes[MAX_PARAMS];
static int num_param_sizes;
static int load_delay_us;
static int launch_delay_us;
static char event_ms[512];
static char cold_event_ms[512];
static int l2_bytes = 52428800;
static int capturing;
static int driver_version = 13000;
static struct standin_allocation allocations[MAX_ALLOCATIONS]; /* under `lock` */
static int num_allocations;
/* The launching thread's clock, which its launches advance: events time the launches made
 * between them by the thread that records them, as a stream's events would. */
static __thread double thread_clock_ms;
/* Whether the thread wrote memory (flushed L2) since its last launch: that launch runs cold. */
static __thread int thread_flushed;
static struct standin_module *modules;
static struct standin_context contexts[MAX_CONTEXTS];
static unsigned long long next_context_id = 1;
static __thread struct standin_context *current;

static void read_config(void) {
  const char *value = getenv("STANDIN_LOG");
  if (value != NULL) log_file = fopen(value, "a");
  value = getenv("STANDIN_DEVICES");
  if (value != NULL) {
    num_devices = 0;
    while (*value != '\0' && num_devices < MAX_DEVICES) {
      int major = 0, minor = 0, used = 0;
      if (sscanf(value, "%d.%d%n", &major, &minor, &used) != 2) break;
      device_cc[num_devices++] = 10 * major + minor;
      value += used;
      if (*value == ',') ++value;
    }
  }
  value = getenv("STANDIN_FAIL");
  if (value != NULL) snprintf(fail_spec, sizeof fail_spec, ",%s,", value);
  value = getenv("STANDIN_OPTIN_SHARED");
  if (value != NULL) optin_shared = atoi(value);
  value = getenv("STANDIN_PARAM_SIZES");
  while (value != NULL && *value != '\0' && num_param_sizes < MAX_PARAMS) {
    char *end;
    param_sizes[num_param_sizes++] = (int)strtol(value, &end, 10);
    value = *end == ',' ? end + 1 : end;
    if (end == value && *end != '\0') break;
  }
  value = getenv("STANDIN_LOAD_DELAY_US");
  if (value != NULL) load_delay_us = atoi(value);
  value = getenv("STANDIN_LAUNCH_DELAY_US");
  if (value != NULL) launch_delay_us = atoi(value);
  value = getenv("STANDIN_EVENT_MS");
  if (value != NULL) snprintf(event_ms, sizeof event_ms, ",%s,", value);
  value = getenv("STANDIN_COLD_EVENT_MS");
  if (value != NULL) snprintf(cold_event_ms, sizeof cold_event_ms, ",%s,", value);
  value = getenv("STANDIN_L2_BYTES");
  if (value != NULL) l2_bytes = atoi(value);
  capturing = getenv("STANDIN_CAPTURING") != NULL;
  value = getenv("STANDIN_DRIVER_VERSION");
  if (value != NULL) driver_version = atoi(value);
}

/* How long STANDIN_EVENT_MS (or STANDIN_COLD_EVENT_MS, after a flush) says a launch of
 * `block_x` threads per block takes. */
static double launch_ms(unsigned int block_x, int cold) {
  static unsigned int cold_launches[1025]; /* atomic, per block size */
  char key[32];
  snprintf(key, sizeof key, ",%u:", block_x);
  const char *found = cold ? strstr(cold_event_ms, key) : NULL;
  if (found == NULL) {
    found = strstr(event_ms, key);
    return found != NULL ? atof(found + strlen(key)) : 1.0;
  }
  found += strlen(key);
  unsigned int times = 1;
  for (const char *c = found; *c != ','; ++c) times += *c == '/';
  unsigned int k = __atomic_fetch_add(&cold_launches[block_x <= 1024 ? block_x : 0], 1, __ATOMIC_RELAXED) % times;
  for (; k > 0; --k) found = strchr(found, '/') + 1;
  return atof(found);
}

/* Reports a use of a function whose module was unloaded, which the real driver does not
 * define, and stops the process. */
static void unloaded_module_used(const char *what, const struct standin_module *module) {
  fprintf(stderr, "standin_libcuda: %s (context %llu, image %s)\n", what, module->context_id, module->image);
  abort();
}

static void record(const char *format, ...) {
  if (log_file == NULL) return;
  va_list args;
  va_start(args, format);
  pthread_mutex_lock(&lock);
  vfprintf(log_file, format, args);
  fputc('\n', log_file);
  fflush(log_file);
  pthread_mutex_unlock(&lock);
  va_end(args);
}

/* The error configured for `function`, or CUDA_SUCCESS. */
static CUresult injected(const char *function) {
  pthread_once(&config_once, read_config);
  if (fail_spec[0] == '\0') return CUDA_SUCCESS;
  char key[96];
  snprintf(key, sizeof key, ",%s:", function);
  const char *found = strstr(fail_spec, key);
  return found != NULL ? (CUresult)atoi(found + strlen(key)) : CUDA_SUCCESS;
}

/* "sm_XX" from a cubin's ELF e_flags, or "ptx_sm_XX" from PTX's .target line. */
static void describe_image(const unsigned char *image, char *out, size_t size) {
  if (memcmp(image, "\177ELF", 4) == 0) {
    unsigned int flags;
    memcpy(&flags, image + 48, sizeof flags);
    /* ELF ABI version 8 (CUDA 13 ptxas) keeps the SM in bits 8-15, older ones in the low byte. */
    unsigned int sm = image[8] >= 8 ? (flags >> 8) & 0xff : flags & 0xff;
    snprintf(out, size, "sm_%u", sm);
    return;
  }
  const char *target = strstr((const char *)image, ".target sm_");
  unsigned int sm = 0;
  if (target != NULL) sscanf(target, ".target sm_%u", &sm);
  snprintf(out, size, "ptx_sm_%u", sm);
}

CUresult cuDriverGetVersion(int *version) {
  pthread_once(&config_once, read_config);
  *version = driver_version;
  return injected("cuDriverGetVersion");
}

CUresult cuInit(unsigned int flags) {
  (void)flags;
  CUresult status = injected("cuInit");
  record("init status=%d", (int)status);
  return status;
}

CUcontext standin_context_create(int device) {
  pthread_once(&config_once, read_config);
  pthread_mutex_lock(&lock);
  struct standin_context *context = NULL;
  for (int i = 0; i < MAX_CONTEXTS && context == NULL; ++i) {
    if (!contexts[i].in_use) context = &contexts[i];
  }
  if (context != NULL) {
    context->in_use = 1;
    context->device = device;
    context->id = next_context_id++;
  }
  pthread_mutex_unlock(&lock);
  return (CUcontext)context;
}

void standin_context_destroy(CUcontext handle) {
  pthread_mutex_lock(&lock);
  ((struct standin_context *)handle)->in_use = 0;
  pthread_mutex_unlock(&lock);
}

CUresult cuCtxSetCurrent(CUcontext handle) {
  current = (struct standin_context *)handle;
  return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext *handle) {
  *handle = (CUcontext)current;
  return CUDA_SUCCESS;
}

#ifndef STANDIN_NO_CTX_ID
CUresult cuCtxGetId(CUcontext handle, unsigned long long *id) {
  *id = ((struct standin_context *)handle)->id;
  return CUDA_SUCCESS;
}
#endif

CUresult cuCtxGetDevice(CUdevice *device) {
  if (current == NULL) return CUDA_ERROR_INVALID_CONTEXT;
  *device = current->device;
  return injected("cuCtxGetDevice");
}

CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attribute, CUdevice device) {
  CUresult status = injected("cuDeviceGetAttribute");
  if (status != CUDA_SUCCESS) return status;
  if (device < 0 || device >= num_devices) return CUDA_ERROR_INVALID_DEVICE;
  switch (attribute) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = device_cc[device] / 10; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = device_cc[device] % 10; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *value = optin_shared; break;
    case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *value = l2_bytes; break;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  CUresult status = injected("cuModuleLoadData");
  if (load_delay_us > 0) usleep((useconds_t)load_delay_us);
  struct standin_module *loaded = calloc(1, sizeof *loaded);
  describe_image((const unsigned char *)image, loaded->image, sizeof loaded->image);
  loaded->context_id = current != NULL ? current->id : 0;
  record("load context=%llu image=%s status=%d", loaded->context_id, loaded->image, (int)status);
  if (status != CUDA_SUCCESS) {
    free(loaded);
    return status;
  }
  pthread_mutex_lock(&lock);
  loaded->next = modules;
  modules = loaded;
  pthread_mutex_unlock(&lock);
  *module = (CUmodule)loaded;
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule handle) {
  struct standin_module *module = (struct standin_module *)handle;
  record("unload context=%llu image=%s", module->context_id, module->image);
  if (__atomic_exchange_n(&module->unloaded, 1, __ATOMIC_SEQ_CST))
    unloaded_module_used("cuModuleUnload of an unloaded module", module);
  /* With cuLaunchKernel's check in the other order, one of the two sees the other. */
  if (__atomic_load_n(&module->launching, __ATOMIC_SEQ_CST) != 0)
    unloaded_module_used("cuModuleUnload while cuLaunchKernel runs its function", module);
  return injected("cuModuleUnload");
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module, const char *name) {
  CUresult status = injected("cuModuleGetFunction");
  if (status != CUDA_SUCCESS) return status;
  struct standin_function *found = &((struct standin_module *)module)->function;
  found->module = (struct standin_module *)module;
  snprintf(found->name, sizeof found->name, "%s", name);
  *function = (CUfunction)found;
  return CUDA_SUCCESS;
}

CUresult cuFuncSetAttribute(CUfunction handle, CUfunction_attribute attribute, int value) {
  CUresult status = injected("cuFuncSetAttribute");
  if (status != CUDA_SUCCESS) return status;
  struct standin_function *function = (struct standin_function *)handle;
  if (attribute == CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED) {
    function->non_portable_cluster_size_allowed = value;
    record("set_non_portable_cluster_size_allowed %d", value);
    return CUDA_SUCCESS;
  }
  if (attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES || value > optin_shared)
    return CUDA_ERROR_INVALID_VALUE;
  function->max_dynamic_shared = value;
  record("set_max_dynamic_shared %d", value);
  return CUDA_SUCCESS;
}

/* Logs a launch (`kind` "launch" for cuLaunchKernel, "launch_ex" for cuLaunchKernelEx, whose
 * attributes are in `details`) with the bytes of its parameters, checks it as the driver
 * would, and returns the result. `cluster_x` is the cluster's size in x (1: none). */
static CUresult launch(const char *kind, CUfunction handle, unsigned int grid_x, unsigned int grid_y,
                       unsigned int grid_z, unsigned int block_x, unsigned int block_y, unsigned int block_z,
                       unsigned int shared, CUstream stream, void **params, const char *details,
                       unsigned int cluster_x) {
  pthread_once(&config_once, read_config);
  struct standin_function *function = (struct standin_function *)handle;
  struct standin_module *module = function->module;
  __atomic_add_fetch(&module->launching, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&module->unloaded, __ATOMIC_SEQ_CST))
    unloaded_module_used("cuLaunchKernel with a function of an unloaded module", module);
  if (launch_delay_us > 0) usleep((useconds_t)launch_delay_us);
  char bytes[8192] = "";
  size_t used = 0;
  for (int i = 0; log_file != NULL && i < num_param_sizes && used + 2 * (size_t)param_sizes[i] + 2 < sizeof bytes;
       ++i) {
    const unsigned char *arg = (const unsigned char *)params[i];
    if (i > 0) bytes[used++] = ':';
    for (int b = 0; b < param_sizes[i]; ++b) used += (size_t)snprintf(bytes + used, 3, "%02x", arg[b]);
  }
  bytes[used] = '\0';
  unsigned long long context_id = current != NULL ? current->id : 0;
  record("%s context=%llu module_context=%llu image=%s name=%s grid=%u,%u,%u block=%u,%u,%u shared=%u stream=%p "
         "%s args=%s",
         kind, context_id, module->context_id, module->image, function->name, grid_x, grid_y, grid_z, block_x,
         block_y, block_z, shared, (void *)stream, details, bytes);
  CUresult status;
  if (context_id != module->context_id) {
    status = CUDA_ERROR_INVALID_HANDLE;
  } else if (shared > 49152 && (int)shared > function->max_dynamic_shared) {
    status = CUDA_ERROR_INVALID_VALUE;
  } else if (grid_x % cluster_x != 0 || (cluster_x > 8 && !function->non_portable_cluster_size_allowed)) {
    status = CUDA_ERROR_INVALID_CLUSTER_SIZE;
  } else {
    status = injected(strcmp(kind, "launch") == 0 ? "cuLaunchKernel" : "cuLaunchKernelEx");
  }
  if (status == CUDA_SUCCESS) thread_clock_ms += launch_ms(block_x, thread_flushed);
  thread_flushed = 0;
  __atomic_sub_fetch(&module->launching, 1, __ATOMIC_SEQ_CST);
  return status;
}

CUresult cuLaunchKernel(CUfunction handle, unsigned int grid_x, unsigned int grid_y, unsigned int grid_z,
                        unsigned int block_x, unsigned int block_y, unsigned int block_z, unsigned int shared,
                        CUstream stream, void **params, void **extra) {
  char details[64];
  snprintf(details, sizeof details, "extra=%p", (void *)extra);
  return launch("launch", handle, grid_x, grid_y, grid_z, block_x, block_y, block_z, shared, stream, params, details,
                1);
}

#ifndef STANDIN_NO_EXTENDED_LAUNCH
/* Logs the attributes as attrs=ID:VALUE,... (a cluster's dimension as XxYxZ) and extra. */
CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction handle, void **params, void **extra) {
  char details[512];
  size_t used = (size_t)snprintf(details, sizeof details, "attrs=");
  unsigned int cluster_x = 1;
  for (unsigned int i = 0; i < config->numAttrs && used + 64 < sizeof details; ++i) {
    const CUlaunchAttribute *attribute = &config->attrs[i];
    used += (size_t)snprintf(details + used, sizeof details - used, "%s%d:", i > 0 ? "," : "", (int)attribute->id);
    switch (attribute->id) {
      case CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION:
        cluster_x = attribute->value.clusterDim.x;
        used += (size_t)snprintf(details + used, sizeof details - used, "%ux%ux%u", attribute->value.clusterDim.x,
                                 attribute->value.clusterDim.y, attribute->value.clusterDim.z);
        break;
      case CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
        used += (size_t)snprintf(details + used, sizeof details - used, "%d",
                                 (int)attribute->value.clusterSchedulingPolicyPreference);
        break;
      case CU_LAUNCH_ATTRIBUTE_COOPERATIVE:
        used += (size_t)snprintf(details + used, sizeof details - used, "%d", attribute->value.cooperative);
        break;
      case CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION:
        used += (size_t)snprintf(details + used, sizeof details - used, "%d",
                                 attribute->value.programmaticStreamSerializationAllowed);
        break;
      default: used += (size_t)snprintf(details + used, sizeof details - used, "?"); break;
    }
  }
  snprintf(details + used, sizeof details - used, " extra=%p", (void *)extra);
  return launch("launch_ex", handle, config->gridDimX, config->gridDimY, config->gridDimZ, config->blockDimX,
                config->blockDimY, config->blockDimZ, config->sharedMemBytes, config->hStream, params, details,
                cluster_x);
}

/* Writes "NAME=V1,V2,..." of `count` values at `*used` in `line`. */
static void list(char *line, size_t size, size_t *used, const char *name, const cuuint64_t *values64,
                 const cuuint32_t *values32, unsigned int count) {
  *used += (size_t)snprintf(line + *used, size - *used, " %s=", name);
  for (unsigned int i = 0; i < count; ++i)
    *used += (size_t)snprintf(line + *used, size - *used, "%s%llu", i > 0 ? "," : "",
                              values64 != NULL ? (unsigned long long)values64[i] : (unsigned long long)values32[i]);
}

/* Logs every parameter. The map it writes: the address in word 0, every bit of word 1 set
 * (the runtime clears bit 21 for small tensors on old drivers), 0x5a bytes after. */
CUresult cuTensorMapEncodeTiled(CUtensorMap *map, CUtensorMapDataType data_type, cuuint32_t rank, void *address,
                                const cuuint64_t *dims, const cuuint64_t *strides, const cuuint32_t *box,
                                const cuuint32_t *element_strides, CUtensorMapInterleave interleave,
                                CUtensorMapSwizzle swizzle, CUtensorMapL2promotion l2_promotion,
                                CUtensorMapFloatOOBfill oob_fill) {
  CUresult status = injected("cuTensorMapEncodeTiled");
  char line[1024];
  size_t used = (size_t)snprintf(line, sizeof line, "encode type=%d rank=%u address=%p", (int)data_type, rank, address);
  list(line, sizeof line, &used, "dims", dims, NULL, rank);
  list(line, sizeof line, &used, "strides", strides, NULL, rank - 1);
  list(line, sizeof line, &used, "box", NULL, box, rank);
  list(line, sizeof line, &used, "element_strides", NULL, element_strides, rank);
  record("%s interleave=%d swizzle=%d l2=%d fill=%d status=%d", line, (int)interleave, (int)swizzle,
         (int)l2_promotion, (int)oob_fill, (int)status);
  if (status != CUDA_SUCCESS) return status;
  memset(map, 0x5a, sizeof *map);
  map->opaque[0] = (cuuint64_t)(uintptr_t)address;
  map->opaque[1] = ~(cuuint64_t)0;
  return CUDA_SUCCESS;
}

CUresult cuMemAllocAsync(CUdeviceptr *pointer, size_t bytes, CUstream stream) {
  CUresult status = injected("cuMemAllocAsync");
  CUdeviceptr allocated = 0;
  if (status == CUDA_SUCCESS) {
    pthread_mutex_lock(&lock);
    if (num_allocations == MAX_ALLOCATIONS) {
      status = CUDA_ERROR_OUT_OF_MEMORY;
    } else {
      /* 64 GiB apart, 256 bytes past a 64 GiB boundary: aligned to 256 and to nothing larger. */
      allocated = ((CUdeviceptr)(num_allocations + 1) << 36) + 256;
      allocations[num_allocations++] = (struct standin_allocation){allocated, bytes, 1};
    }
    pthread_mutex_unlock(&lock);
  }
  record("mem_alloc_async bytes=%zu stream=%p pointer=0x%llx status=%d", bytes, (void *)stream,
         (unsigned long long)allocated, (int)status);
  if (status == CUDA_SUCCESS) *pointer = allocated;
  return status;
}

/* Frees even when STANDIN_FAIL makes it return an error, so that the test of that error
 * sees no leak. */
CUresult cuMemFreeAsync(CUdeviceptr pointer, CUstream stream) {
  int found = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < num_allocations && !found; ++i) {
    if (allocations[i].pointer == pointer && allocations[i].live) {
      allocations[i].live = 0;
      found = 1;
    }
  }
  pthread_mutex_unlock(&lock);
  if (!found) {
    fprintf(stderr, "standin_libcuda: cuMemFreeAsync of 0x%llx, which is not allocated\n",
            (unsigned long long)pointer);
    abort();
  }
  CUresult status = injected("cuMemFreeAsync");
  record("mem_free_async pointer=0x%llx stream=%p status=%d", (unsigned long long)pointer, (void *)stream,
         (int)status);
  return status;
}
#endif

/* Logs the write and marks the thread's next launch cold; aborts when the bytes are not all
 * inside one live allocation. */
CUresult cuMemsetD32Async(CUdeviceptr pointer, unsigned int value, size_t count, CUstream stream) {
  CUresult status = injected("cuMemsetD32Async");
  int inside = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < num_allocations && !inside; ++i) {
    const struct standin_allocation *allocation = &allocations[i];
    inside = allocation->live && pointer >= allocation->pointer && count <= allocation->bytes / 4 &&
             pointer - allocation->pointer <= allocation->bytes - 4 * count;
  }
  pthread_mutex_unlock(&lock);
  if (!inside) {
    fprintf(stderr, "standin_libcuda: cuMemsetD32Async of %zu words at 0x%llx, not allocated\n", count,
            (unsigned long long)pointer);
    abort();
  }
  record("memset_d32_async pointer=0x%llx value=%u count=%zu stream=%p status=%d", (unsigned long long)pointer, value,
         count, (void *)stream, (int)status);
  if (status == CUDA_SUCCESS) thread_flushed = 1;
  return status;
}

/* How many cuMemAllocAsync allocations are not freed. */
int standin_scratch_outstanding(void) {
  int outstanding = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < num_allocations; ++i) outstanding += allocations[i].live;
  pthread_mutex_unlock(&lock);
  return outstanding;
}

/* An event is the recording thread's clock when it was recorded. */
CUresult cuEventCreate(CUevent *event, unsigned int flags) {
  CUresult status = injected("cuEventCreate");
  if (status != CUDA_SUCCESS) return status;
  *event = (CUevent)calloc(1, sizeof(double));
  record("event_create flags=%u", flags);
  return *event != NULL ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuEventRecord(CUevent event, CUstream stream) {
  *(double *)event = thread_clock_ms;
  record("event_record stream=%p", (void *)stream);
  return injected("cuEventRecord");
}

CUresult cuEventSynchronize(CUevent event) {
  (void)event;
  return injected("cuEventSynchronize");
}

/* The runtime resolves the name every driver exports; cuda.h of CUDA 13 renames it to _v2. */
#undef cuEventElapsedTime
CUresult cuEventElapsedTime(float *milliseconds, CUevent start, CUevent end) {
  *milliseconds = (float)(*(double *)end - *(double *)start);
  return injected("cuEventElapsedTime");
}

CUresult cuEventDestroy_v2(CUevent event) {
  record("event_destroy event=%p", (void *)event);
  free(event);
  return CUDA_SUCCESS;
}

CUresult cuStreamIsCapturing(CUstream stream, CUstreamCaptureStatus *status) {
  pthread_once(&config_once, read_config);
  *status = capturing ? CU_STREAM_CAPTURE_STATUS_ACTIVE : CU_STREAM_CAPTURE_STATUS_NONE;
  record("is_capturing stream=%p capturing=%d", (void *)stream, capturing);
  return injected("cuStreamIsCapturing");
}
