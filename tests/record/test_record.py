"""`ttlink record` with Triton's real JIT and hooks, on a stand-in driver (fixtures/cpu_driver.py)."""

from __future__ import annotations

import json
import shutil

import pytest
import triton
import triton.language as tl
from record_testing import FIXTURES, load_fixture, record_cli

import ttlink.record
from ttlink.compile import main as compile_main
from ttlink.errors import TtlinkError
from ttlink.record_format import KernelRecord, compile_signature, file_text, load

FakeTensor = load_fixture("cpu_driver").FakeTensor


def warm_scale(kernels, x_address: int, out_address: int, n: int, stride: int) -> None:
    """One JIT specialisation of scale_kernel: compiled, not launched."""
    x, out = FakeTensor("float16", x_address), FakeTensor("float16", out_address)
    kernels.scale_kernel.warmup(x, out, n, stride, 0.5, BLOCK=128, grid=(1,))


def hints(group: dict) -> list[dict]:
    """Each specialisation's hints, by argument."""
    return [{name: arg["hint"] for name, arg in entry["args"].items()} for entry in group["specializations"]]


def test_records_the_hints_of_each_layout(kernels, tmp_path):
    out = tmp_path / "shapes.json"
    with ttlink.record(out, root=FIXTURES):
        warm_scale(kernels, 4096, 8192, 4096, 16)  # aligned, n and stride divisible by 16
        warm_scale(kernels, 4096, 8200, 1001, 3)  # out off the 16-byte grid, n and stride odd
        warm_scale(kernels, 4096, 8192, 4096, 1)  # unit stride: the JIT folds it
        warm_scale(kernels, 4096, 8192, 4096, 16)  # the first again: reused, one entry
    (group,) = json.loads(out.read_text())["kernels"]
    assert (group["file"], group["kernel"]) == ("kernels.py", "scale_kernel")
    assert group["params"] == ["x_ptr", "out_ptr", "n", "stride", "scale", "BLOCK"]
    assert sorted(hints(group), key=json.dumps) == sorted(
        [
            {"x_ptr": 16, "out_ptr": 16, "n": 16, "stride": 16, "scale": None},
            {"x_ptr": 16, "out_ptr": None, "n": None, "stride": None, "scale": None},
            {"x_ptr": 16, "out_ptr": 16, "n": 16, "stride": 1, "scale": None},
        ],
        key=json.dumps,
    )
    for entry in group["specializations"]:
        assert entry["constexprs"] == {"BLOCK": 128}
        assert (entry["num_warps"], entry["num_stages"], entry["target"]) == (4, 3, "cuda:90")
        assert entry["args"]["x_ptr"]["type"] == "*fp16" and entry["args"]["scale"]["type"] == "fp32"
        assert entry["args"]["stride"]["type"] == "i32"


def test_records_the_target_of_the_driver(kernels, cpu_driver, tmp_path):
    cpu_driver.arch = 80
    with ttlink.record(tmp_path / "r.json", root=FIXTURES):
        warm_scale(kernels, 0, 0, 16, 16)
    (group,) = json.loads((tmp_path / "r.json").read_text())["kernels"]
    assert [entry["target"] for entry in group["specializations"]] == ["cuda:80"]


def test_records_every_autotune_candidate_and_the_chosen_config(kernels, tmp_path):
    x, out = FakeTensor("float32", 0), FakeTensor("float32", 64)
    with ttlink.record(tmp_path / "r.json", root=FIXTURES):
        kernels.tuned_copy_kernel.run(x, out, 1000, grid=(1,), warmup=True)
        kernels.tuned_copy_kernel.run(x, out, 4096, grid=(1,), warmup=True)
    (group,) = json.loads((tmp_path / "r.json").read_text())["kernels"]
    assert group["kernel"] == "tuned_copy_kernel"
    configs = {(e["constexprs"]["BLOCK"], e["num_warps"], e["num_stages"]) for e in group["specializations"]}
    assert configs == {(64, 2, 2), (128, 4, 3)}  # both candidates were compiled to be timed
    assert group["tuning"] == {
        "choices": [
            {
                "config": {"BLOCK": 64, "num_stages": 2, "num_warps": 2},
                "key": [1000, "fp32", "fp32"],
                "targets": ["cuda:90"],
            },
            {
                "config": {"BLOCK": 64, "num_stages": 2, "num_warps": 2},
                "key": [4096, "fp32", "fp32"],
                "targets": ["cuda:90"],
            },
        ],
        "key": ["n"],
    }


def test_records_the_choice_of_an_autotuner_dropped_before_the_end(kernels, tmp_path):
    """An autotuner made in a function (the GPU check's) is gone when the recording ends."""

    def tune_once() -> None:
        tuned = triton.autotune(
            configs=[triton.Config({"BLOCK": 64}, num_warps=2), triton.Config({"BLOCK": 256}, num_warps=8)], key=["n"]
        )(kernels.tuned_copy_kernel.fn)
        tuned.run(FakeTensor("float32", 0), FakeTensor("float32", 64), 77, grid=(1,), warmup=True)

    with ttlink.record(tmp_path / "r.json", root=FIXTURES):
        tune_once()
    (group,) = json.loads((tmp_path / "r.json").read_text())["kernels"]
    assert group["tuning"]["choices"] == [
        {"config": {"BLOCK": 64, "num_stages": 3, "num_warps": 2}, "key": [77, "fp32", "fp32"], "targets": ["cuda:90"]}
    ]


def test_an_autotuner_that_tuned_nothing_adds_no_tuning(kernels, tmp_path):
    """A kernel module's own @triton.autotune that never runs (examples/matmul.py's, keyed on the
    sizes) beside the one that tunes (the GPU check's, keyed on sizes and strides): only the
    one that chose configs is recorded; its key is not another key of the kernel."""
    idle = triton.autotune(configs=[triton.Config({"BLOCK": 128})], key=["n"])(kernels.scale_kernel)
    candidates = [triton.Config({"BLOCK": 64}, num_warps=2), triton.Config({"BLOCK": 256}, num_warps=8)]
    used = triton.autotune(configs=candidates, key=["n", "stride"])(kernels.scale_kernel)
    with ttlink.record(tmp_path / "untuned.json", root=FIXTURES):
        warm_scale(kernels, 0, 0, 16, 16)  # no autotuner runs
    (group,) = json.loads((tmp_path / "untuned.json").read_text())["kernels"]
    assert "tuning" not in group
    x, out = FakeTensor("float16", 0), FakeTensor("float16", 64)
    with ttlink.record(tmp_path / "tuned.json", root=FIXTURES):
        used.run(x, out, 4096, 16, 0.5, grid=(1,), warmup=True)
    (group,) = json.loads((tmp_path / "tuned.json").read_text())["kernels"]
    assert group["tuning"] == {
        "choices": [
            {
                "config": {"BLOCK": 64, "num_stages": 3, "num_warps": 2},
                "key": [4096, 16, "fp16", "fp16"],
                "targets": ["cuda:90"],
            }
        ],
        "key": ["n", "stride"],
    }
    assert idle.cache == {}


def test_the_previous_hook_is_called_and_put_back(kernels, tmp_path, monkeypatch):
    calls = []

    def previous(**hook_args):
        calls.append(hook_args["fn"].name)

    monkeypatch.setattr(triton.knobs.runtime, "jit_post_compile_hook", previous)
    with ttlink.record(tmp_path / "r.json", root=FIXTURES):
        warm_scale(kernels, 0, 0, 16, 16)
    assert calls == ["scale_kernel"]
    assert triton.knobs.runtime.jit_post_compile_hook is previous
    warm_scale(kernels, 0, 0, 17, 16)  # after the recording: not recorded
    assert len(json.loads((tmp_path / "r.json").read_text())["kernels"][0]["specializations"]) == 1
    assert calls == ["scale_kernel", "scale_kernel"]


def test_nothing_is_written_when_the_recorded_code_fails(kernels, tmp_path):
    hook_before = triton.knobs.runtime.jit_post_compile_hook
    with pytest.raises(RuntimeError, match="program failed"), ttlink.record(tmp_path / "r.json", root=FIXTURES):
        warm_scale(kernels, 0, 0, 16, 16)
        raise RuntimeError("program failed")
    assert not (tmp_path / "r.json").exists()
    assert triton.knobs.runtime.jit_post_compile_hook is hook_before


def test_a_kernel_outside_the_root_is_skipped_with_a_note(kernels, tmp_path, capsys):
    with ttlink.record(tmp_path / "r.json", root=tmp_path):
        warm_scale(kernels, 0, 0, 16, 16)
        warm_scale(kernels, 0, 0, 32, 32)
    assert json.loads((tmp_path / "r.json").read_text())["kernels"] == []
    notes = capsys.readouterr().err.splitlines()
    assert notes == [
        f"ttlink record: note: skipped kernel 'scale_kernel' of {FIXTURES / 'kernels.py'}: outside the root {tmp_path} "
        "(--root)",
        "ttlink record: note: no Triton kernel under the root was compiled while recording",
    ]


def test_what_ttlink_compile_cannot_build_is_skipped_with_a_note(kernels, tmp_path, capsys):
    @triton.jit
    def local_kernel(x_ptr, BLOCK: tl.constexpr):
        tl.store(x_ptr + tl.arange(0, BLOCK), 1.0)

    x = FakeTensor("float32", 0)
    with ttlink.record(tmp_path / "r.json", root=FIXTURES):
        local_kernel.warmup(x, BLOCK=16, grid=(1,))
        kernels.bias_kernel.warmup(x, None, 16, BLOCK=16, grid=(1,))
        kernels.bias_kernel.warmup(x, x, 16, BLOCK=16, grid=(1,))
    (group,) = json.loads((tmp_path / "r.json").read_text())["kernels"]
    assert group["kernel"] == "bias_kernel" and len(group["specializations"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"ttlink record: note: skipped kernel '{local_kernel.fn.__qualname__}' of {__file__}: not a module-level "
        "function, which ttlink compile could not load",
        "ttlink record: note: skipped a specialisation of kernel 'kernels.py:bias_kernel': parameter 'bias_ptr' is "
        "None, which a record cannot hold",
    ]


def test_clusters_are_recorded_where_num_ctas_is_not_1(kernels, tmp_path):
    x = FakeTensor("float32", 0)
    with ttlink.record(tmp_path / "r.json", root=FIXTURES):
        kernels.scale_kernel.warmup(x, x, 16, 16, 0.5, BLOCK=128, num_ctas=2, grid=(1,))
        kernels.scale_kernel.warmup(x, x, 16, 16, 0.5, BLOCK=128, grid=(1,))
    (group,) = json.loads((tmp_path / "r.json").read_text())["kernels"]
    assert sorted(entry.get("num_ctas", 1) for entry in group["specializations"]) == [1, 2]
    assert load(tmp_path / "r.json")[("kernels.py", "scale_kernel")].params == tuple(group["params"])


def test_tensor_descriptors_are_recorded_and_compiled_with_their_type(kernels, tmp_path, monkeypatch):
    from triton.tools.tensor_descriptor import TensorDescriptor

    x = FakeTensor("float16", 0)
    desc = TensorDescriptor(x, shape=[256, 64], strides=[64, 1], block_shape=[64, 32])
    with ttlink.record(tmp_path / "r.json", root=FIXTURES):
        kernels.tile_copy_kernel.warmup(desc, desc, 256, BLOCK_M=64, BLOCK_N=32, grid=(1,))
    (group,) = json.loads((tmp_path / "r.json").read_text())["kernels"]
    (entry,) = group["specializations"]
    assert entry["args"]["in_desc"] == {"hint": None, "type": "tensordesc<fp16[64, 32]>"}
    monkeypatch.chdir(FIXTURES)
    compile_main(["kernels.py", "-n", "tile_copy_kernel", "--record", str(tmp_path / "r.json"), "--target", "cuda:90",
                  "-g", "M / BLOCK_M, 1, 1", "-o", str(tmp_path / "tile")])  # fmt: skip
    (header,) = tmp_path.glob("tile.*.h")
    assert "(CUstream stream, CUdeviceptr in_desc_base, int64_t in_desc_shape0, " in header.read_text()


def test_compile_record_compiles_a_recorded_cluster_with_its_num_ctas(tmp_path, monkeypatch):
    path = tmp_path / "shapes.json"
    record = KernelRecord(("x_ptr", "out_ptr", "n", "stride", "scale", "BLOCK"))
    args = {name: {"hint": None, "type": "i32"} for name in ("n", "stride")}
    args |= {"x_ptr": {"hint": None, "type": "*fp32"}, "out_ptr": {"hint": None, "type": "*fp32"}}
    args["scale"] = {"hint": None, "type": "fp32"}
    for clusters in ({}, {"num_ctas": 2}):
        record.add_specialization({"args": args, "constexprs": {"BLOCK": 128}, **clusters, "num_stages": 3,
                                   "num_warps": 4, "target": "cuda:90"})  # fmt: skip
    path.write_text(file_text({("kernels.py", "scale_kernel"): record}, path, path.parent))
    monkeypatch.chdir(FIXTURES)
    compile_main(["kernels.py", "-n", "scale_kernel", "--record", str(path), "--target", "cuda:90", "-g", "1, 1, 1",
                  "-o", str(tmp_path / "scale")])  # fmt: skip
    comments = sorted(source.read_text().splitlines()[2] for source in tmp_path.glob("scale.*.c"))
    assert comments == [
        " *   BLOCK=128, num_warps=4, num_stages=3 */",
        " *   BLOCK=128, num_warps=4, num_stages=3, num_ctas=2 */",
    ]
    with pytest.raises(TtlinkError, match="num_ctas 2 needs thread block clusters"):
        compile_main(["kernels.py", "-n", "scale_kernel", "--record", str(path), "--target", "cuda:80", "-g",
                      "1, 1, 1", "-o", str(tmp_path / "old")])  # fmt: skip


def test_a_run_merges_into_the_existing_file(kernels, tmp_path):
    out = tmp_path / "r.json"
    with ttlink.record(out, root=FIXTURES):
        warm_scale(kernels, 0, 0, 16, 16)
    with ttlink.record(out, root=FIXTURES):
        warm_scale(kernels, 0, 0, 16, 1)
    assert len(json.loads(out.read_text())["kernels"][0]["specializations"]) == 2


def test_a_bzl_record_holds_what_a_json_record_would_and_merges_alike(kernels, tmp_path):
    json_out, bzl_out = tmp_path / "r.json", tmp_path / "shapes.bzl"
    # Both at once: the JIT calls its hook once per specialisation and process.
    with ttlink.record(json_out, root=FIXTURES), ttlink.record(bzl_out, root=FIXTURES):
        warm_scale(kernels, 0, 0, 16, 16)
    with ttlink.record(json_out, root=FIXTURES), ttlink.record(bzl_out, root=FIXTURES):
        warm_scale(kernels, 0, 0, 16, 1)
    text = bzl_out.read_text()
    assert text.startswith("# Generated by `ttlink record`.")
    assert 'json.decode(r"""\n' + json_out.read_text() + '"""),\n    source = "shapes.bzl",\n)\n' in text
    assert len(json.loads(json_out.read_text())["kernels"][0]["specializations"]) == 2


def test_a_bad_existing_file_fails_before_recording(kernels, tmp_path):
    (tmp_path / "r.json").write_text('{"name": "not a record"}')
    with pytest.raises(TtlinkError, match="r.json: not a ttlink record file"), ttlink.record(tmp_path / "r.json"):
        pytest.fail("the body ran")
    assert (tmp_path / "r.json").read_text() == '{"name": "not a record"}'


def test_a_triton_without_jit_hooks_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(triton, "knobs", None)  # as before Triton 3.4
    with pytest.raises(TtlinkError, match=r"^recording needs Triton >= 3.4 \(its JIT hooks\); this is Triton \d"):
        ttlink.record(tmp_path / "r.json").__enter__()
    assert not (tmp_path / "r.json").exists()


def test_the_recorded_signature_compiles_to_the_recorded_hints(kernels, tmp_path):
    """A record entry maps to `ttlink compile -s SIG -w W -ns S --target T` (docs/RECORD.md)."""
    with ttlink.record(tmp_path / "r.json", root=FIXTURES):
        warm_scale(kernels, 0, 0, 4096, 1)
    (group,) = json.loads((tmp_path / "r.json").read_text())["kernels"]
    (entry,) = group["specializations"]
    signature = compile_signature(group["params"], entry)
    assert signature == "*fp16:16, *fp16:16, i32:16, i32:1, fp32, 128"
    compile_main(
        [
            str(FIXTURES / group["file"]),
            "-n",
            group["kernel"],
            "-s",
            signature,
            "--arg-names",
            ",".join(group["params"]),
        ]
        + ["-w", str(entry["num_warps"]), "-ns", str(entry["num_stages"]), "--target", entry["target"]]
        + ["-g", "(n + 127) / 128, 1, 1", "-o", str(tmp_path / "scale")]
    )
    header = (tmp_path / "scale.h").read_text()
    # stride is folded (:1): the entry point takes x_ptr, out_ptr, n and scale only.
    assert "CUdeviceptr x_ptr, CUdeviceptr out_ptr, int32_t n, float scale" in header


def _scale_record(path, *entries):
    """A record of fixtures/kernels.py:scale_kernel with `entries` (hints, target), BLOCK 128."""
    types = {"x_ptr": "*fp16", "out_ptr": "*fp16", "n": "i32", "stride": "i32", "scale": "fp32"}
    record = KernelRecord(("x_ptr", "out_ptr", "n", "stride", "scale", "BLOCK"))
    for hints, target in entries:
        args = {name: {"hint": hints.get(name), "type": type_} for name, type_ in types.items()}
        record.add_specialization(
            {"args": args, "constexprs": {"BLOCK": 128}, "num_stages": 3, "num_warps": 4, "target": target}
        )
    path.write_text(file_text({("kernels.py", "scale_kernel"): record}, path, path.parent))


def test_compile_record_compiles_every_recorded_specialisation_once(tmp_path, monkeypatch):
    unit = {"x_ptr": 16, "out_ptr": 16, "n": 16, "stride": 1}
    _scale_record(tmp_path / "shapes.bzl", (unit, "cuda:90"), (unit, "cuda:80"), ({"x_ptr": 16}, "cuda:90"))
    monkeypatch.chdir(FIXTURES)  # the record names kernels.py relative to here, as `ttlink record` would
    compile_main(
        ["kernels.py", "-n", "scale_kernel", "--record", str(tmp_path / "shapes.bzl"), "--target", "cuda:80"]
        + ["-g", "(n + 127) / 128, 1, 1", "-o", str(tmp_path / "scale")]
    )
    headers = sorted(tmp_path.glob("scale.*.h"))
    # The recorded targets are not used: the two hint sets, each compiled for cuda:80 once.
    assert len(headers) == 2 and len(list(tmp_path.glob("scale.*.c"))) == 2
    launches = [line for header in headers for line in header.read_text().splitlines() if "(CUstream" in line]
    assert sorted(line.split("(CUstream stream, ", 1)[1] for line in launches) == [
        "CUdeviceptr x_ptr, CUdeviceptr out_ptr, int32_t n, float scale);",  # stride folded (:1)
        "CUdeviceptr x_ptr, CUdeviceptr out_ptr, int32_t n, int32_t stride, float scale);",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-n", "add_kernel"],
            "{record}: no kernel 'kernels.py:add_kernel' is recorded (it records 'kernels.py:scale_kernel')",
        ),
        (
            ["-n", "scale_kernel", "-s", "*fp16, *fp16, i32, i32, fp32, 128"],
            "--record compiles what FILE recorded: leave out -s, -w, -ns",
        ),
        (["-n", "scale_kernel", "--binary-out", "x.json"], "--record writes C: leave out --binary-out"),
        (
            ["-n", "scale_kernel", "--launch-pdl"],
            "--record compiles what FILE recorded: leave out --num-ctas and --launch-*",
        ),
    ],
)
def test_compile_record_errors_are_one_line(args, message, tmp_path, monkeypatch):
    record = tmp_path / "shapes.json"
    _scale_record(record, ({}, "cuda:90"))
    monkeypatch.chdir(FIXTURES)
    with pytest.raises(TtlinkError) as raised:
        compile_main(
            ["kernels.py", "--record", str(record), "-t", "cuda:80", "-g", "1, 1, 1", "-o", str(tmp_path / "k"), *args]
        )
    assert str(raised.value) == message.format(record=record)
    assert not list(tmp_path.glob("k*"))


# The command line: a fresh interpreter per run, as a user runs it.


def test_cli_records_a_script_byte_identically_whatever_the_order(tmp_path):
    program = str(FIXTURES / "program.py")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    result = record_cli("-o", str(first), "--root", str(FIXTURES), "--", program, "aligned", "unit", "tuned")
    assert result.returncode == 0, result.stderr
    assert record_cli("-o", str(first), "--root", str(FIXTURES), "--", program, "misaligned").returncode == 0
    # The other order of runs and of launches, from Triton's disk cache this time: same bytes.
    assert record_cli("-o", str(second), "--root", str(FIXTURES), "--", program, "misaligned", "unit").returncode == 0
    assert record_cli("-o", str(second), "--root", str(FIXTURES), "--", program, "tuned", "aligned").returncode == 0
    assert first.read_bytes() == second.read_bytes()
    kernels = json.loads(first.read_text())["kernels"]
    assert [(group["kernel"], len(group["specializations"])) for group in kernels] == [
        ("scale_kernel", 3),
        ("tuned_copy_kernel", 2),
    ]
    assert first.read_text().endswith("}\n")


def test_cli_files_are_relative_to_the_current_directory_and_the_same_in_every_checkout(tmp_path):
    texts = []
    for checkout in (tmp_path / "one", tmp_path / "elsewhere" / "two"):
        shutil.copytree(FIXTURES, checkout, ignore=shutil.ignore_patterns("__pycache__"))
        result = record_cli("-o", "r.json", "--", "program.py", "unit", "tuned", cwd=checkout)
        assert result.returncode == 0, result.stderr
        texts.append((checkout / "r.json").read_bytes())
    assert texts[0] == texts[1]
    assert [group["file"] for group in json.loads(texts[0])["kernels"]] == ["kernels.py", "kernels.py"]


def test_cli_runs_a_module_with_its_arguments(tmp_path):
    result = record_cli("-o", str(tmp_path / "r.json"), "--", "-m", "program", "--arch", "80", "unit", cwd=FIXTURES)
    assert result.returncode == 0, result.stderr
    (group,) = json.loads((tmp_path / "r.json").read_text())["kernels"]
    assert [entry["target"] for entry in group["specializations"]] == ["cuda:80"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{out}", "--", "{program}", "--exit", "3", "unit"], "exited with status 3; {out} not written"),
        (["-o", "{out}", "--", "missing.py"], "no such Python script 'missing.py' (use '-m MODULE' for a module)"),
        (["-o", "{out}", "--", "-m", "no_such_module_here"], "no module named 'no_such_module_here' to run"),
        (["-o", "{out}"], "no program to record: give '-- SCRIPT.py [ARGS...]'"),
        (["-o", "{out}", "{program}"], "unexpected '{program}': the program comes after '--'"),
        (["-o", "{out}", "--verbose", "--", "{program}"], "unknown option '--verbose'"),
        (["--", "{program}"], "the following arguments are required: -o/--output"),
        (["-o", "{out}", "--root", "{out}/missing", "--", "{program}"], "--root must be an existing directory"),
        (["-o", "{tmp}", "--", "{program}"], "{tmp}: is a directory; -o names the record file"),
        (
            ["-o", "{tmp}/no/r.json", "--", "{program}"],
            "{tmp}/no/r.json: cannot write the record: no directory {tmp}/no",
        ),
    ],
)
def test_cli_errors_are_one_line_and_write_nothing(args, message, tmp_path):
    values = {"out": str(tmp_path / "r.json"), "program": str(FIXTURES / "program.py"), "tmp": str(tmp_path)}
    # In the fixtures' directory, so the root (the current directory) holds the kernels: no note.
    result = record_cli(*(arg.format(**values) for arg in args), cwd=FIXTURES)
    assert result.returncode == 2
    assert result.stderr.startswith("ttlink: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message.format(**values) in result.stderr
    assert not (tmp_path / "r.json").exists()


def test_cli_rejects_a_foreign_file_before_running_the_program(tmp_path):
    out = tmp_path / "r.json"
    out.write_text('{"format": 7}')
    result = record_cli("-o", str(out), "--", str(FIXTURES / "program.py"), "--exit", "5")
    assert (result.returncode, result.stderr) == (
        2,
        f"ttlink: error: {out}: record format 7 is not supported (this ttlink reads format 1)\n",
    )
    assert out.read_text() == '{"format": 7}'
