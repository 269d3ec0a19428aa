"""The result of a regularisation path (:func:`ftrlx.path`): the table of models, the selection rules, the plot."""

import csv
import math
import numbers
import os
from typing import NamedTuple

import numpy as np

_METRICS = {"progressive_logloss": "min", "progressive_auc": "max"}


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
