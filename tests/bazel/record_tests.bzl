"""Analysis tests of `triton_kernel(records = [...])`: recorded specialisations become variants,
recorded configs become `configs`, and bad records fail naming the record and the kernel."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules:defs.bzl", "TritonKernelInfo", "triton_kernel")
load(
    ":common.bzl",
    "ADD_SIGNATURE",
    "BLOCKS_GRID",
    "SCALE_SIGNATURE",
    "TILE_COPY_GRID",
    "TILE_COPY_SIGNATURE",
    "action_writing",
    "actions_of",
    "failure_tests",
)

# testdata/scale_record.bzl, as `ttlink record` writes it: scale_kernel with BLOCK 128 (w4 s3)
# for stride 1 (on cuda:80 and cuda:90: one variant) and for n and stride not multiples of
# 16, and with BLOCK 256 (w8 s2) for everything divisible by 16.
load(":testdata/scale_record.bzl", SCALE_RECORD = "RECORD")
load(":testdata/tile_copy_record.bzl", TILE_COPY_RECORD = "RECORD")

def _compiled_variants(env):
    """`CONFIG/HINTS.TARGET` of every TritonCompile, sorted."""
    paths = [action.outputs.to_list()[0].path for action in actions_of(env, "TritonCompile")]
    return sorted([path.split("/_triton/")[1].split("/", 1)[1][:-len(".json")] for path in paths])

def _recorded_configs_test_impl(ctx):
    env = analysistest.begin(ctx)

    # No `configs`: the two recorded ones, each with the generic variant the BUILD file asks
    # for and its own recorded hint sets; the recorded targets are not used.
    asserts.equals(env, sorted([
        "128_w4s3/generic.cuda_80",
        "128_w4s3/0d1d2d3c.cuda_80",
        "128_w4s3/0d1d.cuda_80",
        "256_w8s2/generic.cuda_80",
        "256_w8s2/0d1d2d3d.cuda_80",
    ]), _compiled_variants(env))
    unit_stride = action_writing(env, actions_of(env, "TritonCompile"), "/128_w4s3/0d1d2d3c.cuda_80.json")
    asserts.equals(
        env,
        ["-s", "*fp32:16, *fp32:16, i32:16, i32:1, fp32, 128", "--arg-names", "x_ptr,out_ptr,n,stride,scale,BLOCK", "-w", "4", "-ns", "3", "--target", "cuda:80"],
        unit_stride.argv[5:15],
    )
    info = analysistest.target_under_test(env)[TritonKernelInfo]
    asserts.equals(
        env,
        ["128_w4s3/generic", "128_w4s3/0d1d2d3c", "128_w4s3/0d1d", "256_w8s2/generic", "256_w8s2/0d1d2d3d"],
        [variant.tag for variant in info.variants],
        "the BUILD file's hint sets first, then the recorded ones in record order",
    )
    asserts.equals(env, {"BLOCK": 256, "num_warps": 8, "num_stages": 2, "num_ctas": 1, "launch_pdl": False, "launch_cooperative_grid": False}, info.variants[3].config)
    asserts.equals(env, {"x_ptr": 16, "out_ptr": 16, "n": None, "stride": None}, info.variants[2].hints)
    return analysistest.end(env)

recorded_configs_test = analysistest.make(_recorded_configs_test_impl)

def _given_configs_test_impl(ctx):
    env = analysistest.begin(ctx)

    # `configs` given: a recorded specialisation joins the config of its values (BLOCK 256,
    # w8 s2); those of BLOCK 128 match no config and are left out; every target compiles it.
    asserts.equals(env, sorted([
        "64_w4s3/generic.cuda_80",
        "64_w4s3/generic.cuda_90",
        "256_w8s2/generic.cuda_80",
        "256_w8s2/generic.cuda_90",
        "256_w8s2/0d1d2d3d.cuda_80",
        "256_w8s2/0d1d2d3d.cuda_90",
    ]), _compiled_variants(env))
    return analysistest.end(env)

given_configs_test = analysistest.make(_given_configs_test_impl)

def _repeated_hints_test_impl(ctx):
    env = analysistest.begin(ctx)

    # The BUILD file's {"*": 16} is the recorded BLOCK 256 hint set: compiled once.
    asserts.equals(env, ["256_w8s2/0d1d2d3d.cuda_80"], _compiled_variants(env))
    return analysistest.end(env)

repeated_hints_test = analysistest.make(_repeated_hints_test_impl)

def _recorded_tensordesc_test_impl(ctx):
    env = analysistest.begin(ctx)

    # The recorded descriptor types give the block shapes of the three recorded configs; the
    # third is the second on clusters of 2 CTAs.
    compiles = actions_of(env, "TritonCompile")
    asserts.equals(
        env,
        sorted([
            "64x32_w4s3/generic.cuda_90",
            "64x32_w4s3/2d3d.cuda_90",
            "128x64_w8s3/generic.cuda_90",
            "128x64_w8s3/3d.cuda_90",
            "128x64_w8s3c2/generic.cuda_90",
            "128x64_w8s3c2/3d.cuda_90",
        ]),
        _compiled_variants(env),
    )
    wide = action_writing(env, compiles, "/128x64_w8s3/3d.cuda_90.json")
    asserts.equals(env, "tensordesc<fp16[128, 64]>, tensordesc<fp16[128, 64]>, i32, i32:16, 128, 64", wide.argv[wide.argv.index("-s") + 1])
    cluster = action_writing(env, compiles, "/128x64_w8s3c2/3d.cuda_90.json")
    asserts.equals(env, ["--num-ctas", "2", "--target"], cluster.argv[cluster.argv.index("-ns") + 2:cluster.argv.index("--target") + 1])
    return analysistest.end(env)

recorded_tensordesc_test = analysistest.make(_recorded_tensordesc_test_impl)

_TILE_COPY_WHERE = "records[0] (tests/bazel/testdata/tile_copy_record.bzl), kernel 'tests/bazel/testdata/kernels.py:tile_copy_kernel': "

# name -> (attributes overriding the valid recorded tile_copy kernel, expected message text)
_BAD_TENSORDESC_RECORDS = {
    "record_tensordesc_dtype_differs": (
        {"signature": dict(TILE_COPY_SIGNATURE, in_desc = "tensordesc<bf16[{BLOCK_M}, {BLOCK_N}]>")},
        _TILE_COPY_WHERE + "specializations[0]: argument 'in_desc' is recorded as tensordesc<fp16[64, 32]>, " +
        "which `signature` declares tensordesc<bf16[{BLOCK_M}, {BLOCK_N}]>",
    ),
    "record_tensordesc_literal_differs": (
        {"signature": dict(TILE_COPY_SIGNATURE, out_desc = "tensordesc<fp16[64, 32]>")},
        _TILE_COPY_WHERE + "specializations[1]: argument 'out_desc' is recorded as tensordesc<fp16[128, 64]>, " +
        "which `signature` declares tensordesc<fp16[64, 32]>",
    ),
    "record_tensordesc_block_differs": (
        {"signature": dict(TILE_COPY_SIGNATURE, in_desc = "tensordesc<fp16[{BLOCK_M}, {BLOCK_M}]>")},
        _TILE_COPY_WHERE + "specializations[0]: argument 'in_desc' is recorded as tensordesc<fp16[64, 32]>, " +
        "which `signature` declares tensordesc<fp16[{BLOCK_M}, {BLOCK_M}]>, so {BLOCK_M} is 32 there, but 64 elsewhere in the specialisation",
    ),
}

# name -> (attributes overriding the valid recorded kernel, expected message text)
_BAD_RECORDS = {
    "record_kernel_missing": (
        {
            "kernel": "add_kernel",
            "signature": ADD_SIGNATURE,
        },
        "records[0] (tests/bazel/testdata/scale_record.bzl) has no kernel 'tests/bazel/testdata/kernels.py:add_kernel' " +
        "(it records 'tests/bazel/testdata/kernels.py:scale_kernel')",
    ),
    "record_parameter_missing": (
        {"signature": {"x_ptr": "*fp32", "out_ptr": "*fp32", "n": "i32", "step": "i32", "scale": "fp32", "BLOCK": "{BLOCK}"}},
        "records[0] (tests/bazel/testdata/scale_record.bzl), kernel 'tests/bazel/testdata/kernels.py:scale_kernel' " +
        "records parameter 'stride', which `signature` lacks",
    ),
    "record_type_differs": (
        {"signature": dict(SCALE_SIGNATURE, x_ptr = "*fp16")},
        "records[0] (tests/bazel/testdata/scale_record.bzl), kernel 'tests/bazel/testdata/kernels.py:scale_kernel': " +
        "specializations[0]: argument 'x_ptr' is recorded as *fp32, " +
        "which `signature` declares *fp16",
    ),
    "record_literal_differs": (
        {"grid": ["(n + 63) / 64", "1", "1"], "signature": dict(SCALE_SIGNATURE, BLOCK = "64")},
        "records[0] (tests/bazel/testdata/scale_record.bzl), kernel 'tests/bazel/testdata/kernels.py:scale_kernel': " +
        "specializations[0]: constexpr 'BLOCK' is recorded as 128, which `signature` fixes to 64",
    ),
    "record_matches_no_config": (
        {"configs": [{"BLOCK": 64}]},
        "none of the 3 recorded specialisations was compiled with the values of a config in `configs`",
    ),
    "record_not_loaded": (
        {"records": ["testdata/scale_record.bzl"]},
        "records[0] is not a record of format 1: load the RECORD of a .bzl file that `ttlink record -o NAME.bzl` wrote",
    ),
}

def record_test_suite(name):
    """Declares recorded kernels (manual: analysed only) and their tests.

    Args:
      name: the test_suite of all record tests.
    """
    recorded = dict(
        src = "testdata/kernels.py",
        grid = BLOCKS_GRID,
        kernel = "scale_kernel",
        records = [SCALE_RECORD],
        signature = SCALE_SIGNATURE,
        tags = ["manual"],
        targets = ["cuda:80"],
    )
    triton_kernel(name = "scale_recorded", specializations = [{"*": None}], **recorded)
    recorded_configs_test(name = "recorded_configs_test", target_under_test = ":scale_recorded")
    triton_kernel(
        name = "scale_recorded_configs",
        configs = [{"BLOCK": 64}, {"BLOCK": 256, "num_warps": 8, "num_stages": 2}],
        specializations = [{}],
        **dict(recorded, targets = ["cuda:90", "cuda:80"])
    )
    given_configs_test(name = "given_configs_test", target_under_test = ":scale_recorded_configs")
    triton_kernel(
        name = "scale_recorded_aligned",
        configs = [{"BLOCK": 256, "num_warps": 8, "num_stages": 2}],
        specializations = [{"*": 16}],
        **recorded
    )
    repeated_hints_test(name = "repeated_hints_test", target_under_test = ":scale_recorded_aligned")
    recorded_tile_copy = dict(
        src = "testdata/kernels.py",
        grid = TILE_COPY_GRID,
        kernel = "tile_copy_kernel",
        records = [TILE_COPY_RECORD],
        signature = TILE_COPY_SIGNATURE,
        specializations = [{}],
        tags = ["manual"],
        targets = ["cuda:90"],
    )
    triton_kernel(name = "tile_copy_recorded", **recorded_tile_copy)
    recorded_tensordesc_test(name = "recorded_tensordesc_test", target_under_test = ":tile_copy_recorded")
    tests = [":recorded_configs_test", ":given_configs_test", ":repeated_hints_test", ":recorded_tensordesc_test"]
    tests += failure_tests(triton_kernel, recorded, _BAD_RECORDS, attribute = "records")
    tests += failure_tests(triton_kernel, recorded_tile_copy, _BAD_TENSORDESC_RECORDS, attribute = "records")
    native.test_suite(
        name = name,
        tests = tests,
    )
