"""Row-loop driver shared by every sparse online learner.

One driver, ``fit_rows``, visits the rows of a CSR matrix in batches and, per batch,

1. computes each row's margin with the weights as they are at the start of the batch (lazy algorithms bring the
   row's coordinates up to date while reading them),
2. turns the margins into per-row loss derivatives (mean over the batch, times the sample weights),
3. applies one update per coordinate present in the batch (duplicates merged) and one to the intercept,
4. advances the global step counter.

The algorithm is a compile-time parameter: ``Algo`` is a fused type of empty tag structs, and the small
``read_time``/``weight``/``step``/``update``/... dispatchers below resolve to one named inline function per
algorithm (``ftrl_update``, ``fobos_update``, ...), defined in the ``_<algorithm>.pxd`` files next to this one.
So each algorithm gets its own specialised loop with no branch on the algorithm inside it.

The kernel sees only arrays, scalars and a ``Params`` struct; hyper-parameters and labels are validated in the
estimators.  State is float64 whatever the input dtype.  ``fit_rows`` relies on canonical CSR rows (no column twice),
indices in [0, n_features) and finite values.  Either the caller has checked them (``ftrlx._kernels._check``, before
touching a fitted model's state) or ``fit_blocks`` checks each block of rows just before training on it (fresh
state, which the caller discards on a fault): one pass over memory instead of two.
"""
from cython cimport floating
from libc.math cimport isfinite
from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport malloc, free, qsort
from libc.string cimport memset

from ftrlx._kernels._common cimport Params, index_t, dloss
from ftrlx._kernels._ftrl cimport *
from ftrlx._kernels._rda cimport *
from ftrlx._kernels._fobos cimport *
from ftrlx._kernels._truncated cimport *
from ftrlx._kernels._adagrad cimport *
from ftrlx._kernels._lazy_adam cimport *
from ftrlx._kernels._ogd cimport *
from ftrlx._kernels._scan cimport CSRFault, CSR_CANONICAL, check_indptr, scan_rows

import numpy as np

cdef extern from *:
    # GCC/Clang builtin: ask for a cache line ahead of use (read, keep in all cache levels)
    void prefetch "__builtin_prefetch"(const void* addr) noexcept nogil

# Algorithm codes, state sizes: (per coordinate, intercept).  The global state array has GLOBAL_SLOTS entries,
# gs[0] being the number of steps taken.
ALGORITHMS = {
    "ftrl": (0, FTRL_SLOTS, 2),
    "rda": (1, RDA_SLOTS, 1),
    "fobos": (2, FOBOS_SLOTS, 1),
    "truncated_gradient": (3, TG_SLOTS, 1),
    "adagrad": (4, ADAGRAD_SLOTS, 2),
    "lazy_adam": (5, ADAM_SLOTS, 3),
    "ogd": (6, OGD_SLOTS, 1),
}
GLOBAL_SLOTS = 3
_SLOTS_BY_CODE = {code: (n_slots, n_islots) for code, n_slots, n_islots in ALGORITHMS.values()}


def _check_state(int algo, Py_ssize_t n_slots, Py_ssize_t n_islots, Py_ssize_t n_global):
    # the drivers address the state with the algorithm's stride as a compile-time constant
    if algo not in _SLOTS_BY_CODE:
        raise ValueError(f"unknown algorithm code {algo}")
    want = _SLOTS_BY_CODE[algo]
    if (n_slots, n_islots) != want or n_global < GLOBAL_SLOTS:
        raise ValueError(f"state arrays of shape (.., {n_slots}), ({n_islots},), ({n_global},) do not fit algorithm "
                         f"{algo}: it needs (.., {want[0]}), ({want[1]},), ({GLOBAL_SLOTS},)")


cdef struct FTRLTag:
    char unused
cdef struct RDATag:
    char unused
cdef struct FOBOSTag:
    char unused
cdef struct TGTag:
    char unused
cdef struct AdaGradTag:
    char unused
cdef struct LazyAdamTag:
    char unused
cdef struct OGDTag:
    char unused

ctypedef fused Algo:
    FTRLTag
    RDATag
    FOBOSTag
    TGTag
    AdaGradTag
    LazyAdamTag
    OGDTag


# ---- compile-time dispatch: one line per algorithm, resolved when the fused driver is specialised ----

cdef inline void read_time(Algo* a, Params* p, const double* gs) noexcept nogil:
    if Algo is FTRLTag: ftrl_read(p, gs)
    elif Algo is RDATag: rda_read(p, gs)
    elif Algo is FOBOSTag: fobos_read(p, gs)
    elif Algo is TGTag: tg_read(p, gs)
    elif Algo is AdaGradTag: adagrad_read(p, gs)
    elif Algo is LazyAdamTag: lazy_adam_read(p, gs)
    else: ogd_read(p, gs)


cdef inline void begin_step(Algo* a, Params* p, const double* gs) noexcept nogil:
    if Algo is FTRLTag: ftrl_step(p, gs)
    elif Algo is RDATag: rda_step(p, gs)
    elif Algo is FOBOSTag: fobos_step(p, gs)
    elif Algo is TGTag: tg_step(p, gs)
    elif Algo is AdaGradTag: adagrad_step(p, gs)
    elif Algo is LazyAdamTag: lazy_adam_step(p, gs)
    else: ogd_step(p, gs)


cdef inline void end_step(Algo* a, const Params* p, double* gs) noexcept nogil:
    if Algo is FTRLTag: ftrl_end(p, gs)
    elif Algo is RDATag: rda_end(p, gs)
    elif Algo is FOBOSTag: fobos_end(p, gs)
    elif Algo is TGTag: tg_end(p, gs)
    elif Algo is AdaGradTag: adagrad_end(p, gs)
    elif Algo is LazyAdamTag: lazy_adam_end(p, gs)
    else: ogd_end(p, gs)
    gs[0] += 1.0


cdef inline double weight(Algo* a, const Params* p, const double* s) noexcept nogil:
    if Algo is FTRLTag: return ftrl_weight(p, s)
    elif Algo is RDATag: return rda_weight(p, s)
    elif Algo is FOBOSTag: return fobos_weight(p, s)
    elif Algo is TGTag: return tg_weight(p, s)
    elif Algo is AdaGradTag: return adagrad_weight(p, s)
    elif Algo is LazyAdamTag: return lazy_adam_weight(p, s)
    else: return ogd_weight(p, s)


cdef inline void update(Algo* a, const Params* p, double* s, double g, double w) noexcept nogil:
    if Algo is FTRLTag: ftrl_update(p, s, g, w)
    elif Algo is RDATag: rda_update(p, s, g, w)
    elif Algo is FOBOSTag: fobos_update(p, s, g, w)
    elif Algo is TGTag: tg_update(p, s, g, w)
    elif Algo is AdaGradTag: adagrad_update(p, s, g, w)
    elif Algo is LazyAdamTag: lazy_adam_update(p, s, g, w)
    else: ogd_update(p, s, g, w)


cdef inline double intercept(Algo* a, const Params* p, const double* s) noexcept nogil:
    if Algo is FTRLTag: return ftrl_intercept(p, s)
    elif Algo is RDATag: return rda_intercept(p, s)
    elif Algo is FOBOSTag: return fobos_intercept(p, s)
    elif Algo is TGTag: return tg_intercept(p, s)
    elif Algo is AdaGradTag: return adagrad_intercept(p, s)
    elif Algo is LazyAdamTag: return lazy_adam_intercept(p, s)
    else: return ogd_intercept(p, s)


cdef inline void intercept_update(Algo* a, const Params* p, double* s, double g, double b) noexcept nogil:
    if Algo is FTRLTag: ftrl_intercept_update(p, s, g, b)
    elif Algo is RDATag: rda_intercept_update(p, s, g, b)
    elif Algo is FOBOSTag: fobos_intercept_update(p, s, g, b)
    elif Algo is TGTag: tg_intercept_update(p, s, g, b)
    elif Algo is AdaGradTag: adagrad_intercept_update(p, s, g, b)
    elif Algo is LazyAdamTag: lazy_adam_intercept_update(p, s, g, b)
    else: ogd_intercept_update(p, s, g, b)


cdef inline Py_ssize_t slots(Algo* a) noexcept nogil:
    # the state stride as a compile-time constant, so that addressing a coordinate is a shift or a lea
    if Algo is FTRLTag: return FTRL_SLOTS
    elif Algo is RDATag: return RDA_SLOTS
    elif Algo is FOBOSTag: return FOBOS_SLOTS
    elif Algo is TGTag: return TG_SLOTS
    elif Algo is AdaGradTag: return ADAGRAD_SLOTS
    elif Algo is LazyAdamTag: return ADAM_SLOTS
    else: return OGD_SLOTS


cdef inline bint gathers(Algo* a) noexcept nogil:
    # Whether the one-row step copies the row's coordinates into a buffer first.  Worth it where the weight and
    # the update vectorize: FTRL (a division per weight, a square root and a division per update) and RDA (a
    # division per weight), each about 20% and 50% faster for it.  The others have catch-up branches or three
    # slots per coordinate, and the copies made them slower.
    return Algo is FTRLTag or Algo is RDATag


cdef inline void copy_slots(const double* src, double* dst, const Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        dst[j] = src[j]


# ---- the drivers ----

cdef struct Entry:
    int64_t j       # column
    int64_t k       # position in the batch, so that merged gradients are summed in row order
    double g        # gradient contribution (first the feature value, then times the row's dloss)
    double w        # weight at the start of the batch


cdef int compare_entries(const void* a, const void* b) noexcept nogil:
    cdef const Entry* x = <const Entry*>a
    cdef const Entry* y = <const Entry*>b
    if x.j != y.j:
        return -1 if x.j < y.j else 1
    return -1 if x.k < y.k else (1 if x.k > y.k else 0)


cdef inline void prefetch_row(const index_t* indices, const index_t* indptr, Py_ssize_t i, const double* state,
                              const Py_ssize_t stride) noexcept nogil:
    # Hashed features land anywhere in a state far larger than the caches: fetching the next row's coordinates
    # while the current row is computed hides most of the memory latency, which dominates the cost per non-zero.
    cdef Py_ssize_t k
    for k in range(indptr[i], indptr[i + 1]):
        prefetch(state + indices[k] * stride)


cdef Py_ssize_t fit_rows(Algo* a, Params* p_in,
                         const floating* data, const index_t* indices, const index_t* indptr,
                         const double* y, const double* sw, const int64_t* order, Py_ssize_t n_rows,
                         double* state, double* istate, double* gs,
                         int loss, Py_ssize_t batch_size, bint fit_intercept, Entry* buf,
                         double* wbuf, double* sbuf) noexcept nogil:
    """Train on n_rows rows; return -1, or the position of the first row whose margin is not finite."""
    # A local copy of the parameters: the compiler can then see that no store to the state changes them, and keeps
    # them in registers instead of reloading them after every update.
    cdef Params params = p_in[0]
    cdef Params* p = &params
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t b0 = 0, b1, r, i, k, e, e0, n_entries, k0, k1
    cdef double m, b, d, g, w, gb, inv_nb
    cdef int64_t j
    while b0 < n_rows:
        b1 = b0 + batch_size if b0 + batch_size < n_rows else n_rows
        inv_nb = 1.0 / (b1 - b0)
        read_time(a, p, gs)
        b = intercept(a, p, istate) if fit_intercept else 0.0

        if b1 - b0 == 1:
            # one-row step (classic online learning): the row is canonical, so only its weights need keeping
            i = order[b0] if order != NULL else b0
            k0 = indptr[i]
            k1 = indptr[i + 1]
            m = b
            if gathers(a):
                # the row's coordinates copied into one contiguous buffer: the weights and the updates are then
                # plain loops over it, which the compiler turns into SIMD (two divisions and square roots at once)
                for k in range(k0, k1):
                    copy_slots(state + indices[k] * stride, sbuf + (k - k0) * stride, stride)
                for k in range(k1 - k0):
                    wbuf[k] = weight(a, p, sbuf + k * stride)
                for k in range(k0, k1):
                    m += wbuf[k - k0] * data[k]
            else:
                for k in range(k0, k1):
                    w = weight(a, p, state + indices[k] * stride)
                    m += w * data[k]
                    wbuf[k - k0] = w
            if not isfinite(m):
                return b0
            d = dloss(loss, m, y[i]) * sw[i]
            # the next row's coordinates are fetched now, behind this row's updates: issued before the margin,
            # the prefetches would compete with its loads, which are on the critical path of every step
            if b1 < n_rows:
                prefetch_row(indices, indptr, order[b1] if order != NULL else b1, state, stride)
            begin_step(a, p, gs)
            if gathers(a):
                # nothing has written the state since the copy (a canonical row names each column once)
                for k in range(k1 - k0):
                    update(a, p, sbuf + k * stride, d * data[k0 + k], wbuf[k])
                for k in range(k0, k1):
                    copy_slots(sbuf + (k - k0) * stride, state + indices[k] * stride, stride)
            else:
                for k in range(k0, k1):
                    update(a, p, state + indices[k] * stride, d * data[k], wbuf[k - k0])
            if fit_intercept:
                intercept_update(a, p, istate, d, b)
            end_step(a, p, gs)
            b0 = b1
            continue

        # 1. margins at the batch-start weights; remember (column, value, weight) of every non-zero
        n_entries = 0
        gb = 0.0
        for r in range(b0, b1):
            i = order[r] if order != NULL else r
            if r + 1 < n_rows:
                prefetch_row(indices, indptr, order[r + 1] if order != NULL else r + 1, state, stride)
            m = b
            e0 = n_entries
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                w = weight(a, p, state + j * stride)
                m += w * data[k]
                buf[n_entries].j = j
                buf[n_entries].k = n_entries
                buf[n_entries].g = data[k]
                buf[n_entries].w = w
                n_entries += 1
            if not isfinite(m):
                return r
            d = dloss(loss, m, y[i]) * sw[i] * inv_nb
            gb += d
            for e in range(e0, n_entries):
                buf[e].g *= d

        # 2. one update per coordinate of the batch (merging a column that several rows share), then the intercept
        begin_step(a, p, gs)
        if n_entries > 1:
            qsort(buf, n_entries, sizeof(Entry), compare_entries)
            e = 0
            while e < n_entries:
                j = buf[e].j
                g = buf[e].g
                w = buf[e].w
                e += 1
                while e < n_entries and buf[e].j == j:
                    g += buf[e].g
                    e += 1
                update(a, p, state + j * stride, g, w)
        elif n_entries == 1:
            update(a, p, state + buf[0].j * stride, buf[0].g, buf[0].w)
        if fit_intercept:
            intercept_update(a, p, istate, gb, b)
        end_step(a, p, gs)
        b0 = b1
    return -1


cdef Py_ssize_t fit_blocks(Algo* a, Params* p,
                           const floating* data, const index_t* indices, const index_t* indptr,
                           const double* y, const double* sw, const int64_t* order, Py_ssize_t n_rows,
                           double* state, double* istate, double* gs,
                           int loss, Py_ssize_t batch_size, bint fit_intercept, Entry* buf, double* wbuf, double* sbuf,
                           Py_ssize_t block, Py_ssize_t n_features, CSRFault* fault) noexcept nogil:
    """``fit_rows`` on a matrix not checked yet: each block of rows (a multiple of batch_size) is checked by
    ``scan_rows`` just before training on it, while it is still in cache, so checking costs no second pass over
    memory.  The first fault stops training (recorded in ``fault``, the blocks before it trained); a caller that
    trains fresh state simply discards it.  Values are not scanned: a NaN or infinity makes its row's margin
    non-finite, which stops ``fit_rows`` before that row updates anything, and the caller tells it from a
    divergence by looking at that one row.  Returns what ``fit_rows`` returns, in positions of the whole run.
    ``block = 0``: the matrix has been checked already, one run of ``fit_rows``."""
    cdef Py_ssize_t r0 = 0, r1, res
    if block <= 0:
        return fit_rows(a, p, data, indices, indptr, y, sw, order, n_rows, state, istate, gs, loss, batch_size,
                        fit_intercept, buf, wbuf, sbuf)
    while r0 < n_rows:
        r1 = r0 + block if r0 + block < n_rows else n_rows
        if scan_rows(data, indices, indptr, order, r0, r1, n_features, False, fault) != CSR_CANONICAL:
            return -1
        if order != NULL:
            res = fit_rows(a, p, data, indices, indptr, y, sw, order + r0, r1 - r0, state, istate, gs,
                           loss, batch_size, fit_intercept, buf, wbuf, sbuf)
        else:
            res = fit_rows(a, p, data, indices, indptr + r0, y + r0, sw + r0, NULL, r1 - r0, state, istate, gs,
                           loss, batch_size, fit_intercept, buf, wbuf, sbuf)
        if res >= 0:
            return r0 + res
        r0 = r1
    return -1


cdef void decision_rows(Algo* a, Params* p,
                        const floating* data, const index_t* indices, const index_t* indptr, Py_ssize_t n_rows,
                        const double* state, const double* istate, const double* gs,
                        bint fit_intercept, double* out, Py_ssize_t out_stride) noexcept nogil:
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t i, k
    cdef double m, b
    read_time(a, p, gs)
    b = intercept(a, p, istate) if fit_intercept else 0.0
    for i in range(n_rows):
        if i + 1 < n_rows:
            prefetch_row(indices, indptr, i + 1, state, stride)
        m = b
        for k in range(indptr[i], indptr[i + 1]):
            m += weight(a, p, state + indices[k] * stride) * data[k]
        out[i * out_stride] = m


cdef void coef_all(Algo* a, Params* p, const double* state, Py_ssize_t n_features,
                   const double* istate, const double* gs, bint fit_intercept, double* out) noexcept nogil:
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t j
    read_time(a, p, gs)
    for j in range(n_features):
        out[j] = weight(a, p, state + j * stride)
    out[n_features] = intercept(a, p, istate) if fit_intercept else 0.0


# ---- Python entry points (called by ftrlx.linear_model, never in a loop over rows) ----

cdef Params make_params(dict d) except *:
    cdef Params p
    memset(&p, 0, sizeof(Params))
    p.alpha = d.get("alpha", 0.0)
    p.beta = d.get("beta", 0.0)
    p.l1 = d.get("l1", 0.0)
    p.l2 = d.get("l2", 0.0)
    p.gamma = d.get("gamma", 0.0)
    p.rho = d.get("rho", 0.0)
    p.eta0 = d.get("eta0", 0.0)
    p.schedule = d.get("schedule", 0)
    p.decay_steps = d.get("decay_steps", 1.0)
    p.eta_final = d.get("eta_final", 0.0)
    p.gravity = d.get("gravity", 0.0)
    p.theta = d.get("theta", 0.0)
    p.period = d.get("period", 1)
    p.rounding = d.get("rounding", 0)
    p.eps = d.get("eps", 0.0)
    p.n0 = d.get("n0", 0.0)
    p.eps_inside = d.get("eps_inside", 0)
    p.rda_form = d.get("rda_form", 0)
    p.beta1 = d.get("beta1", 0.0)
    p.beta2 = d.get("beta2", 0.0)
    p.epsilon = d.get("epsilon", 0.0)
    return p


cdef Py_ssize_t max_batch_nnz(const index_t* indptr, const int64_t* order, Py_ssize_t n_rows,
                              Py_ssize_t batch_size) noexcept nogil:
    cdef Py_ssize_t b0 = 0, r, i, total, best = 0
    while b0 < n_rows:
        total = 0
        for r in range(b0, min(b0 + batch_size, n_rows)):
            i = order[r] if order != NULL else r
            total += indptr[i + 1] - indptr[i]
        best = max(best, total)
        b0 += batch_size
    return best


def fit(int algo, dict params, const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
        const double[::1] y, const double[::1] sample_weight, order,
        double[:, ::1] state, double[::1] istate, double[::1] gs,
        int loss, Py_ssize_t batch_size, bint fit_intercept, bint check=False):
    """Train in place on the rows of a CSR matrix (in ``order`` if given).

    Without ``check`` the matrix must be valid and canonical (as ``ftrlx._validation.kernel_csr`` makes sure).
    With ``check`` it is checked as it is trained on (see ``fit_blocks``), for state that the caller discards on a
    fault.

    Returns ``(diverged, fault, row, position)``: ``diverged`` is -1, or the position (in visiting order) of the
    first row whose margin overflowed, the batches before it having been applied; ``fault`` is 0, or the
    ``ftrlx._kernels._check`` code (>= 1, NOT_CANONICAL included) of the first fault found by ``check``, with its
    row and position.
    """
    _check_state(algo, state.shape[1], istate.shape[0], gs.shape[0])
    cdef Params p = make_params(params)
    cdef const int64_t[::1] order_view
    cdef const int64_t* order_ptr = NULL
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, res = -1, cap, block = 0
    cdef Py_ssize_t nnz = indices.shape[0], n_features = state.shape[0]
    cdef CSRFault fault
    cdef Entry* buf
    cdef double* wbuf
    cdef double* sbuf
    cdef FTRLTag t0
    cdef RDATag t1
    cdef FOBOSTag t2
    cdef TGTag t3
    cdef AdaGradTag t4
    cdef LazyAdamTag t5
    cdef OGDTag t6
    fault.code, fault.row, fault.pos = CSR_CANONICAL, -1, -1
    if data.shape[0] != nnz or y.shape[0] != n_rows or sample_weight.shape[0] != n_rows:
        raise ValueError("data/indices, y and sample_weight do not match the matrix")
    if check:
        if check_indptr(&indptr[0], n_rows, nnz, &fault) != CSR_CANONICAL:
            return -1, fault.code, fault.row, fault.pos
        # blocks of about 64k non-zeros (well inside L2), a whole number of batches
        block = (1 << 16) // max(1, nnz // max(1, n_rows))
        block = max(1, (block + batch_size - 1) // batch_size) * batch_size
    if order is not None:
        order_view = order
        order_ptr = &order_view[0] if order_view.shape[0] > 0 else NULL
        n_rows = order_view.shape[0]
    if n_rows == 0:
        return -1, 0, -1, -1
    cap = max_batch_nnz(&indptr[0], order_ptr, n_rows, batch_size)
    buf = <Entry*>malloc((cap + 1) * sizeof(Entry))
    wbuf = <double*>malloc((cap + 1) * sizeof(double))
    sbuf = <double*>malloc((cap + 1) * state.shape[1] * sizeof(double))
    if buf == NULL or wbuf == NULL or sbuf == NULL:
        free(buf)
        free(wbuf)
        free(sbuf)
        raise MemoryError()
    cdef const floating* X = &data[0] if nnz > 0 else NULL
    cdef const index_t* ind = &indices[0] if nnz > 0 else NULL
    try:
        with nogil:
            if algo == 0:
                res = fit_blocks(&t0, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, buf, wbuf, sbuf, block, n_features, &fault)
            elif algo == 1:
                res = fit_blocks(&t1, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, buf, wbuf, sbuf, block, n_features, &fault)
            elif algo == 2:
                res = fit_blocks(&t2, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, buf, wbuf, sbuf, block, n_features, &fault)
            elif algo == 3:
                res = fit_blocks(&t3, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, buf, wbuf, sbuf, block, n_features, &fault)
            elif algo == 4:
                res = fit_blocks(&t4, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, buf, wbuf, sbuf, block, n_features, &fault)
            elif algo == 5:
                res = fit_blocks(&t5, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, buf, wbuf, sbuf, block, n_features, &fault)
            else:
                res = fit_blocks(&t6, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, buf, wbuf, sbuf, block, n_features, &fault)
    finally:
        free(buf)
        free(wbuf)
        free(sbuf)
    return res, fault.code, fault.row, fault.pos


def decision(int algo, dict params, const floating[::1] data, const index_t[::1] indices,
             const index_t[::1] indptr, const double[:, ::1] state, const double[::1] istate,
             const double[::1] gs, bint fit_intercept, double[:, ::1] out, Py_ssize_t column):
    """Margins of the rows of a canonical CSR matrix, written to out[:, column]."""
    _check_state(algo, state.shape[1], istate.shape[0], gs.shape[0])
    cdef Params p = make_params(params)
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, ostride = out.shape[1]
    cdef FTRLTag t0
    cdef RDATag t1
    cdef FOBOSTag t2
    cdef TGTag t3
    cdef AdaGradTag t4
    cdef LazyAdamTag t5
    cdef OGDTag t6
    if n_rows == 0:
        return
    cdef const floating* X = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef double* o = &out[0, column]
    with nogil:
        if algo == 0:
            decision_rows(&t0, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, o, ostride)
        elif algo == 1:
            decision_rows(&t1, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, o, ostride)
        elif algo == 2:
            decision_rows(&t2, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, o, ostride)
        elif algo == 3:
            decision_rows(&t3, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, o, ostride)
        elif algo == 4:
            decision_rows(&t4, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, o, ostride)
        elif algo == 5:
            decision_rows(&t5, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, o, ostride)
        else:
            decision_rows(&t6, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, o, ostride)


def coefficients(int algo, dict params, const double[:, ::1] state, const double[::1] istate,
                 const double[::1] gs, bint fit_intercept):
    """The weights at the current step (exact catch-up, state untouched) and the intercept, as one array."""
    _check_state(algo, state.shape[1], istate.shape[0], gs.shape[0])
    cdef Params p = make_params(params)
    cdef Py_ssize_t n_features = state.shape[0]
    out_arr = np.empty(n_features + 1, dtype=np.float64)
    cdef double[::1] out = out_arr
    cdef FTRLTag t0
    cdef RDATag t1
    cdef FOBOSTag t2
    cdef TGTag t3
    cdef AdaGradTag t4
    cdef LazyAdamTag t5
    cdef OGDTag t6
    cdef const double* s = &state[0, 0] if n_features > 0 else NULL
    with nogil:
        if algo == 0:
            coef_all(&t0, &p, s, n_features, &istate[0], &gs[0], fit_intercept, &out[0])
        elif algo == 1:
            coef_all(&t1, &p, s, n_features, &istate[0], &gs[0], fit_intercept, &out[0])
        elif algo == 2:
            coef_all(&t2, &p, s, n_features, &istate[0], &gs[0], fit_intercept, &out[0])
        elif algo == 3:
            coef_all(&t3, &p, s, n_features, &istate[0], &gs[0], fit_intercept, &out[0])
        elif algo == 4:
            coef_all(&t4, &p, s, n_features, &istate[0], &gs[0], fit_intercept, &out[0])
        elif algo == 5:
            coef_all(&t5, &p, s, n_features, &istate[0], &gs[0], fit_intercept, &out[0])
        else:
            coef_all(&t6, &p, s, n_features, &istate[0], &gs[0], fit_intercept, &out[0])
    return out_arr
