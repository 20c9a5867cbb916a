"""The @cuda repository of the rules_cuda stand-in: CUDA headers, found or fetched.

Where the headers come from, first match wins:
  1. the toolkit tag's toolkit_path;
  2. an installed CUDA toolkit: CUDA_PATH, nvcc on PATH, /usr/local/cuda;
  3. the pinned nvidia-cuda-runtime wheel (2 MB, it ships cuda.h), fetched with
     `python3 -m pip download` so the user's pip configuration (index, proxy) applies.
"""

# Headers are the same on every platform, so one wheel (and one sha256) serves all hosts.
# CUDA 13.0: the oldest driver API the GPU machines' driver (CUDA 13.0) provides in full.
_HEADERS_WHEEL = struct(
    requirement = "nvidia-cuda-runtime==13.0.96",
    platform = "manylinux2014_x86_64",
    sha256 = "7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548",
    include_dir = "nvidia/cu13/include",
)

_BUILD = """\
load("@bazel_skylib//rules:common_settings.bzl", "bool_flag")
load("@rules_cc//cc:defs.bzl", "cc_library")

# Stand-in for rules_cuda's @cuda repository (offline tools/bazel). Headers: {origin}.

package(default_visibility = ["//visibility:public"])

cc_library(
    name = "cuda_headers",
    hdrs = glob(["include/**"]),
    includes = ["include"],
)

# The driver API. Only its headers: generated code loads libcuda with dlopen at run time.
cc_library(
    name = "cuda",
    deps = [":cuda_headers"],
)

bool_flag(
    name = "valid_toolchain_found",
    build_setting_default = True,
)
"""

def _has_headers(rctx, root):
    return root and rctx.path(root + "/include/cuda.h").exists

def _installed_toolkit(rctx):
    """Returns the root of an installed CUDA toolkit with cuda.h, or None."""
    candidates = [rctx.os.environ.get("CUDA_PATH", "")]
    nvcc = rctx.which("nvcc")
    if nvcc:
        candidates.append(str(nvcc.realpath.dirname.dirname))
    candidates.append("/usr/local/cuda")
    for root in candidates:
        if _has_headers(rctx, root):
            return root
    return None

def _fetch_headers_wheel(rctx):
    """Downloads the pinned wheel with pip, checks its sha256 and extracts its include dir."""
    python = rctx.which("python3")
    if not python:
        fail("@{}: no CUDA toolkit found and no python3 to fetch CUDA headers with pip".format(rctx.name))
    result = rctx.execute(
        [
            python,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            _HEADERS_WHEEL.platform,
            "--dest",
            "wheel",
            _HEADERS_WHEEL.requirement,
        ],
        timeout = 600,
    )
    wheels = [f for f in rctx.path("wheel").readdir() if f.basename.endswith(".whl")] if result.return_code == 0 else []
    if len(wheels) != 1:
        fail("@{}: `pip download {}` failed:\n{}{}".format(
            rctx.name,
            _HEADERS_WHEEL.requirement,
            result.stdout,
            result.stderr,
        ))

    # Through Bazel's downloader: it checks the sha256, and a .zip name lets extract() read it.
    rctx.download(
        url = "file://" + str(wheels[0]),
        output = "headers.zip",
        sha256 = _HEADERS_WHEEL.sha256,
    )
    rctx.extract("headers.zip", output = "wheel_contents")
    rctx.symlink("wheel_contents/" + _HEADERS_WHEEL.include_dir, "include")
    rctx.delete("wheel")
    rctx.delete("headers.zip")

def _cuda_toolkit_impl(rctx):
    if rctx.attr.toolkit_path:
        if not _has_headers(rctx, rctx.attr.toolkit_path):
            fail("cuda.toolkit(name = \"{}\"): toolkit_path {} has no include/cuda.h".format(
                rctx.name,
                rctx.attr.toolkit_path,
            ))
        root = rctx.attr.toolkit_path
    else:
        root = _installed_toolkit(rctx)
    if root:
        rctx.symlink(root + "/include", "include")
        origin = root + "/include"
    else:
        _fetch_headers_wheel(rctx)
        origin = "the {} wheel".format(_HEADERS_WHEEL.requirement)
    rctx.file("BUILD.bazel", _BUILD.format(origin = origin))

cuda_toolkit = repository_rule(
    implementation = _cuda_toolkit_impl,
    attrs = {"toolkit_path": attr.string()},
    environ = ["CUDA_PATH", "PATH"],
    doc = "CUDA headers as @NAME//:cuda_headers and @NAME//:cuda.",
)
