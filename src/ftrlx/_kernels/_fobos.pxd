# L1/L2 FOBOS (Duchi & Singer, JMLR 2009) with an exact lazy catch-up.
# Per-coordinate state: [w, logP at last touch, B at last touch]; globals gs[1] = log P_t, gs[2] = B_t.
#
# Every step applies to every coordinate the prox  w <- c_t * soft(w, a_t),  a_t = eta_t*l1, c_t = 1/(1 + eta_t*l2).
# For a coordinate absent from step s+1 to e the composition is closed-form (the weight only shrinks toward 0):
#     |w_e| = max(0, (P_e/P_s) * |w_s| - (B_e - (P_e/P_s) * B_s)),
# with P_t = prod_{r<=t} c_r and B_t = c_t * (B_{t-1} + a_t).  P is kept as a logarithm (it underflows), B is
# bounded; with l2 = 0, P = 1 and B is the prefix sum of the thresholds.
from ftrlx._kernels._params cimport Params
from ftrlx._kernels._common cimport soft_threshold, schedule_eta
from libc.math cimport exp, log, fabs, copysign

cdef enum:
    FOBOS_W = 0
    FOBOS_LOGP = 1
    FOBOS_B = 2
    FOBOS_SLOTS = 3
    FOBOS_ISLOTS = 1    # the intercept's


cdef inline void fobos_read(Params* p, const double* gs) noexcept nogil:
    p.rlogP = gs[1]
    p.rB = gs[2]


cdef inline void fobos_step(Params* p, const double* gs) noexcept nogil:
    p.t = gs[0] + 1.0
    p.eta = schedule_eta(p, p.t)
    p.a = p.eta * p.l1
    p.c = 1.0 / (1.0 + p.eta * p.l2)
    p.logP_new = gs[1] + log(p.c)
    p.B_new = p.c * (gs[2] + p.a)


cdef inline void fobos_end(const Params* p, double* gs) noexcept nogil:
    gs[1] = p.logP_new
    gs[2] = p.B_new


cdef inline double prox_catch_up(double w, double logP_last, double B_last, double logP_now, double B_now) noexcept nogil:
    cdef double ratio, mag
    if w == 0.0:
        return 0.0
    ratio = 1.0 if logP_last == logP_now else exp(logP_now - logP_last)
    mag = ratio * fabs(w) - (B_now - ratio * B_last)
    return copysign(mag, w) if mag > 0.0 else 0.0


cdef inline double fobos_weight(const Params* p, const double* s) noexcept nogil:
    return prox_catch_up(s[FOBOS_W], s[FOBOS_LOGP], s[FOBOS_B], p.rlogP, p.rB)


cdef inline void fobos_update(const Params* p, double* s, double g, double w) noexcept nogil:
    # w is already caught up to the start of the step: forward (gradient) step, then the prox of this step
    s[FOBOS_W] = p.c * soft_threshold(w - p.eta * g, p.a)
    s[FOBOS_LOGP] = p.logP_new
    s[FOBOS_B] = p.B_new


cdef inline double fobos_intercept(const Params* p, const double* s) noexcept nogil:
    return s[0]


cdef inline void fobos_intercept_update(const Params* p, double* s, double g, double b) noexcept nogil:
    s[0] = b - p.eta * g
