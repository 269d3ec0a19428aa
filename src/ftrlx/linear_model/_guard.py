"""What keeps a training call safe: one call at a time per estimator, undone as a whole when it fails.

* ``call_lock``: the estimator's own re-entrant lock, which every training method holds for the whole call (two
  threads calling ``partial_fit`` on one estimator run one after the other; nothing is lost).
* ``Undo``: the in-place training of a fitted model, recorded by the kernel's ``UndoJournal`` (one per output;
  each coordinate's slots the first time the call changes them) and the intercept and global state copied (a few
  numbers per output), so that a call that raises leaves the state bitwise as it was.
  A caller that throws the model away when a call fails (``ftrlx.path``, on its own clones) sets ``_no_undo``
  for the pass: the kernel then keeps no journal, which is most of what training a fitted model in place costs
  beyond training fresh state.
* the errors of a failed step, naming the row and the remedy, and the one-time warning of margins past a sane
  bound.

The lock, the journals and the flags live in the estimator's ``__dict__`` under ``TRANSIENT`` names, which
``__getstate__`` leaves out: a pickle, a clone or a saved model starts without them.
"""

import threading
import warnings

import numpy as np

from .._kernels import _online

TRANSIENT = ("_validated_params", "_validated_predict", "_scanned", "_lock", "_undo", "_margin_warned", "_no_undo")

# margins beyond MARGIN_BOUND times the scale of the targets (at least 1) are reported once per estimator: a
# logistic model is then certain of every answer (exp(-1e6) is 0), and a regressor predicts a million times the
# values it is trained on
MARGIN_BOUND = 1e6

_LOCK_GUARD = threading.Lock()


class DivergenceWarning(RuntimeWarning):
    """Issued once per estimator when a training margin grows past a sane bound (see ``MARGIN_BOUND``)."""


def call_lock(estimator):
    """The estimator's lock, made on first use (under a module lock, so two first calls get the same one)."""
    lock = estimator.__dict__.get("_lock")
    if lock is None:
        with _LOCK_GUARD:
            lock = estimator.__dict__.setdefault("_lock", threading.RLock())
    return lock


class Undo:
    """The record of one training call on a fitted model's state (None for fresh state: nothing to undo)."""

    def __init__(self, estimator, state, istate, gstate):
        self.state, self.istate, self.gstate = state, istate, gstate
        self.saved = (istate.copy(), gstate.copy())
        journals = estimator.__dict__.get("_undo")
        n_outputs, n_features, n_slots = state.shape
        if not (journals and len(journals) == n_outputs and all(j.fits(n_features, n_slots) for j in journals)):
            # kept between calls: each journal's bitmap of touched coordinates is allocated once
            journals = [_online.UndoJournal(n_features, n_slots) for _ in range(n_outputs)]
            estimator.__dict__["_undo"] = journals
        self.journals = journals

    def restore(self):
        for k, journal in enumerate(self.journals):
            journal.restore(self.state[k])
        self.istate[...] = self.saved[0]
        self.gstate[...] = self.saved[1]

    def forget(self):
        for journal in self.journals:
            journal.forget()


def _rows_of_step(position, batch_size, n_rows, order):
    """The rows (in X) of the step that starts at ``position`` in visiting order."""
    positions = np.arange(position, min(position + batch_size, n_rows))
    return positions if order is None else np.asarray(order)[positions]


def _undone_clause(estimator, undone):
    """What a failed call's error says of the model: undone (``undone``, and the caller keeps a journal: not
    ``_no_undo``), or nothing."""
    if undone and not estimator.__dict__.get("_no_undo"):
        return "; the call was undone and the model is as it was"
    return ""


def nonfinite_fault(X, row):
    """``(NOT_FINITE, row, position)`` of the first NaN or infinity in row ``row`` of X, or None: what a margin
    that is not finite on a checked call means when the row holds such a value (the kernel does not scan values)."""
    from .._kernels import _check

    start = X.indptr[row]
    nonfinite = np.flatnonzero(~np.isfinite(X.data[start : X.indptr[row + 1]]))
    return (_check.NOT_FINITE, row, start + int(nonfinite[0])) if nonfinite.size else None


def divergence_error(estimator, row, undone):
    """The DivergenceError for a margin that overflowed at ``row``; ``undone``: the call leaves the model as it was."""
    from ._base import DivergenceError

    after = _undone_clause(estimator, undone) + "."
    return DivergenceError(
        f"{type(estimator).__name__}: the margin of row {row} overflowed (the model diverged){after} Lower the "
        "learning rate, or scale the features (e.g. ftrlx.preprocessing or sklearn's MaxAbsScaler)."
    )


def overflow_error(estimator, X, weights, order, position, output):
    """The DivergenceError for a step that made the state non-finite, naming its largest value."""
    from ._base import DivergenceError

    rows = _rows_of_step(position, estimator.batch_size, X.shape[0], order)
    best = (-1.0, int(rows[0]), None, 0.0)
    for row in rows:
        lo, hi = X.indptr[row], X.indptr[row + 1]
        if hi > lo:
            at = lo + int(np.argmax(np.abs(X.data[lo:hi])))
            size = abs(float(X.data[at])) * max(float(weights[row]), 1.0)
            if size > best[0]:
                best = (size, int(row), at, float(weights[row]))
    _, row, at, weight = best
    where = f"row {row}" if len(rows) == 1 else f"the batch of rows {rows.tolist()}"
    value = (
        f" (its largest value is {X.data[at]:g}, in column {X.indices[at]} of row {row}, with weight {weight:g})"
        if at is not None
        else ""
    )
    cls = getattr(estimator, "classes_", None)
    of = f" of class {cls[output]!r}" if cls is not None and len(cls) > 2 else ""
    return DivergenceError(
        f"{type(estimator).__name__}: the model state{of} overflowed while training on {where}{value}"
        f"{_undone_clause(estimator, True)}. "
        "Lower the learning rate, or scale the features (e.g. ftrlx.preprocessing or sklearn's MaxAbsScaler), or "
        "lower the sample or class weights."
    )


def warn_large_margins(estimator, largest, targets):
    """Warn once per estimator when a margin of this call passed ``MARGIN_BOUND`` times the targets' scale."""
    if estimator.__dict__.get("_margin_warned") or not largest > MARGIN_BOUND:
        return
    scale = max([1.0] + [float(np.max(np.abs(t))) for t in targets if t.size])
    if largest > MARGIN_BOUND * scale:
        estimator.__dict__["_margin_warned"] = True
        warnings.warn(
            f"{type(estimator).__name__}: a training margin reached {largest:.3g}, more than {MARGIN_BOUND:g} times "
            f"the scale of the targets ({scale:g}); the model is probably diverging. Lower the learning rate, or "
            "scale the features. (Issued once per estimator.)",
            DivergenceWarning,
            stacklevel=4,
        )
