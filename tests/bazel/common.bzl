"""Helpers shared by the analysis tests: find actions, check hermetic command lines."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

KERNELS = "tests/bazel/testdata/kernels.py"

def actions_of(env, mnemonic):
    """Returns the actions of the target under test with `mnemonic`."""
    return [action for action in analysistest.target_actions(env) if action.mnemonic == mnemonic]

def action_writing(env, actions, suffix):
    """Returns the one action among `actions` with an output path ending in `suffix`."""
    found = [a for a in actions if [o for o in a.outputs.to_list() if o.path.endswith(suffix)]]
    asserts.equals(env, 1, len(found), "actions writing *%s" % suffix)
    return found[0] if found else None

def output_ending(action, suffix):
    """Returns the output of `action` whose path ends in `suffix`."""
    return [o for o in action.outputs.to_list() if o.path.endswith(suffix)][0]

def assert_hermetic(env, actions):
    """Asserts no absolute paths on the command line, a fixed hash seed, no bytecode writes.

    Args:
      env: the analysistest env.
      actions: the actions to check.
    """
    for action in actions:
        for arg in action.argv:
            asserts.false(env, arg.startswith("/"), "absolute path in %s argv: %s" % (action.mnemonic, arg))
        asserts.equals(env, "0", action.env.get("PYTHONHASHSEED"), action.mnemonic + " PYTHONHASHSEED")
        asserts.equals(env, "1", action.env.get("PYTHONDONTWRITEBYTECODE"), action.mnemonic + " PYTHONDONTWRITEBYTECODE")
