"""Renders the GPU benchmark's results.json as the Markdown tables of docs/PERFORMANCE.md."""

from __future__ import annotations

from collections import Counter

OURS, UPSTREAM, JIT, CUBLAS = "rules_triton", "upstream AOT", "Triton JIT", "cuBLAS"


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _step(results: dict, name: str):
    step = results["steps"].get(name)
    if step is None:
        return None, "not run"
    if not step["ok"]:
        return None, "failed: " + step["error"].strip().splitlines()[-1]
    return step["result"], ""


def _best(rows: list[dict], size: int, contender: str) -> dict | None:
    mine = [r for r in rows if r["size"] == size and r["contender"] == contender and r["correct"]]
    return max(mine, key=lambda r: r["tflops"], default=None)


def _cell(row: dict | None, with_config: bool = True) -> str:
    if row is None:
        return "-"
    return f"{row['tflops']:.1f}" + (f" ({row['config']})" if with_config and row["config"] else "")


def matmul_tables(rows: list[dict]) -> tuple[str, dict]:
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    best_rows, facts = [], {}
    for size in sizes:
        best = {c: _best(rows, size, c) for c in (CUBLAS, JIT, UPSTREAM, OURS)}
        ratio = f"{100 * best[OURS]['tflops'] / best[CUBLAS]['tflops']:.1f}%" if best[OURS] and best[CUBLAS] else "-"
        best_rows.append([size, _cell(best[CUBLAS]), _cell(best[JIT]), _cell(best[UPSTREAM]), _cell(best[OURS]), ratio])
        if size == 4096 and best[OURS] and best[CUBLAS]:
            facts["ours_vs_cublas_4096"] = best[OURS]["tflops"] / best[CUBLAS]["tflops"]
    per_config, worst = [], None
    for size in sizes:
        for config in dict.fromkeys(r["config"] for r in rows if r["size"] == size and r["config"]):
            cells = {r["contender"]: r for r in rows if r["size"] == size and r["config"] == config}
            if JIT not in cells:
                continue
            ours, up = cells.get(OURS), cells.get(UPSTREAM)
            ratio = ours["tflops"] / up["tflops"] if ours and up else None
            if ratio is not None and (worst is None or ratio < worst[0]):
                worst = (ratio, size, config)
            spread = f"{max(ours['ms_rounds']) / min(ours['ms_rounds']) - 1:.1%}" if ours else "-"
            flags = "" if all(c["correct"] for c in cells.values()) else " WRONG RESULT"
            per_config.append(
                [size, config, _cell(cells[JIT], False), _cell(up, False), _cell(ours, False),
                 f"{ratio:.3f}" if ratio else "-", spread + flags]
            )  # fmt: skip
    facts["worst_ours_vs_upstream"] = worst
    unhinted = {r["contender"]: r for r in rows if r["contender"].endswith("unhinted")}
    mine = next(
        (
            r
            for r in rows
            if r["size"] == 4096
            and r["contender"] == OURS
            and r["config"] == unhinted.get(f"{OURS} unhinted", {}).get("config")
        ),
        None,
    )
    if f"{OURS} unhinted" in unhinted and mine:
        facts["auto_vs_unhinted"] = mine["tflops"] / unhinted[f"{OURS} unhinted"]["tflops"]
    text = "### Best per contender, TFLOP/s (config)\n\n"
    text += _table(
        ["M=N=K", "cuBLAS", "Triton JIT", "upstream AOT", "rules_triton", "rules_triton / cuBLAS"], best_rows
    )
    text += "\n\n### Per config, TFLOP/s\n\n"
    text += _table(
        ["M=N=K", "config", "Triton JIT", "upstream AOT", "rules_triton", "ours / upstream", "ours: spread of 2 runs"],
        per_config,
    )
    if unhinted:
        text += (
            "\n\nUnhinted (generic variant forced) at 4096, config " + next(iter(unhinted.values()))["config"] + ": "
        )
        text += ", ".join(f"{name}: {r['tflops']:.1f} TFLOP/s" for name, r in unhinted.items())
        if "auto_vs_unhinted" in facts:
            text += f"; rules_triton with automatic specialisation is {facts['auto_vs_unhinted']:.1f}x faster"
        text += "."
    return text, facts


def launch_table(rows: list[dict]) -> str:
    body = []
    for r in rows:
        if "plain_ns" in r:
            body.append(
                [
                    r["path"],
                    f"{r['plain_ns']:.0f}",
                    f"{r['captured_ns']:.0f}",
                    "yes" if r["graph_matches_plain"] else "NO",
                ]
            )
        else:
            body.append([r["path"], "error", "error", str(r.get("error", ""))[:120]])
    return _table(["path", "plain, ns/launch", "during graph capture, ns/launch", "graph result = plain"], body)


def dispatch_table(result: dict) -> tuple[str, float | None]:
    body = [[r["library"], r["call"], f"{r['ns_per_call']:.1f}"] for r in result["rows"]]
    text = f"Machine: {result['machine']}; {result['calls']} calls each, median of {result['repeats']} runs.\n\n"
    text += _table(["library", "call", "ns/call"], body)
    return text, result.get("ours_dispatch_overhead_ns")


def correctness_summary(rows: list[dict]) -> str:
    counts = Counter((r["library"], r["kernel"], r["status"]) for r in rows)
    groups = list(dict.fromkeys((r["library"], r["kernel"]) for r in rows))
    body = [
        [lib, kernel, counts[lib, kernel, "pass"], counts[lib, kernel, "FAIL"], counts[lib, kernel, "skip"]]
        for lib, kernel in groups
    ]
    text = _table(["library", "kernel", "pass", "FAIL", "skipped (variant's hints do not hold)"], body)
    failures = [r for r in rows if r["status"] == "FAIL"]
    if failures:
        text += "\n\nFailures:\n\n" + _table(
            ["library", "kernel", "entry", "size", "layout", "why"],
            [[r["library"], r["kernel"], r["entry"], r["size"], r["layout"], r["detail"]] for r in failures[:60]],
        )
        if len(failures) > 60:
            text += f"\n\n... and {len(failures) - 60} more (results.json)."
    return text


def isolation_summary(runs: list[dict]) -> str:
    body = []
    for run in runs:
        checks = [line for line in run["lines"] if "ok" in line]
        errors = [line for line in run["lines"] if "error" in line]
        verdict = "pass" if checks and all(c["ok"] for c in checks) and run["exit_code"] == 0 else "FAIL"
        detail = "; ".join(f"{c['where']}: {c.get('detail') or 'ok'}" for c in checks if not c["ok"])
        detail += "; ".join(f"{e['error']} in {e.get('call', e.get('detail', ''))}" for e in errors)
        if run["exit_code"] not in (0, None) and not errors:
            detail += f" exit code {run['exit_code']} {run['stderr'][-200:]}"
        count = next((line["device_count"] for line in run["lines"] if "device_count" in line), None)
        mode = run["command"].split(" ", 3)[-1] + (f" ({count} device(s))" if count is not None else "")
        body.append(
            [run["library"], mode, f"{sum(c['ok'] for c in checks)}/{len(checks)}", verdict, detail.replace("|", "/")]
        )
    return _table(["library", "check", "checks passed", "verdict", "detail"], body)


def render(results: dict) -> str:
    env, why = _step(results, "environment")
    parts = [f"## GPU benchmark, {results['started']}"]
    if env:
        manifest = env.get("ours_manifest") or {}
        parts.append(
            f"GPU: {'; '.join(env['gpus'])}. CPU: {env['cpu']}. torch {env['torch']} (CUDA {env['cuda_runtime']}), "
            f"Triton {env['triton_on_gpu_machine']} for the JIT and upstream AOT; rules_triton kernels compiled with "
            f"Triton {manifest.get('triton', '?')} for {', '.join(manifest.get('targets', []))}; gcc {env['gcc']}."
        )
    facts: dict = {}
    sections = [
        ("matmul", "fp16 matmul", lambda r: matmul_tables(r)),
        ("launch", "Launch cost, host ns per launch (128^3 matmul, one thread block)", lambda r: (launch_table(r), {})),
        (
            "dispatch",
            "Dispatcher cost on the CPU (no-op driver)",
            lambda r: (lambda t: (t[0], {"dispatch_ns": t[1]}))(dispatch_table(r)),
        ),
        ("correctness", "Correctness matrix", lambda r: (correctness_summary(r), {})),
        ("isolation", "Threads, contexts, devices", lambda r: (isolation_summary(r), {})),
    ]
    for step, title, render_step in sections:
        result, why = _step(results, step)
        if result is None:
            parts.append(f"### {title}\n\n{why}")
            continue
        text, found = render_step(result)
        facts.update(found)
        parts.append(f"### {title}\n\n{text}")
    parts.append("### Targets\n\n" + targets_table(facts))
    return "\n\n".join(parts) + "\n"


def targets_table(facts: dict) -> str:
    rows = []
    ratio = facts.get("ours_vs_cublas_4096")
    rows.append(["best algo >= 97% of cuBLAS at 4096", f"{ratio:.1%}" if ratio else "-", _met(ratio and ratio >= 0.97)])
    worst = facts.get("worst_ours_vs_upstream")
    shown = f"worst ours/upstream {worst[0]:.3f} ({worst[1]}, {worst[2]})" if worst else "-"
    rows.append(["never slower than upstream AOT, same config", shown, _met(worst and worst[0] >= 0.98)])
    dispatch = facts.get("dispatch_ns")
    rows.append(
        [
            "dispatcher <= 20 ns over a direct variant call",
            f"{dispatch:.1f} ns" if dispatch is not None else "-",
            _met(dispatch is not None and dispatch <= 20),
        ]
    )
    auto = facts.get("auto_vs_unhinted")
    rows.append(
        [
            "auto specialisation >= 20x the unhinted kernel at 4096",
            f"{auto:.1f}x" if auto else "-",
            _met(auto and auto >= 20),
        ]
    )
    return (
        _table(["target", "measured", "met"], rows)
        + "\n\n(ours/upstream counts as not slower within 2%, the run-to-run noise of do_bench medians.)"
    )


def _met(value) -> str:
    return "yes" if value else "NO"
