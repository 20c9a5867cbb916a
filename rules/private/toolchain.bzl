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

_PYTHON_VERSION_FLAG = str(Label("@rules_python//python/config_settings:python_version"))

def _python_version_transition_impl(settings, attr):
    # Empty: leave rules_python's flag as it is (rules_python 0.x, whose flag only takes the
    # full versions it knows, or a toolchain of your own).
    return {_PYTHON_VERSION_FLAG: attr.python_version or settings[_PYTHON_VERSION_FLAG]}

_python_version_transition = transition(
    implementation = _python_version_transition_impl,
    inputs = [_PYTHON_VERSION_FLAG],
    outputs = [_PYTHON_VERSION_FLAG],
)

def _parse_version(text):
    return tuple([int(part) for part in text.split(".")[:2]])

def _supported(attr, version):
    if version < _parse_version(attr.python_min):
        return False
    return not attr.python_max or version <= _parse_version(attr.python_max)

def _needed(attr):
    if attr.python_max == attr.python_min:
        return "CPython " + attr.python_min
    if attr.python_max:
        return "CPython %s to %s" % (attr.python_min, attr.python_max)
    return "CPython >= " + attr.python_min

def _ttlink_binary_impl(ctx):
    runtime = ctx.attr.python[platform_common.ToolchainInfo].py3_runtime

    # rules_python >= 1.x records the interpreter's version; 0.x (Debian's, offline) does not,
    # and its autodetecting toolchain takes python3 from PATH at run time: nothing to check.
    version = getattr(runtime, "interpreter_version_info", None) if runtime else None
    if version and ctx.attr.python_min and not _supported(ctx.attr, (version.major, version.minor)):
        fail(("rules_triton: Triton %s needs %s, but the Python toolchain resolved for ttlink is %d.%d (%s); " +
              "register a rules_python toolchain for %s (python.toolchain(python_version = \"%s\")), or pick " +
              "one with triton.toolchain(python_version = ...)") % (
            ctx.attr.triton_version,
            _needed(ctx.attr),
            version.major,
            version.minor,
            runtime.interpreter.owner if runtime.interpreter else runtime.interpreter_path,
            ctx.attr.python_version or ctx.attr.python_min,
            ctx.attr.python_version or ctx.attr.python_min,
        ))
    binary = ctx.attr.binary[DefaultInfo]
    executable = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = executable, target_file = binary.files_to_run.executable, is_executable = True)
    return [DefaultInfo(
        executable = executable,
        files = depset([executable]),
        runfiles = ctx.runfiles([executable]).merge(binary.default_runfiles),
    )]

ttlink_binary = rule(
    implementation = _ttlink_binary_impl,
    doc = """The toolchain's `ttlink`: a py_binary run on a Python that the Triton wheel supports.

With rules_python >= 1.x it sets rules_python's `python_version` flag for the binary (so
toolchain resolution picks that interpreter, an input of every action, never python3 from
PATH) and fails at analysis if the Python resolved is outside `python_min`..`python_max`.
""",
    attrs = {
        "binary": attr.label(mandatory = True, executable = True, cfg = "target", doc = "The py_binary."),
        "python_max": attr.string(doc = "Newest supported Python, X.Y; empty: no upper bound."),
        "python_min": attr.string(doc = "Oldest supported Python, X.Y; empty: no check."),
        "python_version": attr.string(doc = "X.Y set on rules_python's python_version flag; empty: unchanged."),
        "triton_version": attr.string(mandatory = True, doc = "For the error message."),
        "python": attr.label(
            default = "@rules_python//python:current_py_toolchain",
            providers = [platform_common.ToolchainInfo],
            doc = "The Python toolchain the binary runs on (its `py3_runtime` is checked); the one resolved by default.",
        ),
        "_allowlist_function_transition": attr.label(default = "@bazel_tools//tools/allowlists/function_transition_allowlist"),
    },
    cfg = _python_version_transition,
    executable = True,
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
