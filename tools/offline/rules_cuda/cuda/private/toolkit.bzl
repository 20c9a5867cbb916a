"""The @cuda repository of the rules_cuda stand-in: an installed CUDA toolkit's headers, if any.

The toolkit, first match wins: the toolkit tag's toolkit_path; CUDA_PATH; nvcc on PATH;
/usr/local/cuda. With none, @cuda is what real rules_cuda 0.3.0 writes then (its "disabled"
mode, templates/BUILD.cuda_disabled): `valid_toolchain_found` is False and there is no
`:cuda_headers` or `:cuda`, so a build that needs them fails here as it would there.
"""

_BUILD = """\
load("@bazel_skylib//rules:common_settings.bzl", "bool_setting")
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

bool_setting(
    name = "valid_toolchain_found",
    build_setting_default = True,
)
"""

_BUILD_DISABLED = """\
load("@bazel_skylib//rules:common_settings.bzl", "bool_setting")

# Stand-in for rules_cuda's @cuda repository (offline tools/bazel): no CUDA toolkit found,
# so, as in rules_cuda, no :cuda_headers and no :cuda.

package(default_visibility = ["//visibility:public"])

bool_setting(
    name = "valid_toolchain_found",
    build_setting_default = False,
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
        rctx.file("BUILD.bazel", _BUILD.format(origin = root + "/include"))
    else:
        rctx.file("BUILD.bazel", _BUILD_DISABLED)

cuda_toolkit = repository_rule(
    implementation = _cuda_toolkit_impl,
    attrs = {"toolkit_path": attr.string()},
    environ = ["CUDA_PATH", "PATH"],
    doc = "CUDA headers as @NAME//:cuda_headers and @NAME//:cuda, if a CUDA toolkit is installed.",
)
