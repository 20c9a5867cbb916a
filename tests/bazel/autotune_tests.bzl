"""Analysis tests of `triton_kernel(autotune = ...)`: the configs and key come from the AUTOTUNE
that `ttlink configs` wrote from the kernel's @triton.autotune; an AUTOTUNE of another kernel
or file, or one beside `configs`, fails naming the attribute."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//examples:matmul_configs.bzl", MATMUL_AUTOTUNE = "AUTOTUNE")
load("//examples:matmul_signature.bzl", "MATMUL_SIGNATURE")
load("//rules:defs.bzl", "TritonKernelInfo", "triton_kernel")
load(":common.bzl", "actions_of", "failure_tests")

def _autotune_configs_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[TritonKernelInfo]

    # The configs of examples/matmul.py's @triton.autotune, in its order: algo i is config i,
    # with the launch options it leaves at their defaults.
    defaults = {"num_ctas": 1, "launch_pdl": False, "launch_cooperative_grid": False}
    asserts.equals(env, [
        dict({"BLOCK_SIZE_M": 128, "BLOCK_SIZE_N": 256, "BLOCK_SIZE_K": 64, "num_warps": 8, "num_stages": 3}, **defaults),
        dict({"BLOCK_SIZE_M": 128, "BLOCK_SIZE_N": 128, "BLOCK_SIZE_K": 32, "num_warps": 4, "num_stages": 4}, **defaults),
        dict({"BLOCK_SIZE_M": 64, "BLOCK_SIZE_N": 128, "BLOCK_SIZE_K": 32, "num_warps": 4, "num_stages": 4}, **defaults),
    ], [variant.config for variant in info.variants])
    asserts.equals(env, ["M", "N", "K"], info.autotune_key)
    return analysistest.end(env)

autotune_configs_test = analysistest.make(_autotune_configs_test_impl)

def _autotune_num_ctas_test_impl(ctx):
    env = analysistest.begin(ctx)

    # `ttlink configs` writes "num_ctas" where a triton.Config's is not 1: a cluster launch.
    clustered = [a for a in actions_of(env, "TritonCompile") if "--num-ctas" in a.argv]
    asserts.equals(env, 1, len(clustered))
    asserts.equals(env, "2", clustered[0].argv[clustered[0].argv.index("--num-ctas") + 1])
    asserts.equals(
        env,
        ["128x256x64_w8s3c2/generic", "128x128x32_w4s4/generic", "64x128x32_w4s4/generic"],
        [variant.tag for variant in analysistest.target_under_test(env)[TritonKernelInfo].variants],
    )
    return analysistest.end(env)

autotune_num_ctas_test = analysistest.make(_autotune_num_ctas_test_impl)

def _no_autotune_key_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.equals(env, None, analysistest.target_under_test(env)[TritonKernelInfo].autotune_key)
    return analysistest.end(env)

no_autotune_key_test = analysistest.make(_no_autotune_key_test_impl)

# name -> (attributes overriding the valid kernel, expected message text)
_BAD_AUTOTUNES = {
    "autotune_and_configs": (
        {"configs": [{"BLOCK_SIZE_M": 64, "BLOCK_SIZE_N": 64, "BLOCK_SIZE_K": 32}]},
        "and `configs` are both given",
    ),
    "autotune_of_another_file": (
        {"src": "testdata/kernels.py"},
        "holds the configs of 'examples/matmul.py:matmul_autotuned', not of a kernel in `src` 'tests/bazel/testdata/kernels.py'",
    ),
    "autotune_of_another_kernel": (
        {"kernel": "add_kernel"},
        "'examples/matmul.py:matmul_autotuned' tunes @triton.jit function 'matmul_kernel', not `kernel` 'add_kernel'",
    ),
    "autotune_keyed_by_a_lost_parameter": (
        {"autotune": dict(MATMUL_AUTOTUNE, key = ["M", "N", "L"])},
        "'examples/matmul.py:matmul_autotuned' is keyed by 'L', which `signature` lacks",
    ),
    "autotune_of_another_format": (
        {"autotune": dict(MATMUL_AUTOTUNE, format = 2)},
        "is not an AUTOTUNE of format 1",
    ),
    "autotune_not_a_dict": ({"autotune": ["M"]}, "has the wrong shape"),
}

def autotune_test_suite(name):
    """Declares kernels configured by an AUTOTUNE (manual: analysed only) and their tests.

    Args:
      name: the test_suite of all autotune tests.
    """
    tuned = dict(
        src = "//examples:matmul.py",
        autotune = MATMUL_AUTOTUNE,
        grid = ["((M + BLOCK_SIZE_M - 1) / BLOCK_SIZE_M) * ((N + BLOCK_SIZE_N - 1) / BLOCK_SIZE_N)", "1", "1"],
        kernel = "matmul_kernel",
        signature = MATMUL_SIGNATURE,
        specializations = [{}],
        tags = ["manual"],
        targets = ["cuda:80"],
    )
    triton_kernel(name = "matmul_autotuned", **tuned)
    autotune_configs_test(name = "autotune_configs_test", target_under_test = ":matmul_autotuned")
    triton_kernel(name = "matmul_configured", **dict(tuned, autotune = None, configs = MATMUL_AUTOTUNE["configs"]))
    no_autotune_key_test(name = "no_autotune_key_test", target_under_test = ":matmul_configured")
    clustered = [dict(MATMUL_AUTOTUNE["configs"][0], num_ctas = 2)] + MATMUL_AUTOTUNE["configs"][1:]
    triton_kernel(name = "matmul_autotuned_clusters", **dict(tuned, autotune = dict(MATMUL_AUTOTUNE, configs = clustered)))
    autotune_num_ctas_test(name = "autotune_num_ctas_test", target_under_test = ":matmul_autotuned_clusters")
    tests = [":autotune_configs_test", ":no_autotune_key_test", ":autotune_num_ctas_test"]
    tests += failure_tests(triton_kernel, tuned, _BAD_AUTOTUNES, attribute = "autotune")
    native.test_suite(
        name = name,
        tests = tests,
    )
