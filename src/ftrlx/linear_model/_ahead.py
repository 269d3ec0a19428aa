"""A shuffled epoch of a model with one output, its rows gathered on a second thread (``n_jobs`` of 2 or more).

A shuffled epoch visits the rows of X in a random order.  The kernel copies them, block by block, into a
contiguous buffer before it trains on them, but the copy waits on memory: each row sits somewhere else in X, on
another page, and the copy costs about 40% of an ordered epoch.  A model with one output (binary classification,
regression) has nothing else for a second thread to do in ``parallel='outputs'``, so that thread gathers the next
part of the epoch (``_online.gather``) while the kernel trains on the current one, in two buffers used in turn.
The kernel trains on each part as on any CSR matrix, in its order and with the batches of the whole epoch (every
part but the last is a whole number of batches), and checks it as it checks the blocks it gathers itself, so the
model, and the fault or divergence reported (the first in visiting order), are bitwise those of the kernel's own
gathering.
"""

import numpy as np

from .._kernels import _check, _online
from . import _guard, _threads
from ._deterministic import _capacity
from ._support import LOSSES

#: Entries of X in one part: about 3 MB of float64 values and int32 columns per buffer, which stay in the shared
#: cache between the thread that writes them and the one that trains on them.
PART_ENTRIES = 1 << 18


def _part_rows(X, batch_size):
    """Rows in one part: about PART_ENTRIES entries, a whole number of batches."""
    rows = max(1, PART_ENTRIES * X.shape[0] // max(1, X.nnz))
    return -(-rows // batch_size) * batch_size


def applies(est, X, order, n_outputs, progressive):
    """Whether a call of ``est`` trains its shuffled epoch this way: one output, at least two parts, a thread to
    spare, and no progressive margins (``fit`` never asks for them)."""
    if order is None or n_outputs != 1 or progressive is not None:
        return False
    if order.shape[0] < 2 * _part_rows(X, est.batch_size):
        return False
    return _threads.effective_n_jobs(getattr(est, "n_jobs", 1)) >= 2


class _Parts:
    """The epoch's parts, each gathered into one of two buffers while the kernel trains on the other."""

    def __init__(self, X, y, sw, order, rows):
        self.X, self.y, self.sw, self.order = X, y, sw, order
        self.bounds = [(a, min(a + rows, order.shape[0])) for a in range(0, order.shape[0], rows)]
        entries = _capacity(X, order, [self.bounds])  # the largest part's
        self.buffers = [
            (
                np.empty(entries, X.data.dtype),
                np.empty(entries, X.indices.dtype),
                np.empty(rows + 1, X.indices.dtype),
                np.empty(rows),
                np.empty(rows),
            )
            for _ in range(2)
        ]

    def gather(self, p):
        """Part p, as ``(data, indices, indptr, y, sw)`` views of its buffer."""
        a, b = self.bounds[p]
        buf = self.buffers[p % 2]
        X = self.X
        need = _online.gather(X.data, X.indices, X.indptr, self.y, self.sw, self.order[a:b], *buf)
        n = b - a
        return buf[0][:need], buf[1][:need], buf[2][: n + 1], buf[3][:n], buf[4][:n]


def run_kernel(est, X, targets, weights, order, state, istate, gstate, check, canonical, undo, stats):
    """``_run_kernel`` for a call that ``applies`` (same arguments but progressive, same result)."""
    if check:
        fault = _check.check_row_pointers(X.indptr, X.nnz)  # before any gathering reads them
        if fault[0] != _check.CANONICAL:
            return fault, False
    parts = _Parts(X, targets[0], weights[0], order, _part_rows(X, est.batch_size))
    code, params, loss = est._slots[0], est._kernel_params(), LOSSES[est.loss]
    journal = None if undo is None else undo.journals[0]
    pool = _threads._executor(1)
    pending = pool.submit(parts.gather, 0)
    seen_canonical = True
    try:
        for p, (a, _) in enumerate(parts.bounds):
            data, indices, indptr, y, sw = pending.result()
            pending = pool.submit(parts.gather, p + 1) if p + 1 < len(parts.bounds) else None
            bad, fault, row, pos = _online.fit(
                code, params, data, indices, indptr, y, sw, None, state[0], istate[0], gstate[0], loss,
                est.batch_size, est.fit_intercept, check, None, 0, canonical, journal, stats,
            )  # fmt: skip
            if fault > _check.NOT_CANONICAL:  # where it is in X
                at = int(order[a + row])
                return (fault, at, int(X.indptr[at]) + pos - int(indptr[row])), False
            if check:
                seen_canonical &= fault == _check.CANONICAL
            if fault == _online.STATE_OVERFLOW:
                raise _guard.overflow_error(est, X, weights[0], order, a + bad, 0)
            if bad >= 0:
                row = int(order[a + bad])
                fault = _guard.nonfinite_fault(X, row) if check else None
                if fault is not None:
                    return fault, False
                raise _guard.divergence_error(est, row, undone=True)
    finally:
        if pending is not None:
            pending.exception()  # the gathering under way ends before its buffers are let go
    return None, seen_canonical if check else canonical
