"""Streaming training with progressive validation, checkpoints and resume.

:func:`fit_stream` is the training loop for data that does not fit in
memory: it walks an iterable of ``(X, y)`` chunks once, scores each chunk
with the current model *before* training on it (progressive validation), and
keeps cumulative log loss, ROC AUC, positive rate and mean prediction.  It can
hold out every k-th chunk for evaluation only, write crash-safe checkpoints,
resume from one to exactly the model an uninterrupted run would have
produced, and stop cleanly on Ctrl-C.
"""

import csv
import io as _io
import math
import os
import signal
import sys
import threading
import time

import numpy as np

from ftrlx.io import _atomic_write, _load_checkpoint, _save_checkpoint
from ftrlx.metrics import RunningAUC, RunningLogLoss

__all__ = ["fit_stream", "History", "StreamInterrupted"]

_CHECKPOINT_VERSION = 1

#: Columns of :class:`History`, in CSV order.
COLUMNS = (
    "chunk", "kind", "rows", "rows_read", "rows_seen",
    "logloss", "auc", "pos_rate", "mean_pred",
    "cum_logloss", "cum_auc", "cum_pos_rate", "cum_mean_pred",
    "nnz", "rows_per_s", "elapsed_s",
)


class History(list):
    """Per-chunk training record returned by :func:`fit_stream`.

    A list of dicts, one per chunk, with the keys in :data:`COLUMNS`:
    ``kind`` is ``"train"`` (scored, then trained on) or ``"holdout"``
    (scored only); ``rows_read`` counts every row taken from the stream and
    ``rows_seen`` the rows trained on; ``logloss``/``auc``/``pos_rate``/
    ``mean_pred`` describe the chunk and ``cum_*`` everything of the same
    kind so far; ``nnz`` is the number of non-zero weights after the chunk.

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

    def column(self, name, kind="train"):
        """One column as a float array, over the records of ``kind``."""
        return np.array([np.nan if r.get(name) is None else r.get(name)
                         for r in self if r.get("kind") == kind], dtype=np.float64)

    def to_csv(self, path=None):
        """Write the history as CSV to ``path`` (atomically), or return it as a string."""
        buf = _io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        for rec in self:
            writer.writerow({k: _fmt(rec.get(k)) for k in COLUMNS})
        text = buf.getvalue()
        if path is None:
            return text
        _atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
        return None


def _fmt(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return value


class StreamInterrupted(KeyboardInterrupt):
    """Raised by :func:`fit_stream` when it stops on Ctrl-C at a chunk boundary.

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


class _Tally:
    """Cumulative progressive metrics for one kind of chunk."""

    def __init__(self, exact_auc_rows):
        self.logloss = RunningLogLoss()
        self.auc = RunningAUC(exact_limit=exact_auc_rows)
        self.n = 0
        self.sum_y = 0
        self.sum_p = 0.0

    def get_state(self):
        return {"logloss": self.logloss.get_state(), "auc": self.auc.get_state(),
                "n": self.n, "sum_y": self.sum_y, "sum_p": self.sum_p}

    @classmethod
    def from_state(cls, state):
        obj = cls.__new__(cls)
        obj.logloss = RunningLogLoss.from_state(state["logloss"])
        obj.auc = RunningAUC.from_state(state["auc"])
        obj.n, obj.sum_y, obj.sum_p = int(state["n"]), int(state["sum_y"]), float(state["sum_p"])
        return obj

    def update(self, y, p, score):
        """Add a chunk of 0/1 labels, probabilities (or None) and scores."""
        n = y.size
        self.n += n
        npos = int(y.sum())
        self.sum_y += npos
        rec = {"pos_rate": npos / n if n else math.nan,
               "cum_pos_rate": self.sum_y / self.n if self.n else math.nan}
        rec["auc"] = self.auc.update(y, score)
        rec["cum_auc"] = self.auc.value
        if p is None:
            rec.update(logloss=math.nan, mean_pred=math.nan, cum_logloss=math.nan,
                       cum_mean_pred=math.nan)
        else:
            rec["logloss"] = self.logloss.update(y, p)
            rec["cum_logloss"] = self.logloss.value
            s = float(p.sum())
            self.sum_p += s
            rec["mean_pred"] = s / n if n else math.nan
            rec["cum_mean_pred"] = self.sum_p / self.n if self.n else math.nan
        return rec


def _is_fitted(est):
    return hasattr(est, "classes_") or hasattr(est, "coef_")


def _n_nonzero(est):
    nnz = getattr(est, "n_nonzero_", None)
    if nnz is not None:
        return int(nnz)
    coef = getattr(est, "coef_", None)
    return None if coef is None else int(np.count_nonzero(coef))


def _score(est, X, positive):
    """Probability of the positive class (or None) and a ranking score per row."""
    if not _is_fitted(est):
        # Every weight of an untrained linear model is zero: margin 0, p = 1/2.
        if hasattr(est, "predict_proba"):
            half = np.full(X.shape[0], 0.5)
            return half, half
        return None, np.zeros(X.shape[0])
    if hasattr(est, "predict_proba"):
        col = int(np.flatnonzero(np.asarray(est.classes_) == positive)[0])
        p = np.asarray(est.predict_proba(X), dtype=np.float64)[:, col]
        return p, p
    score = np.asarray(est.decision_function(X), dtype=np.float64)
    if score.ndim != 1:
        raise ValueError("fit_stream scores binary classifiers; got multi-column decision values")
    return None, score


def _split_chunk(chunk, index):
    if not isinstance(chunk, (tuple, list)) or len(chunk) not in (2, 3):
        raise TypeError(
            f"chunk {index} is a {type(chunk).__name__}; fit_stream expects (X, y) or "
            "(X, y, sample_weight) tuples"
        )
    X, y = chunk[0], np.asarray(chunk[1])
    w = None if len(chunk) == 2 else chunk[2]
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"chunk {index}: X has {X.shape[0]} rows but y has {y.shape[0]} labels")
    return X, y, w


def _head(X, y, w, k):
    return X[:k], y[:k], (None if w is None else np.asarray(w)[:k])


class _SigintGuard:
    """Turn the first Ctrl-C into a flag checked at chunk boundaries.

    A second Ctrl-C restores Python's default behaviour and interrupts at
    once (the model in memory may then be mid-update; the last checkpoint on
    disk is still intact).
    """

    def __init__(self):
        self.requested = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.requested = True
        print("\nftrlx: stopping after this chunk (Ctrl-C again to abort at once)",
              file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _check_estimator(estimator, classes):
    from sklearn.base import is_classifier

    if not hasattr(estimator, "partial_fit"):
        raise TypeError(
            f"{type(estimator).__name__} has no partial_fit; fit_stream needs an online "
            "estimator such as ftrlx.FTRLClassifier"
        )
    if not is_classifier(estimator):
        raise TypeError(
            f"fit_stream scores binary classifiers with log loss and AUC; "
            f"{type(estimator).__name__} is not a classifier (train regressors with partial_fit)"
        )
    classes = np.asarray(classes)
    if classes.ndim != 1 or np.unique(classes).size != 2:
        raise ValueError(
            f"fit_stream needs exactly two classes, got classes={classes.tolist()!r}; "
            "pass classes=(negative, positive)"
        )
    return np.sort(classes)


def fit_stream(
    estimator,
    chunks,
    *,
    classes=(0, 1),
    holdout_every=None,
    checkpoint=None,
    checkpoint_every=None,
    resume=False,
    progress=True,
    history_csv=None,
    max_rows=None,
    total_rows=None,
    exact_auc_rows=2_000_000,
    checkpoint_metadata=None,
):
    """Train a binary classifier on a stream of chunks with progressive validation.

    Every chunk is first scored by the current model, then passed to
    ``partial_fit`` (chunks picked by ``holdout_every`` are scored only).  The
    cumulative log loss and AUC in the history are exactly those of
    :func:`sklearn.metrics.log_loss` and :func:`sklearn.metrics.roc_auc_score`
    over all progressive predictions so far (for AUC up to ``exact_auc_rows``
    rows; see :class:`ftrlx.metrics.RunningAUC`).  Before the first
    ``partial_fit`` the model has no weights, so the first chunk is scored as
    an all-zero linear model would be: probability 1/2.

    Parameters
    ----------
    estimator : classifier with ``partial_fit``
        Trained in place.  Losses without ``predict_proba`` (hinge) are
        scored with ``decision_function``: AUC only, log loss NaN.
    chunks : iterable of (X, y) or (X, y, sample_weight)
        The stream, e.g. ``ftrlx.datasets.iter_criteo(path)``.  To resume,
        pass the same stream from its beginning.
    classes : pair, default=(0, 1)
        Passed to the first ``partial_fit``; the larger one is the positive
        class for the metrics.
    holdout_every : int, optional
        Every ``holdout_every``-th chunk (the k-th, 2k-th, ...) is held out:
        scored, recorded with ``kind="holdout"``, never trained on.
    checkpoint : str or os.PathLike, optional
        Checkpoint file.  Written atomically every ``checkpoint_every``
        trained rows, when the stream ends and on Ctrl-C.  It is also a
        complete model file: :func:`ftrlx.load` reads it.
    checkpoint_every : int, optional
        Rows between checkpoints (at the first chunk boundary past each
        multiple); by default only at the end and on Ctrl-C.
    resume : bool, default=False
        Continue from ``checkpoint`` if it exists (the estimator's state is
        replaced by the checkpoint's and the chunks it consumed are skipped).
        The final model is bit for bit the one of an uninterrupted run,
        provided the estimator is deterministic and the stream is the same.
        Without an existing checkpoint, training starts from scratch.
    progress : bool, default=True
        Show a tqdm progress bar on stderr (rows, rows/s, running log loss).
    history_csv : str or os.PathLike, optional
        Also write the history as CSV here (at checkpoints and at the end).
    max_rows : int, optional
        Stop after reading this many rows from the stream (the last chunk is
        cut short).
    total_rows : int, optional
        Expected stream length, only for the progress bar.
    exact_auc_rows : int, default=2_000_000
        Rows for which AUC is computed exactly (8 bytes each); beyond, a
        fixed-size histogram keeps memory bounded.
    checkpoint_metadata : dict, optional
        Extra JSON-able header metadata for checkpoint files.

    Returns
    -------
    History
        One dict per chunk processed in this call and, after a resume, the
        records restored from the checkpoint before them.

    Raises
    ------
    StreamInterrupted
        On Ctrl-C (a subclass of :class:`KeyboardInterrupt`), after the
        current chunk and a checkpoint; its message says how to resume.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> import ftrlx
    >>> rng = np.random.default_rng(0)
    >>> def stream():
    ...     for _ in range(5):
    ...         X = sp.random(200, 50, density=0.1, format="csr", random_state=rng)
    ...         yield X, (X[:, 0].toarray().ravel() > 0).astype(int)
    >>> est = ftrlx.FTRLClassifier(random_state=0)
    >>> hist = ftrlx.fit_stream(est, stream(), progress=False)
    >>> len(hist), hist[-1]["rows_seen"]
    (5, 1000)
    >>> sorted(k for k in hist[-1] if k.startswith("cum_"))
    ['cum_auc', 'cum_logloss', 'cum_mean_pred', 'cum_pos_rate']
    """
    classes = _check_estimator(estimator, classes)
    positive = classes[-1]
    for name, value in (("holdout_every", holdout_every), ("checkpoint_every", checkpoint_every),
                        ("max_rows", max_rows)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    if checkpoint_every is not None and checkpoint is None:
        raise ValueError("checkpoint_every needs a checkpoint path; pass checkpoint=PATH")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs the checkpoint path to resume from; pass checkpoint=PATH")
    checkpoint = None if checkpoint is None else os.fspath(checkpoint)

    history = History()
    train, hold = _Tally(exact_auc_rows), _Tally(exact_auc_rows)
    chunks_done = rows_read = rows_seen = 0
    finished = False
    if resume and os.path.exists(checkpoint):
        saved, state = _load_checkpoint(checkpoint)
        _adopt(estimator, saved, checkpoint)
        if state.get("version", 0) > _CHECKPOINT_VERSION:
            raise ValueError(f"checkpoint {checkpoint!r} is from a newer ftrlx; upgrade to resume")
        if state["holdout_every"] != holdout_every:
            raise ValueError(
                f"checkpoint {checkpoint!r} was written with holdout_every="
                f"{state['holdout_every']!r}, not {holdout_every!r}; resume with the same setting"
            )
        history.extend(state["history"])
        train = _Tally.from_state(state["train"])
        hold = _Tally.from_state(state["holdout"])
        chunks_done, rows_read, rows_seen = (int(state[k]) for k in
                                             ("chunks_done", "rows_read", "rows_seen"))
        finished = bool(state["finished"])

    def write_checkpoint(done):
        if checkpoint is None:
            return
        state = {
            "version": _CHECKPOINT_VERSION, "chunks_done": chunks_done, "rows_read": rows_read,
            "rows_seen": rows_seen, "finished": done, "holdout_every": holdout_every,
            "history": list(history), "train": train.get_state(), "holdout": hold.get_state(),
        }
        meta = {"rows_seen": rows_seen, "rows_read": rows_read, **(checkpoint_metadata or {})}
        _save_checkpoint(estimator, checkpoint, state, metadata=meta)
        if history_csv is not None:
            history.to_csv(history_csv)

    if finished:
        if history_csv is not None:
            history.to_csv(history_csv)
        return history

    from tqdm.auto import tqdm

    bar = tqdm(total=total_rows or max_rows, initial=rows_read, unit=" rows", unit_scale=True,
               file=sys.stderr, disable=not progress, dynamic_ncols=True, leave=True)
    last_ckpt = rows_seen
    t_start = t_prev = time.perf_counter()
    with _SigintGuard() as guard, bar:
        iterator = iter(chunks)
        skip, skipped_rows = chunks_done, 0
        for index, chunk in enumerate(iterator):
            X, y, w = _split_chunk(chunk, index)
            if index < skip:
                # Replaying the consumed part of the stream; check it looks the same.
                expected = history[index]["rows"] if index < len(history) else None
                if expected is not None and X.shape[0] != expected:
                    raise ValueError(
                        f"chunk {index} has {X.shape[0]} rows but had {expected} when the "
                        f"checkpoint was written; resume needs the same stream and chunk size"
                    )
                skipped_rows += X.shape[0]
                t_prev = time.perf_counter()
                continue
            if max_rows is not None and rows_read + X.shape[0] > max_rows:
                X, y, w = _head(X, y, w, max_rows - rows_read)
            n = X.shape[0]
            holdout = holdout_every is not None and (index + 1) % holdout_every == 0
            yb = (y == positive)
            bad = ~(yb | (y == classes[0]))
            if bad.any():
                raise ValueError(
                    f"chunk {index} has label {y[bad][0].item()!r} outside classes={classes.tolist()!r}; "
                    "pass the stream's two labels as classes="
                )
            p, score = _score(estimator, X, positive)
            tally = hold if holdout else train
            rec = {"chunk": index, "kind": "holdout" if holdout else "train", "rows": n}
            rec.update(tally.update(yb, p, score))
            if not holdout and n:
                kwargs = {} if w is None else {"sample_weight": w}
                if rows_seen == 0:
                    kwargs["classes"] = classes
                estimator.partial_fit(X, y, **kwargs)
                rows_seen += n
            rows_read += n
            chunks_done = index + 1
            now = time.perf_counter()
            rec.update(rows_read=rows_read, rows_seen=rows_seen, nnz=_n_nonzero(estimator),
                       rows_per_s=n / (now - t_prev) if now > t_prev else math.nan,
                       elapsed_s=now - t_start)
            t_prev = now
            history.append(rec)
            if not holdout:
                bar.set_postfix_str(f"logloss={train.logloss.value:.5f}", refresh=False)
            bar.update(n)
            at_limit = max_rows is not None and rows_read >= max_rows
            if guard.requested:
                write_checkpoint(at_limit)
                where = f"checkpoint written to {checkpoint!r}" if checkpoint else "no checkpoint"
                hint = ("run again with resume=True (ftrlx train --resume) on the same input "
                        "to continue" if checkpoint else
                        "pass checkpoint=PATH (ftrlx train --checkpoint) to be able to resume")
                raise StreamInterrupted(
                    f"interrupted after chunk {index} ({rows_read} rows read); {where}; {hint}",
                    history, checkpoint)
            if at_limit:
                break
            if checkpoint_every is not None and rows_seen - last_ckpt >= checkpoint_every:
                write_checkpoint(False)
                last_ckpt = rows_seen
        if skip and chunks_done == skip and skipped_rows < rows_read:
            raise ValueError(
                f"the stream ended after {skipped_rows} rows, before the {rows_read} rows the "
                f"checkpoint {checkpoint!r} had consumed; resume needs the same stream"
            )
    write_checkpoint(True)
    if history_csv is not None and checkpoint is None:
        history.to_csv(history_csv)
    return history


def _adopt(estimator, saved, checkpoint):
    """Give ``estimator`` the state of the checkpointed model, after checking they match."""
    if type(saved) is not type(estimator):
        raise ValueError(
            f"checkpoint {checkpoint!r} holds a {type(saved).__name__}, not a "
            f"{type(estimator).__name__}; resume with the same estimator class"
        )
    mine, theirs = estimator.get_params(deep=False), saved.get_params(deep=False)
    diff = sorted(k for k in mine if not _same(mine[k], theirs.get(k)))
    if diff:
        k = diff[0]
        raise ValueError(
            f"checkpoint {checkpoint!r} was trained with {k}={theirs.get(k)!r}, but the "
            f"estimator has {k}={mine[k]!r}; resume with the same hyper-parameters"
        )
    estimator.__dict__.clear()
    estimator.__setstate__(saved.__getstate__())


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return repr(a) == repr(b)
