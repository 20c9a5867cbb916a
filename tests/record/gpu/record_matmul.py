"""GPU check of `ttlink record` on the real JIT: the example matmul, autotuned over the
example's three configs per shape and layout, on the four A/B layouts at two sizes, on
`x @ W.T` and on the shapes of bench/gpu/autotune_sweep.py, checked against the recorded
hints. bench/gpu/layouts.py records with it too: examples/matmul_record.bzl is its record.

    python -m ttlink.record -o R.json -- tests/record/gpu/record_matmul.py   # records the run
    python tests/record/gpu/record_matmul.py check R.json                    # checks the record

Run from the repository root on the GPU machine (torch, Triton >= 3.4). Not run by CI.
Exit status 0 when every product is right and every layout's specialisation has the hints
its strides and sizes call for.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# (name, A column-major, B column-major, M, N, K): the four layouts at 4096 and at a size that
# is no multiple of 16, and the `x @ W.T` of a linear layer at three batch sizes (at 4096 it
# is the third layout). bench/gpu/layouts.py times these.
LAYOUTS = [
    ("A row, B row, 4096", False, False, 4096, 4096, 4096),
    ("A col, B row, 4096", True, False, 4096, 4096, 4096),
    ("A row, B col, 4096", False, True, 4096, 4096, 4096),
    ("A col, B col, 4096", True, True, 4096, 4096, 4096),
    ("A row, B row, 4001", False, False, 4001, 4001, 4001),
    ("A col, B row, 4001", True, False, 4001, 4001, 4001),
    ("A row, B col, 4001", False, True, 4001, 4001, 4001),
    ("A col, B col, 4001", True, True, 4001, 4001, 4001),
    ("x @ W.T, M 16", False, True, 16, 4096, 4096),
    ("x @ W.T, M 128", False, True, 128, 4096, 4096),
    ("x @ W.T, M 4096", False, True, 4096, 4096, 4096),
]
# bench/gpu/autotune_sweep.py's shapes (issue 13): row-major squares and `x @ W.T` at small
# batch sizes. Each is recorded, so that the example's tuning table holds its own key: a key
# the table lacks runs the nearest key's choice, which may be slow for it.
SWEEP = [(f"square {n}", False, False, n, n, n) for n in (512, 1024, 2048, 4001, 4096, 8192)]
SWEEP += [(f"x @ W.T, M = {m}", False, True, m, 4096, 4096) for m in (16, 32, 64, 128)]
# What is recorded: the layouts, then the sweep's shapes that are none of them.
CASES = LAYOUTS + [case for case in SWEEP if case[1:] not in {layout[1:] for layout in LAYOUTS}]
# Tuned per shape and layout: each layout's first call times every config, so the record holds
# every layout x config (keyed on the sizes alone, a layout met at a tuned size compiles only
# the config chosen for another layout, which may be slow for it).
TUNING_KEY = ("M", "N", "K", "stride_am", "stride_ak", "stride_bk", "stride_bn")
CONFIGS = [  # examples/BUILD.bazel's
    ({"BLOCK_SIZE_M": 128, "BLOCK_SIZE_N": 256, "BLOCK_SIZE_K": 64}, 8, 3),
    ({"BLOCK_SIZE_M": 128, "BLOCK_SIZE_N": 128, "BLOCK_SIZE_K": 32}, 4, 4),
    ({"BLOCK_SIZE_M": 64, "BLOCK_SIZE_N": 128, "BLOCK_SIZE_K": 32}, 4, 4),
]


def operand(rows: int, cols: int, column_major: bool):
    import torch

    if column_major:
        return torch.randn(cols, rows, device="cuda", dtype=torch.float16).T
    return torch.randn(rows, cols, device="cuda", dtype=torch.float16)


def run() -> int:
    import torch
    import triton

    sys.path.insert(0, str(REPO / "examples"))
    import matmul

    tuned = triton.autotune(
        configs=[triton.Config(values, num_warps=warps, num_stages=stages) for values, warps, stages in CONFIGS],
        key=list(TUNING_KEY),
    )(matmul.matmul_kernel)
    wrong = 0
    for name, a_col, b_col, m, n, k in CASES:
        a, b = operand(m, k, a_col), operand(k, n, b_col)
        c = torch.empty(m, n, device="cuda", dtype=torch.float16)

        def grid(meta, m=m, n=n):
            return (triton.cdiv(m, meta["BLOCK_SIZE_M"]) * triton.cdiv(n, meta["BLOCK_SIZE_N"]),)

        tuned[grid](a, b, c, m, n, k, *a.stride(), *b.stride(), *c.stride(), GROUP_SIZE_M=8)
        error = (c.float() - (a.float() @ b.float())).abs().max().item()
        print(f"{name}: strides A {a.stride()} B {b.stride()}, max error {error:.3f}, config {tuned.best_config}")
        wrong += error > 1.0
    return 1 if wrong else 0


def strides(a_col: bool, b_col: bool, m: int, n: int, k: int) -> dict[str, int]:
    """The integer arguments of a case, by name: sizes and strides of A, B and C."""
    a_strides = (1, m) if a_col else (k, 1)
    b_strides = (1, k) if b_col else (n, 1)
    values = {"M": m, "N": n, "K": k, "stride_am": a_strides[0], "stride_ak": a_strides[1]}
    return values | {"stride_bk": b_strides[0], "stride_bn": b_strides[1], "stride_cm": n, "stride_cn": 1}


def expected_hints(a_col: bool, b_col: bool, m: int, n: int, k: int) -> dict[str, int | None]:
    """The JIT's rule: an integer equal to 1 is folded (1), one divisible by 16 is hinted (16);
    torch's allocations are 16-byte aligned (16)."""

    def hint(value: int) -> int | None:
        return 1 if value == 1 else 16 if value % 16 == 0 else None

    values = strides(a_col, b_col, m, n, k)
    return {"a_ptr": 16, "b_ptr": 16, "c_ptr": 16} | {name: hint(value) for name, value in values.items()}


def check(path: Path) -> int:
    sys.path.insert(0, str(REPO))
    from ttlink.record_format import dumps, load

    (group,) = json.loads(dumps(load(path)))["kernels"]  # a .json or a .bzl record
    assert (group["file"], group["kernel"]) == ("examples/matmul.py", "matmul_kernel"), group
    recorded: dict[str, list[dict]] = {}
    for entry in group["specializations"]:
        hints = {name: arg["hint"] for name, arg in entry["args"].items()}
        config = {**entry["constexprs"], "num_stages": entry["num_stages"], "num_warps": entry["num_warps"]}
        recorded.setdefault(json.dumps(hints, sort_keys=True), []).append(config)
    chosen = {tuple(choice["key"][: len(TUNING_KEY)]): choice["config"] for choice in group["tuning"]["choices"]}
    print(f"tuning key {group['tuning']['key']}: {len(chosen)} choices")
    failures = 0
    for name, *layout in CASES:
        hints = expected_hints(*layout)
        configs = recorded.get(json.dumps(hints, sort_keys=True), [])
        # Every layout is a key of its own: the autotuner timed (compiled) every config for
        # it, and its choice is one of them.
        values = strides(*layout)
        choice = chosen.get(tuple(values[name] for name in TUNING_KEY))
        ok = len(configs) == len(CONFIGS) and any(config.items() >= choice.items() for config in configs if choice)
        failures += not ok
        print(f"{'ok' if ok else 'MISSING'}: {name}: {len(configs)} configs with hints {hints}; chose {choice}")
    expected = {json.dumps(expected_hints(*layout), sort_keys=True) for _, *layout in CASES}
    for hints in sorted(set(recorded) - expected):
        failures += 1
        print(f"UNEXPECTED: a specialisation with hints {hints}")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["check"]:
        sys.exit(check(Path(sys.argv[2])))
    sys.exit(run())
