"""The lookup cost of K_autotuned on the CPU (no GPU needed): builds the example matmul's three
configs (generic variants, cuda:90) linked with --tuning examples/matmul_record.bzl, and
autotune_cost.c against the no-op driver; prints autotune_cost.c's JSON lines.

    python bench/gpu/autotune_cost.py [BUILD_DIR]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from build import HERE, REPO, RUNTIME_DIR, cc

# The example's configs (examples/matmul_configs.bzl): BLOCK_SIZE_M, N, K, warps, stages.
CONFIGS = ((64, 128, 32, 4, 4), (128, 128, 32, 4, 4), (128, 256, 64, 8, 3))
SIGNATURE = "*fp16, *fp16, *fp16" + ", i32" * 9 + ", {}, {}, {}, 8"
GRID = "((M + {0} - 1) / {0}) * ((N + {1} - 1) / {1}), 1, 1"


def measure(build_dir: Path) -> list[dict]:
    build_dir.mkdir(parents=True, exist_ok=True)
    sources = []
    for m, n, k, warps, stages in CONFIGS:
        out = build_dir / f"matmul_{m}x{n}x{k}"
        command = [
            sys.executable,
            "-m",
            "ttlink",
            "compile",
            str(REPO / "examples" / "matmul.py"),
            "-n",
            "matmul_kernel",
        ]
        command += ["-s", SIGNATURE.format(m, n, k), "-w", str(warps), "-ns", str(stages), "--target", "cuda:90"]
        command += ["-g", GRID.format(m, n), "-on", "matmul", "-o", str(out)]
        subprocess.run(command, check=True, cwd=REPO)
        sources.append(out)
    link = [sys.executable, "-m", "ttlink", "link", *(f"{s}.h" for s in sources), "-o", str(build_dir / "tuned")]
    subprocess.run([*link, "--tuning", str(REPO / "examples" / "matmul_record.bzl")], check=True, cwd=REPO)
    cc([HERE / "noop_cuda.c"], build_dir / "noop_cuda.so", shared=True)
    program = build_dir / "autotune_cost"
    files = [HERE / "autotune_cost.c", build_dir / "tuned.c", *(Path(f"{s}.c") for s in sources)]
    cc(
        [*files, RUNTIME_DIR / "ttlink_runtime.c"],
        program,
        shared=False,
        extra=("-include", str(build_dir / "tuned.h"), f"-I{RUNTIME_DIR}"),
    )
    env = {"TTLINK_LIBCUDA_PATH": str(build_dir / "noop_cuda.so"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(program)], capture_output=True, text=True, env=env, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        for record in measure(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(scratch)):
            print(json.dumps(record))
