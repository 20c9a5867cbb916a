"""The `triton_toolchain` rule, the helper that finds it, and the toolchain's CUDA headers as a cc dep."""

load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load(":providers.bzl", "TritonToolchainInfo")

TOOLCHAIN_TYPE = Label("//rules:toolchain_type")

def _triton_toolchain_impl(ctx):
    triton = TritonToolchainInfo(
        cuda_headers = ctx.attr.cuda_headers[CcInfo],
        ttlink = ctx.attr.ttlink[DefaultInfo].files_to_run,
        triton_version = ctx.attr.triton_version,
    )
    return [platform_common.ToolchainInfo(triton = triton)]

triton_toolchain = rule(
    implementation = _triton_toolchain_impl,
    doc = """Declares a Triton toolchain: a `ttlink` binary that can import one Triton.

The module extension (`triton.toolchain(...)` in MODULE.bazel) declares and registers one
for you. Declare your own only to build ttlink against a Triton the extension cannot
fetch, then wrap it in `toolchain(toolchain_type = "@rules_triton//rules:toolchain_type")`
and `register_toolchains` it:

```starlark
py_binary(
    name = "ttlink",
    srcs = ["@rules_triton//rules/private:ttlink_main.py"],
    main = "@rules_triton//rules/private:ttlink_main.py",
    deps = ["@rules_triton//ttlink", "//third_party:triton"],
)

triton_toolchain(name = "triton", ttlink = ":ttlink", triton_version = "3.9.0")
```
""",
    attrs = {
        "cuda_headers": attr.label(
            doc = "The CUDA headers (cuda.h) the generated C and the ttlink runtime compile against.",
            default = Label("@cuda//:cuda_headers"),
            providers = [CcInfo],
        ),
        "triton_version": attr.string(
            doc = "The Triton version `ttlink` imports, for the record (TritonKernelInfo.triton_version).",
            mandatory = True,
        ),
        "ttlink": attr.label(
            doc = "A py_binary running `ttlink.__main__.main` with Triton importable.",
            mandatory = True,
            executable = True,
            cfg = "exec",
        ),
    },
)

def find_triton_toolchain(ctx):
    """Returns the TritonToolchainInfo resolved for `ctx` (which must declare TOOLCHAIN_TYPE)."""
    return ctx.toolchains[TOOLCHAIN_TYPE].triton

def _toolchain_cuda_headers_impl(ctx):
    return [find_triton_toolchain(ctx).cuda_headers]

toolchain_cuda_headers = rule(
    implementation = _toolchain_cuda_headers_impl,
    doc = "The CcInfo of the resolved Triton toolchain's `cuda_headers`, for cc deps.",
    provides = [CcInfo],
    toolchains = [TOOLCHAIN_TYPE],
)
