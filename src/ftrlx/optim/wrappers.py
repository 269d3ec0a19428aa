"""Wrappers that add iterate averaging or gradient clipping to any optimizer."""

import numpy as np

from .base import Optimizer, check_positive, check_unit_interval, pair_leaves, rebuild

__all__ = ["Averaged", "ClipGradient"]


def _check_inner(owner, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}optimizer must be an ftrlx.optim Optimizer, got {optimizer!r}.")


class _Wrapper(Optimizer):
    """An optimizer that delegates the update to ``self.optimizer``."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.t = 0
        self.state = {}
        self._check_params()

    def _check_params(self):
        _check_inner(self._owner(), self.optimizer)
        self.optimizer._check_params()

    def current_lr(self):
        return self.optimizer.current_lr()

    def zero_state(self):
        super().zero_state()
        self.optimizer.zero_state()

    reset = zero_state

    @classmethod
    def _unit_test_params(cls):
        from .sgd import SGD

        return {"optimizer": SGD(lr=0.05, momentum=0.5)}

    @classmethod
    def _convergence_params(cls):
        return cls._unit_test_params(), 300


class Averaged(_Wrapper):
    """Polyak(-Ruppert) averaging of the iterates of any optimizer.

    After each step of the wrapped optimizer the average is updated.
    ``decay=None``: uniform average of the iterates from step ``start`` on,
    ``wbar <- wbar + (w - wbar)/(t - start + 1)`` (before ``start``, ``wbar``
    follows ``w``).  ``decay=alpha``: exponential moving average
    ``wbar <- alpha wbar + (1 - alpha) w``, started from the first iterate.
    The parameters themselves keep following the wrapped optimizer; read the
    average with :meth:`averaged`.

    Parameters
    ----------
    optimizer : Optimizer
    start : int, default=1
        First step (1-based) included in the uniform average.
    decay : float in [0, 1), optional
        EMA factor; ``None`` for the uniform average.

    Examples
    --------
    >>> import numpy as np
    >>> from ftrlx.optim import SGD
    >>> w = np.array([0.0])
    >>> opt = Averaged(SGD(lr=1.0))
    >>> for g in ([-1.0], [-2.0], [-3.0]):      # iterates 1, 3, 6
    ...     opt.step(w, np.array(g))
    >>> w, opt.averaged()
    (array([6.]), array([3.33333333]))
    """

    def __init__(self, optimizer, start=1, decay=None):
        self.start = start
        self.decay = decay
        super().__init__(optimizer)

    def _check_params(self):
        super()._check_params()
        o = self._owner()
        if isinstance(self.start, bool) or not isinstance(self.start, (int, np.integer)) or self.start < 1:
            raise ValueError(f"{o}start must be an integer >= 1 (a 1-based step number), got {self.start!r}.")
        if self.decay is not None:
            check_unit_interval("decay", self.decay, owner=o)

    def step(self, params, grads):
        """Step the wrapped optimizer, then update the average."""
        self._check_params()
        pairs = pair_leaves(params, grads)
        self.optimizer.step(params, grads)
        t = self.t + 1
        for key, w, _ in pairs:
            st = self.state.get(key)
            if st is None or t <= self.start or st["average"].shape != w.shape:
                self.state[key] = {"average": w.astype(np.float64, copy=True)}
                continue
            avg = st["average"]
            if self.decay is None:
                avg += (w - avg) / (t - self.start + 1)
            else:
                avg *= self.decay
                avg += (1.0 - self.decay) * w
        self._keys = [k for k, _, _ in pairs]
        self._kind = type(params).__name__ if isinstance(params, (dict, list, tuple)) else "array"
        self.t = t

    def averaged(self):
        """The averaged parameters, in the structure of the last ``params`` (copies).

        Raises
        ------
        RuntimeError
            Before the first step.
        """
        if not self.state:
            raise RuntimeError("Averaged.averaged() has no average before the first step.")
        values = [self.state[k]["average"].copy() for k in self._keys]
        if self._kind == "array":
            return values[0]
        if self._kind == "dict":
            return dict(zip(self._keys, values))
        return tuple(values) if self._kind == "tuple" else values

    def zero_state(self):
        super().zero_state()
        self.__dict__.pop("_keys", None)
        self.__dict__.pop("_kind", None)

    reset = zero_state

    @classmethod
    def _convergence_params(cls):
        from .sgd import SGD

        return {"optimizer": SGD(lr=0.05, momentum=0.5), "decay": 0.5}, 300


class ClipGradient(_Wrapper):
    """Clip gradients by value and/or by global norm before the wrapped step.

    By value: ``g_i <- clip(g_i, -max_value, max_value)``.  By norm:
    ``g <- g * min(1, max_norm / ||g||)`` with ``||g||`` the Euclidean norm
    over *all* arrays of the step (after value clipping when both are set).
    The caller's gradient arrays are not modified.

    Parameters
    ----------
    optimizer : Optimizer
    max_value : float, optional
    max_norm : float, optional

    Examples
    --------
    >>> import numpy as np
    >>> from ftrlx.optim import SGD
    >>> w = np.zeros(2)
    >>> ClipGradient(SGD(lr=1.0), max_norm=1.0).step(w, np.array([3.0, 4.0])); w
    array([-0.6, -0.8])
    >>> w = np.zeros(2)
    >>> ClipGradient(SGD(lr=1.0), max_value=0.5).step(w, np.array([3.0, -0.1])); w
    array([-0.5,  0.1])
    """

    def __init__(self, optimizer, max_value=None, max_norm=None):
        self.max_value = max_value
        self.max_norm = max_norm
        super().__init__(optimizer)

    def _check_params(self):
        super()._check_params()
        o = self._owner()
        if self.max_value is None and self.max_norm is None:
            raise ValueError(f"{o}set max_value and/or max_norm; with neither there is nothing to clip.")
        for name in ("max_value", "max_norm"):
            if getattr(self, name) is not None:
                check_positive(name, getattr(self, name), owner=o)

    def clip(self, params, grads):
        """Return clipped copies of ``grads`` (checked against ``params``, same structure)."""
        values = [g for _, _, g in pair_leaves(params, grads)]
        if self.max_value is not None:
            values = [np.clip(g, -self.max_value, self.max_value) for g in values]
        if self.max_norm is not None:
            norm = np.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in values))
            if norm > self.max_norm:
                values = [g * (self.max_norm / norm) for g in values]
        return rebuild(params, values)

    def step(self, params, grads):
        """Clip ``grads``, then step the wrapped optimizer."""
        self._check_params()
        clipped = self.clip(params, grads)
        self.optimizer.step(params, clipped)
        self.t += 1

    @classmethod
    def _unit_test_params(cls):
        from .sgd import SGD

        return {"optimizer": SGD(lr=0.05, momentum=0.5), "max_norm": 1.0}
