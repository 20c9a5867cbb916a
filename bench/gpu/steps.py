"""The step runner of the one-go scripts on the GPU machine (run.py, tma.py): every step asked
for runs and is recorded, its result or its error and its seconds, whatever the steps before it
did; then the results are written as JSON and as the script's markdown report."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from pathlib import Path


def new_results() -> dict:
    """The results of a run that starts now, before its first step."""
    return {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "steps": {}}


def run_steps(
    runner: object,
    steps: tuple[str, ...],
    *,
    only: str,
    always: tuple[str, ...],
    results: dict,
    out: Path,
    json_name: str,
    markdown_name: str,
    render: Callable[[dict], str],
) -> None:
    """Runs `runner.step_STEP()` for each STEP of `steps`, in order, that `only` names (comma-
    separated; empty: every step) or `always` holds, into results["steps"][STEP]; then writes
    `results` to OUT/JSON_NAME and `render(results)` to OUT/MARKDOWN_NAME, and prints the latter."""
    chosen = set(only.split(",")) if only else set(steps)
    for step in steps:
        if step not in chosen and step not in always:
            continue
        print(f"== {step}", flush=True)
        start = time.monotonic()
        try:
            results["steps"][step] = {"ok": True, "result": getattr(runner, f"step_{step}")()}
        except Exception:  # a broken step must not hide the others' results
            traceback.print_exc()
            results["steps"][step] = {"ok": False, "error": traceback.format_exc()[-3000:]}
        results["steps"][step]["seconds"] = round(time.monotonic() - start, 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / json_name).write_text(json.dumps(results, indent=1, default=str))
    text = render(results)
    (out / markdown_name).write_text(text)
    print(text)
