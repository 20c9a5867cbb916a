"""Entry point of the toolchain's `ttlink` py_binary: the same as `python -m ttlink`."""

import sys

from ttlink.__main__ import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
