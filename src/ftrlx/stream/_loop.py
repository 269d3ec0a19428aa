"""The streaming training loop: source -> progressive scoring and training -> metrics, progress, checkpoints."""

import contextlib
import math
import os
import signal
import sys
import threading
import time

import numpy as np

from . import _checkpoint
from ._history import History, StreamInterrupted
from ._passes import check_passes, should_stop, tagged_passes
from ._scoring import score_chunk, scores_rows, train_scored
from ._source import head, prefetch, split_chunk
from ._table import ProgressTable, write_stderr


class _SigintGuard:
    """Turn the first Ctrl-C into a flag checked at chunk boundaries.

    A second Ctrl-C restores Python's default behaviour and interrupts at once (the model in memory may then be
    mid-update; the last checkpoint on disk is still intact).
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
        print("\nftrlx: stopping after this chunk (Ctrl-C again to abort at once)", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _check_estimator(estimator, classes):
    from sklearn.base import is_classifier

    if not hasattr(estimator, "partial_fit"):
        raise TypeError(
            f"{type(estimator).__name__} has no partial_fit; fit_stream needs an online estimator such as "
            "ftrlx.FTRLClassifier"
        )
    if not is_classifier(estimator):
        raise TypeError(
            f"fit_stream scores binary classifiers with log loss and AUC; {type(estimator).__name__} is not a "
            "classifier (train regressors with partial_fit)"
        )
    classes = np.asarray(classes)
    if classes.ndim != 1 or np.unique(classes).size != 2:
        raise ValueError(
            f"fit_stream needs exactly two classes, got classes={classes.tolist()!r}; pass classes=(negative, positive)"
        )
    return np.sort(classes)


def _check_options(holdout_every, checkpoint, checkpoint_every, resume, max_rows, nnz_every):
    for name, value in (
        ("holdout_every", holdout_every),
        ("checkpoint_every", checkpoint_every),
        ("max_rows", max_rows),
        ("nnz_every", nnz_every),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    if checkpoint_every is not None and checkpoint is None:
        raise ValueError("checkpoint_every needs a checkpoint path; pass checkpoint=PATH")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs the checkpoint path to resume from; pass checkpoint=PATH")


def _n_nonzero(est):
    nnz = getattr(est, "n_nonzero_", None)
    if nnz is not None:
        return int(nnz)
    coef = getattr(est, "coef_", None)
    return None if coef is None else int(np.count_nonzero(coef))


class _Cadence:
    """True at the first chunk boundary past each multiple of ``every`` rows (never with None).

    Multiples of the row count, not distances from the last event, so that a resumed run meets the same
    boundaries as an uninterrupted one."""

    def __init__(self, every, start):
        self.every, self.last = every, start

    def due(self, rows):
        if self.every is None or rows // self.every == self.last // self.every:
            return False
        self.last = rows
        return True


def _check_labels(y, classes, index):
    yb = y == classes[-1]
    bad = ~(yb | (y == classes[0]))
    if bad.any():
        raise ValueError(
            f"chunk {index} has label {y[bad][0].item()!r} outside classes={classes.tolist()!r}; pass the "
            "stream's two labels as classes="
        )
    return yb


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
    nnz_every=None,
    prefetch_chunks=1,
    passes=1,
    early_stop=None,
    table=False,
):
    """Train a binary classifier on a stream of chunks with per-row progressive validation.

    Every row is scored by the model just before the model trains on it (progressive validation, as Vowpal
    Wabbit's average loss): for ftrlx's estimators the training kernel writes each row's margin as it computes it
    (``partial_fit(..., progressive=out)``), so scoring costs no second pass; with ``batch_size=b`` a row is scored
    at the weights of the start of its batch.  Other estimators are scored chunk by chunk (the chunk is predicted,
    then trained on).  Chunks picked by ``holdout_every`` are scored only.  The cumulative log loss and AUC in the
    history are exactly those of :func:`sklearn.metrics.log_loss` and :func:`sklearn.metrics.roc_auc_score` over
    all progressive predictions so far (for AUC up to ``exact_auc_rows`` rows; see
    :class:`ftrlx.metrics.RunningAUC`).

    Parameters
    ----------
    estimator : classifier with ``partial_fit``
        Trained in place.  Losses without ``predict_proba`` (hinge) are scored by their margins: AUC only, log
        loss NaN.
    chunks : iterable of (X, y) or (X, y, sample_weight), or a function returning one
        The stream, e.g. ``ftrlx.datasets.iter_criteo(path)``.  To resume, pass the same stream from its
        beginning.  With ``passes > 1``: a function called once per pass (``lambda: iter_criteo(path)``), or a
        list of chunks.
    classes : pair, default=(0, 1)
        Passed to the first ``partial_fit``; the larger one is the positive class for the metrics.
    holdout_every : int, optional
        Every ``holdout_every``-th chunk of each pass (the k-th, 2k-th, ... counted from the start of the pass, so
        that every pass holds out the same rows) is held out: scored, recorded with ``kind="holdout"``, never
        trained on.
    checkpoint : str or os.PathLike, optional
        Checkpoint file.  Written atomically every ``checkpoint_every`` trained rows, when the stream ends and on
        Ctrl-C.  It is also a complete model file: :func:`ftrlx.load` reads it.
    checkpoint_every : int, optional
        Rows between checkpoints (at the first chunk boundary past each multiple); by default only at the end and
        on Ctrl-C.
    resume : bool, default=False
        Continue from ``checkpoint`` if it exists (the estimator's state is replaced by the checkpoint's and the
        chunks it consumed are skipped).  The final model is bit for bit the one of an uninterrupted run, provided
        the estimator is deterministic and the stream is the same.  Without an existing checkpoint, training
        starts from scratch.  A refused resume leaves the estimator as it was.
    progress : bool, default=True
        Show a tqdm progress bar on stderr (rows, rows/s, running log loss).
    history_csv : str or os.PathLike, optional
        Also write the history as CSV here (at checkpoints and at the end).
    max_rows : int, optional
        Stop after reading this many rows from the stream (the last chunk is cut short).
    total_rows : int, optional
        Expected stream length, only for the progress bar.
    exact_auc_rows : int, default=2_000_000
        Rows for which AUC is computed exactly (8 bytes each); beyond, a fixed-size histogram keeps memory
        bounded.
    checkpoint_metadata : dict, optional
        Extra JSON-able header metadata for checkpoint files.
    nnz_every : int, optional
        Count the non-zero weights (a read of the whole state, O(n_features)) at the first chunk boundary past
        every multiple of this many rows of the stream.  By default they are counted only at the end of the run,
        so that the cost of a chunk does not grow with the width of the model.
    prefetch_chunks : int, default=1
        Chunks read ahead of training in a background thread (see :func:`ftrlx.stream.prefetch`); 0 reads the
        stream in the calling thread.
    passes : int, default=1
        Passes over the stream.  Each record has the ``pass`` (0, 1, ...) it belongs to; the progressive metrics
        of later passes score rows the model has trained on before.
    early_stop : int, optional
        Stop at the end of a pass when the held-out log loss of a pass (over the held-out chunks of that pass,
        which are the same rows every pass) has not been lower than the best one for ``early_stop`` passes; needs
        ``holdout_every``.  The estimator is the model of the last pass trained (as Vowpal Wabbit's
        ``--early_terminate``), not of the best one; :meth:`History.pass_losses` gives each pass's loss.
    table : bool or ProgressTable, default=False
        True prints a progress table on stderr as Vowpal Wabbit does (above the bar): a line at 1000, 2000, 4000,
        ... trained rows (at most one per chunk) with the rows, the progressive log loss since the start and since
        the last line, the AUC, the non-zeros where the record has them (see ``nnz_every``) and rows/s.  A
        :class:`ftrlx.stream.ProgressTable` is fed every record instead (its ``lines`` keep the table).

    Returns
    -------
    History
        One dict per chunk processed in this call and, after a resume, the records restored from the checkpoint
        before them.

    Raises
    ------
    StreamInterrupted
        On Ctrl-C (a subclass of :class:`KeyboardInterrupt`), after the current chunk and a checkpoint; its
        message says how to resume.

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
    >>> len(hist), hist[-1]["rows_seen"], hist[-1]["nnz"] == est.n_nonzero_
    (5, 1000, True)
    >>> sorted(k for k in hist[-1] if k.startswith("cum_"))
    ['cum_auc', 'cum_logloss', 'cum_mean_pred', 'cum_pos_rate']
    """
    classes = _check_estimator(estimator, classes)
    _check_options(holdout_every, checkpoint, checkpoint_every, resume, max_rows, nnz_every)
    check_passes(passes, early_stop, holdout_every)
    checkpoint = None if checkpoint is None else os.fspath(checkpoint)
    if checkpoint is not None:
        from ..io import check_storable

        check_storable(estimator)  # before any training: a checkpoint must be able to hold every parameter
    run = _checkpoint.RunState(exact_auc_rows, History())
    if resume:
        _checkpoint.resume(estimator, checkpoint, run, holdout_every)
    loop = _Loop(
        estimator,
        classes,
        run,
        holdout_every,
        checkpoint,
        checkpoint_metadata,
        history_csv,
        max_rows,
        checkpoint_every,
        nnz_every,
        early_stop,
    )
    loop.table = _table_for(table, run.history)
    if run.finished:
        if history_csv is not None:
            run.history.to_csv(history_csv)
        return run.history

    bar = _progress_bar(total_rows or max_rows, run.rows_read, progress)
    with (
        _SigintGuard() as guard,
        bar,
        contextlib.closing(prefetch(tagged_passes(chunks, passes), prefetch_chunks)) as source,
    ):
        loop.run(source, guard, bar)
    loop.finish()
    return run.history


def _progress_bar(total, initial, progress):
    """The tqdm bar of the rows read on stderr (disabled without ``progress``)."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit=" rows",
        unit_scale=True,
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
        leave=True,
    )


def _table_for(table, history):
    """The :class:`ProgressTable` the loop feeds (None without one), caught up with a resumed history."""
    if table is False or table is None:
        return None
    if table is True:
        table = ProgressTable(write=write_stderr)
    elif not isinstance(table, ProgressTable):
        raise TypeError(f"table must be a bool or a ftrlx.stream.ProgressTable, got {table!r}")
    table.replay(history)
    return table


class _Loop:
    """One streaming run: the per-chunk step and the sinks it feeds."""

    def __init__(
        self,
        estimator,
        classes,
        run,
        holdout_every,
        checkpoint,
        metadata,
        history_csv,
        max_rows,
        checkpoint_every,
        nnz_every,
        early_stop=None,
    ):
        self.est, self.classes, self.run_state = estimator, classes, run
        self.early_stop = early_stop
        self.holdout_every, self.checkpoint, self.metadata = holdout_every, checkpoint, metadata
        self.history_csv, self.max_rows = history_csv, max_rows
        self.checkpoints = _Cadence(checkpoint_every, run.rows_seen)
        self.counts = _Cadence(nnz_every, run.rows_read)
        self.per_row = scores_rows(estimator)
        self.table = None

    def write_checkpoint(self, finished):
        run = self.run_state
        _checkpoint.write(self.est, self.checkpoint, run, finished, self.holdout_every, self.metadata, self.history_csv)

    def run(self, source, guard, bar):
        run = self.run_state
        skip, skipped_rows = run.chunks_done, 0
        t_start = t_prev = time.perf_counter()
        current, in_pass = 0, -1
        for index, (pass_no, chunk) in enumerate(source):
            if pass_no != current:  # a pass ended with the chunk before this one
                if index >= skip and self.early_stop is not None and should_stop(run.history, current, self.early_stop):
                    break
                current, in_pass = pass_no, -1
            in_pass += 1
            X, y, w = split_chunk(chunk, index)
            if index < skip:
                skipped_rows += self._replayed(index, X)
                t_prev = time.perf_counter()
                continue
            if self.max_rows is not None and run.rows_read + X.shape[0] > self.max_rows:
                X, y, w = head(X, y, w, self.max_rows - run.rows_read)
            rec = self._step(index, X, y, w, pass_no, in_pass)
            now = time.perf_counter()
            rec.update(rows_per_s=X.shape[0] / (now - t_prev) if now > t_prev else math.nan, elapsed_s=now - t_start)
            t_prev = now
            if self.table is not None:
                self.table.add(rec)
            if rec["kind"] == "train":
                bar.set_postfix_str(f"logloss={run.train.logloss.value:.5f}", refresh=False)
            bar.update(X.shape[0])
            at_limit = self.max_rows is not None and run.rows_read >= self.max_rows
            if guard.requested:
                self._interrupted(index, at_limit)
            if at_limit:
                break
            if self.checkpoints.due(run.rows_seen):
                self.write_checkpoint(False)
        if skip and run.chunks_done == skip and skipped_rows < run.rows_read:
            raise ValueError(
                f"the stream ended after {skipped_rows} rows, before the {run.rows_read} rows the checkpoint "
                f"{self.checkpoint!r} had consumed; resume needs the same stream"
            )

    def _replayed(self, index, X):
        """A chunk the checkpoint has consumed already: check that it looks the same, and skip it."""
        history = self.run_state.history
        expected = history[index]["rows"] if index < len(history) else None
        if expected is not None and X.shape[0] != expected:
            raise ValueError(
                f"chunk {index} has {X.shape[0]} rows but had {expected} when the checkpoint was written; "
                "resume needs the same stream and chunk size"
            )
        return X.shape[0]

    def _step(self, index, X, y, w, pass_no=0, in_pass=None):
        """Score (and, unless held out, train on) one chunk (the ``in_pass``-th of its pass); record it."""
        run = self.run_state
        n = X.shape[0]
        in_pass = index if in_pass is None else in_pass
        holdout = self.holdout_every is not None and (in_pass + 1) % self.holdout_every == 0
        yb = _check_labels(y, self.classes, index)
        if n == 0:  # an empty chunk (a block of blank or skipped lines): recorded, nothing to score
            p, score = np.zeros(0), np.zeros(0)
        elif holdout:
            p, score = score_chunk(self.est, X, self.classes[-1])
        else:
            p, score = train_scored(self.est, X, y, w, self.classes, run.rows_seen == 0, self.per_row)
            run.rows_seen += n
        rec = {"chunk": index, "kind": "holdout" if holdout else "train", "rows": n, "pass": pass_no}
        rec.update(run.tally(holdout).update(yb, p, score))
        run.rows_read += n
        run.chunks_done = index + 1
        rec.update(
            rows_read=run.rows_read,
            rows_seen=run.rows_seen,
            nnz=_n_nonzero(self.est) if self.counts.due(run.rows_read) else None,
        )
        run.history.append(rec)
        return rec

    def _interrupted(self, index, at_limit):
        self.write_checkpoint(at_limit)
        where = f"checkpoint written to {self.checkpoint!r}" if self.checkpoint else "no checkpoint"
        hint = (
            "run again with resume=True (ftrlx train --resume) on the same input to continue"
            if self.checkpoint
            else "pass checkpoint=PATH (ftrlx train --checkpoint) to be able to resume"
        )
        raise StreamInterrupted(
            f"interrupted after chunk {index} ({self.run_state.rows_read} rows read); {where}; {hint}",
            self.run_state.history,
            self.checkpoint,
        )

    def finish(self):
        """The final non-zero count (in the last records of both kinds) and the final checkpoint."""
        history = self.run_state.history
        if history:
            # held-out chunks do not train: the final model is also the model after the last trained chunk
            nnz = _n_nonzero(self.est)
            history[-1]["nnz"] = nnz
            last_train = history.last("train")
            if last_train is not None:
                last_train["nnz"] = nnz
        self.write_checkpoint(True)
        if self.history_csv is not None and self.checkpoint is None:
            history.to_csv(self.history_csv)
