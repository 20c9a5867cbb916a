#include "examples/cuda_driver.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Resolves `symbol` into `*slot` (a function pointer of the matching type). */
static int resolve(void *library, const char *symbol, void *slot, char *why, size_t why_size) {
  void *address = dlsym(library, symbol);
  if (address == NULL) {
    snprintf(why, why_size, "the CUDA driver lacks %s", symbol);
    return -1;
  }
  memcpy(slot, &address, sizeof address);
  return 0;
}

static int load_driver(struct cuda_driver *driver, char *why, size_t why_size) {
  const char *path = getenv("TTLINK_LIBCUDA_PATH");
  if (path == NULL || path[0] == '\0') path = "libcuda.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    snprintf(why, why_size, "cannot load the CUDA driver %s (%s)", path, dlerror());
    return -1;
  }
  /* Versioned names where the driver has several ABIs of one call; see cuda.h's #defines. */
  const struct {
    const char *symbol;
    void *slot;
  } table[] = {
      {"cuInit", &driver->init},
      {"cuDeviceGetCount", &driver->device_get_count},
      {"cuDeviceGet", &driver->device_get},
      {"cuDeviceGetName", &driver->device_get_name},
      {"cuDeviceGetAttribute", &driver->device_get_attribute},
      {"cuDevicePrimaryCtxRetain", &driver->primary_ctx_retain},
      {"cuDevicePrimaryCtxRelease_v2", &driver->primary_ctx_release},
      {"cuCtxSetCurrent", &driver->ctx_set_current},
      {"cuCtxSynchronize", &driver->ctx_synchronize},
      {"cuMemAlloc_v2", &driver->mem_alloc},
      {"cuMemFree_v2", &driver->mem_free},
      {"cuMemcpyHtoD_v2", &driver->memcpy_htod},
      {"cuMemcpyDtoH_v2", &driver->memcpy_dtoh},
      {"cuEventCreate", &driver->event_create},
      {"cuEventRecord", &driver->event_record},
      {"cuEventSynchronize", &driver->event_synchronize},
      {"cuEventElapsedTime", &driver->event_elapsed_time},
      {"cuEventDestroy_v2", &driver->event_destroy},
      {"cuGetErrorName", &driver->get_error_name},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i) {
    if (resolve(library, table[i].symbol, table[i].slot, why, why_size) != 0) return -1;
  }
  return 0;
}

int cuda_session_open(struct cuda_session *session, char *why, size_t why_size) {
  memset(session, 0, sizeof *session);
  if (load_driver(&session->driver, why, why_size) != 0) return -1;
  const struct cuda_driver *cu = &session->driver;
  int count = 0;
  CUresult result = cu->init(0);
  if (result == CUDA_SUCCESS) result = cu->device_get_count(&count);
  if (result != CUDA_SUCCESS) {
    snprintf(why, why_size, "the CUDA driver failed to initialise (%s)", cuda_error_name(session, result));
    return -1;
  }
  if (count == 0) {
    snprintf(why, why_size, "the CUDA driver sees no GPU");
    return -1;
  }
  result = cu->device_get(&session->device, 0);
  if (result == CUDA_SUCCESS) {
    result = cu->device_get_name(session->device_name, (int)sizeof session->device_name, session->device);
  }
  if (result == CUDA_SUCCESS) result = cu->primary_ctx_retain(&session->context, session->device);
  if (result == CUDA_SUCCESS) result = cu->ctx_set_current(session->context);
  if (result != CUDA_SUCCESS) {
    snprintf(why, why_size, "cannot open GPU 0 (%s)", cuda_error_name(session, result));
    return -1;
  }
  return 0;
}

void cuda_session_close(struct cuda_session *session) {
  if (session->context != NULL) {
    session->driver.ctx_set_current(NULL);
    session->driver.primary_ctx_release(session->device);
    session->context = NULL;
  }
}

const char *cuda_error_name(const struct cuda_session *session, CUresult result) {
  const char *name = NULL;
  if (session->driver.get_error_name == NULL || session->driver.get_error_name(result, &name) != CUDA_SUCCESS ||
      name == NULL) {
    return "unknown CUDA error";
  }
  return name;
}
