"""The two steps of deterministic data-parallel training around the training kernel (see
``ftrlx.linear_model._deterministic``): loading a thread's private copy of the columns its rows touch, and merging
the copies of every thread back into the shared state, column by column, in a fixed order.

Both cost O(entries of the rows) and O(touched columns), never O(n_features): a column's private copy is valid in
a round only if its stamp holds the round's id, so nothing is ever cleared.  Both run without the GIL.
"""
from libc.math cimport sqrt, exp
from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport malloc, free

from ftrlx._kernels._common cimport index_t
from ftrlx._kernels._params cimport Params, make_params

include "_dispatch.pxi"

# How a slot of the state is merged (``kinds``):
#   VALUE   an accumulator or a value stored as it is read: base + the sum (or the mean) of the threads' changes;
#   SQRT    the square root of an accumulator (FTRL's sqrt(n)): its square merged as a VALUE, then rooted;
#   WEIGHT  a weight kept lazily (its regulariser caught up when read): the base weight plus the sum of each
#           thread's change of the *caught-up* weight (read at the thread's clock), so that the regularisation
#           each thread's steps applied is counted, also where it did not touch the column;
#   STAMP + c  a per-column time stamp of the lazy catch-up: the merged clock gstate[c] (the merged weight is
#           stored caught up).
cdef extern from *:
    void prefetch "__builtin_prefetch"(const void* addr) noexcept nogil

cdef enum:
    # entries (columns) whose memory is requested ahead of their use: hashed columns are scattered over arrays
    # far larger than the caches
    AHEAD = 16
    KIND_VALUE = 0
    KIND_SQRT = 1
    KIND_WEIGHT = 2
    KIND_STAMP = 3
    MAX_SLOTS = 8

VALUE, SQRT, WEIGHT, STAMP = KIND_VALUE, KIND_SQRT, KIND_WEIGHT, KIND_STAMP


def load_rows(const index_t[::1] indices, const index_t[::1] indptr, order, Py_ssize_t start, Py_ssize_t stop,
              const double[:, ::1] master, double[:, ::1] private, int64_t[::1] stamp, int64_t round_id,
              int64_t[::1] touched):
    """Copy into ``private`` the master state of every column of the rows at positions start..stop (rows
    ``order[pos]``, or ``pos`` itself without an order), once per column and round (``stamp``); the columns go
    to ``touched`` (room for every entry of those rows).  Returns how many there are."""
    cdef const int64_t[::1] order_view
    cdef const int64_t* op = NULL
    cdef Py_ssize_t r, i, i1, e, s, n = 0, n_slots = master.shape[1]
    cdef int64_t j
    if order is not None:
        order_view = order
        if order_view.shape[0] > 0:
            op = &order_view[0]
    if stop <= start:
        return 0
    with nogil:
        for r in range(start, stop):
            i = op[r] if op != NULL else r
            if r + 1 < stop:
                i1 = op[r + 1] if op != NULL else r + 1
                for e in range(indptr[i1], indptr[i1 + 1]):
                    j = indices[e]
                    prefetch(&stamp[j])
                    prefetch(&master[j, 0])
                    prefetch(&private[j, 0])
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                if stamp[j] != round_id:
                    stamp[j] = round_id
                    for s in range(n_slots):
                        private[j, s] = master[j, s]
                    touched[n] = j
                    n += 1
    return n


cdef void merge_clock(int algo, const double* g0, const double* gs, Py_ssize_t n_threads, Py_ssize_t n_global,
                      double* out) noexcept nogil:
    """The threads' clocks (gs, one row of n_global per thread) from the round-start g0: the step counts and
    running sums add up; FOBOS's B_t = c_t (B_{t-1} + a_t) is an affine map per step, so the threads' maps
    chain (thread order) instead of adding."""
    cdef Py_ssize_t c, k
    cdef double ratio
    for c in range(n_global):
        out[c] = g0[c]
        for k in range(n_threads):
            out[c] += gs[k * n_global + c] - g0[c]
    if composed_clock(algo) and n_global > 2:
        out[2] = g0[2]
        for k in range(n_threads):
            ratio = exp(gs[k * n_global + 1] - g0[1])
            out[2] = ratio * out[2] + (gs[k * n_global + 2] - ratio * g0[2])


cdef inline double merge_value(double base, const double* values, Py_ssize_t stride, const bint* mine,
                               Py_ssize_t n_threads, bint squared, bint mean) noexcept nogil:
    # base + the changes of the threads that touched it (in thread order: the same bits every run)
    cdef Py_ssize_t k, count = 0
    cdef double acc = 0.0, v, b = base * base if squared else base
    for k in range(n_threads):
        if mine[k]:
            v = values[k * stride]
            acc += (v * v if squared else v) - b
            count += 1
    if mean and count > 0:
        acc = acc / count
    v = b + acc
    if squared:
        return sqrt(v) if v > 0.0 else 0.0
    return v


def merge_rows(int algo, dict params, const int32_t[::1] kinds, bint mean, Py_ssize_t thread,
               const int64_t[::1] touched, Py_ssize_t n_touched, const int64_t[:, ::1] stamps, int64_t round_id,
               const double[:, :, ::1] privates, double[:, ::1] master, const double[:, ::1] clocks,
               const double[::1] clock0):
    """Merge the round's private copies into ``master`` for the columns ``touched[:n_touched]`` of ``thread``,
    except those that a lower-numbered thread also touched (that thread merges them): every touched column is
    merged exactly once, by one thread, and the threads write disjoint columns.

    ``clocks``: each thread's gstate at the end of the round; ``clock0``: the round-start gstate.  A column
    touched by one thread only takes that thread's copy where its slots need no catch-up."""
    cdef Py_ssize_t n_threads = privates.shape[0], n_slots = master.shape[1], n_global = clock0.shape[0]
    cdef Py_ssize_t t, k, s, count, last, stride = privates.shape[1] * n_slots
    cdef int64_t j
    cdef double w0, acc
    cdef double out[MAX_SLOTS]
    cdef double merged[MAX_SLOTS]
    cdef bint lazy = False
    cdef bint skip
    cdef Params base_params = make_params(params)
    if n_slots > MAX_SLOTS or kinds.shape[0] != n_slots or clocks.shape[0] != n_threads or n_global > MAX_SLOTS:
        raise ValueError("merge_rows: the state, kinds and clocks do not fit together")
    for s in range(n_slots):
        lazy |= kinds[s] == KIND_WEIGHT
    cdef Params* at = <Params*>malloc((n_threads + 1) * sizeof(Params))
    cdef bint* mine = <bint*>malloc(n_threads * sizeof(bint))
    if at == NULL or mine == NULL:
        free(at)
        free(mine)
        raise MemoryError()
    try:
        with nogil:
            merge_clock(algo, &clock0[0], &clocks[0, 0], n_threads, n_global, merged)
            for k in range(n_threads + 1):
                at[k] = base_params
                read_time_by_code(algo, &at[k], &clocks[k, 0] if k < n_threads else &clock0[0])
            for t in range(n_touched):
                if t + AHEAD < n_touched:
                    j = touched[t + AHEAD]
                    prefetch(&master[j, 0])
                    for k in range(n_threads):
                        prefetch(&stamps[k, j])
                        prefetch(&privates[k, j, 0])
                j = touched[t]
                skip = False
                for k in range(thread):
                    skip |= stamps[k, j] == round_id
                if skip:
                    continue
                count, last = 0, 0
                for k in range(n_threads):
                    mine[k] = stamps[k, j] == round_id
                    if mine[k]:
                        count += 1
                        last = k
                if lazy:
                    w0 = weight_by_code(algo, &at[n_threads], &master[j, 0])
                    acc = 0.0
                    for k in range(n_threads):
                        acc += weight_by_code(algo, &at[k], &privates[k, j, 0] if mine[k] else &master[j, 0]) - w0
                    if mean:
                        acc = acc / n_threads
                for s in range(n_slots):
                    if kinds[s] >= KIND_STAMP:
                        out[s] = merged[kinds[s] - KIND_STAMP]
                    elif kinds[s] == KIND_WEIGHT:
                        out[s] = w0 + acc
                    elif count == 1:
                        out[s] = privates[last, j, s]
                    else:
                        out[s] = merge_value(master[j, s], &privates[0, j, s], stride, mine, n_threads,
                                             kinds[s] == KIND_SQRT, mean)
                for s in range(n_slots):
                    master[j, s] = out[s]
    finally:
        free(at)
        free(mine)


def merge_globals(int algo, const int32_t[::1] kinds, bint mean, const double[:, ::1] istates,
                  const double[::1] istate0, const double[:, ::1] clocks, const double[::1] clock0,
                  double[::1] istate_out, double[::1] clock_out):
    """The merged intercept state (every thread's change, by ``kinds``: VALUE or SQRT) and the merged clock."""
    cdef Py_ssize_t n_threads = istates.shape[0], s, k
    cdef bint* every = <bint*>malloc(n_threads * sizeof(bint))
    if every == NULL:
        raise MemoryError()
    for k in range(n_threads):
        every[k] = True
    with nogil:
        for s in range(istate0.shape[0]):
            istate_out[s] = merge_value(istate0[s], &istates[0, s], istates.shape[1], every, n_threads,
                                        kinds[s] == KIND_SQRT, mean)
        merge_clock(algo, &clock0[0], &clocks[0, 0], n_threads, clock0.shape[0], &clock_out[0])
    free(every)
