"""``python -m ftrlx`` and the ``ftrlx`` command: :func:`ftrlx.cli.run_process` in a process of its own."""

import os
import sys

# the modules whose import the command defers to their first use (see ftrlx._deferred): scikit-learn's imports of
# SciPy's statistics and pandas, array_api_compat's of numpy.f2py (through numpy's lazy attribute), joblib's of
# asyncio, and ftrlx's own of pyarrow.compute, which only the pyarrow paths of the readers use
DEFERRED = ("scipy.stats", "pandas", "numpy.f2py", "asyncio", "pyarrow.compute")


def _entry():
    # The command line trains and predicts with its own kernels and threads (--jobs); it makes no BLAS call that
    # needs more than one thread.  NumPy and SciPy each load an OpenBLAS whose worker threads would otherwise
    # spin at start-up on every core, taking about 0.2 s of CPU from the job on a 2-core machine.  A
    # value the user set is kept.  (Here, not in ftrlx.cli: importing that module from Python changes nothing.)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # scikit-learn imports SciPy's statistics and pandas when it is imported, and no command needs them to start:
    # with scikit-learn 1.9 they took 1.5-2 s of CPU from every command's start-up.  Deferred, they load on first use.
    from ftrlx._deferred import defer

    defer(*DEFERRED)
    from ftrlx.cli import run_process

    sys.exit(run_process())


if __name__ == "__main__":
    _entry()
