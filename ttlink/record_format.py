"""The file `ttlink record` writes: what the Triton JIT specialised, per kernel. Pure (no Triton).

A recording maps each kernel, `(file, kernel)`, to a `KernelRecord`: its parameter names in
order, the specialisations the JIT compiled, and for `@triton.autotune` kernels the config
chosen per autotune key. Recordings merge by set union, so merging is idempotent and
order-independent, and the file text depends only on the set of entries (docs/RECORD.md).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import TtlinkError
from .metadata import C_IDENTIFIER
from .signature import BOOLEAN_TYPES, INTEGER_TYPES

FORMAT = 1
HINTS = (16, 1, None)
TARGET = re.compile(r"cuda:[1-9][0-9]*")

_SPECIALIZATION_KEYS = frozenset({"args", "constexprs", "num_stages", "num_warps", "target"})
_CHOICE_KEYS = frozenset({"config", "key", "targets"})
_KERNEL_KEYS = frozenset({"file", "kernel", "params", "specializations"})


@dataclass
class KernelRecord:
    """What was recorded of one kernel. Entries are kept by their canonical JSON text, which
    makes a repeated entry one entry."""

    params: tuple[str, ...]
    tuning_key: tuple[str, ...] | None = None
    specializations: dict[str, dict[str, Any]] = field(default_factory=dict)
    choices: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_specialization(self, entry: dict[str, Any]) -> None:
        self.specializations[_canonical(entry)] = entry

    def add_choice(self, choice: dict[str, Any]) -> None:
        self.choices[_canonical(choice)] = choice


KernelId = tuple[str, str]  # (source file relative to the root, function name)
Recording = dict[KernelId, KernelRecord]


def kernel_label(kernel_id: KernelId) -> str:
    """`examples/matmul.py:matmul_kernel`, how messages name a kernel."""
    return f"{kernel_id[0]}:{kernel_id[1]}"


def is_json_scalar(value: object) -> bool:
    """Whether `value` is a number, string, boolean or null that JSON keeps exactly."""
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (bool, int, str))


def merge(into: Recording, other: Recording, source: str) -> None:
    """Adds `other`'s entries to `into`. A kernel whose parameters or autotune key differ
    between the two was changed since one of them was recorded: an error naming `source`."""
    for kernel_id, record in sorted(other.items()):
        mine = into.get(kernel_id)
        if mine is None:
            into[kernel_id] = mine = KernelRecord(record.params, record.tuning_key)
        label = kernel_label(kernel_id)
        if mine.params != record.params:
            raise TtlinkError(
                f"kernel '{label}' is recorded with parameters ({', '.join(mine.params)}) and with "
                f"({', '.join(record.params)}): the kernel changed; record it afresh into a new file",
                file=source,
            )
        if record.tuning_key is not None:
            if mine.tuning_key not in (None, record.tuning_key):
                raise TtlinkError(
                    f"kernel '{label}' is recorded as autotuned by ({', '.join(mine.tuning_key)}) and by "
                    f"({', '.join(record.tuning_key)}): the kernel changed; record it afresh into a new file",
                    file=source,
                )
            mine.tuning_key = record.tuning_key
        mine.specializations.update(record.specializations)
        mine.choices.update(record.choices)


def dumps(recording: Recording) -> str:
    """The file text: sorted keys, entries in a fixed order, small objects on one line."""
    kernels = []
    for (file, kernel), record in sorted(recording.items()):
        group: dict[str, Any] = {
            "file": file,
            "kernel": kernel,
            "params": list(record.params),
            "specializations": sorted(record.specializations.values(), key=_specialization_order),
        }
        if record.tuning_key is not None:
            group["tuning"] = {
                "choices": sorted(record.choices.values(), key=_canonical),
                "key": list(record.tuning_key),
            }
        kernels.append(group)
    return _format({"format": FORMAT, "kernels": kernels}, "") + "\n"


def loads(text: str, source: str) -> Recording:
    """Parses and checks a record file; every problem is one TtlinkError naming `source`."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise TtlinkError(
            f"not a ttlink record file: invalid JSON ({error.msg})", file=source, line=error.lineno
        ) from None
    except RecursionError:
        raise TtlinkError("not a ttlink record file: JSON nested too deeply", file=source) from None
    except ValueError as error:  # e.g. an integer beyond Python's digit limit
        raise TtlinkError(f"not a ttlink record file: {error}", file=source) from None
    if not isinstance(document, dict) or "format" not in document:
        raise TtlinkError('not a ttlink record file (no "format" key at the top)', file=source)
    if document["format"] != FORMAT or isinstance(document["format"], bool):
        raise TtlinkError(
            f"record format {json.dumps(document['format'])} is not supported (this ttlink reads format {FORMAT})",
            file=source,
        )
    _expect_keys(document, {"format", "kernels"}, set(), "the top level", source)
    recording: Recording = {}
    for index, group in enumerate(_expect_list(document["kernels"], "kernels", source)):
        kernel_id, record = _parse_kernel(group, f"kernels[{index}]", source)
        merge(recording, {kernel_id: record}, source)
    return recording


def load(path: Path) -> Recording:
    """The recording in `path`; an empty one if there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise TtlinkError("not a ttlink record file: not UTF-8 text", file=str(path)) from None
    except OSError as error:
        raise TtlinkError(f"cannot read record file: {error.strerror}", file=str(path)) from None
    return loads(text, str(path))


def compile_signature(params: Iterable[str], entry: Mapping[str, Any]) -> str:
    """The `ttlink compile -s` SIG of a specialisation entry: type and hint of each argument,
    the value of each constexpr, in parameter order."""
    parts = []
    for name in params:
        if name in entry["args"]:
            arg = entry["args"][name]
            parts.append(arg["type"] + ("" if arg["hint"] is None else f":{arg['hint']}"))
        else:
            parts.append(repr(entry["constexprs"][name]))
    return ", ".join(parts)


def _specialization_order(entry: dict[str, Any]) -> tuple[object, ...]:
    """Target (by arch number), then config, then hints: entries of one config stay together."""
    return (
        int(entry["target"].partition(":")[2]),
        _canonical(entry["constexprs"]),
        entry["num_warps"],
        entry["num_stages"],
        _canonical(entry["args"]),
    )


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _format(value: object, indent: str) -> str:
    """JSON with sorted keys; an object or array holding only scalars stays on one line, so
    an argument, a constexpr set or a config reads as one line in a diff."""
    if isinstance(value, dict) and any(isinstance(item, (dict, list)) for item in value.values()):
        inner = indent + "  "
        items = [f"{inner}{json.dumps(key)}: {_format(value[key], inner)}" for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + _format(item, inner) for item in value) + "\n" + indent + "]"
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def _parse_kernel(group: object, where: str, source: str) -> tuple[KernelId, KernelRecord]:
    group = _expect_dict(group, where, source)
    _expect_keys(group, _KERNEL_KEYS, {"tuning"}, where, source)
    file, kernel = group["file"], group["kernel"]
    if not isinstance(file, str) or not _is_relative_path(file):
        raise TtlinkError(f"{where}: 'file' must be a relative path without '..', got {json.dumps(file)}", file=source)
    if not isinstance(kernel, str) or not C_IDENTIFIER.fullmatch(kernel):
        raise TtlinkError(f"{where}: 'kernel' must be a function name, got {json.dumps(kernel)}", file=source)
    where = f"kernel '{file}:{kernel}'"
    params = _expect_list(group["params"], f"{where}: 'params'", source)
    if not all(isinstance(name, str) and C_IDENTIFIER.fullmatch(name) for name in params) or len(set(params)) != len(
        params
    ):
        raise TtlinkError(f"{where}: 'params' must list distinct parameter names", file=source)
    record = KernelRecord(tuple(params))
    for index, entry in enumerate(_expect_list(group["specializations"], f"{where}: 'specializations'", source)):
        record.add_specialization(
            _parse_specialization(entry, record.params, f"{where}: specializations[{index}]", source)
        )
    if "tuning" in group:
        tuning = _expect_dict(group["tuning"], f"{where}: 'tuning'", source)
        _expect_keys(tuning, {"choices", "key"}, set(), f"{where}: 'tuning'", source)
        key = _expect_list(tuning["key"], f"{where}: 'tuning' 'key'", source)
        if not all(name in record.params for name in key):
            raise TtlinkError(f"{where}: 'tuning' 'key' must name parameters of the kernel", file=source)
        record.tuning_key = tuple(key)
        for index, choice in enumerate(_expect_list(tuning["choices"], f"{where}: 'tuning' 'choices'", source)):
            record.add_choice(_parse_choice(choice, f"{where}: tuning choices[{index}]", source))
    return (file, kernel), record


def _parse_specialization(entry: object, params: tuple[str, ...], where: str, source: str) -> dict[str, Any]:
    entry = _expect_dict(entry, where, source)
    _expect_keys(entry, _SPECIALIZATION_KEYS, set(), where, source)
    args = _expect_dict(entry["args"], f"{where}: 'args'", source)
    constexprs = _expect_dict(entry["constexprs"], f"{where}: 'constexprs'", source)
    if sorted(args.keys() | constexprs.keys()) != sorted(params) or args.keys() & constexprs.keys():
        raise TtlinkError(f"{where}: 'args' and 'constexprs' must name each parameter once", file=source)
    for name, arg in args.items():
        arg = _expect_dict(arg, f"{where}: argument '{name}'", source)
        _expect_keys(arg, {"hint", "type"}, set(), f"{where}: argument '{name}'", source)
        if not isinstance(arg["type"], str) or not arg["type"]:
            raise TtlinkError(f"{where}: argument '{name}': 'type' must be a Triton type", file=source)
        hint, type_ = arg["hint"], arg["type"]
        if isinstance(hint, bool) or hint not in HINTS:
            raise TtlinkError(f"{where}: argument '{name}': 'hint' must be 16, 1 or null", file=source)
        hintable = type_.startswith("*") or type_ in INTEGER_TYPES - BOOLEAN_TYPES
        if hint is not None and (not hintable or (type_.startswith("*") and hint == 1)):
            raise TtlinkError(f"{where}: argument '{name}': a {type_} cannot have hint {hint}", file=source)
    for name, value in constexprs.items():
        if not is_json_scalar(value):
            raise TtlinkError(f"{where}: constexpr '{name}' must be a number, string, boolean or null", file=source)
    _expect_target(entry["target"], f"{where}: 'target'", source)
    for option in ("num_warps", "num_stages"):
        _expect_count(entry[option], f"{where}: '{option}'", source)
    return entry


def _parse_choice(choice: object, where: str, source: str) -> dict[str, Any]:
    choice = _expect_dict(choice, where, source)
    _expect_keys(choice, _CHOICE_KEYS, set(), where, source)
    config = _expect_dict(choice["config"], f"{where}: 'config'", source)
    if not all(is_json_scalar(value) for value in config.values()):
        raise TtlinkError(f"{where}: 'config' values must be numbers, strings, booleans or null", file=source)
    for option in ("num_warps", "num_stages"):
        _expect_count(config.get(option), f"{where}: 'config' '{option}'", source)
    if not all(is_json_scalar(value) for value in _expect_list(choice["key"], f"{where}: 'key'", source)):
        raise TtlinkError(f"{where}: 'key' values must be numbers, strings, booleans or null", file=source)
    targets = _expect_list(choice["targets"], f"{where}: 'targets'", source)
    for target in targets:
        _expect_target(target, f"{where}: 'targets'", source)
    if not targets or targets != sorted(set(targets)):
        raise TtlinkError(f"{where}: 'targets' must list distinct targets, sorted", file=source)
    return choice


def _is_relative_path(text: str) -> bool:
    path = PurePosixPath(text)
    return bool(text) and not path.is_absolute() and ".." not in path.parts and "\\" not in text and str(path) == text


def _expect_dict(value: object, where: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TtlinkError(f"{where} must be a JSON object", file=source)
    return value


def _expect_list(value: object, where: str, source: str) -> list[Any]:
    if not isinstance(value, list):
        raise TtlinkError(f"{where} must be a JSON array", file=source)
    return value


def _expect_keys(
    value: dict[str, Any], required: Iterable[str], optional: Iterable[str], where: str, source: str
) -> None:
    missing = sorted(set(required) - value.keys())
    unknown = sorted(value.keys() - set(required) - set(optional))
    if missing:
        raise TtlinkError(f"{where}: missing key '{missing[0]}'", file=source)
    if unknown:
        raise TtlinkError(f"{where}: unknown key '{unknown[0]}'", file=source)


def _expect_target(value: object, where: str, source: str) -> None:
    if not isinstance(value, str) or not TARGET.fullmatch(value):
        raise TtlinkError(f'{where} must be a target like "cuda:90", got {json.dumps(value)}', file=source)


def _expect_count(value: object, where: str, source: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TtlinkError(f"{where} must be a positive integer, got {json.dumps(value)}", file=source)
