"""The example kernels the GPU benchmark compiles: configs, specialisations, signatures, grids.

One table serves every contender, so rules_triton (`ttlink compile`), upstream Triton's
`compile.py` and the Triton JIT all run the same configs with the same hints. Standard
library only: it runs on the CI-kind machine (Python 3.11) and on the GPU machine (3.12).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

ALIGNED = 16
UNIT = 1
NONE = 0


@dataclass(frozen=True)
class Config:
    """One algo: constexpr values in parameter order, warps and pipeline stages."""

    constexprs: tuple[int, ...]
    num_warps: int
    num_stages: int

    @property
    def name(self) -> str:
        """The algo name of DESIGN.md (and upstream's ALGO_INFO without `:1` hints)."""
        return "x".join(str(v) for v in self.constexprs) + f"_warps{self.num_warps}xstages{self.num_stages}"


@dataclass(frozen=True)
class Specialisation:
    """Hints for the C arguments, in parameter order: ALIGNED (:16), UNIT (:1) or NONE."""

    name: str
    hints: tuple[int, ...]

    def holds(self, values: tuple[int, ...]) -> bool:
        """Whether arguments with these values (pointers as addresses) satisfy every hint."""
        for hint, value in zip(self.hints, values, strict=True):
            if hint == ALIGNED and value % 16 != 0:
                return False
            if hint == UNIT and value != 1:
                return False
        return True


@dataclass(frozen=True)
class Kernel:
    """An example kernel: where it lives and how the benchmark compiles it."""

    out_name: str
    source: str  # repository-relative path of the @triton.jit file
    function: str
    args: tuple[tuple[str, str], ...]  # (name, Triton type) of each C argument, in order
    constexpr_names: tuple[str, ...]  # after the C arguments in the kernel's parameter list
    configs: tuple[Config, ...]
    specialisations: tuple[Specialisation, ...]  # most specialised first, generic last
    grid_dims: tuple[tuple[str, int], ...]  # grid X = product of cdiv(arg, constexpr i)
    example_specs: tuple[str, ...] = ()  # examples/BUILD.bazel's subset, when it is a strict one

    def signature(self, config: Config, spec: Specialisation) -> str:
        """compile.py's -s argument: hinted types, then constexpr values."""
        suffix = {ALIGNED: ":16", UNIT: ":1", NONE: ""}
        entries = [ty + suffix[h] for (_, ty), h in zip(self.args, spec.hints, strict=True)]
        return ", ".join(entries + [str(v) for v in config.constexprs])

    def grid(self, config: Config) -> str:
        """compile.py's -g argument: C expressions over the C arguments."""
        factors = [f"(({arg} + {config.constexprs[i] - 1}) / {config.constexprs[i]})" for arg, i in self.grid_dims]
        return " * ".join(factors) + ", 1, 1"

    def grid_size(self, config: Config, values: dict[str, int]) -> int:
        size = 1
        for arg, i in self.grid_dims:
            size *= -(-values[arg] // config.constexprs[i])
        return size

    def example_variants(self) -> list[tuple[int, Specialisation]]:
        """(config index, specialisation) of every variant examples/BUILD.bazel compiles."""
        return [(i, s) for i in range(len(self.configs)) for s in self.specialisations if s.name in self.example_specs]

    def variant_stem(self, config_index: int, spec: Specialisation) -> str:
        return f"{self.out_name}_{config_index}_{spec.name}"


_MATMUL_ARGS = (
    ("a_ptr", "*fp16"),
    ("b_ptr", "*fp16"),
    ("c_ptr", "*fp16"),
    ("M", "i32"),
    ("N", "i32"),
    ("K", "i32"),
    ("stride_am", "i32"),
    ("stride_ak", "i32"),
    ("stride_bk", "i32"),
    ("stride_bn", "i32"),
    ("stride_cm", "i32"),
    ("stride_cn", "i32"),
)

A, U, N = ALIGNED, UNIT, NONE

MATMUL = Kernel(
    out_name="matmul",
    source="examples/matmul.py",
    function="matmul_kernel",
    args=_MATMUL_ARGS,
    constexpr_names=("BLOCK_SIZE_M", "BLOCK_SIZE_N", "BLOCK_SIZE_K", "GROUP_SIZE_M"),
    # examples/BUILD.bazel's three configs (the first is TRITON_AOT.md's anchor), then two
    # more of the tutorial's shape family tried for the cuBLAS target
    configs=(
        Config((128, 256, 64, 8), 8, 3),
        Config((128, 128, 32, 8), 4, 4),
        Config((64, 128, 32, 8), 4, 4),
        Config((128, 256, 64, 8), 8, 4),
        Config((256, 128, 64, 8), 8, 3),
    ),
    # examples/BUILD.bazel's three, plus unit_stride for odd sizes of row-major matrices
    specialisations=(
        # every pointer, size and leading stride divisible by 16, unit inner strides
        Specialisation("aligned", (A, A, A, A, A, A, A, U, A, U, A, U)),
        # unit inner strides only: odd sizes such as 4001 of row-major matrices
        Specialisation("unit_stride", (A, A, A, N, N, N, N, U, N, U, N, U)),
        # `specializations = ["auto"]`: every pointer and integer divisible by 16
        Specialisation("all_16", (A,) * 12),
        # anything: transposed or sliced operands
        Specialisation("generic", (N,) * 12),
    ),
    grid_dims=(("M", 0), ("N", 1)),
    # examples/BUILD.bazel's hint sets until it took them from its record (issue 9; the
    # layout table, bench/gpu/layouts.py, builds those): the 2026-11-26 run's "examples' set"
    example_specs=("aligned", "all_16", "generic"),
)

VECTOR_ADD = Kernel(
    out_name="vector_add",
    source="examples/vector_add.py",
    function="add_kernel",
    args=(("x_ptr", "*fp32"), ("y_ptr", "*fp32"), ("out_ptr", "*fp32"), ("n_elements", "i32")),
    constexpr_names=("BLOCK_SIZE",),
    configs=(Config((1024,), 4, 3), Config((256,), 2, 3)),
    specialisations=(
        Specialisation("aligned", (A, A, A, A)),
        Specialisation("generic", (N, N, N, N)),
    ),
    grid_dims=(("n_elements", 0),),
)

KERNELS = (MATMUL, VECTOR_ADD)
TARGETS = ("cuda:80", "cuda:90")


@dataclass(frozen=True)
class TargetBuild:
    """KERNEL's config 0, first specialisation, compiled for TARGETS only under OUT_NAME: the
    driver is given binaries that do not include the GPU's own."""

    kernel: Kernel
    out_name: str
    targets: tuple[str, ...]
    embed_ptx: bool

    @property
    def compiled(self) -> Kernel:
        """KERNEL under its own out name, so that no symbol is shared with KERNEL's build."""
        return replace(self.kernel, out_name=self.out_name)

    def runs_on(self, major: int, minor: int) -> bool:
        """CUDA's compatibility rule: a cubin runs on its own major version at the same or a
        higher minor; the PTX (ttlink embeds the oldest target's) on any GPU at least as new."""
        archs = [int(target.split(":")[1]) for target in self.targets]
        if any(arch // 10 == major and arch % 10 <= minor for arch in archs):
            return True
        return self.embed_ptx and min(archs) <= 10 * major + minor


# On an sm_90 GPU the first runs only through the driver's JIT of sm_80 PTX, the second not at all.
TARGET_BUILDS = (
    TargetBuild(VECTOR_ADD, "vector_add_sm80_ptx", ("cuda:80",), embed_ptx=True),
    TargetBuild(VECTOR_ADD, "vector_add_sm80", ("cuda:80",), embed_ptx=False),
)
