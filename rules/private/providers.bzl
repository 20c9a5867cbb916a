"""Providers of rules_triton."""

TritonKernelInfo = provider(
    doc = """One `triton_kernel`: the C sources of every compiled variant and what they were built from.

Every config x specialisation becomes one variant: a header + source pair written by
`ttlink assemble` that embeds the binaries of all targets. `triton_link_library` links
the headers of one or more kernels into a dispatcher.""",
    fields = {
        "name": "str: the out name `K` of the kernel: the linked API is `K`, `K_default`, `K_get_num_algos`, ...",
        "kernel": "str: the name of the `@triton.jit` function in `src`.",
        "autotune_key": """list of str, or None: the parameters the kernel's `@triton.autotune` is keyed
  by (`key=[...]`), in its order, when `triton_kernel(autotune = ...)` gave the configs; None
  otherwise. docs/AUTOTUNE.md.""",
        "targets": "list of str: the compile targets, e.g. `[\"cuda:80\", \"cuda:90\"]`.",
        "headers": "depset of File: one `.h` per variant, each carrying the `// ttlink-meta:` line.",
        "sources": "depset of File: one `.c` per variant.",
        "binaries": "depset of File: the per-target JSON files of `ttlink compile --binary-out` (cubin, PTX, metadata).",
        "variants": """list of struct: one per variant, in build order, with fields
  `tag` (str: `CONFIG/VARIANT`, e.g. `128x256x64_w8s3/0d1d7c`: names the variant's files),
  `config` (dict: constexpr values plus the launch options `num_warps`, `num_stages`, `num_ctas`, `launch_pdl` and `launch_cooperative_grid`),
  `hints` (dict: argument name -> 16, 1 or None),
  `grid` (list of 3 str: the grid expressions, config values substituted),
  `embed_ptx` (bool: whether its C embeds PTX),
  `header` (File), `source` (File) and `binaries` (list of File, one per target).
  `grid`, `embed_ptx` and `binaries` are what `ttlink assemble` writes the C from:
  `triton_link_library` assembles them again when it prefixes the variant symbols.""",
        "triton_version": "str: the Triton version of the toolchain that compiled the kernel.",
    },
)

TritonToolchainInfo = provider(
    doc = "What a `triton_toolchain` gives the rules: the ttlink tool and the Triton it runs.",
    fields = {
        "cuda_headers": "CcInfo: the CUDA headers the generated C compiles against (default `@cuda//:cuda_headers`).",
        "ttlink": "FilesToRunProvider: `ttlink` (compile, assemble, link) with Triton importable.",
        "triton_version": "str: the Triton version, recorded for users; does not change the command lines.",
    },
)
