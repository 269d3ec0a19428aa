# LazyAdam (TensorFlow Addons semantics).  Per-coordinate state: [w, m, v]; global step t.
# Only the coordinates present in the batch update m, v and w; absent ones are left untouched (not decayed).  The
# bias correction uses the *global* step, so a coordinate first seen late takes a larger first step than Adam's.
from ftrlx._kernels._params cimport Params
from libc.math cimport sqrt, pow

cdef enum:
    ADAM_W = 0
    ADAM_M = 1
    ADAM_V = 2
    LAZY_ADAM_SLOTS = 3
    LAZY_ADAM_ISLOTS = 3    # the intercept's


cdef inline void lazy_adam_read(Params* p, const double* gs) noexcept nogil:
    pass


cdef inline void lazy_adam_step(Params* p, const double* gs) noexcept nogil:
    p.t = gs[0] + 1.0
    p.lr_t = p.eta0 * sqrt(1.0 - pow(p.beta2, p.t)) / (1.0 - pow(p.beta1, p.t))


cdef inline void lazy_adam_end(const Params* p, double* gs) noexcept nogil:
    pass


cdef inline double lazy_adam_weight(const Params* p, const double* s) noexcept nogil:
    return s[ADAM_W]


cdef inline void lazy_adam_update(const Params* p, double* s, double g, double w) noexcept nogil:
    cdef double m = p.beta1 * s[ADAM_M] + (1.0 - p.beta1) * g
    cdef double v = p.beta2 * s[ADAM_V] + (1.0 - p.beta2) * g * g
    cdef double denom = sqrt(v) + p.epsilon
    s[ADAM_M] = m
    s[ADAM_V] = v
    # denom = 0 only when epsilon = 0 and every gradient so far was 0 (so m = 0 too): no move, not 0/0
    s[ADAM_W] = w - p.lr_t * m / denom if denom > 0.0 else w


cdef inline double lazy_adam_intercept(const Params* p, const double* s) noexcept nogil:
    return s[ADAM_W]


cdef inline void lazy_adam_intercept_update(const Params* p, double* s, double g, double b) noexcept nogil:
    lazy_adam_update(p, s, g, b)
