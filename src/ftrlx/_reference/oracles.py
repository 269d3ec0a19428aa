"""Eager pure-NumPy twins of the Cython kernels.

Each class below keeps the state of one algorithm for ``d`` features plus the
intercept, stored as one extra coordinate at index ``d`` whose regularisation
strength is zero. ``weights()`` returns the current iterate for all ``d + 1``
coordinates and ``step(g, present, t)`` performs round ``t`` on *every*
coordinate: coordinates that are absent from the round simply have
``g == 0``. There is no last-touch bookkeeping, no prefix sum and no closed-form
catch-up, so comparing a lazy kernel with these classes tests its laziness.
Two rules are defined on the present coordinates only and use ``present``
for exactly that: LazyAdam's update and OGD's cumulative L1 penalty.
"""

import numpy as np
import scipy.sparse as sp

from .losses import dloss, learning_rate, soft_threshold

__all__ = ["ALGORITHMS", "EagerState", "canonical_csr", "decision_eager", "fit_eager"]


def _safe_divide(num, den):
    """``num / den`` with 0 wherever ``num == 0`` (so 0/0 gives 0)."""
    out = np.zeros(np.broadcast(num, den).shape)
    nz = np.broadcast_to(num != 0, out.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.broadcast_to(num, out.shape) / np.broadcast_to(den, out.shape)
    out[nz] = q[nz]
    return out


class _Algorithm:
    """Shared plumbing: hyper-parameters and the regularisation mask."""

    defaults = {}

    def __init__(self, params, d):
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown parameters {sorted(unknown)}")
        self.p = {**self.defaults, **params}
        self.d = d
        # 1 on the features, 0 on the intercept: the intercept is never regularised.
        self.reg = np.ones(d + 1)
        self.reg[d] = 0.0


class _Primal(_Algorithm):
    """An algorithm whose state includes the weights themselves."""

    def __init__(self, params, d):
        super().__init__(params, d)
        self.w = np.zeros(d + 1)

    def weights(self):
        return self.w.copy()


class FTRL(_Algorithm):
    """FTRL-Proximal (McMahan et al. 2013, Algorithm 1), per-coordinate z and n."""

    defaults = {"alpha": 0.1, "beta": 1.0, "l1": 0.0, "l2": 0.0}

    def __init__(self, params, d):
        super().__init__(params, d)
        self.z = np.zeros(d + 1)
        self.n = np.zeros(d + 1)

    def weights(self):
        p = self.p
        l1 = p["l1"] * self.reg
        den = (p["beta"] + np.sqrt(self.n)) / p["alpha"] + p["l2"] * self.reg
        num = np.where(np.abs(self.z) <= l1, 0.0, -(self.z - np.sign(self.z) * l1))
        return _safe_divide(num, den)

    def step(self, g, present, t):
        w = self.weights()
        # sigma = (sqrt(n + g^2) - sqrt(n)) / alpha, in the cancellation-free form.
        sigma = _safe_divide(g * g, self.p["alpha"] * (np.sqrt(self.n + g * g) + np.sqrt(self.n)))
        self.z += g - sigma * w
        self.n += g * g


class RDA(_Algorithm):
    """(Enhanced) L1-RDA (Xiao 2010) with h(w) = |w|^2 / 2 and beta_t = gamma sqrt(t).

    w_i = -soft(u_i, l1 t + gamma rho sqrt(t)) / (gamma sqrt(t)),
    where u is the sum of all gradients so far and t the number of rounds.
    """

    defaults = {"l1": 0.0, "gamma": 1.0, "rho": 0.0}

    def __init__(self, params, d):
        super().__init__(params, d)
        self.u = np.zeros(d + 1)
        self.t = 0

    def weights(self):
        p, t = self.p, self.t
        if t == 0:
            return np.zeros(self.d + 1)
        thr = (p["l1"] * t + p["gamma"] * p["rho"] * np.sqrt(t)) * self.reg
        return -soft_threshold(self.u, thr) / (p["gamma"] * np.sqrt(t))

    def step(self, g, present, t):
        self.u += g
        self.t = t


class FOBOS(_Primal):
    """FOBOS (Duchi & Singer 2009): gradient step, then the elastic-net prox.

    w <- soft(w - eta_t g, eta_t l1) / (1 + eta_t l2).
    """

    defaults = {
        "eta0": 0.1,
        "learning_rate": "invsqrt",
        "decay_steps": 100_000,
        "eta_final": None,
        "l1": 0.0,
        "l2": 0.0,
    }

    def step(self, g, present, t):
        eta = learning_rate(self.p, t)
        v = self.w - eta * g
        self.w = soft_threshold(v, eta * self.p["l1"] * self.reg) / (1.0 + eta * self.p["l2"] * self.reg)


class TruncatedGradient(_Primal):
    """Truncated gradient (Langford, Li & Zhang 2009).

    A plain SGD step every round; every ``period``-th round the weights with
    |w| <= theta are additionally truncated: towards 0 by ``period * eta_t *
    gravity`` (``truncation='gradient'``, the operator T1) or set to 0
    (``truncation='rounding'``, the operator T0).
    """

    defaults = {
        "eta0": 0.1,
        "learning_rate": "invsqrt",
        "decay_steps": 100_000,
        "eta_final": None,
        "gravity": 0.0,
        "theta": np.inf,
        "period": 1,
        "truncation": "gradient",
    }

    def step(self, g, present, t):
        p = self.p
        eta = learning_rate(p, t)
        self.w = self.w - eta * g
        if t % p["period"] == 0:
            hit = (np.abs(self.w) <= p["theta"]) & (self.reg > 0)
            if p["truncation"] == "gradient":
                self.w[hit] = soft_threshold(self.w[hit], p["period"] * eta * p["gravity"])
            elif p["truncation"] == "rounding":
                self.w[hit] = 0.0
            else:
                raise ValueError(f"unknown truncation {p['truncation']!r}")


class AdaGrad(_Algorithm):
    """Diagonal AdaGrad (Duchi, Hazan & Singer 2011) with an L1/L2 term.

    n <- n + g^2 (n starts at ``initial_accumulator``), and
    H = eps + sqrt(n) (``eps_placement='outside'``) or sqrt(n + eps) ('inside').

    ``l1_form='fobos'`` (composite mirror descent)::

        w <- soft(w - eta g / H, eta l1 / H) / (1 + eta l2 / H)

    ``l1_form='rda'`` (primal-dual), with u the sum of gradients::

        w = -eta soft(u, l1 t) / (H + eta l2 t)
    """

    defaults = {
        "eta0": 0.1,
        "eps": 1e-10,
        "eps_placement": "outside",
        "initial_accumulator": 0.0,
        "l1": 0.0,
        "l2": 0.0,
        "l1_form": "fobos",
    }

    def __init__(self, params, d):
        super().__init__(params, d)
        self.n = np.full(d + 1, float(self.p["initial_accumulator"]))
        self.w = np.zeros(d + 1)  # l1_form='fobos'
        self.u = np.zeros(d + 1)  # l1_form='rda'
        self.t = 0

    def _h(self):
        if self.p["eps_placement"] == "outside":
            return self.p["eps"] + np.sqrt(self.n)
        return np.sqrt(self.n + self.p["eps"])

    def weights(self):
        if self.p["l1_form"] == "fobos":
            return self.w.copy()
        p = self.p
        num = p["eta0"] * soft_threshold(self.u, p["l1"] * self.t * self.reg)
        return -_safe_divide(num, self._h() + p["eta0"] * p["l2"] * self.t * self.reg)

    def step(self, g, present, t):
        p = self.p
        self.n += g * g
        self.t = t
        if p["l1_form"] == "rda":
            self.u += g
            return
        h = self._h()
        v = self.w - _safe_divide(p["eta0"] * g, h)
        # h == 0 only where eps == 0 and n == 0, i.e. at a coordinate that has
        # never had a gradient; there w == v == 0 and the prox keeps it at 0.
        live = h > 0
        rate = p["eta0"] * self.reg[live] / h[live]
        self.w = v
        self.w[live] = soft_threshold(v[live], rate * p["l1"]) / (1.0 + rate * p["l2"])


class LazyAdam(_Primal):
    """LazyAdam (TensorFlow Addons): Adam on the present coordinates only.

    With the global round t, for each present coordinate::

        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        w <- w - eta0 sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon)

    Absent coordinates keep m, v and w unchanged. A coordinate whose
    gradients have all been zero (m == v == 0) does not move, also when
    epsilon == 0.
    """

    defaults = {"eta0": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}

    def __init__(self, params, d):
        super().__init__(params, d)
        self.m = np.zeros(d + 1)
        self.v = np.zeros(d + 1)

    def step(self, g, present, t):
        p = self.p
        i = present
        self.m[i] = p["beta1"] * self.m[i] + (1.0 - p["beta1"]) * g[i]
        self.v[i] = p["beta2"] * self.v[i] + (1.0 - p["beta2"]) * g[i] ** 2
        rate = p["eta0"] * np.sqrt(1.0 - p["beta2"] ** t) / (1.0 - p["beta1"] ** t)
        # m == v == 0 (only zero gradients so far) with epsilon == 0: no move.
        self.w[i] -= rate * _safe_divide(self.m[i], np.sqrt(self.v[i]) + p["epsilon"])


class OGD(_Primal):
    """Online gradient descent as scikit-learn's SGD does it.

    Every round, on every coordinate: w <- (1 - eta_t l2) w - eta_t g. Then
    the cumulative L1 penalty of Tsuruoka et al. (2009): with the global
    u = sum of eta_s l1 so far and q_i the penalty already applied to w_i,
    each coordinate *present in the round* is clipped towards zero,
    w_i <- max(0, w_i - (u + q_i)) if w_i > 0, min(0, w_i + (u - q_i)) if
    w_i < 0, and q_i grows by the change. (By its definition this penalty
    touches only the present coordinates, so it is not an eager/lazy pair.)
    """

    defaults = FOBOS.defaults

    def __init__(self, params, d):
        super().__init__(params, d)
        self.q = np.zeros(d + 1)
        self.u = 0.0

    def step(self, g, present, t):
        eta = learning_rate(self.p, t)
        self.w = (1.0 - eta * self.p["l2"] * self.reg) * self.w - eta * g
        if self.p["l1"] > 0:
            self.u += eta * self.p["l1"]
            i = present & (self.reg > 0)
            old = self.w[i]
            new = np.where(
                old > 0,
                np.maximum(0.0, old - (self.u + self.q[i])),
                np.where(old < 0, np.minimum(0.0, old + (self.u - self.q[i])), old),
            )
            self.q[i] += new - old
            self.w[i] = new


class PassiveAggressive(_Primal):
    """Passive-aggressive classification (Crammer et al. 2006): PA, PA-I, PA-II.

    Per row, with the hinge loss l = max(0, 1 - y m) and the row's squared norm q::

        tau = l / q  |  min(C, l / q)  |  l / (q + 1 / (2 C))     (variant 'pa' | 'pa1' | 'pa2')

    and the row's loss derivative is -y tau (0 for an empty row, except with 'pa2'); the step is w <- w - g.
    """

    defaults = {"C": 0.01, "variant": "pa1"}

    def row_gradient(self, loss, margins, y, sqnorms):
        hinge = np.maximum(0.0, 1.0 - y * margins)
        C, variant = self.p["C"], self.p["variant"]
        if variant == "pa2":
            return -y * hinge / (sqnorms + 0.5 / C)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = hinge / sqnorms
        if variant == "pa1":
            tau = np.minimum(C, tau)
        return np.where((hinge > 0) & (sqnorms > 0), -y * tau, 0.0)

    def step(self, g, present, t):
        self.w -= g


ALGORITHMS = {
    "ftrl": FTRL,
    "rda": RDA,
    "fobos": FOBOS,
    "truncated_gradient": TruncatedGradient,
    "adagrad": AdaGrad,
    "lazy_adam": LazyAdam,
    "ogd": OGD,
    "passive_aggressive": PassiveAggressive,
}


class EagerState:
    """State of one eager run: the algorithm's arrays plus the round count ``t``."""

    def __init__(self, algo, params, n_features, fit_intercept=True):
        self.algo = algo
        self.model = ALGORITHMS[algo](dict(params), n_features)
        self.n_features = n_features
        self.fit_intercept = fit_intercept
        self.t = 0

    def coef(self):
        """Current weights of the features, shape (n_features,)."""
        return self.model.weights()[: self.n_features]

    def intercept(self):
        """Current intercept (0.0 when ``fit_intercept=False``)."""
        return float(self.model.weights()[self.n_features])


def canonical_csr(X):
    """A float64 CSR copy of ``X`` with duplicates summed and indices sorted."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()  # also sorts the indices
    return X


def decision_eager(state, X):
    """Decision values ``X @ coef + intercept`` of the current state."""
    X = canonical_csr(X)
    return X @ state.coef() + state.intercept()


def fit_eager(algo, params, X, y, sample_weight=None, loss="log_loss", batch_size=1, fit_intercept=True, state=None):
    """Run the eager oracle over the rows of ``X`` in order; return the state.

    ``y`` is in {-1, +1} for the classification losses and real for
    ``squared_error``. Rows are taken ``batch_size`` at a time (the last
    batch may be shorter): the decision values of a batch use the weights
    before the batch, its gradient is the mean of the rows' sample-weighted
    gradients, and one round is performed.
    Passing the returned ``state`` back continues the run (``partial_fit``).

    >>> X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    >>> s = fit_eager("ftrl", {"alpha": 1.0, "beta": 1.0}, X, np.array([1.0, -1.0]),
    ...               loss="hinge", fit_intercept=False)
    >>> s.coef(), s.intercept()
    (array([ 0.5       , -0.66666667]), 0.0)
    """
    X = canonical_csr(X)
    n, d = X.shape
    y = np.asarray(y, dtype=np.float64)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if state is None:
        state = EagerState(algo, params, d, fit_intercept)
    elif state.n_features != d:
        raise ValueError(f"X has {d} features, the state has {state.n_features}")
    for start in range(0, n, batch_size):
        rows = slice(start, min(start + batch_size, n))
        Xb = X[rows]
        w = state.model.weights()
        p = Xb @ w[:d] + w[d]
        if hasattr(state.model, "row_gradient"):  # a step size that depends on the row
            sq = np.asarray(Xb.multiply(Xb).sum(axis=1)).ravel()
            dl = state.model.row_gradient(loss, p, y[rows], sq) * sw[rows] / Xb.shape[0]
        else:
            dl = dloss(loss, p, y[rows]) * sw[rows] / Xb.shape[0]
        g = np.zeros(d + 1)
        g[:d] = Xb.T @ dl
        present = np.zeros(d + 1, dtype=bool)
        present[Xb.indices] = True
        if state.fit_intercept:
            g[d] = dl.sum()
            present[d] = True
        state.t += 1
        state.model.step(g, present, state.t)
    return state
