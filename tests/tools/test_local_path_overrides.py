"""tools/local_path_overrides.awk: the paths tools/bazel mounts for a consumer module."""

import subprocess
from pathlib import Path

import pytest

AWK = Path("tools/local_path_overrides.awk")


def override_paths(tmp_path: Path, module: str) -> list[str]:
    module_file = tmp_path / "MODULE.bazel"
    module_file.write_text(module)
    result = subprocess.run(["awk", "-f", str(AWK), str(module_file)], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("module", "paths"),
    [
        # The README's consumer module: one override, an absolute path.
        (
            'bazel_dep(name = "rules_triton")\n'
            'local_path_override(\n    module_name = "rules_triton",\n    path = "/abs/rules_triton",\n)\n',
            ["/abs/rules_triton"],
        ),
        # Relative and one-line forms, path before module_name, several overrides.
        (
            'local_path_override(module_name = "a", path = "../..")\n'
            'local_path_override(path = "third_party/b", module_name = "b")\n',
            ["../..", "third_party/b"],
        ),
        # Comments, other overrides and other calls with a `path` attribute are not mounts.
        (
            '# local_path_override(module_name = "old", path = "/old")\n'
            'local_path_override(module_name = "a", path = "/a")  # path = "/not/this"\n'
            'archive_override(module_name = "c", urls = ["file:///c.tar.gz"])\n'
            'local_repository(name = "d", path = "/d")\n',
            ["/a"],
        ),
        ('bazel_dep(name = "rules_triton", version = "1.0.0")\n', []),
    ],
)
def test_paths_of_the_local_path_overrides(tmp_path, module, paths):
    assert override_paths(tmp_path, module) == paths
