"""Regularisation paths: K configurations of one estimator trained on one stream in a single pass.

Reading a click log (parsing text, hashing values) usually costs more than training one linear model on it.  A
sweep over the L1 strength that trains each value separately reads the stream K times; :func:`path` reads it once
and hands every chunk to the K models.  The models are independent, and the ftrlx kernels release the GIL, so they
train concurrently on a pool of threads; each model sees exactly the chunks, in exactly the order, that it would
see alone, so it ends bitwise identical to the same configuration trained by itself.

Each model is scored progressively as it trains (every row by the model just before the model trains on it, as in
:func:`ftrlx.fit_stream`), which makes the path a sparsity/accuracy frontier with no held-out data:
:meth:`PathResult.plot` draws it, :meth:`PathResult.select` picks a model from it, and :func:`fit_frontier` does
both and writes the table, for the command line.
"""

import contextlib
import csv
import itertools
import math
import numbers
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

__all__ = ["path", "PathResult", "Selection", "fit_frontier", "l1_param"]

# the name of the L1 knob where it is not ``l1``
_L1_NAMES = {
    "TruncatedGradientClassifier": "gravity",
    "TruncatedGradientRegressor": "gravity",
    "SGDClassifier": "alpha",
    "SGDRegressor": "alpha",
}
_METRICS = {"progressive_logloss": "min", "progressive_auc": "max"}


def l1_param(estimator):
    """The name of ``estimator``'s L1 strength parameter (``l1``; ``gravity`` for truncated gradient), or None.

    Examples
    --------
    >>> from ftrlx import FTRLClassifier, TruncatedGradientClassifier, LazyAdamClassifier
    >>> l1_param(FTRLClassifier()), l1_param(TruncatedGradientClassifier()), l1_param(LazyAdamClassifier())
    ('l1', 'gravity', None)
    """
    name = _L1_NAMES.get(type(estimator).__name__, "l1")
    return name if name in estimator.get_params(deep=False) else None


# ---------------------------------------------------------------------------------------------------------------
# the grid


def _axis_values(name, values):
    """One axis of the grid as a list of finite numbers (a scalar is an axis of one value)."""
    if isinstance(values, (numbers.Real, np.floating, np.integer)) and not isinstance(values, bool):
        values = [values]
    try:
        values = list(values)
    except TypeError:
        raise ValueError(f"path: {name} must be a number or a sequence of numbers, got {values!r}") from None
    if not values:
        raise ValueError(f"path: {name} is an empty sequence; give at least one value or leave it None")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.floating, np.integer)) or not math.isfinite(v):
            raise ValueError(f"path: {name} contains {v!r}; every value must be a finite number")
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _axes(estimator, l1, l2, alpha, eta0, params):
    """``[(parameter name, values), ...]`` of every axis that was given, checked against the estimator."""
    known = estimator.get_params(deep=False)
    axes = []
    if l1 is not None:
        name = l1_param(estimator)
        if name is None:
            raise ValueError(
                f"path: {type(estimator).__name__} has no L1 parameter; leave l1=None and sweep another one "
                "(params={'eta0': [...]})"
            )
        axes.append((name, _axis_values("l1", l1)))
    named = [("l2", l2), ("alpha", alpha), ("eta0", eta0)] + list((params or {}).items())
    for name, values in named:
        if values is None:
            continue
        if name not in known:
            raise ValueError(
                f"path: {type(estimator).__name__} has no parameter {name!r}; its parameters are {sorted(known)}"
            )
        if any(name == seen for seen, _ in axes):
            raise ValueError(f"path: the parameter {name!r} is swept twice; give it once")
        axes.append((name, _axis_values(name, values)))
    return axes


def _configurations(axes):
    """Every combination of the axes (the first axis varies slowest), as dicts of parameter values."""
    names = [name for name, _ in axes]
    return [dict(zip(names, combo)) for combo in itertools.product(*(values for _, values in axes))]


def _models(estimator, configs):
    """One unfitted clone per configuration, each checked (a bad value fails before any data is read)."""
    from sklearn.base import clone

    models = []
    for config in configs:
        model = clone(estimator).set_params(**config)
        check = getattr(model, "_validate_params", None)
        if check is not None:
            try:
                check()
            except ValueError as exc:
                raise ValueError(f"path: configuration {config} is invalid: {exc}") from exc
        models.append(model)
    return models


def _n_threads(n_jobs, n_models):
    if n_jobs is None or n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"path: n_jobs must be a positive integer, -1 or None (one thread per core), got {n_jobs!r}")
    return max(1, min(int(n_jobs), n_models))


# ---------------------------------------------------------------------------------------------------------------
# the pass


class _Track:
    """One model of the path and what the pass measures about it (touched only by the task training it)."""

    def __init__(self, model, exact_auc_rows):
        from .stream._scoring import scores_rows
        from .stream._tally import Tally

        self.model = model
        self.per_row = scores_rows(model)
        self.tally = Tally(exact_auc_rows)
        self.seconds = 0.0
        self.n_nonzero = None

    def step(self, X, y, w, yb, classes, first):
        from .stream._scoring import train_scored

        start = time.perf_counter()
        p, score = train_scored(self.model, X, y, w, classes, first, self.per_row)
        self.tally.update(yb, p, score)
        self.seconds += time.perf_counter() - start

    def count(self):
        from .stream._loop import _n_nonzero

        self.n_nonzero = _n_nonzero(self.model)


def _run_all(pool, tracks, configs, call):
    """``call(track)`` for every track (on the pool when there is one), re-raising the first failure with the
    configuration it came from."""
    if pool is None:
        outcomes = []
        for track in tracks:
            try:
                call(track)
                outcomes.append(None)
            except Exception as exc:  # noqa: BLE001 - re-raised just below, with its configuration
                outcomes.append(exc)
    else:
        futures = [pool.submit(call, track) for track in tracks]
        outcomes = [future.exception() for future in futures]
    for config, exc in zip(configs, outcomes):
        if exc is not None:
            exc.add_note(f"ftrlx.path: raised while training the configuration {config}")
            raise exc


def _as_csr(X):
    """Sparse chunks in CSR once, here, rather than once per model."""
    import scipy.sparse as sp

    return X.tocsr() if sp.issparse(X) and X.format != "csr" else X


def _one_pass(tracks, configs, data, classes, n_threads, prefetch_chunks):
    """Read ``data`` once; train every track on each chunk before the next chunk is taken.  Returns the rows."""
    from .stream._loop import _check_labels
    from .stream._source import prefetch, split_chunk

    rows = 0
    pool = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="ftrlx-path") if n_threads > 1 else None
    with contextlib.ExitStack() as stack:
        if pool is not None:
            stack.enter_context(pool)
        source = stack.enter_context(contextlib.closing(prefetch(data, prefetch_chunks)))
        for index, chunk in enumerate(source):
            X, y, w = split_chunk(chunk, index)
            if X.shape[0] == 0:
                continue
            X, yb, first = _as_csr(X), _check_labels(y, classes, index), rows == 0
            _run_all(pool, tracks, configs, lambda track: track.step(X, y, w, yb, classes, first))
            rows += X.shape[0]
        if rows == 0:
            raise ValueError("path: the data yielded no rows; give it at least one non-empty (X, y) chunk")
        _run_all(pool, tracks, configs, _Track.count)
    return rows


def path(
    estimator,
    data,
    l1=None,
    l2=None,
    alpha=None,
    eta0=None,
    *,
    params=None,
    classes=(0, 1),
    n_jobs=None,
    prefetch_chunks=2,
    exact_auc_rows=2_000_000,
):
    """Train a grid of configurations of one classifier on one stream, reading the stream once.

    Every chunk of ``data`` is read (parsed, hashed) once and handed to each of the K models, which train on it
    concurrently on ``n_jobs`` threads (the ftrlx kernels release the GIL) before the next chunk is taken.  Each
    model sees the chunks in the same order as it would alone, so it ends bitwise identical to that configuration
    trained by itself with ``partial_fit`` on the same chunks.  Every row is scored by each model just before the
    model trains on it (progressive validation, as :func:`ftrlx.fit_stream` does: through
    ``partial_fit(..., progressive=out)`` where the estimator has it, otherwise each chunk is predicted before it
    is trained on).

    Parameters
    ----------
    estimator : classifier with ``partial_fit``
        The template: each model is a clone with one combination of the grid's values.  It is not modified.
    data : iterable of (X, y) or (X, y, sample_weight)
        The stream, e.g. ``ftrlx.datasets.iter_criteo(path)`` or a list of chunks; iterated once, in a
        background thread that reads ``prefetch_chunks`` chunks ahead.
    l1 : number or sequence of numbers, optional
        Values of the estimator's L1 strength (``l1``; ``gravity`` for truncated gradient, see :func:`l1_param`).
    l2, alpha, eta0 : number or sequence of numbers, optional
        Values of the parameters of those names (``alpha`` is FTRL's learning rate, ``eta0`` the others').
    params : dict of {name: values}, optional
        Further axes, for any other parameter (e.g. ``{"gamma": [0.5, 1, 2]}`` for RDA).
    classes : pair, default=(0, 1)
        The two labels; the larger one is the positive class of the metrics.
    n_jobs : int, optional
        Threads; None or -1 means one per CPU (never more than there are models); 1 trains in the calling thread.
    prefetch_chunks : int, default=2
        Chunks read ahead of training (0 reads in the calling thread).
    exact_auc_rows : int, default=2_000_000
        Rows per model for which the progressive AUC is exact (see :class:`ftrlx.metrics.RunningAUC`).

    Returns
    -------
    PathResult
        The fitted models (``result.estimators``, in grid order: the first axis varies slowest), their
        configurations and, per model, the progressive log loss and AUC and the non-zero count.

    Raises
    ------
    ValueError
        For an invalid grid or configuration (before any data is read), bad labels or an empty stream.  An error
        of one model names its configuration in the exception's notes.

    Examples
    --------
    >>> import ftrlx
    >>> from ftrlx.datasets import make_click_data
    >>> X, y = make_click_data(n_samples=20_000, n_features=2**16, seed=0)
    >>> chunks = [(X[i:i + 5_000], y[i:i + 5_000]) for i in range(0, 20_000, 5_000)]
    >>> result = ftrlx.path(ftrlx.FTRLClassifier(), chunks, l1=[0.1, 1.0, 10.0], n_jobs=2)
    >>> [rec["n_nonzero"] for rec in result.to_records()] == sorted(
    ...     (rec["n_nonzero"] for rec in result.to_records()), reverse=True)   # more L1, fewer weights
    True
    >>> result.select("sparsest", tolerance=0.01).record["l1"] >= 0.1
    True
    """
    from .stream._loop import _check_estimator

    classes = _check_estimator(estimator, classes)
    configs = _configurations(_axes(estimator, l1, l2, alpha, eta0, params))
    tracks = [_Track(model, exact_auc_rows) for model in _models(estimator, configs)]
    start = time.perf_counter()
    rows = _one_pass(tracks, configs, data, classes, _n_threads(n_jobs, len(tracks)), prefetch_chunks)
    return PathResult(tracks, configs, rows, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------------------------
# the result


class Selection(NamedTuple):
    """A model picked from a path: its position in the grid, the fitted estimator and its record."""

    index: int
    estimator: object
    record: dict


def _parse_tolerance(tolerance):
    """A relative tolerance from a number (0.01) or a percentage string ("1%")."""
    value = tolerance
    if isinstance(tolerance, str):
        text = tolerance.strip()
        try:
            value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            value = None
    if (
        value is None
        or isinstance(value, bool)
        or not isinstance(value, (numbers.Real, np.floating))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"select: tolerance must be a non-negative number or a percentage such as '1%', got {tolerance!r}"
        )
    return float(value)


class PathResult:
    """The outcome of :func:`path`: K fitted models and what the pass measured about each.

    Attributes
    ----------
    estimators : list
        The fitted models, in grid order.
    params : list of dict
        The swept parameter values of each model.
    rows : int
        Rows of the stream each model trained on.
    seconds : float
        Wall time of the whole pass (reading included).
    """

    def __init__(self, tracks, configs, rows, seconds):
        self.estimators = [t.model for t in tracks]
        self.params = [dict(c) for c in configs]
        self.rows = rows
        self.seconds = seconds
        self._records = [self._record(i, t, c, rows) for i, (t, c) in enumerate(zip(tracks, configs))]

    @staticmethod
    def _record(index, track, config, rows):
        tally = track.tally
        logloss = tally.logloss.value if tally.logloss.n else math.nan
        return {
            "model": index,
            **config,
            "rows": rows,
            "progressive_logloss": float(logloss),
            "progressive_auc": float(tally.auc.value),
            "n_nonzero": track.n_nonzero,
            "train_seconds": track.seconds,
        }

    def __len__(self):
        return len(self.estimators)

    def __repr__(self):
        return f"PathResult({len(self)} models, {self.rows} rows, {self.seconds:.2f} s)"

    def to_records(self):
        """One dict per model: ``model`` (its index), the swept parameters, ``rows``, ``progressive_logloss``,
        ``progressive_auc``, ``n_nonzero`` and ``train_seconds`` (its own training and scoring time)."""
        return [dict(rec) for rec in self._records]

    def to_frame(self):
        """The records as a :class:`pandas.DataFrame` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("PathResult.to_frame needs pandas; install it, or use to_records()") from exc
        return pd.DataFrame.from_records(self.to_records())

    def to_csv(self, path):
        """Write the records to ``path`` as CSV (one row per model; atomically)."""
        from .io import atomic_write

        records = self.to_records()
        fields = list(records[0])

        def write(fh):
            import io

            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
            fh.write(text.getvalue().encode("utf-8"))

        atomic_write(path, write)

    def select(self, rule="sparsest", *, tolerance=0.01, metric="progressive_logloss"):
        """Pick a model.

        Parameters
        ----------
        rule : {"sparsest", "best"} or callable, default="sparsest"
            ``"best"``: the best ``metric``.  ``"sparsest"``: the fewest non-zero weights among the models whose
            ``metric`` is within ``tolerance`` (relative) of the best one; ties go to the better metric.  A
            callable gets the list of records and returns an index.
        tolerance : float or str, default=0.01
            Relative slack for ``"sparsest"``: 0.01 (or ``"1%"``) keeps log losses up to 1.01 times the best
            (AUCs down to 0.99 times the best).
        metric : {"progressive_logloss", "progressive_auc"}, default="progressive_logloss"

        Returns
        -------
        Selection
            ``(index, estimator, record)``.

        Examples
        --------
        >>> import ftrlx
        >>> from ftrlx.datasets import make_click_data
        >>> X, y = make_click_data(n_samples=10_000, n_features=2**14, seed=1)
        >>> result = ftrlx.path(ftrlx.FTRLClassifier(), [(X, y)], l1=[0.01, 1.0, 30.0])
        >>> best = result.select("best")
        >>> sparse = result.select("sparsest", tolerance="1%")
        >>> sparse.record["n_nonzero"] <= best.record["n_nonzero"]
        True
        >>> sparse.record["progressive_logloss"] <= 1.01 * best.record["progressive_logloss"]
        True
        """
        records = self.to_records()
        if callable(rule):
            return self._selection(rule(records), "the rule's return value")
        if metric not in _METRICS:
            raise ValueError(f"select: metric must be one of {sorted(_METRICS)}, got {metric!r}")
        if rule not in ("sparsest", "best"):
            raise ValueError(f"select: rule must be 'sparsest', 'best' or a callable, got {rule!r}")
        tol = _parse_tolerance(tolerance)
        sign = 1.0 if _METRICS[metric] == "min" else -1.0
        scored = [(sign * rec[metric], rec) for rec in records if not math.isnan(rec[metric])]
        if not scored:
            raise ValueError(
                f"select: no model has a {metric} (a loss without predict_proba has no log loss); "
                "pass metric='progressive_auc'"
            )
        best = min(s for s, _ in scored)
        if rule == "best":
            return self._selection(min(scored, key=lambda sr: sr[0])[1]["model"], "best")
        # the slack is relative to the metric's size, on the side of worse
        limit = best + tol * abs(best)
        keep = [(rec["n_nonzero"], s, rec["model"]) for s, rec in scored if s <= limit]
        return self._selection(min(keep)[2], "sparsest")

    def _selection(self, index, where):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(self):
            raise ValueError(f"select: {where} is {index!r}, not the index of one of the {len(self)} models")
        index = int(index)
        return Selection(index, self.estimators[index], dict(self._records[index]))

    def plot(self, ax=None, *, label=None, metric="progressive_logloss", highlight=None, **line_kw):
        """Draw the frontier: non-zero weights (log x-axis) against ``metric``, one point per model.

        Models with no non-zero weight cannot sit on a log axis and are left out.  ``highlight``: a
        :class:`Selection` (or an index) to circle.  Extra keywords go to ``ax.plot``.  Needs matplotlib.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import ftrlx
        >>> from ftrlx.datasets import make_click_data
        >>> X, y = make_click_data(n_samples=5_000, n_features=2**14, seed=2)
        >>> result = ftrlx.path(ftrlx.FTRLClassifier(), [(X, y)], l1=[0.1, 1.0, 10.0])
        >>> ax = result.plot(label="FTRL")
        >>> ax.get_xscale(), ax.get_xlabel()
        ('log', 'non-zero weights')
        """
        if metric not in _METRICS:
            raise ValueError(f"plot: metric must be one of {sorted(_METRICS)}, got {metric!r}")
        if ax is None:
            from .viz import _pyplot

            ax = _pyplot().subplots(figsize=(6, 4))[1]
        points = sorted((rec["n_nonzero"], rec[metric]) for rec in self._records if rec["n_nonzero"])
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        ax.plot(xs, ys, marker="o", label=label, **line_kw)
        if highlight is not None:
            rec = self._records[highlight.index if isinstance(highlight, Selection) else int(highlight)]
            if rec["n_nonzero"]:
                ax.plot(
                    [rec["n_nonzero"]],
                    [rec[metric]],
                    marker="o",
                    markersize=14,
                    fillstyle="none",
                    color="black",
                    linestyle="none",
                    label="selected",
                )
        ax.set_xscale("log")
        ax.set_xlabel("non-zero weights")
        ax.set_ylabel(metric.replace("_", " ").replace("logloss", "log loss").replace("auc", "AUC"))
        if label is not None or highlight is not None:
            ax.legend()
        return ax

    def savefig(self, path, *, title=None, highlight=None):
        """Write the frontier plot to ``path`` (PNG, or any format matplotlib infers from the name)."""
        from .viz import _pyplot

        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(6, 4))
        try:
            self.plot(ax, highlight=highlight)
            if title:
                ax.set_title(title)
            ax.grid(True, which="both", alpha=0.3)
            fig.tight_layout()
            fig.savefig(os.fspath(path), dpi=120)
        finally:
            plt.close(fig)


def fit_frontier(
    estimator,
    chunks,
    l1,
    *,
    csv_path=None,
    png_path=None,
    rule="sparsest",
    tolerance=0.01,
    metric="progressive_logloss",
    title=None,
    **path_kwargs,
):
    """Train an L1 path in one pass, write its frontier (CSV, PNG) and return the chosen model.

    The entry point for ``ftrlx train --l1 0.1,0.3,...``: it runs :func:`path` over ``chunks`` with the values
    ``l1`` (and any other :func:`path` keyword), picks a model with :meth:`PathResult.select` (``rule``,
    ``tolerance``, ``metric``), writes the records to ``csv_path`` and the frontier, with the chosen model
    circled, to ``png_path``.  Without matplotlib the picture is skipped with a :class:`UserWarning`.

    Returns
    -------
    (estimator, PathResult)
        The chosen fitted model and the whole path (``result.select(...)`` again gives its record).

    Examples
    --------
    >>> import os, tempfile
    >>> import ftrlx
    >>> from ftrlx._path import fit_frontier
    >>> from ftrlx.datasets import make_click_data
    >>> X, y = make_click_data(n_samples=5_000, n_features=2**14, seed=3)
    >>> out = tempfile.mkdtemp()
    >>> model, result = fit_frontier(ftrlx.FTRLClassifier(), [(X, y)], [0.1, 1.0, 10.0],
    ...                              csv_path=os.path.join(out, "frontier.csv"))
    >>> model is result.select().estimator, open(os.path.join(out, "frontier.csv")).readline().split(",")[:2]
    (True, ['model', 'l1'])
    """
    result = path(estimator, chunks, l1, **path_kwargs)
    chosen = result.select(rule, tolerance=tolerance, metric=metric)
    if csv_path is not None:
        result.to_csv(csv_path)
    if png_path is not None:
        try:
            result.savefig(png_path, title=title, highlight=chosen)
        except ImportError as exc:
            warnings.warn(f"{exc}; the frontier picture {os.fspath(png_path)!r} was not written", stacklevel=2)
    return chosen.estimator, result
