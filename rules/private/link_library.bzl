"""`triton_link_library`: ttlink link (mnemonic TritonLink) + one cc_library of everything."""

load("@rules_cc//cc:defs.bzl", "cc_library")
load(":providers.bzl", "TritonKernelInfo")
load(":specializations.bzl", "attr_fail")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "find_triton_toolchain")

_RUNTIME = Label("//ttlink/runtime")

def _triton_link_impl(ctx):
    kernels = [kernel[TritonKernelInfo] for kernel in ctx.attr.kernels]
    if not kernels:
        attr_fail(ctx.label, "kernels", "must name at least one triton_kernel")
    names = {}
    for kernel in kernels:
        if kernel.name in names:
            attr_fail(ctx.label, "kernels", "two kernels share the API name '%s'" % kernel.name)
        names[kernel.name] = True
    headers = depset(transitive = [kernel.headers for kernel in kernels])
    sources = depset(transitive = [kernel.sources for kernel in kernels])

    header = ctx.actions.declare_file(ctx.attr.out + ".h")
    source = ctx.actions.declare_file(ctx.attr.out + ".c")
    args = ctx.actions.args()
    args.add("link")
    args.add_all(headers)
    args.add("-o", header.path[:-len(".h")])
    if ctx.attr.prefix:
        args.add("--prefix", ctx.attr.prefix)
    ctx.actions.run(
        executable = find_triton_toolchain(ctx).ttlink,
        arguments = [args],
        inputs = headers,
        outputs = [header, source],
        mnemonic = "TritonLink",
        progress_message = "Linking Triton kernels %s into %s" % (", ".join(sorted(names.keys())), header.short_path),
        env = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"},
        use_default_shell_env = True,
        toolchain = TOOLCHAIN_TYPE,
    )
    return [
        DefaultInfo(files = depset([source], transitive = [headers, sources])),
        OutputGroupInfo(header = depset([header])),
    ]

triton_link = rule(
    implementation = _triton_link_impl,
    doc = "Runs `ttlink link` over the variant headers of `kernels`; see `triton_link_library`.",
    attrs = {
        "kernels": attr.label_list(mandatory = True, providers = [TritonKernelInfo], doc = "triton_kernel targets."),
        "out": attr.string(mandatory = True, doc = "Base name of the linked OUT.h / OUT.c in this package."),
        "prefix": attr.string(doc = "Prefix of every linked symbol (`ttlink link --prefix`)."),
    },
    toolchains = [TOOLCHAIN_TYPE],
)

def triton_link_library(name, kernels, prefix = "", deps = [], **kwargs):
    """Links Triton kernels into a `cc_library` named `name`.

    Dependents `#include "NAME.h"` (the header sits in this package and its directory is
    stripped from the include path). The library needs no link-time libcuda: the runtime
    opens libcuda.so.1 on first use.

    Targets created: `NAME` (the cc_library), `NAME.ttlink` (the TritonLink outputs) and
    `NAME.header` (the linked header alone).

    Args:
      name: the cc_library, and the base name of the linked header and source.
      kernels: triton_kernel targets; their API names must differ.
      prefix: prepended to every linked symbol, e.g. `mylib_`.
      deps: extra cc deps of the library.
      **kwargs: cc_library attributes (visibility, tags, copts, ...).
    """
    link_name = name + ".ttlink"
    tags = kwargs.get("tags", [])
    triton_link(
        name = link_name,
        kernels = kernels,
        prefix = prefix,
        out = name,
        tags = tags,
        visibility = ["//visibility:private"],
    )
    native.filegroup(
        name = name + ".header",
        srcs = [link_name],
        output_group = "header",
        tags = tags,
        visibility = ["//visibility:private"],
    )
    package = native.package_name()
    cc_library(
        name = name,
        srcs = [link_name],
        hdrs = [name + ".header"],
        strip_include_prefix = "/" + package if package else None,
        deps = [_RUNTIME] + deps,
        **kwargs
    )
