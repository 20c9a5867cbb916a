"""Checks the execution logs of tools/remote_cache_check.sh: the remote cache served every
action of a second checkout, and running the actions there gave the same bytes.

Usage: check_execution_logs.py FIRST SECOND REBUILT

Each is a Bazel execution log (`--execution_log_json_file`) of the same targets:
  FIRST    the first checkout's build, which ran its processes and filled the remote cache;
  SECOND   the second checkout's build (other path, fresh output base): every process must be
           a remote cache hit, as many as FIRST ran;
  REBUILT  the second checkout again with the remote cache off: every output must have the
           bytes FIRST's had.
A miss names the action and what in its key differs from the first build's (argument,
environment variable or input); a difference names the output. Exits 1 on any problem.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

REMOTE_CACHE_HIT = "remote cache hit"  # the runner Bazel logs for a spawn the remote cache served


def spawns(log: Path) -> list[dict]:
    """The spawns of an execution log: concatenated JSON objects (not one JSON document)."""
    text = log.read_text()
    decoder = json.JSONDecoder()
    result, position = [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return result
        spawn, position = decoder.raw_decode(text, position)
        result.append(spawn)


def name(spawn: dict) -> str:
    """The spawn as a reader finds it: mnemonic, target and first output."""
    outputs = spawn.get("listedOutputs") or ["(no outputs)"]
    return f"{spawn.get('mnemonic', '?')} of {spawn.get('targetLabel', '?')} -> {outputs[0]}"


def key_parts(spawn: dict) -> dict[str, dict]:
    """What Bazel's action key is made of, as far as the execution log records it."""
    return {
        "argument": dict(enumerate(spawn.get("commandArgs", []))),
        "environment variable": {v["name"]: v["value"] for v in spawn.get("environmentVariables", [])},
        "input": {i["path"]: i.get("digest", {}).get("hash") for i in spawn.get("inputs", [])},
    }


def key_difference(spawn: dict, before: dict | None) -> str:
    """Why `spawn` missed: what in its action key differs from the first build's same action."""
    if before is None:
        return "the first build had no action with these outputs"
    if spawn.get("digest") and spawn.get("digest") == before.get("digest"):
        return "the first build's action had the same key, but the cache did not serve its result"
    now, then = key_parts(spawn), key_parts(before)
    for part, items in now.items():
        for item in sorted(items.keys() | then[part].keys()):
            now_value, then_value = items.get(item), then[part].get(item)
            if now_value != then_value:
                return f"its key differs in {part} {item}: {now_value!r}, in the first build {then_value!r}"
    return "its key differs in something the log does not record (platform or execution properties)"


def output_digests(log: list[dict]) -> dict[str, tuple[dict, str]]:
    """Output path -> (the spawn that wrote it, its content hash)."""
    return {
        output["path"]: (spawn, output.get("digest", {}).get("hash", ""))
        for spawn in log
        for output in spawn.get("actualOutputs", [])
    }


def check(first: list[dict], second: list[dict], rebuilt: list[dict]) -> list[str]:
    """The problems found; empty when the second build was all remote cache hits and the rebuild
    gave the first build's bytes."""
    if not first:
        return ["the first build ran no processes: nothing was put into the remote cache"]
    problems = []
    by_output = {tuple(spawn.get("listedOutputs", [])): spawn for spawn in first}
    for spawn in second:
        if spawn.get("runner") != REMOTE_CACHE_HIT:
            before = by_output.get(tuple(spawn.get("listedOutputs", [])))
            problems.append(
                f"not a remote cache hit ({spawn.get('runner', '?')}): {name(spawn)}; {key_difference(spawn, before)}"
            )
    if len(second) != len(first):
        problems.append(f"the first build ran {len(first)} processes, the second {len(second)}")
    expected, actual = output_digests(first), output_digests(rebuilt)
    for path in sorted(expected.keys() | actual.keys()):
        if path not in actual or path not in expected:
            problems.append(f"{path} is an output of only one of the first build and the rebuild")
        elif actual[path][1] != expected[path][1]:
            spawn = actual[path][0]
            problems.append(
                f"not reproducible across checkouts: {path} (from {spawn.get('mnemonic', '?')} of "
                f"{spawn.get('targetLabel', '?')}) has other bytes"
            )
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: check_execution_logs.py FIRST SECOND REBUILT", file=sys.stderr)
        return 2
    first, second, rebuilt = (spawns(Path(log)) for log in argv[1:])
    hits = Counter(spawn.get("mnemonic", "?") for spawn in second if spawn.get("runner") == REMOTE_CACHE_HIT)
    for mnemonic, count in sorted(Counter(spawn.get("mnemonic", "?") for spawn in second).items()):
        print(f"check_execution_logs: {mnemonic}: {hits[mnemonic]} of {count} from the remote cache")
    problems = check(first, second, rebuilt)
    for problem in problems:
        print(f"check_execution_logs: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(
        f"check_execution_logs: all {len(second)} processes of the second checkout were remote cache hits; "
        f"run there, their {len(output_digests(rebuilt))} outputs have the first checkout's bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
