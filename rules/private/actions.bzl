"""`run_ttlink`: every action of the rules runs the toolchain's ttlink the same hermetic way;
`assemble`: the TritonAssemble action of one variant, for both rules; `python_path`: where
a kernel file finds its Python deps."""

load(":toolchain.bzl", "TOOLCHAIN_TYPE", "find_triton_toolchain")

# Python must not write bytecode next to its sources (nothing outside declared outputs) and
# must hash strings the same way in every run. ttlink itself gives Triton a private HOME and
# cache directory per invocation.
_ENV = {
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}

# Sandboxed, remotable and cacheable (no "no-sandbox", "no-remote", "no-cache"); the
# actions need no network, and sandboxes that can cut it off do.
_EXECUTION_REQUIREMENTS = {"block-network": "1"}

def run_ttlink(ctx, mnemonic, arguments, inputs, outputs, progress_message, env = {}):
    """Runs `ttlink` of the resolved Triton toolchain.

    Args:
      ctx: the rule context; the rule must declare the Triton toolchain type.
      mnemonic: TritonCompile, TritonAssemble or TritonLink.
      arguments: Args, starting with the ttlink command.
      inputs: depset or list of File.
      outputs: list of declared File.
      progress_message: what the action does, for the user.
      env: extra environment, e.g. PYTHONPATH.
    """
    ctx.actions.run(
        executable = find_triton_toolchain(ctx).ttlink,
        arguments = [arguments],
        inputs = inputs,
        outputs = outputs,
        mnemonic = mnemonic,
        progress_message = progress_message,
        env = dict(_ENV, **env),
        # Only for the fixed PATH of --incompatible_strict_action_env, which the Python
        # launcher needs to find the interpreter.
        use_default_shell_env = True,
        execution_requirements = _EXECUTION_REQUIREMENTS,
        toolchain = TOOLCHAIN_TYPE,
    )

def repository_root(file):
    """The root of `file`'s repository relative to the execution root ("." for the main one)."""
    return "/".join([part for part in [file.root.path, file.owner.workspace_root] if part]) or "."

def repository_path(file):
    """The file's path relative to its repository's root, as records and `ttlink configs` name kernel files."""
    path = file.short_path
    return path.split("/", 2)[2] if path.startswith("../") else path

def python_path(deps):
    """Where a kernel file finds its Python deps.

    Args:
      deps: depset of File, the Python files the kernel file imports.

    Returns:
      PYTHONPATH: their repository roots, relative to the execution root.
    """
    roots = {".": True}
    for file in deps.to_list():
        roots[repository_root(file)] = True
    return ":".join(roots.keys())

def assemble(ctx, name, binaries, grid, embed_ptx, output_base, description, prefix = ""):
    """Writes the C of one variant from its per-target binaries (`ttlink assemble`).

    The kernel rule runs it for its own variants; a `triton_link_library` with a prefix runs
    it again for each, so that the variant symbols carry the prefix too.

    Args:
      ctx: the rule context; the rule must declare the Triton toolchain type.
      name: the API name `K` of the kernel.
      binaries: list of File, the variant's `ttlink compile --binary-out` files.
      grid: the variant's three grid expressions, placeholders substituted.
      embed_ptx: whether to embed PTX as a JIT fallback.
      output_base: the outputs' path in the package, without `.h` / `.c`.
      description: the variant, for the progress message.
      prefix: prepended to the variant's symbols (`--prefix`), or "".

    Returns:
      struct(header, source): the written File pair.
    """
    header = ctx.actions.declare_file(output_base + ".h")
    source = ctx.actions.declare_file(output_base + ".c")
    args = ctx.actions.args()
    args.add("assemble")
    args.add_all(binaries)
    args.add("-g", ", ".join(grid))
    args.add("-on", name)
    args.add("-o", header.path[:-len(".h")])
    if embed_ptx:
        args.add("--embed-ptx")
    if prefix:
        args.add("--prefix", prefix)
    run_ttlink(
        ctx,
        mnemonic = "TritonAssemble",
        arguments = args,
        inputs = binaries,
        outputs = [header, source],
        progress_message = "Writing C for Triton kernel %s%s (%s)" % (prefix, name, description),
    )
    return struct(header = header, source = source)
