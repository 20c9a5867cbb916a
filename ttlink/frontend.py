"""Stage 1 of `ttlink compile`: import the kernel file and compile it for one target with
Triton's Python API. Needs no GPU, driver or libcuda. Triton is imported only when compiling,
so stage 2 (`assemble`) reads `CompiledTarget` records without it.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import inspect
import json
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import TtlinkError
from .metadata import Param
from .signature import C_TYPE_SIZES, check_arg_names, parse_signature, target_arch

RECORD_FORMAT = 1
# FP fusion (mul+add -> fma) is pinned on: Triton's JIT default up to 3.9, so AOT kernels
# compute what JIT-compiled ones do, whatever TRITON_DEFAULT_FP_FUSION says.
FP_FUSION = True
_PTX_WIDTH = re.compile(r"\.[busf](8|16|32|64)\b")
_PTX_ARRAY = re.compile(r"\.b8\s+\w+\[(\d+)\]")


@dataclass(frozen=True)
class CompiledTarget:
    """Everything stage 2 needs from compiling one kernel variant for one target."""

    kernel: str
    params: tuple[Param, ...]
    num_warps: int
    num_stages: int
    target: str
    triton_version: str
    cubin: bytes
    ptx: str
    shared: int  # dynamic shared memory bytes per block
    hidden_params: int  # trailing scratch pointers the compiled kernel takes; passed as NULL

    @property
    def arch(self) -> int:
        return target_arch(self.target)

    @property
    def launch_args(self) -> tuple[Param, ...]:
        return _launch_args(self.params)

    def to_json(self) -> str:
        record = {
            "format": RECORD_FORMAT,
            "kernel": self.kernel,
            "params": [p.to_record() for p in self.params],
            "num_warps": self.num_warps,
            "num_stages": self.num_stages,
            "target": self.target,
            "triton_version": self.triton_version,
            "fp_fusion": FP_FUSION,
            "cubin": base64.b64encode(self.cubin).decode("ascii"),
            "ptx": self.ptx,
            "shared": self.shared,
            "hidden_params": self.hidden_params,
        }
        return json.dumps(record, sort_keys=True, indent=1) + "\n"

    @staticmethod
    def from_json(text: str, file: str) -> CompiledTarget:
        try:
            record = json.loads(text)
            if record.get("format") != RECORD_FORMAT:
                raise TtlinkError(f"not a ttlink compile record of format {RECORD_FORMAT}", file=file)
            params = tuple(
                Param(p["name"], p["kind"], type=p.get("type"), c_type=p.get("c_type"), hint=p.get("hint"),
                      value=p.get("value"))
                for p in record["params"]
            )  # fmt: skip
            return CompiledTarget(
                kernel=record["kernel"],
                params=params,
                num_warps=record["num_warps"],
                num_stages=record["num_stages"],
                target=record["target"],
                triton_version=record["triton_version"],
                cubin=base64.b64decode(record["cubin"], validate=True),
                ptx=record["ptx"],
                shared=record["shared"],
                hidden_params=record["hidden_params"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise TtlinkError(f"malformed ttlink compile record ({type(error).__name__}: {error})", file=file) from None


def _launch_args(params: Sequence[Param]) -> tuple[Param, ...]:
    """The arguments the entry point takes and passes: `:1` ones are folded into the binary."""
    return tuple(p for p in params if p.is_arg and p.hint != 1)


def entry_param_sizes(ptx: str, kernel: str) -> list[int]:
    """Byte sizes of the parameters of PTX entry `kernel`, in order."""
    match = re.search(rf"\.entry\s+{re.escape(kernel)}\s*\((.*?)\)", ptx, re.S)
    if match is None:
        raise TtlinkError(f"compiled PTX has no entry '{kernel}'")
    sizes = []
    for line in match[1].split(","):
        array = _PTX_ARRAY.search(line)
        width = _PTX_WIDTH.search(line)
        if array:
            sizes.append(int(array[1]))
        elif width:
            sizes.append(int(width[1]) // 8)
        else:
            raise TtlinkError(f"cannot read PTX parameter '{line.strip()}' of '{kernel}'")
    return sizes


@contextlib.contextmanager
def _private_triton_environment() -> Iterator[None]:
    """A fresh cache dir and HOME, no inherited TRITON_* settings except tool paths, and no
    line info (it would put the kernel file's absolute path into the binary)."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="ttlink-triton-") as home:
        for key in list(os.environ):
            if key.startswith("TRITON_") and not key.endswith("_PATH"):
                del os.environ[key]
        os.environ.update(
            HOME=home,
            TRITON_HOME=home,
            TRITON_CACHE_DIR=os.path.join(home, "cache"),
            TRITON_DUMP_DIR=os.path.join(home, "dump"),
            TRITON_OVERRIDE_DIR=os.path.join(home, "override"),
            TRITON_DISABLE_LINE_INFO="1",
            TRITON_DEFAULT_FP_FUSION="1" if FP_FUSION else "0",
        )
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _error_line(error: BaseException, path: Path) -> int | None:
    if isinstance(error, SyntaxError) and error.lineno is not None:
        return error.lineno
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == path]
    return frames[-1].lineno if frames else None


@contextlib.contextmanager
def _kernel_module(path: Path) -> Iterator[object]:
    """Executes the kernel file as a module, with its directory importable, like compile.py.
    Errors name `path` as given; the module is loaded from its absolute form."""
    shown, path = str(path), path.absolute()
    if not path.is_file():
        raise TtlinkError("kernel file not found", file=shown)
    name = "_ttlink_kernel_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TtlinkError("cannot load kernel file as a Python module", file=shown)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    sys.modules[name] = module
    try:
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:
            raise TtlinkError(
                f"importing the kernel file raised {type(error).__name__}: {_one_line(error)}",
                file=shown,
                line=_error_line(error, path),
            ) from None
        yield module
    finally:
        sys.modules.pop(name, None)
        sys.path.remove(str(path.parent))


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def _jit_function(module: object, name: str, path: Path):
    from triton.runtime.jit import JITFunction

    kernel = getattr(module, name, None)
    if kernel is None:
        raise TtlinkError(f"no kernel '{name}' in the kernel file", file=str(path))
    while not isinstance(kernel, JITFunction) and hasattr(kernel, "fn"):
        kernel = kernel.fn  # @triton.autotune / @triton.heuristics wrappers
    if not isinstance(kernel, JITFunction):
        raise TtlinkError(f"'{name}' is not a @triton.jit function", file=str(path))
    return kernel


def compile_targets(
    path: Path,
    kernel_name: str,
    signature: str,
    num_warps: int,
    num_stages: int,
    targets: Sequence[str],
    arg_names: Sequence[str] | None = None,
) -> list[CompiledTarget]:
    """Compiles kernel `kernel_name` of `path` for each target (already canonical). With
    `arg_names`, the kernel's parameter names must be exactly those, in order."""
    with _private_triton_environment(), _kernel_module(path) as module:
        import triton
        from triton.backends.compiler import GPUTarget
        from triton.compiler import ASTSource, make_backend

        if "constexprs" not in inspect.signature(ASTSource.__init__).parameters:
            raise TtlinkError(f"unsupported Triton {triton.__version__}: ASTSource takes no 'constexprs'")
        kernel = _jit_function(module, kernel_name, path)
        names = list(kernel.arg_names)
        if arg_names is not None:
            check_arg_names(arg_names, names, kernel_name, str(path))
        constexpr_names = frozenset(p.name for p in kernel.params if p.is_constexpr)
        params = parse_signature(signature, names, constexpr_names, kernel_name)
        folded = {p.name: (1 if p.is_arg else p.value) for p in params if not p.is_arg or p.hint == 1}
        source = ASTSource(
            fn=kernel,
            signature={p.name: "constexpr" if p.name in folded else p.type for p in params},
            constexprs=folded,
            attrs={(i,): [["tt.divisibility", 16]] for i, p in enumerate(params) if p.is_arg and p.hint == 16},
        )
        results = []
        for target in targets:
            gpu_target = GPUTarget("cuda", target_arch(target), 32)
            backend = make_backend(gpu_target)
            options = backend.parse_options(
                {"num_warps": num_warps, "num_stages": num_stages, "enable_fp_fusion": FP_FUSION}
            )
            try:
                compiled = triton.compile(source, target=gpu_target, options=options.__dict__)
            except Exception as error:
                raise TtlinkError(
                    f"Triton failed to compile '{kernel_name}' for {target}: "
                    f"{type(error).__name__}: {_one_line(error)}",
                    file=str(path),
                ) from None
            results.append(_compiled_target(compiled, kernel_name, params, num_warps, num_stages, target, path))
        return results


def _compiled_target(compiled, kernel_name, params, num_warps, num_stages, target, path) -> CompiledTarget:
    import triton

    meta = compiled.metadata
    for kind in ("global", "profile"):
        size = getattr(meta, f"{kind}_scratch_size", 0)
        if size > 0:
            raise TtlinkError(
                f"kernel '{kernel_name}' needs {size} bytes of {kind} scratch memory for {target}; "
                "ttlink does not allocate scratch memory",
                file=str(path),
            )
    ptx = compiled.asm["ptx"]
    sizes = entry_param_sizes(ptx, meta.name)
    record = CompiledTarget(
        kernel=meta.name,
        params=params,
        num_warps=num_warps,
        num_stages=num_stages,
        target=target,
        triton_version=triton.__version__,
        cubin=compiled.asm["cubin"],
        ptx=ptx,
        shared=meta.shared,
        hidden_params=len(sizes) - len(_launch_args(params)),
    )
    expected = [C_TYPE_SIZES[p.c_type] for p in record.launch_args] + [8] * record.hidden_params
    if record.hidden_params < 0 or sizes != expected:
        raise TtlinkError(
            f"compiled '{kernel_name}' for {target} takes parameters of {sizes} bytes, "
            f"but the C entry point would pass {expected}"
        )
    return record
