"""The report of bench/gpu/tma.py (tma.md) from its results (tma.json). Standard library only:
the CPU tests render it."""

from __future__ import annotations

JIT = "Triton JIT"  # the contender every AOT build is compared with


def _ratio(x: float | None, y: float | None) -> str:
    return f"{x / y:.3f}" if x and y else "-"


def _speed_table(rows: list[dict], baseline: str) -> list[str]:
    """Per case and config: TFLOP/s of the baseline library and of each build, then each AOT
    build against the JIT and each build against the baseline."""
    speeds = {(r["case"], r["contender"], r["config"]): r["tflops"] for r in rows if "tflops" in r}
    builds = list(dict.fromkeys(contender for (_, contender, config) in speeds if config))
    aot = [build for build in builds if build != JIT]
    header = [baseline, *builds, *[f"{b} / JIT" for b in aot], *[f"{b} / {baseline}" for b in builds]]
    lines = [f"| case | config | {' | '.join(header)} |", "|---|---|" + "---|" * len(header)]
    for case in dict.fromkeys(r["case"] for r in rows):
        base = speeds.get((case, baseline, ""))
        for config in dict.fromkeys(c for (k, _, c) in speeds if k == case and c):
            mine = {build: speeds.get((case, build, config)) for build in builds}
            cells = [f"{x:.1f}" if x else "-" for x in (base, *mine.values())]
            cells += [_ratio(mine[build], mine.get(JIT)) for build in aot]
            cells += [_ratio(mine[build], base) for build in builds]
            lines.append(f"| {case} | {config} | {' | '.join(cells)} |")
    return lines


def _check_counts(rows: list[dict]) -> str:
    passed = sum(r["correct"] for r in rows)
    worst = max((r["rel_error"] for r in rows), default=0.0)
    chunk = sum(r.get("tail_chunk_written", False) for r in rows)
    return f"{passed} of {len(rows)} pass (largest relative error {worst:.1e}; tail chunk written in {chunk})"


def markdown(results: dict) -> str:
    steps = results["steps"]

    def result(step: str):
        return steps[step]["result"] if steps.get(step, {}).get("ok") else None

    lines = [f"# TMA examples, {results['started']}", ""]
    if env := result("environment"):
        lines += [f"{'; '.join(env['gpus'])}, {env['sms']} SMs; torch {env['torch']}, Triton {env['triton']}", ""]
    for step, outcome in steps.items():
        if not outcome["ok"]:
            lines += [f"**{step} failed** ({outcome['seconds']} s):", "", "```", outcome["error"], "```", ""]
    if built := result("build"):
        for label, build in built["builds"].items():
            lines += [f"{label}: Triton {build['triton']}, {build['target']}, {build['variants']} variants", ""]
    checks = {JIT: result("check_jit"), **(result("check_aot") or {})}
    lines += [f"checks, {label}: {_check_counts(rows)}" for label, rows in checks.items() if rows is not None]
    for label, run in (result("c_test") or {}).items():
        last = run["stdout"].strip().splitlines()[-1:] or ["(no output)"]
        lines += [f"examples/tma_gpu_test.c, {label}: exit status {run['exit_code']}, {last[0]}"]
    for step in ("bench", "tune"):
        if speeds := result(step):
            lines += ["", f"## {step}: matmul, TFLOP/s", "", *_speed_table(speeds["matmul"], "cuBLAS"), ""]
            lines += [f"## {step}: attention, TFLOP/s", "", *_speed_table(speeds["attention"], "SDPA"), ""]
            kernels = [r for r in speeds["matmul"] + speeds["attention"] if "kernels" in r]
            lines += [f"- {r['case']}: {', '.join(r['kernels'])}" for r in kernels]
    return "\n".join(lines) + "\n"
