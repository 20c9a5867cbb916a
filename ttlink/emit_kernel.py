"""Stage 2 of `ttlink compile`: C text for one kernel variant with binaries for several
targets. Pure: `CompiledTarget` records in, header and source text out."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import TtlinkError
from .frontend import SCRATCH_KINDS, CompiledTarget
from .grid import Grid, grid_c
from .headers import variant_from_meta
from .metadata import ConstexprValue, KernelMeta
from .model import algo_name
from .signature import c_arguments, is_tensordesc, takes_hints, tensordesc_arguments

BYTES_PER_LINE = 16
_PTX_TARGET = re.compile(r"^\s*\.target\s+sm_(\d+)(a?)", re.M)


@dataclass(frozen=True)
class Variant:
    """One variant's binaries (sorted by architecture) and how the C entry point launches it."""

    meta: KernelMeta
    compiled: tuple[CompiledTarget, ...]
    grid: Grid

    @property
    def first(self) -> CompiledTarget:
        return self.compiled[0]

    @property
    def num_scratch_params(self) -> int:
        """The scratch pointers the runtime fills per launch: none when no binary asks for
        scratch memory (the pointers are then 0 and the launch is a plain cuLaunchKernel)."""
        return self.first.hidden_params if any(record.needs_scratch for record in self.compiled) else 0


def ptx_for_jit(compiled: Sequence[CompiledTarget]) -> tuple[CompiledTarget, int]:
    """The PTX to embed as JIT fallback: that of the oldest target, whose PTX runs on every
    newer GPU. Triton emits arch-specific PTX (`sm_90a`) from cuda:90 up, which no other GPU
    can JIT, so at least one target below cuda:90 is needed."""
    for record in compiled:
        match = _PTX_TARGET.search(record.ptx)
        if match and not match[2]:
            return record, int(match[1])
    raise TtlinkError(
        "--embed-ptx needs a target below cuda:90: Triton emits arch-specific PTX (sm_90a and up) for "
        f"{', '.join(r.target for r in compiled)}, which cannot be JIT-compiled for other GPUs"
    )


def _c_array(name: str, data: bytes) -> str:
    lines = []
    for start in range(0, len(data), BYTES_PER_LINE):
        lines.append("    " + ", ".join(f"0x{b:02x}" for b in data[start : start + BYTES_PER_LINE]) + ",")
    body = "\n".join(lines)
    return f"static const unsigned char {name}[{len(data)}] = {{\n{body}\n}};\n"


def entry_arguments(variant: Variant, full: bool) -> str:
    """The entry point's parameters; `full` lists every argument, `:1` ones included, without
    the stream (the tt-linker form)."""
    args = [f"{c_type} {name}" for p in variant.meta.args if full or p.hint != 1 for c_type, name in c_arguments(p)]
    return ", ".join(args if full else ["CUstream stream", *args])


def _folded(meta: KernelMeta) -> list[tuple[str, ConstexprValue]]:
    """(name, value) of what the binary was specialised on, in upstream's ALGO_INFO order:
    the constexprs, then every `:1` argument as 1."""
    return [(p.name, p.value) for p in meta.constexprs] + [(p.name, 1) for p in meta.args if p.hint == 1]


def _algo_info(variant: Variant) -> str:
    """Upstream's ALGO_INFO: the folded values joined by `x`, then the config; launch options
    other than the defaults add what they add to the algo's name, so that link.py's names of
    two algos differing only in them differ too."""
    values = "x".join(str(value) for _, value in _folded(variant.meta))
    return values + f"_warps{variant.meta.num_warps}xstages{variant.meta.num_stages}" + variant.meta.launch.name_suffix


def _config_comment(variant: Variant) -> str:
    meta = variant.meta
    settings = [f"{name}={value}" for name, value in _folded(meta)]
    settings += [f"num_warps={meta.num_warps}", f"num_stages={meta.num_stages}"]
    settings += [f"{key}={str(value).lower()}" for key, value in meta.launch.non_default().items()]
    return "\n".join(f" *   {line}" for line in textwrap.wrap(", ".join(settings), 96))


def _description(meta: KernelMeta) -> str:
    """The variant in words, which the runtime writes on its first launch when asked
    (TTLINK_REPORT_VARIANTS): the API and algo `ttlink link` makes of it, its symbol, and the
    arguments it is specialised on and those it could be but is not, so that a call that
    reached a less specialised variant, or the generic one, stands out."""
    algo = algo_name(variant_from_meta(meta, path=meta.symbol))
    head = f"{meta.name} algo {algo} -> variant {meta.symbol}"
    specialised = [f"{p.name}=1" if p.hint == 1 else f"{p.name}:16" for p in meta.args if p.hint]
    if not specialised:
        return f"{head}: generic, specialised on no argument"
    hintable = [p for p in meta.args if takes_hints(p.type)]
    unspecialised = [p.name for p in hintable if p.hint is None]
    return f"{head}: specialised on {' '.join(specialised)}" + (
        f", not on {' '.join(unspecialised)}" if unspecialised else ""
    )


def _c_string(text: str) -> str:
    """`text` (no quotes or backslashes: names, numbers, punctuation) as adjacent C string
    literals of at most about 96 characters, one per line."""
    pieces = textwrap.wrap(text, 96, drop_whitespace=False, break_long_words=False, break_on_hyphens=False)
    return "\n    ".join(f'"{piece}"' for piece in pieces)


def emit_header(variant: Variant) -> str:
    symbol = variant.meta.symbol
    guard = f"TTLINK_{symbol.upper()}_H"
    return f"""\
/* Generated by ttlink compile. Do not edit. */
#ifndef {guard}
#define {guard}

#include <cuda.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {{
#endif

// tt-linker-backend: cuda
// tt-linker: {symbol}:{entry_arguments(variant, full=True)}:{_algo_info(variant)}
{variant.meta.to_line()}
void load_{symbol}(void);
void unload_{symbol}(void);
CUresult {symbol}({entry_arguments(variant, full=False)});

#ifdef __cplusplus
}}
#endif

#endif /* {guard} */
"""


def _image(record: CompiledTarget, image_format: str, arch: int, data: str) -> str:
    """One `struct ttlink_image` initialiser: every field, in order (C++17 has no designated
    initialisers)."""
    maps = f"ttlink_tensor_maps_sm{record.arch}" if record.tensor_maps else "NULL"
    scratch = ", ".join(f"{each.size}, {each.align}" for each in record.scratch)
    return f"    {{{image_format}, {arch}, {record.shared}, {data}, sizeof {data}, {maps}, {scratch}}},"


def _tensor_maps(record: CompiledTarget) -> str:
    """The tensor map of each tensordesc argument of one binary, in the runtime's terms."""
    rows = []
    for param, tensor_map in zip(record.tensor_args, record.tensor_maps, strict=True):
        block = ", ".join(map(str, tensor_map.block_size))
        rows.append(
            f"    {{{tensor_map.host_data_type}, {tensor_map.swizzle_name}, {len(tensor_map.block_size)}, "
            f"{tensor_map.elem_size}, {{{block}}}, {int(tensor_map.fp4_padded)}}}, /* {param.name} */"
        )
    return (
        f"\n/* {record.target}: data type, swizzle, rank, element bytes, block shape, fp4 padded */\n"
        f"static const struct ttlink_tensor_map_info ttlink_tensor_maps_sm{record.arch}[] = {{\n"
        + "\n".join(rows)
        + "\n};\n"
    )


def _launch_flags(variant: Variant) -> str:
    launch = variant.meta.launch
    flags = ["TTLINK_LAUNCH_COOPERATIVE"] * launch.launch_cooperative_grid + ["TTLINK_LAUNCH_PDL"] * launch.launch_pdl
    return " | ".join(flags) or "0"


def _entry_body(variant: Variant) -> list[str]:
    """The statements of the entry point: the kernel's parameters, then the launch."""
    first = variant.first
    body = []
    kernel_args = []
    tensors = []
    for param in first.launch_args:
        if not is_tensordesc(param.type):
            kernel_args.append(f"&{param.name}")
            continue
        arguments, name = tensordesc_arguments(param), param.name
        rank = len(arguments.shape)
        body += [
            f"  const int64_t ttlink_shape_{name}[{rank}] = {{{', '.join(arguments.shape)}}};",
            f"  const int64_t ttlink_strides_{name}[{rank}] = {{{', '.join(arguments.strides)}}};",
            f"  CUtensorMap ttlink_map_{name};",
            f"  int32_t ttlink_shape32_{name}[{rank}];",
        ]
        tensors.append(
            f"{{{arguments.base}, ttlink_shape_{name}, ttlink_strides_{name}, {arguments.padding}, "
            f"&ttlink_map_{name}, ttlink_shape32_{name}}}"
        )
        kernel_args += [f"&ttlink_map_{name}"] + [f"&ttlink_shape32_{name}[{i}]" for i in range(rank)]
        kernel_args += [f"&{stride}" for stride in arguments.strides]
    if tensors:
        body.insert(
            0, "  /* Tensor descriptors: the runtime encodes each map and its i32 shape for the binary it launches. */"
        )
        body.append("  struct ttlink_tensor_arg ttlink_tensors[] = {")
        body.append(",\n".join(f"      {tensor}" for tensor in tensors) + "};")
    scratch = "NULL"
    if variant.num_scratch_params:
        body.append(f"  CUdeviceptr ttlink_scratch[{first.hidden_params}]; /* the runtime allocates them per launch */")
        kernel_args += [f"&ttlink_scratch[{i}]" for i in range(first.hidden_params)]
        scratch = "ttlink_scratch"
    elif first.hidden_params:
        body.append("  CUdeviceptr ttlink_scratch = 0; /* global/profile scratch: this kernel needs none */")
        kernel_args += ["&ttlink_scratch"] * first.hidden_params
    if kernel_args:
        body.append(f"  void *ttlink_args[] = {{{', '.join(kernel_args)}}};")
    checks, dims = grid_c(variant.grid)
    if checks:
        body.append("  /* The grid in int64_t; a step that could overflow or divide by 0 is tested first. */")
        body += [f"  {statement}" for statement in checks]
    launch = [
        "&ttlink_this_variant",
        "stream",
        *dims,
        "ttlink_args" if kernel_args else "NULL",
        "ttlink_tensors" if tensors else "NULL",
        scratch,
    ]
    body.append(f"  return ttlink_launch({', '.join(launch)});")
    return body


def emit_source(variant: Variant, header_name: str) -> str:
    meta = variant.meta
    symbol = meta.symbol
    first = variant.first
    parts = [
        f"/* Generated by ttlink compile with Triton {first.triton_version}. Do not edit.\n"
        f" * Kernel {meta.kernel} for {' '.join(meta.targets)}:\n{_config_comment(variant)} */\n"
        f'#include "{header_name}"\n\n#include "ttlink_runtime.h"\n'
    ]
    images = []
    for record in variant.compiled:
        name = f"ttlink_cubin_sm{record.arch}"
        parts.append(
            f"\n/* {record.target}: {record.shared} bytes of shared memory per block{_scratch_words(record)}. */\n"
        )
        parts.append(_c_array(name, record.cubin))
        if record.tensor_maps:
            parts.append(_tensor_maps(record))
        images.append(_image(record, "TTLINK_CUBIN", record.arch, name))
    if meta.embed_ptx:
        record, ptx_arch = ptx_for_jit(variant.compiled)
        name = f"ttlink_ptx_sm{ptx_arch}"
        parts.append(f"\n/* PTX of {record.target} for newer GPUs, NUL-terminated. */\n")
        parts.append(_c_array(name, record.ptx.encode() + b"\0"))
        images.append(_image(record, "TTLINK_PTX", ptx_arch, name))
    body_text = "\n".join(_entry_body(variant))
    kernel_fields = ", ".join(
        [
            f'"{meta.kernel}", ttlink_images, {len(images)}, {meta.num_warps * 32}, ttlink_description',
            str(len(first.tensor_args)),
            str(variant.num_scratch_params),
            str(meta.launch.num_ctas),
            _launch_flags(variant),
        ]
    )
    parts.append(f"""
/* binary format, arch, shared bytes, binary, size, tensor maps, global scratch bytes and alignment,
 * profile scratch bytes and alignment (per program) */
static const struct ttlink_image ttlink_images[] = {{
{chr(10).join(images)}
}};

/* TTLINK_REPORT_VARIANTS=1 writes this on the variant's first launch in the process. */
static const char ttlink_description[] =
    {_c_string(_description(meta))};

/* entry name, binaries, number of binaries, threads per block, description, tensordesc arguments,
 * scratch pointers, CTAs per cluster, launch flags */
static const struct ttlink_kernel ttlink_this_kernel = {{{kernel_fields}}};

static struct ttlink_variant ttlink_this_variant = TTLINK_VARIANT_INIT(&ttlink_this_kernel);

void load_{symbol}(void) {{ (void)ttlink_load(&ttlink_this_variant); }}

void unload_{symbol}(void) {{ (void)ttlink_unload(&ttlink_this_variant); }}

CUresult {symbol}({entry_arguments(variant, full=False)}) {{
{body_text}
}}
""")
    return "".join(parts)


def _scratch_words(record: CompiledTarget) -> str:
    words = [
        f"{each.size} bytes of {kind} scratch per program"
        for kind, each in zip(SCRATCH_KINDS, record.scratch, strict=True)
        if each.size
    ]
    return "".join(f", {word}" for word in words)
