"""The parts of the GPU benchmark that run without a GPU: the signature table, the
target-choice builds, the dispatcher-cost harness against the no-op driver, the report, the
step runner of run.py and tma.py, the variants layouts.py builds from the example's record,
and the tensor-descriptor examples as tma.py builds them.

    python -m pytest bench/gpu/test_cpu.py     (with triton 3.9.0 installed; about 30 s)
    bazel test //bench/gpu:cpu_test           (the same, part of `bazel test //...`)
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import autotune_cost  # noqa: E402
import build  # noqa: E402
import dispatch_cost  # noqa: E402
import libs  # noqa: E402
import prepare  # noqa: E402
import report  # noqa: E402
import steps  # noqa: E402
from kernels import MATMUL, TARGET_BUILDS  # noqa: E402


def test_signature_and_grid_are_compile_py_arguments():
    config, aligned = MATMUL.configs[0], MATMUL.specialisations[0]
    assert MATMUL.signature(config, aligned) == (
        "*fp16:16, *fp16:16, *fp16:16, i32:16, i32:16, i32:16, i32:16, i32:1, i32:16, i32:1, i32:16, i32:1, "
        "128, 256, 64, 8"
    )
    assert MATMUL.grid(config) == "((M + 127) / 128) * ((N + 255) / 256), 1, 1"
    assert MATMUL.grid_size(config, {"M": 4001, "N": 4001}) == 32 * 16
    assert config.name == "128x256x64x8_warps8xstages3"


def test_hints_hold_only_for_matching_values():
    aligned, unit, _, generic = MATMUL.specialisations
    row_major = (256, 512, 1024, 4096, 4096, 4096, 4096, 1, 4096, 1, 4096, 1)
    odd = (256, 512, 1024, 4001, 4001, 4001, 4001, 1, 4001, 1, 4001, 1)
    transposed_b = (256, 512, 1024, 4096, 4096, 4096, 4096, 1, 1, 4096, 4096, 1)
    assert aligned.holds(row_major) and unit.holds(row_major)
    assert not aligned.holds(odd) and unit.holds(odd)
    assert not aligned.holds(transposed_b) and not unit.holds(transposed_b) and generic.holds(transposed_b)


def test_target_builds_run_where_cuda_compatibility_allows():
    with_ptx, cubin_only = TARGET_BUILDS
    assert cubin_only.runs_on(8, 0) and cubin_only.runs_on(8, 6)
    assert not cubin_only.runs_on(9, 0) and not cubin_only.runs_on(7, 5)
    assert with_ptx.runs_on(8, 6) and with_ptx.runs_on(9, 0) and with_ptx.runs_on(10, 0)
    assert not with_ptx.runs_on(7, 5)


def test_prepare_compiles_the_target_builds_for_their_targets_only(tmp_path):
    """Each build's header names its targets and whether PTX is embedded; its C embeds PTX
    only then; the library the targets step builds exports the entry point."""
    env = prepare.ttlink_env()
    prepare.compile_target_builds(tmp_path, env)
    for target in TARGET_BUILDS:
        stem = target.compiled.variant_stem(0, target.kernel.specialisations[0])
        meta = libs.variant_meta(tmp_path / f"{stem}.h")
        assert (meta.name, meta.targets, meta.embed_ptx) == (target.out_name, ("cuda:80",), target.embed_ptx)
        assert ("TTLINK_PTX" in (tmp_path / f"{stem}.c").read_text()) == target.embed_ptx
        library = build.build_with_runtime([tmp_path / f"{stem}.c"], tmp_path / f"lib{stem}.so")
        assert hasattr(ctypes.CDLL(str(library)), meta.symbol)


def test_dispatcher_cost_harness_runs_against_the_noop_driver(tmp_path):
    """ttlink compile + link for one small config, built with the runtime, timed by
    dispatch_cost.c against noop_cuda.c: every entry point returns CUDA_SUCCESS and costs
    a plausible number of nanoseconds, with TTLINK_REPORT_VARIANTS unset and set (measure()
    checks that the second instance reported the variant and the first did not)."""
    aligned, generic = MATMUL.specialisations[0], MATMUL.specialisations[-1]
    kernel = replace(MATMUL, configs=MATMUL.configs[2:3], specialisations=(aligned, generic), example_specs=())
    out_dir = tmp_path / "ours" / kernel.out_name
    out_dir.mkdir(parents=True)
    env = prepare.ttlink_env()
    for spec_index in range(len(kernel.specialisations)):
        prepare.compile_variant(kernel, 0, spec_index, out_dir, env, targets=("cuda:90",))
    prepare.link(kernel, out_dir, env)
    library_path = build.build_ours(kernel, tmp_path / "ours", tmp_path / "build")
    library = libs.load_ours(library_path, kernel, tmp_path / "ours", "rules_triton")
    assert [a.function for a in library.algos] == ["matmul_64x128x32x8_warps4xstages4"]

    result = dispatch_cost.measure(tmp_path / "build", [(library_path, library)])

    rows = {(row["library"], row["call"]): row["ns_per_call"] for row in result["rows"]}
    calls = ("variant", "algo", "dispatch", "default")
    assert set(rows) == {
        (library, call) for library in ("rules_triton", "rules_triton, TTLINK_REPORT_VARIANTS=1") for call in calls
    }
    assert all(0 < ns < 10_000 for ns in rows.values())
    assert result["ours_dispatch_overhead_ns"] == rows["rules_triton", "dispatch"] - rows["rules_triton", "variant"]


def test_autotune_cost_runs_against_the_noop_driver(tmp_path):
    """autotune_cost.py builds the example's three configs with the record's table and times
    every case: each call succeeds (the program exits 1 on a failed call or import) and costs a
    plausible number of nanoseconds."""
    rows = {row["case"]: row["ns_per_call"] for row in autotune_cost.measure(tmp_path)}
    assert set(rows) == {
        "direct",
        "autotuned_recorded_key",
        "autotuned_nearest_key",
        "direct_again",
        "autotuned_decided_key",
    }
    assert all(0 < ns < 10_000 for ns in rows.values())


def test_report_says_which_steps_failed_and_what_was_not_measured():
    results = {
        "started": "2026-11-26 00:00:00 UTC",
        "steps": {"matmul": {"ok": False, "error": "Traceback ...\nRuntimeError: no GPU\n"}},
    }
    text = report.render(results)
    assert "### fp16 matmul\n\nfailed: RuntimeError: no GPU" in text
    assert "| best algo >= 97% of cuBLAS at 4096 | - | not measured |" in text


def test_steps_run_past_a_failing_one_and_are_written_with_the_report(tmp_path):
    class Runner:
        def step_environment(self):
            return {"gpu": "none"}

        def step_build(self):
            raise RuntimeError("no compiler")

        def step_matmul(self):
            return [1.5]

        def step_launch(self):
            raise AssertionError("not asked for")

    results = steps.new_results()
    steps.run_steps(
        Runner(),
        ("environment", "build", "matmul", "launch"),
        only="build,matmul",
        always=("environment",),
        results=results,
        out=tmp_path / "out",
        json_name="r.json",
        markdown_name="r.md",
        render=lambda r: "steps: " + ", ".join(f"{k} {v['ok']}" for k, v in r["steps"].items()),
    )
    ran = results["steps"]
    assert list(ran) == ["environment", "build", "matmul"]
    assert ran["environment"]["result"] == {"gpu": "none"} and ran["matmul"]["result"] == [1.5]
    assert ran["build"]["ok"] is False and ran["build"]["error"].endswith("RuntimeError: no compiler\n")
    assert all(isinstance(step["seconds"], float) for step in ran.values())
    assert json.loads((tmp_path / "out" / "r.json").read_text()) == results
    assert (tmp_path / "out" / "r.md").read_text() == "steps: environment True, build False, matmul True"


def test_report_shows_each_target_build_and_marks_a_wrong_outcome():
    rows = [
        {"build": "vector_add_sm80_ptx", "targets": ["cuda:80"], "embed_ptx": True, "expected": "runs",
         "result": "CUDA_SUCCESS", "output": "exact", "ok": True},
        {"build": "vector_add_sm80", "targets": ["cuda:80"], "embed_ptx": False,
         "expected": "CUDA_ERROR_NO_BINARY_FOR_GPU", "result": "CUDA_SUCCESS", "output": "written", "ok": False},
    ]  # fmt: skip
    text = report.render(
        {"started": "-", "steps": {"targets": {"ok": True, "result": {"gpu": "sm_90", "size": 16, "rows": rows}}}}
    )
    assert "| `vector_add_sm80_ptx` | cuda:80 + PTX | runs | `CUDA_SUCCESS` | exact | pass |" in text
    assert "| `vector_add_sm80` | cuda:80 | CUDA_ERROR_NO_BINARY_FOR_GPU | `CUDA_SUCCESS` | written | FAIL |" in text


def test_layouts_builds_what_examples_build_compiles_from_the_record():
    # examples/BUILD.bazel: per config, the generic variant, then the recorded hint sets of
    # that config (3 configs x 9 variants; x 2 targets = its 54 TritonCompile actions).
    import layouts

    params, built = layouts.variants(Path(__file__).resolve().parents[2] / "examples" / "matmul_record.bzl")
    assert len(params) == 16 and len(built) == 27
    by_config: dict[str, list[dict]] = {}
    for config, hints in built:
        by_config.setdefault(layouts.algo_name(config), []).append(hints)
    assert sorted(by_config) == sorted(config.name for config in MATMUL.configs[:3])
    for hint_sets in by_config.values():
        assert len(hint_sets) == 9 and layouts.hint_tag(params, hint_sets[0]) == "generic"
        assert all(hints["stride_cn"] == 1 for hints in hint_sets[1:])


def test_the_example_tuning_table_holds_every_key_of_the_autotune_sweep():
    # Issue 13: a key the table lacks runs the nearest key's choice; the 512 to 2048 squares
    # took the 4096 square's 128x256x64 and ran at 0.89x to 0.96x the best algo on the H200.
    import autotune_sweep
    import record_matmul

    from ttlink.record_format import load

    ((_, group),) = load(autotune_sweep.RECORD).items()
    assert group.tuning_key == record_matmul.TUNING_KEY
    recorded = {tuple(choice["key"][: len(group.tuning_key)]) for choice in group.choices.values()}
    for name, *layout in record_matmul.SWEEP:
        values = record_matmul.strides(*layout)
        assert tuple(values[key] for key in group.tuning_key) in recorded, name


def test_tma_examples_compile_and_link_as_the_gpu_step_builds_them(tmp_path):
    """One variant of each tensor-descriptor example, as bench/gpu/tma.py's build step compiles
    it (tma_kernels' signature and grid, cuda:90), links into a dispatcher whose C API takes
    each descriptor as base, shape, strides and padding, and builds with the ttlink runtime."""
    import tma_build
    import tma_kernels

    chosen = [
        tma_kernels.matmul_variant(tma_kernels.MATMUL_CONFIGS[-1], "generic"),
        tma_kernels.attention_variant(tma_kernels.ATTENTION_CONFIGS[0], True, "aligned"),
    ]
    for variant in chosen:
        header = tma_build.compile_variant(variant, "cuda:90", tmp_path)
        linked = tmp_path / variant.out_name
        subprocess.run([sys.executable, "-m", "ttlink", "link", "-o", str(linked), str(header)], check=True,
                       env=prepare.ttlink_env())  # fmt: skip
        library = build.build_with_runtime(
            [header.with_suffix(".c"), linked.with_suffix(".c")], tmp_path / f"lib{variant.out_name}.so"
        )
        assert hasattr(ctypes.CDLL(str(library)), variant.out_name)
    declarations = (tmp_path / "attention.h").read_text()
    assert (
        "CUdeviceptr q_desc_base, int64_t q_desc_shape0, int64_t q_desc_shape1, int64_t q_desc_shape2" in declarations
    )
    assert "int32_t o_desc_padding, float sm_scale, int32_t N_CTX, int32_t batch_heads, int algo_id)" in declarations


def test_tma_report_compares_each_build_with_the_jit_and_names_failed_steps():
    import tma_report

    def row(contender, config, tflops):
        return {"case": "square 4096", "contender": contender, "config": config, "tflops": tflops}

    matmul = [row("cuBLAS", "", 700.0), row("Triton JIT", "A", 700.0), row("rules_triton", "A", 686.0)]
    matmul += [row("rules_triton (Triton 3.9.0)", "A", 707.0), {"case": "square 4096", "kernels": ["nvjet"]}]
    results = {
        "started": "-",
        "steps": {
            "bench": {"ok": True, "result": {"matmul": matmul, "attention": []}},
            "c_test": {"ok": False, "seconds": 1.0, "error": "Traceback ...\nRuntimeError: no GPU\n"},
        },
    }
    text = tma_report.markdown(results)
    assert (
        "| case | config | cuBLAS | Triton JIT | rules_triton | rules_triton (Triton 3.9.0) | rules_triton / JIT "
        "| rules_triton (Triton 3.9.0) / JIT | Triton JIT / cuBLAS | rules_triton / cuBLAS "
        "| rules_triton (Triton 3.9.0) / cuBLAS |"
    ) in text
    assert "| square 4096 | A | 700.0 | 700.0 | 686.0 | 707.0 | 0.980 | 1.010 | 1.000 | 0.980 | 1.010 |" in text
    assert "**c_test failed** (1.0 s):" in text and "RuntimeError: no GPU" in text
