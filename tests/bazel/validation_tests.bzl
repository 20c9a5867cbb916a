"""Failure tests: every bad attribute fails analysis with a message naming the attribute and the target."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules:defs.bzl", "triton_kernel", "triton_link_library")

_SIGNATURE = {
    "x_ptr": "*fp32",
    "y_ptr": "*fp32",
    "out_ptr": "*fp32",
    "n": "i32",
    "BLOCK": "{BLOCK}",
}

_GRID = [
    "(n + BLOCK - 1) / BLOCK",
    "1",
    "1",
]

def _failure_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

failure_test = analysistest.make(
    _failure_test_impl,
    expect_failure = True,
    attrs = {"message": attr.string(doc = "Expected in the failure message.")},
)

# name -> (attributes overriding a valid triton_kernel, attribute, expected message text)
_BAD_KERNELS = {
    "bad_config_key": ({"configs": [{"BLOCK": 64, "BLOKC": 2}]}, "configs", "configs[0]: key 'BLOKC' is not used"),
    "bad_grid": ({"grid": ["n", "1"]}, "grid", "needs exactly 3 entries (x, y, z), got 2"),
    "bad_hint": ({"specializations": [{"x_ptr": 1}]}, "specializations", "specializations[0]: pointer 'x_ptr' cannot be hinted 1"),
    "bad_kernel_name": ({"kernel": "add-kernel"}, "kernel", "'add-kernel' must be a C identifier: it names the kernel in the compiled binary"),
    "bad_out_name": ({"out_name": "add-v2"}, "out_name", "'add-v2' must be a C identifier: it names the linked API"),
    "bad_signature_type": ({"signature": dict(_SIGNATURE, n = "int32")}, "signature", "parameter 'n' has unknown type 'int32'"),
    "bad_specialization_name": ({"specializations": ["auto", {"m": 16}]}, "specializations", "specializations[1] names 'm'"),
    "bad_target": ({"targets": ["cuda:90", "sm_80"]}, "targets", "malformed target 'sm_80'"),
    "empty_configs": ({"configs": []}, "configs", "must list at least one config"),
    "hint_in_signature": ({"signature": dict(_SIGNATURE, x_ptr = "*fp32:16")}, "signature", "parameter 'x_ptr': '*fp32:16' carries a hint"),
    "missing_placeholder": ({"configs": [{"num_warps": 8}]}, "configs", "configs[0] has no value for placeholder {BLOCK}"),
}

def validation_test_suite(name):
    """Declares one broken target per check (manual: analysed only) and a failure test for each.

    Args:
      name: the test_suite of all failure tests.
    """
    tests = []
    for target, (overrides, attribute, text) in _BAD_KERNELS.items():
        attrs = dict(
            src = "testdata/kernels.py",
            configs = [{"BLOCK": 64}],
            grid = _GRID,
            kernel = "add_kernel",
            signature = _SIGNATURE,
            targets = ["cuda:90"],
        )
        attrs.update(overrides)
        triton_kernel(name = target, tags = ["manual"], **attrs)
        failure_test(
            name = target + "_test",
            message = "//tests/bazel:%s: attribute '%s': %s" % (target, attribute, text),
            target_under_test = ":" + target,
        )
        tests.append(":%s_test" % target)

    # Two kernels with one API name cannot be linked together.
    triton_kernel(
        name = "add_again",
        src = "testdata/kernels.py",
        configs = [{"BLOCK": 64}],
        grid = _GRID,
        kernel = "add_kernel",
        out_name = "add",
        signature = _SIGNATURE,
        tags = ["manual"],
        targets = ["cuda:90"],
    )
    triton_link_library(
        name = "clashing",
        kernels = [
            ":add",
            ":add_again",
        ],
        tags = ["manual"],
    )
    failure_test(
        name = "clashing_names_test",
        message = "//tests/bazel:clashing: attribute 'kernels': two kernels share the API name 'add'",
        target_under_test = ":clashing",
    )
    native.test_suite(
        name = name,
        tests = tests + [":clashing_names_test"],
    )
