# Diagonal AdaGrad (Duchi, Hazan & Singer, JMLR 2011) with optional L1 and L2, in composite-mirror-descent
# ("FOBOS") form or primal-dual ("RDA") form.  Per-coordinate state: [w or u, n - n0, last step touched].
#
# H = eps + sqrt(n)  (eps_placement='outside')  or  sqrt(n + eps)  ('inside'); n starts at the initial accumulator
# n0 (stored as n - n0 so that a fresh state is all zeros).
# FOBOS form: v = w - eta0*g/H;  w = soft(v, eta0*l1/H) / (1 + eta0*l2/H).  While a coordinate is absent H is frozen,
#   so k missed steps compose in closed form: |w| <- c^k |w| - a*c*(1 - c^k)/(1 - c)  (a = eta0*l1/H, c = 1/(1+eta0*l2/H)),
#   or |w| - k*a when l2 = 0; exact.
# RDA form: u = sum of gradients; w after T steps = -eta0 * soft(u, l1*T) / (H + eta0*l2*T); no catch-up needed.
# The intercept follows the same form without penalties.
from ftrlx._kernels._params cimport Params
from ftrlx._kernels._common cimport soft_threshold
from libc.math cimport sqrt, fabs, copysign, pow

cdef enum:
    ADAGRAD_W = 0       # w (FOBOS form) or u (RDA form)
    ADAGRAD_N = 1
    ADAGRAD_LAST = 2
    ADAGRAD_SLOTS = 3
    ADAGRAD_ISLOTS = 2    # the intercept's


cdef inline double adagrad_H(const Params* p, double n_excess) noexcept nogil:
    cdef double n = p.n0 + n_excess
    if p.eps_inside:
        return sqrt(n + p.eps)
    return p.eps + sqrt(n)


cdef inline void adagrad_read(Params* p, const double* gs) noexcept nogil:
    p.rT = gs[0]


cdef inline void adagrad_step(Params* p, const double* gs) noexcept nogil:
    p.t = gs[0] + 1.0


cdef inline void adagrad_end(const Params* p, double* gs) noexcept nogil:
    pass


cdef inline double adagrad_weight(const Params* p, const double* s) noexcept nogil:
    cdef double x = s[ADAGRAD_W], H, k, a, c, ck, mag, den
    if x == 0.0 or (p.l1 == 0.0 and p.l2 == 0.0 and not p.rda_form):
        return x        # nothing to catch up without a regulariser
    H = adagrad_H(p, s[ADAGRAD_N])
    if p.rda_form:
        den = H + p.eta0 * p.l2 * p.rT
        # den = 0: eps = 0 and every g^2 so far underflowed to 0; the coordinate has not moved (as in the FOBOS form)
        return -p.eta0 * soft_threshold(x, p.l1 * p.rT) / den if den > 0.0 else 0.0
    k = p.rT - s[ADAGRAD_LAST]
    if k == 0.0:
        return x
    a = p.eta0 * p.l1 / H
    if p.l2 == 0.0:
        mag = fabs(x) - k * a
    else:
        c = 1.0 / (1.0 + p.eta0 * p.l2 / H)
        ck = pow(c, k)
        mag = ck * fabs(x) - a * c * (1.0 - ck) / (1.0 - c)
    return copysign(mag, x) if mag > 0.0 else 0.0


cdef inline void adagrad_update(const Params* p, double* s, double g, double w) noexcept nogil:
    cdef double H
    s[ADAGRAD_N] += g * g
    s[ADAGRAD_LAST] = p.t
    if p.rda_form:
        s[ADAGRAD_W] += g
        return
    H = adagrad_H(p, s[ADAGRAD_N])
    if H == 0.0:        # g = 0 and n = 0: nothing has ever moved this coordinate
        s[ADAGRAD_W] = w
    elif p.l1 == 0.0 and p.l2 == 0.0:
        s[ADAGRAD_W] = w - p.eta0 * g / H
    else:
        s[ADAGRAD_W] = soft_threshold(w - p.eta0 * g / H, p.eta0 * p.l1 / H) / (1.0 + p.eta0 * p.l2 / H)


cdef inline double adagrad_intercept(const Params* p, const double* s) noexcept nogil:
    # The intercept is an unregularised coordinate of the same algorithm: a primal AdaGrad step in FOBOS form,
    # dual averaging (b = -eta0 u_b / H_b) in RDA form.  Its state is [b or u_b, n_b - n0].
    cdef double H
    if not p.rda_form or s[0] == 0.0:
        return s[0]
    H = adagrad_H(p, s[1])
    return -p.eta0 * s[0] / H if H > 0.0 else 0.0      # H = 0: see adagrad_weight


cdef inline void adagrad_intercept_update(const Params* p, double* s, double g, double b) noexcept nogil:
    cdef double H
    s[1] += g * g
    if p.rda_form:
        s[0] += g
        return
    H = adagrad_H(p, s[1])
    s[0] = b - p.eta0 * g / H if H > 0.0 else b
