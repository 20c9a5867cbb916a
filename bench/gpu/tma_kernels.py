"""The tensor-descriptor examples (examples/tma_matmul.py, examples/attention.py) as the GPU
benchmark builds them: the configs of examples/tma_configs.bzl (which examples/BUILD.bazel
compiles too), hint sets, signatures and grids (as the comment blocks at the top of the kernel
files give them for the Bazel targets). Standard library only: it runs on the
build machine (Python 3.11) and on the GPU machine (3.12).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MatmulConfig:
    block_m: int
    block_n: int
    block_k: int
    group_m: int
    num_warps: int
    num_stages: int

    @property
    def name(self) -> str:
        """ttlink's algo name: constexprs in parameter order, warps and stages."""
        blocks = f"{self.block_m}x{self.block_n}x{self.block_k}x{self.group_m}"
        return f"{blocks}_warps{self.num_warps}xstages{self.num_stages}"

    @property
    def constexprs(self) -> dict[str, int]:
        return {"BLOCK_M": self.block_m, "BLOCK_N": self.block_n, "BLOCK_K": self.block_k, "GROUP_M": self.group_m}


@dataclass(frozen=True)
class AttentionConfig:
    head_dim: int
    block_m: int
    block_n: int
    num_warps: int
    num_stages: int

    def name(self, causal: bool) -> str:
        blocks = f"{self.head_dim}x{self.block_m}x{self.block_n}x{int(causal)}"
        return f"{blocks}_warps{self.num_warps}xstages{self.num_stages}"

    def constexprs(self, causal: bool) -> dict[str, int]:
        return {"HEAD_DIM": self.head_dim, "BLOCK_M": self.block_m, "BLOCK_N": self.block_n, "CAUSAL": int(causal)}


def _example_configs() -> dict:
    """examples/tma_configs.bzl, the configs examples/BUILD.bazel compiles (plain literals)."""
    namespace: dict = {}
    exec(compile(CONFIGS_BZL.read_text(), str(CONFIGS_BZL), "exec"), namespace)
    return namespace


CONFIGS_BZL = Path(__file__).resolve().parents[2] / "examples" / "tma_configs.bzl"
_EXAMPLE_CONFIGS = _example_configs()
MATMUL_CONFIGS = tuple(
    MatmulConfig(c["BLOCK_M"], c["BLOCK_N"], c["BLOCK_K"], c["GROUP_M"], c["num_warps"], c["num_stages"])
    for c in _EXAMPLE_CONFIGS["TMA_MATMUL_CONFIGS"]
)
ATTENTION_CONFIGS = tuple(
    AttentionConfig(c["HEAD_DIM"], c["BLOCK_M"], c["BLOCK_N"], c["num_warps"], c["num_stages"])
    for c in _EXAMPLE_CONFIGS["ATTENTION_CONFIGS"]
)


# Hint sets: sizes divisible by 16 (what the JIT specialises 4096 on), and none (any size).
HINTS = {"aligned": ":16", "generic": ""}


@dataclass(frozen=True)
class Variant:
    out_name: str  # the dispatcher's name, `tma_matmul` or `attention`
    stem: str  # file name of its generated C
    source: str
    function: str
    signature: str
    grid: str
    num_warps: int
    num_stages: int


def matmul_variant(config: MatmulConfig, hints: str) -> Variant:
    m, n, k = config.block_m, config.block_n, config.block_k
    size = f"i32{HINTS[hints]}"
    descriptors = [f"tensordesc<fp16[{m}, {k}]>", f"tensordesc<fp16[{k}, {n}]>", f"tensordesc<fp16[{m}, {n}]>"]
    signature = ", ".join([*descriptors, size, size, size, "i32", *map(str, config.constexprs.values())])
    return Variant(
        "tma_matmul", f"tma_matmul_{config.name}_{hints}", "examples/tma_matmul.py", "matmul_tma_kernel",
        signature, "num_sms, 1, 1", config.num_warps, config.num_stages,
    )  # fmt: skip


def attention_variant(config: AttentionConfig, causal: bool, hints: str) -> Variant:
    d, m, n = config.head_dim, config.block_m, config.block_n
    descriptors = [f"tensordesc<fp16[1, {rows}, {d}]>" for rows in (m, n, n, m)]
    constexprs = map(str, config.constexprs(causal).values())
    signature = ", ".join([*descriptors, "fp32", f"i32{HINTS[hints]}", "i32", *constexprs])
    return Variant(
        "attention", f"attention_{config.name(causal)}_{hints}", "examples/attention.py", "attention_fwd_kernel",
        signature, f"(N_CTX + {m - 1}) / {m}, batch_heads, 1", config.num_warps, config.num_stages,
    )  # fmt: skip


def variants() -> list[Variant]:
    built = [matmul_variant(config, hints) for config in MATMUL_CONFIGS for hints in HINTS]
    built += [
        attention_variant(config, causal, hints)
        for config in ATTENTION_CONFIGS
        for causal in (False, True)
        for hints in HINTS
    ]
    return built
