"""The tensor-descriptor (TMA) examples on the GPU machine, in one run: the persistent matmul
(examples/tma_matmul.py) and FlashAttention forward (examples/attention.py), the Triton JIT
and rules_triton's build of the same sources with the same Triton against cuBLAS and torch's
scaled_dot_product_attention.

    python3 bench/gpu/tma.py --out DIR [--only STEP,...] [--sources DIR ...]

Steps (STEPS):
  check_jit  every config of both kernels through the JIT against torch (odd sizes, a padded
             row stride, NaN-poisoned outputs inside NaN guards)
  tune       candidate configs through the JIT (TUNE_*): matmul against cuBLAS at 4096 and
             8192, attention against SDPA
  build      `ttlink compile` + `ttlink link` of every config x hint set (bench/gpu/tma_build.py,
             this machine's Triton, this GPU's target), the libraries and examples/tma_gpu_test.c;
             the same from each --sources folder (generated on the build machine, e.g. with the
             shipping Triton 3.9: a second AOT build beside the JIT's compiler)
  check_aot  every algo of each AOT build through ctypes, the check_jit cases
  c_test     examples/tma_gpu_test.c of each AOT build: C callers, odd sizes, and inputs TMA
             cannot take refused
  bench      matmul at 4096, 8192 and 4001 (padded rows): cuBLAS, the JIT and each AOT build
             per config; attention, causal and not, head dim 64 and 128: SDPA, the JIT, ours
Writes DIR/tma.json and DIR/tma.md. A failing step is recorded and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import steps  # noqa: E402
import tma_build  # noqa: E402
import tma_cases as cases  # noqa: E402
import tma_kernels  # noqa: E402
import tma_report  # noqa: E402
import torch  # noqa: E402
import triton  # noqa: E402
from tma_kernels import AttentionConfig, MatmulConfig  # noqa: E402
from tma_report import JIT  # noqa: E402

STEPS = ("environment", "check_jit", "tune", "build", "check_aot", "c_test", "bench")
OURS = "rules_triton"
ROUNDS = 5
ROUNDS_BENCH = 7
BENCH_SIZES = (4096, 8192)
# The odd size of the benchmark: rows of 4001 halves padded to 4008 (16 bytes).
ODD = cases.MatmulCase("4001, rows padded", 4001, 4001, 4001, pad=7)
# Attention timing shape: batch 4, 32 heads of 64 (a model width of 2048) or 16 of 128.
ATTENTION_BENCH = {64: (4, 32, 4096), 128: (4, 16, 4096)}
# Candidates beside the examples' configs; the first run also tried 256x128x64 w8 s3,
# 128x128x64 w8 s4 and w4 s5 (slower at both sizes) and, for attention, BLOCK_N 64 with 4
# and 8 warps and 3 or 4 stages, BLOCK_M 64 (docs/PERFORMANCE.md).
TUNE_MATMUL = (
    *tma_kernels.MATMUL_CONFIGS,
    MatmulConfig(128, 256, 64, 8, 8, 3),
    MatmulConfig(128, 256, 64, 4, 8, 3),
)
TUNE_ATTENTION = (
    *tma_kernels.ATTENTION_CONFIGS,
    AttentionConfig(64, 128, 64, 4, 3),
    AttentionConfig(64, 128, 128, 4, 4),
    AttentionConfig(128, 128, 64, 8, 3),
    AttentionConfig(128, 128, 64, 8, 4),
)


def timed_rounds(contenders: list[tuple[str, object]], rounds: int, seed: int = 5) -> dict[str, list[float]]:
    """ms of each (name, launch) per round, do_bench (L2 flushed) in a shuffled order per
    round: under the power cap a kernel's speed depends on what ran before it."""
    rng = random.Random(seed)
    timings: dict[str, list[float]] = {}
    for _ in range(rounds):
        order = list(contenders)
        rng.shuffle(order)
        for name, launch in order:
            ms = triton.testing.do_bench(launch, warmup=10, rep=50, return_mode="median")
            timings.setdefault(name, []).append(ms)
    return timings


def _race(case: str, contenders: list[tuple], errors: list[float], flops: float, rounds: int) -> list[dict]:
    """Rows of (contender, config, launch) timed against each other; the first is the library
    baseline (cuBLAS, SDPA), whose GPU kernels are named."""
    timings = timed_rounds([(f"{x}|{y}", launch) for x, y, launch in contenders], rounds)
    rows = []
    for (contender, config, _), error in zip(contenders, errors, strict=True):
        runs = timings[f"{contender}|{config}"]
        ms = statistics.median(runs)
        rows.append(
            {"case": case, "contender": contender, "config": config, "ms": ms, "tflops": flops / ms / 1e9,
             "ms_rounds": runs, "rel_error": error}
        )  # fmt: skip
        print(f"{case} {contender} {config}: {flops / ms / 1e9:.1f} TFLOP/s, relative error {error:.1e}")
    rows.append({"case": case, "contender": "library kernels", "kernels": gpu_kernels(contenders[0][2])})
    return rows


def _launched(launch, out: torch.Tensor) -> torch.Tensor:
    """OUT after one launch, NaN-filled before it: a launch that wrote nothing shows as NaN."""
    out.fill_(float("nan"))
    launch()
    torch.cuda.synchronize()
    return out


def gpu_kernels(launch) -> list[str]:
    """The GPU kernels one call of LAUNCH runs (what cuBLAS or SDPA chose)."""
    from torch.profiler import ProfilerActivity, profile

    launch()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as trace:
        launch()
        torch.cuda.synchronize()
    return sorted({event.key for event in trace.key_averages() if event.device_type.name == "CUDA"})


class Run:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.results = steps.new_results()
        self.matmul = cases.load_kernel(cases.MATMUL_SOURCE, "matmul_tma_kernel")
        self.attention = cases.load_kernel(cases.ATTENTION_SOURCE, "attention_fwd_kernel")
        self.build_dir = Path(tempfile.mkdtemp(prefix="tma-"))
        # label -> the dispatchers ("tma_matmul", "attention") and the C test of one AOT build
        self.builds: dict[str, dict] = {}

    def step_environment(self) -> dict:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,clocks.max.sm,power.limit", "--format=csv,noheader"],
            capture_output=True, text=True,
        )  # fmt: skip
        return {
            "gpus": smi.stdout.strip().splitlines(),
            "sms": cases.num_sms(),
            "torch": torch.__version__,
            "triton": triton.__version__,
            "python": platform.python_version(),
        }

    def _matmul_launch(self, build: str, config: MatmulConfig, a, b, c):
        if build == JIT:
            return cases.matmul_jit(self.matmul, config, a, b, c)
        return cases.matmul_aot(self.builds[build]["tma_matmul"], config, a, b, c)

    def _attention_launch(self, build: str, config: AttentionConfig, causal: bool, q, k, v, o, scale: float):
        if build == JIT:
            return cases.attention_jit(self.attention, config, causal, q, k, v, o, scale)
        return cases.attention_aot(self.builds[build]["attention"], config, causal, q, k, v, o, scale)

    def _check(self, build: str) -> list[dict]:
        """Every config of both kernels, built by BUILD, on every check case."""
        rows = []
        for config in tma_kernels.MATMUL_CONFIGS:
            for case in cases.MATMUL_CASES:
                a, b, c, reference = cases.matmul_operands(case)
                launch = self._matmul_launch(build, config, a, b, c)
                rows.append(
                    {"kernel": "matmul", "config": config.name, **cases.check_matmul(launch, case, c, reference)}
                )
        for config in tma_kernels.ATTENTION_CONFIGS:
            for causal in (False, True):
                for case in cases.ATTENTION_CASES:
                    q, k, v, o = cases.attention_operands(case.z, case.h, case.n_ctx, config.head_dim)
                    scale = cases.default_scale(config.head_dim)
                    reference = cases.attention_reference(q, k, v, causal, scale)
                    launch = self._attention_launch(build, config, causal, q, k, v, o, scale)
                    row = cases.check_attention(launch, case.name, o, reference)
                    rows.append({"kernel": "attention", "config": config.name(causal), **row})
        for row in rows:
            verdict = "ok" if row["correct"] else "FAIL"
            print(f"{row['kernel']} {row['config']} {row['case']}: {row['rel_error']:.2e} {verdict}")
        return rows

    def step_check_jit(self) -> list[dict]:
        return self._check(JIT)

    def step_tune(self) -> dict:
        sizes = [cases.MatmulCase(f"square {n}", n, n, n) for n in BENCH_SIZES]
        return {
            "matmul": self._race_matmul(sizes, TUNE_MATMUL, (JIT,), ROUNDS),
            "attention": self._race_attention(TUNE_ATTENTION, (JIT,), ROUNDS),
        }

    def step_build(self) -> dict:
        """Generates the sources with this machine's Triton for this GPU, then builds them and
        each --sources folder."""
        major, minor = torch.cuda.get_device_capability()
        started = time.monotonic()
        here = self.build_dir / "sources"
        tma_build.generate(here, f"cuda:{major}{minor}")
        generated = time.monotonic()
        result = {"seconds_generate": round(generated - started, 1), "builds": {}}
        for number, sources in enumerate([here, *map(Path, self.args.sources)]):
            manifest = json.loads((sources / "manifest.json").read_text())
            label = OURS if number == 0 else f"{OURS} (Triton {manifest['triton']})"
            build_dir = self.build_dir / f"build{number}"
            build_dir.mkdir()
            libraries = tma_build.build_libraries(sources, build_dir)
            self.builds[label] = {
                "tma_matmul": cases.matmul_dispatcher(libraries["tma_matmul"]),
                "attention": cases.attention_dispatcher(libraries["attention"]),
                "c_test": tma_build.build_c_test(sources, build_dir),
            }
            algos = {name: self.builds[label][name].algos for name in ("tma_matmul", "attention")}
            result["builds"][label] = {**manifest, "algos": algos}
        return result

    def step_check_aot(self) -> dict[str, list[dict]]:
        return {label: self._check(label) for label in self.builds}

    def step_c_test(self) -> dict[str, dict]:
        runs = {}
        for label, build in self.builds.items():
            done = subprocess.run([str(build["c_test"])], capture_output=True, text=True, timeout=300)
            print(label, done.stdout[-4000:], done.stderr[-2000:])
            runs[label] = {"exit_code": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-2000:]}
        return runs

    def step_bench(self) -> dict:
        sizes = [cases.MatmulCase(f"square {n}", n, n, n) for n in BENCH_SIZES] + [ODD]
        builds = (JIT, *self.builds)
        return {
            "matmul": self._race_matmul(sizes, tma_kernels.MATMUL_CONFIGS, builds, ROUNDS_BENCH),
            "attention": self._race_attention(tma_kernels.ATTENTION_CONFIGS, builds, ROUNDS_BENCH),
        }

    def _race_matmul(self, sizes: list, configs: tuple, builds: tuple[str, ...], rounds: int) -> list[dict]:
        """Per size: cuBLAS and each BUILD of each config, timed in ROUNDS shuffled rounds."""
        rows = []
        for case in sizes:
            a, b, c, reference = cases.matmul_operands(case)
            contenders = [("cuBLAS", "", cases.matmul_cublas(a, b, c))]
            contenders += [(x, y.name, self._matmul_launch(x, y, a, b, c)) for y in configs for x in builds]
            errors = [cases.relative_error(_launched(launch, c), reference) for _, _, launch in contenders]
            rows += _race(case.name, contenders, errors, 2.0 * case.m * case.n * case.k, rounds)
        return rows

    def _race_attention(self, configs: tuple, builds: tuple[str, ...], rounds: int) -> list[dict]:
        """Per head dim and causality: SDPA and each BUILD of each config of that head dim."""
        rows = []
        for head_dim, (z, h, n_ctx) in ATTENTION_BENCH.items():
            q, k, v, o = cases.attention_operands(z, h, n_ctx, head_dim)
            scale = cases.default_scale(head_dim)
            for causal in (False, True):
                mine = [config for config in configs if config.head_dim == head_dim]
                contenders = [("SDPA", "", cases.attention_sdpa(q, k, v, causal, scale))]
                contenders += [
                    (x, y.name(causal), self._attention_launch(x, y, causal, q, k, v, o, scale))
                    for y in mine
                    for x in builds
                ]
                reference = cases.attention_reference(q, k, v, causal, scale)
                errors = [cases.relative_error(_launched(launch, o), reference) for _, _, launch in contenders[1:]]
                sdpa_error = cases.relative_error(contenders[0][2](), reference)
                del reference
                name = f"d{head_dim} {'causal' if causal else 'non-causal'}, Z {z} H {h} N_CTX {n_ctx}"
                flops = cases.attention_flops(z, h, n_ctx, head_dim, causal)
                rows += _race(name, contenders, [sdpa_error, *errors], flops, rounds)
        return rows

    def run(self) -> None:
        steps.run_steps(
            self,
            STEPS,
            only=self.args.only,
            always=("environment",),
            results=self.results,
            out=Path(self.args.out),
            json_name="tma.json",
            markdown_name="tma.md",
            render=tma_report.markdown,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.environ.get("OUT", "bench-gpu-out"))
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument(
        "--sources", action="append", default=[], help="tma_build.py output built elsewhere (e.g. Triton 3.9)"
    )
    Run(parser.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
