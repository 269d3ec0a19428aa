"""Streaming metrics for progressive validation.

Progressive validation scores every row *before* the model trains on it, so
the running average over a stream is an honest estimate of generalisation
error (Blum, Kalai & Langford, COLT 1999).  The accumulators below take one
chunk of labels and probabilities at a time and can report, at any moment,
the same numbers that :func:`sklearn.metrics.log_loss` and
:func:`sklearn.metrics.roc_auc_score` would give on everything seen so far.

Their state is a handful of scalars and arrays, exposed through
``get_state``/``from_state`` so that a checkpoint can carry it.
"""

import numpy as np

from ._kernels import _metrics

__all__ = ["binary_log_loss", "RunningLogLoss", "RunningAUC"]

# Same clipping as sklearn.metrics.log_loss for float64 probabilities.
_EPS = np.finfo(np.float64).eps
#: Scores binned at a time when the exact AUC turns into its histogram.
_BIN_BLOCK = 2**16


def _as_binary(y, p):
    y = np.asarray(y)
    p = np.asarray(p, dtype=np.float64)
    if y.ndim != 1 or p.ndim != 1 or y.shape != p.shape:
        raise ValueError(f"y and p must be 1-d arrays of the same length, got shapes {y.shape} and {p.shape}")
    if y.dtype == bool:
        y = y.astype(np.int8)
    bad = (y != 0) & (y != 1)
    if bad.any():
        raise ValueError(f"labels must be 0 or 1 for binary metrics, got {y[bad][0]!r}; encode the positive class as 1")
    if np.isnan(p).any():
        raise ValueError("predicted probabilities contain NaN; check the model for divergence")
    return y.astype(bool), p


def binary_log_loss(y, p, *, normalize=True):
    """Binary log loss with sklearn's clipping of ``p`` to ``[eps, 1 - eps]``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels in {0, 1}.
    p : array-like of shape (n_samples,)
        Predicted probabilities of the positive class.
    normalize : bool, default=True
        Return the mean instead of the sum.

    Returns
    -------
    float

    Examples
    --------
    >>> from ftrlx.metrics import binary_log_loss
    >>> round(binary_log_loss([1, 0], [0.9, 0.2]), 6)
    0.164252
    """
    y, p = _as_binary(y, p)
    total = _loss_sum(y, p)
    if not normalize:
        return total
    return total / y.size if y.size else float("nan")


def _loss_sum(y, p):
    return float(_metrics.log_loss_sum(y.view(np.uint8), np.ascontiguousarray(p), _EPS))


class RunningLogLoss:
    """Cumulative binary log loss over a stream of chunks.

    Examples
    --------
    >>> from ftrlx.metrics import RunningLogLoss
    >>> acc = RunningLogLoss()
    >>> round(acc.update([1, 0], [0.9, 0.2]), 6)   # loss of this chunk
    0.164252
    >>> round(acc.update([1], [0.5]), 6)
    0.693147
    >>> acc.n, round(acc.value, 6)
    (3, 0.340551)
    """

    def __init__(self):
        self.total = 0.0
        self.n = 0

    def update(self, y, p):
        """Add one chunk; return that chunk's mean log loss (NaN if empty)."""
        y, p = _as_binary(y, p)
        s = _loss_sum(y, p)
        self.total += s
        self.n += y.size
        return s / y.size if y.size else float("nan")

    @property
    def value(self):
        """Mean log loss over everything seen so far (NaN before any row)."""
        return self.total / self.n if self.n else float("nan")

    def get_state(self):
        return {"total": self.total, "n": self.n}

    @classmethod
    def from_state(cls, state):
        obj = cls()
        obj.total = float(state["total"])
        obj.n = int(state["n"])
        return obj


def _twice_u(pos, neg):
    """Twice the Mann-Whitney U of sorted ``pos`` against sorted ``neg``.

    Each (positive, negative) pair counts 2 when the positive scores higher
    and 1 on a tie, so the sum is an exact integer.
    """
    if pos.size == 0 or neg.size == 0:
        return 0
    return int(_metrics.twice_u(pos, neg))


class _SortedScores:
    """Scores kept as a few sorted runs, each more than twice the size of the next.

    A chunk becomes a run; the last two runs merge while the earlier is at most twice the later, so there are at
    most log2(n) + 1 runs, each score is merged O(log n) times in all, and a chunk of m scores is counted against
    everything kept (:meth:`twice_u_as_pos`, :meth:`twice_u_as_neg`) by galloping walks, O(m log n) rather than
    the O(n) of one sorted array: the cost of a chunk does not grow with the rows before it."""

    def __init__(self, values=None):
        values = np.empty(0) if values is None else np.array(values, dtype=np.float64)
        self._bufs = [values] if values.size else []  # each run at the front of its buffer (room to grow)
        self._sizes = [values.size] if values.size else []
        self.n = values.size

    @property
    def runs(self):
        """The sorted runs, largest first."""
        return [buf[:size] for buf, size in zip(self._bufs, self._sizes)]

    @property
    def values(self):
        """Every score, sorted (the runs merged into one)."""
        while len(self._sizes) > 1:
            self._merge_last()
        return self.runs[0] if self._sizes else np.empty(0)

    def _merge_last(self):
        """Merge the last run into the one before, in that run's buffer (grown by doubling: memory is reused)."""
        b = self._bufs.pop()[: self._sizes.pop()]
        a, n = self._bufs[-1], self._sizes[-1]
        if n + b.size > a.size:
            grown = np.empty(max(n + b.size, 2 * a.size))
            grown[:n] = a[:n]
            self._bufs[-1] = a = grown
        self._sizes[-1] = _metrics.merge_into(a, n, b)

    def release_runs(self):
        """The sorted runs, smallest first, each let go of as the next is handed out (they are gone afterwards)."""
        while self._bufs:
            buf, size = self._bufs.pop(), self._sizes.pop()
            self.n -= size
            yield buf[:size]

    def add(self, sorted_new):
        if sorted_new.size == 0:
            return
        self._bufs.append(np.array(sorted_new, dtype=np.float64))
        self._sizes.append(sorted_new.size)
        self.n += sorted_new.size
        while len(self._sizes) > 1 and self._sizes[-2] <= 2 * self._sizes[-1]:
            self._merge_last()

    def twice_u_as_neg(self, pos):
        """``_twice_u(pos, self.values)`` for sorted ``pos``: these scores as the negatives."""
        return sum(_twice_u(pos, run) for run in self.runs)

    def twice_u_as_pos(self, neg):
        """``_twice_u(self.values, neg)`` for sorted ``neg``: these scores as the positives."""
        return sum(_twice_u(run, neg) for run in self.runs)


class RunningAUC:
    """Cumulative ROC AUC over a stream of chunks, exact up to a size limit.

    Up to ``exact_limit`` rows the scores are kept sorted and the AUC is the
    exact Mann-Whitney statistic (ties count one half), which is what
    :func:`sklearn.metrics.roc_auc_score` computes.  Past the limit the scores
    move into a fixed histogram of ``n_bins`` bins on the logit scale, so
    memory stays bounded on streams of any length; from then on two scores in
    the same bin count as a tie, an error of the order of the fraction of
    (positive, negative) pairs sharing a bin (typically below 1e-4).
    :attr:`exact` says which regime is active.  While exact, a chunk of m rows
    costs O(m log n) after n rows (small chunks stay cheap as the stream
    grows); once binned, O(m log n_bins).  A caller that wants only the AUC of
    everything, not each chunk's, adds chunks with :meth:`add`: while exact,
    their scores wait unsorted and are counted all at once when the AUC is
    next read, the same pairs for less work.

    Parameters
    ----------
    exact_limit : int, default=2_000_000
        Number of rows kept exactly (about 8 bytes each).
    n_bins : int, default=2**18
        Histogram size once the limit is passed (32 bytes per bin: the counts
        and their prefix-sum trees).
    scores : {"probability", "margin"}, default="probability"
        What the scores are, for the histogram's bins: probabilities of the
        positive class (binned by their logit) or margins, i.e. decision
        values of any sign (binned as they are).  The exact AUC does not
        depend on it.

    Examples
    --------
    >>> from ftrlx.metrics import RunningAUC
    >>> auc = RunningAUC()
    >>> auc.update([0, 1, 1], [0.1, 0.4, 0.8])     # AUC of this chunk
    1.0
    >>> auc.update([0, 1], [0.6, 0.3])
    0.0
    >>> round(auc.value, 6)                       # all five scores together
    0.666667
    """

    #: logit range of the histogram; clipped probabilities stay inside it
    _LO, _HI = -37.0, 37.0

    def __init__(self, exact_limit=2_000_000, n_bins=2**18, scores="probability"):
        if int(exact_limit) < 0 or int(n_bins) < 2:
            raise ValueError(f"exact_limit must be >= 0 and n_bins >= 2, got {exact_limit!r} and {n_bins!r}")
        if scores not in ("probability", "margin"):
            raise ValueError(f"scores must be 'probability' or 'margin', got {scores!r}")
        self.scores = scores
        self.exact_limit = int(exact_limit)
        self.n_bins = int(n_bins)
        self.u2 = 0
        self.n_pos = 0
        self.n_neg = 0
        self._pos = _SortedScores()
        self._neg = _SortedScores()
        self._hist = None  # (2, n_bins) int64 counts once binned
        self._tree = None  # their Fenwick trees, (2, n_bins + 1), built with the first binned chunk
        self._waiting = []  # chunks added but not counted yet: (labels, scores) copies, exact regime only
        self._n_waiting = 0

    @property
    def exact(self):
        """True while every score is kept (the AUC is exact)."""
        return self._hist is None

    @property
    def value(self):
        """AUC over everything seen so far (NaN while only one class was seen)."""
        self._count_waiting()
        if self.n_pos == 0 or self.n_neg == 0:
            return float("nan")
        return self.u2 / (2.0 * self.n_pos * self.n_neg)

    def _bin(self, p):
        out = np.empty(p.size, dtype=np.int64)
        margins = self.scores == "margin"
        _metrics.logit_bins(np.ascontiguousarray(p), _EPS, self._LO, self._HI, self.n_bins, out, margins)
        return out

    def update(self, y, p):
        """Add one chunk; return that chunk's own AUC (NaN if it has one class)."""
        y, p = _as_binary(y, p)
        self._count_waiting()
        return self._count(y, p)

    def add(self, y, p):
        """Add one chunk, as :meth:`update` does, without that chunk's own AUC.

        While the AUC is exact, the chunk's scores wait (a copy, 9 bytes a
        row) and are sorted and counted with every other waiting chunk when
        the AUC is next read: one sort and one count instead of a sort, a
        count and merges per chunk.  The pairs counted, hence :attr:`value`,
        are those of :meth:`update`.
        """
        y, p = _as_binary(y, p)
        if self.exact and self.n_pos + self.n_neg + self._n_waiting + y.size <= self.exact_limit:
            self._waiting.append((y, np.array(p, dtype=np.float64)))  # y: a copy already
            self._n_waiting += y.size
            return
        self._count_waiting()
        self._count(y, p)

    def _count_waiting(self):
        if not self._waiting:
            return
        chunks, self._waiting, self._n_waiting = self._waiting, [], 0
        self._count(np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks]))

    def _count(self, y, p):
        """Count the pairs of one block of rows (within it, and against everything counted); its own AUC."""
        pos, neg = _metrics.split_sorted(y.view(np.uint8), np.ascontiguousarray(p))  # each class's scores, sorted
        chunk_u2 = _twice_u(pos, neg)
        chunk_auc = chunk_u2 / (2.0 * pos.size * neg.size) if pos.size and neg.size else float("nan")
        if self.exact and self.n_pos + self.n_neg + y.size > self.exact_limit:
            self._to_histogram()
        if self.exact:
            self.u2 += chunk_u2 + self._neg.twice_u_as_neg(pos) + self._pos.twice_u_as_pos(neg)
            self._pos.add(pos)
            self._neg.add(neg)
        else:
            self._add_binned(self._bin(pos), self._bin(neg))
        self.n_pos += pos.size
        self.n_neg += neg.size
        return chunk_auc

    def _to_histogram(self):
        self._hist = np.zeros((2, self.n_bins), dtype=np.int64)
        kept = (self._pos, self._neg)
        self._pos, self._neg = _SortedScores(), _SortedScores()
        # Restart the pair count from the binned scores so that every pair is
        # counted under the same (binned) rule.  The kept scores are binned a
        # block at a time and each run is released once binned: the switch
        # needs no memory beyond the scores it replaces and the histogram.
        self.u2 = 0
        none = np.empty(0, dtype=np.int64)
        for scores, positive in zip(kept, (True, False)):
            for run in scores.release_runs():
                for start in range(0, run.size, _BIN_BLOCK):
                    bins = self._bin(run[start : start + _BIN_BLOCK])
                    self._add_binned(bins, none) if positive else self._add_binned(none, bins)

    def _add_binned(self, pos_bins, neg_bins):
        # each score looks up its pairs in the bins' Fenwick trees, O(log n_bins), never a pass over the bins
        if self._tree is None:
            self._tree = np.empty((2, self.n_bins + 1), dtype=np.int64)
            for k in range(2):
                _metrics.fenwick_build(self._hist[k], self._tree[k])
        self.u2 += int(_metrics.binned_pairs(pos_bins, neg_bins, self._hist, self._tree))

    def get_state(self):
        """Scalars and arrays describing the accumulator (for checkpoints)."""
        self._count_waiting()
        state = {
            "exact_limit": self.exact_limit,
            "n_bins": self.n_bins,
            "scores": self.scores,
            "u2": str(self.u2),  # may exceed 64 bits on long streams
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
        }
        if self.exact:
            state["pos"], state["neg"] = self._pos.values.copy(), self._neg.values.copy()
        else:
            state["hist"] = self._hist
        return state

    @classmethod
    def from_state(cls, state):
        obj = cls(exact_limit=state["exact_limit"], n_bins=state["n_bins"], scores=state.get("scores", "probability"))
        obj.u2 = int(state["u2"])
        obj.n_pos = int(state["n_pos"])
        obj.n_neg = int(state["n_neg"])
        if "hist" in state:
            obj._hist = np.array(state["hist"], dtype=np.int64)
        else:
            obj._pos = _SortedScores(state["pos"])
            obj._neg = _SortedScores(state["neg"])
        return obj
