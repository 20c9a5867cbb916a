"""`triton_link_library`: ttlink link (mnemonic TritonLink), then the C of every variant and
the dispatcher compiled into one C library that dependents use like a cc_library.

With a `prefix`, the variants' C is assembled again from the kernels' binaries with that
prefix (TritonAssemble), so that two libraries in one binary never share a variant symbol.
Each variant source is compiled by its own action that sees only its own header, so a
changed config recompiles only its own variants' C and the dispatcher.
"""

load("@rules_cc//cc:find_cc_toolchain.bzl", "find_cc_toolchain", "use_cc_toolchain")
load("@rules_cc//cc/common:cc_common.bzl", "cc_common")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load(":actions.bzl", "assemble", "run_ttlink")
load(":providers.bzl", "TritonKernelInfo")
load(":specializations.bzl", "attr_fail", "symbol_name")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

def _variants(ctx, kernels, prefix):
    """The variants to link: struct(header, source) each; the kernels' own without a prefix."""
    if not prefix:
        return [variant for kernel in kernels for variant in kernel.variants]
    return [
        assemble(
            ctx,
            kernel.name,
            variant.binaries,
            variant.grid,
            variant.embed_ptx,
            "_triton/%s/%s/%s" % (ctx.label.name, kernel.name, variant.tag),
            variant.tag,
            prefix = prefix,
        )
        for kernel in kernels
        for variant in kernel.variants
    ]

def _tuning_files(ctx):
    """Writes each record of `tuning` as JSON for TritonLink's `--tuning`.

    Each file is named after the .bzl file its record was loaded from, so that ttlink's
    errors name that file.

    Args:
      ctx: the rule context.

    Returns:
      The written files, in `tuning` order.
    """
    files = {}
    for index, record in enumerate(json.decode(ctx.attr.tuning)):
        if type(record) != "dict" or "kernels" not in record or "format" not in record:
            attr_fail(ctx.label, "tuning", "tuning[%d] is not a record: load the RECORD of a .bzl file that `ttlink record -o NAME.bzl` wrote" % index)
        source = record.get("source") or "tuning%d" % index
        name = source[:-len(".bzl")] if source.endswith(".bzl") else source
        if name in files:
            attr_fail(ctx.label, "tuning", "tuning[%d] (%s) is given twice" % (index, source))
        files[name] = ctx.actions.declare_file("_triton/%s.tuning/%s.json" % (ctx.label.name, name))
        ctx.actions.write(files[name], json.encode({key: value for key, value in record.items() if key != "source"}))
    return files.values()

def _link(ctx, kernels, headers, prefix, tuning):
    header = ctx.actions.declare_file(ctx.label.name + ".h")
    source = ctx.actions.declare_file(ctx.label.name + ".c")
    args = ctx.actions.args()
    args.add("link")
    args.add_all(headers)
    args.add("-o", header.path[:-len(".h")])
    if prefix:
        args.add("--prefix", prefix)
    args.add_all(tuning, format_each = "--tuning=%s")
    run_ttlink(
        ctx,
        mnemonic = "TritonLink",
        arguments = args,
        inputs = depset(tuning, transitive = [headers]),
        outputs = [header, source],
        progress_message = "Linking Triton kernels %s into %s" % (", ".join([k.name for k in kernels]), header.short_path),
    )
    return header, source

def _object_group(ctx, source):
    """Names the compile of one variant source after its path: stable while its config exists."""
    return "%s.%s" % (ctx.label.name, source.short_path.replace("../", "")[:-len(".c")].replace("/", "."))

def _triton_link_library_impl(ctx):
    kernels = [kernel[TritonKernelInfo] for kernel in ctx.attr.kernels]
    names = {}
    for kernel in kernels:
        if kernel.name in names:
            attr_fail(ctx.label, "kernels", "two kernels share the API name '%s'" % kernel.name)
        names[kernel.name] = True
    prefix = ctx.attr.prefix
    if prefix:
        symbol_name(ctx.label, "prefix", prefix, "starts every linked symbol")
    variants = _variants(ctx, kernels, prefix)
    header, source = _link(ctx, kernels, depset([variant.header for variant in variants]), prefix, _tuning_files(ctx))

    cc_toolchain = find_cc_toolchain(ctx)
    features = cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features,
    )
    deps = [ctx.attr._runtime[CcInfo]] + [dep[CcInfo] for dep in ctx.attr.deps]
    dep_contexts = [dep.compilation_context for dep in deps]

    def compile(name, srcs, public_hdrs = [], private_hdrs = [], include_prefix = "", strip_include_prefix = ""):
        return cc_common.compile(
            name = name,
            actions = ctx.actions,
            feature_configuration = features,
            cc_toolchain = cc_toolchain,
            srcs = srcs,
            public_hdrs = public_hdrs,
            private_hdrs = private_hdrs,
            include_prefix = include_prefix,
            strip_include_prefix = strip_include_prefix,
            defines = ctx.attr.defines,
            local_defines = ctx.attr.local_defines,
            compilation_contexts = dep_contexts,
            user_compile_flags = ctx.attr.copts,
        )

    # The dispatcher carries the public header, included as a cc_library's header would be;
    # a variant source includes its own header from its directory.
    compilation_context, dispatcher_objects = compile(
        ctx.label.name,
        [source],
        public_hdrs = [header],
        include_prefix = ctx.attr.include_prefix,
        strip_include_prefix = ctx.attr.strip_include_prefix,
    )
    objects = [dispatcher_objects]
    for variant in variants:
        _, variant_objects = compile(_object_group(ctx, variant.source), [variant.source], private_hdrs = [variant.header])
        objects.append(variant_objects)

    linking_context, linking_outputs = cc_common.create_linking_context_from_compilation_outputs(
        name = ctx.label.name,
        actions = ctx.actions,
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        compilation_outputs = cc_common.merge_compilation_outputs(compilation_outputs = objects),
        linking_contexts = [dep.linking_context for dep in deps],
        alwayslink = ctx.attr.alwayslink,
        disallow_dynamic_library = ctx.attr.linkstatic,
    )
    library = linking_outputs.library_to_link
    files = [f for f in [library.static_library, library.pic_static_library] if f] if library else []
    cc_info = cc_common.merge_cc_infos(
        direct_cc_infos = [CcInfo(compilation_context = compilation_context, linking_context = linking_context)],
        cc_infos = deps,
    )
    return [
        DefaultInfo(files = depset(files)),
        cc_info,
        OutputGroupInfo(
            header = depset([header]),
            sources = depset([source] + [variant.source for variant in variants]),
        ),
    ]

triton_link_library_rule = rule(
    implementation = _triton_link_library_impl,
    doc = "The rule behind `triton_link_library`, which JSON-encodes its `tuning` records.",
    attrs = {
        "alwayslink": attr.bool(doc = "As for cc_library: binaries link every object of the library, used or not."),
        "copts": attr.string_list(doc = "Extra C compiler flags for the generated sources."),
        "defines": attr.string_list(doc = "`-D` flags for the generated sources and every dependent, as for cc_library."),
        "deps": attr.label_list(providers = [CcInfo], doc = "Extra cc deps, propagated to dependents."),
        "include_prefix": attr.string(doc = "Prepended to the header's include path (after `strip_include_prefix`), as for cc_library."),
        "kernels": attr.label_list(
            mandatory = True,
            allow_empty = False,
            providers = [TritonKernelInfo],
            doc = "triton_kernel targets; their API names must differ.",
        ),
        "linkstatic": attr.bool(doc = "As for cc_library: build no shared library, dependents link the static one."),
        "local_defines": attr.string_list(doc = "`-D` flags for the generated sources only."),
        "prefix": attr.string(
            doc = """Prepended to every linked symbol, e.g. `mylib_`: the API (`ttlink link --prefix`)
and the variants' symbols (`ttlink assemble --prefix`, run again per variant). A C identifier
not starting with `ttlink_` or `cu[A-Z]`.""",
        ),
        "strip_include_prefix": attr.string(
            doc = """Removed from the header's include path, as for cc_library:
relative to the package, or to the repository with a leading `/` (e.g. `/pkg` for `#include "NAME.h"`).""",
        ),
        "tuning": attr.string(default = "[]", doc = "JSON: list of records written by `ttlink record -o NAME.bzl`."),
        "_runtime": attr.label(default = "//ttlink/runtime", providers = [CcInfo]),
    },
    fragments = ["cpp"],
    provides = [CcInfo],
    toolchains = [TOOLCHAIN_TYPE] + use_cc_toolchain(),
)

def triton_link_library(name, kernels, tuning = [], **kwargs):
    """Links Triton kernels into a C library; dependents use it like a cc_library.

    Dependents include the header by its path in the workspace, `#include "PKG/NAME.h"`, like
    a cc_library's header; `strip_include_prefix` and `include_prefix` change that path as
    they do for a cc_library. For every kernel API name `K` (prefixed by `prefix`):
    `K(stream, args..., algo_id)`, `K_default`, `K_get_num_algos`, `K_get_algo_name`,
    `load_K`, `unload_K` and `K_{algo}`; with `tuning`, `K_autotuned`. No link-time libcuda:
    the ttlink runtime opens libcuda.so.1 on first use; its CUDA headers come from the
    Triton toolchain.

    Output groups: `header` (NAME.h), `sources` (NAME.c and every variant source).

    Args:
      name: target name; the header is NAME.h.
      kernels: triton_kernel targets; their API names must differ.
      tuning: `RECORD`s loaded from .bzl files that `ttlink record -o NAME.bzl` wrote
        (`load(":NAME.bzl", NAME = "RECORD")`): the config Triton's autotuner chose per
        autotune key, for `K_autotuned` (`ttlink link --tuning`; docs/AUTOTUNE.md).
      **kwargs: the other attributes of the rule (prefix, copts, deps, visibility, ...).
    """
    triton_link_library_rule(name = name, kernels = kernels, tuning = json.encode(tuning), **kwargs)
