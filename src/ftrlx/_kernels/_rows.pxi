# Part of _online.pyx (included there): rows that are not canonical, sorted and merged in a small buffer.

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
