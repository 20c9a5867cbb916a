"""Repository rules: a Triton wheel fetched by `pip download`, and the toolchain hub."""

# Wheels with pinned hashes: version -> CPU -> (pip selectors, sha256). pip is told the
# exact interpreter and platform tags, so it fetches this very file whatever machine and
# Python run pip (a client of another CPU than its executors included); the toolchain's
# Python must be able to import it (3.9.0: CPython >= 3.12; 3.6.0: 3.14).
PINNED_WHEELS = {
    "3.6.0": {
        "x86_64": struct(
            python_version = "3.14",
            abi = "cp314",
            platforms = ["manylinux_2_27_x86_64", "manylinux_2_28_x86_64"],
            sha256 = "a17a5d5985f0ac494ed8a8e54568f092f7057ef60e1b0fa09d3fd1512064e803",
        ),
        "aarch64": struct(
            python_version = "3.14",
            abi = "cp314",
            platforms = ["manylinux_2_27_aarch64", "manylinux_2_28_aarch64"],
            sha256 = "ef5523241e7d1abca00f1d240949eebdd7c673b005edbbce0aca95b8191f1d43",
        ),
    },
    "3.9.0": {
        "x86_64": struct(
            python_version = "3.12",
            abi = "abi3",
            platforms = ["manylinux_2_27_x86_64", "manylinux_2_28_x86_64"],
            sha256 = "5e52ab4e2f1d64f0ac494c9aa723697b793f81a91c4cae4c36608ca0bc4267bf",
        ),
        "aarch64": struct(
            python_version = "3.12",
            abi = "abi3",
            platforms = ["manylinux_2_27_aarch64", "manylinux_2_28_aarch64"],
            sha256 = "5542f4328472fd827dbb1ec43873364c2894682cc3f5d1c74a643762900e243e",
        ),
    },
}

DEFAULT_VERSION = "3.9.0"

def python_support(version, python_version = ""):
    """The CPython versions (X.Y) that can import a Triton wheel.

    Args:
      version: the Triton version; empty for your own Triton (nothing known).
      python_version: the X.Y the user asked for with triton.toolchain(python_version = ...).

    Returns:
      struct(min, max, version): the oldest and newest supported (max empty: no bound; both
      empty: unknown, as for wheels without a pinned hash) and the one to ask rules_python for
      (the one given, else the oldest supported).
    """
    pinned = PINNED_WHEELS.get(version, {}).values()
    if python_version:
        low, high = python_version, python_version
    elif pinned:
        wheel = list(pinned)[0]
        low = wheel.python_version
        high = "" if wheel.abi == "abi3" else wheel.python_version
    else:
        low, high = "", ""
    return struct(min = low, max = high, version = python_version or low)

def host_cpu(ctx):
    """The CPU of the machine running a repository rule or module extension, as @platforms names it."""
    arch = ctx.os.arch
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)

def _pip_selectors(pinned):
    selectors = ["--implementation", "cp", "--python-version", pinned.python_version, "--abi", pinned.abi]
    for platform in pinned.platforms:
        selectors.extend(["--platform", platform])
    return selectors

def _triton_wheel_impl(rctx):
    version, cpu = rctx.attr.version, rctx.attr.cpu
    pinned = PINNED_WHEELS.get(version, {}).get(cpu)
    sha256 = rctx.attr.sha256 or (pinned.sha256 if pinned else "")
    if not sha256:
        fail("rules_triton: no pinned sha256 for triton %s on %s; pass sha256 = \"...\" to triton.toolchain / triton.wheel" % (version, cpu))
    if not pinned and cpu != host_cpu(rctx):
        fail("rules_triton: triton %s for %s has no pinned pip selectors; only this machine's CPU (%s) can be fetched" % (version, cpu, host_cpu(rctx)))
    selectors = _pip_selectors(pinned) if pinned and not rctx.attr.sha256 else []
    fetch_wheel(rctx, "triton", version, sha256, selectors, python = rctx.attr.python)
    rctx.template("BUILD.bazel", rctx.attr._build_template, {"{version}": version})

def fetch_wheel(rctx, distribution, version, sha256, pip_args = [], output = "", python = "python3"):
    """Fetches one wheel with `python -m pip download --no-deps`, checks its sha256 and extracts it.

    pip runs with the user's own configuration (pip.conf, PIP_INDEX_URL, proxies).

    Args:
      rctx: the repository_ctx.
      distribution: the name pip knows it by, e.g. "triton".
      version: the exact version.
      sha256: the wheel's expected sha256.
      pip_args: further `pip download` arguments, e.g. the interpreter and platform tags.
      output: the directory of the repository to extract it into; "" for the top.
      python: the Python whose pip downloads it.
    """
    requirement = "%s==%s" % (distribution, version)
    interpreter = rctx.which(python) or fail("rules_triton: '%s' not found on PATH; it runs `pip download`" % python)
    rctx.report_progress("pip download " + requirement)
    download = rctx.path("download")
    command = [interpreter, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "--dest", download]
    result = rctx.execute(command + pip_args + [requirement], timeout = 1800, quiet = False)
    if result.return_code:
        fail("rules_triton: `pip download %s` failed (exit %d); pip uses your own configuration (pip.conf, PIP_INDEX_URL, proxies):\n%s" % (requirement, result.return_code, result.stderr))
    wheels = [path for path in download.readdir() if path.basename.endswith(".whl")]
    if len(wheels) != 1:
        fail("rules_triton: expected one wheel from `pip download %s`, got %s" % (requirement, wheels))
    wheel = wheels[0]

    # Bazel 7's extract() has no `type`: give the wheel (a zip file) a .zip name.
    archive = rctx.path("wheel.zip")
    rctx.symlink(wheel, archive)
    got = _sha256(rctx, archive)
    if got != sha256:
        fail("rules_triton: %s has sha256 %s, expected %s" % (wheel.basename, got, sha256))
    rctx.extract(archive, output = output)
    rctx.delete(download)
    rctx.delete(archive)

def _sha256(rctx, path):
    result = rctx.execute(["sha256sum", str(path)])
    if result.return_code:
        fail("rules_triton: sha256sum failed: " + result.stderr)
    return result.stdout.split(" ")[0]

triton_wheel = repository_rule(
    implementation = _triton_wheel_impl,
    doc = "Fetches the Triton wheel for one CPU with `python3 -m pip download` (the user's pip configuration applies) and checks its sha256.",
    attrs = {
        "cpu": attr.string(mandatory = True, doc = "The CPU (as @platforms names it) the wheel is for."),
        "python": attr.string(default = "python3", doc = "The Python whose pip downloads the wheel."),
        "sha256": attr.string(doc = "Expected sha256 of the wheel; required for versions or CPUs without a pinned hash."),
        "version": attr.string(mandatory = True),
        "_build_template": attr.label(default = "//rules/private/templates:BUILD.triton_wheel"),
    },
)

def _has_python_version_flag(rctx):
    """Whether rules_python's python_version flag takes any X.Y (>= 1.x: it picks toolchains by it)."""
    build = rctx.read(rctx.path(Label("@rules_python//python/config_settings:BUILD.bazel")))
    return "@pythons_hub" in build

def _triton_toolchains_impl(rctx):
    python_version = rctx.attr.python_version if _has_python_version_flag(rctx) else ""
    toolchains = []
    for name, triton in sorted(rctx.attr.triton.items()):
        toolchains.append(_TOOLCHAIN_CALL.format(
            name = repr(name),
            exec_compatible_with = repr(rctx.attr.exec_compatible_with.get(name, [])),
            python_max = repr(rctx.attr.python_max),
            python_min = repr(rctx.attr.python_min),
            python_version = repr(python_version),
            triton = repr(triton),
            version = repr(rctx.attr.version),
            wheel_cuda_headers = repr(rctx.attr.wheel_cuda_headers.get(name, "")),
        ))
    rctx.symlink(rctx.attr._main, "ttlink_main.py")
    rctx.template("BUILD.bazel", rctx.attr._build_template, {
        "{hub_defs}": str(Label("//rules/private:hub.bzl")),
        "{toolchains}": "".join(toolchains),
        "{version}": rctx.attr.version,
    })

_TOOLCHAIN_CALL = """
triton_exec_toolchain(
    name = {name},
    exec_compatible_with = {exec_compatible_with},
    python_max = {python_max},
    python_min = {python_min},
    python_version = {python_version},
    triton = {triton},
    triton_version = {version},
    wheel_cuda_headers = {wheel_cuda_headers},
)
"""

triton_toolchains = repository_rule(
    implementation = _triton_toolchains_impl,
    doc = "The hub repository holding the Triton toolchains, one per kind of execution platform (`@triton_toolchains//:all`).",
    attrs = {
        "exec_compatible_with": attr.string_list_dict(doc = "Toolchain name -> constraints of the platforms that can run its Triton."),
        "python_max": attr.string(doc = "Newest CPython (X.Y) that imports the wheel; empty: no upper bound."),
        "python_min": attr.string(doc = "Oldest CPython (X.Y) that imports the wheel; empty: unknown."),
        "python_version": attr.string(doc = "CPython (X.Y) to run ttlink on, where rules_python picks toolchains by version."),
        "triton": attr.string_dict(mandatory = True, doc = "Toolchain name -> label (canonical form) of a py_library making `import triton` work."),
        "version": attr.string(mandatory = True, doc = "Triton version, for the record."),
        "wheel_cuda_headers": attr.string_dict(doc = "Toolchain name -> label of its wheel's CUDA headers, used when rules_cuda found no toolkit; none for your own Triton."),
        "_build_template": attr.label(default = "//rules/private/templates:BUILD.triton_toolchains"),
        "_main": attr.label(default = "//rules/private:ttlink_main.py"),
    },
)

def _triton_wheel_alias_impl(rctx):
    rctx.file("BUILD.bazel", _ALIASES.format(version = rctx.attr.version, cpu = rctx.attr.cpu, actual = rctx.attr.actual))

_ALIASES = """\
# Written by rules_triton's triton_wheel_alias repository rule: Triton {version} for this
# machine's CPU ({cpu}).
package(default_visibility = ["//visibility:public"])

alias(
    name = "triton",
    actual = "{actual}//:triton",
)

alias(
    name = "cuda_headers",
    actual = "{actual}//:cuda_headers",
)
"""

triton_wheel_alias = repository_rule(
    implementation = _triton_wheel_alias_impl,
    doc = "`@triton_X_Y_Z`: the wheel repository of this machine's CPU, under a name that does not depend on it.",
    attrs = {
        "actual": attr.string(mandatory = True, doc = "The wheel repository, e.g. `@triton_3_9_0_x86_64`."),
        "cpu": attr.string(mandatory = True),
        "version": attr.string(mandatory = True),
    },
)
