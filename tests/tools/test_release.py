"""tools/release.sh: the source archive the registry fetches."""

import hashlib
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

RELEASE = Path("tools/release.sh").resolve()
MODULE = '''"""A module."""

# `version` is left unset: release tooling stamps it (.bcr/).
module(
    name = "rules_triton",
    compatibility_level = 1,
)

bazel_dep(name = "platforms", version = "0.0.8")
'''


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "checkout"
    (repo / "rules").mkdir(parents=True)
    (repo / "MODULE.bazel").write_text(MODULE)
    (repo / "rules" / "defs.bzl").write_text('"""Defs."""\n')
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "first")
    return repo


def release(repo: Path, out: Path, *args: str, umask: str = "022", tz: str = "UTC") -> subprocess.CompletedProcess:
    command = f"umask {umask} && exec {RELEASE} {' '.join(args)} {out}"
    return subprocess.run(
        ["bash", "-c", command], cwd=repo, env={**os.environ, "TZ": tz}, capture_output=True, text=True
    )


def test_the_archive_is_the_same_bytes_whatever_the_umask_time_zone_and_checkout(repo, tmp_path):
    first = release(repo, tmp_path / "a", "1.2.3", "HEAD")
    assert first.returncode == 0, first.stderr
    clone = tmp_path / "elsewhere" / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    (clone / "untracked.txt").write_text("not released")
    os.utime(clone / "MODULE.bazel", (0, 0))
    second = release(clone, tmp_path / "b", "1.2.3", "HEAD", umask="077", tz="Asia/Tokyo")
    assert second.returncode == 0, second.stderr
    a, b = (tmp_path / d / "rules_triton-v1.2.3.tar.gz" for d in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()
    assert f"sha256: {hashlib.sha256(a.read_bytes()).hexdigest()}" in first.stdout


def test_the_archive_holds_the_commit_under_the_prefix_with_the_version_stamped(repo, tmp_path):
    result = release(repo, tmp_path, "1.2.3", "HEAD")
    assert result.returncode == 0, result.stderr
    with tarfile.open(tmp_path / "rules_triton-v1.2.3.tar.gz") as archive:
        assert sorted(archive.getnames()) == [
            "rules_triton-1.2.3",
            "rules_triton-1.2.3/MODULE.bazel",
            "rules_triton-1.2.3/rules",
            "rules_triton-1.2.3/rules/defs.bzl",
        ]
        module = archive.extractfile("rules_triton-1.2.3/MODULE.bazel").read().decode()
    assert '    name = "rules_triton",\n    version = "1.2.3",\n    compatibility_level = 1,' in module
    assert "left unset" not in module


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["v1.2"], "VERSION must look like 1.2.3, got 'v1.2'"),
        (["1.2.3", "no-such-commit"], "no commit 'no-such-commit'"),
    ],
)
def test_bad_arguments_are_one_line(repo, tmp_path, args, message):
    result = release(repo, tmp_path, *args)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"release.sh: error: {message} in {repo}" if "commit" in message
                                                  else f"release.sh: error: {message}"]  # fmt: skip
    assert not list(tmp_path.glob("*.tar.gz"))
