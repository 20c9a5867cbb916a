"""Helpers for the linker tests: fixture headers, running the linker, compiling its C.

(A plain module, not conftest.py: `tests/conftest.py` already owns the name `conftest`.)"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ttlink.metadata import KernelMeta, Param

FIXTURES = Path(__file__).parent / "fixtures"
UPSTREAM_VERSIONS = ("triton-3.6.0", "triton-3.9.0")
CUDA_ERROR_INVALID_VALUE = 1


def upstream_headers(version: str, *kernels: str) -> list[Path]:
    """The fixture headers Triton `version`'s compile.py wrote for the given out names."""
    return sorted(p for kernel in kernels for p in (FIXTURES / version).glob(f"{kernel}.*.h"))


def meta_header(meta: KernelMeta) -> str:
    """A kernel header as `ttlink compile` writes it (docs/DESIGN.md), declarations included."""
    full = ", ".join(f"{p.c_type} {p.name}" for p in meta.args)
    launch = "".join(f", {p.c_type} {p.name}" for p in meta.args if p.hint != 1)
    values = [str(p.value) for p in meta.constexprs] + ["1" for p in meta.args if p.hint == 1]
    algo = "x".join(values) + f"_warps{meta.num_warps}xstages{meta.num_stages}"
    return (
        f"#ifndef {meta.symbol.upper()}_H\n#define {meta.symbol.upper()}_H\n#include <cuda.h>\n"
        f"// tt-linker-backend: {meta.backend}\n"
        f"// tt-linker: {meta.symbol}:{full}:{algo}\n"
        f"{meta.to_line()}\n"
        f"void load_{meta.symbol}(void);\nvoid unload_{meta.symbol}(void);\n"
        f"CUresult {meta.symbol}(CUstream stream{launch});\n#endif\n"
    )


def kernel_meta(name: str, symbol: str, params: Sequence[Param], warps: int = 4, stages: int = 3) -> KernelMeta:
    return KernelMeta(
        name=name,
        symbol=symbol,
        kernel=f"{name}_kernel",
        backend="cuda",
        params=tuple(params),
        num_warps=warps,
        num_stages=stages,
        targets=("cuda:90",),
        embed_ptx=False,
    )


def ptr(name: str, hint: int | None = None) -> Param:
    return Param(name, "arg", type="*fp32", c_type="CUdeviceptr", hint=hint)


def i32(name: str, hint: int | None = None) -> Param:
    return Param(name, "arg", type="i32", c_type="int32_t", hint=hint)


def constexpr(name: str, value) -> Param:
    return Param(name, "constexpr", value=value)


def python_env() -> dict[str, str]:
    """Environment for a child Python that imports what this one imports (ttlink, triton)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def run_module(module: str, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        capture_output=True,
        text=True,
        env=python_env(),
        cwd=cwd,
        check=False,
    )


def compile_c(
    sources: Sequence[Path],
    cuda_include_dir: Path,
    *,
    cplusplus: bool = False,
    output: Path | None = None,
    strict: bool = True,
):
    """Compiles (`strict`: with warnings as errors); a shared library when `output` is given,
    else a syntax check only."""
    compiler = shutil.which("c++" if cplusplus else "cc")
    assert compiler, "no C compiler on PATH"
    language = ["-x", "c++", "-std=c++17"] if cplusplus else ["-std=c11"]
    warnings = ["-Wall", "-Wextra", "-Wshadow", "-Werror"] if strict else []
    from ttlink import RUNTIME_INCLUDE_DIR

    command = [compiler, *language, *warnings, f"-I{cuda_include_dir}", f"-I{RUNTIME_INCLUDE_DIR}"]
    if output is None:
        command += ["-fsyntax-only", *map(str, sources)]
    else:
        command += ["-shared", "-fPIC", "-o", str(output), *map(str, sources)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


DECLARATION = re.compile(r"^CUresult (\w+)\(CUstream stream(.*)\);$", re.MULTILINE)


def recording_stubs(headers: Sequence[Path | str]) -> str:
    """C stand-ins for the variant entry points that the headers declare: each records its
    name in `stub_calls()` and returns CUDA_SUCCESS. Read from the headers' own declarations."""
    lines = [
        "#include <cuda.h>",
        "#include <stdint.h>",
        "#include <string.h>",
        '#pragma GCC diagnostic ignored "-Wunused-parameter"',
        "static char calls[65536];",
        "const char *stub_calls(void) { return calls; }",
        "void stub_reset(void) { calls[0] = 0; }",
        'static void record(const char *what) { strcat(calls, what); strcat(calls, ";"); }',
    ]
    for header in headers:
        text = Path(header).read_text() if isinstance(header, Path) else header
        for symbol, params in DECLARATION.findall(text):
            lines += [
                f'CUresult {symbol}(CUstream stream{params}) {{ record("{symbol}"); return CUDA_SUCCESS; }}',
                f'void load_{symbol}(void) {{ record("load_{symbol}"); }}',
                f'void unload_{symbol}(void) {{ record("unload_{symbol}"); }}',
            ]
    return "\n".join(lines) + "\n"


C_TYPES = {
    "CUdeviceptr": ctypes.c_uint64,
    "int8_t": ctypes.c_int8,
    "int16_t": ctypes.c_int16,
    "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64,
    "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64,
    "int": ctypes.c_int,
    "char *": ctypes.c_char_p,
    "const char *": ctypes.c_char_p,
    "size_t": ctypes.c_size_t,
    "float": ctypes.c_float,
    "double": ctypes.c_double,
}
PUBLIC_FUNCTION = re.compile(r"^(CUresult|TT_ResultTy|int|void) (\w+)\((.*)\);$", re.MULTILINE)
STREAM_TYPES = ("CUstream", "TT_StreamTy")


def _param_type(param: str) -> str:
    """`char *buffer` -> `char *`, `int32_t n` -> `int32_t`."""
    c_type, name = param.strip().rsplit(" ", 1)
    return f"{c_type} *" if name.startswith("*") else c_type


class Dispatcher:
    """A linked dispatcher built into a shared library with recording stand-ins for the
    variants, called through ctypes with the argument types its header declares."""

    def __init__(self, library: Path, header: Path):
        self.lib = ctypes.CDLL(str(library))
        self.lib.stub_calls.restype = ctypes.c_char_p
        self.lib.stub_reset.restype = None
        for result, name, params in PUBLIC_FUNCTION.findall(header.read_text()):
            function = getattr(self.lib, name)
            types = [] if params in ("", "void") else [_param_type(p) for p in params.split(",")]
            function.argtypes = [ctypes.c_void_p if t in STREAM_TYPES else C_TYPES[t] for t in types]
            function.restype = None if result == "void" else ctypes.c_int

    def call(self, name: str, *args) -> tuple[int, list[str]]:
        """(return code, entry points the call reached)."""
        self.lib.stub_reset()
        code = getattr(self.lib, name)(*args)
        return code, [c for c in self.lib.stub_calls().decode().split(";") if c]


def build_dispatcher(
    headers: Sequence[Path], out_dir: Path, cuda_include_dir: Path, *, prefix: str = "", tuning: Sequence[Path] = ()
) -> Dispatcher:
    from ttlink.link import main as link_main

    out_dir.mkdir(parents=True, exist_ok=True)
    options = [*(["--prefix", prefix] if prefix else []), *(f"--tuning={path}" for path in tuning)]
    link_main([*map(str, headers), "-o", str(out_dir / "dispatch"), *options])
    return load_dispatcher(out_dir / "dispatch", headers, cuda_include_dir)


def load_dispatcher(out: Path, headers: Sequence[Path], cuda_include_dir: Path, *, strict: bool = True) -> Dispatcher:
    """Builds OUT.c with stand-ins for the variants `headers` declare. `strict`: -Werror."""
    stubs = out.parent / "stubs.c"
    stubs.write_text(recording_stubs(headers))
    library = out.parent / f"lib{out.name}.so"
    from ttlink import RUNTIME_INCLUDE_DIR

    runtime = [RUNTIME_INCLUDE_DIR / "ttlink_runtime.c"] if "ttlink_runtime.h" in Path(f"{out}.c").read_text() else []
    result = compile_c([Path(f"{out}.c"), stubs, *runtime], cuda_include_dir, output=library, strict=strict)
    assert result.returncode == 0, result.stderr
    return Dispatcher(library, Path(f"{out}.h"))
