"""Repository rules: a Triton wheel fetched by `pip download`, and the toolchain hub."""

# Wheels with pinned hashes: version -> CPU -> (pip selectors, sha256). pip is told the
# exact interpreter tags so it fetches this very file whatever Python runs pip; the
# toolchain's Python must be able to import it (3.9.0: CPython >= 3.12; 3.6.0: 3.14).
PINNED_WHEELS = {
    "3.6.0": {
        "x86_64": struct(
            python_version = "3.14",
            abi = "cp314",
            platforms = ["manylinux_2_27_x86_64", "manylinux_2_28_x86_64"],
            sha256 = "a17a5d5985f0ac494ed8a8e54568f092f7057ef60e1b0fa09d3fd1512064e803",
        ),
    },
    "3.9.0": {
        "x86_64": struct(
            python_version = "3.12",
            abi = "abi3",
            platforms = ["manylinux_2_27_x86_64", "manylinux_2_28_x86_64"],
            sha256 = "5e52ab4e2f1d64f0ac494c9aa723697b793f81a91c4cae4c36608ca0bc4267bf",
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
    version = rctx.attr.version
    pinned = PINNED_WHEELS.get(version, {}).get(host_cpu(rctx))
    sha256 = rctx.attr.sha256 or (pinned.sha256 if pinned else "")
    if not sha256:
        fail("rules_triton: no pinned sha256 for triton %s on %s; pass sha256 = \"...\" to triton.toolchain / triton.wheel" % (version, host_cpu(rctx)))
    python = rctx.which(rctx.attr.python) or fail("rules_triton: '%s' not found on PATH; it runs `pip download`" % rctx.attr.python)

    rctx.report_progress("pip download triton==%s" % version)
    command = [python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "--dest", "download"]
    if pinned and not rctx.attr.sha256:
        command.extend(_pip_selectors(pinned))
    result = rctx.execute(command + ["triton==" + version], timeout = 1800, quiet = False)
    if result.return_code:
        fail("rules_triton: `pip download triton==%s` failed (exit %d); pip uses your own configuration (pip.conf, PIP_INDEX_URL, proxies):\n%s" % (version, result.return_code, result.stderr))
    wheels = [path for path in rctx.path("download").readdir() if path.basename.endswith(".whl")]
    if len(wheels) != 1:
        fail("rules_triton: expected one wheel from pip download, got %s" % wheels)
    wheel = wheels[0]

    # Bazel 7's extract() has no `type`: give the wheel (a zip file) a .zip name.
    archive = rctx.path("triton.zip")
    rctx.symlink(wheel, archive)
    got = _sha256(rctx, archive)
    if got != sha256:
        fail("rules_triton: %s has sha256 %s, expected %s" % (wheel.basename, got, sha256))
    rctx.extract(archive)
    rctx.delete("download")
    rctx.delete(archive)
    rctx.template("BUILD.bazel", rctx.attr._build_template, {"{version}": version})

def _sha256(rctx, path):
    result = rctx.execute(["sha256sum", str(path)])
    if result.return_code:
        fail("rules_triton: sha256sum failed: " + result.stderr)
    return result.stdout.split(" ")[0]

triton_wheel = repository_rule(
    implementation = _triton_wheel_impl,
    doc = "Fetches the Triton wheel with `python3 -m pip download` (the user's pip configuration applies) and checks its sha256.",
    attrs = {
        "python": attr.string(default = "python3", doc = "The Python whose pip downloads the wheel."),
        "sha256": attr.string(doc = "Expected sha256 of the wheel; required for versions or CPUs without a pinned hash."),
        "version": attr.string(mandatory = True),
        "_build_template": attr.label(default = "//rules/private/templates:BUILD.triton_wheel"),
    },
)

def _cuda_headers_select(wheel_cuda_headers):
    """The toolchain's CUDA headers: rules_cuda's toolkit if it found one, else the wheel's.

    Real rules_cuda without a toolkit writes an `@cuda` with no `:cuda_headers`; a select()
    only loads the branch it takes, so the toolchain builds either way.
    """
    branches = {str(Label("@rules_cuda//cuda:is_valid_toolchain_found")): str(Label("@cuda//:cuda_headers"))}
    if wheel_cuda_headers:
        branches["//conditions:default"] = wheel_cuda_headers
        return "select(%r)" % branches
    return "select(%r, no_match_error = %r)" % (
        branches,
        "rules_triton: rules_cuda found no CUDA toolkit and triton.toolchain(triton = ...) names no wheel " +
        "that ships cuda.h; install a CUDA toolkit (or set CUDA_PATH) or declare your own triton_toolchain " +
        "with cuda_headers",
    )

def _has_python_version_flag(rctx):
    """Whether rules_python's python_version flag takes any X.Y (>= 1.x: it picks toolchains by it)."""
    build = rctx.read(rctx.path(Label("@rules_python//python/config_settings:BUILD.bazel")))
    return "@pythons_hub" in build

def _python_needed(attr):
    if not attr.python_min:
        return "not known for this wheel, no check"
    if attr.python_max == attr.python_min:
        return "CPython " + attr.python_min
    return "CPython >= " + attr.python_min + (" and <= " + attr.python_max if attr.python_max else "")

def _triton_toolchains_impl(rctx):
    rctx.symlink(rctx.attr._main, "ttlink_main.py")
    rctx.template("BUILD.bazel", rctx.attr._build_template, {
        "{python_max}": rctx.attr.python_max,
        "{python_min}": rctx.attr.python_min,
        "{python_needed}": _python_needed(rctx.attr),
        "{python_version}": rctx.attr.python_version if _has_python_version_flag(rctx) else "",
        "{toolchain_defs}": str(Label("//rules/private:toolchain.bzl")),
        "{cuda_headers}": _cuda_headers_select(rctx.attr.wheel_cuda_headers),
        "{defs}": str(Label("//rules:defs.bzl")),
        "{exec_compatible_with}": repr(rctx.attr.exec_compatible_with),
        "{main_deps}": repr([str(Label("//ttlink")), rctx.attr.triton]),
        "{python_defs}": str(Label("@rules_python//python:defs.bzl")),
        "{toolchain_type}": str(Label("//rules:toolchain_type")),
        "{version}": rctx.attr.version,
    })

triton_toolchains = repository_rule(
    implementation = _triton_toolchains_impl,
    doc = "The hub repository holding the registered Triton toolchain (`@triton_toolchains//:all`).",
    attrs = {
        "exec_compatible_with": attr.string_list(doc = "Constraints of the platforms that can run the toolchain's Triton."),
        "python_max": attr.string(doc = "Newest CPython (X.Y) that imports the wheel; empty: no upper bound."),
        "python_min": attr.string(doc = "Oldest CPython (X.Y) that imports the wheel; empty: unknown."),
        "python_version": attr.string(doc = "CPython (X.Y) to run ttlink on, where rules_python picks toolchains by version."),
        "triton": attr.string(mandatory = True, doc = "Label (canonical form) of a py_library making `import triton` work."),
        "version": attr.string(mandatory = True, doc = "Triton version, for the record."),
        "wheel_cuda_headers": attr.string(doc = "Label (canonical form) of the wheel's CUDA headers, used when rules_cuda found no toolkit; empty for your own Triton."),
        "_build_template": attr.label(default = "//rules/private/templates:BUILD.triton_toolchains"),
        "_main": attr.label(default = "//rules/private:ttlink_main.py"),
    },
)
