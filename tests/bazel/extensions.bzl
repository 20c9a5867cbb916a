"""Development only: the Python packages the pytest suites run on, declared (`test_deps`).

Repository `rules_triton_test_deps`, fetched only when a test is built: `:pytest` and
`:hypothesis` (py_library, with their dependencies), from pure-Python wheels that
`pip download` fetches like the Triton wheel (the user's pip configuration applies) and that
are checked against the sha256 pinned here. They come before the interpreter's own
site-packages on the import path, so the suites run on these versions whatever the
interpreter has (the offline rootfs's Debian packages, a venv, or none). Every wheel supports
CPython 3.11 to 3.14; on those, pytest needs neither exceptiongroup nor tomli.
"""

load("//rules/private:repositories.bzl", "fetch_wheel")  # buildifier: disable=bzl-visibility

# distribution -> version, sha256 of its py3-none-any wheel, the distributions it requires.
_WHEELS = {
    "hypothesis": struct(
        # The newest with a pure-Python wheel: later ones ship per-interpreter native wheels.
        version = "6.155.7",
        sha256 = "9f634bdb1f9e9b8ab6ba09431cf2deedb750c96978125a6fb3c5a0f6c6db4131",
        deps = ["sortedcontainers"],
    ),
    "iniconfig": struct(
        version = "2.3.1",
        sha256 = "9121e2c1fdb355232495be3194c8dfe87ccc2d5dee45947b78e68f499790d7a7",
        deps = [],
    ),
    "packaging": struct(
        version = "26.4",
        sha256 = "81383611a09c1bc0b08b76e0fd5829d7c6824c65b27a6aee339da133f4233ea2",
        deps = [],
    ),
    "pluggy": struct(
        version = "1.7.0",
        sha256 = "7dd7b0d8832ba3cb632c306926ded123429211b83641b35dc5c41ad2d34f9bec",
        deps = [],
    ),
    "pygments": struct(
        version = "2.21.0",
        sha256 = "2363c69b61c4a97c838da3b130dcd6468f4848992b21a82f2a63ec34377137d9",
        deps = [],
    ),
    "pytest": struct(
        version = "9.2.0",
        sha256 = "07acdcf88ec174f907dc01af70bf52d49b014bbab03faeeade31c96b18c2e588",
        deps = ["iniconfig", "packaging", "pluggy", "pygments"],
    ),
    "sortedcontainers": struct(
        version = "2.4.0",
        sha256 = "a163dcaede0f1c021485e957a39245190e74249897e2ae4b2aa38595db237ee0",
        deps = [],
    ),
}

# Pure-Python wheels only, whatever Python runs pip: a wheel built for one interpreter would
# not import on the others the tests run on.
_PURE_PYTHON = ["--implementation", "py", "--python-version", "3.11", "--abi", "none", "--platform", "any"]

# Each wheel in its own directory, named distribution-version: not an importable name, so the
# directory itself never shadows a package.
_LIBRARY = """
py_library(
    name = "{name}",
    srcs = glob(["{dir}/**/*.py"]),
    # The dist-info is data too: pytest finds Hypothesis' plugin through its entry points.
    data = glob(
        ["{dir}/**"],
        exclude = [
            "{dir}/**/*.py",
            "**/__pycache__/**",
        ],
    ),
    imports = ["{dir}"],
    deps = {deps},
)
"""

def _test_wheels_impl(rctx):
    libraries = []
    for name, wheel in sorted(_WHEELS.items()):
        directory = "%s-%s" % (name, wheel.version)
        fetch_wheel(rctx, name, wheel.version, wheel.sha256, _PURE_PYTHON, output = directory)
        libraries.append(_LIBRARY.format(name = name, dir = directory, deps = repr([":" + dep for dep in wheel.deps])))
    rctx.file("BUILD.bazel", """\
# Written by rules_triton's tests/bazel/extensions.bzl: the pytest suites' Python packages.
load("@rules_python//python:defs.bzl", "py_library")

package(default_visibility = ["//visibility:public"])
""" + "".join(libraries))

_test_wheels = repository_rule(implementation = _test_wheels_impl)

def _test_deps_impl(module_ctx):
    _test_wheels(name = "rules_triton_test_deps")
    if hasattr(module_ctx, "extension_metadata"):
        return module_ctx.extension_metadata(reproducible = True)
    return None

test_deps = module_extension(implementation = _test_deps_impl)
