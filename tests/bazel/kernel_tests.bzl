"""Analysis tests of triton_kernel: TritonCompile / TritonAssemble command lines, variants, targets."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules:defs.bzl", "TritonKernelInfo", "triton_kernel")
load(
    ":common.bzl",
    "ADD_SIGNATURE",
    "BLOCKS_GRID",
    "KERNELS",
    "SCALE_SIGNATURE",
    "action_writing",
    "actions_of",
    "assert_hermetic",
    "output_ending",
)

def _compile_argv_test_impl(ctx):
    env = analysistest.begin(ctx)
    compiles = actions_of(env, "TritonCompile")

    # 2 configs x ("auto": all :16 + generic) x 2 targets.
    asserts.equals(env, 8, len(compiles))
    action = action_writing(env, compiles, "tests/bazel/_triton/add/1024_w8s3/0d1d2d3d.cuda_80.json")
    asserts.equals(env, [
        "compile",
        KERNELS,
        "-n",
        "add_kernel",
        "-s",
        "*fp32:16, *fp32:16, *fp32:16, i32:16, 1024",
        "--arg-names",
        "x_ptr,y_ptr,out_ptr,n,BLOCK",
        "-w",
        "8",
        "-ns",
        "3",
        "--target",
        "cuda:80",
        "--binary-out",
        action.outputs.to_list()[0].path,
    ], action.argv[1:])
    generic = action_writing(env, compiles, "tests/bazel/_triton/add/256_w4s3/generic.cuda_90.json")
    asserts.equals(env, ["-s", "*fp32, *fp32, *fp32, i32, 256", "--arg-names", "x_ptr,y_ptr,out_ptr,n,BLOCK", "-w", "4"], generic.argv[5:11])
    for compile_action in compiles:
        names = compile_action.argv[compile_action.argv.index("--arg-names") + 1]
        asserts.equals(env, "x_ptr,y_ptr,out_ptr,n,BLOCK", names, "every TritonCompile checks the names")
    asserts.true(env, KERNELS in [f.path for f in generic.inputs.to_list()], "kernel source is an input")
    asserts.false(env, "PYTHONPATH" in generic.env, "no PYTHONPATH without deps")
    assert_hermetic(env, compiles)
    return analysistest.end(env)

compile_argv_test = analysistest.make(_compile_argv_test_impl)

def _assemble_argv_test_impl(ctx):
    env = analysistest.begin(ctx)
    assembles = actions_of(env, "TritonAssemble")
    asserts.equals(env, 4, len(assembles), "one TritonAssemble per config x specialisation")
    action = action_writing(env, assembles, "tests/bazel/_triton/add/1024_w8s3/0d1d2d3d.h")
    header = output_ending(action, ".h")
    binaries = sorted([f.path for f in action.inputs.to_list() if f.path.endswith(".json")])
    asserts.equals(env, 2, len(binaries), "one binary per target")
    asserts.equals(
        env,
        ["assemble"] + binaries + ["-g", "(n + BLOCK - 1) / BLOCK, 1, 1", "-on", "add", "-o", header.path[:-len(".h")]],
        action.argv[1:],
    )
    asserts.equals(env, [header.path[:-len(".h")] + ".c", header.path], sorted([o.path for o in action.outputs.to_list()]))
    assert_hermetic(env, assembles)
    return analysistest.end(env)

assemble_argv_test = analysistest.make(_assemble_argv_test_impl)

def _provider_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[TritonKernelInfo]
    asserts.equals(env, "add", info.name)
    asserts.equals(env, "add_kernel", info.kernel)
    asserts.equals(env, ["cuda:80", "cuda:90"], info.targets, "targets deduplicated and sorted")
    asserts.equals(env, 4, len(info.variants))
    asserts.equals(env, 4, len(info.headers.to_list()))
    asserts.equals(env, 4, len(info.sources.to_list()))
    asserts.equals(env, 8, len(info.binaries.to_list()))
    first = info.variants[0]
    asserts.equals(env, {"BLOCK": 256, "num_warps": 4, "num_stages": 3, "num_ctas": 1, "launch_pdl": False, "launch_cooperative_grid": False}, first.config)
    asserts.equals(env, {"x_ptr": 16, "y_ptr": 16, "out_ptr": 16, "n": 16}, first.hints)
    asserts.equals(env, {"x_ptr": None, "y_ptr": None, "out_ptr": None, "n": None}, info.variants[1].hints)
    asserts.equals(env, "256_w4s3/0d1d2d3d", first.tag)
    asserts.equals(env, ["(n + BLOCK - 1) / BLOCK", "1", "1"], first.grid)
    asserts.false(env, first.embed_ptx)
    return analysistest.end(env)

provider_test = analysistest.make(_provider_test_impl)

def _explicit_specializations_test_impl(ctx):
    env = analysistest.begin(ctx)
    compiles = actions_of(env, "TritonCompile")
    signatures = sorted([action.argv[action.argv.index("-s") + 1] for action in compiles])

    # "auto" (all :16, generic), {"stride": 1, "*": 16}, {"n": 16}; {"*": 16} repeats "auto".
    asserts.equals(env, sorted([
        "*fp32:16, *fp32:16, i32:16, i32:16, fp32, 128",
        "*fp32, *fp32, i32, i32, fp32, 128",
        "*fp32:16, *fp32:16, i32:16, i32:1, fp32, 128",
        "*fp32, *fp32, i32:16, i32, fp32, 128",
    ]), signatures)
    names = {action.argv[action.argv.index("--arg-names") + 1]: True for action in compiles}
    asserts.equals(env, ["x_ptr,out_ptr,n,stride,scale,BLOCK"], names.keys(), "the signature's keys, in its order")
    action_writing(env, compiles, "_triton/scale/128_w4s3/0d1d2d3c.cuda_90.json")
    action_writing(env, compiles, "_triton/scale/128_w4s3/2d.cuda_90.json")
    return analysistest.end(env)

explicit_specializations_test = analysistest.make(_explicit_specializations_test_impl)

def _output_paths_test_impl(ctx):
    env = analysistest.begin(ctx)
    assembles = actions_of(env, "TritonAssemble")
    asserts.equals(env, 1, len(assembles))

    # Keyed by the target's name, not its API name `add`: kernels of one package never clash.
    # CHUNK appears twice in the grid entry but names the config once.
    header = output_ending(assembles[0], ".h")
    asserts.true(env, header.path.endswith("tests/bazel/_triton/add_chunked/1024x2048_w4s3/generic.h"), header.path)
    action_writing(env, actions_of(env, "TritonCompile"), "tests/bazel/_triton/add_chunked/1024x2048_w4s3/generic.cuda_80.json")
    return analysistest.end(env)

output_paths_test = analysistest.make(_output_paths_test_impl)

def _deps_test_impl(ctx):
    env = analysistest.begin(ctx)
    for action in actions_of(env, "TritonCompile"):
        inputs = [f.path for f in action.inputs.to_list()]
        asserts.true(env, "tests/bazel/testdata/helpers.py" in inputs, "deps are inputs")

        # Main-repository deps import by their path from the execution root.
        asserts.equals(env, ".", action.env.get("PYTHONPATH"))
    return analysistest.end(env)

deps_test = analysistest.make(_deps_test_impl)

def _targets_test_impl(ctx):
    env = analysistest.begin(ctx)
    targets = sorted({
        action.argv[action.argv.index("--target") + 1]: True
        for action in actions_of(env, "TritonCompile")
    }.keys())
    asserts.equals(env, ctx.attr.expected, targets)
    asserts.equals(env, ctx.attr.expected, analysistest.target_under_test(env)[TritonKernelInfo].targets)
    return analysistest.end(env)

_TARGETS_ATTRS = {"expected": attr.string_list()}

default_targets_test = analysistest.make(_targets_test_impl, attrs = _TARGETS_ATTRS)

cuda_archs_targets_test = analysistest.make(
    _targets_test_impl,
    attrs = _TARGETS_ATTRS,
    config_settings = {str(Label("@rules_cuda//cuda:archs")): "sm_86;compute_90:sm_90a"},
)

def kernel_test_suite(name):
    """Declares the kernels under test (manual: analysed only) and their tests.

    Args:
      name: the test_suite of all kernel tests.
    """
    triton_kernel(
        name = "add",
        src = "testdata/kernels.py",
        configs = [
            {"BLOCK": 256},
            {
                "BLOCK": 1024,
                "num_warps": 8,
            },
        ],
        grid = BLOCKS_GRID,
        kernel = "add_kernel",
        signature = ADD_SIGNATURE,
        tags = ["manual"],
        targets = [
            "cuda:90",
            "cuda:80",
            "cuda:90",
        ],
    )
    triton_kernel(
        name = "scale",
        src = "testdata/kernels.py",
        configs = [{"BLOCK": 128}],
        grid = [
            "(n + {BLOCK} - 1) / {BLOCK}",
            "1",
            "1",
        ],
        embed_ptx = True,
        kernel = "scale_kernel",
        signature = SCALE_SIGNATURE,
        specializations = [
            "auto",
            {
                "*": 16,
                "stride": 1,
            },
            {"n": 16},
            {"*": 16},
        ],
        tags = ["manual"],
        targets = ["cuda:90"],
    )
    triton_kernel(
        name = "add_chunked",
        src = "testdata/kernels.py",
        configs = [{
            "BLOCK": 1024,
            "CHUNK": 2048,
        }],
        grid = [
            "(n + {CHUNK} - 1) / {CHUNK}",
            "1",
            "1",
        ],
        kernel = "add_kernel",
        out_name = "add",
        signature = ADD_SIGNATURE,
        specializations = [{}],
        tags = ["manual"],
        targets = ["cuda:80"],
    )
    triton_kernel(
        name = "add_default_targets",
        src = "testdata/kernels.py",
        configs = [{"BLOCK": 256}],
        grid = BLOCKS_GRID,
        kernel = "add_kernel",
        signature = ADD_SIGNATURE,
        tags = ["manual"],
    )
    triton_kernel(
        name = "add_with_deps",
        src = "testdata/kernels.py",
        configs = [{"BLOCK": 256}],
        deps = ["testdata/helpers.py"],
        grid = BLOCKS_GRID,
        kernel = "add_kernel",
        signature = ADD_SIGNATURE,
        tags = ["manual"],
        targets = ["cuda:90"],
    )

    compile_argv_test(name = "compile_argv_test", target_under_test = ":add")
    assemble_argv_test(name = "assemble_argv_test", target_under_test = ":add")
    provider_test(name = "provider_test", target_under_test = ":add")
    output_paths_test(name = "output_paths_test", target_under_test = ":add_chunked")
    deps_test(name = "deps_test", target_under_test = ":add_with_deps")
    explicit_specializations_test(name = "explicit_specializations_test", target_under_test = ":scale")
    default_targets_test(
        name = "default_targets_test",
        expected = [
            "cuda:80",
            "cuda:90",
        ],
        target_under_test = ":add_default_targets",
    )
    cuda_archs_targets_test(
        name = "cuda_archs_targets_test",
        expected = [
            "cuda:86",
            "cuda:90",
        ],
        target_under_test = ":add_default_targets",
    )
    native.test_suite(
        name = name,
        tests = [
            ":assemble_argv_test",
            ":compile_argv_test",
            ":cuda_archs_targets_test",
            ":default_targets_test",
            ":deps_test",
            ":explicit_specializations_test",
            ":output_paths_test",
            ":provider_test",
        ],
    )
