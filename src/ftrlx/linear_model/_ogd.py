"""Online gradient descent, the baseline: the classifier and the regressor (their math is ``ftrlx._kernels._ogd``)."""

from .._docdefaults import derive_defaults
from ._base import _OnlineLinearModel
from ._classifier import OnlineClassifierMixin
from ._docs import _ATTRIBUTES_DOC, _CLASSIFIER_DOC, _COMMON_DOC, _SCHEDULE_DOC
from ._regressor import OnlineRegressorMixin
from ._support import NON_NEGATIVE, _schedule_constraints, _schedule_params, store_params


class _OGD(_OnlineLinearModel):
    _algorithm = "ogd"
    _parameter_constraints = {
        **_schedule_constraints(),
        "l1": [NON_NEGATIVE],
        "l2": [NON_NEGATIVE],
    }

    def _more_validate_params(self):
        top = max(self.eta0, self.eta0 if self.eta_final is None else self.eta_final)
        if top * self.l2 >= 1.0:
            raise ValueError(
                f"{type(self).__name__}: eta0 * l2 = {top * self.l2:g} must be below 1 (the weight decay factor "
                "1 - eta * l2 must stay positive); lower eta0 or l2."
            )

    def _merge_kinds(self):
        slots, islots, averaged = super()._merge_kinds()
        # the cumulative L1 penalty clips each copy's weight by the whole pending penalty: summed, n copies would
        # apply it n times
        return slots, islots, averaged or self.l1 > 0

    def _global_clock(self):
        if self.l1 > 0 or self.l2 > 0:
            return "OGD keeps the running L2 scale and cumulative L1 penalty"
        return None

    def _kernel_params(self):
        return {**_schedule_params(self), "l1": float(self.l1), "l2": float(self.l2)}


_OGD_DOC = (
    """
    The plain baseline, scikit-learn's SGD: w <- (1 - eta_t l2) w - eta_t g, with L1 by the cumulative penalty of
    Tsuruoka et al. (2009) applied to the coordinates of each row (approximate as an L1 method: use FTRL, RDA or
    FOBOS for exact L1).  The L2 decay of absent coordinates is applied lazily and exactly.

    Parameters
    ----------"""
    + _SCHEDULE_DOC
    + """
    l1 : float, default=0.0
    l2 : float, default=0.0"""
)


class OGDClassifier(OnlineClassifierMixin, _OGD):
    __doc__ = (
        "Linear classifier trained by online gradient descent.\n"
        + _OGD_DOC
        + _COMMON_DOC
        + _CLASSIFIER_DOC
        + "\n"
        + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        eta0=1.0,
        learning_rate="invsqrt",
        l1=0.0,
        l2=0.0,
        *,
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


class OGDRegressor(OnlineRegressorMixin, _OGD):
    __doc__ = (
        "Linear regression trained by online gradient descent.\n" + _OGD_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        eta0=0.05,
        learning_rate="invsqrt",
        l1=0.0,
        l2=0.0,
        *,
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


derive_defaults(OGDClassifier)
derive_defaults(OGDRegressor)
