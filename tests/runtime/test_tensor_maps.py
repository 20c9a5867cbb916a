"""Tensor maps, scratch memory and launch attributes in the C runtime, on the CPU.

fixtures/tma_variants.c is written in the shape `ttlink compile` generates for such kernels
(issue 12's contract); tma_harness.c drives it against the recording stand-in libcuda, which
logs every cuTensorMapEncodeTiled parameter, every stream-ordered allocation and free, and
every launch with its attributes and argument bytes. The expectations are computed here from
what Triton 3.9's own launcher passes (driver.c fillTMADescriptorTiled and _launch, driver.py
make_tensordesc_arg and the scratch allocation in its launcher), not from the runtime's code.
Harnesses are built with ASan + UBSan; the race also runs under TSan.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess

import pytest
from native import (
    CUDA_ERROR_INVALID_VALUE,
    CUDA_ERROR_NOT_SUPPORTED,
    CUDA_ERROR_OUT_OF_MEMORY,
    HERE,
    SANITIZE,
    cc,
)

from ttlink import RUNTIME_INCLUDE_DIR

STREAM = "0x5a5a"

# cuda.h enums as Triton's launcher passes them.
FLOAT16, UINT8, U4_ALIGN16B = 6, 0, 14  # CUtensorMapDataType
SWIZZLE_64B, SWIZZLE_128B = 2, 3
INTERLEAVE_NONE, L2_PROMOTION_L2_128B = 0, 2
OOB_FILL_NONE, OOB_FILL_NAN_REQUEST_ZERO_FMA = 0, 1
ATTR_COOPERATIVE, ATTR_CLUSTER_DIMENSION, ATTR_CLUSTER_SCHEDULING, ATTR_PDL = 2, 4, 5, 6
CLUSTER_SCHEDULING_SPREAD = 1

# What tma_kernel's binaries say of its two tensor arguments (a, b): the tensordesc_meta the
# compile step turned into tensor_maps. (host data type, swizzle, element bytes, block shape, fp4_padded)
TENSOR_MAPS = {
    "9.0": [(FLOAT16, SWIZZLE_64B, 2, [64, 32], False), (UINT8, SWIZZLE_128B, 1, [32, 128], False)],
    "10.0": [(FLOAT16, SWIZZLE_128B, 2, [128, 64], False), (U4_ALIGN16B, SWIZZLE_128B, 1, [32, 128], True)],
}
# Scratch per program and alignment, (global, profile), of each binary.
SCRATCH = {"9.0": [(256, 128), (0, 1)], "10.0": [(384, 1024), (64, 512)]}
NUM_CTAS = 2
ALLOCATOR_ALIGN = 256  # what cuMemAllocAsync guarantees
# tma_kernel's parameters: per tensor the map, i32 shape x2, i64 strides x2; M; two scratch pointers.
PARAM_SIZES = [128, 4, 4, 8, 8] * 2 + [4, 8, 8]

# A launch every device takes: a fp16 1000 x 777 in rows of 784, b 300 x 500 in rows of 512; M, grid_x.
VALID = {
    "a": (0x10000, [1000, 777], [784, 1], 0),
    "b": (0x20000, [300, 500], [512, 1], 0),
    "M": 5,
    "grid_x": 10,
}


def triton_encode(info, base, shape, strides, padding):
    """cuTensorMapEncodeTiled's parameters as Triton 3.9 passes them for one TensorDescriptor."""
    data_type, swizzle, elem_size, block, fp4_padded = info
    map_shape = [*shape[:-1], shape[-1] * 2] if fp4_padded else list(shape)  # make_tensordesc_arg
    return {
        "type": str(data_type),
        "rank": str(len(shape)),
        "address": hex(base),
        "dims": ",".join(str(d) for d in reversed(map_shape)),  # innermost first
        "strides": ",".join(str(elem_size * s) for s in reversed(strides[:-1])),  # bytes, the unit stride left out
        "box": ",".join(str(b) for b in reversed(block)),
        "element_strides": ",".join("1" for _ in shape),
        "interleave": str(INTERLEAVE_NONE),
        "swizzle": str(swizzle),
        "l2": str(L2_PROMOTION_L2_128B),
        "fill": str(OOB_FILL_NAN_REQUEST_ZERO_FMA if padding == 1 else OOB_FILL_NONE),
        "status": "0",
    }


def tma_args(case):
    values = []
    for name in ("a", "b"):
        base, shape, strides, padding = case[name]
        values += [base, *shape, *strides, padding]
    return [str(v) for v in [*values, case["M"], case["grid_x"]]]


def with_tensor(name, base=None, shape=None, strides=None, padding=None):
    old = VALID[name]
    new = tuple(old[i] if v is None else v for i, v in enumerate((base, shape, strides, padding)))
    return {**VALID, name: new}


@pytest.fixture(scope="module")
def build(tmp_path_factory, cuda_include_dir):
    if shutil.which("cc") is None:
        pytest.fail("a C compiler (cc) is needed on PATH")
    out = tmp_path_factory.mktemp("tensor_maps")
    include = ["-I", str(cuda_include_dir), "-I", str(RUNTIME_INCLUDE_DIR), "-I", str(HERE / "fixtures")]
    for name, flags in (("standin.so", []), ("standin_no_extended.so", ["-DSTANDIN_NO_EXTENDED_LAUNCH"])):
        cc(
            ["-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", *flags, *include, str(HERE / "standin_libcuda.c")]
            + ["-o", str(out / name)]
        )
    sources = [HERE / "tma_harness.c", HERE / "fixtures" / "tma_variants.c", RUNTIME_INCLUDE_DIR / "ttlink_runtime.c"]
    for variant, flags in SANITIZE.items():
        cc(
            [*flags, "-g", "-O1", "-Wall", "-Wextra", "-Werror", *include, *map(str, sources)]
            + ["-o", str(out / f"harness_{variant}"), "-ldl", "-lpthread"]
        )
    return out


def run(build, *args, variant="asan", standin="standin.so", devices="9.0", **env):
    """(printed values, the stand-in's log as (kind, fields) pairs)."""
    log = build / f"log-{os.getpid()}-{len(list(build.glob('log-*')))}"
    environment = {
        **os.environ,
        "TTLINK_LIBCUDA_PATH": str(build / standin),
        "STANDIN_LOG": str(log),
        "STANDIN_DEVICES": devices,
        "STANDIN_PARAM_SIZES": ",".join(map(str, PARAM_SIZES)),
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
        "TSAN_OPTIONS": "halt_on_error=1",
        **env,
    }
    result = subprocess.run(
        [str(build / f"harness_{variant}"), *map(str, args)], capture_output=True, text=True, env=environment
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sanitizer" not in result.stderr and "runtime error" not in result.stderr, result.stderr
    values = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", result.stdout)}
    lines = log.read_text().splitlines() if log.exists() else []
    return values, [(line.split()[0], dict(re.findall(r"(\w+)=(\S+)", line))) for line in lines]


def of_kind(log, *kinds):
    return [fields for kind, fields in log if kind in kinds]


def arg_bytes(launch):
    return [bytes.fromhex(part) for part in launch["args"].split(":")]


@pytest.mark.parametrize("devices", ["9.0", "10.0"])
@pytest.mark.parametrize("a_padding", [0, 1])
def test_tensor_maps_are_encoded_with_tritons_parameters(build, devices, a_padding):
    case = with_tensor("a", padding=a_padding)
    values, log = run(build, "tma", *tma_args(case), devices=devices)
    assert values == {"status": 0, "outstanding": 0}
    encodes = of_kind(log, "encode")
    expected = [triton_encode(info, *case[name]) for info, name in zip(TENSOR_MAPS[devices], "ab", strict=True)]
    assert encodes == expected
    (launch,) = of_kind(log, "launch_ex")
    args = arg_bytes(launch)
    for index, name in ((0, "a"), (5, "b")):
        base, shape, strides, _ = case[name]
        assert struct.unpack("<Q", args[index][:8]) == (base,)  # the map the stand-in wrote for this tensor
        assert args[index + 1 : index + 3] == [struct.pack("<i", d) for d in shape]  # i32 shape, as given
        assert args[index + 3 : index + 5] == [struct.pack("<q", s) for s in strides]  # i64 strides, elements
    assert args[10] == struct.pack("<i", case["M"])


@pytest.mark.parametrize(
    ("driver_version", "shape", "cleared"),
    [
        ("13000", [64, 64], True),  # its last element at byte 8190: below 128 KiB on the H200's driver
        ("13010", [64, 1024], True),  # its last element at byte 131070
        ("13010", [65, 1024], False),  # at byte 133118
        ("13020", [64, 64], False),  # newer drivers encode small tensors right
    ],
)
def test_small_tensor_maps_get_tritons_fix_on_old_drivers(build, driver_version, shape, cleared):
    # Triton (after CUTLASS) clears bit 21 of the map's second word when the tensor's last
    # element starts less than 128 KiB - 1 bytes past its base and the driver is CUDA 13.1 or older.
    case = with_tensor("a", shape=shape, strides=[shape[1], 1])
    values, log = run(build, "tma", *tma_args(case), STANDIN_DRIVER_VERSION=driver_version)
    assert values["status"] == 0
    (launch,) = of_kind(log, "launch_ex")
    a_word1 = struct.unpack("<Q", arg_bytes(launch)[0][8:16])[0]
    b_word1 = struct.unpack("<Q", arg_bytes(launch)[5][8:16])[0]
    assert a_word1 == (0xFFFFFFFFFFFFFFFF & ~(1 << 21) if cleared else 0xFFFFFFFFFFFFFFFF)
    assert b_word1 == 0xFFFFFFFFFFFFFFFF  # b spans 150 KiB


BAD_DESCRIPTORS = {
    "base not 16-byte aligned": with_tensor("a", base=0x10008),
    "shape 0": with_tensor("a", shape=[0, 777]),
    "shape negative": with_tensor("a", shape=[1000, -1]),
    "shape above i32": with_tensor("a", shape=[2**31, 777]),
    "last stride not 1": with_tensor("a", strides=[784, 2]),
    "stride 0": with_tensor("a", strides=[0, 1]),
    "stride negative": with_tensor("a", strides=[-784, 1]),
    "byte stride not a multiple of 16": with_tensor("a", strides=[780, 1]),
    "byte stride 2^40": with_tensor("a", strides=[2**39, 1]),
    "stride 2^40 of 1-byte elements": with_tensor("b", strides=[2**40, 1]),
    "stride far above 2^40": with_tensor("b", strides=[2**62, 1]),
    "padding 2": with_tensor("a", padding=2),
    "padding -1": with_tensor("a", padding=-1),
    "NaN padding of integers": with_tensor("b", padding=1),
}


@pytest.mark.parametrize("case", BAD_DESCRIPTORS.values(), ids=BAD_DESCRIPTORS.keys())
def test_bad_descriptor_is_invalid_value_with_nothing_encoded_allocated_or_launched(build, case):
    values, log = run(build, "tma", *tma_args(case))
    assert values == {"status": CUDA_ERROR_INVALID_VALUE, "outstanding": 0}
    assert of_kind(log, "encode", "mem_alloc_async", "launch", "launch_ex") == []


def expected_scratch(devices, grid_x):
    """Per slot: (bytes asked of the allocator, alignment) as Triton sizes scratch
    (size x gridX x gridY x gridZ x num_ctas), plus the slack to round up to an alignment
    above the allocator's; None for a slot of 0 bytes."""
    slots = []
    for size, align in SCRATCH[devices]:
        bytes_ = size * grid_x * NUM_CTAS
        slots.append(None if bytes_ == 0 else (bytes_ + max(align, ALLOCATOR_ALIGN) - ALLOCATOR_ALIGN, align))
    return slots


@pytest.mark.parametrize(("devices", "grid_x"), [("9.0", 10), ("10.0", 10), ("10.0", 7)])
def test_scratch_is_sized_per_program_aligned_and_stream_ordered(build, devices, grid_x):
    values, log = run(build, "tma", *tma_args({**VALID, "grid_x": grid_x}), devices=devices)
    assert values == {"status": 0, "outstanding": 0}
    allocs = of_kind(log, "mem_alloc_async")
    slots = expected_scratch(devices, grid_x)
    assert [int(a["bytes"]) for a in allocs] == [slot[0] for slot in slots if slot]
    (launch,) = of_kind(log, "launch_ex")
    passed = [struct.unpack("<Q", b)[0] for b in arg_bytes(launch)[11:13]]
    allocated = iter(int(a["pointer"], 16) for a in allocs)
    for pointer, slot in zip(passed, slots, strict=True):
        if slot is None:
            assert pointer == 0  # a kind of scratch the binary does not use
        else:  # the allocation rounded up to the alignment: within the slack allocated for it
            align = max(slot[1], ALLOCATOR_ALIGN)
            assert pointer == -(-next(allocated) // align) * align
    # Capture-safe: every allocation and free is stream-ordered on the launch's stream, around it.
    order = [kind for kind, _ in log if kind in ("mem_alloc_async", "launch_ex", "mem_free_async")]
    assert order == ["mem_alloc_async"] * len(allocs) + ["launch_ex"] + ["mem_free_async"] * len(allocs)
    frees = of_kind(log, "mem_free_async")
    assert sorted(f["pointer"] for f in frees) == sorted(a["pointer"] for a in allocs)
    assert {entry["stream"] for entry in [*allocs, *frees, launch]} == {STREAM}


def test_scratch_without_launch_attributes_uses_cuLaunchKernel(build):
    values, log = run(build, "scratch", 3, STANDIN_PARAM_SIZES="8,4,8,8")
    assert values == {"status": 0, "outstanding": 0}
    (alloc,) = of_kind(log, "mem_alloc_async")
    assert alloc["bytes"] == "300"  # 100 bytes per program, 3 programs, 1 CTA each
    (launch,) = of_kind(log, "launch")
    assert launch["grid"] == "3,1,1" and of_kind(log, "launch_ex") == []


def test_scratch_size_overflow_is_invalid_value(build):
    values, log = run(build, "huge_scratch", 2**24, STANDIN_PARAM_SIZES="")  # 2^40 bytes x 2^24 programs
    assert values == {"status": CUDA_ERROR_INVALID_VALUE, "outstanding": 0}
    assert of_kind(log, "mem_alloc_async", "launch") == []
    values, log = run(build, "huge_scratch", 1, STANDIN_PARAM_SIZES="8,4,8")
    assert values == {"status": 0, "outstanding": 0}
    assert [a["bytes"] for a in of_kind(log, "mem_alloc_async")] == [str(2**40)]


@pytest.mark.parametrize(
    ("fail", "status", "launched"),
    [
        ("cuTensorMapEncodeTiled:1", CUDA_ERROR_INVALID_VALUE, False),
        ("cuMemAllocAsync:2", CUDA_ERROR_OUT_OF_MEMORY, False),
        ("cuLaunchKernelEx:1", CUDA_ERROR_INVALID_VALUE, True),  # the scratch is still freed
        ("cuMemFreeAsync:1", CUDA_ERROR_INVALID_VALUE, True),  # launched; the free's error returned
    ],
)
def test_driver_failures_are_returned_and_scratch_never_leaks(build, fail, status, launched):
    values, log = run(build, "tma", *tma_args(VALID), devices="10.0", STANDIN_FAIL=fail)
    assert values == {"status": status, "outstanding": 0}
    assert len(of_kind(log, "launch_ex")) == launched
    successful_allocs = [a for a in of_kind(log, "mem_alloc_async") if a["status"] == "0"]
    assert sorted(f["pointer"] for f in of_kind(log, "mem_free_async")) == sorted(
        a["pointer"] for a in successful_allocs
    )


@pytest.mark.parametrize("variant", ["asan", "tsan"])
def test_scratch_of_racing_launches_is_paired(build, variant):
    """32 threads in two contexts (a 9.0 and a 10.0 device) launch at once, 4 times each."""
    values, log = run(build, "race", 32, variant=variant, devices="9.0,10.0")
    assert values == {"failures": 0, "outstanding": 0}
    launches = of_kind(log, "launch_ex")
    assert len(launches) == 128
    allocs, frees = of_kind(log, "mem_alloc_async"), of_kind(log, "mem_free_async")
    assert len(allocs) == 16 * 4 * 1 + 16 * 4 * 2  # one slot on 9.0, two on 10.0
    assert sorted(a["pointer"] for a in allocs) == sorted(f["pointer"] for f in frees)
    assert len({a["pointer"] for a in allocs}) == len(allocs)
    # Each context launched with its own binary's encoding.
    boxes = {
        (launch["image"], encode["box"]) for launch, encode in zip(launches, of_kind(log, "encode")[::2], strict=True)
    }
    assert {image for image, _ in boxes} == {"ptx_sm_90", "ptx_sm_100"}


@pytest.mark.parametrize("variant", ["asan", "tsan"])
def test_unload_racing_with_extended_launches_never_uses_an_unloaded_function(build, variant):
    # The stand-in aborts when a launch (cuLaunchKernelEx too) overlaps the unload of its
    # function's module or uses a function unloaded before; its delay widens every launch.
    values, log = run(build, "unload_race", 100, variant=variant, STANDIN_LAUNCH_DELAY_US="20", STANDIN_PARAM_SIZES="")
    assert values == {"failures": 0, "outstanding": 0}
    assert len(of_kind(log, "launch_ex")) > 0
    # Loads and unloads alternate; every odd round loads, so the next one has something to unload.
    events = [kind for kind, _ in log if kind in ("load", "unload")]
    assert set(events[0::2]) == {"load"} and set(events[1::2]) == {"unload"} and len(events[1::2]) >= 50


def test_plain_kernel_is_launched_with_cuLaunchKernel_as_before(build):
    values, log = run(build, "plain", 7, STANDIN_PARAM_SIZES="8,4,8,8")
    assert values == {"status": 0, "outstanding": 0}
    assert [kind for kind, _ in log] == ["init", "load", "launch"]
    (launch,) = of_kind(log, "launch")
    assert launch["grid"] == "7,1,1" and launch["block"] == "64,1,1" and launch["shared"] == "0"
    assert launch["stream"] == STREAM and launch["extra"] in ("(nil)", "0x0")
    assert launch["args"] == ":".join(
        b.hex() for b in (struct.pack("<Q", 0x7000), struct.pack("<i", 7), bytes(8), bytes(8))
    )


def test_cooperative_kernel_gets_the_attribute_and_no_cluster(build):
    values, log = run(build, "cooperative", 5, STANDIN_PARAM_SIZES="8,4,8")
    assert values == {"status": 0, "outstanding": 0}
    (launch,) = of_kind(log, "launch_ex")
    assert launch["attrs"] == f"{ATTR_COOPERATIVE}:1"
    assert launch["grid"] == "5,1,1" and launch["block"] == "64,1,1"
    assert arg_bytes(launch)[2] == bytes(8)  # a scratch pointer of 0 bytes: 0, nothing allocated
    assert of_kind(log, "mem_alloc_async") == []


def test_tma_kernel_launch_attributes_are_tritons(build):
    values, log = run(build, "tma", *tma_args(VALID))
    assert values["status"] == 0
    (launch,) = of_kind(log, "launch_ex")
    # PDL, then a cluster of num_ctas x 1 x 1 scheduled SPREAD, in the order of Triton's _launch
    assert launch["attrs"] == (
        f"{ATTR_PDL}:1,{ATTR_CLUSTER_DIMENSION}:{NUM_CTAS}x1x1,{ATTR_CLUSTER_SCHEDULING}:{CLUSTER_SCHEDULING_SPREAD}"
    )
    assert launch["grid"] == f"{VALID['grid_x'] * NUM_CTAS},1,1"  # gridDimX counts every CTA
    assert launch["block"] == "128,1,1" and launch["shared"] == "1024" and launch["stream"] == STREAM


@pytest.mark.parametrize(
    ("kernel", "grid_x", "status"),
    [
        ("cluster16", (2**31 - 1) // 16, 0),
        ("cluster16", (2**31 - 1) // 16 + 1, CUDA_ERROR_INVALID_VALUE),  # 2^31 blocks in x once multiplied
        ("tma", (2**31 - 1) // 2, 0),
        ("tma", (2**31 - 1) // 2 + 1, CUDA_ERROR_INVALID_VALUE),
    ],
)
def test_grid_limit_counts_the_ctas_of_each_program(build, kernel, grid_x, status):
    args = [grid_x] if kernel == "cluster16" else tma_args({**VALID, "grid_x": grid_x})
    values, log = run(build, kernel, *args, STANDIN_PARAM_SIZES="")
    assert values["status"] == status
    launches = of_kind(log, "launch_ex")
    assert [launch["grid"] for launch in launches] == (
        [] if status else [f"{grid_x * (16 if kernel == 'cluster16' else 2)},1,1"]
    )


def test_cluster_of_16_opts_in_to_non_portable_sizes_at_load(build):
    values, log = run(build, "cluster16", 3, STANDIN_PARAM_SIZES="8,8")
    assert values["status"] == 0  # the stand-in refuses a cluster above 8 without the opt-in
    assert [kind for kind, _ in log] == ["init", "load", "set_non_portable_cluster_size_allowed", "launch_ex"]
    (launch,) = of_kind(log, "launch_ex")
    assert launch["attrs"] == f"{ATTR_CLUSTER_DIMENSION}:16x1x1,{ATTR_CLUSTER_SCHEDULING}:{CLUSTER_SCHEDULING_SPREAD}"
    assert launch["grid"] == "48,1,1"


@pytest.mark.parametrize(("scenario", "args"), [("tma", tma_args(VALID)), ("scratch", [3]), ("cooperative", [3])])
def test_driver_without_extended_launch_is_not_supported_only_where_needed(build, scenario, args):
    values, log = run(build, scenario, *args, standin="standin_no_extended.so", STANDIN_PARAM_SIZES="")
    assert values == {"status": CUDA_ERROR_NOT_SUPPORTED, "outstanding": 0}
    assert of_kind(log, "encode", "launch", "launch_ex") == []
    values, log = run(build, "plain", 3, standin="standin_no_extended.so", STANDIN_PARAM_SIZES="")
    assert values["status"] == 0 and len(of_kind(log, "launch")) == 1


@pytest.mark.parametrize("devices", ["9.0", "10.0"])
def test_scratch_allocator_hook_allocates_and_releases_each_launchs_scratch(build, devices):
    values, log = run(build, "hook", devices=devices)
    slots = [slot for slot in expected_scratch(devices, VALID["grid_x"]) if slot]
    assert values["set"] == 0 and values["status"] == 0
    assert values["hook_allocs"] == values["hook_releases"] == len(slots)
    assert values["hook_mismatches"] == 0  # on the launch's stream, each pointer released once with its size
    assert [values[f"hook_alloc_bytes_{i}"] for i in range(len(slots))] == [slot[0] for slot in slots]
    # Reset: the next launch allocates with cuMemAllocAsync again, and the hook is not called.
    assert values["reset"] == 0 and values["default_status"] == 0
    assert values["hook_allocs_after_reset"] == len(slots)
    assert len(of_kind(log, "mem_alloc_async")) == len(slots) and values["outstanding"] == 0
    (first, second) = of_kind(log, "launch_ex")
    hooked = [struct.unpack("<Q", b)[0] for b in arg_bytes(first)[11:13]]
    assert all(0x900000000 <= pointer < 0x900010000 for pointer in hooked if pointer)


@pytest.mark.parametrize(("scenario", "releases"), [("hook_misaligned", 1), ("hook_null", 0)])
def test_scratch_allocator_hook_returning_unusable_memory_fails_the_launch(build, scenario, releases):
    values, log = run(build, scenario)
    assert values["status"] == CUDA_ERROR_INVALID_VALUE
    assert values["hook_allocs"] == 1 and values["hook_releases"] == releases and values["hook_mismatches"] == 0
    assert values["default_status"] == 0
    assert len(of_kind(log, "launch_ex")) == 1  # the launch after the reset only


def test_failed_second_allocation_releases_the_first_and_launches_nothing(build):
    values, log = run(build, "hook_fails_second", devices="10.0")  # two slots of scratch
    assert values["status"] == CUDA_ERROR_OUT_OF_MEMORY
    assert values["hook_allocs"] == 2 and values["hook_releases"] == 1 and values["hook_mismatches"] == 0
    assert len(of_kind(log, "launch_ex")) == 1  # the launch after the reset only


def test_launch_releases_to_the_allocator_it_allocated_from_when_replaced_meanwhile(build):
    # Hook 0 makes hook 1 the allocator from inside its alloc: the launch under way takes both
    # slots from hook 0 and releases them there; the next launch uses hook 1.
    values, _ = run(build, "hook_switch", devices="10.0", STANDIN_PARAM_SIZES="")
    assert values["first"] == values["second"] == 0
    assert values["hook0_allocs"] == values["hook0_releases"] == 2
    assert values["hook1_allocs"] == values["hook1_releases"] == 2
    assert values["hook0_mismatches"] == values["hook1_mismatches"] == 0


@pytest.mark.parametrize("variant", ["asan", "tsan"])
def test_scratch_allocator_replaced_while_launching_gets_back_what_it_allocated(build, variant):
    """16 threads launch 8 times each while the main thread keeps switching between two hooks
    and the default."""
    values, log = run(build, "hook_race", 16, variant=variant, STANDIN_PARAM_SIZES="")
    assert values["failures"] == 0 and values["outstanding"] == 0
    for hook in ("hook0", "hook1"):
        assert values[f"{hook}_allocs"] == values[f"{hook}_releases"] and values[f"{hook}_mismatches"] == 0
    allocations = values["hook0_allocs"] + values["hook1_allocs"] + len(of_kind(log, "mem_alloc_async"))
    assert allocations == 16 * 8  # one slot of scratch per launch on a 9.0 device
    assert len(of_kind(log, "launch_ex")) == 16 * 8


def test_scratch_allocator_needs_both_functions(build):
    values, log = run(build, "hook_half")
    assert values == {"set": CUDA_ERROR_INVALID_VALUE, "status": 0, "outstanding": 0}
    assert len(of_kind(log, "mem_alloc_async")) == 1  # the default still in place
