"""Builds everything the GPU benchmark runs, on the GPU machine: upstream AOT libraries
(Triton's own compile.py and link.py), rules_triton libraries from the sources that
`prepare.py` generated, and the C harnesses."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kernels import Kernel

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RUNTIME_DIR = REPO / "ttlink" / "runtime"
UPSTREAM_PREFIX = "up_"  # upstream's out names, so no symbol is shared with ours


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def cuda_include_dir() -> Path:
    """cuda.h from the installed Triton wheel (the headers upstream's generated C expects)."""
    import triton

    return Path(triton.__file__).parent / "backends" / "nvidia" / "include"


def libcuda_path() -> str:
    """The driver library, for linking what calls the driver directly (upstream, harnesses):
    the one the dynamic linker's cache lists, else the one PyTorch loaded."""
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        if line.strip().startswith("libcuda.so.1 ") and "x86-64" in line:
            return line.split("=>")[-1].strip()
    import torch

    torch.cuda.init()
    for line in Path("/proc/self/maps").read_text().splitlines():
        if line.endswith("libcuda.so.1") or "/libcuda.so." in line:
            return line.split()[-1]
    raise RuntimeError("libcuda.so.1 not found")


def cc(sources: list[Path], output: Path, *, shared: bool, extra: tuple[str, ...] = ()) -> None:
    command = ["gcc", "-O2", "-g", "-std=gnu17", "-fPIC", f"-I{cuda_include_dir()}", f"-I{HERE}"]
    if shared:
        # -Bsymbolic: calls inside a library bind to its own functions, never another's
        command += ["-shared", "-Wl,-Bsymbolic"]
    command += [str(s) for s in sources] + ["-o", str(output), *extra, "-ldl", "-lpthread", "-lm"]
    subprocess.run(command, check=True)


def build_harness(name: str, build_dir: Path, link_driver: bool = True) -> Path:
    exe = build_dir / name
    cc([HERE / f"{name}.c"], exe, shared=False, extra=(libcuda_path(),) if link_driver else ())
    return exe


@dataclass(frozen=True)
class UpstreamVariant:
    config_index: int
    spec: str
    symbol: str  # the variant's entry point, `{out}_{hash}_{suffix}`
    algo_function: str  # link.py's per-algo dispatcher that tries this variant
    shared: int  # dynamic shared memory of its launch, bytes
    threads: int
    header: Path


def _upstream_compile_one(kernel: Kernel, source: Path, out_dir: Path, index: int, spec_index: int, env: dict) -> Path:
    config, spec = kernel.configs[index], kernel.specialisations[spec_index]
    stem = out_dir / kernel.variant_stem(index, spec)
    command = [sys.executable, "-m", "triton.tools.compile", str(source), "-n", kernel.function]
    command += ["-s", kernel.signature(config, spec), "-g", kernel.grid(config)]
    command += ["-w", str(config.num_warps), "-ns", str(config.num_stages)]
    command += ["-on", UPSTREAM_PREFIX + kernel.out_name, "-o", str(stem)]
    subprocess.run(command, check=True, env=env)
    (header,) = out_dir.glob(f"{stem.name}.*.h")
    return header


def compile_upstream(kernel: Kernel, source: Path, build_dir: Path, cache_dir: Path) -> list[UpstreamVariant]:
    """compile.py for every config x specialisation, in table order."""
    out_dir = build_dir / f"upstream_{kernel.out_name}"
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TRITON_CACHE_DIR=str(cache_dir))
    jobs = [(i, s) for i in range(len(kernel.configs)) for s in range(len(kernel.specialisations))]
    with ThreadPoolExecutor(max_workers=8) as pool:
        headers = list(pool.map(lambda job: _upstream_compile_one(kernel, source, out_dir, *job, env), jobs))
    variants = []
    for (index, spec_index), header in zip(jobs, headers, strict=True):
        directive = re.search(r"// tt-linker: (\w+):(.+):(\w+)", header.read_text())
        symbol, algo_info = directive.group(1), directive.group(3)
        launch = re.search(
            r"cuLaunchKernel\(\w+, gX, gY, gZ, (\d+) \* (\d+), 1, 1, (\d+),", header.with_suffix(".c").read_text()
        )
        variants.append(
            UpstreamVariant(
                config_index=index,
                spec=kernel.specialisations[spec_index].name,
                symbol=symbol,
                algo_function=f"{UPSTREAM_PREFIX}{kernel.out_name}_{algo_info}",
                shared=int(launch.group(3)),
                threads=int(launch.group(1)) * int(launch.group(2)),
                header=header,
            )
        )
    return variants


def link_upstream(variants: list[UpstreamVariant], library: Path) -> Path:
    """link.py over the variants' headers in table order (it numbers algos in header order),
    gcc into one shared library."""
    headers = [v.header for v in variants]
    linked = library.parent / f"{library.stem}_linked"
    subprocess.run([sys.executable, "-m", "triton.tools.link", *map(str, headers), "-o", str(linked)], check=True)
    sources = [h.with_suffix(".c") for h in headers] + [linked.with_suffix(".c")]
    # compile.py's C calls exit() without including stdlib.h
    cc(sources, library, shared=True, extra=("-include", "stdlib.h", libcuda_path()))
    return library


def build_ours(kernel: Kernel, ours_dir: Path, build_dir: Path, examples_only: bool = False) -> Path:
    """The variant sources and the dispatcher `ttlink` generated, plus the ttlink runtime.
    No -lcuda: the runtime finds the driver with dlopen. EXAMPLES_ONLY: examples/BUILD.bazel's
    variants and their dispatcher."""
    source_dir = ours_dir / kernel.out_name
    build_dir.mkdir(parents=True, exist_ok=True)
    if examples_only:
        variants = kernel.example_variants()
        library, linked = build_dir / f"lib{kernel.out_name}_examples.so", f"{kernel.out_name}_linked_examples.c"
    else:
        variants = [(i, s) for i in range(len(kernel.configs)) for s in kernel.specialisations]
        library, linked = build_dir / f"lib{kernel.out_name}.so", f"{kernel.out_name}_linked.c"
    sources = [source_dir / f"{kernel.variant_stem(i, s)}.c" for i, s in variants] + [source_dir / linked]
    return build_with_runtime(sources, library)


def build_with_runtime(sources: list[Path], library: Path) -> Path:
    """Generated C (whose headers sit beside it) and the ttlink runtime, as one shared library."""
    includes = [f"-I{RUNTIME_DIR}", *dict.fromkeys(f"-I{s.parent}" for s in sources)]
    cc(sources + sorted(RUNTIME_DIR.glob("*.c")), library, shared=True, extra=tuple(includes))
    return library
