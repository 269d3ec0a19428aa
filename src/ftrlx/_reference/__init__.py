"""Eager reference implementations (oracles) of the ftrlx kernels.

Placeholder docstring; the full semantics follow.
"""
from .losses import MAX_DLOSS, dloss, learning_rate, soft_threshold
from .oracles import ALGORITHMS, EagerState, canonical_csr, decision_eager, fit_eager

__all__ = [
    "ALGORITHMS", "EagerState", "MAX_DLOSS", "canonical_csr", "decision_eager",
    "dloss", "fit_eager", "learning_rate", "soft_threshold",
]
