"""Gradient descent with momentum, and mini-batch iteration.

The optimizer only sees a gradient: full-batch GD, stochastic GD and
mini-batch GD differ in how that gradient is computed, which
:func:`fit_minibatch` takes care of.
"""

import numbers

import numpy as np

from .base import Optimizer, check_choice, check_nesterov, check_positive, check_unit_interval

__all__ = ["SGD", "iterate_minibatches", "fit_minibatch"]

_FORMS = {"accumulate", "classic", "ema"}


class SGD(Optimizer):
    """(Stochastic) gradient descent with optional momentum and Nesterov momentum.

    With ``g = grad + weight_decay * w`` and ``mu = momentum``, the three
    spellings of momentum are:

    ``momentum_form="accumulate"`` (PyTorch ``torch.optim.SGD``)
        ``b <- mu b + (1 - dampening) g`` with ``b = g`` on the first step,
        ``w <- w - lr b``; Nesterov: ``w <- w - lr (g + mu b)``.
    ``momentum_form="classic"`` (Polyak; Sutskever et al. 2013)
        ``v <- mu v - lr g``, ``w <- w + v``.  Nesterov is Sutskever's form
        ``v <- mu v - lr grad f(w + mu v)`` written for the look-ahead point:
        the parameters hold ``w + mu v``, updated by ``-mu v_old + (1 + mu) v``,
        so the gradient the caller computes at the parameters is the
        look-ahead gradient.
    ``momentum_form="ema"`` (dampened / exponential moving average)
        ``v <- mu v + (1 - mu) g`` with ``v = 0`` initially, ``w <- w - lr v``;
        Nesterov: ``w <- w - lr (mu v + (1 - mu) g)``.

    With a constant ``lr`` the classic and accumulate forms give identical
    iterates (``v = -lr b``); with a schedule they differ, because the
    classic form folds the step size into the velocity.

    Parameters
    ----------
    lr : float or Schedule, default=0.01
    momentum : float in [0, 1), default=0
    dampening : float in [0, 1], default=0
        Only for ``momentum_form="accumulate"``.
    nesterov : bool, default=False
        Needs ``momentum > 0`` (and ``dampening == 0`` in the accumulate form, as in PyTorch).
    weight_decay : float, default=0
        L2 coefficient added to the gradient.
    momentum_form : {"accumulate", "classic", "ema"}, default="accumulate"

    Examples
    --------
    Two steps of heavy-ball momentum on ``f(w) = w**2`` (gradient ``2 w``):

    >>> import numpy as np
    >>> w = np.array([1.0])
    >>> opt = SGD(lr=0.1, momentum=0.5, momentum_form="classic")
    >>> opt.step(w, 2 * w); w        # v = -0.2
    array([0.8])
    >>> opt.step(w, 2 * w); w        # v = 0.5 * -0.2 - 0.1 * 1.6 = -0.26
    array([0.54])
    """

    def __init__(
        self, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, momentum_form="accumulate"
    ):
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.momentum_form = momentum_form
        super().__init__(lr)

    def _check_params(self):
        super()._check_params()
        o = self._owner()
        check_unit_interval("momentum", self.momentum, owner=o)
        check_unit_interval("dampening", self.dampening, owner=o, closed_right=True)
        check_positive("weight_decay", self.weight_decay, allow_zero=True, owner=o)
        check_choice("momentum_form", self.momentum_form, _FORMS, owner=o)
        check_nesterov(self.nesterov, self.momentum, owner=o)
        if self.dampening != 0 and (self.momentum_form != "accumulate" or self.nesterov):
            raise ValueError(
                f"{o}dampening={self.dampening!r} is only defined for momentum_form='accumulate' "
                "without Nesterov; use momentum_form='ema' for a dampened average."
            )

    def _init_state(self, w):
        return {"velocity": None} if self.momentum else {}

    def _update(self, w, g, state, lr, t):
        if self.weight_decay:
            g = g + self.weight_decay * w
        mu = self.momentum
        if mu == 0:
            w -= lr * g
            return
        v = state["velocity"]
        if self.momentum_form == "accumulate":
            v = g.copy() if v is None else mu * v + (1.0 - self.dampening) * g
            w -= lr * (g + mu * v if self.nesterov else v)
        elif self.momentum_form == "ema":
            v = (1.0 - mu) * g if v is None else mu * v + (1.0 - mu) * g
            w -= lr * (mu * v + (1.0 - mu) * g if self.nesterov else v)
        else:
            v_old = np.zeros_like(g) if v is None else v
            v = mu * v_old - lr * g
            w += -mu * v_old + (1.0 + mu) * v if self.nesterov else v
        state["velocity"] = v

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.05, "momentum": 0.9, "nesterov": True}

    @classmethod
    def _convergence_params(cls):
        return {"lr": 0.05, "momentum": 0.5}, 300


def iterate_minibatches(n_samples, batch_size, *, shuffle=True, random_state=None):
    """Yield index arrays covering ``range(n_samples)`` once, ``batch_size`` at a time.

    ``batch_size = n_samples`` gives full-batch gradient descent and
    ``batch_size = 1`` stochastic gradient descent.  The last batch may be
    smaller.

    Parameters
    ----------
    n_samples : int
    batch_size : int
    shuffle : bool, default=True
    random_state : int, Generator or None

    Examples
    --------
    >>> [b.tolist() for b in iterate_minibatches(5, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    for name, v in (("n_samples", n_samples), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}.")
    order = np.arange(n_samples)
    if shuffle:
        np.random.default_rng(random_state).shuffle(order)
    for start in range(0, n_samples, batch_size):
        yield order[start : start + batch_size]


def fit_minibatch(
    optimizer,
    params,
    grad_fn,
    n_samples,
    *,
    batch_size=32,
    n_epochs=1,
    reduction="mean",
    shuffle=True,
    random_state=None,
):
    """Run ``optimizer`` over mini-batches for ``n_epochs`` passes.

    Parameters
    ----------
    optimizer : Optimizer
    params : ndarray
        Updated in place.
    grad_fn : callable
        ``grad_fn(params, idx)`` returns the per-sample gradients of the rows
        ``idx``, stacked on axis 0 (shape ``(len(idx),) + params.shape``).
    n_samples : int
    batch_size : int, default=32
    n_epochs : int, default=1
    reduction : {"mean", "sum"}, default="mean"
        How the rows of a batch are combined into one gradient.
    shuffle, random_state
        See :func:`iterate_minibatches`.

    Returns
    -------
    ndarray
        ``params``.

    Examples
    --------
    Least squares ``mean((x_i w - y_i)^2) / 2`` with full-batch steps:

    >>> import numpy as np
    >>> X = np.array([[1.0], [2.0]]); y = np.array([2.0, 4.0])
    >>> grad_fn = lambda w, idx: (X[idx] @ w - y[idx])[:, None] * X[idx]
    >>> w = np.zeros(1)
    >>> _ = fit_minibatch(SGD(lr=0.3), w, grad_fn, 2, batch_size=2, n_epochs=50, shuffle=False)
    >>> np.round(w, 6)
    array([2.])
    """
    check_choice("reduction", reduction, {"mean", "sum"})
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, numbers.Integral) or n_epochs < 0:
        raise ValueError(f"n_epochs must be an integer >= 0, got {n_epochs!r}.")
    rng = np.random.default_rng(random_state)
    for _ in range(n_epochs):
        for idx in iterate_minibatches(n_samples, batch_size, shuffle=shuffle, random_state=rng):
            rows = np.asarray(grad_fn(params, idx), dtype=float)
            if rows.shape != (len(idx),) + params.shape:
                raise ValueError(
                    f"grad_fn returned shape {rows.shape}; expected {(len(idx),) + params.shape} "
                    "(one gradient per row of the batch)."
                )
            g = rows.mean(axis=0) if reduction == "mean" else rows.sum(axis=0)
            optimizer.step(params, g)
    return params
