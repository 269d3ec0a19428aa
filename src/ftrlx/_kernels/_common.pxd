# Shared declarations for the online-learning kernels: index/value types, losses (derivative with respect to the
# margin) and learning-rate schedules.
#
# Everything here is `noexcept nogil` and inline: the row-loop driver in _online.pyx calls these once per row
# (losses, schedules) or once per non-zero (soft threshold).

from libc.math cimport sqrt, exp, fabs, copysign, fmax
from libc.stdint cimport int32_t, int64_t

from ftrlx._kernels._params cimport Params   # the parameter struct every algorithm reads (generated)

ctypedef fused index_t:
    int32_t
    int64_t

# Loss codes (mirrored in LOSSES of ftrlx/linear_model/_base.py).
cdef enum:
    LOSS_LOG = 0
    LOSS_HINGE = 1
    LOSS_MODIFIED_HUBER = 2
    LOSS_SQUARED = 3

# Learning-rate schedule codes.
cdef enum:
    SCHED_CONSTANT = 0
    SCHED_INVSQRT = 1
    SCHED_LINEAR = 2


cdef inline double soft_threshold(double v, double a) noexcept nogil:
    """sign(v) * max(0, |v| - a): the proximal operator of a*|.|

    Without a branch on the sign of v, which changes from one coordinate to the next with no pattern a branch
    predictor could learn: |v| - a, clipped at 0, given v's sign (exactly v - a or v + a).  The + 0.0 turns the
    -0.0 of a negative v inside [-a, a] into +0.0."""
    cdef double mag = fabs(v) - a
    mag = mag if mag > 0.0 else 0.0
    return copysign(mag, v) + 0.0


cdef inline double dloss(int loss, double m, double y) noexcept nogil:
    """Derivative of the loss with respect to the margin m; y in {-1, +1} for classification."""
    cdef double z, e, d
    if loss == LOSS_LOG:
        z = y * m
        # -y * expit(-z), branch-wise so that exp never overflows
        if z >= 0.0:
            e = exp(-z)
            d = -y * e / (1.0 + e)
        else:
            d = -y / (1.0 + exp(z))
    elif loss == LOSS_HINGE:
        d = -y if y * m <= 1.0 else 0.0
    elif loss == LOSS_MODIFIED_HUBER:
        z = y * m
        if z >= 1.0:
            d = 0.0
        elif z >= -1.0:
            d = -2.0 * y * (1.0 - z)
        else:
            d = -4.0 * y
    else:
        d = m - y
    # clipped like scikit-learn's MAX_DLOSS, so that one absurd row cannot produce inf
    if d > 1e12:
        return 1e12
    if d < -1e12:
        return -1e12
    return d


cdef inline double schedule_eta(const Params* p, double t) noexcept nogil:
    """Learning rate of step t (t = 1, 2, ...)."""
    cdef double k
    if p.schedule == SCHED_INVSQRT:
        return p.eta0 / sqrt(t)
    if p.schedule == SCHED_LINEAR:
        k = t - 1.0
        if k < p.decay_steps:
            return (1.0 - k / p.decay_steps) * p.eta0 + (k / p.decay_steps) * p.eta_final
        return p.eta_final
    return p.eta0
