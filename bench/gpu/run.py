"""The GPU benchmark, in one go on the GPU machine: builds upstream AOT and rules_triton
libraries and the C harnesses, then runs the steps (STEPS): the correctness matrix, which
binary the driver runs (targets), the thread / context / device checks (and a race on the
first launches after an unload), the matmul benchmark, the shared-memory carveout
experiment, launch cost, dispatcher cost on the CPU and cycles under Nsight Compute, and
ends with the side-by-side tables.

    python3 bench/gpu/run.py [--ours .device/gpu/ours] [--out DIR] [--only STEP,...]

`--ours` names folders of C sources that `bench/gpu/prepare.py` generated on the build
machine, the shipping toolchain's first (default: .device/gpu/ours, then .device/gpu/ours36,
a build with the GPU machine's Triton that isolates the AOT machinery from the compiler).
Writes results.json and report.md to --out ($OUT when set). A failing step is recorded
and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import build
import prepare
import report
import steps
from kernels import KERNELS, MATMUL

STEPS = (
    "environment",
    "build",
    "correctness",
    "targets",
    "isolation",
    "matmul",
    "carveout",
    "launch",
    "dispatch",
    "cycles",
)
NCU_METRICS = (
    "gpu__time_duration.sum",
    "gpc__cycles_elapsed.max",
    "sm__cycles_elapsed.avg.per_second",
    "sm__throughput.avg.pct_of_peak_sustained_elapsed",
)


def _json_lines(command: list[str], timeout: int = 120) -> dict:
    """Runs a harness; its JSON lines, exit code and any stderr."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    lines = []
    for line in done.stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            lines.append({"text": line})
    shown = " ".join([Path(command[0]).name, *command[1:]])
    return {"command": shown, "exit_code": done.returncode, "lines": lines, "stderr": done.stderr[-2000:]}


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.build_dir = Path(tempfile.mkdtemp(prefix="bench-gpu-"))
        self.results = steps.new_results()
        self.ours: dict = {}  # out name -> [(library path, LinkedLibrary)], the main build first
        self.upstream: dict = {}  # out name -> (library path, LinkedLibrary, [UpstreamVariant])
        self.examples: dict = {}  # out name -> [LinkedLibrary]: examples/BUILD.bazel's variants only
        self.harness: dict[str, Path] = {}

    def source(self, kernel) -> Path:
        return Path(self.args.examples) / Path(kernel.source).name

    def step_environment(self) -> dict:
        import torch
        import triton

        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm", "--format=csv,noheader"],
            capture_output=True, text=True,
        )  # fmt: skip
        return {
            "gpus": smi.stdout.strip().splitlines(),
            "torch": torch.__version__,
            "triton_on_gpu_machine": triton.__version__,
            "cuda_runtime": torch.version.cuda,
            "python": platform.python_version(),
            "cpu": build.cpu_name(),
            "gcc": subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip(),
            "ours_manifests": [_read_json(Path(d) / "manifest.json") for d in self.args.ours],
        }

    def step_build(self) -> dict:
        import libs

        built = {}
        cache = self.build_dir / "triton-cache"
        for kernel in KERNELS:
            out = kernel.out_name
            variants = build.compile_upstream(kernel, self.source(kernel), self.build_dir, cache)
            path = build.link_upstream(variants, self.build_dir / f"lib{build.UPSTREAM_PREFIX}{out}.so")
            self.upstream[out] = (path, libs.load_upstream(path, kernel, variants, "upstream AOT"), variants)
            built[f"upstream {out}"] = str(path)
            for number, ours_dir in enumerate(map(Path, self.args.ours)):
                manifest = _read_json(ours_dir / "manifest.json")
                label = "rules_triton" if number == 0 else f"rules_triton (Triton {manifest['triton']})"
                path = build.build_ours(kernel, ours_dir, self.build_dir / f"ours{number}")
                self.ours.setdefault(out, []).append((path, libs.load_ours(path, kernel, ours_dir, label)))
                built[f"{label} {out}"] = str(path)
            if kernel.example_specs and self.args.ours:
                label = "examples' variants only"
                subset = [v for v in variants if v.spec in kernel.example_specs]
                path = build.link_upstream(subset, self.build_dir / f"lib{build.UPSTREAM_PREFIX}{out}_examples.so")
                upstream = libs.load_upstream(path, kernel, subset, f"upstream AOT, {label}")
                ours_dir = Path(self.args.ours[0])
                path = build.build_ours(kernel, ours_dir, self.build_dir / "ours0", examples_only=True)
                ours = libs.load_ours(path, kernel, ours_dir, f"rules_triton, {label}", kernel.example_specs)
                self.examples[out] = [ours, upstream]
        for name in ("isolation", "launch_cost"):
            self.harness[name] = build.build_harness(name, self.build_dir)
        return built

    def _libraries(self, out_name: str) -> list:
        return [library for _, library in self.ours.get(out_name, [])] + [self.upstream[out_name][1]]

    def step_correctness(self) -> list[dict]:
        import correctness
        import torch

        stream = torch.cuda.current_stream().cuda_stream
        rows = []
        for kernel in KERNELS:
            for library in self._libraries(kernel.out_name) + self.examples.get(kernel.out_name, []):
                rows += correctness.as_dicts(correctness.run_matrix(library, stream))
        return rows

    def step_targets(self) -> dict:
        import targets
        import torch

        source_dir = Path(self.args.ours[0]) / prepare.TARGET_BUILDS_DIR
        return targets.run(source_dir, self.build_dir / "targets", torch.cuda.current_stream().cuda_stream)

    def step_isolation(self) -> list[dict]:
        runs = []
        for out_name, library_path in self._matmul_library_paths():
            modes = [["threads", "2"], ["threads", "16"], ["contexts"], ["devices"]]
            if not out_name.startswith(build.UPSTREAM_PREFIX):
                # upstream's unload keeps its CUfunction, so the next launch loads nothing; and
                # its unload does not wait for launches in flight, so racing them is not its contract
                modes += [["reload", "32"], ["unload_race", "16"]]
            for mode in modes:
                run = _json_lines([str(self.harness["isolation"]), str(library_path), out_name, *mode])
                runs.append(
                    {"library": "upstream AOT" if out_name.startswith(build.UPSTREAM_PREFIX) else "rules_triton", **run}
                )
        return runs

    def _matmul_library_paths(self) -> list[tuple[str, Path]]:
        paths = [(MATMUL.out_name, path) for path, _ in self.ours.get(MATMUL.out_name, [])[:1]]
        paths.append((build.UPSTREAM_PREFIX + MATMUL.out_name, self.upstream[MATMUL.out_name][0]))
        return paths

    def step_matmul(self) -> list[dict]:
        import speed

        jit = speed.load_jit_kernel(self.source(MATMUL))
        libraries = self._libraries(MATMUL.out_name)
        return {"rows": speed.bench_matmul(jit, libraries), "back_to_back": speed.bench_back_to_back(jit, libraries)}

    def step_carveout(self) -> dict:
        """The config whose unit-stride kernel needs the most shared memory beyond 48 KiB."""
        import speed

        _, upstream, variants = self.upstream[MATMUL.out_name]
        unit = [v for v in variants if v.spec == "unit_stride" and v.shared > 49152]
        if not unit:
            raise RuntimeError("no unit-stride variant needs more than 48 KiB of shared memory")
        chosen = max(unit, key=lambda v: v.shared)
        ours = [library for _, library in self.ours.get(MATMUL.out_name, [])]
        return {"shared": chosen.shared, **speed.carveout_experiment(upstream, ours, chosen.config_index)}

    def step_launch(self) -> list[dict]:
        """Every path launches config 0's aligned kernel at 128^3 (one thread block); one
        process times them all, interleaved."""
        import speed

        up_path, up, up_variants = self.upstream[MATMUL.out_name]
        raw = next(v for v in up_variants if v.config_index == 0 and v.spec == "aligned")
        paths = [f"raw cuLaunchKernel|raw|{up_path}|{raw.symbol}|{raw.shared}|{raw.threads}"]
        for path, library in self.ours.get(MATMUL.out_name, [])[:1] + [(up_path, up)]:
            algo = next(a for a in library.algos if a.config_index == 0 and "aligned" in a.specs)
            paths += [
                f"{library.label}: variant entry point|variant|{path}|{library.variants[0, 'aligned']}",
                f"{library.label}: {algo.function}|full|{path}|{algo.function}",
                f"{library.label}: {library.name}(..., {algo.algo_id})|algo|{path}|{library.name}|{algo.algo_id}",
            ]
        run = _json_lines([str(self.harness["launch_cost"]), *paths])
        rows = [line for line in run["lines"] if "plain_ns" in line]
        if len(rows) != len(paths):
            raise RuntimeError(f"launch_cost: {run}")
        rows.append({"path": "Triton JIT", **speed.jit_launch_cost(speed.load_jit_kernel(self.source(MATMUL)))})
        return rows

    def step_dispatch(self) -> dict:
        import dispatch_cost

        libraries = self.ours.get(MATMUL.out_name, [])[:1] + [self.upstream[MATMUL.out_name][:2]]
        return dispatch_cost.measure(self.build_dir, libraries)

    def step_cycles(self) -> list[dict]:
        """cycles.py under Nsight Compute without clock control: the second launch of each."""
        import csv
        import io
        import shutil

        import cycles

        installed = sorted(Path("/opt/nvidia").glob("nsight-compute/*/ncu")) + [Path("/usr/local/cuda/bin/ncu")]
        ncu = shutil.which("ncu") or next((str(p) for p in installed if p.is_file()), None)
        if ncu is None:
            raise RuntimeError("ncu not found")
        (ours_path, ours), (up_path, up, _) = self.ours[MATMUL.out_name][0], self.upstream[MATMUL.out_name]
        algos = [next(a for a in lib.algos if a.config_index == 0 and "aligned" in a.specs) for lib in (ours, up)]
        command = [
            str(ncu),
            "--clock-control",
            "none",
            "--csv",
            "--print-units",
            "base",
            "--metrics",
            ",".join(NCU_METRICS),
        ]
        command += ["-k", "regex:nvjet|gemm|cutlass|matmul_kernel", sys.executable, str(build.HERE / "cycles.py")]
        command += [str(ours_path), algos[0].function, str(up_path), algos[1].function, str(self.source(MATMUL))]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        table = [line for line in done.stdout.splitlines() if line.startswith('"')]
        kernels: dict[str, dict] = {}
        for record in csv.DictReader(io.StringIO("\n".join(table))):
            kernel = kernels.setdefault(record["ID"], {"kernel": record["Kernel Name"]})
            kernel[record["Metric Name"]] = float(record["Metric Value"].replace(",", ""))
        launches = list(kernels.values())
        triton = [k for k in launches if "matmul_kernel" in k["kernel"]]
        library = [k for k in launches if "matmul_kernel" not in k["kernel"]]
        each = cycles.LAUNCHES_EACH
        if len(triton) != 3 * each or not library:
            raise RuntimeError(f"ncu: unexpected kernels {[k['kernel'] for k in launches]}: {done.stderr[-1500:]}")
        measured = {"cuBLAS": library[-1]}
        for index, name in enumerate(cycles.CONTENDERS[1:]):
            measured[name] = triton[each * index + each - 1]
        return [{"contender": name, **kernel} for name, kernel in measured.items()]

    def run(self) -> None:
        steps.run_steps(
            self,
            STEPS,
            only=self.args.only,
            always=("environment", "build"),
            results=self.results,
            out=Path(self.args.out),
            json_name="results.json",
            markdown_name="report.md",
            render=report.render,
        )


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_ours = [build.REPO / ".device" / "gpu" / name for name in ("ours", "ours36")]
    parser.add_argument("--ours", nargs="*", default=[str(d) for d in default_ours if d.is_dir()])
    parser.add_argument("--examples", default=str(build.REPO / "examples"), help="directory of the kernel sources")
    parser.add_argument("--out", default=os.environ.get("OUT", "bench-gpu-out"))
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(STEPS)}")
    Bench(parser.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
