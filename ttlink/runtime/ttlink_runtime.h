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
 * the generated entry points (`S`, `load_S`, `unload_S`) instead.
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

/* One binary of a kernel: a cubin for one GPU architecture, or PTX for the driver to JIT. */
struct ttlink_image {
  enum ttlink_image_format format;
  int arch;                  /* 10 * major + minor: the cubin's target, or the PTX's .target */
  unsigned int shared_bytes; /* dynamic shared memory per block this binary launches with */
  const unsigned char *data; /* PTX is NUL-terminated */
  size_t size;
};

/* A compiled kernel variant: its binaries (in any order), launch shape and description. */
struct ttlink_kernel {
  const char *name; /* the entry's name inside every binary */
  const struct ttlink_image *images;
  int num_images;
  unsigned int block_x;    /* num_warps * 32 threads */
  const char *description; /* its API, algo, symbol and specialisation, for TTLINK_REPORT_VARIANTS */
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
 * Launches the variant in the current context on `stream` with `args` (one pointer per
 * kernel parameter, hidden ones included). The module is loaded on the first launch in
 * each context. A grid with a zero dimension returns CUDA_SUCCESS without launching; a
 * negative one, or one above the limits of every device since compute capability 3.0
 * (2^31 - 1 blocks in x, 65535 in y and z), returns CUDA_ERROR_INVALID_VALUE without launching.
 *
 * If TTLINK_REPORT_VARIANTS is set and neither empty nor "0" when the runtime first opens the
 * driver (on the process's first launch, load or unload), the first launch of each variant in
 * the process that gets past the grid checks writes "ttlink: " and the variant's description
 * as one line to stderr, whether the launch then succeeds or not. Unset, the check costs one
 * load and a branch.
 */
CUresult ttlink_launch(struct ttlink_variant *variant, CUstream stream, int64_t grid_x, int64_t grid_y,
                       int64_t grid_z, void **args);

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
 * "0" when the runtime opens the driver) and `stream` is not being captured: runs each algo
 * once (which loads it), then times it over TTLINK_TUNING_RUNS launches between two CUDA events
 * on `stream`; decides the fastest for this context and key, and runs it (the table's choice
 * if an event call fails). While another thread tunes the key, without a current context and
 * when every slot holds another key: `table_algo(key)`.
 * Tuning runs the kernel 1 + TTLINK_TUNING_RUNS times per algo, then the winner, on the arguments:
 * only for kernels that may run repeatedly on their own output (as Triton's autotuner without
 * restore_value).
 */
#define TTLINK_TUNING_RUNS 3
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
