"""All-or-nothing writing of a command's output files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import TtlinkError


def write_outputs(files: Mapping[Path, str]) -> None:
    """Writes every file or none: each goes to a temporary file beside its target first,
    and the targets are replaced only once all temporaries are complete."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in sorted(files.items()):
            directory = path.parent if str(path.parent) else Path(".")
            try:
                fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
            except OSError as error:
                raise TtlinkError(f"cannot write output: {error.strerror}", file=str(path)) from None
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.chmod(tmp, 0o644)
        for tmp, path in staged:
            os.replace(tmp, path)
        staged.clear()
    finally:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
