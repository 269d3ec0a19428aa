"""Loss derivatives and step-size schedules shared by the eager oracles.

Everything here works on NumPy arrays and is written for clarity, not speed.
"""

import numpy as np

#: Derivatives are clipped to this magnitude, as scikit-learn's SGD does.
MAX_DLOSS = 1e12


def _log_dloss(p, y):
    # d/dp log(1 + exp(-y p)) = -y * sigmoid(-y p), evaluated branch-wise so
    # that neither exp() overflows; exact for every margin (no asymptotes).
    z = y * p
    out = np.empty_like(z)
    pos = z >= 0
    e = np.exp(-z[pos])
    out[pos] = e / (1.0 + e)
    out[~pos] = 1.0 / (1.0 + np.exp(z[~pos]))
    return -y * out


def _hinge_dloss(p, y):
    # max(0, 1 - y p); the kink (y p == 1) takes the subgradient -y.
    return np.where(y * p <= 1.0, -y, 0.0)


def _modified_huber_dloss(p, y):
    # max(0, 1 - y p)^2 for y p >= -1, else -4 y p.
    z = y * p
    return np.where(z >= 1.0, 0.0, np.where(z >= -1.0, -2.0 * (1.0 - z) * y, -4.0 * y))


def _squared_dloss(p, y):
    # 0.5 * (p - y)^2
    return p - y


DLOSS = {
    "log_loss": _log_dloss,
    "hinge": _hinge_dloss,
    "modified_huber": _modified_huber_dloss,
    "squared_error": _squared_dloss,
}


def dloss(loss, p, y):
    """Derivative of ``loss`` with respect to the decision value ``p``.

    Classification losses take ``y`` in {-1, +1}; ``squared_error`` takes
    real ``y``. The result is clipped to ``[-MAX_DLOSS, MAX_DLOSS]``.

    >>> dloss("hinge", np.array([0.5, 2.0]), np.array([1.0, 1.0]))
    array([-1., -0.])
    >>> float(dloss("log_loss", np.array([0.0]), np.array([-1.0]))[0])
    0.5
    """
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return np.clip(DLOSS[loss](p, y), -MAX_DLOSS, MAX_DLOSS)


def learning_rate(params, t):
    """Step size of round ``t`` (1-based) for the schedule in ``params``.

    ``learning_rate='constant'`` gives ``eta0``; ``'invsqrt'`` gives
    ``eta0 / sqrt(t)``; ``'linear'`` decays linearly from ``eta0`` at t = 1
    to ``eta_final`` (default ``eta0 / 100``) at t = 1 + ``decay_steps`` and
    stays there.

    >>> learning_rate({"learning_rate": "invsqrt", "eta0": 1.0}, 4)
    0.5
    >>> p = {"learning_rate": "linear", "eta0": 1.0, "decay_steps": 4, "eta_final": 0.2}
    >>> [learning_rate(p, t) for t in (1, 3, 5, 9)]
    [1.0, 0.6, 0.2, 0.2]
    """
    schedule = params["learning_rate"]
    eta0 = params["eta0"]
    if schedule == "constant":
        return eta0
    if schedule == "invsqrt":
        return eta0 / float(np.sqrt(t))
    if schedule == "linear":
        eta_final = params.get("eta_final")
        eta_final = 0.01 * eta0 if eta_final is None else eta_final
        frac = min(t - 1, params["decay_steps"]) / params["decay_steps"]
        return (1.0 - frac) * eta0 + frac * eta_final
    raise ValueError(f"unknown learning_rate {schedule!r}")


def soft_threshold(v, a):
    """``sign(v) * max(0, |v| - a)``, elementwise."""
    return np.sign(v) * np.maximum(np.abs(v) - a, 0.0)
