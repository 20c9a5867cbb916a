"""Property: for any directive lines and suffixes, and any ttlink-meta record, `ttlink link`
gives either the one-line error (exit 2, no output) or C that compiles with -Werror; never a
traceback."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from link_testing import compile_c, constexpr, i32, kernel_meta, ptr

from ttlink.errors import run_cli
from ttlink.link import main as link_main

TRITON_TYPES = {"CUdeviceptr": "*fp32", "int32_t": "i32", "int64_t": "i64", "double": "fp32", "uint8_t": "u8"}


@st.composite
def coherent_directive(draw) -> str:
    """A directive as some compile.py would write it: parameters, hints, constexprs, suffix
    in the old (every index) or new (hinted only, backend line) format, true signature hash."""
    count = draw(st.integers(0, 5))
    names = draw(
        st.lists(
            st.sampled_from(["x", "y", "n", "stride", "out_ptr", "m"]),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    params = []
    for name in names:
        if draw(st.integers(0, 3)) == 0:
            params.append(("constexpr", draw(st.sampled_from(["64", "128", "-1", "0.5", "1e-05"])), name, None))
        else:
            c_type = draw(st.sampled_from(sorted(TRITON_TYPES)))
            params.append(("arg", c_type, name, draw(st.sampled_from([None, None, 16, 1]))))
    warps, stages = draw(st.integers(1, 8)), draw(st.integers(1, 4))
    sig = [
        text if kind == "constexpr" else TRITON_TYPES[text] + {16: ":16", 1: ":1", None: ""}[hint]
        for kind, text, _, hint in params
    ]
    sig_hash = hashlib.sha256(" ".join([*sig, f"warps{warps}xstages{stages}"]).encode()).hexdigest()[:8]
    new_format = draw(st.booleans())
    letters = {16: "d", 1: "c", None: ""}
    suffix = "".join(f"{i}{letters[p[3]]}" for i, p in enumerate(params) if p[3] or not new_format)
    c_sig = ", ".join(
        f"{'int32_t' if hint == 1 else text} {name}" for kind, text, name, hint in params if kind == "arg"
    )
    values = [text for kind, text, _, _ in params if kind == "constexpr"] + ["1" for p in params if p[3] == 1]
    backend = "// tt-linker-backend: cuda\n" if new_format else ""
    kernel = draw(st.sampled_from(["k", "mm"]))
    line = (
        f"{backend}// tt-linker: {kernel}_{sig_hash}_{suffix}:{c_sig}:{'x'.join(values)}_warps{warps}xstages{stages}\n"
    )
    if draw(st.integers(0, 4)) == 0:  # one character replaced: most become malformed
        position = draw(st.integers(0, len(line) - 1))
        line = line[:position] + draw(st.sampled_from(list(":,_x0d c-.e "))) + line[position + 1 :]
    return line


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.lists(coherent_directive(), min_size=1, max_size=3), prefix=st.sampled_from(["", "p_", "9"]))
def test_any_directive_gives_a_clean_error_or_compiling_c(headers, prefix, cuda_include_dir, tmp_path_factory):
    # A fresh directory per example, under pytest's base temp (tmp_path is one per test).
    with tempfile.TemporaryDirectory(dir=tmp_path_factory.getbasetemp()) as scratch:
        directory = Path(scratch)
        paths = []
        for index, text in enumerate(headers):
            paths.append(directory / f"h{index}.h")
            paths[-1].write_text(text)
        out = directory / "out"
        code = run_cli(link_main, [*map(str, paths), "-o", str(out), "--prefix", prefix])
        outputs = sorted(p.name for p in directory.glob("out*"))
        if code == 2:
            assert outputs == []
            return
        assert code == 0 and outputs == ["out.c", "out.h"]
        if "hip" in Path(f"{out}.h").read_text():
            return  # no HIP headers on this machine
        unit = directory / "unit.c"
        unit.write_text('#include "out.h"\n#include "out.c"\n')
        result = compile_c([unit], cuda_include_dir)
        assert result.returncode == 0, result.stderr


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=6,
)
META = kernel_meta("k", "k_00000001_0d", [ptr("x", 16), i32("n", 1), constexpr("BLOCK", 64)])
META_WORDS = ["cuda", "hip", "arg", "constexpr", "int32_t", "float", "CUdeviceptr", "*fp32", 16, 1, 0, -1, "x", "n"]


@st.composite
def meta_record(draw) -> dict:
    """A valid ttlink-meta record with one to three fields (top level or of a parameter)
    removed or replaced by any JSON value."""
    record = json.loads(META.to_line().split(":", 1)[1])
    for _ in range(draw(st.integers(1, 3))):
        params = record.get("params")
        objects = [p for p in params if isinstance(p, dict)] if isinstance(params, list) else []
        target = record if not objects or draw(st.booleans()) else draw(st.sampled_from(objects))
        key = draw(st.sampled_from([*sorted(target), "extra"]))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(JSON_VALUES | st.sampled_from(META_WORDS))
    return record


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=meta_record())
def test_any_meta_record_gives_a_clean_error_or_output(record, tmp_path_factory):
    with tempfile.TemporaryDirectory(dir=tmp_path_factory.getbasetemp()) as scratch:
        header = Path(scratch) / "k.h"
        header.write_text(f"// ttlink-meta: {json.dumps(record)}\n")
        code = run_cli(link_main, [str(header), "-o", str(Path(scratch) / "out")])
        assert code in (0, 2)
