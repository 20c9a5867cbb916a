/* A no-op stand-in for libcuda.so.1: every driver function the ttlink runtime and upstream's
 * generated C call succeeds at once and hands out fixed dummy handles. Timing a dispatcher
 * against it shows the host cost of the dispatcher and runtime alone, with no GPU queue
 * behind it. Built as libcuda.so.1; upstream's libraries reach it through LD_LIBRARY_PATH,
 * the ttlink runtime through TTLINK_LIBCUDA_PATH.
 *
 * Plain C types instead of cuda.h: cuda.h renames several of these functions to _v2 symbols.
 */
#include <stddef.h>

typedef int CUresult;
static char dummy_context, dummy_module, dummy_function;

CUresult cuInit(unsigned flags) { (void)flags; return 0; }
CUresult cuCtxGetCurrent(void **context) { *context = &dummy_context; return 0; }
CUresult cuCtxGetId(void *context, unsigned long long *id) { (void)context; *id = 1; return 0; }
CUresult cuCtxGetDevice(int *device) { *device = 0; return 0; }

CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  (void)device;
  switch (attribute) {
    case 75: *value = 9; break;       /* compute capability major: an H100 */
    case 76: *value = 0; break;       /* minor */
    case 97: *value = 232448; break;  /* opt-in shared memory per block */
    default: *value = 0;
  }
  return 0;
}

CUresult cuModuleLoadData(void **module, const void *image) { (void)image; *module = &dummy_module; return 0; }
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  (void)module, (void)name;
  *function = &dummy_function;
  return 0;
}
CUresult cuModuleUnload(void *module) { (void)module; return 0; }
CUresult cuFuncSetAttribute(void *function, int attribute, int value) { (void)function, (void)attribute, (void)value; return 0; }
CUresult cuFuncSetCacheConfig(void *function, int config) { (void)function, (void)config; return 0; }

CUresult cuLaunchKernel(void *function, unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned block_x,
                        unsigned block_y, unsigned block_z, unsigned shared_bytes, void *stream, void **params,
                        void **extra) {
  (void)function, (void)grid_x, (void)grid_y, (void)grid_z, (void)block_x, (void)block_y, (void)block_z;
  (void)shared_bytes, (void)stream, (void)params, (void)extra;
  return 0;
}

CUresult cuGetErrorString(CUresult error, const char **text) { (void)error; *text = "no-op driver"; return 0; }
CUresult cuGetErrorName(CUresult error, const char **text) { (void)error; *text = "NOOP"; return 0; }
