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
from .metadata import C_IDENTIFIER, DEFAULT_LAUNCH, LaunchOptions, Param, num_ctas_problem
from .signature import (
    check_arg_names,
    check_config,
    is_tensordesc,
    kernel_param_sizes,
    parse_signature,
    parse_target,
    signature_entries,
    target_arch,
    tensordesc_rank,
)

RECORD_FORMAT = 2
# FP fusion (mul+add -> fma) is pinned on: Triton's JIT default up to 3.9, so AOT kernels
# compute what JIT-compiled ones do, whatever TRITON_DEFAULT_FP_FUSION says.
FP_FUSION = True
_PTX_WIDTH = re.compile(r"\.[busf](8|16|32|64)\b")
_PTX_ARRAY = re.compile(r"\.b8\s+\w+\[(\d+)\]")
_TRITON_VERSION = re.compile(r"[0-9A-Za-z.+_-]{1,64}")  # it goes into a C comment
_PTXAS_ERROR = re.compile(r"\s*ptxas[\w-]*\s+(error|fatal)\s*:")
_LLVM_ERROR = re.compile(r"\s*LLVM ERROR:")
MAX_SHARED_BYTES = 2**31 - 1
# The hidden trailing pointers Triton's kernels take, in order (3.9 takes both, older ones fewer).
SCRATCH_KINDS = ("global", "profile")
MAX_SCRATCH_BYTES = 2**31 - 1  # per program
MAX_SCRATCH_ALIGN = 2**16
MIN_CLUSTER_ARCH = 90  # thread block clusters (num_ctas > 1) and TMA came with Hopper
# cuda.h's CUtensorMapDataType names by value (the host enum), and the host value of each of
# Triton's device values (triton/backends/nvidia/driver.py TMA_DTYPE_DEVICE_TO_HOST).
TENSOR_MAP_DATA_TYPES = (
    "UINT8", "UINT16", "UINT32", "INT32", "UINT64", "INT64", "FLOAT16", "FLOAT32", "FLOAT64", "BFLOAT16",
    "FLOAT32_FTZ", "TFLOAT32", "TFLOAT32_FTZ", "16U4_ALIGN8B", "16U4_ALIGN16B", "16U6_ALIGN16B",
)  # fmt: skip
DEVICE_TO_HOST_DATA_TYPE = {device: device for device in range(len(TENSOR_MAP_DATA_TYPES))} | {8: 10, 9: 8, 10: 9}
TENSOR_MAP_SWIZZLES = ("NONE", "32B", "64B", "128B", "128B_ATOM_32B", "128B_ATOM_32B_FLIP_8B", "128B_ATOM_64B")
MAX_BOX_DIM = 256  # cuTensorMapEncodeTiled's limit on each block dimension


@dataclass(frozen=True)
class TensorMap:
    """How one binary encodes one host tensor descriptor argument: Triton's tensordesc_meta."""

    elem_type: int  # Triton's DEVICE enum; host_data_type maps it
    swizzle: int  # already the host CUtensorMapSwizzle
    elem_size: int  # bytes
    block_size: tuple[int, ...]  # the box, outermost first
    fp4_padded: bool

    @property
    def host_data_type(self) -> str:
        return "CU_TENSOR_MAP_DATA_TYPE_" + TENSOR_MAP_DATA_TYPES[DEVICE_TO_HOST_DATA_TYPE[self.elem_type]]

    @property
    def swizzle_name(self) -> str:
        return "CU_TENSOR_MAP_SWIZZLE_" + TENSOR_MAP_SWIZZLES[self.swizzle]

    def to_record(self) -> dict:
        return {
            "elem_type": self.elem_type,
            "swizzle": self.swizzle,
            "elem_size": self.elem_size,
            "block_size": list(self.block_size),
            "fp4_padded": self.fp4_padded,
        }

    @staticmethod
    def from_meta(raw: object, param: Param) -> TensorMap:
        """Checks one tensordesc_meta entry (from Triton or a record) for argument `param`.
        Raises TtlinkError saying what is wrong."""
        keys = {"elem_type", "swizzle", "elem_size", "block_size", "fp4_padded"}
        if not isinstance(raw, dict) or not keys <= raw.keys() or not raw.keys() <= keys | {"is_im2col"}:
            raise TtlinkError(f"tensor map of '{param.name}' is not {{{', '.join(sorted(keys))}}}")
        if raw.get("is_im2col", False) is not False:
            raise TtlinkError(f"tensor map of '{param.name}' is im2col; ttlink encodes tiled maps only")
        checks = (
            ("elem_type", raw["elem_type"] in DEVICE_TO_HOST_DATA_TYPE, "a TMA data type"),
            ("swizzle", raw["swizzle"] in range(len(TENSOR_MAP_SWIZZLES)), "a CUtensorMapSwizzle"),
            ("elem_size", raw["elem_size"] in (1, 2, 4, 8), "1, 2, 4 or 8 bytes"),
            ("fp4_padded", isinstance(raw["fp4_padded"], bool), "a boolean"),
            (
                "block_size",
                isinstance(raw["block_size"], list)
                and len(raw["block_size"]) == tensordesc_rank(param)
                and all(type(dim) is int and 1 <= dim <= MAX_BOX_DIM for dim in raw["block_size"]),
                f"{tensordesc_rank(param)} dimensions of 1 to {MAX_BOX_DIM}",
            ),
        )
        for key, good, expected in checks:
            if not good or (key in ("elem_type", "swizzle", "elem_size") and type(raw[key]) is not int):
                raise TtlinkError(f"tensor map of '{param.name}': {key} {raw[key]!r} is not {expected}")
        return TensorMap(
            raw["elem_type"], raw["swizzle"], raw["elem_size"], tuple(raw["block_size"]), raw["fp4_padded"]
        )


@dataclass(frozen=True)
class Scratch:
    """Memory one program of a binary needs (global or profile scratch): Triton allocates
    size x programs bytes per launch, aligned to `align`."""

    size: int = 0
    align: int = 1

    def problem(self) -> str | None:
        if type(self.size) is not int or not 0 <= self.size <= MAX_SCRATCH_BYTES:
            return f"size {self.size!r} is not 0 to {MAX_SCRATCH_BYTES}"
        if type(self.align) is not int or not 1 <= self.align <= MAX_SCRATCH_ALIGN or self.align & (self.align - 1):
            return f"alignment {self.align!r} is not a power of two from 1 to {MAX_SCRATCH_ALIGN}"
        return None


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
    hidden_params: int  # trailing scratch pointers the compiled kernel takes (SCRATCH_KINDS, in order)
    tensor_maps: tuple[TensorMap, ...] = ()  # one per tensor descriptor argument, in order
    scratch: tuple[Scratch, Scratch] = (Scratch(), Scratch())  # global, profile
    launch: LaunchOptions = DEFAULT_LAUNCH

    @property
    def arch(self) -> int:
        return target_arch(self.target)

    @property
    def tensor_args(self) -> tuple[Param, ...]:
        return tuple(p for p in self.launch_args if is_tensordesc(p.type))

    @property
    def needs_scratch(self) -> bool:
        return any(scratch.size for scratch in self.scratch)

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
            "tensor_maps": [tensor_map.to_record() for tensor_map in self.tensor_maps],
            **{f"{kind}_scratch_size": scratch.size for kind, scratch in zip(SCRATCH_KINDS, self.scratch, strict=True)},
            **{
                f"{kind}_scratch_align": scratch.align
                for kind, scratch in zip(SCRATCH_KINDS, self.scratch, strict=True)
            },
            **vars(self.launch),
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
        for key, limit in (("shared", MAX_SHARED_BYTES), ("hidden_params", len(SCRATCH_KINDS))):
            if not 0 <= field(key, int) <= limit:
                raise fail(f"field '{key}' is {record[key]}; expected 0 to {limit}")
        try:
            cubin = base64.b64decode(field("cubin", str), validate=True)
        except ValueError:
            raise fail("field 'cubin' is not base64") from None
        scratch = [
            Scratch(field(f"{kind}_scratch_size", int), field(f"{kind}_scratch_align", int)) for kind in SCRATCH_KINDS
        ]
        launch = LaunchOptions(
            field("num_ctas", int), field("launch_pdl", bool), field("launch_cooperative_grid", bool)
        )
        try:
            tensor_maps = _tensor_maps(field("tensor_maps", list), params, kernel, target)
            _check_binary_needs(scratch, record["hidden_params"], launch, target)
        except TtlinkError as error:
            raise fail(error.message) from None
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
            tensor_maps=tensor_maps,
            scratch=(scratch[0], scratch[1]),
            launch=launch,
        )


def _tensor_maps(raw_maps: list, params: Sequence[Param], kernel: str, target: str) -> tuple[TensorMap, ...]:
    """The tensor map of each tensor descriptor argument from `raw_maps` (Triton's
    tensordesc_meta, or a record's). A binary without them takes the descriptor decomposed
    (Triton's form below cuda:90), which the C API does not pass."""
    tensor_args = [p for p in _launch_args(params) if is_tensordesc(p.type)]
    if tensor_args and not raw_maps:
        raise TtlinkError(
            f"tensordesc argument '{tensor_args[0].name}' of kernel '{kernel}' needs TMA (cuda:{MIN_CLUSTER_ARCH} "
            f"and newer); Triton passes it decomposed for {target}"
        )
    if len(raw_maps) != len(tensor_args):
        raise TtlinkError(
            f"kernel '{kernel}' for {target}: {len(raw_maps)} tensor maps for {len(tensor_args)} tensordesc arguments"
        )
    try:
        return tuple(TensorMap.from_meta(raw, param) for raw, param in zip(raw_maps, tensor_args, strict=True))
    except TtlinkError as error:
        raise TtlinkError(f"kernel '{kernel}' for {target}: {error.message}") from None


def _check_binary_needs(scratch: Sequence[Scratch], hidden_params: int, launch: LaunchOptions, target: str) -> None:
    """Scratch a binary asks for needs its pointer; clusters need cuda:90 or newer."""
    for index, (kind, each) in enumerate(zip(SCRATCH_KINDS, scratch, strict=True)):
        problem = each.problem()
        if problem is not None:
            raise TtlinkError(f"{kind} scratch {problem}")
        if each.size and index >= hidden_params:
            raise TtlinkError(f"{kind} scratch of {each.size} bytes, but the kernel takes no {kind} scratch pointer")
    check_num_ctas(launch.num_ctas, target)


def check_num_ctas(num_ctas: int, target: str) -> None:
    """A cluster of `num_ctas` CTAs: a power of two up to 16, and cuda:90 or newer if above 1."""
    problem = num_ctas_problem(num_ctas)
    if problem is not None:
        raise TtlinkError(f"num_ctas {num_ctas!r} {problem}")
    if num_ctas > 1 and target_arch(target) < MIN_CLUSTER_ARCH:
        raise TtlinkError(
            f"num_ctas {num_ctas} needs thread block clusters (cuda:{MIN_CLUSTER_ARCH} and newer), not {target}"
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
    tensordesc_meta: list  # Triton's, one dict per tensordesc argument ([] where it decomposes them)
    scratch: tuple[Scratch, Scratch]  # global, profile
    launch: LaunchOptions


def _compile_one(source, target, options: dict) -> _Binary:
    import triton

    compiled = triton.compile(source, target=target, options=options)
    meta = compiled.metadata
    scratch = [
        Scratch(getattr(meta, f"{kind}_scratch_size", 0) or 0, getattr(meta, f"{kind}_scratch_align", 1) or 1)
        for kind in SCRATCH_KINDS
    ]
    launch = LaunchOptions(meta.num_ctas, bool(meta.launch_pdl), bool(meta.launch_cooperative_grid))
    tensordesc_meta = list(getattr(meta, "tensordesc_meta", None) or [])
    return _Binary(
        meta.name,
        compiled.asm["cubin"],
        compiled.asm["ptx"],
        meta.shared,
        tensordesc_meta,
        (scratch[0], scratch[1]),
        launch,
    )


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
    launch: LaunchOptions = DEFAULT_LAUNCH,
) -> list[CompiledTarget]:
    """Compiles kernel `kernel_name` of `path` for each target (already canonical) with
    `launch`'s options. With `arg_names`, the kernel's parameter names must be exactly those,
    in order."""
    for target in targets:
        check_num_ctas(launch.num_ctas, target)
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
                {"num_warps": num_warps, "num_stages": num_stages, "enable_fp_fusion": FP_FUSION, **vars(launch)}
            )
            binary = _compile_in_child(functools.partial(_compile_one, source, gpu_target, options.__dict__))
            if isinstance(binary, str):
                raise TtlinkError(f"Triton failed to compile '{kernel_name}' for {target}: {binary}", file=str(path))
            results.append(_compiled_target(binary, kernel_name, params, num_warps, num_stages, target, path))
        return results


def _compiled_target(binary: _Binary, kernel_name, params, num_warps, num_stages, target, path) -> CompiledTarget:
    import triton

    sizes = entry_param_sizes(binary.ptx, binary.entry)
    passed = [size for p in _launch_args(params) for size in kernel_param_sizes(p)]
    hidden_params = len(sizes) - len(passed)
    try:
        tensor_maps = _tensor_maps(binary.tensordesc_meta, params, kernel_name, target)
        _check_binary_needs(binary.scratch, max(hidden_params, 0), binary.launch, target)
    except TtlinkError as error:
        raise TtlinkError(error.message, file=str(path)) from None
    expected = passed + [8] * hidden_params
    if not 0 <= hidden_params <= len(SCRATCH_KINDS) or sizes != expected:
        raise TtlinkError(
            f"compiled '{kernel_name}' for {target} takes parameters of {sizes} bytes, "
            f"but the C entry point would pass {passed} and up to {len(SCRATCH_KINDS)} scratch pointers"
        )
    return CompiledTarget(
        kernel=binary.entry,
        params=params,
        num_warps=num_warps,
        num_stages=num_stages,
        target=target,
        triton_version=triton.__version__,
        cubin=binary.cubin,
        ptx=binary.ptx,
        shared=binary.shared,
        hidden_params=hidden_params,
        tensor_maps=tensor_maps,
        scratch=binary.scratch,
        launch=binary.launch,
    )


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
