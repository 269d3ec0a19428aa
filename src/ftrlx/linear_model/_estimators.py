"""The fourteen public estimators: one classifier and one regressor per algorithm.

Each algorithm class below names its hyper-parameters (paper names), their constraints and how they map onto the
kernel's parameter struct; the classifier/regressor mixins in ``_base`` do everything else.  Note that ``alpha``
here is FTRL's learning-rate scale, not scikit-learn's penalty strength; penalties are always ``l1``/``l2``.
"""

import numpy as np

from .._docdefaults import derive_defaults
from .._validation import Interval, Options
from ._base import (
    NON_NEGATIVE,
    POSITIVE,
    OnlineClassifierMixin,
    OnlineRegressorMixin,
    _OnlineLinearModel,
    _schedule_constraints,
    _schedule_params,
)

_COMMON_DOC = """
    loss : str
        Classifiers: 'log_loss' (logistic regression, default; enables ``predict_proba``), 'hinge' (linear SVM) or
        'modified_huber'.  Regressors: 'squared_error'.
    fit_intercept : bool, default=True
        Learn an unregularised intercept with its own optimizer state.
    batch_size : int, default=1
        Rows per step: the gradients of a batch are computed at the batch-start weights and their mean is applied
        once per coordinate.  1 is classic online learning.
    max_iter : int, default=5
        Passes over the data in ``fit`` (``partial_fit`` always makes one pass).
    shuffle : bool, default=True
        Shuffle the rows before each pass of ``fit`` (``partial_fit`` keeps the given order).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling.
    warm_start : bool, default=False
        Let ``fit`` continue from the current state instead of starting over.
    n_jobs : int or None, default=1
        Threads a training call uses.  None means 1 (unless inside a ``joblib.parallel_config`` context), -1 every
        core, -2 every core but one, and so on, as in scikit-learn.  1 trains exactly as without threads.
    parallel : {'outputs', 'hogwild', 'deterministic'}, default='outputs'
        What the ``n_jobs`` threads share.  'outputs': the one-vs-rest classes train concurrently, each on its own
        thread; the model is bitwise the one of ``n_jobs=1`` (a model with one output uses one thread).
        'hogwild': the rows of each call are split into ``n_jobs`` parts trained at once on the shared state
        without locks (fastest; not reproducible; refused for FOBOS, truncated gradient and OGD with a
        regulariser, whose lazy catch-up keeps global clocks).  'deterministic': each thread trains its part of
        every round of rows on a private copy of the columns it touches, and the copies are merged after every
        round (the changes of each accumulator summed); bitwise the same model run after run for a fixed
        ``n_jobs`` and the same calls.  See the guide page "Training over many machines"."""

_CLASSIFIER_DOC = """
    class_weight : dict, 'balanced' or None, default=None
        Weights multiplied into the sample weights ('balanced' only in ``fit``).  One-vs-rest: positives of class k
        get ``class_weight[k]``, negatives 1."""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features); (n_features,) for regressors
        Weights at the current step, computed from the optimizer state when read.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
        Classifiers only.
    n_features_in_ : int
    t_ : int
        Optimizer steps taken (one per batch), kept across ``partial_fit`` calls.
    n_iter_ : int
        Passes made by the last call.
    n_nonzero_ : int
        Number of non-zero weights."""


# ---------------------------------------------------------------- FTRL-Proximal


class _FTRL(_OnlineLinearModel):
    _algorithm = "ftrl"
    _parameter_constraints = {
        **_OnlineLinearModel._parameter_constraints,
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
    _parameter_constraints = {**_FTRL._parameter_constraints, **OnlineClassifierMixin._parameter_constraints}

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
        self.alpha, self.beta, self.l1, self.l2 = alpha, beta, l1, l2
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start, self.class_weight = (
            shuffle,
            random_state,
            warm_start,
            class_weight,
        )
        self.n_jobs, self.parallel = n_jobs, parallel


class FTRLRegressor(OnlineRegressorMixin, _FTRL):
    __doc__ = (
        "Linear regression (squared error) trained online by FTRL-Proximal.\n"
        + _FTRL_DOC
        + _COMMON_DOC
        + "\n"
        + _ATTRIBUTES_DOC
    )
    _parameter_constraints = {**_FTRL._parameter_constraints, **OnlineRegressorMixin._parameter_constraints}

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
        self.alpha, self.beta, self.l1, self.l2 = alpha, beta, l1, l2
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start = shuffle, random_state, warm_start
        self.n_jobs, self.parallel = n_jobs, parallel


# ---------------------------------------------------------------- L1-RDA


class _RDA(_OnlineLinearModel):
    _algorithm = "rda"
    _parameter_constraints = {
        **_OnlineLinearModel._parameter_constraints,
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
    _parameter_constraints = {**_RDA._parameter_constraints, **OnlineClassifierMixin._parameter_constraints}

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
        self.l1, self.gamma, self.rho = l1, gamma, rho
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start, self.class_weight = (
            shuffle,
            random_state,
            warm_start,
            class_weight,
        )
        self.n_jobs, self.parallel = n_jobs, parallel


class RDARegressor(OnlineRegressorMixin, _RDA):
    __doc__ = (
        "Linear regression trained online by (enhanced) L1-RDA.\n" + _RDA_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    )
    _parameter_constraints = {**_RDA._parameter_constraints, **OnlineRegressorMixin._parameter_constraints}

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
        self.l1, self.gamma, self.rho = l1, gamma, rho
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start = shuffle, random_state, warm_start
        self.n_jobs, self.parallel = n_jobs, parallel


# ---------------------------------------------------------------- L1/L2 FOBOS

_SCHEDULE_DOC = """
    eta0 : float
        Initial learning rate.  One global rate serves every coordinate, so its best value follows the scale of the
        rows: about 20 / (mean squared row norm) is a good start (1.0, the classifiers' default, suits rows of
        about twenty unit features, as in hashed click logs; L2-normalised text rows want about 20).  Per-coordinate learners (FTRL, AdaGrad)
        need no such scaling.
    learning_rate : {'constant', 'invsqrt', 'linear'}, default='invsqrt'
        eta_t = eta0, eta0 / sqrt(t), or a linear decay from eta0 to eta_final over decay_steps steps, then constant.
    decay_steps : int, default=100000
        Length of the linear decay.
    eta_final : float or None, default=None
        Final rate of the linear decay (None: eta0 / 100)."""


class _FOBOS(_OnlineLinearModel):
    _algorithm = "fobos"
    _parameter_constraints = {
        **_OnlineLinearModel._parameter_constraints,
        **_schedule_constraints(),
        "l1": [NON_NEGATIVE],
        "l2": [NON_NEGATIVE],
    }

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
    _parameter_constraints = {**_FOBOS._parameter_constraints, **OnlineClassifierMixin._parameter_constraints}

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
        self.eta0, self.learning_rate, self.l1, self.l2 = eta0, learning_rate, l1, l2
        self.decay_steps, self.eta_final = decay_steps, eta_final
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start, self.class_weight = (
            shuffle,
            random_state,
            warm_start,
            class_weight,
        )
        self.n_jobs, self.parallel = n_jobs, parallel


class FOBOSRegressor(OnlineRegressorMixin, _FOBOS):
    __doc__ = "Linear regression trained online by L1/L2 FOBOS.\n" + _FOBOS_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    _parameter_constraints = {**_FOBOS._parameter_constraints, **OnlineRegressorMixin._parameter_constraints}

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
        self.eta0, self.learning_rate, self.l1, self.l2 = eta0, learning_rate, l1, l2
        self.decay_steps, self.eta_final = decay_steps, eta_final
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start = shuffle, random_state, warm_start
        self.n_jobs, self.parallel = n_jobs, parallel


# ---------------------------------------------------------------- Truncated gradient


class _TruncatedGradient(_OnlineLinearModel):
    _algorithm = "truncated_gradient"
    _parameter_constraints = {
        **_OnlineLinearModel._parameter_constraints,
        **_schedule_constraints(),
        "gravity": [NON_NEGATIVE],
        "theta": [Interval(0, None, closed="left", allow_inf=True)],
        "period": [Interval(1, None, closed="left", integer=True)],
        "truncation": [Options("gradient", "rounding")],
    }

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
    _parameter_constraints = {
        **_TruncatedGradient._parameter_constraints,
        **OnlineClassifierMixin._parameter_constraints,
    }

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
        self.eta0, self.learning_rate, self.gravity, self.theta, self.period = (
            eta0,
            learning_rate,
            gravity,
            theta,
            period,
        )
        self.truncation, self.decay_steps, self.eta_final = truncation, decay_steps, eta_final
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start, self.class_weight = (
            shuffle,
            random_state,
            warm_start,
            class_weight,
        )
        self.n_jobs, self.parallel = n_jobs, parallel


class TruncatedGradientRegressor(OnlineRegressorMixin, _TruncatedGradient):
    __doc__ = (
        "Linear regression trained online by truncated gradient.\n" + _TG_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    )
    _parameter_constraints = {
        **_TruncatedGradient._parameter_constraints,
        **OnlineRegressorMixin._parameter_constraints,
    }

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
        self.eta0, self.learning_rate, self.gravity, self.theta, self.period = (
            eta0,
            learning_rate,
            gravity,
            theta,
            period,
        )
        self.truncation, self.decay_steps, self.eta_final = truncation, decay_steps, eta_final
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start = shuffle, random_state, warm_start
        self.n_jobs, self.parallel = n_jobs, parallel


# ---------------------------------------------------------------- AdaGrad


class _AdaGrad(_OnlineLinearModel):
    _algorithm = "adagrad"
    _parameter_constraints = {
        **_OnlineLinearModel._parameter_constraints,
        "eta0": [POSITIVE],
        "eps": [NON_NEGATIVE],
        "eps_placement": [Options("outside", "inside")],
        "initial_accumulator": [NON_NEGATIVE],
        "l1": [NON_NEGATIVE],
        "l2": [NON_NEGATIVE],
        "l1_form": [Options("fobos", "rda")],
    }

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
    _parameter_constraints = {**_AdaGrad._parameter_constraints, **OnlineClassifierMixin._parameter_constraints}

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
        self.eta0, self.eps, self.eps_placement, self.initial_accumulator = (
            eta0,
            eps,
            eps_placement,
            initial_accumulator,
        )
        self.l1, self.l2, self.l1_form = l1, l2, l1_form
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start, self.class_weight = (
            shuffle,
            random_state,
            warm_start,
            class_weight,
        )
        self.n_jobs, self.parallel = n_jobs, parallel


class AdaGradRegressor(OnlineRegressorMixin, _AdaGrad):
    __doc__ = (
        "Linear regression trained online by diagonal AdaGrad.\n" + _ADAGRAD_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    )
    _parameter_constraints = {**_AdaGrad._parameter_constraints, **OnlineRegressorMixin._parameter_constraints}

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
        self.eta0, self.eps, self.eps_placement, self.initial_accumulator = (
            eta0,
            eps,
            eps_placement,
            initial_accumulator,
        )
        self.l1, self.l2, self.l1_form = l1, l2, l1_form
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start = shuffle, random_state, warm_start
        self.n_jobs, self.parallel = n_jobs, parallel


# ---------------------------------------------------------------- LazyAdam


class _LazyAdam(_OnlineLinearModel):
    _algorithm = "lazy_adam"
    _parameter_constraints = {
        **_OnlineLinearModel._parameter_constraints,
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
    _parameter_constraints = {**_LazyAdam._parameter_constraints, **OnlineClassifierMixin._parameter_constraints}

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
        self.eta0, self.beta1, self.beta2, self.epsilon = eta0, beta1, beta2, epsilon
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start, self.class_weight = (
            shuffle,
            random_state,
            warm_start,
            class_weight,
        )
        self.n_jobs, self.parallel = n_jobs, parallel


class LazyAdamRegressor(OnlineRegressorMixin, _LazyAdam):
    __doc__ = "Linear regression trained online by LazyAdam.\n" + _ADAM_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    _parameter_constraints = {**_LazyAdam._parameter_constraints, **OnlineRegressorMixin._parameter_constraints}

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
        self.eta0, self.beta1, self.beta2, self.epsilon = eta0, beta1, beta2, epsilon
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start = shuffle, random_state, warm_start
        self.n_jobs, self.parallel = n_jobs, parallel


# ---------------------------------------------------------------- OGD (baseline)


class _OGD(_OnlineLinearModel):
    _algorithm = "ogd"
    _parameter_constraints = {
        **_OnlineLinearModel._parameter_constraints,
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
    _parameter_constraints = {**_OGD._parameter_constraints, **OnlineClassifierMixin._parameter_constraints}

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
        self.eta0, self.learning_rate, self.l1, self.l2 = eta0, learning_rate, l1, l2
        self.decay_steps, self.eta_final = decay_steps, eta_final
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start, self.class_weight = (
            shuffle,
            random_state,
            warm_start,
            class_weight,
        )
        self.n_jobs, self.parallel = n_jobs, parallel


class OGDRegressor(OnlineRegressorMixin, _OGD):
    __doc__ = (
        "Linear regression trained by online gradient descent.\n" + _OGD_DOC + _COMMON_DOC + "\n" + _ATTRIBUTES_DOC
    )
    _parameter_constraints = {**_OGD._parameter_constraints, **OnlineRegressorMixin._parameter_constraints}

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
        self.eta0, self.learning_rate, self.l1, self.l2 = eta0, learning_rate, l1, l2
        self.decay_steps, self.eta_final = decay_steps, eta_final
        self.loss, self.fit_intercept, self.batch_size, self.max_iter = loss, fit_intercept, batch_size, max_iter
        self.shuffle, self.random_state, self.warm_start = shuffle, random_state, warm_start
        self.n_jobs, self.parallel = n_jobs, parallel


# every documented default is the signature's: the class templates above are shared between a classifier and a
# regressor whose defaults may differ (eta0), so the docstrings take them from the signatures
for _cls in (
    FTRLClassifier,
    FTRLRegressor,
    RDAClassifier,
    RDARegressor,
    FOBOSClassifier,
    FOBOSRegressor,
    TruncatedGradientClassifier,
    TruncatedGradientRegressor,
    AdaGradClassifier,
    AdaGradRegressor,
    LazyAdamClassifier,
    LazyAdamRegressor,
    OGDClassifier,
    OGDRegressor,
):
    derive_defaults(_cls)
del _cls
