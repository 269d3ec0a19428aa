"""Truncated gradient: the classifier and the regressor (their math is ``ftrlx._kernels._truncated``)."""

import numpy as np

from .._docdefaults import derive_defaults
from .._validation import Interval, Options
from ._base import _OnlineLinearModel
from ._classifier import OnlineClassifierMixin
from ._docs import _ATTRIBUTES_DOC, _CLASSIFIER_DOC, _COMMON_DOC, _SCHEDULE_DOC
from ._regressor import OnlineRegressorMixin
from ._support import NON_NEGATIVE, _schedule_constraints, _schedule_params, store_params


class _TruncatedGradient(_OnlineLinearModel):
    _algorithm = "truncated_gradient"
    _parameter_constraints = {
        **_schedule_constraints(),
        "gravity": [NON_NEGATIVE],
        "theta": [Interval(0, None, closed="left", allow_inf=True)],
        "period": [Interval(1, None, closed="left", integer=True)],
        "truncation": [Options("gradient", "rounding")],
    }

    def _global_clock(self):
        if self.gravity > 0 or self.truncation == "rounding":
            return "truncated gradient keeps the running sum of its truncations"
        return None

    def _kernel_params(self):
        return {
            **_schedule_params(self),
            "gravity": float(self.gravity),
            "theta": float(self.theta),
            "period": int(self.period),
            "rounding": int(self.truncation == "rounding"),
        }


_TG_DOC = (
    """
    Plain gradient steps; every ``period`` (K) steps the weights with |w| <= theta are pulled toward zero by the
    gravity K eta_t g (truncation='gradient', operator T1), or set to zero (truncation='rounding', the cruder T0
    baseline).  The lazy catch-up of absent coordinates is exact.  Langford, Li & Zhang, "Sparse Online Learning
    via Truncated Gradient", JMLR 2009.

    Parameters
    ----------"""
    + _SCHEDULE_DOC
    + """
    gravity : float, default=1e-5
        The g of the paper (L1-like strength); theta=inf, period=1 gives FOBOS-L1 with l1=gravity.
    theta : float, default=inf
        Only weights with |w| <= theta are truncated.
    period : int
        K: truncate every K steps (with K times the gravity).
    truncation : {'gradient', 'rounding'}, default='gradient'"""
)


class TruncatedGradientClassifier(OnlineClassifierMixin, _TruncatedGradient):
    __doc__ = (
        "Linear classifier trained online by truncated gradient.\n"
        + _TG_DOC
        + _COMMON_DOC
        + _CLASSIFIER_DOC
        + "\n"
        + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        eta0=1.0,
        learning_rate="invsqrt",
        gravity=1e-5,
        theta=np.inf,
        period=10,
        *,
        truncation="gradient",
        decay_steps=100_000,
        eta_final=None,
        loss="log_loss",
        fit_intercept=True,
        batch_size=1,
        max_iter=5,
        shuffle=True,
        random_state=None,
        warm_start=False,
        class_weight=None,
        n_jobs=1,
        parallel="outputs",
    ):
        store_params(self, locals())


class TruncatedGradientRegressor(OnlineRegressorMixin, _TruncatedGradient):
    __doc__ = (
        "Linear regression trained online by truncated gradient.\n" + _TG_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        eta0=0.05,
        learning_rate="invsqrt",
        gravity=1e-5,
        theta=np.inf,
        period=10,
        *,
        truncation="gradient",
        decay_steps=100_000,
        eta_final=None,
        loss="squared_error",
        fit_intercept=True,
        batch_size=1,
        max_iter=5,
        shuffle=True,
        random_state=None,
        warm_start=False,
        n_jobs=1,
        parallel="outputs",
    ):
        store_params(self, locals())


derive_defaults(TruncatedGradientClassifier)
derive_defaults(TruncatedGradientRegressor)
