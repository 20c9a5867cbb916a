"""Analysis tests of host tensor descriptor arguments (`tensordesc<DTYPE[B0, ...]>` in
`signature`) and of the launch options `num_ctas`, `launch_pdl` and `launch_cooperative_grid`:
the TritonCompile command lines, config tags and the provider, and one failure test per check."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules:defs.bzl", "TritonKernelInfo", "triton_kernel")
load(
    ":common.bzl",
    "KERNELS",
    "TILE_COPY_GRID",
    "TILE_COPY_SIGNATURE",
    "action_writing",
    "actions_of",
    "assert_hermetic",
    "failure_tests",
)

def _tail(action):
    """The TritonCompile arguments after `--target`'s value up to `--binary-out`."""
    argv = action.argv
    return argv[argv.index("-w"):argv.index("--target")]

def _tensordesc_compile_test_impl(ctx):
    env = analysistest.begin(ctx)
    compiles = actions_of(env, "TritonCompile")

    # 3 configs x ("auto": M and N :16, generic) x 1 target; the descriptors take no hint.
    asserts.equals(env, 6, len(compiles))
    action = action_writing(env, compiles, "tests/bazel/_triton/tile_copy_literal/64x32_w4s3/2d3d.cuda_90.json")
    asserts.equals(env, [
        "compile",
        KERNELS,
        "-n",
        "tile_copy_kernel",
        "-s",
        "tensordesc<fp16[64, 32]>, tensordesc<fp16[64, 32]>, i32:16, i32:16, 64, 32",
        "--arg-names",
        "in_desc,out_desc,M,N,BLOCK_M,BLOCK_N",
        "-w",
        "4",
        "-ns",
        "3",
        "--target",
        "cuda:90",
        "--binary-out",
        action.outputs.to_list()[0].path,
    ], action.argv[1:])

    # Two configs that differ only in their launch options are two binaries with two tags.
    cluster = action_writing(env, compiles, "tests/bazel/_triton/tile_copy_literal/128x32_w8s3c2_pdl/generic.cuda_90.json")
    asserts.equals(env, "tensordesc<fp16[128, 32]>, tensordesc<fp16[128, 32]>, i32, i32, 128, 32", cluster.argv[cluster.argv.index("-s") + 1])
    asserts.equals(env, ["-w", "8", "-ns", "3", "--num-ctas", "2", "--launch-pdl"], _tail(cluster))
    cooperative = action_writing(env, compiles, "tests/bazel/_triton/tile_copy_literal/128x32_w8s3_coop/generic.cuda_90.json")
    asserts.equals(env, ["-w", "8", "-ns", "3", "--launch-cooperative-grid"], _tail(cooperative))
    assert_hermetic(env, compiles)

    info = analysistest.target_under_test(env)[TritonKernelInfo]
    asserts.equals(
        env,
        ["64x32_w4s3/2d3d", "64x32_w4s3/generic", "128x32_w8s3c2_pdl/2d3d", "128x32_w8s3c2_pdl/generic", "128x32_w8s3_coop/2d3d", "128x32_w8s3_coop/generic"],
        [variant.tag for variant in info.variants],
    )
    asserts.equals(env, {"M": 16, "N": 16}, info.variants[0].hints, "only the integers are hinted")
    asserts.equals(
        env,
        {"BLOCK_M": 128, "BLOCK_N": 32, "num_warps": 8, "num_stages": 3, "num_ctas": 2, "launch_pdl": True, "launch_cooperative_grid": False},
        info.variants[2].config,
    )
    return analysistest.end(env)

tensordesc_compile_test = analysistest.make(_tensordesc_compile_test_impl)

def _launch_defaults_test_impl(ctx):
    env = analysistest.begin(ctx)

    # The rule attributes are the defaults of every config; a config's own keys override them.
    tails = sorted([_tail(action) for action in actions_of(env, "TritonCompile")])
    asserts.equals(env, [
        ["-w", "4", "-ns", "3", "--launch-cooperative-grid"],
        ["-w", "4", "-ns", "3", "--num-ctas", "4", "--launch-pdl", "--launch-cooperative-grid"],
    ], tails)
    info = analysistest.target_under_test(env)[TritonKernelInfo]
    asserts.equals(env, ["64x32_w4s3_coop/generic", "64x32_w4s3c4_pdl_coop/generic"], [variant.tag for variant in info.variants])
    return analysistest.end(env)

launch_defaults_test = analysistest.make(_launch_defaults_test_impl)

def _example_tma_matmul_test_impl(ctx):
    env = analysistest.begin(ctx)

    # Config tags list the constexprs' keys in parameter order (not the order the block
    # shapes name them); the hinted variant hints M, N and K, never num_sms.
    compiles = actions_of(env, "TritonCompile")
    asserts.equals(env, 12, len(compiles), "3 configs x 2 variants x cuda:90 and cuda:100")
    action = action_writing(env, compiles, "examples/_triton/tma_matmul_kernel/128x256x64x16_w8s3/3d4d5d.cuda_100.json")
    asserts.equals(
        env,
        "tensordesc<fp16[128, 64]>, tensordesc<fp16[64, 256]>, tensordesc<fp16[128, 256]>, i32:16, i32:16, i32:16, i32, 128, 256, 64, 16",
        action.argv[action.argv.index("-s") + 1],
    )
    asserts.equals(env, ["-w", "8", "-ns", "3"], _tail(action))
    return analysistest.end(env)

example_tma_matmul_test = analysistest.make(_example_tma_matmul_test_impl)

# name -> (attributes overriding a valid tile_copy triton_kernel, attribute, expected message text)
_BAD_KERNELS = {
    "tensordesc_bad_dtype": (
        {"signature": dict(TILE_COPY_SIGNATURE, in_desc = "tensordesc<half[64, 32]>")},
        "signature",
        "parameter 'in_desc': 'tensordesc<half[64, 32]>' has unknown element type 'half' (expected e.g. fp16, bf16, fp32, i8)",
    ),
    "tensordesc_malformed": (
        {"signature": dict(TILE_COPY_SIGNATURE, in_desc = "tensordesc<fp16 64, 32>")},
        "signature",
        "parameter 'in_desc': 'tensordesc<fp16 64, 32>' is not a tensor descriptor type: write tensordesc<DTYPE[B0, B1, ...]>, e.g. tensordesc<fp16[64, {BLOCK_K}]>",
    ),
    "tensordesc_rank": (
        {"signature": dict(TILE_COPY_SIGNATURE, in_desc = "tensordesc<fp16[1, 1, 1, 1, 64, 32]>")},
        "signature",
        "parameter 'in_desc': 'tensordesc<fp16[1, 1, 1, 1, 64, 32]>' has 6 block dimensions; TMA takes 1 to 5",
    ),
    "tensordesc_zero_dim": (
        {"signature": dict(TILE_COPY_SIGNATURE, in_desc = "tensordesc<fp16[0, 32]>")},
        "signature",
        "parameter 'in_desc': block dimension '0' of 'tensordesc<fp16[0, 32]>' must be a positive integer or one {KEY}",
    ),
    "tensordesc_dim_expression": (
        {"signature": dict(TILE_COPY_SIGNATURE, in_desc = "tensordesc<fp16[{BLOCK_M} / 2, 32]>")},
        "signature",
        "parameter 'in_desc': block dimension '{BLOCK_M} / 2' of 'tensordesc<fp16[{BLOCK_M} / 2, 32]>' must be a positive integer or one {KEY}",
    ),
    "tensordesc_hint_in_signature": (
        {"signature": dict(TILE_COPY_SIGNATURE, in_desc = "tensordesc<fp16[64, 32]>:16")},
        "signature",
        "parameter 'in_desc': 'tensordesc<fp16[64, 32]>:16' carries a hint; tensor descriptors take none",
    ),
    "tensordesc_im2col": (
        {"signature": dict(TILE_COPY_SIGNATURE, in_desc = "tensordesc_im2col<fp16[64, 32]>")},
        "signature",
        "parameter 'in_desc': 'tensordesc_im2col<fp16[64, 32]>': im2col tensor descriptors are not supported; use tensordesc<...>",
    ),
    "tensordesc_hint": (
        {"specializations": [{"in_desc": 16}]},
        "specializations",
        "specializations[0]: 'in_desc' is a tensor descriptor, which takes no hint (only pointers and integers do)",
    ),
    "tensordesc_in_grid": (
        {"grid": ["in_desc", "1", "1"]},
        "grid",
        "entry 'in_desc' names 'in_desc', a tensor descriptor; a grid takes integer arguments and constexprs",
    ),
    "tensordesc_float_block": (
        {"configs": [{"BLOCK_M": 64, "BLOCK_N": 32}, {"BLOCK_M": 64.0, "BLOCK_N": 32}]},
        "configs",
        "configs[1]: 'BLOCK_M' is a block dimension of tensor descriptor 'in_desc' and must be a positive integer, got 64.0",
    ),
    "tensordesc_before_hopper": (
        {"targets": ["cuda:80", "cuda:90"]},
        "targets",
        "cuda:80 cannot take tensor descriptor 'in_desc': TMA needs cuda:90 or newer (before it, Triton passes a descriptor decomposed)",
    ),
    "tensordesc_default_targets": (
        {"targets": []},
        "targets",
        "cuda:80 cannot take tensor descriptor 'in_desc': TMA needs cuda:90 or newer (before it, Triton passes a descriptor decomposed); the default targets are cuda:80 and cuda:90: set `targets`",
    ),
    "tensordesc_embed_ptx": (
        {"embed_ptx": True},
        "embed_ptx",
        "the kernel takes tensor descriptor 'in_desc', whose tensor maps are known for the compiled binaries only, not for a GPU that JIT-compiles the PTX",
    ),
    "bad_num_ctas": (
        {"configs": [{"BLOCK_M": 64, "BLOCK_N": 32, "num_ctas": 3}]},
        "configs",
        "configs[0]: num_ctas must be a power of two from 1 to 16, got 3",
    ),
    "bad_num_ctas_default": ({"num_ctas": 32}, "num_ctas", "must be a power of two from 1 to 16, got 32"),
    "bad_launch_pdl": (
        {"configs": [{"BLOCK_M": 64, "BLOCK_N": 32, "launch_pdl": 1}]},
        "configs",
        "configs[0]: launch_pdl must be True or False, got 1",
    ),
    "bad_launch_cooperative_grid": (
        {"configs": [{"BLOCK_M": 64, "BLOCK_N": 32, "launch_cooperative_grid": "yes"}]},
        "configs",
        "configs[0]: launch_cooperative_grid must be True or False, got \"yes\"",
    ),
    "repeated_launch_options": (
        {"configs": [{"BLOCK_M": 64, "BLOCK_N": 32, "num_ctas": 2}, {"BLOCK_M": 64, "BLOCK_N": 32, "num_ctas": 2, "launch_pdl": False}]},
        "configs",
        "configs[1] repeats configs[0]",
    ),
}

def tensordesc_test_suite(name):
    """Declares the kernels under test (manual: analysed only) and their tests.

    Args:
      name: the test_suite of all tensor descriptor and launch option tests.
    """
    tile_copy = dict(
        src = "testdata/kernels.py",
        configs = [{"BLOCK_M": 64, "BLOCK_N": 32}],
        grid = TILE_COPY_GRID,
        kernel = "tile_copy_kernel",
        signature = TILE_COPY_SIGNATURE,
        tags = ["manual"],
        targets = ["cuda:90"],
    )

    # One block dimension of `out_desc` is a literal, spelled without the space Triton puts
    # after a comma (every config has BLOCK_N 32).
    triton_kernel(
        name = "tile_copy_literal",
        **dict(
            tile_copy,
            configs = [
                {"BLOCK_M": 64, "BLOCK_N": 32},
                {"BLOCK_M": 128, "BLOCK_N": 32, "num_warps": 8, "num_ctas": 2, "launch_pdl": True},
                {"BLOCK_M": 128, "BLOCK_N": 32, "num_warps": 8, "launch_cooperative_grid": True},
            ],
            signature = dict(TILE_COPY_SIGNATURE, out_desc = "tensordesc<fp16[{BLOCK_M},32]>"),
        )
    )
    triton_kernel(
        name = "tile_copy_launch_defaults",
        **dict(
            tile_copy,
            configs = [
                {"BLOCK_M": 64, "BLOCK_N": 32},
                {"BLOCK_M": 64, "BLOCK_N": 32, "num_ctas": 4, "launch_pdl": True},
            ],
            launch_cooperative_grid = True,
            specializations = [{}],
        )
    )
    tensordesc_compile_test(name = "tensordesc_compile_test", target_under_test = ":tile_copy_literal")
    launch_defaults_test(name = "launch_defaults_test", target_under_test = ":tile_copy_launch_defaults")
    example_tma_matmul_test(name = "example_tma_matmul_test", target_under_test = "//examples:tma_matmul_kernel")
    tests = [":tensordesc_compile_test", ":launch_defaults_test", ":example_tma_matmul_test"]
    tests += failure_tests(triton_kernel, tile_copy, _BAD_KERNELS)
    native.test_suite(
        name = name,
        tests = tests,
    )
