"""(Enhanced) L1-RDA: the classifier and the regressor (their math is ``ftrlx._kernels._rda``)."""

from .._docdefaults import derive_defaults
from ._base import _OnlineLinearModel
from ._classifier import OnlineClassifierMixin
from ._docs import _ATTRIBUTES_DOC, _CLASSIFIER_DOC, _COMMON_DOC
from ._regressor import OnlineRegressorMixin
from ._support import NON_NEGATIVE, POSITIVE, store_params


class _RDA(_OnlineLinearModel):
    _algorithm = "rda"
    _parameter_constraints = {
        "l1": [NON_NEGATIVE],
        "gamma": [POSITIVE],
        "rho": [NON_NEGATIVE],
    }

    def _kernel_params(self):
        return {"l1": float(self.l1), "gamma": float(self.gamma), "rho": float(self.rho)}


_RDA_DOC = """
    Keeps the running sum u_i of each coordinate's gradients and the global step t; the weight after t steps is
    0 if |u_i| <= l1 t + gamma rho sqrt(t), else -(u_i - sign(u_i)(l1 t + gamma rho sqrt(t))) / (gamma sqrt(t)).
    rho > 0 is the enhanced variant (more sparsity early on).  Xiao, "Dual Averaging Methods for Regularized
    Stochastic Learning and Online Optimization", JMLR 2010.

    Parameters
    ----------
    l1 : float, default=1e-4
        L1 strength: a coordinate stays zero while its average gradient is below l1.
    gamma : float
        Scale of the proximal term beta_t = gamma sqrt(t); the effective step is about 1 / (gamma sqrt(t)), so a
        good gamma grows with the scale of the rows (about mean squared row norm / 30).
    rho : float, default=0.0
        Enhanced-RDA sparsity boost (threshold l1 + gamma rho / sqrt(t))."""


class RDAClassifier(OnlineClassifierMixin, _RDA):
    __doc__ = (
        "Linear classifier trained online by (enhanced) L1-RDA.\n"
        + _RDA_DOC
        + _COMMON_DOC
        + _CLASSIFIER_DOC
        + "\n"
        + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        l1=1e-4,
        gamma=0.3,
        rho=0.0,
        *,
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


class RDARegressor(OnlineRegressorMixin, _RDA):
    __doc__ = (
        "Linear regression trained online by (enhanced) L1-RDA.\n" + _RDA_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        l1=1e-4,
        gamma=1.0,
        rho=0.0,
        *,
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


derive_defaults(RDAClassifier)
derive_defaults(RDARegressor)
