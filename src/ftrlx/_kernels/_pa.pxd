# Passive-aggressive classification (Crammer, Dekel, Keshet, Shalev-Shwartz & Singer, "Online Passive-Aggressive
# Algorithms", JMLR 2006).  After each row, the smallest change of the weights that gives the row a hinge loss of
# zero (PA), with the step capped at C (PA-I), or traded against the loss through a squared slack (PA-II):
#
#     loss = max(0, 1 - y m),   tau = loss / |x|^2  |  min(C, loss / |x|^2)  |  loss / (|x|^2 + 1 / (2 C)),
#     w <- w + tau y x,   b <- b + tau y.
#
# The step size depends on the row (its loss and squared norm), so the algorithm gives the driver its own row
# gradient, -tau y, and the update of a coordinate is the plain step w - g.  There is no regulariser, so nothing is
# lazy: the state of a coordinate is its weight.
from libc.math cimport fmin

from ftrlx._kernels._params cimport Params

cdef enum:
    PA_W = 0
    PA_SLOTS = 1
    PA_ISLOTS = 1    # the intercept's
    # the ``variant`` codes (ftrlx.linear_model._pa.VARIANTS)
    PA_PLAIN = 0
    PA_ONE = 1
    PA_TWO = 2


cdef inline void pa_read(Params* p, const double* gs) noexcept nogil:
    pass


cdef inline void pa_step(Params* p, const double* gs) noexcept nogil:
    pass


cdef inline void pa_end(const Params* p, double* gs) noexcept nogil:
    pass


cdef inline double pa_row_gradient(const Params* p, int loss, double m, double y, double sqnorm) noexcept nogil:
    """-tau y: the row's step as a gradient (the driver multiplies it by the sample weight and each value)."""
    cdef double hinge = 1.0 - y * m, tau
    if hinge <= 0.0:
        return 0.0      # passive: the row is classified with a margin of at least 1
    if p.variant == PA_TWO:
        tau = hinge / (sqnorm + 0.5 / p.C)
    elif sqnorm == 0.0:
        return 0.0      # an empty row: no change of the weights can help it (the intercept is left alone too)
    elif p.variant == PA_ONE:
        tau = fmin(p.C, hinge / sqnorm)
    else:
        tau = hinge / sqnorm
    return -y * tau


cdef inline double pa_weight(const Params* p, const double* s) noexcept nogil:
    return s[PA_W]


cdef inline void pa_update(const Params* p, double* s, double g, double w) noexcept nogil:
    s[PA_W] = w - g


cdef inline double pa_intercept(const Params* p, const double* s) noexcept nogil:
    return s[0]


cdef inline void pa_intercept_update(const Params* p, double* s, double g, double b) noexcept nogil:
    s[0] = b - g
