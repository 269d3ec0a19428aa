"""Progressive scoring: each row scored by the model just before the model trains on it.

ftrlx's estimators take ``partial_fit(..., progressive=out)``: the kernel writes each row's margin as it computes it
for the update, so scoring costs no second pass and every row is scored by a model that has seen every earlier row
of the stream (and none of its own), as in Vowpal Wabbit's progressive validation.  Other estimators with
``partial_fit`` are scored chunk by chunk instead (predict the chunk, then train on it).
"""

import inspect

import numpy as np
from scipy.special import expit


def is_fitted(est):
    return hasattr(est, "classes_") or hasattr(est, "coef_")


def scores_rows(est):
    """Whether ``est.partial_fit`` reports per-row progressive margins (``progressive=``)."""
    try:
        return "progressive" in inspect.signature(est.partial_fit).parameters
    except (TypeError, ValueError):
        return False


def _has_proba(est):
    return hasattr(est, "predict_proba")


def score_chunk(est, X, positive):
    """Probability of the positive class (or None without ``predict_proba``) and a ranking score per row."""
    if not is_fitted(est):
        # every weight of an untrained linear model is zero: margin 0, p = 1/2
        if _has_proba(est):
            half = np.full(X.shape[0], 0.5)
            return half, half
        return None, np.zeros(X.shape[0])
    if _has_proba(est):
        col = int(np.flatnonzero(np.asarray(est.classes_) == positive)[0])
        p = np.asarray(est.predict_proba(X), dtype=np.float64)[:, col]
        return p, p
    score = np.asarray(est.decision_function(X), dtype=np.float64)
    if score.ndim != 1:
        raise ValueError("fit_stream scores binary classifiers; got multi-column decision values")
    return None, score


def train_scored(est, X, y, w, classes, first, per_row):
    """Train on a chunk and return its progressive ``(p or None, score)``.

    ``per_row``: the estimator reports each row's margin before its own update (``scores_rows``); otherwise the
    chunk is scored by the model as it was before the chunk.
    """
    kwargs = {} if w is None else {"sample_weight": w}
    if first:
        kwargs["classes"] = classes
    if not per_row:
        p, score = score_chunk(est, X, classes[-1])
        est.partial_fit(X, y, **kwargs)
        return p, score
    margins = np.empty(X.shape[0], dtype=np.float64)
    est.partial_fit(X, y, progressive=margins, **kwargs)
    if _has_proba(est):
        p = expit(margins)  # the positive class is classes_[1] for a binary model: its margin is positive
        return p, p
    return None, margins
