"""Per-coordinate adaptive step sizes: AdaGrad, RMSProp, AdaDelta, the Adam
family (Adam, AMSGrad, NAdam, AdaMax, LazyAdam) and delta-bar-delta.

Defaults follow PyTorch unless a docstring says otherwise, so that runs can be
compared step for step with ``torch.optim``.  Where PyTorch's arithmetic and
the paper's differ only in rounding (e.g. ``lerp`` for a moving average), the
paper's formula is used.
"""

import numpy as np

from ._adam import Adam, AdaMax, AMSGrad, LazyAdam, NAdam
from ._adaptive_base import _ema, _ratio, _with_decay
from .base import Optimizer, check_bool, check_choice, check_nesterov, check_positive, check_unit_interval

__all__ = ["AdaGrad", "RMSProp", "AdaDelta", "Adam", "AMSGrad", "NAdam", "AdaMax", "LazyAdam", "DeltaBarDelta"]

# The Adam family lives in ftrlx.optim._adam; this stays its module (the one documented and recorded in pickles).
for _cls in (Adam, AMSGrad, NAdam, AdaMax, LazyAdam):
    _cls.__module__ = __name__
del _cls


class AdaGrad(Optimizer):
    """AdaGrad (Duchi, Hazan & Singer, 2011), diagonal.

    ``r <- r + g**2`` and ``w <- w - lr_t g / (sqrt(r) + eps)``
    (``eps_placement="outside"``, Goodfellow's ``delta + sqrt(r)``, PyTorch) or
    ``w <- w - lr_t g / sqrt(r + eps)`` (``"inside"``), with
    ``lr_t = lr / (1 + (t - 1) lr_decay)`` as in PyTorch.  ``eps = 0`` is
    allowed; a coordinate whose accumulator is still 0 then does not move.

    Parameters
    ----------
    lr : float or Schedule, default=0.01
    eps : float, default=1e-10
    eps_placement : {"outside", "inside"}, default="outside"
    initial_accumulator_value : float, default=0
        Starting value of ``r`` (Keras uses 0.1).
    lr_decay : float, default=0
    weight_decay : float, default=0

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, 1.0])
    >>> opt = AdaGrad(lr=0.1, eps=0.0)
    >>> opt.step(w, np.array([3.0, -4.0])); w      # each coordinate moves by lr
    array([0.9, 1.1])
    >>> opt.state[None]["sum"]
    array([ 9., 16.])
    """

    def __init__(
        self, lr=0.01, eps=1e-10, eps_placement="outside", initial_accumulator_value=0.0, lr_decay=0.0, weight_decay=0.0
    ):
        self.eps = eps
        self.eps_placement = eps_placement
        self.initial_accumulator_value = initial_accumulator_value
        self.lr_decay = lr_decay
        self.weight_decay = weight_decay
        super().__init__(lr)

    def _check_params(self):
        super()._check_params()
        o = self._owner()
        for name in ("eps", "initial_accumulator_value", "lr_decay", "weight_decay"):
            check_positive(name, getattr(self, name), allow_zero=True, owner=o)
        check_choice("eps_placement", self.eps_placement, {"outside", "inside"}, owner=o)

    def _init_state(self, w):
        return {"sum": np.full(w.shape, float(self.initial_accumulator_value))}

    def _update(self, w, g, state, lr, t):
        g = _with_decay(g, w, self.weight_decay)
        clr = lr / (1.0 + (t - 1) * self.lr_decay)
        r = state["sum"]
        r += g * g
        den = np.sqrt(r) + self.eps if self.eps_placement == "outside" else np.sqrt(r + self.eps)
        w -= clr * _ratio(g, den)

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.5}

    @classmethod
    def _convergence_params(cls):
        return {"lr": 0.5}, 100


class RMSProp(Optimizer):
    """RMSProp (Hinton, lecture 6e), per coordinate or with one scalar step size.

    Per coordinate (PyTorch ``torch.optim.RMSprop``):
    ``v <- alpha v + (1 - alpha) g**2``; with ``centered=True`` also
    ``gbar <- alpha gbar + (1 - alpha) g`` and ``v~ = v - gbar**2``
    (else ``v~ = v``); ``d = sqrt(v~) + eps`` (``eps_placement="outside"``)
    or ``sqrt(v~ + eps)`` (``"inside"``).  Then ``w <- w - lr g / d``, or with
    momentum ``b <- mu b + g / d``, ``w <- w - lr b``.

    ``nesterov=True`` is RMSProp with Nesterov momentum (Goodfellow, Bengio &
    Courville, *Deep Learning*, Alg. 8.6): ``v <- mu v - lr g / d`` with ``g``
    taken at the look-ahead point ``theta + mu v``.  The parameters hold that
    look-ahead point (``w = theta + mu v``), so ``w <- w - mu v_old + (1 + mu) v``
    and the caller simply passes the gradient at ``w``.  Alg. 8.6 writes
    ``sqrt(delta + r)``: use ``eps_placement="inside"`` to reproduce it.

    ``scalar=True`` accumulates the squared *global* gradient norm,
    ``v <- alpha v + (1 - alpha) ||g||**2`` summed over every array of the step,
    so all coordinates share one step size ``lr / (sqrt(v) + eps)`` and the
    update keeps the gradient's direction.

    Parameters
    ----------
    lr : float or Schedule, default=0.01
    alpha : float in [0, 1), default=0.99
    eps : float, default=1e-8
    centered : bool, default=False
    momentum : float in [0, 1), default=0
    nesterov : bool, default=False
    scalar : bool, default=False
    eps_placement : {"outside", "inside"}, default="outside"
    weight_decay : float, default=0

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, 1.0])
    >>> opt = RMSProp(lr=0.1, alpha=0.75, eps=0.0)
    >>> opt.step(w, np.array([2.0, -8.0])); w      # v = g**2 / 4, each step is lr / 0.5
    array([0.8, 1.2])

    The scalar variant moves along ``-g``:

    >>> w = np.array([0.0, 0.0])
    >>> RMSProp(lr=0.1, alpha=0.75, eps=0.0, scalar=True).step(w, np.array([3.0, 4.0])); w
    array([-0.12, -0.16])
    """

    def __init__(
        self,
        lr=0.01,
        alpha=0.99,
        eps=1e-8,
        centered=False,
        momentum=0.0,
        nesterov=False,
        scalar=False,
        eps_placement="outside",
        weight_decay=0.0,
    ):
        self.alpha = alpha
        self.eps = eps
        self.centered = centered
        self.momentum = momentum
        self.nesterov = nesterov
        self.scalar = scalar
        self.eps_placement = eps_placement
        self.weight_decay = weight_decay
        super().__init__(lr)

    def _check_params(self):
        super()._check_params()
        o = self._owner()
        check_unit_interval("alpha", self.alpha, owner=o)
        check_unit_interval("momentum", self.momentum, owner=o)
        check_positive("eps", self.eps, allow_zero=True, owner=o)
        check_positive("weight_decay", self.weight_decay, allow_zero=True, owner=o)
        check_choice("eps_placement", self.eps_placement, {"outside", "inside"}, owner=o)
        check_bool("centered", self.centered, owner=o)
        check_bool("scalar", self.scalar, owner=o)
        check_nesterov(self.nesterov, self.momentum, owner=o)
        if self.scalar and self.centered:
            raise ValueError(f"{o}centered=True is defined per coordinate; it cannot be combined with scalar=True.")

    def _init_state(self, w):
        st = {"square_avg": np.zeros(() if self.scalar else w.shape)}
        if self.centered:
            st["grad_avg"] = np.zeros(w.shape)
        if self.momentum:
            st["momentum_buffer"] = np.zeros(w.shape)
        return st

    def _apply(self, pairs, lr, t, aux):
        grads = [_with_decay(g, w, self.weight_decay) for _, w, g in pairs]
        sq = [g * g for g in grads]
        if self.scalar:
            total = float(sum(s.sum() for s in sq))
            sq = [total] * len(grads)
        for (key, w, _), g, s in zip(pairs, grads, sq):
            self._update(w, g, self.state[key], lr, t, aux=s)

    def _update(self, w, g, state, lr, t, aux=None):
        v = state["square_avg"]
        _ema(v, aux, self.alpha)
        var = v
        if self.centered:
            _ema(state["grad_avg"], g, self.alpha)
            var = np.maximum(v - state["grad_avg"] ** 2, 0.0)
        den = np.sqrt(var) + self.eps if self.eps_placement == "outside" else np.sqrt(var + self.eps)
        scaled = _ratio(g, den)
        if not self.momentum:
            w -= lr * scaled
        elif self.nesterov:
            b = state["momentum_buffer"]
            b_new = self.momentum * b - lr * scaled
            w += -self.momentum * b + (1.0 + self.momentum) * b_new
            b[...] = b_new
        else:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += scaled
            w -= lr * b

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.01, "centered": True, "momentum": 0.5}

    @classmethod
    def _convergence_params(cls):
        return {"lr": 0.01, "eps": 0.0}, 400


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler, 2012), PyTorch's arithmetic.

    ``E_g <- rho E_g + (1 - rho) g**2``;
    ``D = sqrt(E_D + eps) / sqrt(E_g + eps) * g``;
    ``E_D <- rho E_D + (1 - rho) D**2``; ``w <- w - lr D``.  ``lr = 1`` is the
    paper's method without a learning rate.

    Parameters
    ----------
    lr : float or Schedule, default=1.0
    rho : float in [0, 1), default=0.9
        PyTorch's default; the paper uses 0.95.
    eps : float, default=1e-6
    weight_decay : float, default=0

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([0.0])
    >>> opt = AdaDelta(rho=0.75, eps=1.0)
    >>> opt.step(w, np.array([2.0])); w      # D = sqrt(1) / sqrt(1 + 1) * 2
    array([-1.41421356])
    """

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        self.rho = rho
        self.eps = eps
        self.weight_decay = weight_decay
        super().__init__(lr)

    def _check_params(self):
        super()._check_params()
        o = self._owner()
        check_unit_interval("rho", self.rho, owner=o)
        check_positive("eps", self.eps, owner=o)
        check_positive("weight_decay", self.weight_decay, allow_zero=True, owner=o)

    def _init_state(self, w):
        return {"square_avg": np.zeros(w.shape), "acc_delta": np.zeros(w.shape)}

    def _update(self, w, g, state, lr, t):
        g = _with_decay(g, w, self.weight_decay)
        _ema(state["square_avg"], g * g, self.rho)
        delta = np.sqrt(state["acc_delta"] + self.eps) / np.sqrt(state["square_avg"] + self.eps) * g
        _ema(state["acc_delta"], delta * delta, self.rho)
        w -= lr * delta

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 1.0, "rho": 0.9}

    @classmethod
    def _convergence_params(cls):
        return {"lr": 0.2, "rho": 0.9, "eps": 1e-2}, 300


class DeltaBarDelta(Optimizer):
    """Delta-bar-delta (Jacobs, 1988): per-coordinate rates adapted by sign agreement.

    Each coordinate has a gain ``a_i`` (initially 1) and a smoothed gradient
    ``dbar_i`` (initially 0).  On every step, with ``s = dbar_i g_i``:
    ``a_i <- a_i + kappa`` if ``s > 0``, ``a_i <- (1 - phi) a_i`` if ``s < 0``;
    then ``w_i <- w_i - lr a_i g_i`` and ``dbar_i <- (1 - theta) g_i + theta dbar_i``.
    The rate of coordinate ``i`` is ``lr * a_i``; Jacobs' additive increment is
    ``lr * kappa``.  Meant for full-batch gradients: sign flips caused by
    sampling noise would shrink the rates for no reason.

    Parameters
    ----------
    lr : float or Schedule, default=0.01
    kappa : float, default=0.05
    phi : float in [0, 1], default=0.3
    theta : float in [0, 1), default=0.7

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([0.0])
    >>> opt = DeltaBarDelta(lr=0.1, kappa=0.5, phi=0.5, theta=0.0)
    >>> for _ in range(2):
    ...     opt.step(w, np.array([1.0]))
    >>> w, opt.state[None]["gain"]      # second step used gain 1.5
    (array([-0.25]), array([1.5]))
    """

    def __init__(self, lr=0.01, kappa=0.05, phi=0.3, theta=0.7):
        self.kappa = kappa
        self.phi = phi
        self.theta = theta
        super().__init__(lr)

    def _check_params(self):
        super()._check_params()
        o = self._owner()
        check_positive("kappa", self.kappa, allow_zero=True, owner=o)
        check_unit_interval("phi", self.phi, owner=o, closed_right=True)
        check_unit_interval("theta", self.theta, owner=o)

    def _init_state(self, w):
        return {"gain": np.ones(w.shape), "delta_bar": np.zeros(w.shape)}

    def _update(self, w, g, state, lr, t):
        a, dbar = state["gain"], state["delta_bar"]
        agree = dbar * g
        a[agree > 0] += self.kappa
        a[agree < 0] *= 1.0 - self.phi
        w -= lr * a * g
        dbar *= self.theta
        dbar += (1.0 - self.theta) * g

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.02}

    @classmethod
    def _convergence_params(cls):
        return {"lr": 0.02}, 500
