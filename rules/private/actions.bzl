"""`run_ttlink`: every action of the rules runs the toolchain's ttlink the same hermetic way."""

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
