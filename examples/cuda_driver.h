/* The few CUDA driver calls the examples make themselves (memory, events), resolved from
 * libcuda.so.1 at run time, like the ttlink runtime does: the binaries link without libcuda
 * and start on machines without a GPU. */
#ifndef RULES_TRITON_EXAMPLES_CUDA_DRIVER_H_
#define RULES_TRITON_EXAMPLES_CUDA_DRIVER_H_

#include <cuda.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cuda_driver {
  CUresult (*init)(unsigned int flags);
  CUresult (*device_get_count)(int *count);
  CUresult (*device_get)(CUdevice *device, int ordinal);
  CUresult (*device_get_name)(char *name, int length, CUdevice device);
  CUresult (*device_get_attribute)(int *value, CUdevice_attribute attribute, CUdevice device);
  CUresult (*primary_ctx_retain)(CUcontext *context, CUdevice device);
  CUresult (*primary_ctx_release)(CUdevice device);
  CUresult (*ctx_set_current)(CUcontext context);
  CUresult (*ctx_synchronize)(void);
  CUresult (*mem_alloc)(CUdeviceptr *pointer, size_t bytes);
  CUresult (*mem_free)(CUdeviceptr pointer);
  CUresult (*memcpy_htod)(CUdeviceptr destination, const void *source, size_t bytes);
  CUresult (*memcpy_dtoh)(void *destination, CUdeviceptr source, size_t bytes);
  CUresult (*event_create)(CUevent *event, unsigned int flags);
  CUresult (*event_record)(CUevent event, CUstream stream);
  CUresult (*event_synchronize)(CUevent event);
  CUresult (*event_elapsed_time)(float *milliseconds, CUevent start, CUevent end);
  CUresult (*event_destroy)(CUevent event);
  CUresult (*get_error_name)(CUresult error, const char **name);
};

/* A GPU session: the driver, device 0 and its primary context, made current. */
struct cuda_session {
  struct cuda_driver driver;
  CUdevice device;
  CUcontext context;
  char device_name[128];
};

/* Opens libcuda.so.1 (or $TTLINK_LIBCUDA_PATH), initialises it and makes device 0's primary
 * context current. Returns 0 on success; otherwise writes why into `why` and returns -1. */
int cuda_session_open(struct cuda_session *session, char *why, size_t why_size);

void cuda_session_close(struct cuda_session *session);

/* The driver's name for `result`, e.g. "CUDA_ERROR_INVALID_VALUE". */
const char *cuda_error_name(const struct cuda_session *session, CUresult result);

#ifdef __cplusplus
}
#endif

#endif /* RULES_TRITON_EXAMPLES_CUDA_DRIVER_H_ */
