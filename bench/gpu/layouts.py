"""The layout table (issue 9): the example fp16 matmul on the four A/B layouts at 4096 and at
4001, and `x @ W.T` at M = 16, 128 and 4096 (N = K = 4096), rules_triton against the Triton
JIT of the same source and the same Triton, in one run on the GPU machine.

    python3 bench/gpu/layouts.py --out DIR [--record FILE]

1. Records, with `ttlink record`, what the JIT compiles for these cases and for the shapes of
   autotune_sweep.py (the CASES of tests/record/gpu/record_matmul.py), autotuned over the
   example's three configs, into DIR/matmul_record.bzl, and checks the record
   (`record_matmul.py check`): the file examples/matmul_record.bzl is a copy of. `--record FILE` takes an existing one.
2. Compiles what examples/BUILD.bazel compiles from that record for this GPU's target: per
   config, the generic variant and the recorded hint sets of that config (`ttlink compile`,
   the GPU machine's Triton: the compilers are the same, only the dispatch differs), links
   them into one dispatcher and builds it with the ttlink runtime.
3. Times every config of the JIT and every algo of ours per case (median of ROUNDS shuffled
   rounds of triton.testing.do_bench), checks each product against torch, and writes
   DIR/layouts.json and DIR/layouts.md: best of each, ours / JIT, and which variant ours reached.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import build

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "record" / "gpu"))
import record_matmul  # noqa: E402

from ttlink.record_format import compile_signature, load  # noqa: E402

ROUNDS = 7
GRID = "((M + {BLOCK_SIZE_M} - 1) / {BLOCK_SIZE_M}) * ((N + {BLOCK_SIZE_N} - 1) / {BLOCK_SIZE_N}), 1, 1"
REL_ERROR_BOUND = 2e-3


def record(out: Path) -> Path:
    path = out / "matmul_record.bzl"
    script = REPO / "tests" / "record" / "gpu" / "record_matmul.py"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run(
        [sys.executable, "-m", "ttlink", "record", "-o", str(path), "--", str(script)], check=True, cwd=REPO, env=env
    )
    # A check that fails is reported, and the table still made.
    checked = subprocess.run([sys.executable, str(script), "check", str(path)], cwd=REPO, env=env)
    print(f"record check: exit status {checked.returncode}")
    return path


def variants(record_path: Path) -> tuple[list[str], list[tuple[dict, dict]]]:
    """The kernel's parameters, and (config, hints) of every variant examples/BUILD.bazel
    compiles from the record: per recorded config, generic first, then the recorded hints."""
    ((_, group),) = load(record_path).items()
    built: list[tuple[dict, dict]] = []
    for entry in sorted(group.specializations.values(), key=lambda e: json.dumps(e, sort_keys=True)):
        config = {**entry["constexprs"], "num_warps": entry["num_warps"], "num_stages": entry["num_stages"]}
        hints = {name: arg["hint"] for name, arg in entry["args"].items()}
        generic = {name: None for name in hints}
        for candidate in ((config, generic), (config, hints)):
            if candidate not in built:
                built.append(candidate)
    return list(group.params), built


def compile_library(
    params: list[str], built: list[tuple[dict, dict]], target: str, source_dir: Path, tuning: Path | None = None
) -> Path:
    """The variants' C, their dispatcher (with `tuning`: `ttlink link --tuning`) and the ttlink
    runtime as one shared library, in SOURCE_DIR."""
    source_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO))

    def compile_one(index: int) -> Path:
        config, hints = built[index]
        args = {
            name: {"hint": hint, "type": "*fp16" if name.endswith("_ptr") else "i32"} for name, hint in hints.items()
        }
        constexprs = {name: value for name, value in config.items() if name not in ("num_warps", "num_stages")}
        signature = compile_signature(params, {"args": args, "constexprs": constexprs})
        stem = source_dir / f"matmul_{index}"
        command = [sys.executable, "-m", "ttlink", "compile", "examples/matmul.py", "-n", "matmul_kernel"]
        command += ["-s", signature, "--arg-names", ",".join(params), "-g", GRID.format(**config)]
        command += ["-w", str(config["num_warps"]), "-ns", str(config["num_stages"]), "--target", target]
        command += ["-on", "matmul", "-o", str(stem)]
        subprocess.run(command, check=True, cwd=REPO, env=env)
        return stem.with_suffix(".h")

    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        headers = list(pool.map(compile_one, range(len(built))))
    linked = source_dir / "matmul_linked"
    link = [sys.executable, "-m", "ttlink", "link", "-o", str(linked), *map(str, headers)]
    subprocess.run([*link, *([f"--tuning={tuning}"] if tuning else [])], check=True, env=env)
    sources = [h.with_suffix(".c") for h in headers] + [linked.with_suffix(".c")]
    return build.build_with_runtime(sources, source_dir / "libmatmul_layouts.so")


def hint_tag(params: list[str], hints: dict) -> str:
    """The variant's name as triton_kernel tags it (parameter index + d for :16, c for :1)."""
    tag = "".join(f"{i}{'d' if hints.get(p) == 16 else 'c'}" for i, p in enumerate(params) if hints.get(p))
    return tag or "generic"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")))
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    record_path = args.record or record(args.out)
    recorded_at = time.time()
    import torch
    import triton

    major, minor = torch.cuda.get_device_capability()
    params, built = variants(record_path)
    library_path = compile_library(params, built, f"cuda:{major}{minor}", Path(tempfile.mkdtemp(prefix="layouts_")))
    built_at = time.time()
    library = ctypes.CDLL(str(library_path))
    dispatch = library.matmul
    dispatch.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int32] * 9 + [ctypes.c_int]
    dispatch.restype = ctypes.c_int
    get_name = library.matmul_get_algo_name
    get_name.argtypes, get_name.restype = [ctypes.c_int], ctypes.c_char_p
    algos = [get_name(i).decode() for i in range(library.matmul_get_num_algos())]
    sys.path.insert(0, str(REPO / "examples"))
    import matmul

    rows = []
    for case in record_matmul.LAYOUTS:
        row = bench_case(case, params, built, algos, dispatch, matmul.matmul_kernel)
        rows.append(row)
        print(f"{row['case']}: ours {row['ours_tflops']:.1f}, JIT {row['jit_tflops']:.1f}, {row['ratio']:.2f}")
    result = {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "gpu": torch.cuda.get_device_name(),
        "triton": triton.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "variants_compiled": len(built),
        "seconds": {"record": recorded_at - started, "build": built_at - recorded_at, "bench": time.time() - built_at},
        "rows": rows,
    }
    (args.out / "layouts.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    (args.out / "layouts.md").write_text(markdown(result))
    print(markdown(result))


def algo_name(config: dict) -> str:
    """ttlink's name of a config's algo: constexprs in parameter order, warps and stages."""
    values = [config[key] for key in ("BLOCK_SIZE_M", "BLOCK_SIZE_N", "BLOCK_SIZE_K", "GROUP_SIZE_M")]
    return "x".join(map(str, values)) + f"_warps{config['num_warps']}xstages{config['num_stages']}"


def bench_case(
    case: tuple, params: list[str], built: list[tuple[dict, dict]], algos: list[str], dispatch, kernel
) -> dict:
    """One row: every JIT config and every algo of ours, timed in ROUNDS shuffled rounds."""
    import speed
    import torch
    import triton

    name, a_col, b_col, m, n, k = case
    a, b = record_matmul.operand(m, k, a_col), record_matmul.operand(k, n, b_col)
    c = torch.empty(m, n, device="cuda", dtype=torch.float16)
    expected = a.double() @ b.double()
    stream = torch.cuda.current_stream().cuda_stream
    values = (a.data_ptr(), b.data_ptr(), c.data_ptr(), m, n, k, *a.stride(), *b.stride(), *c.stride())
    configs = list({json.dumps(config, sort_keys=True): config for config, _ in built}.values())
    contenders = []
    for config in configs:
        options = {"num_warps": config["num_warps"], "num_stages": config["num_stages"]}
        constexprs = {key: value for key, value in config.items() if key not in options}
        grid = (triton.cdiv(m, config["BLOCK_SIZE_M"]) * triton.cdiv(n, config["BLOCK_SIZE_N"]),)

        def jit(constexprs=constexprs, options=options, grid=grid):
            kernel[grid](a, b, c, m, n, k, *a.stride(), *b.stride(), *c.stride(), **constexprs, **options)

        contenders.append(("Triton JIT", algo_name(config), jit))
    for algo_id, algo in enumerate(algos):

        def ours(algo_id=algo_id):
            result = dispatch(stream, *values, algo_id)
            if result != 0:
                raise RuntimeError(f"matmul algo {algo_id} returned CUresult {result}")

        contenders.append(("rules_triton", algo, ours))
    errors = speed.relative_errors(contenders, c, expected)
    timings: dict[tuple[str, str], list[float]] = {}
    rng = random.Random(9)
    for _ in range(ROUNDS):
        order = list(contenders)
        rng.shuffle(order)
        for contender, config, launch in order:
            ms = triton.testing.do_bench(launch, warmup=25, rep=100, return_mode="median")
            timings.setdefault((contender, config), []).append(ms)
    best: dict[str, tuple[str, float]] = {}
    for (contender, config), runs in timings.items():
        tflops = 2 * m * n * k / (statistics.median(runs) * 1e-3) / 1e12
        if contender not in best or tflops > best[contender][1]:
            best[contender] = (config, tflops)
    # The variant the best algo's dispatcher reached: the JIT's hints if that config has them.
    want = record_matmul.expected_hints(a_col, b_col, m, n, k)
    reached = [hints for config, hints in built if algo_name(config) == best["rules_triton"][0]]
    return {
        "case": name,
        "M": m,
        "N": n,
        "K": k,
        "strides": [list(a.stride()), list(b.stride())],
        "variant": hint_tag(params, want) if want in reached else "generic",
        "ours_algo": best["rules_triton"][0],
        "ours_tflops": best["rules_triton"][1],
        "jit_config": best["Triton JIT"][0],
        "jit_tflops": best["Triton JIT"][1],
        "ratio": best["rules_triton"][1] / best["Triton JIT"][1],
        "max_rel_error": max(errors.values()),
        "correct": max(errors.values()) <= REL_ERROR_BOUND,
        "timings_ms": {f"{contender} {config}": runs for (contender, config), runs in timings.items()},
    }


def markdown(result: dict) -> str:
    lines = [
        f"{result['gpu']}, Triton {result['triton']}, torch {result['torch']}, {result['date']}; fp16, TFLOP/s, "
        f"best config / algo of each, median of {ROUNDS} rounds; {result['variants_compiled']} variants compiled.",
        "",
        "| case | M | N | K | variant ours reached | ours | Triton JIT | ours / JIT | correct |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['case']} | {row['M']} | {row['N']} | {row['K']} | {row['variant']} | {row['ours_tflops']:.1f} | "
            f"{row['jit_tflops']:.1f} | {row['ratio']:.2f} | {'yes' if row['correct'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
