"""Sparse online linear models: a classifier and (for most algorithms) a regressor per algorithm.

The estimators are those of the algorithm registry (``ftrlx._kernels.registry``), each defined in the module of
its algorithm.
"""

from . import _estimators
from ._base import DivergenceError, DivergenceWarning

__all__ = ["DivergenceError", "DivergenceWarning", *_estimators.__all__]
globals().update({name: getattr(_estimators, name) for name in _estimators.__all__})
