"""The `triton` module extension: which Triton the toolchain runs, and wheel repositories.

```starlark
triton = use_extension("@rules_triton//rules:extensions.bzl", "triton")
triton.toolchain(version = "3.9.0")                # the default; only the root module decides
triton.toolchain(triton = "//third_party:triton")   # or: your own py_library of Triton
```

Repositories: `triton_toolchains` (registered by rules_triton: one toolchain per CPU with a
pinned wheel, Linux x86_64 and aarch64, each `exec_compatible_with` its platform), and for
every wheel version (the toolchain's and those named by `triton.wheel`) `triton_X_Y_Z_CPU`
per CPU, fetched only when used, and `triton_X_Y_Z`, this machine's CPU's; each has
`:triton` (py_library) and `:cuda_headers` (cc_library of the cuda.h the wheel ships).
"""

load(
    "//rules/private:repositories.bzl",
    "DEFAULT_VERSION",
    "PINNED_WHEELS",
    "host_cpu",
    "python_support",
    "triton_toolchains",
    "triton_wheel",
    "triton_wheel_alias",
)

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

def _wheel_repo_name(version, cpu = ""):
    return "triton_" + version.replace(".", "_").replace("-", "_") + ("_" + cpu if cpu else "")

def _chosen_toolchain(module_ctx):
    # modules come root first, so the first module that sets a toolchain decides.
    for module in module_ctx.modules:
        tags = module.tags.toolchain
        if len(tags) > 1:
            fail("rules_triton: module %s sets triton.toolchain more than once" % module.name)
        if tags:
            return tags[0]
    return struct(version = DEFAULT_VERSION, sha256 = "", triton = None, python_version = "")

def _wheel_cpus(module_ctx, version, sha256):
    """The CPUs to offer `version` for: every pinned one, or this machine's for a hash of your own."""
    pinned = PINNED_WHEELS.get(version, {})
    return sorted(pinned) if pinned and not sha256 else [host_cpu(module_ctx)]

def _triton_impl(module_ctx):
    chosen = _chosen_toolchain(module_ctx)
    wheels = {}  # version -> sha256
    if not chosen.triton:
        wheels[chosen.version] = chosen.sha256
    for module in module_ctx.modules:
        for tag in module.tags.wheel:
            wheels[tag.version] = tag.sha256 or wheels.get(tag.version, "")

    # One repository per CPU (fetched only when used), plus @triton_X_Y_Z: this machine's.
    for version, sha256 in wheels.items():
        for cpu in _wheel_cpus(module_ctx, version, sha256):
            triton_wheel(name = _wheel_repo_name(version, cpu), version = version, cpu = cpu, sha256 = sha256)
        triton_wheel_alias(
            name = _wheel_repo_name(version),
            actual = "@" + _wheel_repo_name(version, host_cpu(module_ctx)),
            cpu = host_cpu(module_ctx),
            version = version,
        )

    python = python_support("" if chosen.triton else chosen.version, chosen.python_version)
    if chosen.triton:
        triton = {"any": str(chosen.triton)}
        exec_constraints = {}
        cuda_headers = {}
    else:
        cpus = _wheel_cpus(module_ctx, chosen.version, chosen.sha256)
        repos = {cpu: "@" + _wheel_repo_name(chosen.version, cpu) for cpu in cpus}
        triton = {cpu: repos[cpu] + "//:triton" for cpu in cpus}
        cuda_headers = {cpu: repos[cpu] + "//:cuda_headers" for cpu in cpus}
        exec_constraints = {
            cpu: [str(Label("@platforms//os:linux")), str(Label("@platforms//cpu:" + cpu))]
            for cpu in cpus
        }
    triton_toolchains(
        name = "triton_toolchains",
        exec_compatible_with = exec_constraints,
        python_max = python.max,
        python_min = python.min,
        python_version = python.version,
        triton = triton,
        version = chosen.version,
        wheel_cuda_headers = cuda_headers,
    )
    if hasattr(module_ctx, "extension_metadata"):
        return module_ctx.extension_metadata(reproducible = True)
    return None

triton = module_extension(
    implementation = _triton_impl,
    doc = "Configures the Triton toolchain and fetches Triton wheels (see the file docstring).",
    tag_classes = {"toolchain": _toolchain, "wheel": _wheel},
)
