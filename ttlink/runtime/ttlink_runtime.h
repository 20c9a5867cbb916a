/*
 * ttlink runtime: loads and launches the kernels that `ttlink compile` generates.
 *
 * Compile ttlink_runtime.c once per binary, beside the generated kernel sources; they include
 * this header. The CUDA driver is opened with dlopen("libcuda.so.1") on first use
 * (TTLINK_LIBCUDA_PATH overrides the path), so nothing links -lcuda and a binary starts on
 * a machine without a GPU. No function exits or aborts: each failure is a CUresult. Nothing
 * is printed unless TTLINK_REPORT_VARIANTS asks (see ttlink_launch).
 *
 * This is an internal interface between the runtime and generated code; applications call
 * the generated entry points (`S`, `load_S`, `unload_S`) instead, and may call
 * ttlink_set_scratch_allocator.
 */
#ifndef TTLINK_RUNTIME_H
#define TTLINK_RUNTIME_H

#include <cuda.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ttlink_image_format { TTLINK_CUBIN, TTLINK_PTX };

/* How one binary encodes one host tensor descriptor argument (its tensordesc_meta entry). */
struct ttlink_tensor_map_info {
  CUtensorMapDataType data_type; /* the HOST enum (mapped from Triton's device enum at compile time) */
  CUtensorMapSwizzle swizzle;
  int rank;                      /* 1..5 */
  unsigned int elem_size;        /* bytes */
  uint32_t block_shape[5];       /* the box, outermost first (Triton's order); rank used */
  int fp4_padded;                /* packed fp4: the map's innermost dimension is twice the shape's */
};

/* One binary of a kernel: a cubin for one GPU architecture, or PTX for the driver to JIT. */
struct ttlink_image {
  enum ttlink_image_format format;
  int arch;                  /* 10 * major + minor: the cubin's target, or the PTX's .target */
  unsigned int shared_bytes; /* dynamic shared memory per block this binary launches with */
  const unsigned char *data; /* PTX is NUL-terminated */
  size_t size;
  const struct ttlink_tensor_map_info *tensor_maps; /* one per tensor argument; NULL if none */
  size_t global_scratch_bytes;  /* per program (per CTA: times num_ctas); 0 if none */
  size_t global_scratch_align;  /* bytes, a power of two (1 if none) */
  size_t profile_scratch_bytes; /* likewise, for the profiler's scratch */
  size_t profile_scratch_align;
};

#define TTLINK_LAUNCH_COOPERATIVE 1u /* a cooperative grid (CU_LAUNCH_ATTRIBUTE_COOPERATIVE) */
#define TTLINK_LAUNCH_PDL 2u         /* programmatic dependent launch (..._PROGRAMMATIC_STREAM_SERIALIZATION) */

/* A compiled kernel variant: its binaries (in any order), launch shape and description. */
struct ttlink_kernel {
  const char *name; /* the entry's name inside every binary */
  const struct ttlink_image *images;
  int num_images;
  unsigned int block_x;    /* num_warps * 32 threads */
  const char *description; /* its API, algo, symbol and specialisation, for TTLINK_REPORT_VARIANTS */
  int num_tensor_args;     /* host tensor descriptor arguments */
  int num_scratch_params;  /* hidden trailing scratch pointers the binary takes (0..2: global, profile) */
  unsigned int num_ctas;   /* CTAs per cluster (1: no cluster) */
  unsigned int launch_flags; /* TTLINK_LAUNCH_* */
};

/* One host tensor descriptor argument of a launch: what the caller passed, and where the
 * kernel parameters made from it live. The runtime fills `map` and `shape32` from the
 * tensor_maps entry of the binary it launches for the current context. */
struct ttlink_tensor_arg {
  CUdeviceptr base;
  const int64_t *shape;   /* rank values, elements, outermost first */
  const int64_t *strides; /* rank values, elements; the last must be 1 */
  int32_t padding;        /* 0: out-of-bounds reads give zero, 1: NaN */
  CUtensorMap *map;       /* out: the kernel's CUtensorMap parameter */
  int32_t *shape32;       /* out: the kernel's i32 shape parameters (rank of them) */
};

struct ttlink_loaded; /* the module loaded for one CUDA context (private to the runtime) */

/* Per-variant state. Define one with TTLINK_VARIANT_INIT and never copy it. */
struct ttlink_variant {
  const struct ttlink_kernel *kernel;
  pthread_mutex_t lock;          /* serialises loads and unloads */
  struct ttlink_loaded *loaded;  /* per-context modules, read without the lock */
  int reported;                  /* atomic: TTLINK_REPORT_VARIANTS has described it */
};

#define TTLINK_VARIANT_INIT(kernel) {(kernel), PTHREAD_MUTEX_INITIALIZER, NULL, 0}

/*
 * Launches the variant in the current context on `stream` with `args`: one pointer per kernel
 * parameter, hidden ones included (tensor maps -> tensors[i].map, their shapes ->
 * &tensors[i].shape32[d], scratch -> &scratch[i]). `tensors` has num_tensor_args entries and
 * `scratch` num_scratch_params slots (each NULL when there are none). The module is loaded
 * on the first launch in each context. A grid with a zero dimension returns CUDA_SUCCESS
 * without launching; a negative one, or one above the limits of every device since compute
 * capability 3.0 (2^31 - 1 blocks in x, counting num_ctas per program, 65535 in y and z),
 * returns CUDA_ERROR_INVALID_VALUE without launching.
 *
 * A kernel without tensor arguments, scratch, clusters or launch flags is launched with
 * cuLaunchKernel, as it always was. Otherwise:
 * - Tensor arguments are checked against the tensor_maps entry of the binary chosen for the
 *   device, then encoded with cuTensorMapEncodeTiled as Triton's launcher does (docs/DESIGN.md).
 *   CUDA_ERROR_INVALID_VALUE, with nothing allocated or launched, when the base is not 16-byte
 *   aligned, a shape value is below 1 or above 2^31 - 1, the last stride is not 1, another
 *   stride is below 1 or its byte stride is not a multiple of 16 or not below 2^40, the
 *   padding is neither 0 nor 1, or is 1 for a data type that is not floating point;
 *   CUDA_ERROR_INVALID_IMAGE if the binary has no tensor_maps; CUDA_ERROR_NOT_SUPPORTED if
 *   the driver lacks cuTensorMapEncodeTiled.
 * - Scratch: slot i gets per-program bytes x grid_x x grid_y x grid_z x num_ctas of the binary's
 *   global (i = 0) or profile (i = 1) scratch, aligned as the binary asks, or 0 when that is 0
 *   bytes (CUDA_ERROR_INVALID_VALUE if the product overflows). It comes from the allocator
 *   set with ttlink_set_scratch_allocator, else from cuMemAllocAsync on `stream`, and is
 *   released on `stream` right after the launch is queued, whether the launch succeeded or
 *   not: stream-ordered, so legal under CUDA graph capture and safe with concurrent streams.
 *   A failed allocation is returned, and nothing is launched.
 * - num_ctas > 1 or launch flags: cuLaunchKernelEx with the attributes Triton's launcher gives
 *   (PDL, cooperative, a cluster of num_ctas x 1 x 1 with the SPREAD scheduling policy) and
 *   gridDimX = grid_x * num_ctas; CUDA_ERROR_NOT_SUPPORTED, nothing encoded or allocated, if
 *   the driver lacks it. num_ctas above 8 (not portable) is allowed on the function at load.
 *
 * If TTLINK_REPORT_VARIANTS is set and neither empty nor "0" when the runtime first opens the
 * driver (on the process's first launch, load or unload), the first launch of each variant in
 * the process that gets past the grid checks writes "ttlink: " and the variant's description
 * as one line to stderr, whether the launch then succeeds or not. Unset, the check costs one
 * load and a branch.
 */
CUresult ttlink_launch(struct ttlink_variant *variant, CUstream stream, int64_t grid_x, int64_t grid_y,
                       int64_t grid_z, void **args, struct ttlink_tensor_arg *tensors, CUdeviceptr *scratch);

/*
 * Where launches get their scratch memory. `alloc(&pointer, bytes, stream, user)` returns
 * CUDA_SUCCESS and a non-zero pointer, aligned to 256 bytes as cuMemAlloc's, to `bytes` of
 * device memory usable by work queued on `stream` after the call; the runtime asks for more
 * than the kernel needs when it needs a larger alignment, and rounds up.
 * `release(pointer, bytes, stream, user)` gets that pointer and size back as soon as the launch
 * that used it is queued on `stream` (also when the launch failed), before the kernel has run:
 * the memory may only be reused by work ordered after that launch on `stream`, which a
 * stream-ordered pool (cuMemAllocAsync / cuMemFreeAsync) or a caching allocator that waits on
 * the stream gives. release's error is the launch's result when the launch itself succeeded.
 * A pointer of 0, or one not 256-byte aligned (which is released), makes the launch return
 * CUDA_ERROR_INVALID_VALUE without launching.
 * Both NULL restores the default: cuMemAllocAsync / cuMemFreeAsync on the launch stream,
 * which is legal under CUDA graph capture. One NULL returns CUDA_ERROR_INVALID_VALUE and
 * changes nothing.
 *
 * Process-wide; callable from any thread at any time. Each launch takes the allocator that is
 * set when it first allocates and both allocates and releases with it: a launch running while
 * the allocator is replaced still releases through the old one, so that one (and its `user`)
 * must stay valid until such launches have returned. The hooks are called from every thread
 * that launches, possibly at once.
 */
typedef CUresult (*ttlink_scratch_alloc)(CUdeviceptr *pointer, size_t bytes, CUstream stream, void *user);
typedef CUresult (*ttlink_scratch_release)(CUdeviceptr pointer, size_t bytes, CUstream stream, void *user);
CUresult ttlink_set_scratch_allocator(ttlink_scratch_alloc alloc, ttlink_scratch_release release, void *user);

/* Loads the variant's module for the current context unless it is loaded already. */
CUresult ttlink_load(struct ttlink_variant *variant);

/* Unloads what the variant loaded for the current context; a later launch loads it again.
 * Other threads may launch the variant meanwhile: the unload waits until launches that took
 * the loaded function have returned from cuLaunchKernel, and later ones load it again. */
CUresult ttlink_unload(struct ttlink_variant *variant);

/*
 * Run-time tuning of a generated `K_autotuned` (docs/AUTOTUNE.md). The dispatcher defines one
 * `struct ttlink_tuning` per tuned kernel: a fixed open-addressing table of the algo chosen
 * per (context, key), never resized and never freed. A slot goes from empty to claimed (its
 * key being written) to the table's choice (looked up once) to tuning to decided, each step
 * published with release order, so a call of a key met before reads its slot without a lock
 * and allocates nothing.
 */
#define TTLINK_TUNING_SLOTS 256 /* per kernel: the (context, key)s it can decide */

/* Runs algo `algo_id` of the call `call` (the dispatcher's arguments) on `stream`. */
typedef CUresult (*ttlink_run_algo)(int algo_id, CUstream stream, const void *call);
/* The algo the compiled-in tuning table gives `key`. */
typedef int (*ttlink_table_algo)(const int64_t *key);

struct ttlink_tuning {
  int key_length;
  int num_algos;
  const char *const *algo_names; /* for export and import */
  int enabled;                   /* atomic: K_autotune_enable */
  int *states;                   /* atomic, TTLINK_TUNING_SLOTS of them */
  uint64_t *contexts;            /* the context of each slot */
  int64_t *keys;                 /* key_length values per slot */
  int *algos;                    /* atomic: the algo decided, once the slot's state says so */
};
#define TTLINK_TUNING_MAX_KEY 32 /* the longest key ttlink_tuning_import reads */

/*
 * Runs the call in the algo decided (tuned or imported) for the current context and `key`, else
 * in `table_algo(key)`, which the first call of the key stores in its slot. Undecided, when
 * run-time tuning is on (K_autotune_enable(1), or TTLINK_AUTOTUNE set and neither empty nor
 * "0" when the runtime opens the driver) and `stream` is not being captured: times the algos
 * on `stream` as Triton's autotuner (triton.testing.do_bench) does: runs each once (which
 * loads it), then in each of TTLINK_TUNING_ROUNDS rounds (fewer for long kernels: at least
 * TTLINK_TUNING_MIN_ROUNDS, until the timed launches took TTLINK_TUNING_ALGO_MS per algo),
 * every algo once, each launch alone between two CUDA events after a write of twice the
 * device's L2 (a buffer allocated once per tuning with cuMemAllocAsync on `stream`, freed with
 * cuMemFreeAsync) has evicted its operands; decides the algo of the least median over the
 * rounds for this context and key, and runs it (the table's
 * choice if a driver call fails; never tuned where the driver lacks one of them). While
 * another thread tunes the key, without a current context and when every slot holds another
 * key: `table_algo(key)`.
 * Tuning runs the kernel 1 + up to TTLINK_TUNING_ROUNDS times per algo, then the winner, on
 * the arguments: only for kernels that may run repeatedly on their own output (as Triton's
 * autotuner without restore_value).
 */
#define TTLINK_TUNING_ROUNDS 10
#define TTLINK_TUNING_MIN_ROUNDS 3
#define TTLINK_TUNING_ALGO_MS 2
CUresult ttlink_autotune(struct ttlink_tuning *tuning, const int64_t *key, ttlink_table_algo table_algo,
                         ttlink_run_algo run, CUstream stream, const void *call);

/*
 * The decisions of the current context as text, one line per key in key order:
 * "V1 V2 ... VN ALGO_NAME\n" (the key's values in decimal, then the algo's name). Writes at
 * most `size` bytes, NUL-terminated when `size` > 0, and returns the length of the whole text
 * (as snprintf does), or -1 without a current context.
 */
int ttlink_tuning_export(struct ttlink_tuning *tuning, char *buffer, size_t size);

/*
 * Decides, for the current context, each key that `text` (lines as export writes them) names;
 * decided keys then run their algo whether run-time tuning is on or not. CUDA_ERROR_INVALID_VALUE
 * and nothing decided if any line is malformed or names no algo; CUDA_ERROR_OUT_OF_MEMORY when
 * the table is full (the lines before are decided).
 */
CUresult ttlink_tuning_import(struct ttlink_tuning *tuning, const char *text);

#ifdef __cplusplus
}
#endif

#endif /* TTLINK_RUNTIME_H */
