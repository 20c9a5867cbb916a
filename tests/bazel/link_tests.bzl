"""Analysis tests of triton_link_library: the TritonAssemble / TritonLink command lines, the
C compiles, and the CcInfo it gives dependents."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load("//rules:defs.bzl", "TritonKernelInfo", "triton_link_library")
load(":common.bzl", "action_writing", "actions_of", "assert_hermetic", "output_ending")

def _check_link(env, library, headers, sources, tail):
    """Checks the TritonLink action of `library` and the C compiles of the library.

    Args:
      env: the analysistest env.
      library: the library's name; its package is tests/bazel.
      headers: paths of the variant headers TritonLink must read.
      sources: paths of the variant sources the library must compile, one action each.
      tail: the arguments expected after the headers, `-o` excluded.
    """
    links = actions_of(env, "TritonLink")
    asserts.equals(env, 1, len(links))
    action = links[0]
    outputs = sorted([o.path for o in action.outputs.to_list()])
    asserts.equals(env, 2, len(outputs))
    asserts.true(env, outputs[1].endswith("tests/bazel/%s.h" % library), outputs[1])
    out = outputs[1][:-len(".h")]
    asserts.equals(env, [out + ".c", out + ".h"], outputs)
    asserts.equals(env, "link", action.argv[1])
    tail = ["-o", out] + tail
    asserts.equals(env, sorted(headers), sorted(action.argv[2:-len(tail)]), "every variant header of every kernel")
    asserts.equals(env, tail, action.argv[-len(tail):])
    asserts.equals(env, sorted(headers), sorted([f.path for f in action.inputs.to_list() if f.path.endswith(".h")]))
    assert_hermetic(env, links)

    # One C compile action per variant (bench/build.sh shows the effect: a changed config
    # recompiles only its own variants' C and the dispatcher).
    compiles = actions_of(env, "CppCompile")
    asserts.equals(env, len(sources) + 1, len(compiles), "one compile per variant + the dispatcher")
    for source in sources:
        asserts.equals(env, 1, len([a for a in compiles if source in [f.path for f in a.inputs.to_list()]]), "compiles of " + source)

def _link_argv_test_impl(ctx):
    env = analysistest.begin(ctx)
    kernels = [k[TritonKernelInfo] for k in ctx.attr.kernels]
    asserts.equals(env, [], actions_of(env, "TritonAssemble"), "without a prefix, the kernels' own C is linked")
    _check_link(
        env,
        "linked_plain",
        [h.path for k in kernels for h in k.headers.to_list()],
        [s.path for k in kernels for s in k.sources.to_list()],
        [],
    )
    return analysistest.end(env)

link_argv_test = analysistest.make(
    _link_argv_test_impl,
    attrs = {"kernels": attr.label_list(providers = [TritonKernelInfo])},
)

def _prefixed_link_argv_test_impl(ctx):
    env = analysistest.begin(ctx)
    assembles = actions_of(env, "TritonAssemble")
    variants = [(k, v) for k in [k[TritonKernelInfo] for k in ctx.attr.kernels] for v in k.variants]
    asserts.equals(env, len(variants), len(assembles), "one prefixed TritonAssemble per variant")
    bases = []
    for kernel, variant in variants:
        # Each variant's binaries, assembled again with the prefix into the library's own C.
        action = action_writing(env, assembles, "tests/bazel/_triton/linked/%s/%s.h" % (kernel.name, variant.tag))
        if not action:
            continue
        base = output_ending(action, ".h").path[:-len(".h")]
        expected = ["assemble"] + [b.path for b in variant.binaries]
        expected += ["-g", ", ".join(variant.grid), "-on", kernel.name, "-o", base]
        expected += ["--embed-ptx"] if variant.embed_ptx else []
        expected += ["--prefix", "my_"]
        asserts.equals(env, expected, action.argv[1:])
        asserts.equals(env, sorted([base + ".c", base + ".h"]), sorted([o.path for o in action.outputs.to_list()]))
        asserts.equals(env, sorted([b.path for b in variant.binaries]), sorted([f.path for f in action.inputs.to_list() if f.path.endswith(".json")]))
        bases.append(base)
    asserts.equals(env, 4, len([a for a in assembles if "--embed-ptx" in a.argv]), "scale's variants embed PTX")
    assert_hermetic(env, assembles)
    _check_link(env, "linked", [b + ".h" for b in bases], [b + ".c" for b in bases], ["--prefix", "my_"])
    return analysistest.end(env)

prefixed_link_argv_test = analysistest.make(
    _prefixed_link_argv_test_impl,
    attrs = {"kernels": attr.label_list(providers = [TritonKernelInfo])},
)

def _header_paths(library):
    return [h.path for h in library[CcInfo].compilation_context.direct_public_headers]

def _default_include_test_impl(ctx):
    env = analysistest.begin(ctx)

    # Included by its workspace-relative path, like a cc_library's header: no virtual include
    # directory that strips the package (two libraries of one name would shadow each other).
    paths = _header_paths(analysistest.target_under_test(env))
    asserts.equals(env, 1, len(paths), "the dispatcher header only: %s" % paths)
    asserts.true(env, paths and paths[0].endswith("-fastbuild/bin/tests/bazel/linked_plain.h"), str(paths))
    return analysistest.end(env)

default_include_test = analysistest.make(_default_include_test_impl)

def _cc_attributes_test_impl(ctx):
    env = analysistest.begin(ctx)
    library = analysistest.target_under_test(env)
    paths = _header_paths(library)
    asserts.equals(env, 1, len([p for p in paths if p.endswith("/_virtual_includes/linked_cc/triton/linked_cc.h")]), str(paths))
    context = library[CcInfo].compilation_context
    asserts.true(env, "TRITON_LINKED=1" in context.defines.to_list(), "defines reach dependents")
    asserts.false(env, "LINKED_LOCAL" in context.defines.to_list(), "local_defines do not")
    for action in actions_of(env, "CppCompile"):
        asserts.true(env, "-DTRITON_LINKED=1" in action.argv, "defines: " + action.outputs.to_list()[0].path)
        asserts.true(env, "-DLINKED_LOCAL" in action.argv, "local_defines: " + action.outputs.to_list()[0].path)
    own = [
        library_to_link
        for linker_input in library[CcInfo].linking_context.linker_inputs.to_list()
        if linker_input.owner == library.label
        for library_to_link in linker_input.libraries
    ]
    asserts.equals(env, 1, len(own), "the library's own LibraryToLink")
    if own:
        asserts.true(env, own[0].alwayslink, "alwayslink")
        asserts.equals(env, None, own[0].dynamic_library, "linkstatic: no shared library")
    return analysistest.end(env)

cc_attributes_test = analysistest.make(_cc_attributes_test_impl)

def link_test_suite(name):
    """Links the kernels of kernel_test_suite (declare that first) and tests the command lines.

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
    triton_link_library(
        name = "linked_plain",
        kernels = [
            ":add",
            ":scale",
        ],
        tags = ["manual"],
    )
    triton_link_library(
        name = "linked_cc",
        alwayslink = True,
        defines = ["TRITON_LINKED=1"],
        include_prefix = "triton",
        kernels = [":add_chunked"],
        linkstatic = True,
        local_defines = ["LINKED_LOCAL"],
        strip_include_prefix = "/tests/bazel",
        tags = ["manual"],
    )
    prefixed_link_argv_test(
        name = "prefixed_link_argv_test",
        kernels = [
            ":add",
            ":scale",
        ],
        target_under_test = ":linked",
    )
    link_argv_test(
        name = "link_argv_test",
        kernels = [
            ":add",
            ":scale",
        ],
        target_under_test = ":linked_plain",
    )
    default_include_test(name = "default_include_test", target_under_test = ":linked_plain")
    cc_attributes_test(name = "cc_attributes_test", target_under_test = ":linked_cc")
    native.test_suite(
        name = name,
        tests = [
            ":cc_attributes_test",
            ":default_include_test",
            ":link_argv_test",
            ":prefixed_link_argv_test",
        ],
    )
