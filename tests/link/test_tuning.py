"""`ttlink link --tuning FILE`: K_autotuned runs the algo a record's autotuner chose per key.

The dispatcher is linked against recording stand-ins of the example matmul's three configs
and called through ctypes; the table is the real H200 record examples/matmul_record.bzl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from link_testing import build_dispatcher, compile_c, constexpr, i32, kernel_meta, meta_header, ptr, run_module

from ttlink.record_format import load

RECORD = Path(__file__).parents[2] / "examples" / "matmul_record.bzl"
INTEGERS = ["M", "N", "K", "stride_am", "stride_ak", "stride_bk", "stride_bn", "stride_cm", "stride_cn"]
# The example's configs, (BLOCK_SIZE_M, N, K), warps, stages, in algo_id order.
CONFIGS = [((64, 128, 32), 4, 4), ((128, 128, 32), 4, 4), ((128, 256, 64), 8, 3)]
ALGO_NAMES = ["64x128x32x8_warps4xstages4", "128x128x32x8_warps4xstages4", "128x256x64x8_warps8xstages3"]


def matmul_headers(directory: Path, configs=CONFIGS) -> list[Path]:
    headers = []
    for index, ((block_m, block_n, block_k), warps, stages) in enumerate(configs):
        params = [ptr("a_ptr"), ptr("b_ptr"), ptr("c_ptr"), *(i32(name) for name in INTEGERS)]
        params += [
            constexpr(n, v)
            for n, v in zip(("BLOCK_SIZE_M", "BLOCK_SIZE_N", "BLOCK_SIZE_K"), (block_m, block_n, block_k), strict=True)
        ]
        params.append(constexpr("GROUP_SIZE_M", 8))
        header = directory / f"matmul{index}.h"
        header.write_text(meta_header(kernel_meta("matmul", f"matmul_0000000{index}_", params, warps, stages)))
        headers.append(header)
    return headers


def autotuned(dispatcher, m: int, n: int, k: int, layout: str = "x@W.T") -> str:
    """The algo K_autotuned reaches for an fp16 product of the given sizes; `layout` gives the
    strides (stride_am, stride_ak, stride_bk, stride_bn) as the record's key holds them."""
    strides = {"x@W.T": (k, 1, 1, k), "column-major": (1, m, 1, k)}[layout]
    code, calls = dispatcher.call("matmul_autotuned", None, 0x1000, 0x2000, 0x3000, m, n, k, *strides, n, 1)
    assert code == 0
    return ALGO_NAMES[int(calls[0].split("_")[1])]


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory, cuda_include_dir):
    directory = tmp_path_factory.mktemp("tuned")
    return build_dispatcher(matmul_headers(directory), directory / "out", cuda_include_dir, tuning=[RECORD])


def test_recorded_keys_run_the_recorded_choice(dispatcher):
    record = load(RECORD)[("examples/matmul.py", "matmul_kernel")]
    assert len(record.choices) == 16
    for choice in record.choices.values():
        m, n, k, *strides = choice["key"][:7]
        code, calls = dispatcher.call("matmul_autotuned", None, 0x1000, 0x2000, 0x3000, m, n, k, *strides, n, 1)
        config = choice["config"]
        name = f"{config['BLOCK_SIZE_M']}x{config['BLOCK_SIZE_N']}x{config['BLOCK_SIZE_K']}x8"
        name += f"_warps{config['num_warps']}xstages{config['num_stages']}"
        assert (code, ALGO_NAMES[int(calls[0].split("_")[1])]) == (0, name), choice


def test_keys_the_table_lacks_take_the_nearest(dispatcher):
    # x @ W.T: M = 16 to 128 chose 64x128 at N = K = 4096; 4096 chose 128x256; 4001 chose 64x128.
    assert autotuned(dispatcher, 16, 4096, 4096) == ALGO_NAMES[0]
    assert autotuned(dispatcher, 4096, 4096, 4096) == ALGO_NAMES[2]
    assert autotuned(dispatcher, 48, 4096, 4096) == ALGO_NAMES[0]  # nearer 64 than 4096
    assert autotuned(dispatcher, 3000, 4096, 4096) == ALGO_NAMES[2]  # nearer 4096 than 128
    assert autotuned(dispatcher, 4050, 4050, 4050) == ALGO_NAMES[2]  # nearer 4096 than 4001
    assert autotuned(dispatcher, 3900, 3900, 3900) == ALGO_NAMES[0]  # nearer 4001
    # Column-major A and B chose 128x128 at 4096 and 4001: the layout is part of the key.
    assert autotuned(dispatcher, 4096, 4096, 4096, "column-major") == ALGO_NAMES[1]
    assert autotuned(dispatcher, 8192, 8192, 8192, "column-major") == ALGO_NAMES[1]
    assert autotuned(dispatcher, 8192, 8192, 8192) == ALGO_NAMES[2]


def test_the_other_entry_points_are_unchanged(dispatcher):
    code, calls = dispatcher.call(
        "matmul_default", None, 0x1000, 0x2000, 0x3000, 16, 4096, 4096, 4096, 1, 1, 4096, 4096, 1
    )
    assert (code, calls) == (0, ["matmul_00000000_"])


@pytest.mark.parametrize("cplusplus", [False, True])
def test_the_tuned_dispatcher_compiles_cleanly_as_c_and_cplusplus(tmp_path, cuda_include_dir, cplusplus):
    result = run_module("ttlink.link", *matmul_headers(tmp_path), "--tuning", RECORD, "-o", tmp_path / "tuned")
    assert result.returncode == 0, result.stderr
    compiled = compile_c([tmp_path / "tuned.c"], cuda_include_dir, cplusplus=cplusplus)
    assert compiled.returncode == 0, compiled.stderr


def test_without_tuning_there_is_no_autotuned(tmp_path):
    headers = matmul_headers(tmp_path)
    assert run_module("ttlink.link", *headers, "-o", tmp_path / "plain").returncode == 0
    assert "autotuned" not in (tmp_path / "plain.h").read_text()


def test_table_and_output_do_not_depend_on_paths_or_order(tmp_path):
    outputs = []
    for name, order in (("a", 1), ("b", -1)):
        directory = tmp_path / name
        directory.mkdir()
        record = directory / "matmul_record.bzl"
        record.write_text(RECORD.read_text())
        headers = matmul_headers(directory)[::order]
        result = run_module("ttlink.link", *headers, "--tuning", record, "-o", directory / "out")
        assert result.returncode == 0, result.stderr
        outputs.append([(directory / f"out.{ext}").read_bytes() for ext in ("h", "c")])
    assert outputs[0] == outputs[1]
    assert "matmul_autotuned" in outputs[0][0].decode()


def _record(key: list[str], choices: list[tuple[list, dict]], kernel: str = "matmul_kernel") -> str:
    return json.dumps(
        {
            "format": 1,
            "kernels": [
                {
                    "file": "examples/matmul.py",
                    "kernel": kernel,
                    "params": [
                        "a_ptr",
                        "b_ptr",
                        "c_ptr",
                        *INTEGERS,
                        "BLOCK_SIZE_M",
                        "BLOCK_SIZE_N",
                        "BLOCK_SIZE_K",
                        "GROUP_SIZE_M",
                    ],
                    "specializations": [],
                    "tuning": {
                        "choices": [{"config": c, "key": k, "targets": ["cuda:90"]} for k, c in choices],
                        "key": key,
                    },
                }
            ],
        }
    )


CHOSEN = {"BLOCK_SIZE_K": 32, "BLOCK_SIZE_M": 64, "BLOCK_SIZE_N": 128, "num_stages": 4, "num_warps": 4}


@pytest.mark.parametrize(
    ("case", "text", "message"),
    [
        (
            "no linked algo",
            _record(["M"], [([16, "torch.float16"], {**CHOSEN, "num_warps": 2})]),
            "kernel 'examples/matmul.py:matmul_kernel': key (16, \"torch.float16\"): no linked algo of 'matmul' is "
            "the chosen config BLOCK_SIZE_K=32, BLOCK_SIZE_M=64, BLOCK_SIZE_N=128, num_stages=4, num_warps=2",
        ),
        (
            "unknown constexpr",
            _record(["M"], [([16], {**CHOSEN, "BLOCK": 4})]),
            "key (16): config sets 'BLOCK', which is not a constexpr of the kernel",
        ),
        (
            "two choices for one key",
            _record(["M"], [([16, "torch.float16"], CHOSEN), ([16, "torch.float32"], {**CHOSEN, "BLOCK_SIZE_M": 128})]),
            "chooses 64x128x32x8_warps4xstages4 and 128x128x32x8_warps4xstages4 for one key",
        ),
        (
            "key on a pointer",
            _record(["a_ptr"], [([16], CHOSEN)]),
            "autotune key parameter 'a_ptr' is not an integer argument of 'matmul'",
        ),
        (
            "non-integer key",
            _record(["M"], [(["16"], CHOSEN)]),
            'key ("16"): the key\'s first 1 values must be integers',
        ),
        ("key beyond int64", _record(["M"], [([2**63], CHOSEN)]), "values must be integers (64-bit)"),
        ("empty key", _record([], [([], CHOSEN)]), "the autotune key is empty"),
        (
            "other kernel",
            _record(["M"], [([16], CHOSEN)], kernel="add_kernel"),
            "no tuning choices for a linked kernel",
        ),
        ("not a record", "{nope", "not a ttlink record file: invalid JSON"),
    ],
)
def test_bad_tables_are_one_line_errors(tmp_path, case, text, message):
    headers = matmul_headers(tmp_path)
    tuning = tmp_path / "tuning.json"
    tuning.write_text(text)
    result = run_module("ttlink.link", *headers, "--tuning", tuning, "-o", tmp_path / "out")
    assert result.returncode == 2, case
    assert result.stderr.startswith(f"ttlink: error: {tuning}") and message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out.c").exists() and not (tmp_path / "out.h").exists()


def test_a_missing_tuning_file_is_an_error(tmp_path):
    result = run_module(
        "ttlink.link", *matmul_headers(tmp_path), "--tuning", tmp_path / "nope.json", "-o", tmp_path / "o"
    )
    assert (result.returncode, result.stderr) == (2, f"ttlink: error: {tmp_path / 'nope.json'}: no such tuning file\n")


def test_a_choice_names_its_cluster_size(tmp_path, cuda_include_dir):
    """Two algos differing only in num_ctas: a choice without num_ctas is the one of 1 CTA."""
    default, clustered = matmul_headers(tmp_path, CONFIGS[:1] * 2)
    text = clustered.read_text().replace("_00000001_", "_00000009_")
    text = text.replace(":64x128x32x8_warps4xstages4\n", ":64x128x32x8_warps4xstages4_ctas2\n")  # as compile writes it
    clustered.write_text(text.replace('"num_stages":4,', '"num_ctas":2,"num_stages":4,'))
    config = {"BLOCK_SIZE_M": 64, "BLOCK_SIZE_N": 128, "BLOCK_SIZE_K": 32, "GROUP_SIZE_M": 8}
    config |= {"num_warps": 4, "num_stages": 4}
    (tmp_path / "tuning.json").write_text(_record(["M"], [([16], {**config, "num_ctas": 2}), ([4096], config)]))
    tuning = [tmp_path / "tuning.json"]
    dispatcher = build_dispatcher([default, clustered], tmp_path / "out", cuda_include_dir, tuning=tuning)
    for m, symbol in ((16, "matmul_00000009_"), (4096, "matmul_00000000_")):
        code, calls = dispatcher.call("matmul_autotuned", None, 0x1000, 0x2000, 0x3000, m, 64, 64, 64, 1, 1, 64, 64, 1)
        assert (code, calls) == (0, [symbol])
