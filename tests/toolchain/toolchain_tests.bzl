"""Analysis tests of the registered Triton toolchain (the one the module extension writes)."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_cc//cc:defs.bzl", "CcToolchainConfigInfo", "cc_common")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load("//rules/private:toolchain.bzl", "ttlink_binary")  # buildifier: disable=bzl-visibility
load("//tests/bazel:common.bzl", "failure_test")

_WHEEL_INCLUDE = "triton/backends/nvidia/include"

def _cuda_headers_origin_test_impl(ctx):
    env = analysistest.begin(ctx)
    context = analysistest.target_under_test(env)[CcInfo].compilation_context
    include_dirs = context.includes.to_list() + context.system_includes.to_list()
    from_wheel = [d for d in include_dirs if d.endswith(_WHEEL_INCLUDE)]
    if ctx.attr.expect_wheel:
        asserts.true(env, from_wheel, "the wheel's include dir among %s" % include_dirs)
        asserts.true(env, [h for h in context.headers.to_list() if h.path.endswith(_WHEEL_INCLUDE + "/cuda.h")], "cuda.h among the headers")
    else:
        asserts.equals(env, [], from_wheel, "no wheel include dir while rules_cuda has a toolkit")
    return analysistest.end(env)

cuda_headers_origin_test = analysistest.make(
    _cuda_headers_origin_test_impl,
    attrs = {"expect_wheel": attr.bool(mandatory = True)},
)

def _fake_python_impl(ctx):
    # What rules_python >= 1.x's current_py_toolchain returns for a runtime of this version.
    major, minor = ctx.attr.version.split(".")
    runtime = struct(
        interpreter = None,
        interpreter_path = "/opt/python%s/bin/python3" % ctx.attr.version,
        interpreter_version_info = struct(major = int(major), minor = int(minor)),
    )
    return [platform_common.ToolchainInfo(py3_runtime = runtime)]

_fake_python = rule(
    implementation = _fake_python_impl,
    attrs = {"version": attr.string(mandatory = True)},
)

def _python_accepted_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.true(env, analysistest.target_under_test(env)[DefaultInfo].files_to_run.executable, "an executable")
    return analysistest.end(env)

python_accepted_test = analysistest.make(_python_accepted_test_impl)

def _stand_in_binary_impl(ctx):
    executable = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.write(executable, "#!/bin/sh\n", is_executable = True)
    return [DefaultInfo(executable = executable)]

# The binary ttlink_binary wraps, here only analysed.
_stand_in_binary = rule(implementation = _stand_in_binary_impl, executable = True)

def _ttlink_on(name, python_version, **kwargs):
    _fake_python(name = name + "_python", version = python_version, tags = ["manual"])
    _stand_in_binary(name = name + "_main", tags = ["manual"])
    ttlink_binary(
        name = name,
        binary = ":" + name + "_main",
        python = ":" + name + "_python",
        triton_version = "3.9.0",
        tags = ["manual"],
        **kwargs
    )

_ResolvedInfo = provider(doc = "What the resolved Triton toolchain holds.", fields = ["ttlink"])

def _resolved_toolchain_impl(ctx):
    return [_ResolvedInfo(ttlink = ctx.toolchains["//rules:toolchain_type"].triton.ttlink.executable)]

# Resolves the Triton toolchain for its own execution platform.
_resolved_toolchain = rule(implementation = _resolved_toolchain_impl, toolchains = ["//rules:toolchain_type"])

def _exec_platform_test_impl(ctx):
    env = analysistest.begin(ctx)
    ttlink = analysistest.target_under_test(env)[_ResolvedInfo].ttlink
    asserts.equals(env, ctx.attr.ttlink_name, ttlink.basename, "ttlink of the toolchain resolved")
    asserts.true(env, ttlink.short_path.endswith("triton_toolchains/" + ctx.attr.ttlink_name), "a registered toolchain: " + ttlink.short_path)
    return analysistest.end(env)

# A Linux aarch64 executor listed before this machine: its toolchain is the one resolved.
# ttlink's py_binary is analysed for it, which takes a C++ toolchain for aarch64: one that
# can only be analysed (analysis_only_cc_toolchain) stands in for the executor's.
aarch64_executor_test = analysistest.make(
    _exec_platform_test_impl,
    attrs = {"ttlink_name": attr.string(mandatory = True)},
    config_settings = {
        "//command_line_option:extra_execution_platforms": str(Label("//tests/toolchain:linux_aarch64")),
        "//command_line_option:extra_toolchains": str(Label("//tests/toolchain:analysis_only_cc_toolchain_aarch64")),
    },
)

def _analysis_only_cc_config_impl(ctx):
    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "analysis-only-aarch64",
        host_system_name = "local",
        target_system_name = "aarch64-linux-gnu",
        target_cpu = "aarch64",
        target_libc = "glibc",
        compiler = "gcc",
        abi_version = "local",
        abi_libc_version = "local",
    )

analysis_only_cc_config = rule(implementation = _analysis_only_cc_config_impl, provides = [CcToolchainConfigInfo])

def toolchain_test_suite(name):
    """The toolchain's analysis tests.

    Args:
      name: the test_suite.
    """

    # Without a CUDA toolkit (CI: the offline stand-in then behaves as rules_cuda's disabled
    # mode, with no @cuda//:cuda_headers) the headers come from the Triton wheel.
    cuda_headers_origin_test(
        name = "cuda_headers_origin_test",
        target_under_test = Label("//rules:cuda_headers"),
        expect_wheel = select({
            Label("@rules_cuda//cuda:is_valid_toolchain_found"): False,
            "//conditions:default": True,
        }),
    )

    # ttlink_binary refuses, at analysis, a Python the wheel cannot be imported by.
    _ttlink_on("ttlink_py311", "3.11", python_min = "3.12")
    failure_test(
        name = "python_too_old_test",
        target_under_test = ":ttlink_py311",
        message = "rules_triton: Triton 3.9.0 needs CPython >= 3.12, but the Python toolchain resolved for ttlink is 3.11 (/opt/python3.11/bin/python3)",
    )
    _ttlink_on("ttlink_py315", "3.15", python_max = "3.14", python_min = "3.14")
    failure_test(
        name = "python_too_new_test",
        target_under_test = ":ttlink_py315",
        message = "needs CPython 3.14, but the Python toolchain resolved for ttlink is 3.15",
    )
    _ttlink_on("ttlink_py313", "3.13", python_min = "3.12")
    python_accepted_test(name = "python_supported_test", target_under_test = ":ttlink_py313")
    _ttlink_on("ttlink_unknown", "3.11")
    python_accepted_test(name = "python_unknown_needs_test", target_under_test = ":ttlink_unknown")

    # Executors of another CPU than this machine's get the toolchain of their own wheel.
    _resolved_toolchain(name = "resolved_toolchain", tags = ["manual"])
    aarch64_executor_test(
        name = "aarch64_executor_test",
        target_under_test = ":resolved_toolchain",
        ttlink_name = "ttlink_aarch64",
    )

    native.test_suite(
        name = name,
        tests = [
            ":aarch64_executor_test",
            ":cuda_headers_origin_test",
            ":python_supported_test",
            ":python_too_new_test",
            ":python_too_old_test",
            ":python_unknown_needs_test",
        ],
    )
