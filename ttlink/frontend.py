"""Stage 1 of `ttlink compile`: import the kernel file and compile it for one target with
Triton's Python API. Needs no GPU, driver or libcuda. Triton is imported only when compiling,
so stage 2 (`assemble`) reads `CompiledTarget` records without it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib.util
import inspect
import json
import os
import pickle
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import TtlinkError
from .metadata import C_IDENTIFIER, Param
from .signature import (
    C_TYPE_SIZES,
    check_arg_names,
    check_config,
    parse_signature,
    parse_target,
    signature_entries,
    target_arch,
)

RECORD_FORMAT = 1
# FP fusion (mul+add -> fma) is pinned on: Triton's JIT default up to 3.9, so AOT kernels
# compute what JIT-compiled ones do, whatever TRITON_DEFAULT_FP_FUSION says.
FP_FUSION = True
_PTX_WIDTH = re.compile(r"\.[busf](8|16|32|64)\b")
_PTX_ARRAY = re.compile(r"\.b8\s+\w+\[(\d+)\]")
_TRITON_VERSION = re.compile(r"[0-9A-Za-z.+_-]{1,64}")  # it goes into a C comment
_PTXAS_ERROR = re.compile(r"\s*ptxas[\w-]*\s+(error|fatal)\s*:")
_LLVM_ERROR = re.compile(r"\s*LLVM ERROR:")
MAX_SHARED_BYTES = 2**31 - 1
MAX_HIDDEN_PARAMS = 16


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
        """Reads a record back, checking every field: stage 2 pastes them into C."""

        def fail(what: str) -> TtlinkError:
            return TtlinkError(f"malformed ttlink compile record: {what}", file=file)

        try:
            record = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise fail(f"invalid JSON ({type(error).__name__})") from None
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
            raise TtlinkError(f"not a ttlink compile record of format {RECORD_FORMAT}", file=file)

        def field(key: str, kind: type):
            value = record.get(key)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise fail(f"field '{key}' missing or not of type {kind.__name__}")
            return value

        kernel = field("kernel", str)
        if not C_IDENTIFIER.fullmatch(kernel):
            raise fail(f"kernel '{kernel}' is not an ASCII C identifier")
        params = _params_from_record(field("params", list), kernel, fail)
        target, version = field("target", str), field("triton_version", str)
        try:
            check_config(field("num_warps", int), field("num_stages", int))
            if parse_target(target) != target:
                raise fail(f"target '{target}' is not in canonical form {parse_target(target)}")
        except TtlinkError as error:
            raise fail(error.message) from None
        if not _TRITON_VERSION.fullmatch(version):
            raise fail(f"triton_version '{version}' is not a version number")
        for key, limit in (("shared", MAX_SHARED_BYTES), ("hidden_params", MAX_HIDDEN_PARAMS)):
            if not 0 <= field(key, int) <= limit:
                raise fail(f"field '{key}' is {record[key]}; expected 0 to {limit}")
        try:
            cubin = base64.b64decode(field("cubin", str), validate=True)
        except ValueError:
            raise fail("field 'cubin' is not base64") from None
        return CompiledTarget(
            kernel=kernel,
            params=params,
            num_warps=record["num_warps"],
            num_stages=record["num_stages"],
            target=target,
            triton_version=version,
            cubin=cubin,
            ptx=field("ptx", str),
            shared=record["shared"],
            hidden_params=record["hidden_params"],
        )


def _params_from_record(raw_params: list, kernel: str, fail) -> tuple[Param, ...]:
    """The record's parameters, which must be exactly what their SIG entries parse to."""
    params = []
    for raw in raw_params:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise fail("each param needs a name")
        params.append(
            Param(raw["name"], raw.get("kind"), type=raw.get("type"), c_type=raw.get("c_type"), hint=raw.get("hint"),
                  value=raw.get("value"))
        )  # fmt: skip
    try:
        constexprs = frozenset(p.name for p in params if not p.is_arg)
        parsed = parse_signature(", ".join(signature_entries(params)), [p.name for p in params], constexprs, kernel)
    except (TtlinkError, TypeError) as error:
        raise fail(f"bad params ({error})") from None
    if parsed != tuple(params):
        raise fail("params are not those of any signature")
    return parsed


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


@dataclass(frozen=True)
class _Binary:
    """What stage 1 keeps of one triton.compile result."""

    entry: str
    cubin: bytes
    ptx: str
    shared: int
    scratch: tuple[tuple[str, int], ...]  # (kind, bytes) of global and profile scratch memory


def _compile_one(source, target, options: dict) -> _Binary:
    import triton

    compiled = triton.compile(source, target=target, options=options)
    meta = compiled.metadata
    scratch = tuple((kind, getattr(meta, f"{kind}_scratch_size", 0)) for kind in ("global", "profile"))
    return _Binary(meta.name, compiled.asm["cubin"], compiled.asm["ptx"], meta.shared, scratch)


def _compile_in_child(compile_one: Callable[[], _Binary]) -> _Binary | str:
    """Runs `compile_one` in a forked child whose stdout and stderr (file descriptors 1 and 2)
    go to a temporary file. Triton prints hundreds of lines of PTX when ptxas fails, and LLVM
    ends the process on some errors (`LLVM ERROR: ...`, then exit) that would otherwise end
    ttlink with no message of its own. Returns the binary, or the line that says what failed."""
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as result:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            status = 1
            try:
                os.dup2(output.fileno(), 1)
                os.dup2(output.fileno(), 2)
                try:
                    outcome: _Binary | tuple[str, str] = compile_one()
                except Exception as error:  # (summary, full message)
                    outcome = (f"{type(error).__name__}: {_one_line(error)}", str(error))
                pickle.dump(outcome, result)
                result.flush()
                status = 0
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            result.seek(0)
            outcome = pickle.load(result)
            if isinstance(outcome, _Binary):
                return outcome
            summary, message = outcome
        else:
            ending = f"signal {-code}" if code < 0 else f"exit status {code}"
            summary, message = f"the compiler ended the process ({ending})", ""
        output.seek(0)
        return _failure_line(summary, message + "\n" + output.read().decode("utf-8", "replace"))


def _failure_line(summary: str, text: str) -> str:
    """ptxas's or LLVM's own error line in `text` if there is one (Triton's message ends with
    a repro command naming a deleted temporary file), else `summary`."""
    lines = text.splitlines()
    for pattern in (_PTXAS_ERROR, _LLVM_ERROR):
        for line in lines:
            if pattern.match(line):
                return " ".join(line.split())
    return summary


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
            binary = _compile_in_child(functools.partial(_compile_one, source, gpu_target, options.__dict__))
            if isinstance(binary, str):
                raise TtlinkError(f"Triton failed to compile '{kernel_name}' for {target}: {binary}", file=str(path))
            results.append(_compiled_target(binary, kernel_name, params, num_warps, num_stages, target, path))
        return results


def _compiled_target(binary: _Binary, kernel_name, params, num_warps, num_stages, target, path) -> CompiledTarget:
    import triton

    for kind, size in binary.scratch:
        if size > 0:
            raise TtlinkError(
                f"kernel '{kernel_name}' needs {size} bytes of {kind} scratch memory for {target}; "
                "ttlink does not allocate scratch memory",
                file=str(path),
            )
    sizes = entry_param_sizes(binary.ptx, binary.entry)
    record = CompiledTarget(
        kernel=binary.entry,
        params=params,
        num_warps=num_warps,
        num_stages=num_stages,
        target=target,
        triton_version=triton.__version__,
        cubin=binary.cubin,
        ptx=binary.ptx,
        shared=binary.shared,
        hidden_params=len(sizes) - len(_launch_args(params)),
    )
    expected = [C_TYPE_SIZES[p.c_type] for p in record.launch_args] + [8] * record.hidden_params
    if record.hidden_params < 0 or sizes != expected:
        raise TtlinkError(
            f"compiled '{kernel_name}' for {target} takes parameters of {sizes} bytes, "
            f"but the C entry point would pass {expected}"
        )
    return record


def active_target() -> str:
    """The target of the GPU Triton's active driver sees (compile.py's default without -t)."""
    from triton.runtime import driver

    try:
        target = driver.active.get_current_target()
    except Exception as error:
        raise TtlinkError(
            f"no -t/--target given and no active GPU to compile for ({_one_line(error)}); pass e.g. -t cuda:90"
        ) from None
    if target.backend != "cuda":
        raise TtlinkError(f"the active GPU is {target.backend}:{target.arch}; ttlink compiles for cuda only")
    return parse_target(f"cuda:{target.arch}")
