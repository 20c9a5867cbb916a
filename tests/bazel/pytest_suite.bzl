"""`pytest_suite`: a py_test running the pytest suite of the calling package."""

load("@rules_python//python:defs.bzl", "py_test")

_MAIN = Label("//tests/bazel:pytest_main.py")

# Declared, not taken from the interpreter (tests/bazel/extensions.bzl).
_PYTEST = [
    Label("@rules_triton_test_deps//:hypothesis"),
    Label("@rules_triton_test_deps//:pytest"),
]

def pytest_suite(name, triton = None, size = "medium", data = [], **kwargs):
    """Runs every test of this package with the declared pytest and Hypothesis, Triton from the wheel repo `triton`.

    Args:
      name: the py_test.
      triton: py_library of the Triton to test against, e.g. "@triton_3_9_0//:triton";
        None for suites that do not import Triton.
      size: the test size (timeout).
      data: files from other packages the tests read, e.g. example kernels.
      **kwargs: further py_test attributes (tags, ...).
    """
    py_test(
        name = name,
        size = size,
        srcs = [_MAIN] + native.glob(["**/*.py"]),
        main = _MAIN,
        # pytest imports test modules from their own directory: no generated __init__.py.
        legacy_create_init = False,
        args = [native.package_name()],
        data = native.glob(
            ["**"],
            exclude = [
                "**/*.py",
                "**/__pycache__/**",
                "BUILD.bazel",
            ],
            allow_empty = True,
        ) + [
            Label("//:pyproject.toml"),
            Label("//tests:conftest.py"),
        ] + data,
        deps = [Label("//ttlink")] + _PYTEST + ([triton] if triton else []),
        **kwargs
    )
