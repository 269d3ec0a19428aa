"""Learning-rate schedules: objects that any optimizer accepts in place of a float.

``schedule(t)`` is the step size of the step that follows ``t`` completed
steps, so the first step uses ``schedule(0)``.
"""

import math
import numbers

from .base import Schedule, check_positive, check_unit_interval

__all__ = ["Constant", "InverseSqrt", "LinearDecay", "StepDecay", "ExponentialDecay"]


class Constant(Schedule):
    """Constant step size, ``eta_t = lr``.

    Parameters
    ----------
    lr : float
        The step size (>= 0).

    Examples
    --------
    >>> Constant(0.1)(0), Constant(0.1)(1000)
    (0.1, 0.1)
    """

    def __init__(self, lr=0.01):
        self.lr = check_positive("lr", lr, allow_zero=True, owner="Constant: ")

    def _value(self, t):
        return self.lr

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.1}


class InverseSqrt(Schedule):
    """Inverse square-root decay, ``eta_t = lr / sqrt(t + 1)`` for ``t = 0, 1, 2, ...``.

    Parameters
    ----------
    lr : float
        Step size of the first step.

    Examples
    --------
    >>> s = InverseSqrt(0.5)
    >>> [s(t) for t in (0, 3, 15)]
    [0.5, 0.25, 0.125]
    """

    def __init__(self, lr=0.1):
        self.lr = check_positive("lr", lr, allow_zero=True, owner="InverseSqrt: ")

    def _value(self, t):
        return self.lr / math.sqrt(t + 1)

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.1}


class LinearDecay(Schedule):
    """Linear interpolation from ``lr`` to ``final_lr`` over ``tau`` steps, then constant.

    ``eta_k = (1 - k/tau) * lr + (k/tau) * final_lr`` for ``k <= tau`` and
    ``eta_k = final_lr`` afterwards (Goodfellow et al., *Deep Learning*, §8.3.1).

    Parameters
    ----------
    lr : float
        Initial step size ``eta_0``.
    tau : int
        Number of steps of the decay (>= 1).
    final_lr : float, optional
        ``eta_tau``; defaults to 1% of ``lr``.

    Examples
    --------
    >>> s = LinearDecay(1.0, tau=4)
    >>> [round(s(k), 4) for k in (0, 2, 4, 10)]
    [1.0, 0.505, 0.01, 0.01]
    """

    def __init__(self, lr=0.1, tau=1000, final_lr=None):
        owner = "LinearDecay: "
        self.lr = check_positive("lr", lr, allow_zero=True, owner=owner)
        if isinstance(tau, bool) or not isinstance(tau, numbers.Integral) or tau < 1:
            raise ValueError(f"{owner}tau must be an integer >= 1, got {tau!r}.")
        self.tau = int(tau)
        self.final_lr = (
            0.01 * self.lr if final_lr is None else check_positive("final_lr", final_lr, allow_zero=True, owner=owner)
        )

    def _value(self, t):
        if t >= self.tau:
            return self.final_lr
        frac = t / self.tau
        return (1.0 - frac) * self.lr + frac * self.final_lr

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.1, "tau": 100}


class StepDecay(Schedule):
    """Piecewise-constant decay, ``eta_t = lr * gamma ** (t // step_size)``.

    Parameters
    ----------
    lr : float
        Initial step size.
    step_size : int
        Number of steps between two decays (>= 1).
    gamma : float
        Multiplicative factor in [0, 1].

    Examples
    --------
    >>> s = StepDecay(1.0, step_size=10, gamma=0.5)
    >>> [s(t) for t in (0, 9, 10, 25)]
    [1.0, 1.0, 0.5, 0.25]
    """

    def __init__(self, lr=0.1, step_size=100, gamma=0.1):
        owner = "StepDecay: "
        self.lr = check_positive("lr", lr, allow_zero=True, owner=owner)
        if isinstance(step_size, bool) or not isinstance(step_size, numbers.Integral) or step_size < 1:
            raise ValueError(f"{owner}step_size must be an integer >= 1, got {step_size!r}.")
        self.step_size = int(step_size)
        self.gamma = check_unit_interval("gamma", gamma, owner=owner, closed_right=True)

    def _value(self, t):
        return self.lr * self.gamma ** (t // self.step_size)

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.1, "step_size": 50, "gamma": 0.5}


class ExponentialDecay(Schedule):
    """Exponential decay, ``eta_t = lr * gamma ** t``.

    Parameters
    ----------
    lr : float
        Initial step size.
    gamma : float
        Decay factor per step, in [0, 1].

    Examples
    --------
    >>> s = ExponentialDecay(2.0, gamma=0.5)
    >>> [s(t) for t in range(4)]
    [2.0, 1.0, 0.5, 0.25]
    """

    def __init__(self, lr=0.1, gamma=0.99):
        owner = "ExponentialDecay: "
        self.lr = check_positive("lr", lr, allow_zero=True, owner=owner)
        self.gamma = check_unit_interval("gamma", gamma, owner=owner, closed_right=True)

    def _value(self, t):
        return self.lr * self.gamma**t

    @classmethod
    def _unit_test_params(cls):
        return {"lr": 0.1, "gamma": 0.99}
