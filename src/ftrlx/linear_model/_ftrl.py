"""FTRL-Proximal: the classifier and the regressor (their math is ``ftrlx._kernels._ftrl``)."""

from .._docdefaults import derive_defaults
from ._base import _OnlineLinearModel
from ._classifier import OnlineClassifierMixin
from ._docs import _ATTRIBUTES_DOC, _CLASSIFIER_DOC, _COMMON_DOC
from ._regressor import OnlineRegressorMixin
from ._support import NON_NEGATIVE, POSITIVE, store_params


class _FTRL(_OnlineLinearModel):
    _algorithm = "ftrl"
    _parameter_constraints = {
        "alpha": [POSITIVE],
        "beta": [NON_NEGATIVE],
        "l1": [NON_NEGATIVE],
        "l2": [NON_NEGATIVE],
    }

    def _kernel_params(self):
        return {"alpha": float(self.alpha), "beta": float(self.beta), "l1": float(self.l1), "l2": float(self.l2)}


_FTRL_DOC = """
    Per coordinate i the model keeps z_i and n_i (sum of squared gradients); its weight is
    w_i = 0 if |z_i| <= l1, else -(z_i - sign(z_i) l1) / ((beta + sqrt(n_i)) / alpha + l2), computed when read, so
    absent coordinates cost nothing and L1/L2 are exact.  McMahan et al., "Ad Click Prediction: a View from the
    Trenches", KDD 2013, Algorithm 1.

    Parameters
    ----------
    alpha : float, default=0.1
        Learning-rate scale: the per-coordinate rate is alpha / (beta + sqrt(n_i)).
    beta : float, default=1.0
        Learning-rate smoothing (the paper: "beta = 1 is usually good enough").
    l1 : float, default=1.0
        L1 strength (threshold on |z|); controls sparsity.
    l2 : float, default=1.0
        L2 strength (penalty l2/2 ||w||^2, the paper's convention; TensorFlow's l2 is half of it)."""


class FTRLClassifier(OnlineClassifierMixin, _FTRL):
    __doc__ = (
        "Logistic regression (or a linear SVM) trained online by FTRL-Proximal.\n"
        + _FTRL_DOC
        + _COMMON_DOC
        + _CLASSIFIER_DOC
        + "\n"
        + _ATTRIBUTES_DOC
        + """

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from ftrlx import FTRLClassifier
    >>> X = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1]], dtype=float))
    >>> y = np.array([1, 0, 1, 0])
    >>> clf = FTRLClassifier(alpha=0.5, l1=0.0, random_state=0).fit(X, y)
    >>> clf.predict(X)
    array([1, 0, 1, 0])
    >>> clf.partial_fit(X, y).t_   # 5 passes of fit, then one more: one step per row
    24
    """
    )

    def __init__(
        self,
        alpha=0.1,
        beta=1.0,
        l1=1.0,
        l2=1.0,
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


class FTRLRegressor(OnlineRegressorMixin, _FTRL):
    __doc__ = (
        "Linear regression (squared error) trained online by FTRL-Proximal.\n"
        + _FTRL_DOC
        + _COMMON_DOC
        + "\n"
        + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        alpha=0.1,
        beta=1.0,
        l1=1.0,
        l2=1.0,
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


derive_defaults(FTRLClassifier)
derive_defaults(FTRLRegressor)
