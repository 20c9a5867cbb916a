"""Output paths and all-or-nothing writing of a command's output files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import TtlinkError

_SOURCE_SUFFIXES = (".h", ".c")


def output_base(text: str, option: str = "-o") -> Path:
    """OUT of `-o OUT`, the base of OUT.h and OUT.c; a trailing .h or .c is dropped, so
    `-o lib` and `-o lib.h` both mean lib.h and lib.c. OUT must name a file, not a directory:
    `-o out/` or `-o .` would write `out.h` beside the directory or a hidden `..h`."""
    path = Path(text)
    if path.suffix in _SOURCE_SUFFIXES:
        path = path.with_suffix("")
    if not text or text.endswith(("/", os.sep)) or path.name in ("", ".", "..") or path.is_dir():
        raise TtlinkError(
            f"{option} '{text}' names a directory; give the base of the output files, e.g. {option} out/lib"
        )
    return path


def write_outputs(files: Mapping[Path, str]) -> None:
    """Writes every file or none: each goes to a temporary file beside its target first, and
    the targets are replaced only once all temporaries are complete and no target is a
    directory (a replace that could still fail would leave some files written)."""
    for path in files:
        if path.is_dir():
            raise TtlinkError("cannot write output: it is a directory", file=str(path))
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
            try:
                os.replace(tmp, path)
            except OSError as error:
                raise TtlinkError(f"cannot write output: {error.strerror}", file=str(path)) from None
        staged.clear()
    finally:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
