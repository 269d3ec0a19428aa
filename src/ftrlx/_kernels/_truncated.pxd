# Truncated gradient (Langford, Li & Zhang, JMLR 2009) with an exact lazy catch-up.
# Per-coordinate state: [w, G at last touch]; global gs[1] = G_t.
#
# Every K-th step truncates:  T1(v, alpha_t, theta) with gravity alpha_t = K*eta_t*g  (truncation='gradient'), or
# simple rounding T0 (zero |v| <= theta, truncation='rounding').  While a coordinate is absent it only shrinks toward
# 0, so if |w| > theta nothing ever applies, and otherwise the truncations add up: G_t is the running sum of the
# alpha's of the truncation events (or, for rounding, their count).
from ftrlx._kernels._params cimport Params
from ftrlx._kernels._common cimport schedule_eta, soft_threshold
from libc.math cimport fabs, copysign
from libc.stdint cimport int64_t

cdef enum:
    TG_W = 0
    TG_G = 1
    TG_SLOTS = 2
    TG_ISLOTS = 1    # the intercept's


cdef inline void tg_read(Params* p, const double* gs) noexcept nogil:
    p.rG = gs[1]


cdef inline void tg_step(Params* p, const double* gs) noexcept nogil:
    cdef int64_t t = <int64_t>gs[0] + 1
    p.t = <double>t
    p.eta = schedule_eta(p, p.t)
    p.truncate = (t % p.period) == 0
    p.a = p.period * p.eta * p.gravity          # this step's gravity alpha_t
    if p.truncate:
        p.G_new = gs[1] + (1.0 if p.rounding else p.a)
    else:
        p.G_new = gs[1]


cdef inline void tg_end(const Params* p, double* gs) noexcept nogil:
    gs[1] = p.G_new


cdef inline double tg_weight(const Params* p, const double* s) noexcept nogil:
    cdef double w = s[TG_W], shrink
    if w == 0.0 or fabs(w) > p.theta or s[TG_G] == p.rG:
        return w
    if p.rounding:
        return 0.0
    shrink = fabs(w) - (p.rG - s[TG_G])
    return copysign(shrink, w) if shrink > 0.0 else 0.0


cdef inline double truncate_one(double v, double alpha, double theta, int rounding) noexcept nogil:
    # T1(v, alpha, theta) or T0(v, theta)
    if fabs(v) > theta:
        return v
    if rounding:
        return 0.0
    return soft_threshold(v, alpha)     # inside [-theta, theta], T1 is the soft threshold


cdef inline void tg_update(const Params* p, double* s, double g, double w) noexcept nogil:
    cdef double v = w - p.eta * g
    if p.truncate:
        v = truncate_one(v, p.a, p.theta, p.rounding)
    s[TG_W] = v
    s[TG_G] = p.G_new


cdef inline double tg_intercept(const Params* p, const double* s) noexcept nogil:
    return s[0]


cdef inline void tg_intercept_update(const Params* p, double* s, double g, double b) noexcept nogil:
    s[0] = b - p.eta * g
