"""The combine step of :mod:`ftrlx.dask`: a replica per worker, what it sends, and how the replicas are merged.

It needs no Dask: :func:`mix_in_process` runs the same rounds in one process.  :mod:`ftrlx.dask` re-exports its
public names (the module documentation there explains the combine modes)."""

import copy
from collections import namedtuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier

from ._kernels.registry import ALGORITHMS

COMBINES = ("auto", "delta", "average", "touched", "weights")

# How each slot of a state combines: the registry's slot kinds (ftrlx._kernels.registry.SLOT_KINDS), as each
# estimator's ``_merge_kinds`` gives them.

Message = namedtuple("Message", "idx rows istate gstate n_rows attrs")
Message.__doc__ = """What a worker sends after a round: the columns it touched (sorted int64), their state rows
(n_outputs, len(idx), n_slots), its intercept and global state, the rows it trained on and its small fitted
attributes (classes_, n_features_in_, ...), which let a fresh master adopt the model's shape."""
Update = namedtuple("Update", "idx rows istate gstate")
Update.__doc__ = """The combined model's change: new state rows for the columns ``idx``, and the new intercept and
global state; applied to a replica that started the round from the same master it makes that replica the combined
model exactly."""

_STATE_ARRAYS = ("state_", "istate_", "gstate_")


def _algorithm(estimator):
    name = getattr(type(estimator), "_algorithm", None)
    if name not in ALGORITHMS:
        raise ValueError(
            f"ftrlx.dask: {type(estimator).__name__} is not one of ftrlx's online estimators (FTRLClassifier, "
            "RDARegressor, ...); pass one of those."
        )
    return name


def _slot_kinds(estimator):
    """The combine kind of each per-coordinate slot and each intercept slot of ``estimator``."""
    _algorithm(estimator)
    slots, islots, _ = estimator._merge_kinds()
    return slots, islots


def resolve_combine(estimator, combine):
    """The combine mode ``combine`` stands for with ``estimator`` ('auto' resolved), checked.

    Examples
    --------
    >>> from ftrlx import FTRLClassifier, OGDClassifier
    >>> resolve_combine(FTRLClassifier(), "auto"), resolve_combine(OGDClassifier(l1=1e-6), "auto")
    ('delta', 'average')
    """
    name = _algorithm(estimator)
    if combine not in COMBINES:
        raise ValueError(f"ftrlx.dask: combine={combine!r} is not one of {COMBINES}.")
    if combine == "weights" and name != "ftrl":
        raise ValueError(
            f"ftrlx.dask: combine='weights' re-derives FTRL's z from averaged weights and is defined for FTRL only, "
            f"not for {type(estimator).__name__}; use 'delta' or 'average'."
        )
    if combine == "auto":
        return "average" if estimator._merge_kinds()[2] else "delta"
    return combine


# ---------------------------------------------------------------- one replica: training and what it sends


class Replica:
    """One worker's copy of the model: trains with ``partial_fit`` and remembers which columns it touched.

    The touched columns are collected from the indices of the rows it trains on (O(nnz) per chunk, O(touched) to
    reset), not by comparing the state with a snapshot, which would read every hashed column each round.

    Parameters
    ----------
    estimator : ftrlx online estimator
        Trained in place.
    classes : array-like or None
        Passed to every ``partial_fit`` of a classifier.
    """

    def __init__(self, estimator, classes=None):
        self.estimator = estimator
        self.classes = classes
        self.n_rows = 0
        self._seen = None  # bool mask over the columns: touched this round
        self._touched = []  # the newly touched columns of each chunk (each unique)

    def train(self, X, y):
        """``partial_fit`` on one chunk, then record its columns."""
        kwargs = {"classes": self.classes} if is_classifier(self.estimator) else {}
        self.estimator.partial_fit(X, y, **kwargs)
        self.n_rows += X.shape[0]
        self._mark(X)

    def _mark(self, X):
        indices = X.indices if sp.issparse(X) and X.format == "csr" else sp.csr_matrix(X).indices
        if self._seen is None:
            self._seen = np.zeros(self.estimator.n_features_in_, dtype=bool)
        fresh = np.unique(indices[~self._seen[indices]])
        self._seen[fresh] = True
        self._touched.append(fresh.astype(np.int64))

    def message(self):
        """The round's :class:`Message`; starts the next round's bookkeeping."""
        est = self.estimator
        if not hasattr(est, "state_"):
            return Message(np.zeros(0, np.int64), None, None, None, 0, {})
        idx = np.sort(np.concatenate(self._touched)) if self._touched else np.zeros(0, np.int64)
        if self._seen is not None:
            self._seen[idx] = False
        self._touched = []
        attrs = {k: v for k, v in vars(est).items() if k.endswith("_") and k not in _STATE_ARRAYS}
        msg = Message(idx, est.state_[:, idx, :], est.istate_.copy(), est.gstate_.copy(), self.n_rows, attrs)
        self.n_rows = 0
        return msg

    def apply(self, update):
        """Make this replica the combined model (it must have started the round from the same master)."""
        apply_update(self.estimator, update)


def apply_update(estimator, update):
    """Write an :class:`Update` into ``estimator``'s state arrays, in place."""
    estimator.state_[:, update.idx, :] = update.rows
    estimator.istate_[...] = update.istate
    estimator.gstate_[...] = update.gstate


# ---------------------------------------------------------------- the combine step


def _adopt_shape(master, messages):
    """Give an unfitted master the fitted attributes of the workers' models and all-zero state (a fresh model's
    state, which is where every worker started)."""
    first = messages[0]
    for name, value in first.attrs.items():
        setattr(master, name, copy.deepcopy(value))
    n_outputs, _, n_slots = first.rows.shape
    master.state_ = np.zeros((n_outputs, master.n_features_in_, n_slots))
    master.istate_ = np.zeros_like(first.istate)
    master.gstate_ = np.zeros_like(first.gstate)


def _combine_clock(name, g0, gs, mode):
    """The combined gstate_ (n_outputs, 3) from the round-start ``g0`` and the workers' ``gs``."""
    kinds = ("sum",) + ALGORITHMS[name].clocks
    if mode != "delta":
        out = g0 + sum(g - g0 for g in gs) / len(gs)
        out[:, 0] = np.rint(out[:, 0])  # a step count stays a whole number
        return out
    out = g0 + sum(g - g0 for g in gs)
    if kinds[2] == "composed":
        # a worker's steps map B to exp(dlogP) B + b, with b what they add to a B of zero: chain those maps
        out[:, 2] = g0[:, 2]
        for g in gs:
            ratio = np.exp(g[:, 1] - g0[:, 1])
            out[:, 2] = ratio * out[:, 2] + (g[:, 2] - ratio * g0[:, 2])
    return out


def _read_weights(estimator, rows, istate, gstate):
    """The weights of the gathered state ``rows`` (n_outputs, m, n_slots) at the clock ``gstate``: the kernel's
    own read function (exact catch-up) run on the gathered rows only."""
    from ._kernels import _online

    code = _online.ALGORITHMS[estimator._algorithm][0]
    params = estimator._kernel_params()
    return np.stack(
        [
            _online.coefficients(
                code, params, np.ascontiguousarray(rows[k]), istate[k], gstate[k], estimator.fit_intercept
            )[:-1]
            for k in range(rows.shape[0])
        ]
    )


def _worker_rows(base, pos, msg):
    """A worker's state on the union of columns: the round-start rows with its own touched rows put in."""
    rows = base.copy()
    rows[:, pos, :] = msg.rows
    return rows


def _scale(mode, n_workers, positions, n_columns):
    """The factor on the summed changes: 1 ('delta'), 1/W ('average') or, per column, 1 over the number of
    workers that touched it ('touched')."""
    if mode == "delta":
        return 1.0
    if mode != "touched":
        return 1.0 / n_workers
    counts = np.zeros(n_columns)
    for p in positions:
        counts[p] += 1.0
    return 1.0 / counts


def _moved_weights(master, base, msgs, positions, mode):
    """The summed change of the caught-up weights on the union of columns.  'touched' counts only the workers'
    own columns (read sparsely); the other modes also count the catch-up that a worker's clock applies to the
    columns it did not touch (a read of every worker's rows on the whole union)."""
    w0 = _read_weights(master, base, master.istate_, master.gstate_)
    moved = np.zeros_like(w0)
    for p, m in zip(positions, msgs):
        if mode == "touched":
            moved[:, p] += _read_weights(master, m.rows, m.istate, m.gstate) - w0[:, p]
        else:
            moved += _read_weights(master, _worker_rows(base, p, m), m.istate, m.gstate) - w0
    return w0, moved


def _combine_slots(master, base, msgs, positions, gstate, mode):
    """The combined state rows for the union of touched columns (``base``: their round-start rows)."""
    kinds, _ = _slot_kinds(master)
    scale = _scale(mode, len(msgs), positions, base.shape[1])
    out = base.copy()
    for j, kind in enumerate(kinds):
        if kind.startswith("stamp"):
            out[:, :, j] = gstate[:, int(kind[5:])][:, None]
        elif kind == "weight":
            w0, moved = _moved_weights(master, base, msgs, positions, mode)
            out[:, :, j] = w0 + scale * moved
        else:
            square = kind == "sqrt"
            b = base[:, :, j] ** 2 if square else base[:, :, j]
            acc = np.zeros_like(b)
            for p, m in zip(positions, msgs):  # only each worker's own columns: O(its touched columns)
                acc[:, p] += (m.rows[:, :, j] ** 2 if square else m.rows[:, :, j]) - b[:, p]
            merged = b + scale * acc
            out[:, :, j] = np.sqrt(np.maximum(merged, 0.0)) if square else merged
    return out


def _combine_intercept(master, msgs, mode):
    _, kinds = _slot_kinds(master)
    scale = 1.0 if mode == "delta" else 1.0 / len(msgs)  # every worker that trained touched the intercept
    i0 = master.istate_
    out = i0.copy()
    for j, kind in enumerate(kinds):
        square = kind == "sqrt"
        b = i0[:, j] ** 2 if square else i0[:, j]
        merged = b + scale * sum((m.istate[:, j] ** 2 if square else m.istate[:, j]) - b for m in msgs)
        out[:, j] = np.sqrt(np.maximum(merged, 0.0)) if square else merged
    return out


def _ftrl_z(w, sqrt_n, z_mean, alpha, beta, l1, l2):
    """The z for which FTRL's closed form gives ``w`` at ``sqrt_n``: w = -(z - sgn(z) l1) / ((beta + sqrt(n)) /
    alpha + l2) solved for z; where w = 0, the averaged z clipped into [-l1, l1] (any z there gives 0)."""
    z = -w * ((beta + sqrt_n) / alpha + l2) - np.sign(w) * l1
    return np.where(w == 0.0, np.clip(z_mean, -l1, l1), z)


def _combine_ftrl_weights(master, base, msgs, positions):
    """'weights': the averaged weights and sqrt(n), with z solved from them (coordinates and intercept)."""
    rows = _combine_slots(master, base, msgs, positions, master.gstate_, "average")  # mean z, mean n
    # FTRL's weights have no clock: the columns a worker did not touch keep w0 there
    w0, moved = _moved_weights(master, base, msgs, positions, "touched")
    w = w0 + moved / len(msgs)
    a, b, l1, l2 = master.alpha, master.beta, master.l1, master.l2
    rows[:, :, 0] = _ftrl_z(w, rows[:, :, 1], rows[:, :, 0], a, b, l1, l2)
    istate = _combine_intercept(master, msgs, "average")
    if master.fit_intercept:
        bias = np.mean([-a * m.istate[:, 0] / (b + m.istate[:, 1]) for m in msgs], axis=0)
        istate[:, 0] = -bias * (b + istate[:, 1]) / a
    return rows, istate


def combine(master, messages, combine="auto"):
    """Combine the workers' round into the :class:`Update` of ``master``, and apply it to ``master``.

    ``master`` is the model every worker started the round from (an unfitted one before the first round); only
    the columns some worker touched are read or written.  Workers that trained on no rows are left out.

    Parameters
    ----------
    master : ftrlx online estimator
    messages : list of Message
        One per worker, from :meth:`Replica.message`.
    combine : {'auto', 'delta', 'average', 'touched', 'weights'}, default='auto'

    Returns
    -------
    Update or None
        None when no worker trained on anything.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from ftrlx import RDAClassifier
    >>> X = sp.csr_matrix(np.eye(4))
    >>> a, b = Replica(RDAClassifier(), [0, 1]), Replica(RDAClassifier(), [0, 1])
    >>> a.train(X[:2], [1, 0]); b.train(X[2:], [1, 0])
    >>> master = RDAClassifier()
    >>> update = combine(master, [a.message(), b.message()])   # RDA: the sums of gradients add up
    >>> update.idx, master.t_
    (array([0, 1, 2, 3]), 4)
    """
    msgs = [m for m in messages if m.n_rows > 0]
    if not msgs:
        return None
    mode = resolve_combine(master, combine)
    if not hasattr(master, "state_"):
        _adopt_shape(master, msgs)
    idx = np.unique(np.concatenate([m.idx for m in msgs]))
    positions = [np.searchsorted(idx, m.idx) for m in msgs]
    base = master.state_[:, idx, :]
    gstate = _combine_clock(master._algorithm, master.gstate_, [m.gstate for m in msgs], mode)
    if mode == "weights":
        rows, istate = _combine_ftrl_weights(master, base, msgs, positions)
    else:
        rows = _combine_slots(master, base, msgs, positions, gstate, mode)
        istate = _combine_intercept(master, msgs, mode)
    update = Update(idx, rows, istate, gstate)
    apply_update(master, update)
    return update


def update_nbytes(update):
    """Bytes of an :class:`Update` on the wire (indices and float64 values): what a broadcast moves per worker."""
    if update is None:
        return 0
    return update.idx.nbytes + update.rows.nbytes + update.istate.nbytes + update.gstate.nbytes


def mix_in_process(estimator, schedule, classes=None, combine="auto", on_round=None):
    """Iterative parameter mixing with virtual workers in this process (the same code as :func:`fit`).

    Parameters
    ----------
    estimator : ftrlx online estimator
        The starting model (unfitted or fitted); trained in place and returned.
    schedule : list of rounds
        ``schedule[r][w]`` is the list of ``(X, y)`` chunks worker ``w`` trains on in round ``r``.
    classes : array-like, default=None
        All labels (classifiers starting unfitted).
    combine : {'auto', 'delta', 'average', 'touched', 'weights'}, default='auto'
    on_round : callable, default=None
        Called as ``on_round(r, estimator, messages, update)`` after each combine.

    Returns
    -------
    estimator

    Examples
    --------
    >>> from ftrlx import FTRLClassifier
    >>> from ftrlx.datasets import make_click_data
    >>> X, y = make_click_data(4_000, n_features=2**12, seed=0)
    >>> rounds = [[[(X[i:i + 500], y[i:i + 500])], [(X[i + 500:i + 1000], y[i + 500:i + 1000])]]
    ...           for i in range(0, 4_000, 1_000)]            # 4 rounds of 2 workers
    >>> mix_in_process(FTRLClassifier(), rounds, classes=[0, 1]).t_
    4000
    """
    resolve_combine(estimator, combine)
    n_workers = max(len(r) for r in schedule) if schedule else 0
    replicas = [Replica(copy.deepcopy(estimator), classes) for _ in range(n_workers)]
    for r, work in enumerate(schedule):
        for replica, chunks in zip(replicas, work):
            for X, y in chunks:
                replica.train(X, y)
        messages = [rep.message() for rep in replicas]
        update = combine_round(estimator, replicas, messages, combine)
        if on_round is not None:
            on_round(r, estimator, messages, update)
    return estimator


def combine_round(master, replicas, messages, mode):
    """Combine, then bring every replica to the combined model (a replica that has never trained gets a copy)."""
    update = combine(master, messages, mode)
    if update is not None:
        for rep in replicas:
            if hasattr(rep.estimator, "state_"):
                rep.apply(update)
            else:
                rep.estimator = copy.deepcopy(master)
    return update
