"""Row-loop driver shared by every sparse online learner.

One driver, ``fit_rows``, visits the rows of a CSR matrix in batches and, per batch,

1. computes each row's margin with the weights as they are at the start of the batch (lazy algorithms bring the
   row's coordinates up to date while reading them),
2. turns the margins into per-row loss derivatives (mean over the batch, times the sample weights),
3. applies one update per coordinate present in the batch (duplicates merged) and one to the intercept,
4. advances the global step counter.

The algorithm is a compile-time parameter: ``Algo`` is a fused type of empty tag structs, and the small
``read_time``/``weight``/``step``/``update``/... dispatchers resolve to one named inline function per algorithm
(``ftrl_update``, ``fobos_update``, ...), defined in the ``_<algorithm>.pxd`` files next to this one.  The
dispatchers and the parameter struct are generated from the algorithm registry (``registry.py``) at build time.
So each algorithm gets its own specialised loop with no branch on the algorithm inside it.

The kernel sees only arrays, scalars and a ``Params`` struct; hyper-parameters and labels are validated in the
estimators.  State is float64 whatever the input dtype.  ``fit_rows`` relies on canonical CSR rows (no column twice),
indices in [0, n_features) and finite values.  Either the caller has checked them (``ftrlx._kernels._check``, before
touching a fitted model's state) or ``fit_blocks`` checks each block of rows just before training on it (fresh
state, which the caller discards on a fault): one pass over memory instead of two.
"""
from cython cimport floating
from libc.math cimport isfinite, fabs, fmax
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport malloc, calloc, realloc, free, qsort
from libc.string cimport memcpy, memset

from ftrlx._kernels._common cimport index_t
from ftrlx._kernels._params cimport Params, make_params
from ftrlx._kernels._ranks cimport first32_path, repeats32_path
from ftrlx._kernels._journal cimport Journal, finite_all, journal_record, journal_reserve
from ftrlx._kernels._scan cimport CSRFault, CSR_CANONICAL, CSR_NOT_CANONICAL, check_indptr, scan_rows

import numpy as np

cdef extern from *:
    # GCC/Clang builtin: ask for a cache line ahead of use (read, keep in all cache levels)
    void prefetch "__builtin_prefetch"(const void* addr) noexcept nogil

include "_dispatch.pxi"

# ``fit``'s second result when training stopped because a step would have made a slot of the state non-finite
# (distinct from the ``ftrlx._kernels._check`` codes)
STATE_OVERFLOW = 16
_SLOTS_BY_CODE = {code: (n_slots, n_islots) for code, n_slots, n_islots in ALGORITHMS.values()}


def _check_state(int algo, Py_ssize_t n_slots, Py_ssize_t n_islots, Py_ssize_t n_global):
    # the drivers address the state with the algorithm's stride as a compile-time constant
    if algo not in _SLOTS_BY_CODE:
        raise ValueError(f"unknown algorithm code {algo}")
    want = _SLOTS_BY_CODE[algo]
    if (n_slots, n_islots) != want or n_global < GLOBAL_SLOTS:
        raise ValueError(f"state arrays of shape (.., {n_slots}), ({n_islots},), ({n_global},) do not fit algorithm "
                         f"{algo}: it needs (.., {want[0]}), ({want[1]},), ({GLOBAL_SLOTS},)")


cdef inline void copy_slots(const double* src, double* dst, const Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        dst[j] = src[j]


include "_rows.pxi"


# ---- the drivers ----

cdef struct Work:
    Entry* buf          # the entries of a batch
    Py_ssize_t buf_cap
    double* wbuf        # the weights of a row
    double* sbuf        # the state of a row (the one-row step of the algorithms that gather)
    RowWork row
    Journal* jn         # where each coordinate's slots are recorded before the call first changes them, or NULL
    int failure         # why fit_rows stopped (a STEP_* code)
    double mmax         # the largest |margin| met


cdef enum:
    STEP_OK = 0
    STEP_MARGIN = 1     # a margin is not finite: the step changed nothing
    STEP_STATE = 2      # the step made a slot non-finite (its changes are left for the caller to undo)
    STEP_NO_MEMORY = 3  # the journal could not grow: the step changed nothing


cdef inline double row_sqnorm(Algo* a, const floating* rv, Py_ssize_t n) noexcept nogil:
    # the squared norm of a (canonical) row, for the algorithms whose step size depends on it; 0 for the others
    # (compiled away)
    cdef Py_ssize_t k
    cdef double sq = 0.0
    if needs_sqnorm(a):
        for k in range(n):
            sq += <double>rv[k] * rv[k]
    return sq


cdef inline void prefetch_row(const index_t* indices, const index_t* indptr, Py_ssize_t i, const double* state,
                              const Py_ssize_t stride) noexcept nogil:
    # Hashed features land anywhere in a state far larger than the caches: fetching the next row's coordinates
    # while the current row is computed hides most of the memory latency, which dominates the cost per non-zero.
    cdef Py_ssize_t k
    for k in range(indptr[i], indptr[i + 1]):
        prefetch(state + indices[k] * stride)


cdef inline int one_row(Algo* a, Params* p, const floating* data, const index_t* indices, const index_t* indptr,
                        Py_ssize_t i, Py_ssize_t n_rows, double yi, double swi,
                        double* state, double* istate, double* gs, int loss, bint fit_intercept, double b,
                        Work* wk, bint canonical, double* prog) noexcept nogil:
    """The one-row step (classic online learning) on row i: STEP_OK, or why it failed (STEP_MARGIN: its margin
    is not finite, nothing updated).  The row is canonical (or made so), so only its weights need keeping."""
    cdef Py_ssize_t stride = slots(a)
    cdef bint ok = True
    cdef const floating* rv
    cdef const index_t* ri
    cdef Py_ssize_t k, n = open_row(data, indices, indptr, i, canonical, &wk.row, &rv, &ri)
    cdef double m = b, d, w
    cdef double* wbuf = wk.wbuf
    cdef double* sbuf = wk.sbuf
    if gathers(a):
        # the row's coordinates copied into one contiguous buffer: the weights and the updates are then plain
        # loops over it, which the compiler turns into SIMD (two divisions and square roots at once)
        if wk.jn == NULL:
            for k in range(n):
                copy_slots(state + ri[k] * stride, sbuf + k * stride, stride)
        else:
            if journal_reserve(wk.jn, n) < 0:
                return STEP_NO_MEMORY
            for k in range(n):
                journal_record(wk.jn, ri[k], state + ri[k] * stride, stride)
                copy_slots(state + ri[k] * stride, sbuf + k * stride, stride)
        for k in range(n):
            wbuf[k] = weight(a, p, sbuf + k * stride)
        for k in range(n):
            m += wbuf[k] * rv[k]
    else:
        if wk.jn != NULL:
            if journal_reserve(wk.jn, n) < 0:
                return STEP_NO_MEMORY
            for k in range(n):
                journal_record(wk.jn, ri[k], state + ri[k] * stride, stride)
        for k in range(n):
            w = weight(a, p, state + ri[k] * stride)
            m += w * rv[k]
            wbuf[k] = w
    if not isfinite(m):
        return STEP_MARGIN
    wk.mmax = fmax(wk.mmax, fabs(m))
    if prog != NULL:
        prog[0] = m
    d = row_gradient(a, p, loss, m, yi, row_sqnorm(a, rv, n)) * swi
    # the next row's coordinates are fetched now, behind this row's updates: issued before the margin, the
    # prefetches would compete with its loads, which are on the critical path of every step
    if i + 1 < n_rows:
        prefetch_row(indices, indptr, i + 1, state, stride)
    begin_step(a, p, gs)
    if gathers(a):
        # nothing has written the state since the copy (a canonical row names each column once)
        for k in range(n):
            update(a, p, sbuf + k * stride, d * rv[k], wbuf[k])
        if suspect(a, sbuf, n):
            for k in range(n):
                copy_slots(state + ri[k] * stride, sbuf + k * stride, stride)
                update_exact(a, p, sbuf + k * stride, d * rv[k], wbuf[k])
        ok = finite_all(sbuf, n * stride)
        for k in range(n):
            copy_slots(sbuf + k * stride, state + ri[k] * stride, stride)
    else:
        for k in range(n):
            update_exact(a, p, state + ri[k] * stride, d * rv[k], wbuf[k])
            ok &= finite_all(state + ri[k] * stride, stride)
    if fit_intercept:
        intercept_update(a, p, istate, d, b)
    end_step(a, p, gs)
    ok &= finite_all(istate, islots(a)) & finite_all(gs, 3)
    return STEP_OK if ok else STEP_STATE


cdef inline Py_ssize_t batch_margins(Algo* a, Params* p, const floating* data, const index_t* indices,
                                     const index_t* indptr, Py_ssize_t b0, Py_ssize_t b1, Py_ssize_t n_rows,
                                     const double* y, const double* sw, const double* state, int loss, double b,
                                     Work* wk, bint canonical, double* prog, Py_ssize_t pstride,
                                     double* gb) noexcept nogil:
    """Step 1 of a batch: each row's margin at the batch-start weights, and (column, gradient, weight) of each of
    its entries in wk.buf; returns the number of entries, or -1 - r for row r whose margin is not finite."""
    cdef Py_ssize_t stride = slots(a)
    cdef const floating* rv
    cdef const index_t* ri
    cdef Py_ssize_t r, k, n, e, e0, n_entries = 0
    cdef double m, w, d, inv_nb = 1.0 / (b1 - b0)
    cdef Entry* buf = wk.buf
    gb[0] = 0.0
    for r in range(b0, b1):
        if r + 1 < n_rows:
            prefetch_row(indices, indptr, r + 1, state, stride)
        n = open_row(data, indices, indptr, r, canonical, &wk.row, &rv, &ri)
        m = b
        e0 = n_entries
        for k in range(n):
            w = weight(a, p, state + ri[k] * stride)
            m += w * rv[k]
            buf[n_entries].j = ri[k]
            buf[n_entries].k = n_entries
            buf[n_entries].g = rv[k]
            buf[n_entries].w = w
            n_entries += 1
        if not isfinite(m):
            return -1 - r
        wk.mmax = fmax(wk.mmax, fabs(m))
        if prog != NULL:
            prog[r * pstride] = m
        d = row_gradient(a, p, loss, m, y[r], row_sqnorm(a, rv, n)) * sw[r] * inv_nb
        gb[0] += d
        for e in range(e0, n_entries):
            buf[e].g *= d
    return n_entries


cdef inline int batch_updates(Algo* a, Params* p, Entry* buf, Py_ssize_t n_entries, double* state,
                              double* istate, double* gs, bint fit_intercept, double gb, double b,
                              Journal* jn) noexcept nogil:
    """Step 2 of a batch: one update per coordinate (merging a column that several rows share, in row order),
    then the intercept; STEP_OK, or why it failed (as ``one_row``)."""
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t e = 0
    cdef int64_t j
    cdef double g, w
    cdef bint ok = True
    if jn != NULL and journal_reserve(jn, n_entries) < 0:
        return STEP_NO_MEMORY
    begin_step(a, p, gs)
    if n_entries > 1:
        qsort(buf, n_entries, sizeof(Entry), compare_entries)
        while e < n_entries:
            j = buf[e].j
            g = buf[e].g
            w = buf[e].w
            e += 1
            while e < n_entries and buf[e].j == j:
                g += buf[e].g
                e += 1
            if jn != NULL:
                journal_record(jn, j, state + j * stride, stride)
            update_exact(a, p, state + j * stride, g, w)
            ok &= finite_all(state + j * stride, stride)
    elif n_entries == 1:
        j = buf[0].j
        if jn != NULL:
            journal_record(jn, j, state + j * stride, stride)
        update_exact(a, p, state + j * stride, buf[0].g, buf[0].w)
        ok &= finite_all(state + j * stride, stride)
    if fit_intercept:
        intercept_update(a, p, istate, gb, b)
    end_step(a, p, gs)
    ok &= finite_all(istate, islots(a)) & finite_all(gs, 3)
    return STEP_OK if ok else STEP_STATE


cdef Py_ssize_t fit_rows(Algo* a, Params* p_in,
                         const floating* data, const index_t* indices, const index_t* indptr,
                         const double* y, const double* sw, Py_ssize_t n_rows,
                         double* state, double* istate, double* gs,
                         int loss, Py_ssize_t batch_size, bint fit_intercept, Work* wk, bint canonical,
                         double* prog, Py_ssize_t pstride) noexcept nogil:
    """Train on rows 0..n_rows-1 in order, writing each row's margin to prog[row * pstride] (unless prog is NULL);
    return -1, or the row whose step failed (the first row of its batch when the update failed), with the reason
    in wk.failure (a STEP_* code).  ``canonical``: every row is known to be canonical;
    otherwise each row is looked at, and one that repeats a column is trained on as its merged copy.  wk.buf
    holds the entries of any batch."""
    # A local copy of the parameters: the compiler can then see that no store to the state changes them, and keeps
    # them in registers instead of reloading them after every update.
    cdef Params params = p_in[0]
    cdef Params* p = &params
    cdef Py_ssize_t b0 = 0, b1, n_entries
    cdef double b, gb
    cdef int status
    while b0 < n_rows:
        b1 = b0 + batch_size if b0 + batch_size < n_rows else n_rows
        read_time(a, p, gs)
        b = intercept(a, p, istate) if fit_intercept else 0.0
        if b1 - b0 == 1:
            status = one_row(a, p, data, indices, indptr, b0, n_rows, y[b0], sw[b0], state, istate, gs, loss,
                             fit_intercept, b, wk, canonical, prog + b0 * pstride if prog != NULL else NULL)
        else:
            n_entries = batch_margins(a, p, data, indices, indptr, b0, b1, n_rows, y, sw, state, loss, b, wk,
                                      canonical, prog, pstride, &gb)
            if n_entries < 0:
                wk.failure = STEP_MARGIN
                return -1 - n_entries
            status = batch_updates(a, p, wk.buf, n_entries, state, istate, gs, fit_intercept, gb, b, wk.jn)
        if status != STEP_OK:
            wk.failure = status
            return b0
        b0 = b1
    return -1


include "_blocks.pxi"


include "_read.pxi"


include "_by_code.pxi"


# ---- Python entry points (called by ftrlx.linear_model, never in a loop over rows) ----

def _progressive_view(progressive, Py_ssize_t column, Py_ssize_t n_rows):
    # the margins' destination: out[row, column], one row per row of X
    cdef double[:, ::1] out = progressive
    if out.shape[0] != n_rows or not 0 <= column < out.shape[1]:
        raise ValueError(f"progressive has shape {progressive.shape}, but X has {n_rows} rows (column {column} "
                         "written); pass a C-contiguous float64 array with one row per row of X")
    return out


include "_undo.pxi"


def fit(int algo, dict params, const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
        const double[::1] y, const double[::1] sample_weight, order,
        double[:, ::1] state, double[::1] istate, double[::1] gs,
        int loss, Py_ssize_t batch_size, bint fit_intercept, bint check=False,
        progressive=None, Py_ssize_t progressive_column=0, bint canonical=False,
        UndoJournal journal=None, double[::1] stats=None):
    """Train in place on the rows of a CSR matrix (in ``order`` if given).

    The matrix may hold rows with unsorted or repeated column indices, without a copy: the kernel trains on a row
    in its own order, a repeated column's values summed into its first appearance in order of appearance.  That
    is the model of the canonical form (scipy's ``sum_duplicates``), bitwise for sorted rows and to the rounding
    of the margin's sum (whose terms come in another order) for unsorted ones.  Without
    ``check`` the matrix must be valid (as ``ftrlx._validation.kernel_csr`` makes sure).  With ``check`` it is
    checked block by block as it is trained on (see ``train_block``), for state that the caller discards on a
    fault.  Rows visited in ``order`` are gathered block by block into a contiguous buffer first.

    ``canonical``: the caller knows that every row is canonical (a scan found it so), which spares the kernel a
    look at each row's indices (ignored with ``check``, whose scan tells).

    ``progressive``: None, or a C-contiguous float64 array of shape (n_rows, n_outputs) whose
    ``[row, progressive_column]`` receives each row's margin just before it is trained on (with batches, at the
    batch-start weights), indexed by row whatever the order.

    ``journal``: an ``UndoJournal`` for this state, which records what the call changes (so that the caller can
    undo a failed call); None to record nothing (fresh state, which the caller discards on a failure).
    ``stats``: None, or a float64 array whose ``stats[0]`` is raised to the largest |margin| met.

    Returns ``(diverged, fault, row, position)``: ``diverged`` is -1, or the position (in visiting order) of the
    row whose step failed, the steps before it having been applied: with ``fault`` 0 its margin was not finite (the
    step changed nothing); with ``fault`` STATE_OVERFLOW its step (its batch's, ``diverged`` being the batch's
    first row) made a slot of the state non-finite, and that step's changes are in the state too.  Otherwise
    ``fault`` is the ``ftrlx._kernels._check`` code (> NOT_CANONICAL) of the first fault found by ``check``, with
    its row and position; or 0, except that a complete run with ``check`` tells what its scan found: CANONICAL (0)
    or NOT_CANONICAL (1, rows that the kernel sorted).
    """
    _check_state(algo, state.shape[1], istate.shape[0], gs.shape[0])
    cdef Params p = make_params(params)
    cdef const int64_t[::1] order_view
    cdef const int64_t* order_ptr = NULL
    cdef double[:, ::1] prog_view
    cdef double* prog = NULL
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, res = FIT_OK, block, max_row, pstride = 0
    cdef Py_ssize_t nnz = indices.shape[0], n_features = state.shape[0]
    cdef CSRFault fault
    cdef Work wk
    cdef Gathered g
    fault.code, fault.row, fault.pos = CSR_CANONICAL, -1, -1
    if data.shape[0] != nnz or y.shape[0] != n_rows or sample_weight.shape[0] != n_rows:
        raise ValueError("data/indices, y and sample_weight do not match the matrix")
    if journal is not None and not journal.fits(n_features, state.shape[1]):
        raise ValueError("the journal was made for another state shape")
    cdef int failure = STEP_OK
    if progressive is not None:
        prog_view = _progressive_view(progressive, progressive_column, n_rows)
        pstride = prog_view.shape[1]
        prog = &prog_view[0, progressive_column] if n_rows > 0 else NULL
    if check and check_indptr(&indptr[0], n_rows, nnz, &fault) != CSR_CANONICAL:
        return -1, fault.code, fault.row, fault.pos
    if order is not None:
        order_view = order
        order_ptr = &order_view[0] if order_view.shape[0] > 0 else NULL
        n_rows = order_view.shape[0]
    if n_rows == 0:
        return -1, 0, -1, -1
    # blocks of about 64k non-zeros (well inside L2), a whole number of batches; one block when there is neither
    # a check to make nor an order to gather
    block = (1 << 16) // max(1, nnz // max(1, indptr.shape[0] - 1))
    block = max(1, (block + batch_size - 1) // batch_size) * batch_size
    if not check and order_ptr == NULL:
        block = n_rows
    max_row = max_row_nnz(&indptr[0], indptr.shape[0] - 1)
    cdef const floating* X = &data[0] if nnz > 0 else NULL
    cdef const index_t* ind = &indices[0] if nnz > 0 else NULL
    memset(&g, 0, sizeof(Gathered))
    try:
        if work_alloc(&wk, max_row, state.shape[1], n_features) < 0 or (
                order_ptr != NULL and gathered_alloc(&g, block, block * (nnz // max(1, indptr.shape[0] - 1) + 1),
                                                     sizeof(index_t)) < 0):
            raise MemoryError()
        wk.jn = &journal.j if journal is not None else NULL
        # room for every coordinate the call can touch, at once (pages that stay unused are never mapped)
        if wk.jn != NULL and journal_reserve(wk.jn, min(nnz, n_features - wk.jn.n)) < 0:
            raise MemoryError()
        with nogil:
            res = fit_blocks_by_code(algo, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows,
                                     &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, &wk, &g,
                                     block, check, canonical, &fault, prog, pstride)
        failure = wk.failure
        if stats is not None and stats.shape[0] > 0:
            stats[0] = max(stats[0], wk.mmax)
    finally:
        work_free(&wk)
        gathered_free(&g)
    if res == FIT_NO_MEMORY:
        raise MemoryError()
    if res == FIT_FAULT:
        return -1, fault.code, fault.row, fault.pos
    if res >= 0 and failure == STEP_NO_MEMORY:
        raise MemoryError()
    if res >= 0:
        return res, STATE_OVERFLOW if failure == STEP_STATE else 0, -1, -1
    return res, fault.code if check and res == FIT_OK else 0, -1, -1


def decision(int algo, dict params, const floating[::1] data, const index_t[::1] indices,
             const index_t[::1] indptr, const double[:, ::1] state, const double[::1] istate,
             const double[::1] gs, bint fit_intercept, double[:, ::1] out, Py_ssize_t column):
    """Margins of the rows of a valid CSR matrix, written to out[:, column].

    A row with unsorted or repeated columns gets its margin summed in its own order, a repeated column's values
    summed first (as ``fit`` sees the row)."""
    _check_state(algo, state.shape[1], istate.shape[0], gs.shape[0])
    cdef Params p = make_params(params)
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, ostride = out.shape[1]
    cdef Work wk
    if n_rows == 0:
        return
    cdef const floating* X = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t* ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef double* o = &out[0, column]
    cdef RowWork* rw = &wk.row
    try:
        if work_alloc(&wk, max_row_nnz(&indptr[0], n_rows), state.shape[1], state.shape[0]) < 0:
            raise MemoryError()
        with nogil:
            decision_rows_by_code(algo, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0],
                                  fit_intercept, rw, o, ostride)
    finally:
        work_free(&wk)


def coefficients(int algo, dict params, const double[:, ::1] state, const double[::1] istate,
                 const double[::1] gs, bint fit_intercept):
    """The weights at the current step (exact catch-up, state untouched) and the intercept, as one array."""
    _check_state(algo, state.shape[1], istate.shape[0], gs.shape[0])
    cdef Params p = make_params(params)
    cdef Py_ssize_t n_features = state.shape[0]
    out_arr = np.empty(n_features + 1, dtype=np.float64)
    cdef double[::1] out = out_arr
    cdef const double* s = &state[0, 0] if n_features > 0 else NULL
    with nogil:
        coef_all_by_code(algo, &p, s, n_features, &istate[0], &gs[0], fit_intercept, &out[0])
    return out_arr


def count_nonzero(int algo, dict params, const double[:, ::1] state, const double[::1] gs):
    """The number of non-zero weights at the current step (the intercept left out), without building them: what
    ``numpy.count_nonzero(coefficients(...)[:-1])`` counts, in one read of the state."""
    _check_state(algo, state.shape[1], _SLOTS_BY_CODE.get(algo, (0, 0))[1], gs.shape[0])
    cdef Params p = make_params(params)
    cdef Py_ssize_t n_features = state.shape[0], count = 0
    if n_features == 0:
        return 0
    cdef const double* s = &state[0, 0]
    with nogil:
        count = nonzero_weights_by_code(algo, &p, s, n_features, &gs[0])
    return count
