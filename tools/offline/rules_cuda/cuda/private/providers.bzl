"""Providers of the rules_cuda stand-in, with rules_cuda 0.3.0's names and fields."""

Stage2ArchInfo = provider(
    doc = "One code to generate from the virtual architecture.",
    fields = {
        "arch": "str, the architecture number, e.g. \"90\" or \"90a\"",
        "virtual": "bool, embed PTX (compute_XX)",
        "gpu": "bool, a cubin (sm_XX)",
        "lto": "bool, LTO intermediate code (lto_XX)",
    },
)

ArchSpecInfo = provider(
    doc = "One architecture spec: a virtual architecture and the codes generated from it.",
    fields = {
        "stage1_arch": "str, the virtual architecture number, e.g. \"80\"",
        "stage2_archs": "list of Stage2ArchInfo",
    },
)

CudaArchsInfo = provider(
    doc = """The CUDA archs to compile for, from nvcc's extended notation:

    ARCH_SPECS ::= ARCH_SPEC [ ';' ARCH_SPECS ]
    ARCH_SPEC  ::= [ 'compute_' NUMBER ':' ] CODE [ ',' CODE ]*
    CODE       ::= ( 'sm_' | 'compute_' | 'lto_' ) NUMBER

    Without a virtual architecture, a spec's is its lowest code's number.
    An empty flag gives no specs.""",
    fields = {
        "arch_specs": "list of ArchSpecInfo, one per ';'-separated spec",
    },
)
