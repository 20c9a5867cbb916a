"""Tuning tables: the algo `K_autotuned` runs for each autotune key, from record files (pure).

A record (docs/RECORD.md) holds, for a `@triton.autotune` kernel, the config Triton's
autotuner chose for each key value. `ttlink link --tuning FILE` turns those choices into a
table per linked kernel: the key is the values of the key parameters, the algo is the linked
algo whose constexprs, num_warps, num_stages and num_ctas are the chosen config's. docs/AUTOTUNE.md
("Choosing the algo per shape") states the rules checked here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .errors import TtlinkError
from .model import INTEGER_TYPES, KernelGroup, Tuning, check_names
from .record_format import KernelRecord, Recording, kernel_label, load

OPTIONS = ("num_warps", "num_stages", "num_ctas")


def apply_tuning(groups: Sequence[KernelGroup], paths: Sequence[str], prefix: str) -> tuple[KernelGroup, ...]:
    """`groups` with the tables the record files at `paths` give them. A file that tunes none of
    the linked kernels, or whose choices cannot be linked, is an error naming it."""
    tuned = {group.name: group for group in groups}
    for path in sorted(set(paths)):
        recording = _read(path)
        used = False
        for (file, kernel), record in sorted(recording.items()):
            if record.tuning_key is None:
                continue
            for name, group in sorted(tuned.items()):
                if _python_kernel(group) == kernel:
                    tuned[name] = replace(group, tuning=_table(group, record, path, kernel_label((file, kernel))))
                    used = True
        if not used:
            kernels = ", ".join(sorted(filter(None, {_python_kernel(g) for g in groups}))) or "no ttlink-meta kernel"
            raise TtlinkError(f"no tuning choices for a linked kernel (linked: {kernels})", file=path)
    result = tuple(tuned[group.name] for group in groups)
    check_names(result, prefix)
    return result


def _read(path: str) -> Recording:
    if not Path(path).is_file():
        raise TtlinkError("no such tuning file", file=path)
    return load(Path(path))


def _python_kernel(group: KernelGroup) -> str | None:
    return group.algos[0].variants[0].python_kernel


def _table(group: KernelGroup, record: KernelRecord, path: str, label: str) -> Tuning:
    if group.tuning is not None:
        raise TtlinkError(
            f"kernel '{label}' is tuned by {group.tuning.source} too: give one tuning file per kernel", file=path
        )
    arg_types = {name: c_type for c_type, name in group.params}
    key = record.tuning_key or ()
    if not key:
        raise TtlinkError(f"kernel '{label}': the autotune key is empty; there is nothing to choose by", file=path)
    for name in key:
        if arg_types.get(name) not in INTEGER_TYPES:
            raise TtlinkError(
                f"kernel '{label}': autotune key parameter '{name}' is not an integer argument of '{group.name}'",
                file=path,
            )
    constexpr_names = [name for name in record.params if name not in arg_types]
    chosen: dict[tuple[int, ...], int] = {}
    for choice in sorted(record.choices.values(), key=lambda c: json.dumps(c, sort_keys=True)):
        values = tuple(choice["key"][: len(key)])
        where = f"kernel '{label}': key ({', '.join(json.dumps(v) for v in choice['key'])})"
        if len(values) < len(key) or not all(_is_int64(value) for value in values):
            raise TtlinkError(f"{where}: the key's first {len(key)} values must be integers (64-bit)", file=path)
        algo = _algo_of(group, constexpr_names, choice["config"], where, path)
        if chosen.setdefault(values, algo) != algo:
            other = group.algos[chosen[values]].name
            raise TtlinkError(
                f"{where}: chooses {group.algos[algo].name} and {other} for one key: record the kernel once per "
                "dtype and layout",
                file=path,
            )
    return Tuning(key=tuple(key), entries=tuple(sorted(chosen.items())), source=path)


def _algo_of(group: KernelGroup, constexpr_names: list[str], config: dict, where: str, path: str) -> int:
    """The index of the one linked algo that is `config`."""
    unknown = sorted(set(config) - set(constexpr_names) - set(OPTIONS))
    if unknown:
        raise TtlinkError(f"{where}: config sets '{unknown[0]}', which is not a constexpr of the kernel", file=path)
    wanted = {"num_ctas": 1, **config}  # records leave num_ctas 1 out
    matches = []
    for index, algo in enumerate(group.algos):
        variant = algo.variants[0]
        if len(variant.constexprs) != len(constexpr_names):
            raise TtlinkError(
                f"{where}: the record's kernel has {len(constexpr_names)} constexprs, '{group.name}' has "
                f"{len(variant.constexprs)}",
                file=path,
            )
        values = dict(zip(constexpr_names, variant.constexprs, strict=True))
        values.update(num_warps=variant.num_warps, num_stages=variant.num_stages, num_ctas=variant.launch.num_ctas)
        if all(_same(values[name], value) for name, value in wanted.items()):
            matches.append(index)
    text = ", ".join(f"{name}={json.dumps(value)}" for name, value in sorted(config.items()))
    if not matches:
        raise TtlinkError(f"{where}: no linked algo of '{group.name}' is the chosen config {text}", file=path)
    if len(matches) > 1:
        names = " and ".join(group.algos[i].name for i in matches[:2])
        raise TtlinkError(f"{where}: the chosen config {text} is both {names}", file=path)
    return matches[0]


def _is_int64(value: object) -> bool:
    """An integer the C table holds as a plain int64_t literal (INT64_MIN has none)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) < value < 2**63


def _same(linked: object, recorded: object) -> bool:
    """Values equal as Python compares them (32 == 32.0), a boolean only to a boolean."""
    return isinstance(linked, bool) == isinstance(recorded, bool) and linked == recorded
