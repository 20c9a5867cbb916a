"""Names in the generated API: arguments never shadow what the dispatcher calls, link.py's
per-algo names stay callable, and prefixed libraries share one binary."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
from pathlib import Path

import pytest
from link_testing import (
    CUDA_ERROR_INVALID_VALUE,
    UPSTREAM_VERSIONS,
    Dispatcher,
    build_dispatcher,
    compile_c,
    constexpr,
    i32,
    kernel_meta,
    meta_header,
    ptr,
    recording_stubs,
    run_module,
    upstream_headers,
)
from test_upstream_defects import upstream_link

from ttlink.metadata import Param

ALIGNED = 0x10000
UNALIGNED = 0x10004


def write_headers(directory: Path, variants: dict[str, list[Param]], name: str, **meta) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for symbol, params in variants.items():
        path = directory / f"{symbol}.h"
        path.write_text(meta_header(kernel_meta(name, symbol, params, **meta)))
        paths.append(path)
    return paths


# Every name a body of the `scale` API could refer to, except the per-algo functions (rejected
# below): the public functions, and the table names an earlier dispatcher used.
API_NAMES = [
    "scale",
    "scale_default",
    "scale_get_num_algos",
    "scale_get_algo_name",
    "load_scale",
    "unload_scale",
    "scale_algos",
    "scale_algo_names",
    "scale_algo_fn",
]


def scale_headers(directory: Path, names=API_NAMES) -> list[Path]:
    args = [i32(name) for name in names]
    variants = {
        "scale_0000000a_0d": [ptr("x", 16), *args, constexpr("BLOCK", 256)],
        "scale_0000000b_": [ptr("x"), *args, constexpr("BLOCK", 256)],
    }
    return write_headers(directory, variants, "scale")


@pytest.mark.parametrize("cplusplus", [False, True], ids=["c11", "cxx17"])
def test_arguments_named_like_the_api_compile_with_wshadow(tmp_path, cuda_include_dir, cplusplus):
    headers = scale_headers(tmp_path / "in")
    assert run_module("ttlink", "link", *headers, "-o", tmp_path / "lib").returncode == 0
    unit = tmp_path / "unit.c"
    unit.write_text('#include "lib.h"\n#include "lib.c"\n')
    result = compile_c([unit], cuda_include_dir, cplusplus=cplusplus)  # -Wall -Wextra -Wshadow -Werror
    assert result.returncode == 0, result.stderr


def test_arguments_named_like_the_api_call_the_right_functions(tmp_path, cuda_include_dir):
    lib = build_dispatcher(scale_headers(tmp_path / "in"), tmp_path / "out", cuda_include_dir)
    args = [7] * len(API_NAMES)
    assert lib.call("scale_default", None, ALIGNED, *args) == (0, ["scale_0000000a_0d"])
    assert lib.call("scale", None, UNALIGNED, *args, 0) == (0, ["scale_0000000b_"])
    assert lib.call("scale", None, UNALIGNED, *args, 1) == (CUDA_ERROR_INVALID_VALUE, [])
    assert lib.call("scale_256_warps4xstages3", None, ALIGNED, *args) == (0, ["scale_0000000a_0d"])
    assert lib.lib.scale_get_num_algos() == 1


def test_argument_named_like_a_function_the_dispatcher_calls_is_an_error(tmp_path):
    headers = scale_headers(tmp_path / "in", ["scale_256_warps4xstages3"])
    result = run_module("ttlink", "link", *headers, "-o", tmp_path / "lib")
    assert result.returncode == 2 and not list(tmp_path.glob("lib*"))
    assert "argument name 'scale_256_warps4xstages3' is a name the dispatcher uses" in result.stderr


UPSTREAM_PER_ALGO = re.compile(r"^(?:TT_ResultTy|CUresult) (\w+)\((?:TT_StreamTy|CUstream) stream, (.*)\);$", re.M)
LINKER_LINE = re.compile(r"^// tt-linker: ([A-Za-z_]\w*?)_[0-9a-f]{8}_\w*:(.*):(\S+)$", re.M)


def link_py_declarations(version: str, headers: list[Path], directory: Path) -> str:
    """The declarations C code written against link.py's dispatcher of `headers` sees: the
    installed Triton's link.py output itself where `version` is installed, else (link.py
    rejects the other version's headers) the per-algo functions that link.py defines,
    `K_{ALGO_INFO}(stream, full signature)`, read from the headers."""
    if version == f"triton-{importlib.metadata.version('triton')}":
        result = upstream_link(*headers, "-o", directory / "upstream")
        assert result.returncode == 0, result.stderr
        return (directory / "upstream.h").read_text()
    lines = ["#include <cuda.h>", "#include <stdint.h>"]
    for kernel, signature, algo_info in sorted({m for h in headers for m in LINKER_LINE.findall(h.read_text())}):
        name = f"{kernel}_{algo_info}"
        lines += [f"CUresult {name}(CUstream stream, {signature});", f"void load_{name}();", f"void unload_{name}();"]
    return "\n".join(lines) + "\n"


def call_everything(declarations: str) -> str:
    """A C program that calls every per-algo function `declarations` declares, with aligned
    pointers, 32 for integers and `stride` 1 then 2, and prints what each reached."""
    body = []
    for name, params in UPSTREAM_PER_ALGO.findall(declarations):
        if f"load_{name}(" not in declarations or "algo_id" in params:
            continue  # K_default, K: not per-algo
        names = [param.split()[-1] for param in params.split(",")]
        for stride in (1, 2):
            values = [
                "0x10000" if "CUdeviceptr" in p else str(stride) if n == "stride" else "32"
                for p, n in zip(params.split(","), names, strict=True)
            ]
            body.append(
                f"  stub_reset();\n  code = {name}(NULL, {', '.join(values)});\n"
                f'  printf("{name} {stride} %d %s\\n", (int)code, stub_calls());'
            )
        for action in ("load", "unload"):
            body.append(f'  stub_reset();\n  {action}_{name}();\n  printf("{action}_{name} - 0 %s\\n", stub_calls());')
    return (
        '#include <stdio.h>\n#include "upstream.h"\n'
        "const char *stub_calls(void);\nvoid stub_reset(void);\n\n"
        "int main(void)\n{\n  CUresult code;\n" + "\n".join(body) + "\n  return 0;\n}\n"
    )


@pytest.mark.parametrize("version", UPSTREAM_VERSIONS)
def test_link_py_per_algo_names_stay_callable(version, tmp_path, cuda_include_dir):
    """C code calling link.py's per-algo functions (`strided_64x1_warps4xstages2`: one `x1` per
    `:1` argument in ALGO_INFO) compiles and links against ttlink's dispatcher; each runs
    ttlink's algo of the same constexprs, warps and stages, fallback included."""
    headers = upstream_headers(version, "add", "copy", "strided")
    declarations = link_py_declarations(version, headers, tmp_path)
    assert "strided_64x1_warps4xstages2(" in declarations
    (tmp_path / "upstream.h").write_text(declarations)
    (tmp_path / "main.c").write_text(call_everything(declarations))
    (tmp_path / "stubs.c").write_text(recording_stubs(headers))
    assert run_module("ttlink", "link", *headers, "-o", tmp_path / "lib").returncode == 0
    program = tmp_path / "program"
    result = subprocess.run(
        [
            "cc",
            "-std=c11",
            "-Wall",
            "-Werror",
            f"-I{cuda_include_dir}",
            "-o",
            program,
            tmp_path / "main.c",
            tmp_path / "lib.c",
            tmp_path / "stubs.c",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output = subprocess.run([program], capture_output=True, text=True, check=True).stdout
    reached = {}
    for line in output.splitlines():
        name, stride, code, calls = (line.split(" ") + [""])[:4]
        reached[name, stride] = (int(code), sorted(c.rsplit("_", 2)[1] for c in calls.split(";") if c))
    assert reached["strided_64x1_warps4xstages2", "1"] == (0, ["07cfe09f"])
    assert reached["strided_64x1_warps4xstages2", "2"] == (0, ["774a70c9"])  # ttlink's fallback
    assert reached["strided_64_warps4xstages2", "1"] == (0, ["07cfe09f"])
    assert reached["load_strided_64x1_warps4xstages2", "-"] == (0, ["07cfe09f", "774a70c9"])
    assert reached["add_256_warps2xstages3", "1"] == (0, ["d9178ee9"])
    assert [key for key, (code, calls) in reached.items() if code or not calls] == []


def test_alias_names_are_prefixed_declared_and_clash_checked(tmp_path, cuda_include_dir):
    headers = upstream_headers("triton-3.6.0", "strided")
    lib = build_dispatcher(headers, tmp_path / "out", cuda_include_dir, prefix="p_")
    header = (tmp_path / "out" / "dispatch.h").read_text()
    assert "p_strided_64x1_warps4xstages2(CUstream stream" in header
    assert lib.call("p_strided_64x1_warps4xstages2", None, ALIGNED, ALIGNED, 32, 2)[1] == ["strided_774a70c9_0d1d234"]
    # One kernel's alias may not be another kernel's API name.
    clash = tmp_path / "clash.h"
    clash_name = "strided_64x1_warps4xstages2"
    clash.write_text(meta_header(kernel_meta(clash_name, f"{clash_name}_0000000a_", [ptr("x"), i32("n")])))
    result = run_module("ttlink", "link", *headers, clash, "-o", tmp_path / "lib", "--prefix", "p_")
    assert result.returncode == 2, result.stderr
    assert "generated name 'p_strided_64x1_warps4xstages2'" in result.stderr and "clashes" in result.stderr


def test_two_prefixed_libraries_of_one_out_name_share_a_binary(tmp_path, cuda_include_dir):
    """Two kernels linked as `add` with --prefix a_ and s_ (variant symbols distinct, as
    `ttlink compile --prefix` makes them): one shared library, each API reaches its kernel."""
    params = [ptr("x", 16), ptr("y", 16), ptr("out", 16), i32("n"), constexpr("BLOCK", 1024)]
    add = write_headers(tmp_path / "a", {"a_add_0000000a_0d1d2d": params}, "add")
    sub = write_headers(tmp_path / "s", {"s_add_0000000b_0d1d2d": params}, "add")
    for prefix, headers in (("a_", add), ("s_", sub)):
        result = run_module("ttlink", "link", *headers, "-o", tmp_path / prefix, "--prefix", prefix)
        assert result.returncode == 0, result.stderr
    (tmp_path / "stubs.c").write_text(recording_stubs([*add, *sub]))
    library = tmp_path / "libboth.so"
    sources = [tmp_path / "a_.c", tmp_path / "s_.c", tmp_path / "stubs.c"]
    result = compile_c(sources, cuda_include_dir, output=library)
    assert result.returncode == 0, result.stderr
    calls = {}
    for prefix in ("a_", "s_"):
        lib = Dispatcher(library, tmp_path / f"{prefix}.h")
        calls[prefix] = lib.call(f"{prefix}add_default", None, ALIGNED, ALIGNED, ALIGNED, 32)
    assert calls == {"a_": (0, ["a_add_0000000a_0d1d2d"]), "s_": (0, ["s_add_0000000b_0d1d2d"])}
