/*
 * ttlink runtime: driver resolution, per-context module cache, binary choice, tensor maps,
 * scratch memory and launch. See ttlink_runtime.h for the contract, docs/DESIGN.md for why.
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

/* The largest cluster every device with clusters takes; above it a kernel must opt in. */
#define TTLINK_PORTABLE_CLUSTER_SIZE 8u

/* The alignment cuMemAllocAsync guarantees, and scratch allocators must. */
#define TTLINK_ALLOCATOR_ALIGN 256u

/* A tensor map's byte strides must stay below 2^40 (cuTensorMapEncodeTiled). */
#define TTLINK_MAX_TENSOR_STRIDE_BYTES ((int64_t)1 << 40)

/* The last driver (CUDA 13.1) whose tensor maps of small tensors need Triton's fix-up (encode_tensor_map). */
#define TTLINK_SMALL_TENSOR_MAP_FIX_DRIVER 13010

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
  /* Only for the kernels that need them (NULL in drivers before CUDA 12.0 / 11.2): */
  CUresult (*launch_kernel_ex)(const CUlaunchConfig *config, CUfunction function, void **params, void **extra);
  CUresult (*tensor_map_encode_tiled)(CUtensorMap *map, CUtensorMapDataType data_type, cuuint32_t rank,
                                      void *address, const cuuint64_t *dims, const cuuint64_t *strides,
                                      const cuuint32_t *box, const cuuint32_t *element_strides,
                                      CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                                      CUtensorMapL2promotion l2_promotion, CUtensorMapFloatOOBfill oob_fill);
  CUresult (*mem_alloc_async)(CUdeviceptr *pointer, size_t bytes, CUstream stream);
  CUresult (*mem_free_async)(CUdeviceptr pointer, CUstream stream);
  int version; /* cuDriverGetVersion, 0 if that failed */
  /* Run-time tuning only: without them (and mem_alloc_async, mem_free_async) K_autotuned
   * runs the table's choice. */
  CUresult (*memset_d32_async)(CUdeviceptr pointer, unsigned int value, size_t count, CUstream stream);
  CUresult (*event_create)(CUevent *event, unsigned int flags);
  CUresult (*event_record)(CUevent event, CUstream stream);
  CUresult (*event_synchronize)(CUevent event);
  CUresult (*event_elapsed_time)(float *milliseconds, CUevent start, CUevent end);
  CUresult (*event_destroy)(CUevent event);
  CUresult (*stream_is_capturing)(CUstream stream, CUstreamCaptureStatus *status);
};

/* A module loaded for one context. Nodes are never freed: readers walk the list without the
 * lock. After unload `function` is NULL and the node waits for a reload in the same context.
 * `image` is the binary loaded: its shared memory size, tensor map encodings and scratch sizes.
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
  const struct ttlink_image *image; /* written before `function` is published, read while counted */
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
  *(void **)(&driver.launch_kernel_ex) = symbol(library, "cuLaunchKernelEx", &optional);
  *(void **)(&driver.tensor_map_encode_tiled) = symbol(library, "cuTensorMapEncodeTiled", &optional);
  *(void **)(&driver.mem_alloc_async) = symbol(library, "cuMemAllocAsync", &optional);
  *(void **)(&driver.mem_free_async) = symbol(library, "cuMemFreeAsync", &optional);
  CUresult (*driver_get_version)(int *version);
  *(void **)(&driver_get_version) = symbol(library, "cuDriverGetVersion", &optional);
  if (driver_get_version == NULL || driver_get_version(&driver.version) != CUDA_SUCCESS) driver.version = 0;
  int timing_missing = 0;
#define TTLINK_RESOLVE_TIMING(field, name) *(void **)(&driver.field) = symbol(library, name, &timing_missing)
  TTLINK_RESOLVE_TIMING(memset_d32_async, "cuMemsetD32Async");
  TTLINK_RESOLVE_TIMING(event_create, "cuEventCreate");
  TTLINK_RESOLVE_TIMING(event_record, "cuEventRecord");
  TTLINK_RESOLVE_TIMING(event_synchronize, "cuEventSynchronize");
  TTLINK_RESOLVE_TIMING(event_elapsed_time, "cuEventElapsedTime");
  TTLINK_RESOLVE_TIMING(event_destroy, "cuEventDestroy_v2");
  TTLINK_RESOLVE_TIMING(stream_is_capturing, "cuStreamIsCapturing");
  if (timing_missing || driver.mem_alloc_async == NULL || driver.mem_free_async == NULL)
    driver.stream_is_capturing = NULL; /* tells tuning it cannot time */
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
                            const struct ttlink_image **loaded_image) {
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
  if (status == CUDA_SUCCESS && kernel->num_ctas > TTLINK_PORTABLE_CLUSTER_SIZE) /* 16, as Triton's launcher */
    status = driver.func_set_attribute(*function, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1);
  if (status != CUDA_SUCCESS) {
    driver.module_unload(*module);
    return status;
  }
  *loaded_image = image;
  return CUDA_SUCCESS;
}

/* The function loaded for the current context and the binary it comes from, loading it first
 * if needed. On success the launch is counted in `*counted`: hand that to release_function. */
static CUresult acquire_function(struct ttlink_variant *variant, struct ttlink_loaded **counted, CUfunction *function,
                                 const struct ttlink_image **image) {
  uint64_t key;
  CUresult status = current_context_key(&key);
  if (status != CUDA_SUCCESS) return status;
  struct ttlink_loaded *node = find_loaded(variant, key);
  if (node != NULL) {
    __atomic_add_fetch(&node->launches, 1, __ATOMIC_SEQ_CST);
    *function = __atomic_load_n(&node->function, __ATOMIC_SEQ_CST);
    if (*function != NULL) {
      *image = node->image;
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
    status = load_module(variant->kernel, &module, function, image);
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
      node->image = *image;
      __atomic_store_n(&node->function, *function, __ATOMIC_RELEASE);
    }
  } else {
    *image = node->image;
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

/* Whether NaN is a value of the type: padding 1 (out-of-bounds reads give NaN) needs it. */
static int is_floating_point(CUtensorMapDataType type) {
  switch (type) {
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT16:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT32:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT64:
    case CU_TENSOR_MAP_DATA_TYPE_BFLOAT16:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT32_FTZ:
    case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32:
    case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32_FTZ: return 1;
    default: return 0;
  }
}

/* What cuTensorMapEncodeTiled takes for one tensor argument, innermost dimension first. */
struct tensor_map_layout {
  cuuint64_t dims[5];
  cuuint64_t byte_strides[4]; /* of dimensions 1..rank-1: dimension 0 is contiguous */
  cuuint32_t box[5];
};

/* Checks `arg` against the binary's encoding `info` and lays it out as Triton's launcher
 * (driver.c fillTMADescriptorTiled) does: dimensions reversed, strides in bytes without the
 * innermost one, the box reversed, fp4_padded doubling the innermost dimension. Writes the
 * kernel's i32 shape. CUDA_ERROR_INVALID_VALUE for anything TMA or the kernel cannot take. */
static CUresult lay_out_tensor(const struct ttlink_tensor_map_info *info, const struct ttlink_tensor_arg *arg,
                               struct tensor_map_layout *layout) {
  int rank = info->rank;
  if (rank < 1 || rank > 5 || arg->base % 16 != 0 || (arg->padding != 0 && arg->padding != 1) ||
      (arg->padding == 1 && !is_floating_point(info->data_type)) || arg->strides[rank - 1] != 1)
    return CUDA_ERROR_INVALID_VALUE;
  for (int d = 0; d < rank; ++d) {
    /* The kernel takes the shape as i32; doubled for fp4 it stays within the map's 2^32. */
    if (arg->shape[d] < 1 || arg->shape[d] > INT32_MAX) return CUDA_ERROR_INVALID_VALUE;
    int innermost = d == rank - 1;
    layout->dims[rank - 1 - d] = (cuuint64_t)arg->shape[d] * (innermost && info->fp4_padded ? 2u : 1u);
    layout->box[rank - 1 - d] = info->block_shape[d];
    if (innermost) continue;
    int64_t stride = arg->strides[d];
    if (stride < 1 || stride >= TTLINK_MAX_TENSOR_STRIDE_BYTES) return CUDA_ERROR_INVALID_VALUE;
    int64_t bytes = stride * (int64_t)info->elem_size;
    if (bytes % 16 != 0 || bytes >= TTLINK_MAX_TENSOR_STRIDE_BYTES) return CUDA_ERROR_INVALID_VALUE;
    layout->byte_strides[rank - 2 - d] = (cuuint64_t)bytes;
  }
  for (int d = 0; d < rank; ++d) arg->shape32[d] = (int32_t)arg->shape[d];
  return CUDA_SUCCESS;
}

/* Fills arg->map with Triton's parameters (`arg` checked by lay_out_tensor before). Like Triton
 * (after CUTLASS), on drivers up to CUDA 13.1 the map of a tensor whose last element starts
 * less than 128 KiB - 1 bytes past its base gets bit 21 of its second word cleared, which
 * those drivers set wrongly for small tensors. */
static CUresult encode_tensor_map(const struct ttlink_tensor_map_info *info, const struct ttlink_tensor_arg *arg) {
  static const cuuint32_t element_strides[5] = {1, 1, 1, 1, 1};
  struct tensor_map_layout layout;
  CUresult status = lay_out_tensor(info, arg, &layout);
  if (status != CUDA_SUCCESS) return status;
  status = driver.tensor_map_encode_tiled(
      arg->map, info->data_type, (cuuint32_t)info->rank, (void *)(uintptr_t)arg->base, layout.dims,
      layout.byte_strides, layout.box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, info->swizzle,
      CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
      arg->padding == 1 ? CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA : CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (status != CUDA_SUCCESS || driver.version > TTLINK_SMALL_TENSOR_MAP_FIX_DRIVER) return status;
  uint64_t last_element = 0; /* its first byte's offset: below 5 x 2^32 x 2^40, no overflow */
  for (int d = 0; d < info->rank; ++d)
    last_element += (layout.dims[d] - 1) * (d == 0 ? info->elem_size : layout.byte_strides[d - 1]);
  if (last_element + 1 < 128 * 1024) arg->map->opaque[1] &= ~(1ull << 21);
  return status;
}

/* Where scratch memory comes from: the allocator set with ttlink_set_scratch_allocator, or
 * the driver's stream-ordered pool. */
struct scratch_allocator {
  ttlink_scratch_alloc alloc;
  ttlink_scratch_release release;
  void *user;
};

static CUresult stream_ordered_alloc(CUdeviceptr *pointer, size_t bytes, CUstream stream, void *user) {
  (void)user;
  if (driver.mem_alloc_async == NULL || driver.mem_free_async == NULL) return CUDA_ERROR_NOT_SUPPORTED;
  return driver.mem_alloc_async(pointer, bytes, stream);
}

static CUresult stream_ordered_release(CUdeviceptr pointer, size_t bytes, CUstream stream, void *user) {
  (void)bytes;
  (void)user;
  return driver.mem_free_async(pointer, stream);
}

static pthread_mutex_t scratch_allocator_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch_allocator scratch_allocator = {stream_ordered_alloc, stream_ordered_release, NULL};

CUresult ttlink_set_scratch_allocator(ttlink_scratch_alloc alloc, ttlink_scratch_release release, void *user) {
  if ((alloc == NULL) != (release == NULL)) return CUDA_ERROR_INVALID_VALUE;
  struct scratch_allocator chosen = {stream_ordered_alloc, stream_ordered_release, NULL};
  if (alloc != NULL) {
    chosen.alloc = alloc;
    chosen.release = release;
    chosen.user = user;
  }
  pthread_mutex_lock(&scratch_allocator_lock);
  scratch_allocator = chosen;
  pthread_mutex_unlock(&scratch_allocator_lock);
  return CUDA_SUCCESS;
}

/* The scratch of one launch, per slot (global, profile): the bytes the kernel uses (0: none),
 * the alignment it needs and what the allocator returned for them (0: nothing). */
struct scratch {
  int count;
  size_t bytes[2];
  size_t align[2];
  CUdeviceptr allocated[2];
  struct scratch_allocator allocator; /* the one current when the launch allocated */
};

/* What a slot asks the allocator for: its bytes, and room to round up to its alignment. */
static size_t allocated_bytes(const struct scratch *scratch, int slot) {
  return scratch->bytes[slot] + (scratch->align[slot] - TTLINK_ALLOCATOR_ALIGN);
}

/* The bytes of each slot for `programs` CTAs (per-program size x programs): CUDA_ERROR_INVALID_VALUE
 * if that, or that with the alignment's slack, overflows size_t. */
static CUresult size_scratch(const struct ttlink_kernel *kernel, const struct ttlink_image *image, size_t programs,
                             struct scratch *scratch) {
  const size_t per_program[2] = {image->global_scratch_bytes, image->profile_scratch_bytes};
  const size_t align[2] = {image->global_scratch_align, image->profile_scratch_align};
  scratch->count = kernel->num_scratch_params;
  for (int i = 0; i < scratch->count; ++i) {
    size_t with_slack;
    scratch->allocated[i] = 0;
    scratch->align[i] = align[i] > TTLINK_ALLOCATOR_ALIGN ? align[i] : TTLINK_ALLOCATOR_ALIGN;
    if (__builtin_mul_overflow(per_program[i], programs, &scratch->bytes[i]) ||
        __builtin_add_overflow(scratch->bytes[i], scratch->align[i] - TTLINK_ALLOCATOR_ALIGN, &with_slack))
      return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

/* Gives back what allocate_scratch allocated: the first failure, else CUDA_SUCCESS. */
static CUresult release_scratch(const struct scratch *scratch, CUstream stream) {
  CUresult status = CUDA_SUCCESS;
  for (int i = 0; i < scratch->count; ++i) {
    if (scratch->allocated[i] == 0) continue;
    CUresult released = scratch->allocator.release(scratch->allocated[i], allocated_bytes(scratch, i), stream,
                                                   scratch->allocator.user);
    if (status == CUDA_SUCCESS) status = released;
  }
  return status;
}

/* Fills the kernel's scratch pointers: 0 for a slot of 0 bytes, else memory from the current
 * allocator, over-allocated by the alignment less the 256 bytes it guarantees, rounded up.
 * On failure nothing stays allocated. */
static CUresult allocate_scratch(struct scratch *scratch, CUstream stream, CUdeviceptr *pointers) {
  for (int i = 0; i < scratch->count; ++i) {
    pointers[i] = 0;
    if (scratch->bytes[i] == 0) continue;
    if (scratch->allocator.alloc == NULL) { /* the first slot to allocate takes the allocator */
      pthread_mutex_lock(&scratch_allocator_lock);
      scratch->allocator = scratch_allocator;
      pthread_mutex_unlock(&scratch_allocator_lock);
    }
    size_t bytes = allocated_bytes(scratch, i);
    CUdeviceptr allocated = 0;
    CUresult status = scratch->allocator.alloc(&allocated, bytes, stream, scratch->allocator.user);
    if (status == CUDA_SUCCESS && (allocated == 0 || allocated % TTLINK_ALLOCATOR_ALIGN != 0)) {
      if (allocated != 0) scratch->allocator.release(allocated, bytes, stream, scratch->allocator.user);
      status = CUDA_ERROR_INVALID_VALUE; /* the allocator broke its contract */
    }
    if (status != CUDA_SUCCESS) {
      release_scratch(scratch, stream);
      return status;
    }
    scratch->allocated[i] = allocated;
    pointers[i] = (allocated + scratch->align[i] - 1) & ~(CUdeviceptr)(scratch->align[i] - 1);
  }
  return CUDA_SUCCESS;
}

/* cuLaunchKernelEx with the attributes Triton's launcher (driver.c _launch) gives, in its
 * order: PDL, cooperative, then a cluster of num_ctas in x, scheduled SPREAD. */
static CUresult launch_with_attributes(const struct ttlink_kernel *kernel, CUfunction function,
                                       unsigned int shared_bytes, CUstream stream, unsigned int grid_x,
                                       unsigned int grid_y, unsigned int grid_z, void **args) {
  CUlaunchAttribute attributes[4];
  memset(attributes, 0, sizeof attributes);
  unsigned int count = 0;
  if (kernel->launch_flags & TTLINK_LAUNCH_PDL) {
    attributes[count].id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attributes[count++].value.programmaticStreamSerializationAllowed = 1;
  }
  if (kernel->launch_flags & TTLINK_LAUNCH_COOPERATIVE) {
    attributes[count].id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
    attributes[count++].value.cooperative = 1;
  }
  unsigned int ctas = 1;
  if (kernel->num_ctas > 1) {
    ctas = kernel->num_ctas;
    attributes[count].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attributes[count].value.clusterDim.x = ctas;
    attributes[count].value.clusterDim.y = 1;
    attributes[count++].value.clusterDim.z = 1;
    attributes[count].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE;
    attributes[count++].value.clusterSchedulingPolicyPreference = CU_CLUSTER_SCHEDULING_POLICY_SPREAD;
  }
  CUlaunchConfig config;
  memset(&config, 0, sizeof config);
  config.gridDimX = grid_x * ctas; /* ttlink_launch checked it against the limit */
  config.gridDimY = grid_y;
  config.gridDimZ = grid_z;
  config.blockDimX = kernel->block_x;
  config.blockDimY = 1;
  config.blockDimZ = 1;
  config.sharedMemBytes = shared_bytes;
  config.hStream = stream;
  config.attrs = attributes;
  config.numAttrs = count;
  return driver.launch_kernel_ex(&config, function, args, NULL);
}

/* ttlink_launch of a kernel with tensor arguments, scratch or launch attributes: every check
 * before anything is allocated, the scratch released after the launch whatever its result. */
static CUresult launch_extended(const struct ttlink_kernel *kernel, const struct ttlink_image *image,
                                CUfunction function, CUstream stream, unsigned int grid_x, unsigned int grid_y,
                                unsigned int grid_z, void **args, struct ttlink_tensor_arg *tensors,
                                CUdeviceptr *scratch_pointers) {
  unsigned int ctas = kernel->num_ctas > 1 ? kernel->num_ctas : 1;
  int with_attributes = ctas > 1 || kernel->launch_flags != 0;
  if (kernel->num_tensor_args > 0 && image->tensor_maps == NULL) return CUDA_ERROR_INVALID_IMAGE;
  for (int i = 0; i < kernel->num_tensor_args; ++i) { /* every argument checked before any is encoded */
    struct tensor_map_layout layout;
    CUresult status = lay_out_tensor(&image->tensor_maps[i], &tensors[i], &layout);
    if (status != CUDA_SUCCESS) return status;
  }
  struct scratch scratch;
  memset(&scratch, 0, sizeof scratch);
  /* At most 2^31 x 2^16 x 2^16 CTAs in all: the product fits in 64 bits. */
  CUresult status = size_scratch(kernel, image, (size_t)((uint64_t)grid_x * ctas * grid_y * grid_z), &scratch);
  if (status != CUDA_SUCCESS) return status;
  if ((kernel->num_tensor_args > 0 && driver.tensor_map_encode_tiled == NULL) ||
      (with_attributes && driver.launch_kernel_ex == NULL))
    return CUDA_ERROR_NOT_SUPPORTED;
  for (int i = 0; i < kernel->num_tensor_args && status == CUDA_SUCCESS; ++i)
    status = encode_tensor_map(&image->tensor_maps[i], &tensors[i]);
  if (status == CUDA_SUCCESS) status = allocate_scratch(&scratch, stream, scratch_pointers);
  if (status != CUDA_SUCCESS) return status;
  if (with_attributes) {
    status = launch_with_attributes(kernel, function, image->shared_bytes, stream, grid_x, grid_y, grid_z, args);
  } else {
    status = driver.launch_kernel(function, grid_x, grid_y, grid_z, kernel->block_x, 1, 1, image->shared_bytes,
                                  stream, args, NULL);
  }
  CUresult released = release_scratch(&scratch, stream); /* stream-ordered: after the launch */
  return status != CUDA_SUCCESS ? status : released;
}

CUresult ttlink_launch(struct ttlink_variant *variant, CUstream stream, int64_t grid_x, int64_t grid_y,
                       int64_t grid_z, void **args, struct ttlink_tensor_arg *tensors, CUdeviceptr *scratch) {
  const struct ttlink_kernel *kernel = variant->kernel;
  int64_t ctas = kernel->num_ctas > 1 ? kernel->num_ctas : 1; /* gridDimX counts every CTA */
  if (grid_x == 0 || grid_y == 0 || grid_z == 0) return CUDA_SUCCESS;
  /* grid_x * ctas is below 2^63 once grid_x is within the limit: no overflow, no division. */
  if (grid_x < 0 || grid_y < 0 || grid_z < 0 || grid_x > TTLINK_MAX_GRID_X || grid_x * ctas > TTLINK_MAX_GRID_X ||
      grid_y > TTLINK_MAX_GRID_YZ || grid_z > TTLINK_MAX_GRID_YZ)
    return CUDA_ERROR_INVALID_VALUE;
  struct ttlink_loaded *node;
  CUfunction function;
  const struct ttlink_image *image;
  CUresult status = acquire_function(variant, &node, &function, &image);
  if (status == CUDA_SUCCESS) {
    if (kernel->num_tensor_args == 0 && kernel->num_scratch_params == 0 && ctas == 1 && kernel->launch_flags == 0) {
      status = driver.launch_kernel(function, (unsigned int)grid_x, (unsigned int)grid_y, (unsigned int)grid_z,
                                    kernel->block_x, 1, 1, image->shared_bytes, stream, args, NULL);
    } else {
      status = launch_extended(kernel, image, function, stream, (unsigned int)grid_x, (unsigned int)grid_y,
                               (unsigned int)grid_z, args, tensors, scratch);
    }
    release_function(node);
  }
  /* After the launch is uncounted, so that writing to stderr never holds up an unload. */
  if (report_variants && !__atomic_load_n(&variant->reported, __ATOMIC_RELAXED)) report_first_launch(variant);
  return status;
}

CUresult ttlink_load(struct ttlink_variant *variant) {
  struct ttlink_loaded *node;
  CUfunction function;
  const struct ttlink_image *image;
  CUresult status = acquire_function(variant, &node, &function, &image);
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

/* The bytes tuning writes before each timed launch to evict the operands from L2: twice the
 * device's L2 (a write of the cache's size alone may leave lines of it in place), a whole
 * number of 32-bit words. */
static CUresult flush_bytes(size_t *bytes) {
  CUdevice device;
  int l2_bytes = 0;
  CUresult status = driver.ctx_get_device(&device);
  if (status == CUDA_SUCCESS) status = driver.device_get_attribute(&l2_bytes, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, device);
  if (status == CUDA_SUCCESS && l2_bytes <= 0) status = CUDA_ERROR_NOT_SUPPORTED;
  *bytes = ((size_t)l2_bytes * 2 + 3) / 4 * 4;
  return status;
}

/* The median of `count` times, as torch.quantile(0.5) gives it (the mean of the middle two
 * for an even count): what Triton's autotuner ranks configs by. Sorts `times`. */
static float median(float *times, int count) {
  for (int i = 1; i < count; ++i)
    for (int j = i; j > 0 && times[j] < times[j - 1]; --j) {
      float swap = times[j];
      times[j] = times[j - 1];
      times[j - 1] = swap;
    }
  return count % 2 == 1 ? times[count / 2] : (times[count / 2 - 1] + times[count / 2]) / 2;
}

/* One algo's timing: whether each of its launches succeeded, and each round's time. */
struct algo_timing {
  int launched;
  float ms[TTLINK_TUNING_ROUNDS];
};

/* Times the algos as triton.testing.do_bench does for Triton's autotuner: each timed launch
 * alone between two events, after a write of the flush buffer on `stream` has evicted its
 * operands from L2. After one run of each algo (which loads it), each round times every algo
 * once, starting one algo further each round, so that neither drift of the clocks nor its
 * place after the previous round's wait favours an algo: TTLINK_TUNING_ROUNDS rounds, or
 * fewer for long kernels (at least TTLINK_TUNING_MIN_ROUNDS, until the timed launches took
 * TTLINK_TUNING_ALGO_MS per algo). Returns the rounds timed (in `timings`), or -1 if a driver
 * call failed. The launches an algo fails leave it out. */
static int time_rounds(struct algo_timing *timings, int num_algos, ttlink_run_algo run, CUstream stream,
                       const void *call, CUdeviceptr flush, size_t flush_bytes, CUevent start, CUevent end) {
  for (int algo = 0; algo < num_algos; ++algo) timings[algo].launched = run(algo, stream, call) == CUDA_SUCCESS;
  float timed_ms = 0;
  int round = 0;
  for (; round < TTLINK_TUNING_ROUNDS &&
         (round < TTLINK_TUNING_MIN_ROUNDS || timed_ms < (float)TTLINK_TUNING_ALGO_MS * (float)num_algos);
       ++round) {
    for (int i = 0; i < num_algos; ++i) {
      struct algo_timing *timing = &timings[(round + i) % num_algos];
      if (!timing->launched) continue;
      if (driver.memset_d32_async(flush, 0, flush_bytes / 4, stream) != CUDA_SUCCESS ||
          driver.event_record(start, stream) != CUDA_SUCCESS)
        return -1;
      timing->launched = run((int)(timing - timings), stream, call) == CUDA_SUCCESS;
      /* Waits for each launch: the next flush then starts on an idle device, and the two events
       * serve every launch. */
      if (driver.event_record(end, stream) != CUDA_SUCCESS || driver.event_synchronize(end) != CUDA_SUCCESS ||
          driver.event_elapsed_time(&timing->ms[round], start, end) != CUDA_SUCCESS)
        return -1;
      timed_ms += timing->ms[round];
    }
  }
  return round;
}

/* The algo of the least median time on `stream`, or `fallback` if timing fails. The flush
 * buffer is allocated once per tuning, stream-ordered (cuMemAllocAsync / cuMemFreeAsync). */
static int fastest_algo(struct ttlink_tuning *tuning, int fallback, ttlink_run_algo run, CUstream stream,
                        const void *call) {
  size_t bytes;
  if (flush_bytes(&bytes) != CUDA_SUCCESS) return fallback;
  struct algo_timing *timings = (struct algo_timing *)calloc((size_t)tuning->num_algos, sizeof *timings);
  if (timings == NULL) return fallback;
  CUevent start = NULL, end = NULL;
  CUdeviceptr flush = 0;
  int rounds = 0;
  int failed = driver.event_create(&start, CU_EVENT_DEFAULT) != CUDA_SUCCESS ||
               driver.event_create(&end, CU_EVENT_DEFAULT) != CUDA_SUCCESS ||
               driver.mem_alloc_async(&flush, bytes, stream) != CUDA_SUCCESS;
  if (!failed) {
    rounds = time_rounds(timings, tuning->num_algos, run, stream, call, flush, bytes, start, end);
    failed = driver.mem_free_async(flush, stream) != CUDA_SUCCESS || rounds < 0;
  }
  if (start != NULL) driver.event_destroy(start);
  if (end != NULL) driver.event_destroy(end);
  int best = fallback, timed = 0;
  float best_ms = 0;
  for (int algo = 0; algo < tuning->num_algos && !failed; ++algo) {
    if (!timings[algo].launched) continue;
    float ms = median(timings[algo].ms, rounds);
    if (!timed || ms < best_ms) {
      best = algo;
      best_ms = ms;
      timed = 1;
    }
  }
  free(timings);
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
