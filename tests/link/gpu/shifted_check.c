/* GPU check of dispatch on real kernels: shifted_copy_kernel(x_ptr, BLOCK: constexpr, out_ptr,
 * n, shift) linked from a variant with x_ptr, out_ptr, n :16 and a generic one. With out_ptr
 * 4 bytes past a 16-byte boundary only the generic variant may run; Triton's link.py tests
 * the hints on n and shift instead (defect 2) and runs the specialised one. Prints one line
 * per case; exit status 0 when every case copied correctly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cuda.h>

CUresult shifted(CUstream stream, CUdeviceptr x_ptr, CUdeviceptr out_ptr, int32_t n, int32_t shift, int algo_id);

static int check(CUdeviceptr x, CUdeviceptr out, size_t offset, int n, const float *host_x) {
  float *result = malloc((size_t)n * sizeof(float));
  CUresult launch = CUDA_ERROR_OUT_OF_MEMORY, sync = CUDA_ERROR_NOT_READY, copy_back = CUDA_ERROR_NOT_READY;
  int wrong = -1;
  if (result != NULL) {
    cuMemsetD8(out, 0, (size_t)(n + 16) * sizeof(float));
    launch = shifted(NULL, x, out + offset, n, 0, 0);
    sync = cuCtxSynchronize();
    if (launch == CUDA_SUCCESS && sync == CUDA_SUCCESS)
      copy_back = cuMemcpyDtoH(result, out + offset, (size_t)n * sizeof(float));
    if (copy_back == CUDA_SUCCESS) {
      wrong = 0;
      for (int i = 0; i < n; ++i)
        wrong += result[i] != host_x[i];
    }
  }
  printf("out_ptr offset %zu bytes, n=%d: launch=%d sync=%d wrong=%d\n", offset, n, (int)launch, (int)sync, wrong);
  free(result);
  return wrong == 0;
}

int main(void) {
  const int n = 4096;
  CUdevice device;
  CUcontext context;
  CUdeviceptr x, out;
  float *host_x = malloc((size_t)n * sizeof(float));
  if (host_x == NULL || cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&device, 0) != CUDA_SUCCESS ||
      cuDevicePrimaryCtxRetain(&context, device) != CUDA_SUCCESS || cuCtxSetCurrent(context) != CUDA_SUCCESS ||
      cuMemAlloc(&x, (size_t)n * sizeof(float)) != CUDA_SUCCESS ||
      cuMemAlloc(&out, (size_t)(n + 16) * sizeof(float)) != CUDA_SUCCESS) {
    fprintf(stderr, "shifted_check: no usable GPU\n");
    return 2;
  }
  for (int i = 0; i < n; ++i)
    host_x[i] = (float)i + 0.25f;
  cuMemcpyHtoD(x, host_x, (size_t)n * sizeof(float));
  int ok = check(x, out, 0, n, host_x);
  /* After a misaligned access the context is unusable, so this case runs last. */
  ok &= check(x, out, 4, n, host_x);
  return ok ? 0 : 1;
}
