"""One error type for every user-facing failure, and the CLI wrapper that prints it.

Every bad input ends as one line ``ttlink: error: FILE:LINE: message`` and exit code 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

EXIT_USAGE = 2


class TtlinkError(Exception):
    """A problem with the user's input. `file` and `line` locate it when known."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        location = ""
        if self.file is not None:
            location = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        return location + self.message


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises TtlinkError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise TtlinkError(message)


def run_cli(main: Callable[[Sequence[str]], None], argv: Sequence[str]) -> int:
    """Runs `main(argv)`, turning TtlinkError into the one-line error and exit code 2."""
    try:
        main(argv)
    except TtlinkError as error:
        print(f"ttlink: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0
