"""Builds the tensor-descriptor examples ahead of time: `generate` runs `ttlink compile` /
`ttlink link` with the running Python's Triton (compiling needs no GPU) for every config x
hint set of examples/tma_matmul.py and examples/attention.py, writing the dispatchers
`tma_matmul` and `attention` as DIR/examples/{name}.{c,h} (the names examples/tma_gpu_test.c
includes, as Bazel lays them out) and DIR/manifest.json; `build_libraries` and `build_c_test`
turn such a folder into one shared library per dispatcher (with the ttlink runtime) and
examples/tma_gpu_test.c, with plain cc.

On the build machine, for `bench/gpu/tma.py --sources DIR` on the GPU machine:

    /tmp/tt39/bin/python bench/gpu/tma_build.py --out .device/tma39 [--target cuda:90]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import build
import prepare
from tma_kernels import Variant, variants

REPO = build.REPO


def compile_variant(variant: Variant, target: str, out_dir: Path) -> Path:
    command = [sys.executable, "-m", "ttlink", "compile", variant.source, "-n", variant.function]
    command += ["-s", variant.signature, "-g", variant.grid, "-w", str(variant.num_warps)]
    command += ["-ns", str(variant.num_stages), "--target", target, "-on", variant.out_name]
    command += ["-o", str(out_dir / variant.stem)]
    subprocess.run(command, check=True, cwd=REPO, env=prepare.ttlink_env())
    return out_dir / f"{variant.stem}.h"


def generate(out_dir: Path, target: str) -> None:
    """Every variant's C and the two dispatchers in OUT_DIR/examples; the Triton version in
    OUT_DIR/manifest.json."""
    import triton

    generated = out_dir / "examples"
    generated.mkdir(parents=True, exist_ok=True)
    every = variants()
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        headers = list(pool.map(lambda v: compile_variant(v, target, generated), every))
    for out_name in dict.fromkeys(v.out_name for v in every):
        mine = [h for v, h in zip(every, headers, strict=True) if v.out_name == out_name]
        link = [sys.executable, "-m", "ttlink", "link", "-o", str(generated / out_name), *map(str, mine)]
        subprocess.run(link, check=True, env=prepare.ttlink_env())
    manifest = {"triton": triton.__version__, "target": target, "variants": len(every)}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def build_libraries(sources_dir: Path, build_dir: Path) -> dict[str, Path]:
    """The shared library of each dispatcher in SOURCES_DIR/examples, with its variants."""
    generated = sources_dir / "examples"
    libraries = {}
    for out_name in ("tma_matmul", "attention"):
        sources = sorted(generated.glob(f"{out_name}_*.c")) + [generated / f"{out_name}.c"]
        libraries[out_name] = build.build_with_runtime(sources, build_dir / f"lib{out_name}.so")
    return libraries


def build_c_test(sources_dir: Path, build_dir: Path) -> Path:
    """examples/tma_gpu_test.c against the dispatchers in SOURCES_DIR, with plain cc."""
    generated = sorted((sources_dir / "examples").glob("*.c"))
    sources = [REPO / "examples" / "tma_gpu_test.c", REPO / "examples" / "cuda_driver.c", *generated]
    sources += sorted(build.RUNTIME_DIR.glob("*.c"))
    exe = build_dir / "tma_gpu_test"
    includes = [f"-I{REPO}", f"-I{sources_dir}", f"-I{sources_dir / 'examples'}", f"-I{build.RUNTIME_DIR}"]
    build.cc(sources, exe, shared=False, extra=(*includes, "-Wall", "-Wextra", "-Werror"))
    return exe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--target", default="cuda:90")
    args = parser.parse_args()
    generate(args.out, args.target)


if __name__ == "__main__":
    main()
