"""Analysis tests of `specializations = "auto"` / "auto16": the TritonCompile actions and variants they give."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//examples:matmul_signature.bzl", "MATMUL_SIGNATURE")
load("//rules:defs.bzl", "TritonKernelInfo", "triton_kernel")
load(":common.bzl", "actions_of")

_CONSTEXPRS = ", 64, 128, 32, 8"

# Which of the strides (am, ak, bk, bn, cm, cn) are 1: A, B and C each row-major (its second
# stride 1) or column-major (its first), at most two of them column-major.
_LAYOUTS = [
    [1, 3, 5],
    [0, 3, 5],
    [1, 2, 5],
    [1, 3, 4],
    [0, 2, 5],
    [0, 3, 4],
    [1, 2, 4],
]

def _matmul_signature(pointer, size, units = []):
    """The -s text of the matmul with hints `pointer` on pointers, `size` on other integers."""
    strides = ["i32:1" if index in units else size for index in range(6)]
    return ", ".join([pointer] * 3 + [size] * 3 + strides) + _CONSTEXPRS

def _signatures(env):
    return sorted([action.argv[action.argv.index("-s") + 1] for action in actions_of(env, "TritonCompile")])

def _auto_matmul_test_impl(ctx):
    env = analysistest.begin(ctx)

    # Each layout with the other integers :16 and unhinted, all :16, no hints.
    asserts.equals(env, sorted(
        [_matmul_signature("*fp16:16", "i32:16", units) for units in _LAYOUTS] +
        [_matmul_signature("*fp16:16", "i32", units) for units in _LAYOUTS] +
        [_matmul_signature("*fp16:16", "i32:16"), _matmul_signature("*fp16", "i32")],
    ), _signatures(env))
    variants = analysistest.target_under_test(env)[TritonKernelInfo].variants
    asserts.equals(env, "64x128x32_w4s4/0d1d2d3d4d5d6d7c8d9c10d11c", variants[1].tag, "all row-major first after all :16")
    asserts.equals(env, "64x128x32_w4s4/0d1d2d7c9c11c", variants[8].tag, "then all row-major for odd sizes")
    asserts.equals(env, "64x128x32_w4s4/generic", variants[-1].tag)
    return analysistest.end(env)

auto_matmul_test = analysistest.make(_auto_matmul_test_impl)

def _auto16_matmul_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.equals(env, sorted([_matmul_signature("*fp16:16", "i32:16"), _matmul_signature("*fp16", "i32")]), _signatures(env))
    return analysistest.end(env)

auto16_matmul_test = analysistest.make(_auto16_matmul_test_impl)

def _auto_with_row_major_dict_test_impl(ctx):
    env = analysistest.begin(ctx)

    # The example's row-major dict is one of "auto"'s layouts: compiled once.
    asserts.equals(env, 16, len(_signatures(env)))
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
            signature = MATMUL_SIGNATURE,
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
