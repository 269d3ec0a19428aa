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
from libc.math cimport isfinite, fabs, fmax
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport malloc, calloc, realloc, free, qsort
from libc.string cimport memcpy, memset

from ftrlx._kernels._common cimport Params, index_t, dloss
from ftrlx._kernels._ftrl cimport *
from ftrlx._kernels._rda cimport *
from ftrlx._kernels._fobos cimport *
from ftrlx._kernels._truncated cimport *
from ftrlx._kernels._adagrad cimport *
from ftrlx._kernels._lazy_adam cimport *
from ftrlx._kernels._ogd cimport *
from ftrlx._kernels._journal cimport Journal, finite_all, journal_record, journal_reserve
from ftrlx._kernels._scan cimport (CSRFault, CSR_CANONICAL, CSR_NOT_CANONICAL, check_indptr, increasing,
                                   scan_rows)

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


cdef inline void update_exact(Algo* a, const Params* p, double* s, double g, double w) noexcept nogil:
    # ``update``, except that FTRL's takes a branch for squares that underflow (``ftrl_accumulate_exact``): for the
    # loops that do not vectorize anyway
    if Algo is FTRLTag: ftrl_update_exact(p, s, g, w)
    else: update(a, p, s, g, w)


cdef inline bint suspect(Algo* a, const double* sbuf, Py_ssize_t n) noexcept nogil:
    # whether the gathered row's fast updates may have met underflowing squares (then redone by ``update_exact``)
    if Algo is FTRLTag: return ftrl_suspect(sbuf, n)
    else: return False


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


cdef inline Py_ssize_t islots(Algo* a) noexcept nogil:
    # the intercept's slots (ALGORITHMS)
    if Algo is FTRLTag or Algo is AdaGradTag: return 2
    elif Algo is LazyAdamTag: return 3
    else: return 1


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


# ---- rows that are not canonical: sorted and merged in a small buffer ----

cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    /* compiled for AVX2 and for the baseline; the loader picks the one the processor runs */
    #define FTRLX_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define FTRLX_SIMD_CLONES
    #endif

    /* ranks[i] = how many of the n distinct keys are smaller than keys[i].  keys and ranks hold n rounded up to a
       multiple of 8 (the padding lanes' ranks mean nothing).  n^2 comparisons, eight lanes at a time and without a
       branch: for the few dozen entries of a row this beats a comparison sort, whose branches the processor
       mispredicts about once per entry. */
    #define FTRLX_RANKS(name, type)                                                  \\
    FTRLX_SIMD_CLONES static void name(const type* keys, type* ranks, int64_t n) {   \\
        int64_t i, j, l;                                                             \\
        for (i = 0; i < n; i += 8) {                                                 \\
            type acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                  \\
            for (j = 0; j < n; j++) {                                                \\
                type x = keys[j];                                                    \\
                for (l = 0; l < 8; l++) acc[l] += x < keys[i + l];                   \\
            }                                                                        \\
            for (l = 0; l < 8; l++) ranks[i + l] = acc[l];                           \\
        }                                                                            \\
    }
    FTRLX_RANKS(ftrlx_ranks32, int32_t)
    FTRLX_RANKS(ftrlx_ranks64, int64_t)
    """
    void ranks32 "ftrlx_ranks32"(const int32_t* keys, int32_t* ranks, int64_t n) noexcept nogil
    void ranks64 "ftrlx_ranks64"(const int64_t* keys, int64_t* ranks, int64_t n) noexcept nogil


cdef struct Entry:
    int64_t j       # column
    int64_t k       # position in the batch (or row), so that merged values are summed in order of appearance
    double g        # gradient contribution (first the feature value, then times the row's dloss)
    double w        # weight at the start of the batch


cdef int compare_entries(const void* a, const void* b) noexcept nogil:
    cdef const Entry* x = <const Entry*>a
    cdef const Entry* y = <const Entry*>b
    if x.j != y.j:
        return -1 if x.j < y.j else 1
    return -1 if x.k < y.k else (1 if x.k > y.k else 0)


cdef enum:
    RANK_MAX = 128      # longer rows (n^2 comparisons) are sorted by qsort


cdef struct RowWork:
    int64_t n_features
    int64_t* keys       # (column << bits) | position, as int32 or int64 lanes; padded to a multiple of 8
    int64_t* ranks64    # their ranks, for int64 keys
    int32_t* ranks      # the place of each entry in the sorted row
    Entry* entries      # the same for a row longer than RANK_MAX, by qsort
    void* ind           # the canonical row: columns (index_t) ...
    void* val           # ... and summed values (floating)


cdef void rank_entries(const index_t* ind, Py_ssize_t n, RowWork* rw) noexcept nogil:
    """rw.ranks[k] = the place of a row's entry k when its n entries are ordered by column, then by position.

    A column and its position packed into one integer make every key distinct, so that the number of keys below
    a key is its place."""
    cdef Py_ssize_t k, m = (n + 7) & ~7
    cdef int bits = 0
    cdef int32_t* k32 = <int32_t*>rw.keys
    while (<int64_t>1 << bits) < n:
        bits += 1
    if n <= RANK_MAX and rw.n_features <= (<int64_t>1 << (31 - bits)):
        for k in range(n):
            k32[k] = <int32_t>((<int64_t>ind[k] << bits) | k)
        for k in range(n, m):
            k32[k] = 0
        ranks32(k32, rw.ranks, n)
    elif n <= RANK_MAX and rw.n_features <= (<int64_t>1 << (63 - bits)):
        for k in range(n):
            rw.keys[k] = (<int64_t>ind[k] << bits) | k
        for k in range(n, m):
            rw.keys[k] = 0
        ranks64(rw.keys, rw.ranks64, n)
        for k in range(n):
            rw.ranks[k] = <int32_t>rw.ranks64[k]
    else:
        for k in range(n):
            rw.entries[k].j = ind[k]
            rw.entries[k].k = k
        qsort(rw.entries, n, sizeof(Entry), compare_entries)
        for k in range(n):
            rw.ranks[rw.entries[k].k] = <int32_t>k


cdef Py_ssize_t canonical_row(const floating* data, const index_t* ind, Py_ssize_t n, RowWork* rw) noexcept nogil:
    """A row's entries sorted by column into rw.ind/rw.val, a repeated column's values summed in their order of
    appearance and in their own precision (as scipy's ``sum_duplicates`` sums them; a zero sum stays an entry);
    returns the number of distinct columns (n >= 1)."""
    cdef index_t* oi = <index_t*>rw.ind
    cdef floating* ov = <floating*>rw.val
    cdef Py_ssize_t k, m
    cdef bint repeated = False
    rank_entries(ind, n, rw)
    for k in range(n):
        oi[rw.ranks[k]] = ind[k]
        ov[rw.ranks[k]] = data[k]
    for k in range(1, n):
        repeated |= oi[k] == oi[k - 1]
    if not repeated:
        return n
    # equal columns are adjacent, in their order of appearance (the position breaks the tie)
    m = 0
    for k in range(1, n):
        if oi[k] == oi[m]:
            ov[m] = ov[m] + ov[k]
        else:
            m += 1
            oi[m] = oi[k]
            ov[m] = ov[k]
    return m + 1


cdef inline Py_ssize_t open_row(const floating* data, const index_t* indices, const index_t* indptr, Py_ssize_t i,
                                bint canonical, RowWork* rw, const floating** val, const index_t** ind) noexcept nogil:
    """Point ``val``/``ind`` at row i in canonical form and return its length: the row itself when it is canonical
    (``canonical``: known to be, for every row), else its sorted and merged copy in ``rw``."""
    cdef Py_ssize_t k0 = indptr[i], n = indptr[i + 1] - indptr[i]
    val[0] = data + k0
    ind[0] = indices + k0
    if canonical or increasing(indices + k0, n):
        return n
    n = canonical_row(data + k0, indices + k0, n, rw)
    val[0] = <const floating*>rw.val
    ind[0] = <const index_t*>rw.ind
    return n


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
    d = dloss(loss, m, yi) * swi
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
        d = dloss(loss, m, y[r]) * sw[r] * inv_nb
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
    otherwise each row is looked at, and one that is not is trained on as its sorted and merged copy.  wk.buf
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


cdef void decision_rows(Algo* a, Params* p,
                        const floating* data, const index_t* indices, const index_t* indptr, Py_ssize_t n_rows,
                        const double* state, const double* istate, const double* gs,
                        bint fit_intercept, RowWork* rw, double* out, Py_ssize_t out_stride) noexcept nogil:
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t i, k, n
    cdef const floating* rv
    cdef const index_t* ri
    cdef double m, b
    read_time(a, p, gs)
    b = intercept(a, p, istate) if fit_intercept else 0.0
    for i in range(n_rows):
        if i + 1 < n_rows:
            prefetch_row(indices, indptr, i + 1, state, stride)
        n = open_row(data, indices, indptr, i, False, rw, &rv, &ri)
        m = b
        for k in range(n):
            m += weight(a, p, state + ri[k] * stride) * rv[k]
        out[i * out_stride] = m


cdef void coef_all(Algo* a, Params* p, const double* state, Py_ssize_t n_features,
                   const double* istate, const double* gs, bint fit_intercept, double* out) noexcept nogil:
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t j
    read_time(a, p, gs)
    for j in range(n_features):
        out[j] = weight(a, p, state + j * stride)
    out[n_features] = intercept(a, p, istate) if fit_intercept else 0.0


cdef Py_ssize_t nonzero_weights(Algo* a, Params* p, const double* state, Py_ssize_t n_features,
                                const double* gs) noexcept nogil:
    # the weights as coef_all computes them, counted instead of stored (FTRL's weight is 0 without a division
    # when |z| <= l1, so a sparse model costs little more than one read of z per coordinate)
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t j, count = 0
    read_time(a, p, gs)
    for j in range(n_features):
        count += weight(a, p, state + j * stride) != 0.0
    return count


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
    # the row's five arrays of 8-byte (or narrower) lanes, in one allocation
    wk.row.keys = <int64_t*>malloc(5 * lanes * sizeof(int64_t))
    if wk.wbuf == NULL or wk.sbuf == NULL or wk.row.entries == NULL or wk.row.keys == NULL:
        return -1
    wk.row.ranks64 = wk.row.keys + lanes
    wk.row.ranks = <int32_t*>(wk.row.keys + 2 * lanes)
    wk.row.ind = wk.row.keys + 3 * lanes
    wk.row.val = wk.row.keys + 4 * lanes
    return 0


cdef void work_free(Work* wk) noexcept nogil:
    free(wk.buf)
    free(wk.wbuf)
    free(wk.sbuf)
    free(wk.row.keys)
    free(wk.row.entries)
    memset(wk, 0, sizeof(Work))


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


def _progressive_view(progressive, Py_ssize_t column, Py_ssize_t n_rows):
    # the margins' destination: out[row, column], one row per row of X
    cdef double[:, ::1] out = progressive
    if out.shape[0] != n_rows or not 0 <= column < out.shape[1]:
        raise ValueError(f"progressive has shape {progressive.shape}, but X has {n_rows} rows (column {column} "
                         "written); pass a C-contiguous float64 array with one row per row of X")
    return out


cdef class UndoJournal:
    """What one training call changed in one output's state, to undo it (see ``_journal.pxd``).

    Passed to ``fit`` (possibly several times, e.g. once per epoch), it records each coordinate's slots the first
    time a call changes them; then ``restore`` puts them back, or ``forget`` accepts the changes.  Either leaves
    the journal empty for the next call.  The bitmap of recorded coordinates (n_features / 8 bytes) is kept
    between calls, so that a call costs O(coordinates it touched) whatever n_features.
    """
    cdef Journal j
    cdef readonly Py_ssize_t n_features

    def __cinit__(self, Py_ssize_t n_features, Py_ssize_t stride):
        memset(&self.j, 0, sizeof(Journal))
        self.n_features = n_features
        self.j.stride = stride
        self.j.seen = <uint64_t*>calloc(n_features // 64 + 1, sizeof(uint64_t))
        if self.j.seen == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.j.seen)
        free(self.j.cols)
        free(self.j.saved)

    @property
    def stride(self):
        return self.j.stride

    @property
    def n_recorded(self):
        """Coordinates recorded since the last ``restore`` or ``forget``."""
        return self.j.n

    def fits(self, Py_ssize_t n_features, Py_ssize_t stride):
        return self.n_features == n_features and self.j.stride == stride

    def restore(self, double[:, ::1] state):
        """Put every recorded coordinate of ``state`` back as it was, then ``forget``."""
        cdef Py_ssize_t e, q, stride = self.j.stride
        if state.shape[0] != self.n_features or state.shape[1] != stride:
            raise ValueError(f"state of shape ({state.shape[0]}, {state.shape[1]}) is not the journal's "
                             f"({self.n_features}, {stride})")
        cdef Journal* j = &self.j  # a plain pointer: no attribute of self is touched without the GIL
        with nogil:
            for e in range(j.n):
                for q in range(stride):
                    state[j.cols[e], q] = j.saved[e * stride + q]
        self.forget()

    def forget(self):
        """Clear the record (entry by entry); a large buffer is released rather than kept for the next call."""
        cdef Py_ssize_t e
        cdef int64_t c
        cdef Journal* j = &self.j
        with nogil:
            for e in range(j.n):
                c = j.cols[e]
                j.seen[c >> 6] &= ~((<uint64_t>1) << (c & 63))
        self.j.n = 0
        if self.j.cap > (1 << 16):
            free(self.j.cols)
            free(self.j.saved)
            self.j.cols, self.j.saved, self.j.cap = NULL, NULL, 0


def fit(int algo, dict params, const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
        const double[::1] y, const double[::1] sample_weight, order,
        double[:, ::1] state, double[::1] istate, double[::1] gs,
        int loss, Py_ssize_t batch_size, bint fit_intercept, bint check=False,
        progressive=None, Py_ssize_t progressive_column=0, bint canonical=False,
        UndoJournal journal=None, double[::1] stats=None):
    """Train in place on the rows of a CSR matrix (in ``order`` if given).

    The matrix may hold rows with unsorted or repeated column indices: the kernel trains on such a row as on its
    sorted copy with repeated columns summed (scipy's ``sum_duplicates``), without copying the matrix.  Without
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
            if algo == 0:
                res = fit_blocks(&t0, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, &wk, &g, block, check, canonical, &fault, prog, pstride)
            elif algo == 1:
                res = fit_blocks(&t1, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, &wk, &g, block, check, canonical, &fault, prog, pstride)
            elif algo == 2:
                res = fit_blocks(&t2, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, &wk, &g, block, check, canonical, &fault, prog, pstride)
            elif algo == 3:
                res = fit_blocks(&t3, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, &wk, &g, block, check, canonical, &fault, prog, pstride)
            elif algo == 4:
                res = fit_blocks(&t4, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, &wk, &g, block, check, canonical, &fault, prog, pstride)
            elif algo == 5:
                res = fit_blocks(&t5, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, &wk, &g, block, check, canonical, &fault, prog, pstride)
            else:
                res = fit_blocks(&t6, &p, X, ind, &indptr[0], &y[0], &sample_weight[0], order_ptr, n_rows, &state[0, 0], &istate[0], &gs[0], loss, batch_size, fit_intercept, &wk, &g, block, check, canonical, &fault, prog, pstride)
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

    A row with unsorted or repeated columns gets the margin of its sorted copy with repeated columns summed."""
    _check_state(algo, state.shape[1], istate.shape[0], gs.shape[0])
    cdef Params p = make_params(params)
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, ostride = out.shape[1]
    cdef Work wk
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
    cdef RowWork* rw = &wk.row
    try:
        if work_alloc(&wk, max_row_nnz(&indptr[0], n_rows), state.shape[1], state.shape[0]) < 0:
            raise MemoryError()
        with nogil:
            if algo == 0:
                decision_rows(&t0, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, rw, o, ostride)
            elif algo == 1:
                decision_rows(&t1, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, rw, o, ostride)
            elif algo == 2:
                decision_rows(&t2, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, rw, o, ostride)
            elif algo == 3:
                decision_rows(&t3, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, rw, o, ostride)
            elif algo == 4:
                decision_rows(&t4, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, rw, o, ostride)
            elif algo == 5:
                decision_rows(&t5, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, rw, o, ostride)
            else:
                decision_rows(&t6, &p, X, ind, &indptr[0], n_rows, &state[0, 0], &istate[0], &gs[0], fit_intercept, rw, o, ostride)
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


def count_nonzero(int algo, dict params, const double[:, ::1] state, const double[::1] gs):
    """The number of non-zero weights at the current step (the intercept left out), without building them: what
    ``numpy.count_nonzero(coefficients(...)[:-1])`` counts, in one read of the state."""
    _check_state(algo, state.shape[1], _SLOTS_BY_CODE.get(algo, (0, 0))[1], gs.shape[0])
    cdef Params p = make_params(params)
    cdef Py_ssize_t n_features = state.shape[0], count = 0
    cdef FTRLTag t0
    cdef RDATag t1
    cdef FOBOSTag t2
    cdef TGTag t3
    cdef AdaGradTag t4
    cdef LazyAdamTag t5
    cdef OGDTag t6
    if n_features == 0:
        return 0
    cdef const double* s = &state[0, 0]
    with nogil:
        if algo == 0:
            count = nonzero_weights(&t0, &p, s, n_features, &gs[0])
        elif algo == 1:
            count = nonzero_weights(&t1, &p, s, n_features, &gs[0])
        elif algo == 2:
            count = nonzero_weights(&t2, &p, s, n_features, &gs[0])
        elif algo == 3:
            count = nonzero_weights(&t3, &p, s, n_features, &gs[0])
        elif algo == 4:
            count = nonzero_weights(&t4, &p, s, n_features, &gs[0])
        elif algo == 5:
            count = nonzero_weights(&t5, &p, s, n_features, &gs[0])
        else:
            count = nonzero_weights(&t6, &p, s, n_features, &gs[0])
    return count
