"""AdaGrad with an L1/L2 term: the classifier and the regressor (their math is ``ftrlx._kernels._adagrad``)."""

from .._docdefaults import derive_defaults
from .._validation import Options
from ._base import _OnlineLinearModel
from ._classifier import OnlineClassifierMixin
from ._docs import _ATTRIBUTES_DOC, _CLASSIFIER_DOC, _COMMON_DOC
from ._regressor import OnlineRegressorMixin
from ._support import NON_NEGATIVE, POSITIVE, store_params


class _AdaGrad(_OnlineLinearModel):
    _algorithm = "adagrad"
    _parameter_constraints = {
        "eta0": [POSITIVE],
        "eps": [NON_NEGATIVE],
        "eps_placement": [Options("outside", "inside")],
        "initial_accumulator": [NON_NEGATIVE],
        "l1": [NON_NEGATIVE],
        "l2": [NON_NEGATIVE],
        "l1_form": [Options("fobos", "rda")],
    }

    def _merge_kinds(self):
        slots, islots, averaged = super()._merge_kinds()
        if self.l1_form == "rda":
            slots = ("value",) + slots[1:]  # the sum of gradients of dual averaging, not a stored weight
        return slots, islots, averaged

    def _kernel_params(self):
        return {
            "eta0": float(self.eta0),
            "eps": float(self.eps),
            "eps_inside": int(self.eps_placement == "inside"),
            "n0": float(self.initial_accumulator),
            "l1": float(self.l1),
            "l2": float(self.l2),
            "rda_form": int(self.l1_form == "rda"),
        }


_ADAGRAD_DOC = """
    Per-coordinate rate eta0 / H_i with H_i = eps + sqrt(n_i) (eps_placement='outside', PyTorch's placement) or
    sqrt(n_i + eps) ('inside'), n_i = initial_accumulator + sum of squared gradients.  Optional L1/L2 in composite
    mirror-descent form (l1_form='fobos': w <- soft(w - eta0 g/H, eta0 l1/H) / (1 + eta0 l2/H), exact lazy catch-up)
    or primal-dual form ('rda': w = -eta0 soft(u, l1 t) / (H + eta0 l2 t); the intercept is dual-averaged too).
    Duchi, Hazan & Singer, JMLR 2011.
    With l1 = l2 = 0, eps = beta and eta0 = alpha it is exactly FTRL-Proximal with l1 = l2 = 0.

    Parameters
    ----------
    eta0 : float, default=0.1
    eps : float, default=1e-10
        Added to sqrt(n) (or to n, see eps_placement); 0 is allowed.
    eps_placement : {'outside', 'inside'}, default='outside'
    initial_accumulator : float, default=0.0
        Starting value of n_i (PyTorch 0, Keras 0.1).
    l1 : float, default=0.0
    l2 : float, default=0.0
    l1_form : {'fobos', 'rda'}, default='fobos'"""


class AdaGradClassifier(OnlineClassifierMixin, _AdaGrad):
    __doc__ = (
        "Linear classifier trained online by diagonal AdaGrad.\n"
        + _ADAGRAD_DOC
        + _COMMON_DOC
        + _CLASSIFIER_DOC
        + "\n"
        + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        eta0=0.1,
        eps=1e-10,
        *,
        eps_placement="outside",
        initial_accumulator=0.0,
        l1=0.0,
        l2=0.0,
        l1_form="fobos",
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


class AdaGradRegressor(OnlineRegressorMixin, _AdaGrad):
    __doc__ = (
        "Linear regression trained online by diagonal AdaGrad.\n" + _ADAGRAD_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    )

    def __init__(
        self,
        eta0=0.1,
        eps=1e-10,
        *,
        eps_placement="outside",
        initial_accumulator=0.0,
        l1=0.0,
        l2=0.0,
        l1_form="fobos",
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


derive_defaults(AdaGradClassifier)
derive_defaults(AdaGradRegressor)
