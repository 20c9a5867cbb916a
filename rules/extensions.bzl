"""The `triton` module extension: which Triton the toolchain runs, and wheel repositories.

```starlark
triton = use_extension("@rules_triton//rules:extensions.bzl", "triton")
triton.toolchain(version = "3.9.0")                # the default; only the root module decides
triton.toolchain(triton = "//third_party:triton")   # or: your own py_library of Triton
```

Repositories: `triton_toolchains` (registered by rules_triton) and `triton_X_Y_Z` for
every wheel version fetched (the toolchain's and those named by `triton.wheel`), each with
`:triton` (py_library).
"""

load("//rules/private:repositories.bzl", "DEFAULT_VERSION", "host_cpu", "python_support", "triton_toolchains", "triton_wheel")

_toolchain = tag_class(
    doc = "Chooses the Triton of the registered toolchain. The root module's tag wins, else rules_triton's default.",
    attrs = {
        "python_version": attr.string(doc = "CPython version (X.Y) ttlink runs on, chosen from rules_python's registered toolchains (rules_python >= 1.x). Default: the oldest the pinned wheel supports (3.9.0: 3.12)."),
        "sha256": attr.string(doc = "sha256 of the wheel, for versions or CPUs rules_triton has no pinned hash for."),
        "triton": attr.label(doc = "A py_library of your own Triton to use instead of a fetched wheel."),
        "version": attr.string(default = DEFAULT_VERSION, doc = "Triton version fetched with pip download."),
    },
)

_wheel = tag_class(
    doc = "Fetches one more Triton wheel as repository `triton_X_Y_Z` (e.g. to test against it).",
    attrs = {
        "sha256": attr.string(doc = "sha256 of the wheel, for versions or CPUs without a pinned hash."),
        "version": attr.string(mandatory = True),
    },
)

def wheel_repo_name(version):
    return "triton_" + version.replace(".", "_").replace("-", "_")

def _chosen_toolchain(module_ctx):
    # modules come root first, so the first module that sets a toolchain decides.
    for module in module_ctx.modules:
        tags = module.tags.toolchain
        if len(tags) > 1:
            fail("rules_triton: module %s sets triton.toolchain more than once" % module.name)
        if tags:
            return tags[0]
    return struct(version = DEFAULT_VERSION, sha256 = "", triton = None, python_version = "")

def _exec_constraints(module_ctx, chosen):
    """A fetched wheel runs on Linux on the fetching machine's CPU; your own Triton anywhere."""
    cpu = host_cpu(module_ctx)
    if chosen.triton or cpu not in ("x86_64", "aarch64"):
        return []
    return [str(Label("@platforms//os:linux")), str(Label("@platforms//cpu:" + cpu))]

def _triton_impl(module_ctx):
    chosen = _chosen_toolchain(module_ctx)
    wheels = {}
    if not chosen.triton:
        wheels[chosen.version] = chosen.sha256
    for module in module_ctx.modules:
        for tag in module.tags.wheel:
            wheels[tag.version] = tag.sha256 or wheels.get(tag.version, "")
    for version, sha256 in wheels.items():
        triton_wheel(name = wheel_repo_name(version), version = version, sha256 = sha256)
    wheel_repo = "" if chosen.triton else "@" + wheel_repo_name(chosen.version)
    python = python_support("" if chosen.triton else chosen.version, chosen.python_version)
    triton_toolchains(
        name = "triton_toolchains",
        exec_compatible_with = _exec_constraints(module_ctx, chosen),
        triton = str(chosen.triton) if chosen.triton else wheel_repo + "//:triton",
        python_max = python.max,
        python_min = python.min,
        python_version = python.version,
        version = chosen.version,
        wheel_cuda_headers = wheel_repo and wheel_repo + "//:cuda_headers",
    )
    if hasattr(module_ctx, "extension_metadata"):
        return module_ctx.extension_metadata(reproducible = True)
    return None

triton = module_extension(
    implementation = _triton_impl,
    doc = "Configures the Triton toolchain and fetches Triton wheels (see the file docstring).",
    tag_classes = {"toolchain": _toolchain, "wheel": _wheel},
)
