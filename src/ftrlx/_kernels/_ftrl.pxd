# FTRL-Proximal (McMahan et al., KDD 2013, Algorithm 1).  Per-coordinate state: [z, sqrt(n)].
# Lazy without catch-up: an absent coordinate has g = 0, hence sigma = 0 and z, n unchanged; L1/L2 act in
# closed form whenever the weight is read.
# The state keeps sqrt(n) rather than n (n = sum of squared gradients): reading a weight then needs no square root
# and an update one instead of two, and sigma's cancellation-free form uses sqrt(n) directly.
from ftrlx._kernels._common cimport Params
from libc.math cimport sqrt, fabs, copysign

cdef enum:
    FTRL_Z = 0
    FTRL_SQRT_N = 1
    FTRL_SLOTS = 2


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


cdef inline void ftrl_update(const Params* p, double* s, double g, double w) noexcept nogil:
    ftrl_accumulate(s, g, w, p.alpha)


cdef inline double ftrl_intercept(const Params* p, const double* s) noexcept nogil:
    return ftrl_closed_form(s[FTRL_Z], s[FTRL_SQRT_N], p.alpha, p.beta, 0.0)


cdef inline void ftrl_intercept_update(const Params* p, double* s, double g, double b) noexcept nogil:
    ftrl_accumulate(s, g, b, p.alpha)
