"""Configs from a kernel's `@triton.autotune` (docs/AUTOTUNE.md): `autotune_configs` checks the
`AUTOTUNE` that `ttlink configs` wrote for `triton_kernel(autotune = ...)`;
`triton_autotune_test` fails when that file no longer matches the kernel's source."""

load(":actions.bzl", "python_path", "repository_path", "repository_root", "run_ttlink")
load(":specializations.bzl", "attr_fail")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

_AUTOTUNE_FORMAT = 1
_AUTOTUNE_KEYS = ["autotuner", "configs", "file", "format", "kernel", "key"]

def autotune_configs(label, src_path, kernel, params, autotune):
    """The configs of `autotune`, after checking that it is of this kernel.

    Args:
      label: the target, for error messages.
      src_path: the kernel's source file relative to its repository root.
      kernel: the `@triton.jit` function's name (`triton_kernel(kernel = ...)`).
      params: from parse_signature.
      autotune: the decoded `autotune` attribute.

    Returns:
      the configs, in the order of the kernel's `@triton.autotune`.
    """
    if sorted(autotune.keys()) != _AUTOTUNE_KEYS or autotune["format"] != _AUTOTUNE_FORMAT or type(autotune["configs"]) != "list" or type(autotune["key"]) != "list":
        attr_fail(label, "autotune", "is not an AUTOTUNE of format %d: load the AUTOTUNE of a .bzl file that `ttlink configs` wrote" % _AUTOTUNE_FORMAT)
    tuned = "'%s:%s'" % (autotune["file"], autotune["autotuner"])
    if autotune["file"] != src_path:
        attr_fail(label, "autotune", "holds the configs of %s, not of a kernel in `src` '%s'; kernel files are named relative to the repository root (`ttlink configs --root`)" % (tuned, src_path))
    if autotune["kernel"] != kernel:
        attr_fail(label, "autotune", "%s tunes @triton.jit function '%s', not `kernel` '%s'" % (tuned, autotune["kernel"], kernel))
    names = [param.name for param in params]
    for name in autotune["key"]:
        if name not in names:
            attr_fail(label, "autotune", "%s is keyed by '%s', which `signature` lacks: the kernel changed; run `ttlink configs` again" % (tuned, name))
    return autotune["configs"]

# The test's executable. On a mismatch: one line naming the first line that differs and the
# command that rewrites the file, run from the repository root.
_CHECK_SCRIPT = """#!/bin/sh
committed='{committed}'
generated='{generated}'
cmp -s "$committed" "$generated" && exit 0
line=$(awk 'NR == FNR {{ old[FNR] = $0; count = FNR; next }}
    $0 != old[FNR] || FNR > count {{ print FNR; found = 1; exit }}
    END {{ if (!found) print FNR + 1 }}' "$committed" "$generated")
echo "{committed_path}: line $line is not what \\`ttlink configs\\` writes from the @triton.autotune of {src_path}:{kernel} now ($(sed -n "${{line}}p" "$generated")); run from the repository root: python -m ttlink configs {src_path} -n {kernel} -o {committed_path}" >&2
exit 1
"""

def _triton_autotune_test_impl(ctx):
    src = ctx.file.src
    generated = ctx.actions.declare_file(ctx.label.name + ".generated.bzl")
    deps = depset(transitive = [dep[DefaultInfo].files for dep in ctx.attr.deps])
    args = ctx.actions.args()
    args.add("configs")
    args.add(src)
    args.add("-n", ctx.attr.kernel)
    args.add("-o", generated)
    args.add("--root", repository_root(src))
    run_ttlink(
        ctx,
        mnemonic = "TritonAutotuneConfigs",
        arguments = args,
        inputs = depset([src], transitive = [deps]),
        outputs = [generated],
        progress_message = "Reading the @triton.autotune configs of %s:%s" % (src.short_path, ctx.attr.kernel),
        env = {"PYTHONPATH": python_path(deps)} if ctx.attr.deps else {},
    )
    committed = ctx.file.configs
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, _CHECK_SCRIPT.format(
        committed = committed.short_path,
        generated = generated.short_path,
        committed_path = repository_path(committed),
        src_path = repository_path(src),
        kernel = ctx.attr.kernel,
    ), is_executable = True)
    return [DefaultInfo(executable = script, runfiles = ctx.runfiles(files = [committed, generated]))]

triton_autotune_test = rule(
    implementation = _triton_autotune_test_impl,
    doc = """Fails when `configs`, the .bzl file `ttlink configs` wrote from `src`'s
`@triton.autotune` kernel `kernel`, differs from what it writes now with the toolchain's
Triton: one line naming the first differing line and the command that regenerates it.

```starlark
triton_autotune_test(
    name = "matmul_configs_test",
    src = "matmul.py",
    kernel = "matmul_autotuned",
    configs = "matmul_configs.bzl",
)
```
""",
    attrs = {
        "configs": attr.label(mandatory = True, allow_single_file = [".bzl"], doc = "The committed file `ttlink configs` wrote."),
        "deps": attr.label_list(allow_files = [".py"], doc = "Python files the kernel source imports."),
        "kernel": attr.string(mandatory = True, doc = "The `@triton.autotune` kernel's name in `src` (`ttlink configs -n`)."),
        "src": attr.label(mandatory = True, allow_single_file = [".py"], doc = "The Python file defining the kernel."),
    },
    test = True,
    toolchains = [TOOLCHAIN_TYPE],
)
