"""What the toolchain hub repository (@triton_toolchains, written by the module extension) calls."""

load("@rules_python//python:defs.bzl", "py_binary")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "triton_toolchain", "ttlink_binary")

def _cuda_headers(wheel_cuda_headers):
    """rules_cuda's toolkit headers if it found a toolkit, else the wheel's.

    Real rules_cuda without a toolkit writes an `@cuda` with no `:cuda_headers`; a select()
    only loads the branch it takes, so the toolchain builds either way.
    """
    toolkit = {Label("@rules_cuda//cuda:is_valid_toolchain_found"): Label("@cuda//:cuda_headers")}
    if wheel_cuda_headers:
        return select(toolkit | {"//conditions:default": wheel_cuda_headers})
    return select(toolkit, no_match_error = "rules_triton: rules_cuda found no CUDA toolkit, and your own Triton " +
                                            "(triton.toolchain(triton = ...)) comes with no wheel that ships cuda.h; " +
                                            "install a CUDA toolkit (or set CUDA_PATH), or declare your own " +
                                            "triton_toolchain with cuda_headers")

def triton_exec_toolchain(
        name,
        triton,
        triton_version,
        exec_compatible_with = [],
        wheel_cuda_headers = "",
        python_min = "",
        python_max = "",
        python_version = ""):
    """One registered Triton toolchain: `name` (the toolchain), `triton_NAME`, `ttlink_NAME`.

    The module extension's hub repository calls this once per kind of execution platform.

    Args:
      name: the toolchain() target.
      triton: py_library making `import triton` work.
      triton_version: the Triton version, for the record.
      exec_compatible_with: constraints of the platforms that can run that Triton.
      wheel_cuda_headers: the wheel's CUDA headers, for when rules_cuda found no toolkit.
      python_min: ttlink_binary's python_min.
      python_max: ttlink_binary's python_max.
      python_version: ttlink_binary's python_version.
    """
    py_binary(
        name = "ttlink_main_" + name,
        srcs = ["ttlink_main.py"],
        # ttlink and triton are packages with their own __init__.py: none generated.
        legacy_create_init = False,
        main = "ttlink_main.py",
        deps = [Label("//ttlink"), triton],
    )
    ttlink_binary(
        name = "ttlink_" + name,
        binary = ":ttlink_main_" + name,
        python_max = python_max,
        python_min = python_min,
        python_version = python_version,
        triton_version = triton_version,
    )
    triton_toolchain(
        name = "triton_" + name,
        cuda_headers = _cuda_headers(wheel_cuda_headers),
        triton_version = triton_version,
        ttlink = ":ttlink_" + name,
    )
    native.toolchain(
        name = name,
        exec_compatible_with = exec_compatible_with,
        toolchain = ":triton_" + name,
        toolchain_type = TOOLCHAIN_TYPE,
    )
