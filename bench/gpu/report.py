"""Renders the GPU benchmark's results.json as the Markdown tables of docs/PERFORMANCE.md."""

from __future__ import annotations

from collections import Counter

OURS, UPSTREAM, JIT, CUBLAS = "rules_triton", "upstream AOT", "Triton JIT", "cuBLAS"


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _tflops(row: dict | None, with_config: bool = False) -> str:
    if row is None:
        return "-"
    text = f"{row['tflops']:.1f}" + ("" if row["correct"] else " WRONG")
    return text + (f" ({row['config']})" if with_config and row["config"] else "")


class MatmulResults:
    """The matmul rows indexed by (size, contender, config)."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        self.sizes = list(dict.fromkeys(r["size"] for r in rows))
        plain = [r["contender"] for r in rows if not r["contender"].endswith("unhinted")]
        self.controls = [c for c in dict.fromkeys(plain) if c.startswith(OURS + " (")]  # other-Triton builds
        self.configs = [c for c in dict.fromkeys(r["config"] for r in rows) if c]

    def get(self, size: int, contender: str, config: str) -> dict | None:
        return next(
            (r for r in self.rows if (r["size"], r["contender"], r["config"]) == (size, contender, config)), None
        )

    def best(self, size: int, contender: str) -> dict | None:
        mine = [r for r in self.rows if r["size"] == size and r["contender"] == contender and r["correct"]]
        return max(mine, key=lambda r: r["tflops"], default=None)

    def versus_upstream(self, contender: str) -> dict | None:
        """The lowest contender / upstream AOT ratio over sizes and configs, and the cases
        where the contender is slower beyond noise: its fastest round slower than upstream's
        slowest."""
        ratios, slower = [], []
        for size in self.sizes:
            for config in self.configs:
                mine, up = self.get(size, contender, config), self.get(size, UPSTREAM, config)
                if mine and up:
                    ratios.append((mine["tflops"] / up["tflops"], size, config))
                    if min(mine["ms_rounds"]) > max(up["ms_rounds"]):
                        slower.append(f"{size} {config}: {ratios[-1][0]:.3f}")
        return {"lowest": min(ratios), "slower": slower, "cases": len(ratios)} if ratios else None

    def unhinted_speedup(self, contender: str) -> tuple[float, dict, dict] | None:
        unhinted = next((r for r in self.rows if r["contender"] == f"{contender} unhinted"), None)
        auto = unhinted and self.get(unhinted["size"], contender, unhinted["config"])
        return (auto["tflops"] / unhinted["tflops"], auto, unhinted) if auto else None


def matmul_section(result: dict) -> tuple[str, dict]:
    m = MatmulResults(result["rows"])
    rows = result["rows"]
    ours_columns = m.controls + [OURS]
    best_rows = []
    for size in m.sizes:
        best = {c: m.best(size, c) for c in [CUBLAS, JIT, UPSTREAM, *ours_columns]}
        ratio = best[OURS]["tflops"] / best[CUBLAS]["tflops"] if best[OURS] and best[CUBLAS] else None
        cells = [_tflops(best[c], with_config=c != CUBLAS) for c in [CUBLAS, JIT, UPSTREAM, *ours_columns]]
        best_rows.append([size, *cells, f"{ratio:.1%}" if ratio else "-"])
    text = "#### Best config per contender, TFLOP/s\n\n"
    text += _table(["M=N=K", CUBLAS, JIT, UPSTREAM, *ours_columns, f"{OURS} / {CUBLAS}"], best_rows)

    per_config = []
    for size in m.sizes:
        for config in m.configs:
            cells = [m.get(size, c, config) for c in [JIT, UPSTREAM, *ours_columns]]
            up = cells[1]
            ratios = [f"{r['tflops'] / up['tflops']:.3f}" if r and up else "-" for r in cells[2:]]
            ours = cells[-1]
            spread = f"{max(ours['ms_rounds']) / min(ours['ms_rounds']) - 1:.1%}" if ours else "-"
            per_config.append([size, config, *map(_tflops, cells), *ratios, spread])
    ratio_headers = [f"{c} / upstream" for c in ours_columns]
    kernels = [
        f"{r['size']}: `{'`, `'.join(r['kernels'])}`" for r in rows if r["contender"] == CUBLAS and r.get("kernels")
    ]
    if kernels:
        text += "\n\ncuBLAS kernels: " + "; ".join(kernels) + "."
    text += "\n\n#### Per config, TFLOP/s\n\n"
    text += _table(
        ["M=N=K", "config", JIT, UPSTREAM, *ours_columns, *ratio_headers, f"{OURS}: max/min of rounds"], per_config
    )

    facts = {"cublas_4096": None}
    if m.best(4096, OURS) and m.best(4096, CUBLAS):
        facts["cublas_4096"] = m.best(4096, OURS)["tflops"] / m.best(4096, CUBLAS)["tflops"]
    facts["vs_upstream"] = {c: m.versus_upstream(c) for c in ours_columns}
    facts["unhinted"] = {c: m.unhinted_speedup(c) for c in [*ours_columns, UPSTREAM]}
    lines = []
    for contender, found in facts["unhinted"].items():
        if found:
            speedup, auto, unhinted = found
            lines.append(
                f"- {contender}: unhinted {unhinted['tflops']:.1f}, automatic specialisation "
                f"{auto['tflops']:.1f} TFLOP/s: {speedup:.1f}x"
            )
    if lines:
        text += f"\n\nThe generic (unhinted) variant forced at 4096, config {m.configs[0]}:\n\n" + "\n".join(lines)
    back_to_back = result.get("back_to_back", [])
    if back_to_back:
        cublas = next(r for r in back_to_back if r["contender"] == CUBLAS)
        best = {}
        for r in back_to_back:
            if r["contender"] != CUBLAS and r["tflops"] > best.get(r["contender"], {"tflops": 0})["tflops"]:
                best[r["contender"]] = r
        text += "\n\nSecond method at 4096: 50 launches back to back between two events, no L2 flush, "
        text += "median of the rounds; best config per contender:\n\n" + _table(
            ["contender", "config", "TFLOP/s", "of cuBLAS"],
            [[CUBLAS, "", f"{cublas['tflops']:.1f}", "100%"]]
            + [
                [n, r["config"], f"{r['tflops']:.1f}", f"{r['tflops'] / cublas['tflops']:.1%}"] for n, r in best.items()
            ],
        )
        if OURS in best:
            facts["cublas_4096_back_to_back"] = best[OURS]["tflops"] / cublas["tflops"]
    return text, facts


def launch_section(rows: list[dict]) -> str:
    body = [
        [r["path"], f"{r['plain_ns']:.0f}", f"{r['captured_ns']:.0f}", "yes" if r["graph_matches_plain"] else "NO"]
        for r in rows
    ]
    return _table(["path", "plain, ns/launch", "during graph capture, ns/launch", "graph result = plain"], body)


def dispatch_section(result: dict) -> tuple[str, dict]:
    body = [[r["library"], r["call"], r["symbol"], f"{r['ns_per_call']:.1f}"] for r in result["rows"]]
    text = f"Machine: {result['machine']}. {result['calls']} calls each, median of {result['repeats']} rounds.\n\n"
    text += _table(["library", "call", "symbol", "ns/call"], body)
    return text, {"dispatch_ns": result.get("ours_dispatch_overhead_ns")}


def carveout_section(result: dict) -> str:
    timings = {k: v for k, v in result.items() if isinstance(v, float)}
    text = (
        f"Unit-stride variant of {result['config']} at {result['size']} "
        f"({result['shared']} bytes of shared memory), TFLOP/s:\n\n"
    )
    return text + _table(["launch", "TFLOP/s"], [[k, f"{v:.1f}"] for k, v in timings.items()])


def cycles_section(rows: list[dict]) -> str:
    cublas = next(r for r in rows if r["contender"] == CUBLAS)
    body = [
        [
            r["contender"],
            f"`{r['kernel'][:60]}`",
            f"{r['gpc__cycles_elapsed.max'] / 1e6:.3f}",
            f"{r['gpc__cycles_elapsed.max'] / cublas['gpc__cycles_elapsed.max']:.3f}",
            f"{r['sm__cycles_elapsed.avg.per_second'] / 1e6:.0f}",
            f"{r['gpu__time_duration.sum'] / 1e3:.1f}",
            f"{r['sm__throughput.avg.pct_of_peak_sustained_elapsed']:.1f}",
        ]
        for r in rows
    ]
    header = ["contender", "kernel", "Mcycles", "cycles / cuBLAS", "SM MHz", "us", "SM throughput % of peak"]
    return _table(header, body)


def correctness_section(rows: list[dict]) -> str:
    counts = Counter((r["library"], r["kernel"], r["status"]) for r in rows)
    groups = list(dict.fromkeys((r["library"], r["kernel"]) for r in rows))
    body = [
        [lib, kernel, *(counts[lib, kernel, status] for status in ("pass", "FAIL", "skip"))] for lib, kernel in groups
    ]
    text = _table(["library", "kernel", "pass", "FAIL", "skipped: the variant's hints do not hold"], body)
    failures = Counter(
        (r["library"], r["kernel"], r["size"], r["layout"], r["detail"]) for r in rows if r["status"] == "FAIL"
    )
    if failures:
        text += "\n\nFailures, grouped (entry points failing alike):\n\n" + _table(
            ["library", "kernel", "size", "layout", "why", "entry points"],
            [[*key, count] for key, count in failures.items()],
        )
    return text


def target_choice_section(result: dict) -> str:
    body = [
        [
            f"`{r['build']}`",
            " + ".join(r["targets"]) + (" + PTX" if r["embed_ptx"] else ""),
            r["expected"],
            f"`{r['result']}`",
            r["output"],
            "pass" if r["ok"] else "FAIL",
        ]
        for r in result["rows"]
    ]
    text = f"Vector add at n = {result['size']} on this {result['gpu']} GPU, output poisoned with NaN.\n\n"
    return text + _table(["build", "binaries", "expected", "returned", "output", "verdict"], body)


def isolation_section(runs: list[dict]) -> str:
    body = []
    for run in runs:
        checks = [line for line in run["lines"] if "ok" in line]
        errors = [line for line in run["lines"] if "error" in line]
        passed = bool(checks) and all(c["ok"] for c in checks) and run["exit_code"] == 0
        details = [f"{c['where']}: {c.get('detail') or 'failed'}" for c in checks if not c["ok"]]
        details += [f"{e['error']} in {e.get('call', e.get('detail', ''))}" for e in errors]
        if run["exit_code"] != 0 and not errors:
            details.append(f"exit code {run['exit_code']} {run['stderr'][-200:]}")
        count = next((line["device_count"] for line in run["lines"] if "device_count" in line), None)
        mode = run["command"].split(" ", 3)[-1] + (f" ({count} device(s))" if count is not None else "")
        verdict = "pass" if passed else "FAIL"
        body.append(
            [run["library"], mode, f"{sum(c['ok'] for c in checks)}/{len(checks)}", verdict, "; ".join(details)]
        )
    return _table(["library", "check", "checks passed", "verdict", "detail"], body)


def targets_section(facts: dict) -> str:
    rows = []
    ratio = facts.get("cublas_4096")
    rows.append(
        ["best algo >= 97% of cuBLAS at 4096", f"{ratio:.1%}" if ratio else "-", _met(ratio, ratio and ratio >= 0.97)]
    )
    ratio = facts.get("cublas_4096_back_to_back")
    if ratio:
        rows.append(["the same, launches back to back", f"{ratio:.1%}", _met(ratio, ratio >= 0.97)])
    for contender, found in facts.get("vs_upstream", {}).items():
        shown = "-"
        if found:
            ratio, size, config = found["lowest"]
            shown = f"{contender}: lowest ratio {ratio:.3f} ({size}, {config}); slower beyond noise in "
            shown += f"{len(found['slower'])} of {found['cases']}" + (
                f": {'; '.join(found['slower'])}" if found["slower"] else ""
            )
        rows.append(["never slower than upstream AOT, same config", shown, _met(found, found and not found["slower"])])
    dispatch = facts.get("dispatch_ns")
    shown = f"{dispatch:.1f} ns" if dispatch is not None else "-"
    rows.append(
        [
            "dispatcher <= 20 ns over a direct variant call",
            shown,
            _met(dispatch is not None, dispatch is not None and dispatch <= 20),
        ]
    )
    for contender, found in facts.get("unhinted", {}).items():
        if contender == UPSTREAM or not found:
            continue
        rows.append(
            [
                "auto specialisation >= 20x the unhinted kernel at 4096",
                f"{contender}: {found[0]:.1f}x",
                _met(found, found[0] >= 20),
            ]
        )
    return _table(["target", "measured", "met"], rows)


def _met(measured, condition) -> str:
    if not measured:
        return "not measured"
    return "yes" if condition else "NO"


def render(results: dict) -> str:
    parts = [f"## GPU benchmark, {results['started']}"]
    env = results["steps"].get("environment", {}).get("result")
    if env:
        builds = ", ".join(
            f"Triton {m['triton']} ({', '.join(m['targets'])}; commit {m.get('commit', '?')}"
            + (" with local changes" if m.get("ttlink_modified") else "")
            + ")"
            for m in env["ours_manifests"]
            if m
        )
        parts.append(
            f"GPU: {'; '.join(env['gpus'])}. CPU: {env['cpu']}. torch {env['torch']} (CUDA {env['cuda_runtime']}). "
            f"Triton {env['triton_on_gpu_machine']} for the JIT and upstream AOT; rules_triton builds: {builds}; "
            f"gcc {env['gcc']}."
        )
    facts: dict = {}
    sections = [
        ("matmul", "fp16 matmul", matmul_section),
        ("carveout", "Shared-memory carveout experiment", carveout_section),
        ("launch", "Launch cost, host ns per launch (128^3 matmul, one thread block)", launch_section),
        ("dispatch", "Dispatcher cost on the CPU (no-op driver)", dispatch_section),
        ("cycles", "Cycles at 4096 (Nsight Compute, no clock control, config 0)", cycles_section),
        ("correctness", "Correctness matrix", correctness_section),
        ("targets", "Which binary the driver runs", target_choice_section),
        ("isolation", "Threads, contexts, devices", isolation_section),
    ]
    for step, title, render_step in sections:
        found = results["steps"].get(step)
        if found is None:
            continue
        if not found["ok"]:
            parts.append(f"### {title}\n\nfailed: {found['error'].strip().splitlines()[-1]}")
            continue
        rendered = render_step(found["result"])
        text, new_facts = rendered if isinstance(rendered, tuple) else (rendered, {})
        facts.update(new_facts)
        parts.append(f"### {title}\n\n{text}")
    parts.append("### Targets\n\n" + targets_section(facts))
    return "\n\n".join(parts) + "\n"
