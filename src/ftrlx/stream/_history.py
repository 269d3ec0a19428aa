"""The per-chunk record of a streaming run, and the exception of a run stopped by Ctrl-C."""

import csv
import io
import math

import numpy as np

#: Columns of :class:`History`, in CSV order.
COLUMNS = (
    "chunk",
    "kind",
    "rows",
    "rows_read",
    "rows_seen",
    "logloss",
    "auc",
    "pos_rate",
    "mean_pred",
    "cum_logloss",
    "cum_auc",
    "cum_pos_rate",
    "cum_mean_pred",
    "nnz",
    "rows_per_s",
    "elapsed_s",
    "pass",
)


class History(list):
    """Per-chunk training record returned by :func:`ftrlx.fit_stream`.

    A list of dicts, one per chunk, with the keys in :data:`COLUMNS`:
    ``kind`` is ``"train"`` (each row scored, then trained on) or ``"holdout"``
    (scored only); ``rows_read`` counts every row taken from the stream and
    ``rows_seen`` the rows trained on; ``logloss``/``auc``/``pos_rate``/
    ``mean_pred`` describe the chunk and ``cum_*`` everything of the same
    kind so far; ``nnz`` is the number of non-zero weights after the chunk,
    counted on the cadence ``nnz_every`` of :func:`ftrlx.fit_stream` (None in
    the records in between); ``pass`` is the pass over the stream (0, 1, ...).

    Examples
    --------
    >>> from ftrlx.stream import History
    >>> h = History([{"chunk": 0, "kind": "train", "rows": 10, "cum_logloss": 0.5}])
    >>> h.last("train")["cum_logloss"]
    0.5
    >>> print(h.to_csv().splitlines()[0][:28])
    chunk,kind,rows,rows_read,ro
    """

    def last(self, kind="train"):
        """The latest record of ``kind`` (``"train"`` or ``"holdout"``), or None."""
        for rec in reversed(self):
            if rec.get("kind") == kind:
                return rec
        return None

    def pass_losses(self):
        """The held-out log loss of each pass (over its held-out rows), in pass order; NaN without any.

        Examples
        --------
        >>> h = History([{"kind": "holdout", "rows": 10, "logloss": 0.5, "pass": 0},
        ...              {"kind": "holdout", "rows": 10, "logloss": 0.4, "pass": 1}])
        >>> h.pass_losses()
        [0.5, 0.4]
        """
        from ._passes import pass_losses

        return pass_losses(self)

    def column(self, name, kind="train"):
        """One column as a float array, over the records of ``kind`` (NaN where it is None)."""
        return np.array(
            [np.nan if r.get(name) is None else r.get(name) for r in self if r.get("kind") == kind], dtype=np.float64
        )

    def to_csv(self, path=None):
        """Write the history as CSV to ``path`` (atomically), or return it as a string."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for rec in self:
            writer.writerow({k: _fmt(rec.get(k)) for k in COLUMNS})
        text = buf.getvalue()
        if path is None:
            return text
        from ftrlx.io import _atomic_write

        _atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
        return None


def _fmt(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return value


class StreamInterrupted(KeyboardInterrupt):
    """Raised by :func:`ftrlx.fit_stream` when it stops on Ctrl-C at a chunk boundary.

    Attributes
    ----------
    history : History
        Everything recorded up to the stop.
    checkpoint : str or None
        The checkpoint written at the stop, if a path was configured.
    """

    def __init__(self, message, history, checkpoint):
        super().__init__(message)
        self.history = history
        self.checkpoint = checkpoint
