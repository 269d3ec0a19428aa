"""The Adam family of :mod:`ftrlx.optim.adaptive`: Adam, AMSGrad, NAdam, AdaMax and LazyAdam (re-exported
there, which stays their module)."""

import math

import numpy as np

from ._adaptive_base import _check_betas, _ema, _ratio, _with_decay
from .base import Optimizer, check_bool, check_positive


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with PyTorch's ``eps`` placement.

    ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g**2``;
    ``w <- w - lr/(1 - b1**t) * m / (sqrt(v)/sqrt(1 - b2**t) + eps)``.

    With ``amsgrad=True`` (see :class:`AMSGrad`) the denominator uses
    ``vmax <- max(vmax, v)``, the running maximum of the *raw* second moment,
    divided by the current ``sqrt(1 - b2**t)``: the convention of PyTorch's
    code (its documentation writes the maximum over the bias-corrected
    ``v``; the paper has no bias correction).

    Parameters
    ----------
    lr : float or Schedule, default=1e-3
    betas : (float, float), default=(0.9, 0.999)
    eps : float, default=1e-8
    weight_decay : float, default=0
        L2 added to the gradient (Adam, not AdamW).
    amsgrad : bool, default=False

    Examples
    --------
    The first Adam step moves every coordinate by about ``lr``:

    >>> import numpy as np
    >>> w = np.array([1.0, 1.0])
    >>> Adam(lr=0.1, eps=0.0).step(w, np.array([0.5, -30.0])); w
    array([0.9, 1.1])
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        super().__init__(lr)

    def _check_params(self):
        super()._check_params()
        o = self._owner()
        _check_betas(o, self.betas)
        check_positive("eps", self.eps, allow_zero=True, owner=o)
        check_positive("weight_decay", self.weight_decay, allow_zero=True, owner=o)
        check_bool("amsgrad", self.amsgrad, owner=o)

    def _init_state(self, w):
        st = {"exp_avg": np.zeros(w.shape), "exp_avg_sq": np.zeros(w.shape)}
        if self.amsgrad:
            st["max_exp_avg_sq"] = np.zeros(w.shape)
        return st

    def _moments(self, g, w, state):
        g = _with_decay(g, w, self.weight_decay)
        b1, b2 = self.betas
        _ema(state["exp_avg"], g, b1)
        _ema(state["exp_avg_sq"], g * g, b2)
        return g

    def _update(self, w, g, state, lr, t):
        self._moments(g, w, state)
        b1, b2 = self.betas
        v = state["exp_avg_sq"]
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        den = np.sqrt(v) / math.sqrt(1.0 - b2**t) + self.eps
        w -= lr / (1.0 - b1**t) * _ratio(state["exp_avg"], den)

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.05}

    @classmethod
    def _convergence_params(cls):
        return {"lr": 0.05, "betas": (0.5, 0.999)}, 200


class AMSGrad(Adam):
    """AMSGrad (Reddi, Kale & Kumar, 2018): :class:`Adam` with ``amsgrad=True``.

    The second moment in the denominator never decreases:
    ``vmax <- max(vmax, v)`` over the raw ``v``, then divided by
    ``sqrt(1 - b2**t)`` (PyTorch's convention, see :class:`Adam`).

    Examples
    --------
    >>> import numpy as np
    >>> opt = AMSGrad(lr=0.1)
    >>> w = np.array([0.0])
    >>> opt.step(w, np.array([4.0])); opt.step(w, np.array([0.0]))
    >>> bool(opt.state[None]["max_exp_avg_sq"][0] > opt.state[None]["exp_avg_sq"][0])
    True
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=True)

    def get_params(self):
        params = super().get_params()
        params.pop("amsgrad")
        return params


class NAdam(Adam):
    """NAdam (Dozat, 2016) with PyTorch's momentum-decay schedule.

    ``mu_t = b1 (1 - 0.5 * 0.96**(t psi))`` with ``psi = momentum_decay``;
    ``m`` and ``v`` as in Adam; with ``P_t = prod_{i<=t} mu_i`` and
    ``d = sqrt(v / (1 - b2**t)) + eps``:
    ``w <- w - lr (1 - mu_t)/(1 - P_t) g/d - lr mu_{t+1}/(1 - P_t mu_{t+1}) m/d``.

    Parameters
    ----------
    lr : float or Schedule, default=2e-3
    betas : (float, float), default=(0.9, 0.999)
    eps : float, default=1e-8
    momentum_decay : float, default=4e-3
    weight_decay : float, default=0

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0])
    >>> NAdam(lr=0.1, eps=0.0).step(w, np.array([5.0])); w.round(6)
    array([0.894355])
    """

    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, momentum_decay=4e-3, weight_decay=0.0):
        self.momentum_decay = momentum_decay
        super().__init__(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _check_params(self):
        super()._check_params()
        check_positive("momentum_decay", self.momentum_decay, allow_zero=True, owner=self._owner())

    def get_params(self):
        params = super().get_params()
        params.pop("amsgrad")
        return params

    def _init_state(self, w):
        st = super()._init_state(w)
        st["mu_product"] = 1.0
        return st

    def _mu(self, t):
        return self.betas[0] * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def _update(self, w, g, state, lr, t):
        g = self._moments(g, w, state)
        mu, mu_next = self._mu(t), self._mu(t + 1)
        state["mu_product"] *= mu
        prod = state["mu_product"]
        den = np.sqrt(state["exp_avg_sq"] / (1.0 - self.betas[1] ** t)) + self.eps
        w -= lr * (1.0 - mu) / (1.0 - prod) * _ratio(g, den)
        w -= lr * mu_next / (1.0 - prod * mu_next) * _ratio(state["exp_avg"], den)

    @classmethod
    def _convergence_params(cls):
        return {"lr": 0.02}, 500


class AdaMax(Adam):
    """AdaMax (Kingma & Ba, 2015, §7.1), PyTorch's arithmetic.

    ``m <- b1 m + (1 - b1) g``; ``u <- max(b2 u, |g| + eps)``;
    ``w <- w - lr/(1 - b1**t) * m / u``.

    Parameters
    ----------
    lr : float or Schedule, default=2e-3
    betas : (float, float), default=(0.9, 0.999)
    eps : float, default=1e-8
    weight_decay : float, default=0

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, 1.0])
    >>> AdaMax(lr=0.1, eps=0.0).step(w, np.array([2.0, -3.0])); w
    array([0.9, 1.1])
    """

    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def get_params(self):
        params = super().get_params()
        params.pop("amsgrad")
        return params

    def _init_state(self, w):
        return {"exp_avg": np.zeros(w.shape), "exp_inf": np.zeros(w.shape)}

    def _update(self, w, g, state, lr, t):
        g = _with_decay(g, w, self.weight_decay)
        b1, b2 = self.betas
        _ema(state["exp_avg"], g, b1)
        u = state["exp_inf"]
        np.maximum(b2 * u, np.abs(g) + self.eps, out=u)
        w -= lr / (1.0 - b1**t) * _ratio(state["exp_avg"], u)

    @classmethod
    def _convergence_params(cls):
        return {"lr": 0.05, "betas": (0.5, 0.999)}, 400


class LazyAdam(Adam):
    """LazyAdam (TensorFlow Addons) for dense arrays with a mask of touched coordinates.

    Only coordinates in ``mask`` are read or written:
    ``m_i <- b1 m_i + (1 - b1) g_i``, ``v_i <- b2 v_i + (1 - b2) g_i**2``,
    ``w_i <- w_i - lr sqrt(1 - b2**t)/(1 - b1**t) * m_i / (sqrt(v_i) + eps)``;
    other coordinates keep ``m``, ``v`` and ``w`` unchanged (no decay).  ``t``
    is the global step count, so a coordinate first touched late takes a first
    step larger than ``lr``.  ``eps`` is Kingma & Ba's "epsilon hat" (added to
    ``sqrt(v)`` before bias correction), default ``1e-7`` as in TF.  This is a
    different algorithm from Adam, not a lazy implementation of it.

    Parameters
    ----------
    lr : float or Schedule, default=1e-3
    betas : (float, float), default=(0.9, 0.999)
    eps : float, default=1e-7

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, 1.0])
    >>> opt = LazyAdam(lr=0.1, eps=0.0)
    >>> opt.step(w, np.array([2.0, 5.0]), mask=np.array([True, False])); w
    array([0.9, 1. ])
    >>> opt.state[None]["exp_avg"]
    array([0.2, 0. ])
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-7):
        super().__init__(lr=lr, betas=betas, eps=eps)

    def get_params(self):
        params = super().get_params()
        for name in ("amsgrad", "weight_decay"):
            params.pop(name)
        return params

    def step(self, params, grads, mask=None):
        """Update the touched coordinates of ``params`` in place.

        Parameters
        ----------
        params, grads
            As in :meth:`Optimizer.step`.
        mask : bool array or structure like ``params``, optional
            Touched coordinates.  Each mask has the array's shape or its
            leading dimensions (a row mask for an embedding table).  Default:
            the coordinates with a non-zero gradient.
        """
        if mask is None:
            if isinstance(params, np.ndarray):
                mask = np.asarray(grads) != 0
            elif isinstance(params, dict) and isinstance(grads, dict):
                mask = {k: np.asarray(v) != 0 for k, v in grads.items()}
            elif isinstance(grads, (list, tuple)):
                mask = [np.asarray(v) != 0 for v in grads]
        self._step(params, grads, aux=mask)

    def _check_aux(self, params, pairs, mask):
        if isinstance(params, np.ndarray):
            masks = [mask]
        elif isinstance(params, dict):
            if not isinstance(mask, dict) or list(mask) != [k for k, _, _ in pairs]:
                raise ValueError("mask must be a dict with the same keys as params.")
            masks = list(mask.values())
        else:
            if not isinstance(mask, (list, tuple)) or len(mask) != len(pairs):
                raise ValueError("mask must be a list with one entry per array of params.")
            masks = list(mask)
        out = []
        for (key, w, _), m in zip(pairs, masks):
            m = np.asarray(m)
            if m.dtype != bool:
                raise TypeError(f"mask for params[{key!r}] must be boolean, got dtype {m.dtype}.")
            if m.shape != w.shape[: m.ndim]:
                raise ValueError(
                    f"mask for params[{key!r}] has shape {m.shape}; it must equal the array's shape "
                    f"{w.shape} or its leading dimensions."
                )
            out.append(np.broadcast_to(m.reshape(m.shape + (1,) * (w.ndim - m.ndim)), w.shape))
        return out

    def _update(self, w, g, state, lr, t, aux=None):
        b1, b2 = self.betas
        mask = (g != 0) if aux is None else aux
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m[mask] = b1 * m[mask] + (1.0 - b1) * g[mask]
        v[mask] = b2 * v[mask] + (1.0 - b2) * g[mask] ** 2
        step = lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        w[mask] -= step * _ratio(m[mask], np.sqrt(v[mask]) + self.eps)

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.05}
