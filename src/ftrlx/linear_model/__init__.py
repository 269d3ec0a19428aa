"""Sparse online linear models: one classifier and one regressor per algorithm."""

from ._base import DivergenceError, DivergenceWarning
from ._estimators import (
    AdaGradClassifier,
    AdaGradRegressor,
    FOBOSClassifier,
    FOBOSRegressor,
    FTRLClassifier,
    FTRLRegressor,
    LazyAdamClassifier,
    LazyAdamRegressor,
    OGDClassifier,
    OGDRegressor,
    RDAClassifier,
    RDARegressor,
    TruncatedGradientClassifier,
    TruncatedGradientRegressor,
)

__all__ = [
    "DivergenceError",
    "DivergenceWarning",
    "FTRLClassifier",
    "FTRLRegressor",
    "RDAClassifier",
    "RDARegressor",
    "FOBOSClassifier",
    "FOBOSRegressor",
    "TruncatedGradientClassifier",
    "TruncatedGradientRegressor",
    "AdaGradClassifier",
    "AdaGradRegressor",
    "LazyAdamClassifier",
    "LazyAdamRegressor",
    "OGDClassifier",
    "OGDRegressor",
]
