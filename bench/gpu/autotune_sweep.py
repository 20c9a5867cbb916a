"""The GPU sweep of issue 13: does K_autotuned run the best algo of each shape?

    python3 bench/gpu/autotune_sweep.py --out DIR

Builds what examples/BUILD.bazel compiles from examples/matmul_record.bzl (layouts.py's
library) linked with `--tuning examples/matmul_record.bzl`, for this GPU's target, then per
shape (record_matmul.SWEEP, each recorded in the table: square row-major A @ B at 512 to
8192 and 4001; `x @ W.T` at M = 16 to 128, N = K = 4096) times every algo,
`matmul_autotuned` with the table's choice, and `matmul_autotuned` after run-time tuning
decided the key (median of triton.testing.do_bench over ROUNDS rounds), and the wall time of
the call that tuned, checks each product against torch, and writes DIR/autotune_sweep.json
and .md.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import layouts

RECORD = layouts.REPO / "examples" / "matmul_record.bzl"
ROUNDS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import torch
    import triton

    major, minor = torch.cuda.get_device_capability()
    params, built = layouts.variants(RECORD)
    started = time.time()
    library_path = layouts.compile_library(
        params, built, f"cuda:{major}{minor}", Path(tempfile.mkdtemp(prefix="sweep_")), tuning=RECORD
    )
    built_seconds = time.time() - started
    library = ctypes.CDLL(str(library_path))
    types = [ctypes.c_void_p] * 4 + [ctypes.c_int32] * 9
    library.matmul.argtypes, library.matmul.restype = [*types, ctypes.c_int], ctypes.c_int
    library.matmul_autotuned.argtypes, library.matmul_autotuned.restype = types, ctypes.c_int
    library.matmul_get_algo_name.restype = ctypes.c_char_p
    algos = [library.matmul_get_algo_name(i).decode() for i in range(library.matmul_get_num_algos())]
    stream = torch.cuda.current_stream().cuda_stream
    rows = []
    for shape in layouts.record_matmul.SWEEP:
        row = bench_shape(library, algos, stream, *shape)
        rows.append(row)
        ratios = f"table {row['table_vs_best']:.3f}, tuned {row['tuned_vs_best']:.3f} ({row['tuning_ms']:.1f} ms)"
        print(f"{row['case']}: best {row['best_algo']}, {ratios}")
    exported = ctypes.create_string_buffer(1 << 16)
    library.matmul_tuning_export(exported, ctypes.c_size_t(len(exported)))
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "gpu": torch.cuda.get_device_name(),
        "triton": triton.__version__,
        "torch": torch.__version__,
        "build_seconds": built_seconds,
        "algos": algos,
        "rows": rows,
        "tuning_export": exported.value.decode(),
    }
    (args.out / "autotune_sweep.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    (args.out / "autotune_sweep.md").write_text(markdown(result))
    print(markdown(result))


def bench_shape(
    library, algos: list[str], stream: int, name: str, a_col: bool, b_col: bool, m: int, n: int, k: int
) -> dict:
    """One row: every algo, the table's choice and the tuned one, timed in ROUNDS rounds."""
    import torch
    from triton.testing import do_bench

    a, b = layouts.record_matmul.operand(m, k, a_col), layouts.record_matmul.operand(k, n, b_col)
    c = torch.empty(m, n, device="cuda", dtype=torch.float16)
    expected = (a.double() @ b.double()).float()
    values = (a.data_ptr(), b.data_ptr(), c.data_ptr(), m, n, k, *a.stride(), *b.stride(), *c.stride())

    def launcher(call):
        def launch():
            status = call()
            if status != 0:
                raise RuntimeError(f"{name}: CUresult {status}")

        return launch

    contenders = {algo: launcher(lambda i=i: library.matmul(stream, *values, i)) for i, algo in enumerate(algos)}
    contenders["table"] = launcher(lambda: library.matmul_autotuned(stream, *values))
    errors = {}
    for label, launch in contenders.items():
        c.fill_(float("nan"))
        launch()
        torch.cuda.synchronize()
        errors[label] = float(((c.float() - expected).abs().max() / expected.abs().max()).item())
    times = {label: [] for label in contenders}
    for _ in range(ROUNDS):
        for label, launch in contenders.items():
            times[label].append(do_bench(launch))
    library.matmul_autotune_enable(1)
    tuned = contenders["table"]
    torch.cuda.synchronize()
    started = time.perf_counter()
    tuned()  # the first call with tuning on tunes this key
    torch.cuda.synchronize()
    tuning_ms = (time.perf_counter() - started) * 1e3
    times["tuned"] = [do_bench(tuned) for _ in range(ROUNDS)]
    library.matmul_autotune_enable(0)  # decided keys keep their algo
    medians = {label: statistics.median(t) for label, t in times.items()}
    best = min(algos, key=lambda algo: medians[algo])
    flops = 2.0 * m * n * k
    return {
        "case": name,
        "ms": medians,
        "tflops": {label: flops / ms / 1e9 for label, ms in medians.items()},
        "best_algo": best,
        "table_vs_best": medians[best] / medians["table"],
        "tuned_vs_best": medians[best] / medians["tuned"],
        "tuning_ms": tuning_ms,
        "max_rel_error": max(errors.values()),
    }


def markdown(result: dict) -> str:
    lines = [
        f"# K_autotuned sweep, {result['date']}",
        "",
        f"{result['gpu']}, Triton {result['triton']}, torch {result['torch']}.",
        f"TFLOP/s, median of {ROUNDS} do_bench rounds;",
        "table = `matmul_autotuned` with the table of examples/matmul_record.bzl (nearest key where not recorded);",
        "tuned = `matmul_autotuned` after run-time tuning decided the key. Ratios: best algo's time / this one's.",
        "tuning: wall time of the call that tuned the key (every algo timed), to the end of its last launch.",
        "",
        "| shape | "
        + " | ".join(result["algos"])
        + " | table | tuned | table / best | tuned / best | tuning (ms) | max rel. error |",
        "|---" * (len(result["algos"]) + 7) + "|",
    ]
    for row in result["rows"]:
        cells = [f"{row['tflops'][label]:.1f}" for label in [*result["algos"], "table", "tuned"]]
        lines.append(
            f"| {row['case']} | "
            + " | ".join(cells)
            + f" | {row['table_vs_best']:.3f} | {row['tuned_vs_best']:.3f} | {row['tuning_ms']:.1f}"
            + f" | {row['max_rel_error']:.1e} |"
        )
    lines += [
        "",
        "Run-time tuning's decisions (`matmul_tuning_export`):",
        "",
        "```",
        result["tuning_export"].rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
