# FTRL-Proximal (McMahan et al., KDD 2013, Algorithm 1).  Per-coordinate state: [z, sqrt(n)].
# Lazy without catch-up: an absent coordinate has g = 0, hence sigma = 0 and z, n unchanged; L1/L2 act in
# closed form whenever the weight is read.
# The state keeps sqrt(n) rather than n (n = sum of squared gradients): reading a weight then needs no square root
# and an update one instead of two, and sigma's cancellation-free form uses sqrt(n) directly.
from ftrlx._kernels._params cimport Params
from libc.math cimport sqrt, fabs, copysign, fmax
from libc.stdint cimport uint64_t
from libc.string cimport memcpy

cdef enum:
    FTRL_Z = 0
    FTRL_SQRT_N = 1
    FTRL_SLOTS = 2
    FTRL_ISLOTS = 2    # the intercept's


cdef inline double ftrl_closed_form(double z, double sqrt_n, double alpha, double beta_l2, double l1) noexcept nogil:
    # w = 0 if |z| <= l1 else -(z - sgn(z) l1) / ((beta + sqrt(n)) / alpha + l2)
    #   = alpha (sgn(z) l1 - z) / (beta_l2 + sqrt(n)),  with beta_l2 = beta + alpha l2 computed once per call
    if fabs(z) <= l1:
        return 0.0
    return alpha * (copysign(l1, z) - z) / (beta_l2 + sqrt_n)


cdef inline void ftrl_read(Params* p, const double* gs) noexcept nogil:
    p.rscale = p.beta + p.alpha * p.l2      # the constant part of the weight's denominator


cdef inline void ftrl_step(Params* p, const double* gs) noexcept nogil:
    pass


cdef inline void ftrl_end(const Params* p, double* gs) noexcept nogil:
    pass


cdef inline double ftrl_weight(const Params* p, const double* s) noexcept nogil:
    return ftrl_closed_form(s[FTRL_Z], s[FTRL_SQRT_N], p.alpha, p.rscale, p.l1)


cdef inline void ftrl_accumulate(double* s, double g, double w, double alpha) noexcept nogil:
    # sigma = (sqrt(n + g^2) - sqrt(n)) / alpha, written without the cancellation of the difference:
    # g^2 / (alpha (sqrt(n + g^2) + sqrt(n)))
    cdef double root = s[FTRL_SQRT_N]
    cdef double g2 = g * g
    cdef double new_root = sqrt(root * root + g2)
    cdef double root_sum = new_root + root
    cdef double sigma = g2 / (alpha * root_sum) if root_sum > 0.0 else 0.0
    s[FTRL_Z] += g - sigma * w
    s[FTRL_SQRT_N] = new_root


cdef inline void ftrl_accumulate_scaled(double* s, double g, double w, double alpha) noexcept nogil:
    # ftrl_accumulate for sqrt(n) and |g| both below 2^-511, whose squares underflow (g^2 is 0 below 2^-537: n would
    # stay 0 while z moves, and with beta = l2 = 0 the weight would be z / 0): the same formula on the values scaled
    # by 2^600 (exactly), the results scaled back, so that sqrt(n) >= |g| > 0 whenever g != 0
    cdef double r = s[FTRL_SQRT_N] * 4.149515568880993e+180             # 2^600
    cdef double gu = g * 4.149515568880993e+180
    cdef double g2 = gu * gu
    cdef double new_root = sqrt(r * r + g2)
    cdef double root_sum = new_root + r
    cdef double sigma = g2 / (alpha * root_sum) if root_sum > 0.0 else 0.0
    s[FTRL_Z] += g - (sigma * 2.409919865102884e-181) * w              # 2^-600
    s[FTRL_SQRT_N] = new_root * 2.409919865102884e-181


cdef inline bint ftrl_tiny(double root, double g) noexcept nogil:
    return fmax(root, fabs(g)) < 1.4916681462400413e-154                # 2^-511


cdef inline void ftrl_accumulate_exact(double* s, double g, double w, double alpha) noexcept nogil:
    # ftrl_accumulate, bit for bit, except where the squares underflow (a branch: for the loops that do not vectorize)
    if ftrl_tiny(s[FTRL_SQRT_N], g):
        ftrl_accumulate_scaled(s, g, w, alpha)
    else:
        ftrl_accumulate(s, g, w, alpha)


cdef inline bint ftrl_suspect(const double* sbuf, Py_ssize_t n) noexcept nogil:
    """Whether one of n coordinates just updated by ``ftrl_accumulate`` may have met underflowing squares: sqrt(n)
    below 2^-511 with z != 0 (sqrt(n) >= 2^-511 otherwise).  Integer arithmetic without a branch (the loop
    vectorizes): sqrt(n) >= 0, so its bits compare as integers."""
    cdef Py_ssize_t k
    cdef uint64_t zb, rb, acc = 0
    for k in range(n):
        memcpy(&zb, sbuf + 2 * k + FTRL_Z, sizeof(uint64_t))
        memcpy(&rb, sbuf + 2 * k + FTRL_SQRT_N, sizeof(uint64_t))
        zb = zb << 1                                                    # 0 iff z is +-0
        acc |= ((rb - 0x2000000000000000ULL) >> 63) & ((zb | (0 - zb)) >> 63)   # 2^-511 has bits 0x2000...
    return acc != 0


cdef inline void ftrl_update(const Params* p, double* s, double g, double w) noexcept nogil:
    # the fast form, for the gathered loop, which then looks for suspects (ftrl_suspect) and redoes their row
    ftrl_accumulate(s, g, w, p.alpha)


cdef inline void ftrl_update_exact(const Params* p, double* s, double g, double w) noexcept nogil:
    ftrl_accumulate_exact(s, g, w, p.alpha)


cdef inline double ftrl_intercept(const Params* p, const double* s) noexcept nogil:
    return ftrl_closed_form(s[FTRL_Z], s[FTRL_SQRT_N], p.alpha, p.beta, 0.0)


cdef inline void ftrl_intercept_update(const Params* p, double* s, double g, double b) noexcept nogil:
    ftrl_accumulate_exact(s, g, b, p.alpha)
