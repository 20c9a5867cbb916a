"""`python -m ttlink.record -o FILE [--root DIR] -- COMMAND ARGS...`, and `ttlink.record(FILE)`
as a context manager: writes every specialisation the Triton JIT compiles while a Python
program runs, merged into FILE: JSON, or Starlark for BUILD files to load when FILE ends
in `.bzl` (format: ttlink/record_format.py, docs/RECORD.md).

Recording listens on Triton's `knobs.runtime.jit_post_compile_hook` (Triton >= 3.4). The JIT
calls it once per specialisation and process, whether the binary came from the compiler or
from Triton's cache on disk; later launches of the same specialisation reuse it in memory and
call no hook, so one call per specialisation is all there is to see. The hook set before the
recording keeps being called, and is put back at its end. The config each `@triton.autotune`
wrapper of a recorded kernel chose per autotune key is read from the wrapper's `cache` when
the recording ends; wrappers are looked up when their kernel first compiles and kept.
"""

from __future__ import annotations

import gc
import importlib.util
import inspect
import json
import os
import runpy
import sys
import threading
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import ArgumentParser, TtlinkError, run_cli
from .outputs import write_outputs
from .record_format import (
    KernelId,
    KernelRecord,
    Recording,
    clusters,
    file_text,
    is_json_scalar,
    kernel_label,
    load,
    merge,
)


class Recorder:
    """Records while active (`with`); on a clean exit merges what it saw into its file.

    On an exception nothing is written: a failed program's recording may miss the
    specialisations it did not reach."""

    def __init__(self, path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None):
        # Absolute now: the recorded program may change the current directory.
        self.path = Path(os.path.abspath(path))
        self.root = Path(os.path.abspath(root if root is not None else os.curdir))
        self._recording: Recording = {}
        self._kernels: dict[int, tuple[Any, KernelId]] = {}  # id(JITFunction) -> (it, its kernel)
        self._tuners: dict[int, Any] = {}  # id(Autotuner) -> it
        self._targets: dict[KernelId, set[str]] = {}
        self._notes: set[str] = set()
        self._lock = threading.Lock()
        self._previous_hook: Callable[..., Any] | None = None
        self._active = False

    def __enter__(self) -> Recorder:
        if not self.root.is_dir():
            raise TtlinkError("--root must be an existing directory", file=str(self.root))
        if self.path.is_dir():
            raise TtlinkError("is a directory; -o names the record file", file=str(self.path))
        if not self.path.parent.is_dir():
            raise TtlinkError(f"cannot write the record: no directory {self.path.parent}", file=str(self.path))
        load(self.path)  # a bad or foreign file fails now, not after the program ran
        knobs = _runtime_knobs()
        self._previous_hook = knobs.jit_post_compile_hook
        knobs.jit_post_compile_hook = self._on_compile
        self._active = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: object) -> None:
        self._active = False
        knobs = _runtime_knobs()
        # A hook installed after ours may be calling ours; then it stays, forwarding only.
        if knobs.jit_post_compile_hook == self._on_compile:
            knobs.jit_post_compile_hook = self._previous_hook
        if exc_type is not None:
            return
        self._add_tuning_choices()
        if not self._recording:
            self._note("no Triton kernel under the root was compiled while recording")
        recording = load(self.path)
        merge(recording, self._recording, str(self.path))
        write_outputs({self.path: file_text(recording, self.path, self.root)})

    def _on_compile(self, **hook_args: Any) -> Any:
        """The JIT's hook: records, then calls the hook that was there before."""
        if self._active:
            self._record(hook_args["fn"].jit_function, hook_args["compile"])
        if self._previous_hook is not None:
            return self._previous_hook(**hook_args)
        return None

    def _record(self, jit_function: Any, compiled: dict[str, Any]) -> None:
        kernel_id = self._kernel_id(jit_function)
        if kernel_id is None:
            return
        entry = self._specialization(jit_function, kernel_id, compiled)
        if entry is None:
            return
        params = tuple(param.name for param in jit_function.params)
        with self._lock:
            first = id(jit_function) not in self._kernels
            self._kernels[id(jit_function)] = (jit_function, kernel_id)
            self._targets.setdefault(kernel_id, set()).add(entry["target"])
            self._recording.setdefault(kernel_id, KernelRecord(params)).add_specialization(entry)
        if first:
            self._keep_tuners()

    def _kernel_id(self, jit_function: Any) -> KernelId | None:
        """(source file relative to the root, function name); None, with a note, for a kernel
        `ttlink compile` could not load from the root: outside it, or not a module-level function."""
        function = jit_function.fn
        source = inspect.getsourcefile(function) or function.__code__.co_filename
        where = f"kernel '{function.__qualname__}' of {source}"
        if function.__qualname__ != function.__name__:
            self._note(f"skipped {where}: not a module-level function, which ttlink compile could not load")
            return None
        if not os.path.isfile(source):
            self._note(f"skipped {where}: no source file")
            return None
        # The path as given first, so that a root reached through a link keeps its name.
        for root, file in ((self.root, os.path.abspath(source)), (self.root.resolve(), os.path.realpath(source))):
            if Path(file).is_relative_to(root):
                return Path(file).relative_to(root).as_posix(), function.__name__
        self._note(f"skipped {where}: outside the root {self.root} (--root)")
        return None

    def _specialization(
        self, jit_function: Any, kernel_id: KernelId, compiled: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The record entry of one JIT compile; None, with a note, if a record cannot hold it."""
        where = f"a specialisation of kernel '{kernel_label(kernel_id)}'"
        signature, constants, attributes = compiled["signature"], compiled["constants"], compiled["configs"][0]
        args: dict[str, dict[str, Any]] = {}
        constexprs: dict[str, Any] = {}
        for index, param in enumerate(jit_function.params):
            type_ = signature[param.name]
            if not isinstance(type_, str):
                self._note(f"skipped {where}: parameter '{param.name}' is a tuple, which ttlink compile does not take")
                return None
            if param.is_constexpr or type_ == "constexpr":
                value = constants[(index,)]
                value = getattr(value, "value", value) if type(value).__name__ == "constexpr" else value
                if param.is_constexpr and is_json_scalar(value):
                    constexprs[param.name] = value
                elif not param.is_constexpr and type(value) is int and value == 1:
                    # The JIT folds an integer argument equal to 1 into the binary (`:1`); an
                    # integer that small is an i32 to it.
                    args[param.name] = {"hint": 1, "type": "i32"}
                else:
                    self._note(f"skipped {where}: parameter '{param.name}' is {value!r}, which a record cannot hold")
                    return None
            else:
                divisible = any(attr[0] == "tt.divisibility" and attr[1] == 16 for attr in attributes.get((index,), []))
                args[param.name] = {"hint": 16 if divisible else None, "type": type_}
        target = _target(compiled)
        if target is None:
            self._note(f"skipped {where}: not compiled for CUDA")
            return None
        return {
            "args": args,
            "constexprs": constexprs,
            **clusters(compiled["num_ctas"]),
            "num_stages": compiled["num_stages"],
            "num_warps": compiled["num_warps"],
            "target": target,
        }

    def _keep_tuners(self) -> None:
        """Keeps every live `@triton.autotune` wrapper of a recorded kernel, to read its choices
        at the end: one made inside a function may be gone by then. The JIT function does not
        know its wrappers; the garbage collector lists them all."""
        from triton.runtime.autotuner import Autotuner

        for item in gc.get_objects():
            if issubclass(type(item), Autotuner):
                jit_function = _unwrap(item)
                recorded = self._kernels.get(id(jit_function))
                if recorded is not None and recorded[0] is jit_function:
                    with self._lock:
                        self._tuners[id(item)] = item

    def _add_tuning_choices(self) -> None:
        """For every autotuner of a recorded kernel that chose a config, the config its cache
        holds per autotune key (the key's values, then the dtype of each tensor argument). One
        that chose none (a module's own @triton.autotune beside the one the program ran) adds
        nothing, not even its key."""
        self._keep_tuners()
        for tuner in [tuner for tuner in self._tuners.values() if tuner.cache]:
            kernel_id = self._kernels[id(_unwrap(tuner))][1]
            tuned = KernelRecord(self._recording[kernel_id].params, tuple(tuner.keys))
            for key, config in tuner.cache.items():
                choice = {
                    "config": {
                        **config.kwargs,
                        **clusters(config.num_ctas),
                        "num_stages": config.num_stages,
                        "num_warps": config.num_warps,
                    },
                    "key": [value if is_json_scalar(value) else str(value) for value in key],
                    "targets": sorted(self._targets[kernel_id]),
                }
                if not all(is_json_scalar(value) for value in choice["config"].values()):
                    self._note(f"skipped a tuning choice of kernel '{kernel_label(kernel_id)}': config {config}")
                    continue
                tuned.add_choice(choice)
            merge(self._recording, {kernel_id: tuned}, str(self.path))

    def _note(self, text: str) -> None:
        """One line on stderr, once per recording."""
        with self._lock:
            if text in self._notes:
                return
            self._notes.add(text)
        print(f"ttlink record: note: {text}", file=sys.stderr)


def record(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> Recorder:
    """`with ttlink.record("shapes.json"):` records the JIT's specialisations into shapes.json.

    Kernel files are named relative to `root` (default: the current directory); kernels
    outside it are skipped with a note on stderr."""
    return Recorder(path, root)


def _runtime_knobs() -> Any:
    try:
        import triton
    except ImportError:
        raise TtlinkError("recording needs Triton >= 3.4, and Triton cannot be imported") from None
    runtime = getattr(getattr(triton, "knobs", None), "runtime", None)
    if not hasattr(runtime, "jit_post_compile_hook"):
        raise TtlinkError(f"recording needs Triton >= 3.4 (its JIT hooks); this is Triton {triton.__version__}")
    return runtime


def _target(compiled: dict[str, Any]) -> str | None:
    """`cuda:ARCH` of the compile. Triton 3.9 puts the target in the hook's specialisation
    data; 3.6 does not, and then it is the active driver's, which the JIT just compiled for."""
    target = json.loads(compiled["specialization_data"]).get("target")
    if target is None:
        from triton.runtime import driver

        target = vars(driver.active.get_current_target())
    if target["backend"] != "cuda" or not isinstance(target["arch"], int):
        return None
    return f"cuda:{target['arch']}"


def _unwrap(tuner: Any) -> Any:
    """The JIT function under an autotuner and any `@triton.heuristics` between them."""
    from triton.runtime.jit import JITFunction

    function = tuner.fn
    while not isinstance(function, JITFunction) and hasattr(function, "fn"):
        function = function.fn
    return function


USAGE = "python -m ttlink record -o FILE [--root DIR] -- COMMAND [ARGS...]"


def main(argv: Sequence[str]) -> None:
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    parser = ArgumentParser(
        prog="python -m ttlink record",
        usage=USAGE,
        description="Runs a Python program (COMMAND: a script, or -m MODULE) and merges every "
        "specialisation the Triton JIT compiled into FILE (docs/RECORD.md).",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the record file (FILE.json, or FILE.bzl for BUILD files to load); created or merged into",
    )
    parser.add_argument("--root", metavar="DIR", help="kernel files are named relative to DIR (default: .)")
    options, unknown = parser.parse_known_args(argv[:split])
    if unknown:
        if unknown[0].startswith("-"):
            raise TtlinkError(f"unknown option '{unknown[0]}' ({USAGE})")
        raise TtlinkError(f"unexpected '{unknown[0]}': the program comes after '--' ({USAGE})")
    command = argv[split + 1 :]
    if not command:
        raise TtlinkError(f"no program to record: give '-- SCRIPT.py [ARGS...]' or '-- -m MODULE [ARGS...]' ({USAGE})")
    program = _program(command)
    with record(options.output, options.root):
        status = program()
        if status != 0:
            raise TtlinkError(f"'{' '.join(command)}' exited with status {status}; {options.output} not written")


def _program(command: list[str]) -> Callable[[], int]:
    """Checks COMMAND; returns what runs it in this process as `python COMMAND` would, with
    its exit status as the interpreter would report it."""
    if command[0] == "-m":
        if len(command) < 2:
            raise TtlinkError("'-m' needs a module name")
        module = command[1]
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            raise TtlinkError(f"no module named '{module}' to run")
        return lambda: _run(
            [module, *command[2:]], None, lambda: runpy.run_module(module, run_name="__main__", alter_sys=True)
        )
    script = command[0]
    if not os.path.isfile(script):
        raise TtlinkError(f"no such Python script '{script}' (use '-m MODULE' for a module)")
    directory = os.path.dirname(os.path.abspath(script))
    return lambda: _run(command, directory, lambda: runpy.run_path(script, run_name="__main__"))


def _run(argv: list[str], directory: str | None, program: Callable[[], object]) -> int:
    """Runs `program` with `argv` as sys.argv and `directory` first on sys.path (a script's
    own directory); returns its exit status."""
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = list(argv)
    if directory is not None:
        sys.path.insert(0, directory)
    try:
        program()
    except SystemExit as exit_request:
        code = exit_request.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0


class _CallableModule(types.ModuleType):
    """`ttlink.record(FILE)` is `ttlink.record.record(FILE)`: the module is the context manager's name too."""

    def __call__(self, path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> Recorder:
        return record(path, root)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
