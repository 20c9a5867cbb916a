"""Public API of rules_triton: Triton kernels compiled ahead of time into cc_library targets.

```starlark
load("@rules_triton//rules:defs.bzl", "triton_autotune_test", "triton_kernel", "triton_link_library")
```
"""

load("//rules/private:autotune.bzl", _triton_autotune_test = "triton_autotune_test")
load("//rules/private:kernel.bzl", _triton_kernel = "triton_kernel")
load("//rules/private:link_library.bzl", _triton_link_library = "triton_link_library")
load("//rules/private:providers.bzl", _TritonKernelInfo = "TritonKernelInfo", _TritonToolchainInfo = "TritonToolchainInfo")
load("//rules/private:toolchain.bzl", _triton_toolchain = "triton_toolchain")

# rules
triton_autotune_test = _triton_autotune_test
triton_toolchain = _triton_toolchain

# macros
triton_kernel = _triton_kernel
triton_link_library = _triton_link_library

# providers
TritonKernelInfo = _TritonKernelInfo
TritonToolchainInfo = _TritonToolchainInfo
