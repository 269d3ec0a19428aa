"""What the adaptive optimizers of :mod:`ftrlx.optim.adaptive` share: safe ratios, weight decay, moving
averages and the check of Adam's betas."""

import numpy as np

from .base import check_unit_interval


def _ratio(num, den):
    """``num / den`` with 0 where ``den == 0`` (only reached with eps = 0, where num is 0 too)."""
    out = np.zeros(np.broadcast_shapes(np.shape(num), np.shape(den)))
    np.divide(num, den, out=out, where=np.broadcast_to(den != 0, out.shape))
    return out


def _with_decay(g, w, weight_decay):
    return g + weight_decay * w if weight_decay else g


def _check_betas(owner, betas):
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise TypeError(f"{owner}betas must be a pair (beta1, beta2), got {betas!r}.") from None
    check_unit_interval("betas[0]", b1, owner=owner)
    check_unit_interval("betas[1]", b2, owner=owner)
    return float(b1), float(b2)


def _ema(avg, x, beta):
    """In-place exponential moving average ``avg <- beta avg + (1 - beta) x``."""
    avg *= beta
    avg += (1.0 - beta) * x
