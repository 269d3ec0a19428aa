"""L1/L2 FOBOS: the classifier and the regressor (their math is ``ftrlx._kernels._fobos``)."""

from .._docdefaults import derive_defaults
from ._base import _OnlineLinearModel
from ._classifier import OnlineClassifierMixin
from ._docs import _ATTRIBUTES_DOC, _CLASSIFIER_DOC, _COMMON_DOC, _SCHEDULE_DOC
from ._regressor import OnlineRegressorMixin
from ._support import NON_NEGATIVE, _schedule_constraints, _schedule_params, store_params


class _FOBOS(_OnlineLinearModel):
    _algorithm = "fobos"
    _parameter_constraints = {
        **_schedule_constraints(),
        "l1": [NON_NEGATIVE],
        "l2": [NON_NEGATIVE],
    }

    def _global_clock(self):
        if self.l1 > 0 or self.l2 > 0:
            return "FOBOS keeps the running product and sum of its proximal steps (l1/l2)"
        return None

    def _kernel_params(self):
        return {**_schedule_params(self), "l1": float(self.l1), "l2": float(self.l2)}


_FOBOS_DOC = (
    """
    Each step is a gradient step followed by the proximal step of eta_t (l1 |w| + l2/2 w^2):
    w <- soft(w - eta_t g, eta_t l1) / (1 + eta_t l2).  Coordinates absent from a row are brought up to date exactly
    when next read (the composed prox is closed-form).  Duchi & Singer, "Efficient Online and Batch Learning using
    Forward Backward Splitting", JMLR 2009.

    Parameters
    ----------"""
    + _SCHEDULE_DOC
    + """
    l1 : float, default=1e-5
        L1 strength.
    l2 : float, default=0.0
        L2 strength."""
)


class FOBOSClassifier(OnlineClassifierMixin, _FOBOS):
    __doc__ = (
        "Linear classifier trained online by L1/L2 FOBOS.\n"
        + _FOBOS_DOC
        + _COMMON_DOC
        + _CLASSIFIER_DOC
        + "\n"
        + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        eta0=1.0,
        learning_rate="invsqrt",
        l1=1e-5,
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


class FOBOSRegressor(OnlineRegressorMixin, _FOBOS):
    __doc__ = "Linear regression trained online by L1/L2 FOBOS.\n" + _FOBOS_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC

    def __init__(
        self,
        eta0=0.05,
        learning_rate="invsqrt",
        l1=1e-5,
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


derive_defaults(FOBOSClassifier)
derive_defaults(FOBOSRegressor)
