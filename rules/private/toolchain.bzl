"""The `triton_toolchain` rule and the helper that finds it from a rule."""

load(":providers.bzl", "TritonToolchainInfo")

TOOLCHAIN_TYPE = Label("//rules:toolchain_type")

def _triton_toolchain_impl(ctx):
    triton = TritonToolchainInfo(
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
