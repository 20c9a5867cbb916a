"""Host tensor descriptors, scratch memory and launch options through `ttlink compile` (real
Triton compiles, no GPU): the records, the header's meta line, the generated C (golden, and
compiled as C and C++), and what is refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_compile import C_FLAGS, KERNELS, _assert_fails, compile_c

from ttlink.compile import assemble_main
from ttlink.compile import main as compile_main
from ttlink.errors import TtlinkError
from ttlink.frontend import CompiledTarget, Scratch, TensorMap, entry_param_sizes
from ttlink.metadata import DIRECTIVE, LaunchOptions, parse_line

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
TILE_SIG = "tensordesc<fp16[64,32]>, tensordesc<fp16[64, 32]>, i32, 64, 32"
TILE_GRID = "(M + BLOCK_M - 1) / BLOCK_M, (in_desc_shape1 + BLOCK_N - 1) / BLOCK_N, 1"
# tile_via_descriptor builds two descriptors with tl.make_tensor_descriptor: global scratch.
DEVICE_SIG = "*fp16:16, *fp16:16, i32:16, i32:16, 64"
FP16_MAP = TensorMap(elem_type=6, swizzle=2, elem_size=2, block_size=(64, 32), fp4_padded=False)


def compile_tile(out: Path, *options: str, targets=("cuda:90",), sig=TILE_SIG) -> None:
    compile_main([str(KERNELS), "-n", "tile_copy", "-s", sig, "-w", "4", "-g", TILE_GRID,
                  *[x for t in targets for x in ("-t", t)], "-o", str(out), *options])  # fmt: skip


def record_of(tmp_path: Path, kernel: str, sig: str, target: str, *options: str) -> CompiledTarget:
    path = tmp_path / f"{kernel}-{target[5:]}.json"
    compile_main([str(KERNELS), "-n", kernel, "-s", sig, "-w", "4", "-t", target, "--binary-out", str(path), *options])
    return CompiledTarget.from_json(path.read_text(), str(path))


def meta_of(header: Path):
    (line,) = [line for line in header.read_text().splitlines() if line.startswith(DIRECTIVE)]
    return parse_line(line, str(header), 1)


def symbol_of(header: Path) -> str:
    return re.search(r"^CUresult (\w+)\(CUstream stream", header.read_text(), re.M)[1]


@pytest.fixture(scope="module")
def tile(tmp_path_factory) -> Path:
    """tile_copy (two host descriptors) for cuda:90 and cuda:100, one-shot."""
    out = tmp_path_factory.mktemp("tile") / "tile"
    compile_tile(out, "-on", "tile_copy", targets=("cuda:90", "cuda:100"))
    return out


def test_the_record_keeps_the_tensor_maps_and_the_ptx_takes_the_expanded_parameters(tmp_path):
    record = record_of(tmp_path, "tile_copy", TILE_SIG, "cuda:90")
    assert record.tensor_maps == (FP16_MAP, FP16_MAP)
    assert [p.name for p in record.tensor_args] == ["in_desc", "out_desc"]
    assert record.scratch == (Scratch(0, 1), Scratch(0, 1)) and not record.needs_scratch
    assert record.launch == LaunchOptions() and record.hidden_params == 2
    # Per descriptor: the .b8[128] CUtensorMap, the i32 shape, the i64 strides; then M, then scratch.
    descriptor = [128, 4, 4, 8, 8]
    assert entry_param_sizes(record.ptx, "tile_copy") == descriptor + descriptor + [4] + [8, 8]
    assert CompiledTarget.from_json(record.to_json(), "again") == record


def test_the_meta_line_keeps_the_descriptor_type_and_the_header_the_c_arguments(tile):
    header = tile.with_suffix(".h").read_text()
    meta = meta_of(tile.with_suffix(".h"))
    assert [(p.name, p.type, p.c_type) for p in meta.args] == [
        ("in_desc", "tensordesc<fp16[64, 32]>", "CUtensorMap"),
        ("out_desc", "tensordesc<fp16[64, 32]>", "CUtensorMap"),
        ("M", "i32", "int32_t"),
    ]
    assert meta.launch == LaunchOptions() and '"num_ctas"' not in header  # defaults are not written
    expanded = ", ".join(
        f"CUdeviceptr {d}_base, int64_t {d}_shape0, int64_t {d}_shape1, int64_t {d}_stride0, int64_t {d}_stride1, "
        f"int32_t {d}_padding"
        for d in ("in_desc", "out_desc")
    )
    assert f"CUresult {symbol_of(tile.with_suffix('.h'))}(CUstream stream, {expanded}, int32_t M);" in header
    assert f":{expanded}, int32_t M:64x32_warps4xstages3\n" in header  # the tt-linker line


def _without_binaries(text: str) -> str:
    """Generated C with the bytes of the binaries left out: they are Triton's, not ours."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("    0x"))


@pytest.mark.parametrize("suffix", [".h", ".c"])
def test_generated_c_of_host_descriptors_matches_the_golden(tile, suffix, update_golden):
    import triton

    if triton.__version__ != "3.9.0":
        pytest.skip(f"the golden is Triton 3.9.0's; this is {triton.__version__}")
    text = _without_binaries(tile.with_suffix(suffix).read_text().replace(f'"{tile.name}.h"', '"tile.h"'))
    golden = GOLDEN / f"tile_copy{suffix}"
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


def test_the_entry_point_hands_the_runtime_each_descriptor(tile):
    source = tile.with_suffix(".c").read_text()
    assert (
        "{in_desc_base, ttlink_shape_in_desc, ttlink_strides_in_desc, in_desc_padding, &ttlink_map_in_desc, " in source
    )
    assert "void *ttlink_args[] = {&ttlink_map_in_desc, &ttlink_shape32_in_desc[0], &ttlink_shape32_in_desc[1], " \
        "&in_desc_stride0, &in_desc_stride1, &ttlink_map_out_desc," in source  # fmt: skip
    assert ", ttlink_args, ttlink_tensors, NULL);" in source  # no scratch asked: NULL
    for arch in (90, 100):
        assert (
            f"ttlink_tensor_maps_sm{arch}[] = {{\n"
            + ("    {CU_TENSOR_MAP_DATA_TYPE_FLOAT16, CU_TENSOR_MAP_SWIZZLE_64B, 2, 2, {64, 32}, 0}, /* in_desc */\n")
            in source
        )
        assert f"sizeof ttlink_cubin_sm{arch}, ttlink_tensor_maps_sm{arch}, 0, 1, 0, 1}}," in source
    assert ", ttlink_description, 2, 0, 1, 0};" in source  # 2 tensor args, no scratch, 1 CTA, no flags


@pytest.fixture(scope="module")
def device_descriptors(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("device") / "device"
    compile_main([str(KERNELS), "-n", "tile_via_descriptor", "-s", DEVICE_SIG, "-w", "4", "-g", "1, 1, 1",
                  "-t", "cuda:80", "-t", "cuda:90", "-o", str(out)])  # fmt: skip
    return out


def test_device_descriptors_get_global_scratch_from_the_runtime(device_descriptors, tmp_path):
    record = record_of(tmp_path, "tile_via_descriptor", DEVICE_SIG, "cuda:90")
    assert record.scratch == (Scratch(128, 128), Scratch(0, 1)) and record.needs_scratch
    assert record_of(tmp_path, "tile_via_descriptor", DEVICE_SIG, "cuda:80").scratch == (Scratch(), Scratch())
    source = device_descriptors.with_suffix(".c").read_text()
    assert "/* cuda:90: 8200 bytes of shared memory per block, 128 bytes of global scratch per program. */" in source
    assert "sizeof ttlink_cubin_sm80, NULL, 0, 1, 0, 1}," in source
    assert "sizeof ttlink_cubin_sm90, NULL, 128, 128, 0, 1}," in source
    assert "ttlink_description, 0, 2, 1, 0};" in source  # both scratch pointers are the runtime's to fill
    assert "  void *ttlink_args[] = {&in_ptr, &out_ptr, &M, &N, &ttlink_scratch[0], &ttlink_scratch[1]};" in source
    assert "return ttlink_launch(&ttlink_this_variant, stream, 1, 1, 1, ttlink_args, NULL, ttlink_scratch);" in source


LAUNCH_OPTIONS = ["--num-ctas", "2", "--launch-pdl", "--launch-cooperative-grid"]


def test_launch_options_are_compiled_recorded_and_make_another_variant(tile, tmp_path):
    record = record_of(tmp_path, "tile_copy", TILE_SIG, "cuda:90", *LAUNCH_OPTIONS)
    assert record.launch == LaunchOptions(num_ctas=2, launch_pdl=True, launch_cooperative_grid=True)
    # Triton splits each descriptor's block over the cluster's CTAs; the map is per CTA.
    assert [m.block_size for m in record.tensor_maps] == [(32, 32), (32, 32)]
    compile_tile(tmp_path / "ctas2", "-on", "tile_copy", *LAUNCH_OPTIONS)
    compile_tile(tmp_path / "default", "-on", "tile_copy")
    header, source = (tmp_path / "ctas2.h").read_text(), (tmp_path / "ctas2.c").read_text()
    assert meta_of(tmp_path / "ctas2.h").launch == record.launch
    assert '"launch_cooperative_grid":true,"launch_pdl":true' in header and '"num_ctas":2,' in header
    assert ":64x32_warps4xstages3_ctas2_pdl_coop\n" in header  # link.py's algo name differs from the default's
    assert " *   BLOCK_M=64, BLOCK_N=32, num_warps=4, num_stages=3, num_ctas=2, launch_pdl=true,\n" in source
    assert "ttlink_description, 2, 0, 2, TTLINK_LAUNCH_COOPERATIVE | TTLINK_LAUNCH_PDL};" in source
    assert symbol_of(tmp_path / "ctas2.h") != symbol_of(tmp_path / "default.h")


@pytest.mark.parametrize("language", [["-x", "c", "-std=c11"], ["-x", "c++", "-std=c++17"]])
def test_generated_c_compiles_with_werror(tile, device_descriptors, tmp_path, cuda_include_dir, language):
    compile_tile(tmp_path / "ctas2", *LAUNCH_OPTIONS)
    for source in (tile.with_suffix(".c"), device_descriptors.with_suffix(".c"), tmp_path / "ctas2.c"):
        compile_c([source], cuda_include_dir, tmp_path / "out.o", ["-c", *language, *C_FLAGS])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "cuda:80"], "tensordesc argument 'in_desc' of kernel 'tile_copy' needs TMA (cuda:90 and newer); "
         "Triton passes it decomposed for cuda:80"),
        (["-s", "tensordesc<fp16[64, 32]>:16, tensordesc<fp16[64, 32]>, i32, 64, 32"],
         "signature entry 'tensordesc<fp16[64, 32]>:16' for parameter 'in_desc': a tensor descriptor takes no hint"),
        (["-s", "tensordesc_im2col<fp16[64, 32]>, tensordesc<fp16[64, 32]>, i32, 64, 32"],
         "im2col tensor descriptors are not supported"),
        (["-s", "tensordesc<f16[64, 32]>, tensordesc<fp16[64, 32]>, i32, 64, 32"], "unknown element type 'f16'"),
        (["-g", "in_desc, 1, 1"], "'in_desc' is not an integer argument"),
        (["--num-ctas", "3"], "--num-ctas 3 is not a power of two from 1 to 16"),
        (["--num-ctas", "32"], "--num-ctas 32 is not a power of two from 1 to 16"),
        (["--num-ctas", "0"], "--num-ctas 0 is not a power of two from 1 to 16"),
    ],
)  # fmt: skip
def test_what_is_refused_is_one_line(tmp_path, args, message):
    options = {"-n": "tile_copy", "-s": TILE_SIG, "-g": TILE_GRID, "-t": "cuda:90"}
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    _assert_fails(tmp_path, [str(KERNELS), *[x for item in options.items() for x in item]], message)


def test_embedded_ptx_cannot_carry_tensor_maps(tmp_path):
    _assert_fails(tmp_path, [str(KERNELS), "-n", "tile_copy", "-s", TILE_SIG, "-g", "1, 1, 1", "-t", "cuda:90",
                             "--embed-ptx"], "--embed-ptx: kernel 'tile_copy' takes tensordesc arguments")  # fmt: skip


def test_clusters_need_cuda_90(tmp_path):
    _assert_fails(tmp_path, [str(KERNELS), "-n", "add_kernel", "-s", "*fp32, *fp32, *fp32, i32, 1024", "-g", "1, 1, 1",
                             "-t", "cuda:90", "-t", "cuda:80", "--num-ctas", "2"],
                  "num_ctas 2 needs thread block clusters (cuda:90 and newer), not cuda:80")  # fmt: skip


def test_expanded_names_that_clash_are_refused_naming_both(tmp_path):
    kernel = tmp_path / "clash.py"
    kernel.write_text("import triton\n\n\n@triton.jit\ndef k(a, a_base):\n    pass\n")
    message = "kernel 'k' parameters 'a' (its C argument 'a_base') and 'a_base' both name C argument 'a_base'"
    args = [str(kernel), "-n", "k", "-s", "tensordesc<fp16[16]>, i64", "-g", "1, 1, 1", "-t", "cuda:90"]
    _assert_fails(tmp_path, args, message)


@pytest.fixture(scope="module")
def tile_record(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("record") / "r.json"
    compile_main([str(KERNELS), "-n", "tile_copy", "-s", TILE_SIG, "-t", "cuda:90", "--binary-out", str(path)])
    return json.loads(path.read_text())


MAP = {"block_size": [64, 32], "elem_size": 2, "elem_type": 6, "fp4_padded": False, "swizzle": 2}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tensor_maps": []}, "tensordesc argument 'in_desc' of kernel 'tile_copy' needs TMA"),
        ({"tensor_maps": [MAP]}, "1 tensor maps for 2 tensordesc arguments"),
        ({"tensor_maps": [MAP, {**MAP, "elem_type": 16}]}, "tensor map of 'out_desc': elem_type 16 is not a TMA"),
        ({"tensor_maps": [MAP, {**MAP, "swizzle": 7}]}, "swizzle 7 is not a CUtensorMapSwizzle"),
        ({"tensor_maps": [MAP, {**MAP, "elem_size": 3}]}, "elem_size 3 is not 1, 2, 4 or 8 bytes"),
        ({"tensor_maps": [MAP, {**MAP, "elem_size": True}]}, "elem_size True is not 1, 2, 4 or 8 bytes"),
        ({"tensor_maps": [MAP, {**MAP, "elem_size": 2.0}]}, "elem_size 2.0 is not 1, 2, 4 or 8 bytes"),
        ({"tensor_maps": [MAP, {**MAP, "swizzle": 2.0}]}, "swizzle 2.0 is not a CUtensorMapSwizzle"),
        ({"tensor_maps": [MAP, {**MAP, "block_size": [64]}]}, "block_size [64] is not 2 dimensions of 1 to 256"),
        ({"tensor_maps": [MAP, {**MAP, "block_size": [64, 512]}]}, "is not 2 dimensions of 1 to 256"),
        ({"tensor_maps": [MAP, {**MAP, "fp4_padded": 0}]}, "fp4_padded 0 is not a boolean"),
        ({"tensor_maps": [MAP, {**MAP, "is_im2col": True}]}, "tensor map of 'out_desc' is im2col"),
        ({"tensor_maps": [MAP, {"swizzle": 2}]}, "tensor map of 'out_desc' is not {block_size, elem_size"),
        ({"global_scratch_align": 3}, "global scratch alignment 3 is not a power of two from 1 to 65536"),
        ({"profile_scratch_size": -1}, "profile scratch size -1 is not 0 to 2147483647"),
        ({"global_scratch_size": 64, "hidden_params": 0}, "global scratch of 64 bytes, but the kernel takes no global"),
        ({"hidden_params": 3}, "field 'hidden_params' is 3; expected 0 to 2"),
        ({"num_ctas": 3}, "num_ctas 3 is not a power of two from 1 to 16"),
        ({"num_ctas": 2, "target": "cuda:80"}, "num_ctas 2 needs thread block clusters (cuda:90 and newer)"),
        ({"launch_pdl": "yes"}, "field 'launch_pdl' missing or not of type bool"),
        ({"format": 1}, "not a ttlink compile record of format 2"),
    ],
)  # fmt: skip
def test_assemble_checks_the_new_fields_of_a_record(tmp_path, tile_record, changes, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**tile_record, **changes}))
    with pytest.raises(TtlinkError, match=re.escape(message)):
        assemble_main([str(path), "-g", "1, 1, 1", "-o", str(tmp_path / "k")])
    assert not (tmp_path / "k.h").exists() and not (tmp_path / "k.c").exists()


def test_records_of_one_variant_agree_on_the_launch_options(tmp_path):
    default = tmp_path / "90.json"
    clustered = tmp_path / "100.json"
    compile_main([str(KERNELS), "-n", "tile_copy", "-s", TILE_SIG, "-t", "cuda:90", "--binary-out", str(default)])
    compile_main([str(KERNELS), "-n", "tile_copy", "-s", TILE_SIG, "-t", "cuda:100", "--num-ctas", "2",
                  "--binary-out", str(clustered)])  # fmt: skip
    with pytest.raises(TtlinkError, match="compiled records disagree on launch"):
        assemble_main([str(default), str(clustered), "-g", "1, 1, 1", "-o", str(tmp_path / "k")])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (',"num_ctas":3', "field 'num_ctas' is not a power of two from 1 to 16"),
        (',"num_ctas":true', "field 'num_ctas' is not an integer"),
        (',"launch_pdl":1', "field 'launch_pdl' is not a boolean"),
    ],
)
def test_the_meta_line_checks_the_launch_options(tile, fields, message):
    (line,) = [line for line in tile.with_suffix(".h").read_text().splitlines() if line.startswith(DIRECTIVE)]
    with pytest.raises(TtlinkError, match=re.escape(message)):
        parse_line(line[:-1] + fields + "}", "h", 1)
    assert parse_line(line[:-1] + ',"num_ctas":4}', "h", 1).launch == LaunchOptions(num_ctas=4)
