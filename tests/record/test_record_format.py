"""The record file: its text, merging, determinism and bad input. No Triton needed."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ttlink.errors import TtlinkError
from ttlink.metadata import Param
from ttlink.record_format import KernelRecord, compile_signature, dumps, load, loads, merge
from ttlink.signature import parse_signature

# Recorded on an H200 (Triton 3.6.0) by tests/record/gpu/record_matmul.py, run twice into one file.
H200_RECORD = Path(__file__).resolve().parent / "fixtures" / "h200_matmul_record.json"

PARAMS = ("x_ptr", "out_ptr", "n", "stride", "scale", "BLOCK")


def entry(hints: dict[str, int | None], block: int = 128, warps: int = 4, stages: int = 3, target: str = "cuda:90"):
    types = {"x_ptr": "*fp16", "out_ptr": "*fp16", "n": "i32", "stride": "i32", "scale": "fp32"}
    return {
        "args": {name: {"hint": hints.get(name), "type": type_} for name, type_ in types.items()},
        "constexprs": {"BLOCK": block},
        "num_stages": stages,
        "num_warps": warps,
        "target": target,
    }


ALIGNED = entry({"x_ptr": 16, "out_ptr": 16, "n": 16, "stride": 16})
UNIT = entry({"x_ptr": 16, "out_ptr": 16, "n": 16, "stride": 1})
GENERIC = entry({}, block=64, warps=2, target="cuda:80")
CHOICE = {
    "config": {"BLOCK": 64, "num_stages": 2, "num_warps": 2},
    "key": [1000, "torch.float32"],
    "targets": ["cuda:90"],
}


def recording(*entries, choices=(), file="kernels.py", kernel="scale_kernel"):
    record = KernelRecord(PARAMS, ("n",) if choices else None)
    for item in entries:
        record.add_specialization(copy.deepcopy(item))
    for item in choices:
        record.add_choice(copy.deepcopy(item))
    return {(file, kernel): record}


def test_text_is_sorted_indented_one_line_per_argument():
    text = dumps(recording(UNIT, GENERIC, ALIGNED, choices=[CHOICE]))
    assert text == (
        """{
  "format": 1,
  "kernels": [
    {
      "file": "kernels.py",
      "kernel": "scale_kernel",
      "params": ["x_ptr", "out_ptr", "n", "stride", "scale", "BLOCK"],
      "specializations": [
        {
          "args": {
            "n": {"hint": null, "type": "i32"},
            "out_ptr": {"hint": null, "type": "*fp16"},
            "scale": {"hint": null, "type": "fp32"},
            "stride": {"hint": null, "type": "i32"},
            "x_ptr": {"hint": null, "type": "*fp16"}
          },
          "constexprs": {"BLOCK": 64},
          "num_stages": 3,
          "num_warps": 2,
          "target": "cuda:80"
        },
        {
          "args": {
            "n": {"hint": 16, "type": "i32"},
            "out_ptr": {"hint": 16, "type": "*fp16"},
            "scale": {"hint": null, "type": "fp32"},
            "stride": {"hint": 1, "type": "i32"},
            "x_ptr": {"hint": 16, "type": "*fp16"}
          },
          "constexprs": {"BLOCK": 128},
          "num_stages": 3,
          "num_warps": 4,
          "target": "cuda:90"
        },
        {
          "args": {
            "n": {"hint": 16, "type": "i32"},
            "out_ptr": {"hint": 16, "type": "*fp16"},
            "scale": {"hint": null, "type": "fp32"},
            "stride": {"hint": 16, "type": "i32"},
            "x_ptr": {"hint": 16, "type": "*fp16"}
          },
          "constexprs": {"BLOCK": 128},
          "num_stages": 3,
          "num_warps": 4,
          "target": "cuda:90"
        }
      ],
      "tuning": {
        "choices": [
          {
            "config": {"BLOCK": 64, "num_stages": 2, "num_warps": 2},
            "key": [1000, "torch.float32"],
            "targets": ["cuda:90"]
          }
        ],
        "key": ["n"]
      }
    }
  ]
}
"""
    )


def test_text_reads_back_to_the_same_recording_and_text():
    original = recording(UNIT, GENERIC, ALIGNED, choices=[CHOICE])
    text = dumps(original)
    assert loads(text, "r.json") == original
    assert dumps(loads(text, "r.json")) == text


def test_a_record_made_on_the_gpu_reads_back_byte_identically():
    text = H200_RECORD.read_text()
    recording = loads(text, str(H200_RECORD))
    assert dumps(recording) == text
    (record,) = recording.values()
    assert len(record.specializations) == 11 and len(record.choices) == 3


def test_kernels_sort_by_file_then_name():
    runs = recording(UNIT, file="b.py", kernel="a_kernel") | recording(UNIT, file="a.py", kernel="z_kernel")
    runs |= recording(UNIT, file="a.py", kernel="b_kernel")
    files = [(group["file"], group["kernel"]) for group in json.loads(dumps(runs))["kernels"]]
    assert files == [("a.py", "b_kernel"), ("a.py", "z_kernel"), ("b.py", "a_kernel")]


def test_empty_recording_is_a_valid_file():
    assert dumps({}) == '{\n  "format": 1,\n  "kernels": []\n}\n'
    assert loads(dumps({}), "r.json") == {}


def test_a_missing_file_is_an_empty_recording(tmp_path):
    assert load(tmp_path / "absent.json") == {}


# Recordings of runs: each run a subset of these entries and choices.
_ENTRIES = [ALIGNED, UNIT, GENERIC, entry({"x_ptr": 16}), entry({"n": 16}, target="cuda:100")]
_CHOICES = [
    CHOICE,
    {**CHOICE, "key": [4096, "torch.float32"]},
    {**CHOICE, "config": {**CHOICE["config"], "BLOCK": 128}},
]
_runs = st.lists(
    st.tuples(st.lists(st.sampled_from(_ENTRIES), max_size=4), st.lists(st.sampled_from(_CHOICES), max_size=2)),
    min_size=1,
    max_size=4,
)


def _merged(runs) -> str:
    total: dict = {}
    for entries, choices in runs:
        merge(total, recording(*entries, choices=choices), "r.json")
    return dumps(total)


@settings(max_examples=60, deadline=None)
@given(runs=_runs, order=st.randoms())
def test_merging_is_order_independent_and_idempotent(runs, order):
    expected = _merged(runs)
    shuffled = list(runs)
    order.shuffle(shuffled)
    assert _merged(shuffled) == expected
    assert _merged(runs + runs) == expected
    # Merging the written file into itself, or into a merge of its parts, changes nothing.
    written = loads(expected, "r.json")
    merge(written, loads(expected, "r.json"), "r.json")
    assert dumps(written) == expected


def test_merge_keeps_every_choice_the_autotuner_made():
    other = {**CHOICE, "config": {**CHOICE["config"], "BLOCK": 128}}
    total = recording(UNIT, choices=[CHOICE])
    merge(total, recording(UNIT, choices=[other]), "r.json")
    assert sorted(choice["config"]["BLOCK"] for choice in total[("kernels.py", "scale_kernel")].choices.values()) == [
        64,
        128,
    ]


def test_merge_of_a_changed_kernel_is_an_error_naming_file_and_kernel():
    changed = {("kernels.py", "scale_kernel"): KernelRecord(("x_ptr", "BLOCK"))}
    with pytest.raises(TtlinkError) as raised:
        merge(recording(UNIT), changed, "shapes.json")
    assert str(raised.value).startswith("shapes.json: kernel 'kernels.py:scale_kernel' is recorded with parameters")


def test_merge_of_a_changed_autotune_key_is_an_error():
    retuned = recording(UNIT, choices=[CHOICE])
    retuned[("kernels.py", "scale_kernel")].tuning_key = ("n", "stride")
    with pytest.raises(TtlinkError, match=r"autotuned by \(n\) and by \(n, stride\)"):
        merge(recording(UNIT, choices=[CHOICE]), retuned, "shapes.json")


def test_a_kernel_listed_twice_in_a_file_is_one_kernel():
    document = json.loads(dumps(recording(UNIT)))
    document["kernels"].append(json.loads(dumps(recording(ALIGNED)))["kernels"][0])
    assert dumps(loads(json.dumps(document), "r.json")) == dumps(recording(UNIT, ALIGNED))


def test_compile_signature_is_a_sig_ttlink_compile_parses():
    signature = compile_signature(PARAMS, UNIT)
    assert signature == "*fp16:16, *fp16:16, i32:16, i32:1, fp32, 128"
    params = parse_signature(signature, PARAMS, frozenset({"BLOCK"}), "scale_kernel")
    assert params[3] == Param("stride", "arg", type="i32", c_type="int32_t", hint=1)
    assert params[5] == Param("BLOCK", "constexpr", value=128)


def _valid() -> dict:
    return json.loads(dumps(recording(UNIT, choices=[CHOICE])))


def _edit(change):
    document = _valid()
    change(document)
    return json.dumps(document)


def _kernel(document):
    return document["kernels"][0]


def _spec(document):
    return _kernel(document)["specializations"][0]


BAD_FILES = {
    "not JSON": ("{", "r.json:1: not a ttlink record file: invalid JSON"),
    "a list": ("[]", 'not a ttlink record file (no "format" key at the top)'),
    "another tool's JSON": ('{"name": "x"}', 'not a ttlink record file (no "format" key at the top)'),
    "a newer format": ('{"format": 2, "kernels": []}', "record format 2 is not supported (this ttlink reads format 1)"),
    "format true": ('{"format": true, "kernels": []}', "record format true is not supported"),
    "deep nesting": ("[" * 200_000, "JSON nested too deeply"),
    "a huge integer": ('{"format": 1, "kernels": [' + "9" * 5000 + "]}", "not a ttlink record file"),
    "an unknown key": (_edit(lambda d: d.update(extra=1)), "the top level: unknown key 'extra'"),
    "no kernels": (_edit(lambda d: d.pop("kernels")), "the top level: missing key 'kernels'"),
    "an absolute file": (_edit(lambda d: _kernel(d).update(file="/src/k.py")), "'file' must be a relative path"),
    "a file above the root": (_edit(lambda d: _kernel(d).update(file="../k.py")), "'file' must be a relative path"),
    "a bad kernel name": (_edit(lambda d: _kernel(d).update(kernel="a-b")), "'kernel' must be a function name"),
    "repeated params": (
        _edit(lambda d: _kernel(d).update(params=["n", "n"])),
        "kernel 'kernels.py:scale_kernel': 'params' must list distinct parameter names",
    ),
    "a parameter missing": (
        _edit(lambda d: _spec(d)["args"].pop("scale")),
        "specializations[0]: 'args' and 'constexprs' must name each parameter once",
    ),
    "hint 8": (_edit(lambda d: _spec(d)["args"]["n"].update(hint=8)), "argument 'n': 'hint' must be 16, 1 or null"),
    "hint true": (_edit(lambda d: _spec(d)["args"]["n"].update(hint=True)), "'hint' must be 16, 1 or null"),
    "a pointer equal to 1": (_edit(lambda d: _spec(d)["args"]["x_ptr"].update(hint=1)), "a *fp16 cannot have hint 1"),
    "a float hinted": (_edit(lambda d: _spec(d)["args"]["scale"].update(hint=16)), "a fp32 cannot have hint 16"),
    "target cuda:abc": (
        _edit(lambda d: _spec(d).update(target="cuda:abc")),
        'specializations[0]: \'target\' must be a target like "cuda:90", got "cuda:abc"',
    ),
    "num_warps 0": (_edit(lambda d: _spec(d).update(num_warps=0)), "'num_warps' must be a positive integer, got 0"),
    "num_stages -1": (_edit(lambda d: _spec(d).update(num_stages=-1)), "'num_stages' must be a positive integer"),
    "a list constexpr": (_edit(lambda d: _spec(d)["constexprs"].update(BLOCK=[1])), "constexpr 'BLOCK' must be a"),
    "a tuning key not a parameter": (
        _edit(lambda d: _kernel(d)["tuning"].update(key=["m"])),
        "'tuning' 'key' must name parameters of the kernel",
    ),
    "a choice without num_warps": (
        _edit(lambda d: _kernel(d)["tuning"]["choices"][0]["config"].pop("num_warps")),
        "tuning choices[0]: 'config' 'num_warps' must be a positive integer, got null",
    ),
    "unsorted choice targets": (
        _edit(lambda d: _kernel(d)["tuning"]["choices"][0].update(targets=["cuda:90", "cuda:80"])),
        "'targets' must list distinct targets, sorted",
    ),
}
BAD_FILES["a NaN constexpr"] = (
    json.dumps(_valid()).replace('"BLOCK": 128', '"BLOCK": NaN'),
    "constexpr 'BLOCK' must be a number, string, boolean or null",
)


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_one_line_naming_it(case, tmp_path):
    text, message = BAD_FILES[case]
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(TtlinkError) as raised:
        load(path)
    assert str(raised.value).startswith(str(path) + ":")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_unreadable_files_are_one_line(tmp_path):
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(TtlinkError, match=r"binary.json: not a ttlink record file: not UTF-8 text"):
        load(tmp_path / "binary.json")
    with pytest.raises(TtlinkError, match=r"dir.json: cannot read record file"):
        (tmp_path / "dir.json").mkdir()
        load(tmp_path / "dir.json")


def test_every_bad_case_starts_from_a_valid_file():
    assert loads(json.dumps(_valid()), "r.json") == recording(UNIT, choices=[CHOICE])
