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
import itertools
import math
import numbers
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._path_result import PathResult, Selection

__all__ = ["path", "PathResult", "Selection", "fit_frontier", "l1_param"]

# the name of the L1 knob where it is not ``l1``
_L1_NAMES = {
    "TruncatedGradientClassifier": "gravity",
    "TruncatedGradientRegressor": "gravity",
    "SGDClassifier": "alpha",
    "SGDRegressor": "alpha",
}


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
        self.tally.add(yb, p, score)  # the path reads only the cumulative values
        self.seconds += time.perf_counter() - start

    def count(self):
        from .stream._loop import _n_nonzero

        self.n_nonzero = _n_nonzero(self.model)
        self.tally.auc.value  # noqa: B018 - counts the chunks waiting, here on the pool rather than afterwards


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


def _ftrlx_models(tracks):
    """The name of the models' class when every model is an ftrlx linear model (one class: clones of one
    template), else None."""
    from .linear_model._base import _OnlineLinearModel

    ok = all(isinstance(track.model, _OnlineLinearModel) for track in tracks)
    return type(tracks[0].model).__name__ if ok else None


@contextlib.contextmanager
def _discarded_on_failure(tracks, ftrlx_models):
    """For the pass: the models keep no undo journal (a pass that fails returns no model, so the journal, most of
    what an in-place call costs beyond training fresh state, would never be read).  The flag is gone afterwards:
    the models the path returns undo a failed call as any model does."""
    if ftrlx_models:
        for track in tracks:
            track.model.__dict__["_no_undo"] = True
    try:
        yield
    finally:
        for track in tracks:
            track.model.__dict__.pop("_no_undo", None)


def _checked_once(X, name, index):
    """``(X, scope)``: for ftrlx models (their class ``name``) and a sparse chunk, the chunk checked once, here,
    with a fault reported with its chunk, and the scope in which the models' own checks find the answer
    (``checked_once``); otherwise X as it is and an empty scope."""
    import scipy.sparse as sp

    from ._validation import checked_once, kernel_csr

    if name is None or not sp.issparse(X):
        return X, contextlib.nullcontext()
    try:
        X, canonical = kernel_csr(X, name)
    except ValueError as exc:
        exc.add_note(f"ftrlx.path: in chunk {index} of the data (the fault is the data's, not a configuration's)")
        raise
    return X, checked_once(X, canonical)


def _one_pass(tracks, configs, data, classes, n_threads, prefetch_chunks):
    """Read ``data`` once; train every track on each chunk before the next chunk is taken.  Returns the rows.

    For ftrlx models each sparse chunk is checked once (``checked_once``), not once per model."""
    from .stream._loop import _check_labels
    from .stream._source import prefetch, split_chunk

    rows = 0
    name = _ftrlx_models(tracks)
    pool = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="ftrlx-path") if n_threads > 1 else None
    with contextlib.ExitStack() as stack:
        stack.enter_context(_discarded_on_failure(tracks, name))
        if pool is not None:
            stack.enter_context(pool)
        source = stack.enter_context(contextlib.closing(prefetch(data, prefetch_chunks)))
        for index, chunk in enumerate(source):
            X, y, w = split_chunk(chunk, index)
            if X.shape[0] == 0:
                continue
            X, yb, first = _as_csr(X), _check_labels(y, classes, index), rows == 0
            X, scope = _checked_once(X, name, index)
            with scope:
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
        of one model names its configuration in the exception's notes, a fault of the data its chunk.  A pass
        that raises returns no model, so the models keep no undo journal while it runs (the models it returns
        undo a failed ``partial_fit`` as any model does).

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
