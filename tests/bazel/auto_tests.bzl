"""Analysis tests of `specializations = "auto"` / "auto16": the TritonCompile actions and variants they give."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules:defs.bzl", "TritonKernelInfo", "triton_kernel")
load(":common.bzl", "actions_of")

# The example matmul's signature: 3 pointers, sizes M N K, and two strides per operand.
_MATMUL_SIGNATURE = {
    "a_ptr": "*fp16",
    "b_ptr": "*fp16",
    "c_ptr": "*fp16",
    "M": "i32",
    "N": "i32",
    "K": "i32",
    "stride_am": "i32",
    "stride_ak": "i32",
    "stride_bk": "i32",
    "stride_bn": "i32",
    "stride_cm": "i32",
    "stride_cn": "i32",
    "BLOCK_SIZE_M": "{BLOCK_SIZE_M}",
    "BLOCK_SIZE_N": "{BLOCK_SIZE_N}",
    "BLOCK_SIZE_K": "{BLOCK_SIZE_K}",
    "GROUP_SIZE_M": "8",
}

_POINTERS_AND_SIZES = "*fp16:16, *fp16:16, *fp16:16, i32:16, i32:16, i32:16, "
_CONSTEXPRS = ", 64, 128, 32, 8"

def _signatures(env):
    return sorted([action.argv[action.argv.index("-s") + 1] for action in actions_of(env, "TritonCompile")])

def _auto_matmul_test_impl(ctx):
    env = analysistest.begin(ctx)

    # Strides (am, ak, bk, bn, cm, cn): A, B and C each row-major (its second stride 1) or
    # column-major (its first), at most two of them column-major; all :16; no hints.
    asserts.equals(env, sorted([
        _POINTERS_AND_SIZES + strides + _CONSTEXPRS
        for strides in [
            "i32:16, i32:1, i32:16, i32:1, i32:16, i32:1",
            "i32:1, i32:16, i32:16, i32:1, i32:16, i32:1",
            "i32:16, i32:1, i32:1, i32:16, i32:16, i32:1",
            "i32:16, i32:1, i32:16, i32:1, i32:1, i32:16",
            "i32:1, i32:16, i32:1, i32:16, i32:16, i32:1",
            "i32:1, i32:16, i32:16, i32:1, i32:1, i32:16",
            "i32:16, i32:1, i32:1, i32:16, i32:1, i32:16",
            "i32:16, i32:16, i32:16, i32:16, i32:16, i32:16",
        ]
    ] + ["*fp16, *fp16, *fp16, i32, i32, i32, i32, i32, i32, i32, i32, i32" + _CONSTEXPRS]), _signatures(env))
    variants = analysistest.target_under_test(env)[TritonKernelInfo].variants
    asserts.equals(env, "64x128x32_w4s4/0d1d2d3d4d5d6d7c8d9c10d11c", variants[1].tag, "all row-major first after all :16")
    asserts.equals(env, "64x128x32_w4s4/generic", variants[-1].tag)
    return analysistest.end(env)

auto_matmul_test = analysistest.make(_auto_matmul_test_impl)

def _auto16_matmul_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.equals(env, sorted([
        _POINTERS_AND_SIZES + "i32:16, i32:16, i32:16, i32:16, i32:16, i32:16" + _CONSTEXPRS,
        "*fp16, *fp16, *fp16, i32, i32, i32, i32, i32, i32, i32, i32, i32" + _CONSTEXPRS,
    ]), _signatures(env))
    return analysistest.end(env)

auto16_matmul_test = analysistest.make(_auto16_matmul_test_impl)

def _auto_with_row_major_dict_test_impl(ctx):
    env = analysistest.begin(ctx)

    # The example's row-major dict is one of "auto"'s layouts: compiled once.
    asserts.equals(env, 9, len(_signatures(env)))
    return analysistest.end(env)

auto_with_row_major_dict_test = analysistest.make(_auto_with_row_major_dict_test_impl)

def auto_test_suite(name):
    """Declares the matmul kernels under test (manual: analysed only) and their tests.

    Args:
      name: the test_suite of all "auto" tests.
    """
    for kernel_name, specializations in [
        ("auto_matmul", "auto"),
        ("auto16_matmul", "auto16"),
        ("auto_with_row_major_dict", [
            "auto",
            {
                "*": 16,
                "stride_ak": 1,
                "stride_bn": 1,
                "stride_cn": 1,
            },
        ]),
    ]:
        triton_kernel(
            name = kernel_name + "_kernel",
            src = "//examples:matmul.py",
            configs = [{
                "BLOCK_SIZE_M": 64,
                "BLOCK_SIZE_N": 128,
                "BLOCK_SIZE_K": 32,
                "num_stages": 4,
            }],
            grid = [
                "((M + BLOCK_SIZE_M - 1) / BLOCK_SIZE_M) * ((N + BLOCK_SIZE_N - 1) / BLOCK_SIZE_N)",
                "1",
                "1",
            ],
            kernel = "matmul_kernel",
            signature = _MATMUL_SIGNATURE,
            specializations = specializations,
            tags = ["manual"],
            targets = ["cuda:80"],
        )
    auto_matmul_test(name = "auto_matmul_test", target_under_test = ":auto_matmul_kernel")
    auto16_matmul_test(name = "auto16_matmul_test", target_under_test = ":auto16_matmul_kernel")
    auto_with_row_major_dict_test(name = "auto_with_row_major_dict_test", target_under_test = ":auto_with_row_major_dict_kernel")
    native.test_suite(
        name = name,
        tests = [
            ":auto_matmul_test",
            ":auto16_matmul_test",
            ":auto_with_row_major_dict_test",
        ],
    )
