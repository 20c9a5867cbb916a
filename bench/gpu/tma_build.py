"""Builds the tensor-descriptor examples ahead of time with `ttlink compile` / `ttlink link`
(the running Python's Triton; compiling needs no GPU): every config x hint set of
examples/tma_matmul.py and examples/attention.py for one target, the dispatchers
`tma_matmul` and `attention` as DIR/examples/{name}.{c,h} (the names examples/tma_gpu_test.c
includes, as Bazel lays them out), one shared library per kernel with the ttlink runtime, and
examples/tma_gpu_test.c with plain cc.

    python3 bench/gpu/tma_build.py --out DIR [--target cuda:90]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import build
from tma_kernels import Variant, variants

REPO = build.REPO


def compile_variant(variant: Variant, target: str, out_dir: Path) -> Path:
    command = [sys.executable, "-m", "ttlink", "compile", variant.source, "-n", variant.function]
    command += ["-s", variant.signature, "-g", variant.grid, "-w", str(variant.num_warps)]
    command += ["-ns", str(variant.num_stages), "--target", target, "-on", variant.out_name]
    command += ["-o", str(out_dir / variant.stem)]
    subprocess.run(command, check=True, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))
    return out_dir / f"{variant.stem}.h"


def build_all(out_dir: Path, target: str) -> dict[str, Path]:
    """Compiles and links every variant; returns the shared library of each dispatcher."""
    generated = out_dir / "examples"
    generated.mkdir(parents=True, exist_ok=True)
    every = variants()
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        headers = list(pool.map(lambda v: compile_variant(v, target, generated), every))
    libraries = {}
    for out_name in dict.fromkeys(v.out_name for v in every):
        mine = [h for v, h in zip(every, headers, strict=True) if v.out_name == out_name]
        linked = generated / out_name
        link = [sys.executable, "-m", "ttlink", "link", "-o", str(linked), *map(str, mine)]
        subprocess.run(link, check=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
        sources = [h.with_suffix(".c") for h in mine] + [linked.with_suffix(".c")]
        libraries[out_name] = build.build_with_runtime(sources, out_dir / f"lib{out_name}.so")
    return libraries


def build_c_test(out_dir: Path) -> Path:
    """examples/tma_gpu_test.c against the generated dispatchers, with plain cc."""
    generated = sorted((out_dir / "examples").glob("*.c"))
    sources = [REPO / "examples" / "tma_gpu_test.c", REPO / "examples" / "cuda_driver.c", *generated]
    sources += sorted(build.RUNTIME_DIR.glob("*.c"))
    exe = out_dir / "tma_gpu_test"
    includes = (f"-I{REPO}", f"-I{out_dir}", f"-I{out_dir / 'examples'}", f"-I{build.RUNTIME_DIR}", "-Wall", "-Werror")
    build.cc(sources, exe, shared=False, extra=includes)
    return exe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--target", default="cuda:90")
    args = parser.parse_args()
    print(build_all(args.out, args.target))
    print(build_c_test(args.out))


if __name__ == "__main__":
    main()
