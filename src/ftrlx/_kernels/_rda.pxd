# L1-RDA and enhanced L1-RDA (Xiao, JMLR 2010).  Per-coordinate state: [u] (sum of gradients); global t.
# Lazy without catch-up: the weight after t steps is a closed form of (u, t), so every weight drifts with t and
# is computed when read.
from ftrlx._kernels._params cimport Params
from libc.math cimport sqrt, fabs, copysign

cdef enum:
    RDA_U = 0
    RDA_SLOTS = 1
    RDA_ISLOTS = 1    # the intercept's


cdef inline void rda_read(Params* p, const double* gs) noexcept nogil:
    # weights after T steps: zero iff |u| <= l1*T + gamma*rho*sqrt(T), else -(u - sgn(u)*thr) / (gamma*sqrt(T))
    cdef double T = gs[0]
    p.rT = T
    p.rthr = p.l1 * T + p.gamma * p.rho * sqrt(T)
    p.rscale = p.gamma * sqrt(T)


cdef inline void rda_step(Params* p, const double* gs) noexcept nogil:
    pass


cdef inline void rda_end(const Params* p, double* gs) noexcept nogil:
    pass


cdef inline double rda_weight(const Params* p, const double* s) noexcept nogil:
    cdef double u = s[RDA_U]
    if fabs(u) <= p.rthr:       # also covers T = 0, where u = 0
        return 0.0
    return -(u - copysign(p.rthr, u)) / p.rscale


cdef inline void rda_update(const Params* p, double* s, double g, double w) noexcept nogil:
    s[RDA_U] += g


cdef inline double rda_intercept(const Params* p, const double* s) noexcept nogil:
    if p.rT == 0.0:
        return 0.0
    return -s[RDA_U] / p.rscale


cdef inline void rda_intercept_update(const Params* p, double* s, double g, double b) noexcept nogil:
    s[RDA_U] += g
