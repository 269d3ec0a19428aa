"""LazyAdam: the classifier and the regressor (their math is ``ftrlx._kernels._lazy_adam``)."""

from .._docdefaults import derive_defaults
from .._validation import Interval
from ._base import _OnlineLinearModel
from ._classifier import OnlineClassifierMixin
from ._docs import _ATTRIBUTES_DOC, _CLASSIFIER_DOC, _COMMON_DOC
from ._regressor import OnlineRegressorMixin
from ._support import NON_NEGATIVE, POSITIVE, store_params


class _LazyAdam(_OnlineLinearModel):
    _algorithm = "lazy_adam"
    _parameter_constraints = {
        "eta0": [POSITIVE],
        "beta1": [Interval(0, 1, closed="left")],
        "beta2": [Interval(0, 1, closed="left")],
        "epsilon": [NON_NEGATIVE],
    }

    def _kernel_params(self):
        return {
            "eta0": float(self.eta0),
            "beta1": float(self.beta1),
            "beta2": float(self.beta2),
            "epsilon": float(self.epsilon),
        }


_ADAM_DOC = """
    Adam restricted to the coordinates present in each batch (TensorFlow Addons' LazyAdam): only they update their
    moments m, v and weight; absent coordinates are untouched, and the bias correction uses the global step t:
    w <- w - eta0 sqrt(1 - beta2^t) / (1 - beta1^t) m / (sqrt(v) + epsilon).  This is a different algorithm from
    Adam, not a lazy implementation of it: a coordinate first seen late takes a larger first step.  A value stored
    in X counts as present even when it is 0 (an explicit zero of a sparse matrix): its coordinate's moments decay
    and its weight keeps moving with the momentum, as in TensorFlow.  Drop such entries first
    (``X.eliminate_zeros()``) for them to count as absent.  (The other algorithms give the same result either way,
    up to rounding, except OGD with l1 > 0, whose penalty applies to the coordinates present.)

    Parameters
    ----------
    eta0 : float, default=0.001
    beta1 : float, default=0.9
    beta2 : float, default=0.999
    epsilon : float, default=1e-7
        Added to sqrt(v) without bias correction (the "epsilon hat" of Kingma & Ba, TensorFlow's placement)."""


class LazyAdamClassifier(OnlineClassifierMixin, _LazyAdam):
    __doc__ = (
        "Linear classifier trained online by LazyAdam.\n"
        + _ADAM_DOC
        + _COMMON_DOC
        + _CLASSIFIER_DOC
        + "\n"
        + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        eta0=0.001,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-7,
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


class LazyAdamRegressor(OnlineRegressorMixin, _LazyAdam):
    __doc__ = "Linear regression trained online by LazyAdam.\n" + _ADAM_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC

    def __init__(
        self,
        eta0=0.001,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-7,
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


derive_defaults(LazyAdamClassifier)
derive_defaults(LazyAdamRegressor)
