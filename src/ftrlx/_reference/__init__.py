r"""Eager reference implementations (oracles) of the ftrlx kernels.

Slow, plain NumPy, written from the update equations: every round updates
*every* coordinate (absent ones with gradient 0), so comparing a kernel with
its oracle also tests the kernel's lazy bookkeeping. The tests in
``tests/test_kernels_vs_reference.py`` and ``tests/test_lazy_exact.py`` hold the
kernels to these oracles at ``rtol=1e-10``.

Semantics
=========

Input. ``X`` is CSR with float32 or float64 values and int32 or int64
indices. A row may repeat a column (the entries are summed, in the input's
precision) and list its columns in any order; an empty row is an ordinary
round with ``x = 0``. The oracle works on a float64, duplicate-free copy.

Targets and weights. Classification losses see ``y`` in {-1, +1}. A binary
classifier learns one model with ``classes_[1]`` as +1; positives are
weighted by ``class_weight[classes_[1]]`` and negatives by
``class_weight[classes_[0]]``. With K > 2 classes it learns K independent
one-vs-rest models; model k has ``classes_[k]`` as +1 with weight
``class_weight[classes_[k]]`` and every other row weight 1. Class weights
multiply the sample weights; a zero weight gives a zero gradient but the row
still counts as a round.

Losses (derivative ``dloss(p, y)`` in the decision value ``p``, clipped to
``+-1e12``)::

    log_loss        -y / (1 + exp(y p))          exact, evaluated branch-wise
    hinge           -y if y p <= 1 else 0
    modified_huber  0 if y p >= 1, -2 (1 - y p) y if y p >= -1, else -4 y
    squared_error   p - y                        (regressors, real y)

Rounds. Rows are consumed in the given order, ``batch_size`` at a time; the
last batch of a ``partial_fit`` call may be shorter and batches never span
two calls. For a batch B, every ``p_r = w . x_r + b`` uses the weights from
before the batch, and the round's gradient is the *mean* over the batch,
``g = (1/|B|) sum_r s_r dloss(p_r, y_r) x_r`` with ``s_r`` the row's weight;
the intercept's gradient is ``g_b = (1/|B|) sum_r s_r dloss(p_r, y_r)``. The
round counter ``t`` (``t_`` of the estimators) counts rounds, starting at 1
for the first, and persists across ``partial_fit`` calls. A coordinate is
*present* in a round when it is stored in one of the batch's rows.

Intercept. With ``fit_intercept`` the intercept is one more coordinate with
its own state, the same update and no L1/L2 penalty and no truncation (so
in AdaGrad's ``l1_form='rda'`` it is dual-averaged too, b = -eta0 u_b / H_b);
without it, it stays 0.

Schedules (FOBOS, truncated gradient, OGD): ``'constant'`` eta_t = eta0;
``'invsqrt'`` eta_t = eta0 / sqrt(t); ``'linear'`` eta_t falls linearly from
eta0 at t = 1 to ``eta_final`` (default eta0 / 100) at t = 1 + decay_steps,
then stays there.

Updates of round t, per coordinate i, with soft(v, a) = sign(v) max(|v| - a, 0):

FTRL-Proximal (``alpha, beta, l1, l2``; McMahan et al. 2013, Algorithm 1)::

    w_i = 0 if |z_i| <= l1 else -(z_i - sign(z_i) l1) / ((beta + sqrt(n_i)) / alpha + l2)
    sigma = (sqrt(n_i + g_i^2) - sqrt(n_i)) / alpha = g_i^2 / (alpha (sqrt(n_i + g_i^2) + sqrt(n_i)))
    z_i += g_i - sigma w_i ;  n_i += g_i^2

(Enhanced) L1-RDA (``l1, gamma, rho``; Xiao 2010), u_i the sum of gradients::

    w_i = -soft(u_i, l1 t + gamma rho sqrt(t)) / (gamma sqrt(t))      (0 before round 1)

FOBOS (``eta0``, schedule, ``l1, l2``; Duchi & Singer 2009)::

    w_i <- soft(w_i - eta_t g_i, eta_t l1) / (1 + eta_t l2)

Truncated gradient (``eta0``, schedule, ``gravity, theta, period``;
Langford, Li & Zhang 2009): w_i <- w_i - eta_t g_i; then, if t is a multiple
of ``period`` K, every w_i with |w_i| <= theta becomes
soft(w_i, K eta_t gravity) (``truncation='gradient'``, T1) or 0
(``'rounding'``, T0).

AdaGrad (``eta0, eps, eps_placement, initial_accumulator, l1, l2, l1_form``;
Duchi, Hazan & Singer 2011): n_i starts at ``initial_accumulator``,
n_i += g_i^2, then H_i = eps + sqrt(n_i) ('outside') or sqrt(n_i + eps)
('inside')::

    'fobos':  w_i <- soft(w_i - eta0 g_i / H_i, eta0 l1 / H_i) / (1 + eta0 l2 / H_i)
    'rda':    w_i = -eta0 soft(u_i, l1 t) / (H_i + eta0 l2 t)

With l1 = l2 = 0, eps = beta and eta0 = alpha this is FTRL with l1 = l2 = 0.

LazyAdam (``eta0, beta1, beta2, epsilon``; TensorFlow Addons), for the
*present* coordinates only (the others keep m, v and w)::

    m_i <- beta1 m_i + (1 - beta1) g_i ;  v_i <- beta2 v_i + (1 - beta2) g_i^2
    w_i <- w_i - eta0 sqrt(1 - beta2^t) / (1 - beta1^t) m_i / (sqrt(v_i) + epsilon)

OGD (``eta0``, schedule, ``l1, l2``; scikit-learn's SGD):
w_i <- (1 - eta_t l2) w_i - eta_t g_i for every coordinate; then, if l1 > 0,
the cumulative penalty of Tsuruoka et al. (2009): u += eta_t l1, and each
*present* coordinate is clipped towards zero, w_i <- max(0, w_i - (u + q_i))
if w_i > 0 or min(0, w_i + (u - q_i)) if w_i < 0, with q_i += (new - old).

Passive-aggressive (``C, variant``; Crammer et al. 2006), classification
only: the row's derivative is -y tau with l = max(0, 1 - y m), q = |x|^2
and tau = l / q ('pa'), min(C, l / q) ('pa1') or l / (q + 1 / (2 C))
('pa2'), 0 for an empty row ('pa2' excepted); then w_i <- w_i - g_i.

Use
===

>>> import numpy as np, scipy.sparse as sp
>>> from ftrlx._reference import fit_eager, decision_eager
>>> X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
>>> state = fit_eager("fobos", {"eta0": 0.5, "learning_rate": "constant"}, X[:2],
...                   np.array([1.0, -1.0]), loss="squared_error", fit_intercept=False)
>>> state.coef(), state.t
(array([ 0.5, -1. ]), 2)
>>> state = fit_eager("fobos", None, X[2:], np.array([0.0]), loss="squared_error", state=state)
>>> decision_eager(state, X[2:])
array([0.])
"""

from .losses import MAX_DLOSS, dloss, learning_rate, soft_threshold
from .oracles import ALGORITHMS, EagerState, canonical_csr, decision_eager, fit_eager


def estimators(algo):
    """The estimator classes of an algorithm of the registry: ``(classifier, regressor)``, the regressor None for
    an algorithm that has none."""
    import ftrlx
    from ftrlx._kernels.registry import ALGORITHMS as REGISTRY

    names = REGISTRY[algo].estimators
    return getattr(ftrlx, names[0]), getattr(ftrlx, names[1]) if len(names) > 1 else None


def losses(algo):
    """The losses an algorithm's estimators accept: classifier losses first, then ``'squared_error'`` if it has a
    regressor."""
    return [
        loss for cls in estimators(algo) if cls is not None for loss in cls._parameter_constraints["loss"][0].values
    ]


__all__ = [
    "ALGORITHMS",
    "MAX_DLOSS",
    "EagerState",
    "canonical_csr",
    "decision_eager",
    "dloss",
    "estimators",
    "fit_eager",
    "losses",
    "learning_rate",
    "soft_threshold",
]
