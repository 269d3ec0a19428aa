"""``python -m ftrlx``: the same as the ``ftrlx`` command."""

import sys

from ftrlx.cli import run_process

if __name__ == "__main__":
    sys.exit(run_process())
