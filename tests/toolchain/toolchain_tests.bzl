"""Analysis tests of the registered Triton toolchain (the one the module extension writes)."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")

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
    native.test_suite(name = name, tests = [":cuda_headers_origin_test"])
