"""Development only: the rules_cc .bzl files starlark_doc_extract needs, whichever rules_cc resolved.

rules_cc 0.0.x has `//cc:bzl_srcs` (plain files) and `//cc/common`; rules_cc >= 0.1 loads
more (its toolchain rules, a compatibility proxy repository) that only its own bzl_library
targets reach, and no label exists in both. Repository `rules_triton_doc_deps`, target
`:rules_cc_bzl`.
"""

def _doc_deps_impl(rctx):
    build = rctx.read(rctx.path(Label("@rules_cc//cc:BUILD")))
    if 'name = "defs_bzl"' in build:
        labels = [
            "@bazel_tools//tools/build_defs/cc:action_names.bzl",
            "@rules_cc//cc:defs_bzl",
            "@rules_cc//cc:find_cc_toolchain_bzl",
            "@rules_cc//cc/common",
        ]
    else:
        labels = ["@rules_cc//cc:bzl_srcs", "@rules_cc//cc/common"]
    rctx.file("BUILD.bazel", """\
# Written by rules_triton's docs/extensions.bzl: rules_cc's .bzl files, for //docs.
filegroup(
    name = "rules_cc_bzl",
    srcs = {srcs},
    visibility = ["//visibility:public"],
)
""".format(srcs = repr([str(Label(label)) for label in labels])))

_doc_deps = repository_rule(implementation = _doc_deps_impl)

def _doc_deps_extension_impl(module_ctx):
    _doc_deps(name = "rules_triton_doc_deps")
    if hasattr(module_ctx, "extension_metadata"):
        return module_ctx.extension_metadata(reproducible = True)
    return None

doc_deps = module_extension(implementation = _doc_deps_extension_impl)
