"""Public API of the rules_cuda stand-in: the 0.3.0 names rules_triton uses."""

load(":private/compatibility.bzl", _requires_cuda = "requires_cuda")
load(":private/providers.bzl", _CudaArchsInfo = "CudaArchsInfo")

CudaArchsInfo = _CudaArchsInfo
requires_cuda = _requires_cuda
