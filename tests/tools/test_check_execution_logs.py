"""tools/check_execution_logs.py: the verdict of tools/remote_cache_check.sh on Bazel's execution logs."""

import json
import subprocess
import sys
from pathlib import Path

CHECK = Path("tools/check_execution_logs.py")


def spawn(output: str, runner: str = "processwrapper-sandbox", content: str = "a", tool: str = "t1") -> dict:
    """A spawn as Bazel 7's --execution_log_json_file writes it (the fields the check reads)."""
    return {
        "commandArgs": ["ttlink", "compile", "-o", output],
        "environmentVariables": [{"name": "PATH", "value": "/bin:/usr/bin"}],
        "inputs": [{"path": "kernels.py", "digest": {"hash": "k"}}, {"path": "ttlink", "digest": {"hash": tool}}],
        "listedOutputs": [output],
        "actualOutputs": [{"path": output, "digest": {"hash": content}}],
        "mnemonic": "TritonCompile",
        "targetLabel": "//examples:k",
        "runner": runner,
        # The action key: Bazel hashes the command, environment, inputs and platform into it.
        "digest": {"hash": f"key of {output} with {tool}"},
    }


def run(tmp_path: Path, first: list[dict], second: list[dict], rebuilt: list[dict]) -> subprocess.CompletedProcess:
    logs = []
    for log_name, spawns in (("first", first), ("second", second), ("rebuilt", rebuilt)):
        log = tmp_path / f"{log_name}.json"
        # Concatenated objects, pretty-printed, as Bazel writes them: not one JSON document.
        log.write_text("".join(json.dumps(s, indent=2) + "\n" for s in spawns))
        logs.append(str(log))
    return subprocess.run([sys.executable, str(CHECK), *logs], capture_output=True, text=True)


def test_all_hits_and_same_bytes_pass(tmp_path):
    first = [spawn("a.json"), spawn("b.json", content="b")]
    second = [spawn("a.json", "remote cache hit"), spawn("b.json", "remote cache hit", content="b")]
    result = run(tmp_path, first, second, first)
    assert result.returncode == 0, result.stderr
    assert "all 2 processes of the second checkout were remote cache hits" in result.stdout
    assert "TritonCompile: 2 of 2 from the remote cache" in result.stdout


def test_a_miss_names_the_action_and_the_input_that_changed_its_key(tmp_path):
    first = [spawn("a.json"), spawn("b.json")]
    second = [spawn("a.json", "remote cache hit"), spawn("b.json", tool="t2")]
    result = run(tmp_path, first, second, first)
    assert result.returncode == 1
    assert (
        "not a remote cache hit (processwrapper-sandbox): TritonCompile of //examples:k -> b.json; "
        "its key differs in input ttlink: 't2', in the first build 't1'"
    ) in result.stderr
    assert "a.json;" not in result.stderr


def test_a_miss_with_the_first_builds_key_blames_the_cache(tmp_path):
    first = [spawn("a.json")]
    result = run(tmp_path, first, [spawn("a.json")], first)
    assert result.returncode == 1
    assert "a.json; the first build's action had the same key, but the cache did not serve its result" in result.stderr


def test_a_disk_cache_hit_is_not_a_remote_one(tmp_path):
    first = [spawn("a.json")]
    result = run(tmp_path, first, [spawn("a.json", "disk cache hit")], first)
    assert result.returncode == 1
    assert "not a remote cache hit (disk cache hit)" in result.stderr


def test_other_bytes_in_the_rebuild_fail(tmp_path):
    first = [spawn("a.json"), spawn("b.json")]
    second = [spawn("a.json", "remote cache hit"), spawn("b.json", "remote cache hit")]
    result = run(tmp_path, first, second, [spawn("a.json"), spawn("b.json", content="b with a path")])
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "check_execution_logs: not reproducible across checkouts: b.json (from TritonCompile of //examples:k) "
        "has other bytes"
    )


def test_fewer_processes_or_an_empty_first_build_fail(tmp_path):
    first = [spawn("a.json"), spawn("b.json")]
    result = run(tmp_path, first, [spawn("a.json", "remote cache hit")], first)
    assert result.returncode == 1
    assert "the first build ran 2 processes, the second 1" in result.stderr
    result = run(tmp_path, [], [], [])
    assert result.returncode == 1
    assert "the first build ran no processes" in result.stderr
