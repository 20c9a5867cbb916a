"""Generates rules_triton's C sources for the GPU benchmark, on the build machine (no GPU):
`ttlink compile` for every kernel x config x specialisation and `ttlink link` per kernel,
plus the target-choice builds (TARGET_BUILDS, in `targets/`), into a folder that travels to
the GPU machine (`run.py --ours`).

    /tmp/tt39/bin/python bench/gpu/prepare.py [--out .device/gpu/ours] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kernels import KERNELS, TARGET_BUILDS, TARGETS, Kernel

REPO = Path(__file__).resolve().parents[2]
TARGET_BUILDS_DIR = "targets"


def ttlink_env() -> dict:
    """The environment for `python -m ttlink`: this checkout's ttlink first, then whatever
    path already provides Triton (a venv, or the Bazel test's PYTHONPATH)."""
    inherited = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), *([inherited] if inherited else [])]))


def compile_variant(
    kernel: Kernel,
    index: int,
    spec_index: int,
    out_dir: Path,
    env: dict,
    targets: tuple[str, ...] = TARGETS,
    embed_ptx: bool = False,
) -> None:
    config, spec = kernel.configs[index], kernel.specialisations[spec_index]
    command = [sys.executable, "-m", "ttlink", "compile", str(REPO / kernel.source), "-n", kernel.function]
    command += ["-s", kernel.signature(config, spec), "-g", kernel.grid(config)]
    command += ["-w", str(config.num_warps), "-ns", str(config.num_stages), "-on", kernel.out_name]
    command += ["-o", str(out_dir / kernel.variant_stem(index, spec))]
    for target in targets:
        command += ["--target", target]
    if embed_ptx:
        command.append("--embed-ptx")
    subprocess.run(command, check=True, cwd=REPO, env=env)


def link(kernel: Kernel, out_dir: Path, env: dict) -> None:
    """`{out}_linked`: every variant in OUT_DIR; `{out}_linked_examples`: examples/BUILD.bazel's."""
    command = [sys.executable, "-m", "ttlink", "link", "-o"]
    every = [
        out_dir / f"{kernel.variant_stem(i, s)}.h" for i in range(len(kernel.configs)) for s in kernel.specialisations
    ]
    subprocess.run([*command, str(out_dir / f"{kernel.out_name}_linked"), *map(str, every)], check=True, env=env)
    if kernel.example_specs:
        subset = [out_dir / f"{kernel.variant_stem(i, s)}.h" for i, s in kernel.example_variants()]
        subprocess.run(
            [*command, str(out_dir / f"{kernel.out_name}_linked_examples"), *map(str, subset)], check=True, env=env
        )


def compile_target_builds(out_dir: Path, env: dict) -> None:
    """Each TARGET_BUILDS variant as `{out_dir}/{its out name}_0_{specialisation}.{c,h}`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for target in TARGET_BUILDS:
        compile_variant(target.compiled, 0, 0, out_dir, env, target.targets, target.embed_ptx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / ".device" / "gpu" / "ours")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    env = ttlink_env()
    for kernel in KERNELS:
        out_dir = args.out / kernel.out_name
        out_dir.mkdir(parents=True, exist_ok=True)
        jobs = [(i, s) for i in range(len(kernel.configs)) for s in range(len(kernel.specialisations))]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            list(pool.map(lambda job, k=kernel, d=out_dir: compile_variant(k, *job, d, env), jobs))
        link(kernel, out_dir, env)
    compile_target_builds(args.out / TARGET_BUILDS_DIR, env)
    import triton

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    manifest = {
        "triton": triton.__version__,
        "targets": list(TARGETS),
        "kernels": [k.out_name for k in KERNELS],
        "commit": git("rev-parse", "--short", "HEAD"),
        "ttlink_modified": bool(git("status", "--porcelain", "--", "ttlink", "examples")),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
