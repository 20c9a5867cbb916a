"""The @rules_cuda//cuda:archs flag of the rules_cuda stand-in."""

load(":private/providers.bzl", "ArchSpecInfo", "CudaArchsInfo", "Stage2ArchInfo")

_KINDS = ["sm_", "compute_", "lto_"]

def _arch_number(code, flag):
    """Returns the number of a code such as sm_90a ("90a"), or fails naming the flag."""
    for kind in _KINDS:
        if code.startswith(kind):
            number = code[len(kind):]
            digits = number.rstrip("af")
            if digits.isdigit() and len(number) - len(digits) <= 1:
                return kind, number
    fail("{}: '{}' is not a CUDA arch (expected sm_XX, compute_XX or lto_XX, e.g. sm_90)".format(flag, code))

def _numeric(number):
    return int(number.rstrip("af"))

def parse_arch_specs(value, flag):
    """Parses the flag's value into a list of ArchSpecInfo.

    Args:
      value: the flag's string, e.g. "sm_80,sm_90" or "compute_80:sm_80,sm_86;sm_90".
      flag: the flag's label, for error messages.

    Returns:
      A list of ArchSpecInfo, empty for an empty value.
    """
    specs = []
    for spec in value.split(";"):
        spec = spec.strip()
        if not spec:
            continue
        virtual, sep, codes = spec.partition(":")
        if not sep:
            virtual, codes = "", spec
        stage2 = []
        for code in codes.split(","):
            kind, number = _arch_number(code.strip(), flag)
            stage2.append(Stage2ArchInfo(
                arch = number,
                virtual = kind == "compute_",
                gpu = kind == "sm_",
                lto = kind == "lto_",
            ))
        if virtual:
            kind, stage1 = _arch_number(virtual.strip(), flag)
            if kind != "compute_":
                fail("{}: '{}' is not a virtual architecture (compute_XX)".format(flag, virtual))
        else:
            stage1 = sorted([s.arch for s in stage2], key = _numeric)[0]
        specs.append(ArchSpecInfo(stage1_arch = stage1, stage2_archs = stage2))
    return specs

def _cuda_archs_flag_impl(ctx):
    return [CudaArchsInfo(arch_specs = parse_arch_specs(ctx.build_setting_value, str(ctx.label)))]

cuda_archs_flag = rule(
    implementation = _cuda_archs_flag_impl,
    build_setting = config.string(flag = True),
    provides = [CudaArchsInfo],
    doc = "A string flag holding CUDA archs in nvcc's extended notation; provides CudaArchsInfo.",
)
