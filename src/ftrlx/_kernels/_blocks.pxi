# Part of _online.pyx (included there): training block by block, each checked as it is trained or gathered when the rows are
# visited out of order.

# ---- blocks of rows: checked as they are trained, gathered when visited out of order ----

cdef struct Gathered:
    # rows copied in visiting order into one contiguous CSR, with their labels, weights and margins
    void* data
    void* indices
    void* indptr
    Py_ssize_t cap      # entries data/indices can hold
    double* y
    double* sw
    double* prog


cdef enum:
    FIT_OK = -1
    FIT_FAULT = -2          # the check found a fault (recorded in the CSRFault)
    FIT_NO_MEMORY = -3
    GATHER_AHEAD = 8        # rows: a row's entries are fetched this far ahead of their copy, its pointers twice as far


cdef inline void prefetch_span(const void* start, Py_ssize_t n_bytes) noexcept nogil:
    cdef const char* c = <const char*>start
    cdef Py_ssize_t off
    for off in range(0, n_bytes, 64):
        prefetch(c + off)
    if n_bytes > 0:
        prefetch(c + n_bytes - 1)


cdef int gather_rows(const floating* data, const index_t* indices, const index_t* indptr, const double* y,
                     const double* sw, const int64_t* order, Py_ssize_t n, Gathered* g) noexcept nogil:
    """Copy rows order[0..n) into g (contiguous), so that training reads them as it reads rows in storage order:
    a shuffled epoch otherwise waits for every row's entries, scattered over the matrix, and for the next row's
    column indices before it can prefetch its coordinates.  Returns -1 if memory runs out."""
    cdef index_t* gp = <index_t*>g.indptr
    cdef Py_ssize_t r, i, k0, length, pos = 0, cap
    cdef void* grown
    gp[0] = 0
    for r in range(n):
        if r + 2 * GATHER_AHEAD < n:
            prefetch(indptr + order[r + 2 * GATHER_AHEAD])
        if r + GATHER_AHEAD < n:
            i = order[r + GATHER_AHEAD]
            prefetch_span(data + indptr[i], (indptr[i + 1] - indptr[i]) * sizeof(floating))
            prefetch_span(indices + indptr[i], (indptr[i + 1] - indptr[i]) * sizeof(index_t))
            prefetch(y + i)
            prefetch(sw + i)
        i = order[r]
        k0 = indptr[i]
        length = indptr[i + 1] - k0
        if pos + length > g.cap:
            cap = max(2 * g.cap, pos + length)
            grown = realloc(g.data, cap * sizeof(floating))
            if grown == NULL:
                return -1
            g.data = grown
            grown = realloc(g.indices, cap * sizeof(index_t))
            if grown == NULL:
                return -1
            g.indices = grown
            g.cap = cap
        memcpy(<floating*>g.data + pos, data + k0, length * sizeof(floating))
        memcpy(<index_t*>g.indices + pos, indices + k0, length * sizeof(index_t))
        pos += length
        gp[r + 1] = pos
        g.y[r] = y[i]
        g.sw[r] = sw[i]
    return 0


cdef int reserve_batches(Work* wk, const index_t* indptr, Py_ssize_t n_rows, Py_ssize_t batch_size) noexcept nogil:
    """Make wk.buf hold the entries of every batch of rows 0..n_rows-1; -1 if memory runs out."""
    cdef Py_ssize_t b0 = 0, need = 0
    cdef void* grown
    if batch_size <= 1:
        return 0
    while b0 < n_rows:
        need = max(need, indptr[min(b0 + batch_size, n_rows)] - indptr[b0])
        b0 += batch_size
    if need > wk.buf_cap:
        grown = realloc(wk.buf, need * sizeof(Entry))
        if grown == NULL:
            return -1
        wk.buf = <Entry*>grown
        wk.buf_cap = need
    return 0


cdef Py_ssize_t train_block(Algo* a, Params* p, const floating* data, const index_t* indices, const index_t* indptr,
                            const double* y, const double* sw, Py_ssize_t n_rows,
                            double* state, double* istate, double* gs, int loss, Py_ssize_t batch_size,
                            bint fit_intercept, Work* wk, bint check, bint canonical, CSRFault* fault,
                            double* prog, Py_ssize_t pstride) noexcept nogil:
    """``fit_rows`` on a block of rows, checked first by ``scan_rows`` when ``check`` (while the block is still in
    cache, so that checking costs no second pass over memory); FIT_FAULT for a fault (recorded in ``fault``; the
    rows before it are trained when the fault is in a later block, a caller that trains fresh state discards it),
    FIT_NO_MEMORY, or what ``fit_rows`` returns.  Values are not scanned: a NaN or infinity makes its row's margin
    non-finite, which stops ``fit_rows`` before that row updates anything."""
    cdef int code
    if check:
        code = scan_rows(data, indices, indptr, NULL, 0, n_rows, wk.row.n_features, False, fault)
        if code > CSR_NOT_CANONICAL:
            return FIT_FAULT
        canonical = code == CSR_CANONICAL   # rows out of order are no fault: fit_rows sorts them
    if reserve_batches(wk, indptr, n_rows, batch_size) < 0:
        return FIT_NO_MEMORY
    return fit_rows(a, p, data, indices, indptr, y, sw, n_rows, state, istate, gs, loss, batch_size, fit_intercept,
                    wk, canonical, prog, pstride)


cdef Py_ssize_t fit_blocks(Algo* a, Params* p,
                           const floating* data, const index_t* indices, const index_t* indptr,
                           const double* y, const double* sw, const int64_t* order, Py_ssize_t n_rows,
                           double* state, double* istate, double* gs,
                           int loss, Py_ssize_t batch_size, bint fit_intercept, Work* wk, Gathered* g,
                           Py_ssize_t block, bint check, bint canonical, CSRFault* fault,
                           double* prog, Py_ssize_t pstride) noexcept nogil:
    """Train on the rows (rows order[r] when order is given), ``block`` rows at a time (a multiple of batch_size):
    ``train_block`` on each, after gathering it when order is given.  Returns what ``train_block`` returns, with
    positions (and a fault's row and entry) in those of the whole run.  After a complete run with ``check``,
    fault.code is CSR_CANONICAL or CSR_NOT_CANONICAL: what the scan found."""
    cdef Py_ssize_t r0 = 0, r1, r, res, n, local
    cdef bint sorted_rows = True
    cdef const index_t* gp = <const index_t*>g.indptr
    while r0 < n_rows:
        r1 = r0 + block if r0 + block < n_rows else n_rows
        n = r1 - r0
        if order == NULL:
            res = train_block(a, p, data, indices, indptr + r0, y + r0, sw + r0, n, state, istate, gs, loss,
                              batch_size, fit_intercept, wk, check, canonical, fault,
                              prog + r0 * pstride if prog != NULL else NULL, pstride)
            if res == FIT_FAULT:
                fault.row += r0
            if res >= 0:
                return r0 + res
        else:
            if gather_rows(data, indices, indptr, y, sw, order + r0, n, g) < 0:
                return FIT_NO_MEMORY
            res = train_block(a, p, <const floating*>g.data, <const index_t*>g.indices, gp, g.y, g.sw, n, state,
                              istate, gs, loss, batch_size, fit_intercept, wk, check, canonical, fault,
                              g.prog if prog != NULL else NULL, 1)
            if res == FIT_FAULT:
                local = fault.row
                fault.row = order[r0 + local]
                fault.pos = indptr[fault.row] + (fault.pos - gp[local])
            if prog != NULL and res != FIT_FAULT and res != FIT_NO_MEMORY:
                for r in range(res if res >= 0 else n):
                    prog[order[r0 + r] * pstride] = g.prog[r]
            if res >= 0:
                return r0 + res
        if res < FIT_OK:
            return res
        sorted_rows &= fault.code == CSR_CANONICAL
        r0 = r1
    fault.code = CSR_CANONICAL if sorted_rows else CSR_NOT_CANONICAL
    return FIT_OK


cdef int gathered_alloc(Gathered* g, Py_ssize_t block, Py_ssize_t entries, Py_ssize_t index_size) noexcept nogil:
    """Room for a block of rows (their entries grow as needed); -1 if memory runs out."""
    memset(g, 0, sizeof(Gathered))
    g.cap = max(1, entries)
    g.data = malloc(g.cap * sizeof(double))
    g.indices = malloc(g.cap * index_size)
    g.indptr = malloc((block + 1) * index_size)
    g.y = <double*>malloc(3 * block * sizeof(double))     # y, sw and prog
    if g.data == NULL or g.indices == NULL or g.indptr == NULL or g.y == NULL:
        return -1
    g.sw = g.y + block
    g.prog = g.y + 2 * block
    return 0


cdef void gathered_free(Gathered* g) noexcept nogil:
    free(g.data)
    free(g.indices)
    free(g.indptr)
    free(g.y)
    memset(g, 0, sizeof(Gathered))


def gather(const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr, const double[::1] y,
           const double[::1] sw, const int64_t[::1] order, floating[::1] out_data, index_t[::1] out_indices,
           index_t[::1] out_indptr, double[::1] out_y, double[::1] out_sw):
    """Copy rows ``order`` (valid positions) of a valid CSR matrix, their labels and weights, into the ``out_``
    arrays, a contiguous CSR of those rows in that order (what the kernel gathers block by block; see
    ``ftrlx.linear_model._ahead``); returns its number of entries.  ValueError if the out arrays are too small."""
    cdef Py_ssize_t r, n = order.shape[0], need = 0
    cdef Gathered g
    if out_indptr.shape[0] < n + 1 or out_y.shape[0] < n or out_sw.shape[0] < n:
        raise ValueError(f"room for {n} rows needed")
    with nogil:
        for r in range(n):
            need += indptr[order[r] + 1] - indptr[order[r]]
    if out_data.shape[0] < need or out_indices.shape[0] < need:
        raise ValueError(f"room for {need} entries needed")
    if n == 0:
        out_indptr[0] = 0
        return 0
    memset(&g, 0, sizeof(Gathered))
    g.data = &out_data[0] if out_data.shape[0] else NULL
    g.indices = &out_indices[0] if out_indices.shape[0] else NULL
    g.indptr, g.y, g.sw, g.cap = &out_indptr[0], &out_y[0], &out_sw[0], need
    with nogil:
        gather_rows(&data[0] if data.shape[0] else NULL, &indices[0] if indices.shape[0] else NULL, &indptr[0],
                    &y[0], &sw[0], &order[0], n, &g)  # never grows g: it has room for every entry
    return need


cdef Py_ssize_t max_row_nnz(const index_t* indptr, Py_ssize_t n_rows) noexcept nogil:
    cdef Py_ssize_t i, best = 0
    for i in range(n_rows):
        best = max(best, indptr[i + 1] - indptr[i])
    return best


cdef int work_alloc(Work* wk, Py_ssize_t max_row, Py_ssize_t stride, Py_ssize_t n_features) noexcept nogil:
    """Buffers for rows of up to max_row entries (wk.buf, for batches, grows as needed); -1 if memory runs out."""
    cdef Py_ssize_t lanes = max_row + 8
    memset(wk, 0, sizeof(Work))
    wk.row.n_features = n_features
    wk.wbuf = <double*>malloc((max_row + 1) * sizeof(double))
    wk.sbuf = <double*>malloc((max_row + 1) * stride * sizeof(double))
    wk.row.entries = <Entry*>malloc(lanes * sizeof(Entry))
    # the row's four arrays of 8-byte (or narrower) lanes, in one allocation
    wk.row.keys = <int64_t*>malloc(4 * lanes * sizeof(int64_t))
    if wk.wbuf == NULL or wk.sbuf == NULL or wk.row.entries == NULL or wk.row.keys == NULL:
        return -1
    wk.row.first = <int32_t*>(wk.row.keys + lanes)
    wk.row.ind = wk.row.keys + 2 * lanes
    wk.row.val = wk.row.keys + 3 * lanes
    return 0


cdef void work_free(Work* wk) noexcept nogil:
    free(wk.buf)
    free(wk.wbuf)
    free(wk.sbuf)
    free(wk.row.keys)
    free(wk.row.entries)
    memset(wk, 0, sizeof(Work))
