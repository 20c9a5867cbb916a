"""The dispatcher's own host cost: ours and upstream's entry points timed against the no-op
driver (noop_cuda.c) on the CPU, so that no GPU queue hides it; ours also with
TTLINK_REPORT_VARIANTS=1, in the same rounds. Needs no GPU."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import build
from kernels import MATMUL
from libs import LinkedLibrary


def measure(build_dir: Path, libraries: list[tuple[Path, LinkedLibrary]]) -> dict:
    """LIBRARIES: (shared library, its view) for ours and upstream's matmul."""
    noop_dir = build_dir / "noop"
    noop_dir.mkdir(exist_ok=True)
    noop = noop_dir / "libcuda.so.1"
    build.cc([build.HERE / "noop_cuda.c"], noop, shared=True, extra=("-Wl,-soname,libcuda.so.1",))
    harness = build.build_harness("dispatch_cost", build_dir, link_driver=False)
    # upstream's libraries need libcuda.so.1 by name; ours dlopen()s TTLINK_LIBCUDA_PATH
    env = dict(os.environ, LD_LIBRARY_PATH=str(noop_dir), TTLINK_LIBCUDA_PATH=str(noop))
    rows = []
    for path, library in libraries:
        algo = next(a for a in library.algos if a.config_index == 0 and "aligned" in a.specs)
        variant = library.variants[0, "aligned"]
        command = [str(harness), str(path), library.name, str(algo.algo_id), algo.function, variant]
        is_ours = library.name == library.kernel.out_name  # upstream's names carry its prefix
        if is_ours:  # a second instance, whose runtime reads TTLINK_REPORT_VARIANTS=1
            copy = build_dir / f"{path.stem}_reporting{path.suffix}"
            shutil.copyfile(path, copy)
            command.append(str(copy))
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        for line in done.stdout.splitlines():
            record = json.loads(line)
            if "error" in record:
                raise RuntimeError(f"dispatch_cost {library.label}: {record}")
            label = library.label + (", TTLINK_REPORT_VARIANTS=1" if record["report_variants"] else "")
            rows.append({"library": label, **record})
        if done.returncode != 0:
            raise RuntimeError(f"dispatch_cost {library.label} exited {done.returncode}: {done.stderr[-500:]}")
        # Every call reaches the aligned variant: the reporting instance names it once, the other never.
        reports = [line for line in done.stderr.splitlines() if line.startswith("ttlink: ")]
        if len(reports) != is_ours or (is_ours and f"-> variant {variant}:" not in reports[0]):
            raise RuntimeError(f"dispatch_cost {library.label}: expected one report of {variant}, got {reports}")
    ours = {r["call"]: r["ns_per_call"] for r in rows if r["library"] == "rules_triton"}
    reporting = {r["call"]: r["ns_per_call"] for r in rows if r["library"] == "rules_triton, TTLINK_REPORT_VARIANTS=1"}
    return {
        "machine": f"{build.cpu_name()}, {os.cpu_count()} logical CPUs",
        "calls": rows[0]["calls"],
        "repeats": rows[0]["repeats"],
        "kernel": f"{MATMUL.out_name} config {MATMUL.configs[0].name}, aligned variant's arguments",
        "rows": rows,
        "ours_dispatch_overhead_ns": ours["dispatch"] - ours["variant"] if ours else None,
        "ours_dispatch_overhead_reporting_ns": reporting["dispatch"] - reporting["variant"] if reporting else None,
    }
