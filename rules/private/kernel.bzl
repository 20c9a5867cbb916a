"""`triton_kernel`: one TritonCompile action per config x specialisation x target, one
TritonAssemble action per config x specialisation (C for all targets)."""

load("@rules_cuda//cuda:defs.bzl", "CudaArchsInfo")
load(":actions.bzl", "assemble", "python_path", "repository_path", "run_ttlink")
load(":autotune.bzl", "autotune_configs")
load(":providers.bzl", "TritonKernelInfo")
load(":records.bzl", "recorded_configs", "recorded_hint_sets", "recorded_variants")
load(
    ":specializations.bzl",
    "DEFAULT_TARGETS",
    "LAUNCH_OPTIONS",
    "attr_fail",
    "c_identifier",
    "check_launch_defaults",
    "check_tensordesc_build",
    "expand_configs",
    "expand_specializations",
    "parse_signature",
    "parse_targets",
    "signature_arg",
    "symbol_name",
    "targets_from_cuda_archs",
    "variant_tag",
)
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "find_triton_toolchain")

def _decode(label, attribute, text, expected_type):
    value = json.decode(text)
    if type(value) not in expected_type:
        attr_fail(label, attribute, "has the wrong shape; see the triton_kernel documentation")
    return value

def _signature_entries(label, encoded):
    entries = _decode(label, "signature", encoded, ["list"])
    for entry in entries:
        if type(entry) != "list" or len(entry) != 2 or type(entry[0]) != "string" or type(entry[1]) != "string":
            attr_fail(label, "signature", "must be a dict {parameter name: type or value}")
    return entries

def _targets(ctx):
    """The targets, and where they come from when `targets` is not given (for messages)."""
    if ctx.attr.targets:
        return parse_targets(ctx.label, ctx.attr.targets), ""
    from_flag = targets_from_cuda_archs(ctx.attr._cuda_archs[CudaArchsInfo])
    if from_flag:
        return from_flag, "; --@rules_cuda//cuda:archs gives %s: set `targets`" % ", ".join(from_flag)
    return DEFAULT_TARGETS, "; the default targets are %s: set `targets`" % " and ".join(DEFAULT_TARGETS)

def _compile(ctx, deps, kernel, params, signature, config, target, output, hints_tag):
    args = ctx.actions.args()
    args.add("compile")
    args.add(ctx.file.src)
    args.add("-n", kernel)
    args.add("-s", signature)

    # `-s` is positional; ttlink checks the signature's keys against the kernel's parameters.
    args.add_joined("--arg-names", [param.name for param in params], join_with = ",")
    args.add("-w", config.num_warps)
    args.add("-ns", config.num_stages)

    # Only options that differ from Triton's defaults: other kernels' command lines stay as
    # they were, and so do their cached actions.
    if config.launch["num_ctas"] != 1:
        args.add("--num-ctas", config.launch["num_ctas"])
    if config.launch["launch_pdl"]:
        args.add("--launch-pdl")
    if config.launch["launch_cooperative_grid"]:
        args.add("--launch-cooperative-grid")
    args.add("--target", target)
    args.add("--binary-out", output)
    run_ttlink(
        ctx,
        mnemonic = "TritonCompile",
        arguments = args,
        inputs = depset([ctx.file.src], transitive = [deps]),
        outputs = [output],
        progress_message = "Compiling Triton kernel %s (%s; hints %s) for %s" % (kernel, config.description, hints_tag, target),
        env = {"PYTHONPATH": python_path(deps)} if ctx.attr.deps else {},
    )

def _triton_kernel_impl(ctx):
    label = ctx.label
    name = symbol_name(label, "out_name" if ctx.attr.out_name else "name", ctx.attr.out_name or label.name, "names the linked API")
    c_identifier(label, "kernel", ctx.attr.kernel, "names the kernel in the compiled binary")
    params = parse_signature(label, _signature_entries(label, ctx.attr.signature))
    recorded = recorded_variants(
        label,
        repository_path(ctx.file.src),
        ctx.attr.kernel,
        params,
        _decode(label, "records", ctx.attr.records, ["list"]),
    )

    # No `configs` in the BUILD file (null): those of `autotune`, else the recorded ones, else
    # one empty config.
    given_configs = _decode(label, "configs", ctx.attr.configs, ["list", "NoneType"])
    autotune = _decode(label, "autotune", ctx.attr.autotune, ["dict", "NoneType"])
    if autotune != None:
        if given_configs != None:
            attr_fail(label, "autotune", "and `configs` are both given; `autotune` carries the configs of the kernel's @triton.autotune")
        given_configs = autotune_configs(label, repository_path(ctx.file.src), ctx.attr.kernel, params, autotune)
    launch_defaults = {option: getattr(ctx.attr, option) for option in LAUNCH_OPTIONS}
    check_launch_defaults(label, launch_defaults)
    configs = expand_configs(
        label,
        params,
        ctx.attr.grid,
        given_configs if given_configs != None else recorded_configs(recorded) or [{}],
        launch_defaults,
    )
    hint_sets = expand_specializations(label, params, _decode(label, "specializations", ctx.attr.specializations, ["string", "list"]))
    recorded_hints = recorded_hint_sets(label, configs, recorded)
    targets, origin = _targets(ctx)
    check_tensordesc_build(label, params, targets, origin, ctx.attr.embed_ptx)

    toolchain = find_triton_toolchain(ctx)
    deps = depset(transitive = [dep[DefaultInfo].files for dep in ctx.attr.deps])
    variants = []
    for config, config_recorded_hints in zip(configs, recorded_hints):
        for hints in hint_sets + [hints for hints in config_recorded_hints if hints not in hint_sets]:
            hints_tag = variant_tag(params, hints)

            # Keyed by the target's name: kernels of one package may share an API name.
            tag = "%s/%s" % (config.tag, hints_tag)
            base = "_triton/%s/%s" % (label.name, tag)
            signature = signature_arg(params, config, hints)
            binaries = []
            for target in targets:
                # Beside the variant's C, not in a directory named like it (`ttlink assemble -o`
                # refuses a directory).
                binary = ctx.actions.declare_file("%s.%s.json" % (base, target.replace(":", "_")))
                _compile(ctx, deps, ctx.attr.kernel, params, signature, config, target, binary, hints_tag)
                binaries.append(binary)
            description = "%s; hints %s" % (config.description, hints_tag)
            c_files = assemble(ctx, name, binaries, config.grid, ctx.attr.embed_ptx, base, description)
            variants.append(struct(
                tag = tag,
                config = dict(config.values, **config.launch),
                hints = hints,
                grid = config.grid,
                embed_ptx = ctx.attr.embed_ptx,
                header = c_files.header,
                source = c_files.source,
                binaries = binaries,
            ))

    headers = depset([v.header for v in variants])
    sources = depset([v.source for v in variants])
    binaries = depset([b for v in variants for b in v.binaries])
    return [
        DefaultInfo(files = depset(transitive = [headers, sources])),
        OutputGroupInfo(binaries = binaries),
        TritonKernelInfo(
            name = name,
            kernel = ctx.attr.kernel,
            autotune_key = autotune["key"] if autotune != None else None,
            targets = targets,
            headers = headers,
            sources = sources,
            binaries = binaries,
            variants = variants,
            triton_version = toolchain.triton_version,
        ),
    ]

triton_kernel_rule = rule(
    implementation = _triton_kernel_impl,
    doc = "The rule behind the `triton_kernel` macro, which JSON-encodes the dict-valued attributes.",
    attrs = {
        "autotune": attr.string(default = "null", doc = "JSON: the AUTOTUNE `ttlink configs` wrote, or null."),
        "configs": attr.string(mandatory = True, doc = "JSON: list of dicts {config key: number}, or null: from `autotune` or `records`."),
        "deps": attr.label_list(allow_files = [".py"], doc = "Python files the kernel source imports."),
        "embed_ptx": attr.bool(doc = "Embed PTX as a JIT fallback for GPUs without a matching binary."),
        "grid": attr.string_list(mandatory = True, doc = "Three C expressions; `{KEY}` takes config values."),
        "kernel": attr.string(mandatory = True, doc = "The `@triton.jit` function in `src`."),
        "launch_cooperative_grid": attr.bool(doc = "Default launch_cooperative_grid for configs that do not set it."),
        "launch_pdl": attr.bool(doc = "Default launch_pdl for configs that do not set it."),
        "num_ctas": attr.int(default = 1, doc = "Default num_ctas for configs that do not set it: a power of two up to 16."),
        "num_stages": attr.int(default = 3, doc = "Default num_stages for configs that do not set it."),
        "num_warps": attr.int(default = 4, doc = "Default num_warps for configs that do not set it: a power of two up to 32."),
        "out_name": attr.string(doc = "The linked API name; defaults to the target name."),
        "records": attr.string(default = "[]", doc = "JSON: list of records written by `ttlink record -o NAME.bzl`."),
        "signature": attr.string(mandatory = True, doc = "JSON: list of [parameter name, type or value]."),
        "specializations": attr.string(default = "\"auto\"", doc = "JSON: \"auto\" or a list of \"auto\" and hint dicts."),
        "src": attr.label(mandatory = True, allow_single_file = [".py"], doc = "The Python file defining the kernel."),
        "targets": attr.string_list(doc = "`cuda:ARCH` targets; empty: @rules_cuda//cuda:archs, else cuda:80 + cuda:90."),
        "_cuda_archs": attr.label(default = "@rules_cuda//cuda:archs", providers = [CudaArchsInfo]),
    },
    provides = [TritonKernelInfo],
    toolchains = [TOOLCHAIN_TYPE],
)

def triton_kernel(
        name,
        src,
        kernel,
        signature,
        grid,
        configs = None,
        autotune = None,
        num_warps = 4,
        num_stages = 3,
        num_ctas = 1,
        launch_pdl = False,
        launch_cooperative_grid = False,
        specializations = "auto",
        records = [],
        targets = [],
        deps = [],
        embed_ptx = False,
        out_name = "",
        **kwargs):
    """Compiles one `@triton.jit` kernel for every config x specialisation x target.

    Args:
      name: target name, and by default the name `K` of the linked C API (`K`,
        `K_default`, ...).
      src: the Python file defining the kernel.
      kernel: the name of the `@triton.jit` function.
      signature: dict {parameter: entry}, every Python parameter by its name in the
        kernel, in order (ttlink checks the names against the kernel's parameters).
        An entry is a Triton type (`*fp16`, `i32`, `fp32`, ...), a host tensor
        descriptor `tensordesc<DTYPE[B0, B1, ...]>` (rank 1 to 5; each block dimension a
        positive integer or `{KEY}` from each config, e.g. `tensordesc<fp16[{BLOCK_M},
        {BLOCK_K}]>`; every target cuda:90 or newer; its C API takes the base pointer,
        shape, strides and padding mode), a literal constexpr (`8`), or `{KEY}`, a constexpr taken from
        each config.
      grid: three C expressions over the kernel's integer arguments and constexprs (not its
        tensor descriptors); `{KEY}` takes config values, e.g.
        `["(M + {BLOCK_M} - 1) / {BLOCK_M}", "1", "1"]`. Commas are not allowed inside an
        entry.
      configs: list of dicts {KEY: number}; the launch options `num_warps`, `num_stages`,
        `num_ctas`, `launch_pdl` and `launch_cooperative_grid` override the defaults below.
        Every key must be used by `signature` or `grid`, and two configs must differ in
        more than keys only `grid` uses (they would compile to one binary).
        Default: the configs of `autotune`, else those of `records`, else `[{}]`.
      autotune: the `AUTOTUNE` of a .bzl file that `ttlink configs` wrote from the kernel's
        `@triton.autotune` (`load(":NAME.bzl", NAME = "AUTOTUNE")`): its configs, in order,
        instead of `configs`, and its key (TritonKernelInfo.autotune_key). It must be of
        this `src` (its path from the repository root) and `kernel`. Keep it current with
        `triton_autotune_test`. docs/AUTOTUNE.md.
      num_warps: default warps per program: a power of two up to 32.
      num_stages: default software pipelining stages.
      num_ctas: default CTAs per program, launched as a thread block cluster of that many
        CTAs (`ttlink compile --num-ctas`): a power of two up to 16; cuda:90 and newer.
      launch_pdl: default for programmatic dependent launch (`--launch-pdl`): the kernel
        may start while the previous kernel of its stream finishes.
      launch_cooperative_grid: default for a cooperative launch
        (`--launch-cooperative-grid`): all programs resident at once, for grid-wide sync.
      specializations: "auto" (every pointer and integer argument `:16`, plus a generic
        variant), or a list mixing "auto" and dicts {argument: 16 | 1 | None, "*": hint of
        every pointer and integer not named}.
      records: `RECORD`s loaded from .bzl files that `ttlink record -o NAME.bzl` wrote
        (`load(":NAME.bzl", NAME = "RECORD")`). Each must record this kernel (its `src` path
        from the repository root, and `kernel`); every specialisation it recorded is
        compiled too, with the recorded hints, for the config of its recorded constexprs
        (and tensor descriptor block shapes), num_warps, num_stages and num_ctas (recorded
        ones that match no config of `configs` are left out), for every target of
        `targets` (recorded targets are not used). docs/RECORD.md.
      targets: `cuda:ARCH` list; default: `@rules_cuda//cuda:archs` when set, else
        `["cuda:80", "cuda:90"]`.
      deps: Python files the kernel source imports (found from their repository root).
      embed_ptx: also embed PTX, for GPUs newer than every target; not for a kernel that
        takes a tensor descriptor.
      out_name: the name `K` of the linked C API, if not `name`; not starting with
        `ttlink_` or `cu[A-Z]`. Kernels of one package may share it (their outputs are
        keyed by `name`).
      **kwargs: common attributes (visibility, tags, ...).
    """
    if type(signature) == "dict":
        signature = [[key, value] for key, value in signature.items()]
    triton_kernel_rule(
        name = name,
        src = src,
        kernel = kernel,
        signature = json.encode(signature),
        grid = grid,
        configs = json.encode(configs),
        autotune = json.encode(autotune),
        num_warps = num_warps,
        num_stages = num_stages,
        num_ctas = num_ctas,
        launch_pdl = launch_pdl,
        launch_cooperative_grid = launch_cooperative_grid,
        specializations = json.encode(specializations),
        records = json.encode(records),
        targets = targets,
        deps = deps,
        embed_ptx = embed_ptx,
        out_name = out_name,
        **kwargs
    )
