"""Probabilities from the margins of the log-loss models, shared by the estimators and the exported sparse models."""

import numpy as np


def probabilities(scores):
    """``[1 - p, p]`` for the margins of a binary model (1-D), the one-vs-rest sigmoids normalised to sum to one
    otherwise (uniform for a row whose sigmoids all underflow to zero)."""
    from scipy.special import expit

    p = expit(scores)
    if p.ndim == 1:
        return np.column_stack([1.0 - p, p])
    total = p.sum(axis=1, keepdims=True)
    uniform = np.full_like(p, 1.0 / p.shape[1])
    return np.divide(p, total, out=uniform, where=total > 0)
