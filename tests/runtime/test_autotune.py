"""Run-time tuning of K_autotuned on the CPU: a dispatcher of a kernel compiled for real with
2, 4 and 8 warps (64, 128 and 256 threads per block) and a tuning table keyed on `n`, driven
against the stand-in libcuda, whose CUDA events time each launch as STANDIN_EVENT_MS says its
block size takes, or STANDIN_COLD_EVENT_MS after an L2 flush (a cuMemsetD32Async). Built with
ASan + UBSan, and TSan for the race (docs/AUTOTUNE.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from native import CUDA_ERROR_INVALID_VALUE, HERE, SANITIZE, cc
from test_runtime import GENERIC_SIG, KERNELS

from ttlink import RUNTIME_INCLUDE_DIR
from ttlink.compile import main as compile_main
from ttlink.link import main as link_main

PARAMS = ["out_ptr", "n", "b1", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"]
PARAMS += ["f16", "bf16", "f32", "f64", "unit", "BLOCK"]
WARPS = (2, 4, 8)
# The table: n = 64 chose 8 warps, n = 4096 chose 2. Faked times (ms): 4 warps is the fastest,
# and all are short enough for every round (TTLINK_TUNING_ALGO_MS).
TABLE = {64: 8, 4096: 2}
EVENT_MS = "64:0.03,128:0.01,256:0.02"
FASTEST, TABLE_64 = 128, 256
# One tuning of a key: one run of each algo (which loads it), then TTLINK_TUNING_ROUNDS rounds
# that each time every algo once, starting one algo further each round.
ROUNDS = 10


def timed(rounds: int) -> list[int]:
    return [[64, 128, 256][(r + i) % 3] for r in range(rounds) for i in range(3)]


TIMED = timed(ROUNDS)
TUNING = [64, 128, 256, *TIMED]
L2_BYTES = 1 << 20


@pytest.fixture(scope="module")
def harness(tmp_path_factory, cuda_include_dir):
    out = tmp_path_factory.mktemp("autotune")
    headers = []
    for warps in WARPS:
        compile_main(
            [str(KERNELS), "-n", "every_scalar", "-s", GENERIC_SIG, "-w", str(warps), "--target", "cuda:90"]
            + ["-g", "(n + BLOCK - 1) / BLOCK, 1, 1", "-on", "tuned", "-o", str(out / f"w{warps}")]
        )
        headers.append(str(out / f"w{warps}.h"))
    choices = [
        {
            "config": {"BLOCK": 64, "num_stages": 3, "num_warps": warps},
            "key": [n, "torch.float32"],
            "targets": ["cuda:90"],
        }
        for n, warps in TABLE.items()
    ]
    record = {
        "format": 1,
        "kernels": [
            {
                "file": "tests/runtime/fixtures/kernels.py",
                "kernel": "every_scalar",
                "params": PARAMS,
                "specializations": [],
                "tuning": {"choices": choices, "key": ["n"]},
            }
        ],
    }
    (out / "tuning.json").write_text(json.dumps(record))
    link_main([*headers, "--tuning", str(out / "tuning.json"), "-o", str(out / "tuned")])
    include = ["-I", str(cuda_include_dir), "-I", str(RUNTIME_INCLUDE_DIR)]
    cc(["-shared", "-fPIC", *include, str(HERE / "standin_libcuda.c"), "-o", str(out / "standin.so")])
    old_driver = ["-DSTANDIN_NO_EXTENDED_LAUNCH", "-o", str(out / "standin_no_async.so")]
    cc(["-shared", "-fPIC", *include, str(HERE / "standin_libcuda.c"), *old_driver])
    sources = [
        str(out / "tuned.c"),
        *(str(out / f"w{w}.c") for w in WARPS),
        str(RUNTIME_INCLUDE_DIR / "ttlink_runtime.c"),
    ]
    for variant, flags in SANITIZE.items():
        cc(
            [*flags, "-g", "-O1", "-Wall", "-Wextra", "-Werror", *include, "-include", str(out / "tuned.h")]
            + [str(HERE / "autotune_harness.c"), *sources, "-o", str(out / f"harness_{variant}"), "-ldl", "-lpthread"]
        )
    return out


def run(out: Path, *args: str, variant: str = "asan", **env: str) -> tuple[int, list[str]]:
    """(status the harness printed, the stand-in's log lines)."""
    printed, lines = run_printing(out, *args, variant=variant, **env)
    return int(re.search(r"status=(-?\d+)", printed)[1]), lines


def run_printing(out: Path, *args: str, variant: str = "asan", **env: str) -> tuple[str, list[str]]:
    """(what the harness printed, the stand-in's log lines)."""
    log = out / f"log-{len(list(out.glob('log-*')))}"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TTLINK_", "STANDIN_"))},
        "TTLINK_LIBCUDA_PATH": str(out / "standin.so"),
        "STANDIN_LOG": str(log),
        "STANDIN_EVENT_MS": EVENT_MS,
        "STANDIN_L2_BYTES": str(L2_BYTES),
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
        "TSAN_OPTIONS": "halt_on_error=1",
        **env,
    }
    result = subprocess.run([str(out / f"harness_{variant}"), *args], capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sanitizer" not in result.stderr and "runtime error" not in result.stderr, result.stderr
    return result.stdout, log.read_text().splitlines()


def blocks(lines: list[str]) -> list[int]:
    """Threads per block of each launch, in order: which algo ran."""
    return [int(re.search(r" block=(\d+),", line)[1]) for line in lines if line.startswith("launch ")]


def count(lines: list[str], what: str) -> int:
    return sum(line.startswith(what + " ") for line in lines)


def test_off_by_default_the_table_decides(harness):
    status, lines = run(harness, "calls", "64", "2")
    assert (status, blocks(lines), count(lines, "event_record")) == (0, [TABLE_64, TABLE_64], 0)
    status, lines = run(harness, "calls", "1000", "1")  # nearer 4096 than 64: 2 warps
    assert (status, blocks(lines)) == (0, [64])


@pytest.mark.parametrize("how", ["enable", "environment"])
def test_first_use_times_every_algo_and_keeps_the_fastest(harness, how):
    if how == "enable":
        status, lines = run(harness, "enabled", "64", "3")
    else:
        status, lines = run(harness, "calls", "64", "3", TTLINK_AUTOTUNE="1")
    assert (status, blocks(lines)) == (0, [*TUNING, FASTEST, FASTEST, FASTEST])
    events = (count(lines, "event_record"), count(lines, "event_create"), count(lines, "event_destroy"))
    assert events == (2 * len(TIMED), 2, 2)
    streamed = ("event_record", "is_capturing", "memset_d32_async", "mem_alloc_async", "mem_free_async")
    assert all("stream=0x5a5a" in line for line in lines if line.startswith(streamed))


def test_first_use_picks_the_fastest_with_l2_flushed_as_triton_does(harness):
    # 4 warps is the fastest with the operands in L2, 2 warps when L2 was flushed before the
    # launch: Triton's autotuner (do_bench) flushes before each timed launch.
    status, lines = run(harness, "enabled", "64", "2", STANDIN_COLD_EVENT_MS="64:0.01,128:0.03,256:0.02")
    assert (status, blocks(lines)) == (0, [*TUNING, 64, 64])


def test_first_use_ranks_algos_by_the_median_of_their_rounds(harness):
    # Cold, 2 warps takes 10 us but 500 in one round, 4 warps 30 but 1 in one, 8 warps 20:
    # the least median is 2 warps (the least minimum would be 4, the least mean 8).
    cold = "64:" + "0.01/" * 9 + "0.5,128:" + "0.03/" * 9 + "0.001,256:0.02"
    status, lines = run(harness, "enabled", "64", "1", STANDIN_COLD_EVENT_MS=cold)
    assert (status, blocks(lines)) == (0, [*TUNING, 64])


@pytest.mark.parametrize(("event_ms", "rounds"), [("64:3,128:1,256:2", 3), ("64:0.75,128:0.25,256:0.5", 4)])
def test_long_kernels_take_fewer_rounds(harness, event_ms, rounds):
    # Rounds stop once the timed launches took 2 ms per algo (TTLINK_TUNING_ALGO_MS), after
    # 3 at least (TTLINK_TUNING_MIN_ROUNDS): 1.5 ms a round reaches the 6 ms in the 4th.
    status, lines = run(harness, "enabled", "64", "1", STANDIN_EVENT_MS=event_ms)
    assert (status, blocks(lines)) == (0, [64, 128, 256, *timed(rounds), FASTEST])
    assert count(lines, "memset_d32_async") == 3 * rounds


def test_each_timed_launch_runs_alone_after_a_flush_of_one_buffer(harness):
    status, lines = run(harness, "enabled", "64", "1")
    assert status == 0
    (allocated,) = [line for line in lines if line.startswith("mem_alloc_async ")]
    pointer = re.search(r"pointer=(0x[0-9a-f]+)", allocated)[1]
    assert f"bytes={2 * L2_BYTES} " in allocated  # twice the L2: every line of it evicted
    flush = f"memset_d32_async pointer={pointer} value=0 count={2 * L2_BYTES // 4} stream=0x5a5a status=0"
    steps = [line.split(" ")[0] for line in lines if not line.startswith(("init ", "load ", "is_capturing "))]
    timed = ["memset_d32_async", "event_record", "launch", "event_record"] * len(TIMED)
    # Freed on the stream once the rounds are queued, before the chosen algo runs.
    done = ["mem_free_async", "event_destroy", "event_destroy", "launch"]
    assert steps == ["event_create", "event_create", "mem_alloc_async", *["launch"] * 3, *timed, *done]
    assert lines.count(flush) == len(TIMED)
    assert f"mem_free_async pointer={pointer} stream=0x5a5a status=0" in lines


def test_a_key_met_before_tuning_was_on_is_tuned_once_it_is(harness):
    status, lines = run(harness, "late", "64")
    assert (status, blocks(lines)) == (0, [TABLE_64, *TUNING, FASTEST, FASTEST])


def test_the_environment_variable_set_to_0_is_off(harness):
    status, lines = run(harness, "calls", "64", "2", TTLINK_AUTOTUNE="0")
    assert (status, blocks(lines)) == (0, [TABLE_64, TABLE_64])


def test_never_while_the_stream_is_captured(harness):
    status, lines = run(harness, "enabled", "64", "2", STANDIN_CAPTURING="1")
    assert (status, blocks(lines), count(lines, "event_record")) == (0, [TABLE_64, TABLE_64], 0)
    assert count(lines, "memset_d32_async") == count(lines, "mem_alloc_async") == 0
    assert count(lines, "is_capturing") == 2  # asked again: the key stays undecided


def test_each_context_tunes_its_own(harness):
    status, lines = run(harness, "contexts", "64", STANDIN_DEVICES="9.0,9.0")
    assert (status, blocks(lines)) == (0, [*TUNING, FASTEST, *TUNING, FASTEST, FASTEST])


def test_a_failing_event_leaves_the_table_choice(harness):
    status, lines = run(harness, "enabled", "64", "2", STANDIN_FAIL="cuEventCreate:2")
    assert (status, blocks(lines)) == (0, [TABLE_64, TABLE_64])


@pytest.mark.parametrize(
    ("fail", "launched"),
    [
        ("cuMemAllocAsync:2", []),  # nothing to flush with: nothing timed
        ("cuMemsetD32Async:2", [64, 128, 256]),  # the loading runs, then the first flush fails
        ("cuMemFreeAsync:1", TUNING),
        ("cuEventSynchronize:999", [64, 128, 256, 64]),
    ],
)
def test_a_failing_flush_or_timing_leaves_the_table_choice_and_frees_the_buffer(harness, fail, launched):
    status, lines = run(harness, "enabled", "64", "2", STANDIN_FAIL=fail)
    assert (status, blocks(lines)) == (0, [*launched, TABLE_64, TABLE_64])
    assert count(lines, "mem_free_async") == count(lines, "mem_alloc_async") - fail.startswith("cuMemAllocAsync")
    assert count(lines, "event_create") == count(lines, "event_destroy") == 2


def test_an_unknown_l2_size_leaves_the_table_choice(harness):
    status, lines = run(harness, "enabled", "64", "2", STANDIN_L2_BYTES="0")
    assert (status, blocks(lines), count(lines, "mem_alloc_async")) == (0, [TABLE_64, TABLE_64], 0)


def test_a_driver_without_stream_ordered_allocation_keeps_the_table_choice(harness):
    # cuMemAllocAsync came with CUDA 11.2: before it there is no flush buffer, so no tuning.
    status, lines = run(harness, "enabled", "64", "2", TTLINK_LIBCUDA_PATH=str(harness / "standin_no_async.so"))
    assert (status, blocks(lines)) == (0, [TABLE_64, TABLE_64])
    assert count(lines, "event_create") == count(lines, "memset_d32_async") == count(lines, "is_capturing") == 0


@pytest.mark.parametrize("variant", SANITIZE)
def test_32_threads_on_one_key_tune_it_once(harness, variant):
    status, lines = run(harness, "race", "64", "32", variant=variant)
    launched = blocks(lines)
    assert status == 0 and len(launched) == 32 * 4 + len(TUNING) + 1
    assert count(lines, "event_record") == 2 * len(TIMED) and launched.count(64) == 1 + ROUNDS  # one tuning
    # Calls during the tuning run the table's algo (256), later ones the fastest, as does the
    # harness's last call, made after every thread has returned.
    assert set(launched) <= {64, 128, 256} and launched[-1] == FASTEST


def test_export_and_import_round_trip(harness):
    printed, lines = run_printing(harness, "roundtrip", "64", STANDIN_DEVICES="9.0,9.0")
    text = "64 64_warps4xstages3\n4096 64_warps4xstages3\n"  # both keys decided 4 warps, in key order
    assert printed == (
        f"status=0\nlength={len(text)}\nshort={len(text)}\ncut=[{text[:5]}]\ntext=[{text}]\n"
        "empty=0\nimported=0\nagain=1\n"
    )
    # The second context: no tuning, the imported choice.
    assert blocks(lines) == [*TUNING, FASTEST, *TUNING, FASTEST, FASTEST]


@pytest.mark.parametrize(
    ("text", "status", "block"),
    [
        ("64 64_warps8xstages3|", 0, 256),
        ("64 64_warps2xstages3|64 64_warps4xstages3|", 0, 128),  # the last line wins
        ("4096 64_warps2xstages3|64 64_warps9xstages3|", CUDA_ERROR_INVALID_VALUE, TABLE_64),  # no such algo
        ("64 64_warps2xstages3", CUDA_ERROR_INVALID_VALUE, TABLE_64),  # no newline
        ("+64 64_warps2xstages3|", CUDA_ERROR_INVALID_VALUE, TABLE_64),
        ("64  64_warps2xstages3|", CUDA_ERROR_INVALID_VALUE, TABLE_64),
        ("99999999999999999999 64_warps2xstages3|", CUDA_ERROR_INVALID_VALUE, TABLE_64),
        ("", 0, TABLE_64),
    ],
)
def test_import_takes_well_formed_text_only(harness, text, status, block):
    printed, lines = run_printing(harness, "import", "64", text)
    assert printed == f"status={status}\ncalls=0\n"
    assert blocks(lines) == [block]
