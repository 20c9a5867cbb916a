"""Analysis tests of triton_link_library: the TritonLink command line."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules:defs.bzl", "TritonKernelInfo", "triton_link_library")
load(":common.bzl", "actions_of", "assert_hermetic")

def _link_argv_test_impl(ctx):
    env = analysistest.begin(ctx)
    links = actions_of(env, "TritonLink")
    asserts.equals(env, 1, len(links))
    action = links[0]
    headers = sorted([h.path for k in ctx.attr.kernels for h in k[TritonKernelInfo].headers.to_list()])
    outputs = sorted([o.path for o in action.outputs.to_list()])
    asserts.equals(env, 2, len(outputs))
    asserts.true(env, outputs[1].endswith("tests/bazel/linked.h"), outputs[1])
    out = outputs[1][:-len(".h")]
    asserts.equals(env, [out + ".c", out + ".h"], outputs)
    asserts.equals(env, "link", action.argv[1])
    asserts.equals(env, headers, sorted(action.argv[2:-4]), "every variant header of every kernel")
    asserts.equals(env, ["-o", out, "--prefix", "my_"], action.argv[-4:])
    asserts.equals(env, headers, sorted([f.path for f in action.inputs.to_list() if f.path.endswith(".h")]))
    assert_hermetic(env, links)

    # One C compile action per variant (bench/build.sh shows the effect: a changed config
    # recompiles only its own variants' C and the dispatcher).
    compiles = [a for a in analysistest.target_actions(env) if a.mnemonic == "CppCompile"]
    sources = [v.source for k in ctx.attr.kernels for v in k[TritonKernelInfo].variants]
    asserts.equals(env, len(sources) + 1, len(compiles), "one compile per variant + the dispatcher")
    for source in sources:
        asserts.equals(env, 1, len([a for a in compiles if source in a.inputs.to_list()]), "compiles of " + source.path)
    return analysistest.end(env)

link_argv_test = analysistest.make(
    _link_argv_test_impl,
    attrs = {"kernels": attr.label_list(providers = [TritonKernelInfo])},
)

def link_test_suite(name):
    """Links the kernels of kernel_test_suite (declare that first) and tests the command line.

    Args:
      name: the test_suite of the link tests.
    """
    triton_link_library(
        name = "linked",
        kernels = [
            ":add",
            ":scale",
        ],
        prefix = "my_",
        tags = ["manual"],
    )
    link_argv_test(
        name = "link_argv_test",
        kernels = [
            ":add",
            ":scale",
        ],
        target_under_test = ":linked",
    )
    native.test_suite(
        name = name,
        tests = [":link_argv_test"],
    )
