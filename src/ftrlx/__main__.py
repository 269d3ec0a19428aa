"""``python -m ftrlx``: the same as the ``ftrlx`` command."""

import sys

from ftrlx.cli import main

if __name__ == "__main__":
    sys.exit(main())
