"""The compile -> link contract on real `ttlink compile` output (no GPU needed): the linker
reads its headers, and the dispatcher's own declarations of the variant entry points agree
with the variants' headers in one translation unit, as C and as C++."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from link_testing import FIXTURES, compile_c, load_dispatcher, run_module

from ttlink.headers import read_header

# out path: (kernel, out name, signature, target)
VARIANTS = {
    # copy_kernel(x_ptr, BLOCK: constexpr, out_ptr, n)
    "copy_aligned": ("copy_kernel", "copy", "*fp32:16, 128, *fp32:16, i32:16", "cuda:90"),
    "copy_generic": ("copy_kernel", "copy", "*fp32, 128, *fp32, i32", "cuda:90"),
    # add_kernel and sub_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: constexpr): same parameters
    "add_aligned": ("add_kernel", "add", "*fp32:16, *fp32:16, *fp32:16, i32:16, 1024", "cuda:90"),
    "add_generic_sm80": ("add_kernel", "add", "*fp32, *fp32, *fp32, i32, 1024", "cuda:80"),
    "sub_generic": ("sub_kernel", "add", "*fp32, *fp32, *fp32, i32, 1024", "cuda:90"),
    # scale_by_kernel(x_ptr, out_ptr, scale, n, BLOCK: constexpr) linked as `scale`
    "scale_aligned": ("scale_by_kernel", "scale", "*fp32:16, *fp32:16, fp32, i32:16, 256", "cuda:90"),
    "scale_generic": ("scale_by_kernel", "scale", "*fp32, *fp32, fp32, i32, 256", "cuda:90"),
}
# --prefix: (kernel): add_kernel and sub_kernel both as `add`, for two prefixed libraries
PREFIXED = {"a_": "add_kernel", "s_": "sub_kernel"}


def compile_variant(directory: Path, out: str, kernel: str, out_name: str, signature: str, target: str, *options):
    result = run_module(
        "ttlink",
        "compile",
        FIXTURES / "kernels.py",
        "-n",
        kernel,
        "-s",
        signature,
        "-w",
        "4",
        "-t",
        target,
        "-g",
        "(n + 127) / 128, 1, 1",
        "-on",
        out_name,
        "-o",
        directory / out,
        *options,
        cwd=directory,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    directory = tmp_path_factory.mktemp("compiled")
    for out, variant in VARIANTS.items():
        compile_variant(directory, out, *variant)
    return directory


@pytest.fixture(scope="module")
def prefixed(tmp_path_factory):
    """OUT = the prefix: `a_.h` and `s_.h`, from `ttlink compile --prefix`."""
    directory = tmp_path_factory.mktemp("prefixed")
    for prefix, kernel in PREFIXED.items():
        signature = "*fp32:16, *fp32:16, *fp32:16, i32:16, 1024"
        compile_variant(directory, prefix, kernel, "add", signature, "cuda:90", "--prefix", prefix)
    return directory


def headers(compiled: Path, *outs: str) -> list[Path]:
    return [compiled / f"{out}.h" for out in outs]


def link(*arguments, out: Path) -> None:
    result = run_module("ttlink", "link", *arguments, "-o", out)
    assert result.returncode == 0, result.stderr


def compile_as_one_unit(variant_headers: list[Path], out: Path, cuda_include_dir: Path, cplusplus: bool) -> None:
    """The variants' headers, OUT.h and OUT.c in one translation unit: the dispatcher's own
    declarations of the variant entry points must agree with the variants' headers."""
    unit = out.parent / "unit.c"
    includes = [*map(str, variant_headers), f"{out}.h", f"{out}.c"]
    unit.write_text("".join(f'#include "{path}"\n' for path in includes))
    result = compile_c([unit], cuda_include_dir, cplusplus=cplusplus)
    assert result.returncode == 0, result.stderr


def test_linker_reads_compile_headers_exactly(compiled):
    (aligned,) = read_header(str(compiled / "copy_aligned.h"))
    assert aligned.hints == (16, 16, 16) and aligned.constexprs == (128,)
    (generic,) = read_header(str(compiled / "copy_generic.h"))
    assert generic.hints == (None, None, None)


@pytest.mark.parametrize("cplusplus", [False, True], ids=["c11", "cxx17"])
@pytest.mark.parametrize("kernel", ["copy", "scale"])
def test_dispatcher_declarations_match_the_variant_headers(compiled, tmp_path, kernel, cplusplus, cuda_include_dir):
    """`scale`: an argument named like the API (float scale) shadows nothing the dispatcher calls."""
    variant_headers = headers(compiled, f"{kernel}_aligned", f"{kernel}_generic")
    link(*variant_headers, out=tmp_path / "lib")
    compile_as_one_unit(variant_headers, tmp_path / "lib", cuda_include_dir, cplusplus)


def test_argument_named_like_the_api_still_reaches_the_variants(compiled, tmp_path, cuda_include_dir):
    variant_headers = headers(compiled, "scale_aligned", "scale_generic")
    aligned, generic = (read_header(str(h))[0].symbol for h in variant_headers)
    link(*variant_headers, out=tmp_path / "lib")
    lib = load_dispatcher(tmp_path / "lib", variant_headers, cuda_include_dir)
    assert lib.call("scale_default", None, 0x10000, 0x10000, 2.0, 32) == (0, [aligned])
    assert lib.call("scale", None, 0x10000, 0x10004, 2.0, 32, 0) == (0, [generic])


def link_error(*variant_headers: Path, out: Path) -> str:
    result = run_module("ttlink", "link", *variant_headers, "-o", out)
    assert result.returncode == 2 and not Path(f"{out}.h").exists() and not Path(f"{out}.c").exists()
    (line,) = result.stderr.splitlines()
    return line


def test_variants_of_two_python_kernels_are_not_one_api(compiled, tmp_path):
    add, sub = headers(compiled, "add_aligned", "sub_generic")
    error = link_error(add, sub, out=tmp_path / "lib")
    assert "add_kernel" in error and "sub_kernel" in error and str(add) in error and str(sub) in error, error


def test_variants_for_different_targets_are_not_one_api(compiled, tmp_path):
    sm90, sm80 = headers(compiled, "add_aligned", "add_generic_sm80")
    error = link_error(sm90, sm80, out=tmp_path / "lib")
    assert "cuda:80" in error and "cuda:90" in error and str(sm90) in error and str(sm80) in error, error


def test_two_prefixed_libraries_of_one_out_name_build_into_one_binary(prefixed, tmp_path, cuda_include_dir):
    """add_kernel and sub_kernel, both `-on add`, compiled and linked with --prefix a_ and s_:
    the kernel sources, both dispatchers and the runtime make one shared library with no
    duplicate or missing symbol, and each dispatcher calls its own kernel's variant."""
    sources = []
    for prefix in PREFIXED:
        header = prefixed / f"{prefix}.h"
        link(header, "--prefix", prefix, out=tmp_path / f"{prefix}lib")
        (variant,) = read_header(str(header))
        call = f"  return {variant.symbol}(stream, x_ptr, y_ptr, out_ptr, n);"
        assert call in (tmp_path / f"{prefix}lib.c").read_text()
        sources += [prefixed / f"{prefix}.c", tmp_path / f"{prefix}lib.c"]
    runtime = Path(run_module("ttlink", "include-dir").stdout.strip())
    command = ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-Wl,--no-undefined"]
    command += [f"-I{cuda_include_dir}", f"-I{runtime}", "-o", tmp_path / "both.so", *sources]
    command += [runtime / "ttlink_runtime.c", "-lpthread", "-ldl"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


TILE_KERNELS = Path(__file__).parent.parent / "compile" / "fixtures" / "kernels.py"
# tile_copy(in_desc, out_desc, M, BLOCK_M: constexpr, BLOCK_N: constexpr): host tensor descriptors
TILE_CONFIGS = {
    "tile64": ("tensordesc<fp16[64, 32]>, tensordesc<fp16[64, 32]>, i32, 64, 32", ()),
    "tile128": ("tensordesc<fp16[128, 32]>, tensordesc<fp16[128, 32]>, i32, 128, 32", ()),
    "tile64_ctas2": ("tensordesc<fp16[64, 32]>, tensordesc<fp16[64, 32]>, i32, 64, 32", ("--num-ctas", "2")),
}
TILE_ARGS = ", ".join(
    f"CUdeviceptr {d}_base, int64_t {d}_shape0, int64_t {d}_shape1, int64_t {d}_stride0, int64_t {d}_stride1, "
    f"int32_t {d}_padding"
    for d in ("in_desc", "out_desc")
)


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiles")
    for out, (signature, options) in TILE_CONFIGS.items():
        result = run_module("ttlink", "compile", TILE_KERNELS, "-n", "tile_copy", "-s", signature, "-w", "4",
                            "-t", "cuda:90", "-g", "(M + BLOCK_M - 1) / BLOCK_M, 1, 1", "-o", directory / out,
                            *options)  # fmt: skip
        assert result.returncode == 0, result.stderr
    return directory


@pytest.mark.parametrize("cplusplus", [False, True], ids=["c11", "cxx17"])
def test_a_dispatcher_of_tensor_descriptor_variants_takes_their_c_arguments(
    tiles, tmp_path, cplusplus, cuda_include_dir
):
    variant_headers = headers(tiles, "tile64", "tile128")
    link(*variant_headers, out=tmp_path / "lib")
    declarations = (tmp_path / "lib.h").read_text()
    assert f"CUresult tile_copy_default(CUstream stream, {TILE_ARGS}, int32_t M);" in declarations
    assert f"CUresult tile_copy(CUstream stream, {TILE_ARGS}, int32_t M, int algo_id);" in declarations
    assert f"CUresult tile_copy_128x32_warps4xstages3(CUstream stream, {TILE_ARGS}, int32_t M);" in declarations
    compile_as_one_unit(variant_headers, tmp_path / "lib", cuda_include_dir, cplusplus)


def test_tensor_descriptor_calls_reach_the_algo_asked_for(tiles, tmp_path, cuda_include_dir):
    variant_headers = headers(tiles, "tile64", "tile128")
    tile64, tile128 = (read_header(str(h))[0].symbol for h in variant_headers)
    link(*variant_headers, out=tmp_path / "lib")
    lib = load_dispatcher(tmp_path / "lib", variant_headers, cuda_include_dir)
    descriptor = (0x10000, 256, 64, 64, 1, 0)
    assert lib.call("tile_copy", None, *descriptor, *descriptor, 256, 0) == (0, [tile64])  # algos by BLOCK_M
    assert lib.call("tile_copy", None, *descriptor, *descriptor, 256, 1) == (0, [tile128])


def test_algos_that_differ_only_in_launch_options_have_distinct_names(tiles, tmp_path, cuda_include_dir):
    variant_headers = headers(tiles, "tile64", "tile64_ctas2")
    link(*variant_headers, out=tmp_path / "lib")
    declarations = (tmp_path / "lib.h").read_text()
    for algo in ("64x32_warps4xstages3", "64x32_warps4xstages3_ctas2"):
        assert f"CUresult tile_copy_{algo}(CUstream stream, {TILE_ARGS}, int32_t M);" in declarations
    lib = load_dispatcher(tmp_path / "lib", variant_headers, cuda_include_dir)
    default, clustered = (read_header(str(h))[0].symbol for h in variant_headers)
    descriptor = (0x10000, 256, 64, 64, 1, 0)
    assert lib.call("tile_copy", None, *descriptor, *descriptor, 256, 0) == (0, [default])
    assert lib.call("tile_copy", None, *descriptor, *descriptor, 256, 1) == (0, [clustered])
