# Online gradient descent, the scikit-learn-style baseline: L2 as weight decay, L1 as the cumulative penalty of
# Tsuruoka, Tsujii & Ananiadou (ACL 2009), exactly as SGDClassifier applies it.
# Per-coordinate state: [w, log S at last touch, q]; globals gs[1] = log S_t, gs[2] = u_t.
#
# Every step multiplies every weight by (1 - eta_t*l2) (kept lazily as the global log-scale S, so absent coordinates
# are caught up exactly when read); the L1 penalty is applied only to the coordinates of the batch, which is what
# makes this scheme approximate as an L1 method (docs/guide/algorithms.rst, online gradient descent).
from ftrlx._kernels._params cimport Params
from ftrlx._kernels._common cimport schedule_eta
from libc.math cimport exp, log, fmax, fmin

cdef enum:
    OGD_W = 0
    OGD_LOGS = 1
    OGD_Q = 2
    OGD_SLOTS = 3
    OGD_ISLOTS = 1    # the intercept's


cdef inline void ogd_read(Params* p, const double* gs) noexcept nogil:
    p.rlogS = gs[1]


cdef inline void ogd_step(Params* p, const double* gs) noexcept nogil:
    p.t = gs[0] + 1.0
    p.eta = schedule_eta(p, p.t)
    p.decay = 1.0 - p.eta * p.l2
    p.logS_new = gs[1] + log(p.decay) if p.l2 != 0.0 else gs[1]
    p.u_new = gs[2] + p.eta * p.l1


cdef inline void ogd_end(const Params* p, double* gs) noexcept nogil:
    gs[1] = p.logS_new
    gs[2] = p.u_new


cdef inline double ogd_weight(const Params* p, const double* s) noexcept nogil:
    if s[OGD_LOGS] == p.rlogS:
        return s[OGD_W]
    return s[OGD_W] * exp(p.rlogS - s[OGD_LOGS])


cdef inline void ogd_update(const Params* p, double* s, double g, double w) noexcept nogil:
    cdef double z
    # w has been caught up to the current scale when it was read; the scale it is stored at is recorded with it
    # (it moves only under L2, but a model given l2=0 by set_params after training with L2 has a scale != 0)
    s[OGD_LOGS] = p.logS_new
    if p.l1 == 0.0 and p.l2 == 0.0:
        s[OGD_W] = w - p.eta * g      # plain SGD: no decay, no penalty
        return
    w = w * p.decay - p.eta * g
    if p.l1 != 0.0:
        # the cumulative L1 penalty, for this step only when L1 is on (q keeps what was applied before)
        z = w
        if w > 0.0:
            w = fmax(0.0, w - (p.u_new + s[OGD_Q]))
        elif w < 0.0:
            w = fmin(0.0, w + (p.u_new - s[OGD_Q]))
        s[OGD_Q] += w - z
    s[OGD_W] = w


cdef inline double ogd_intercept(const Params* p, const double* s) noexcept nogil:
    return s[0]


cdef inline void ogd_intercept_update(const Params* p, double* s, double g, double b) noexcept nogil:
    s[0] = b - p.eta * g
