# Part of _online.pyx (included there): rows that are not canonical, sorted and merged in a small buffer.

# ---- rows that are not canonical: sorted and merged in a small buffer ----

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


cdef inline bint in_order(const index_t* ind, Py_ssize_t n) noexcept nogil:
    """Whether a row's columns never decrease (a sorted row, perhaps with repeated columns)."""
    cdef Py_ssize_t k
    cdef bint ok = True
    for k in range(1, n):
        ok &= ind[k] >= ind[k - 1]
    return ok


cdef Py_ssize_t canonical_row(const floating* data, const index_t* ind, Py_ssize_t n, RowWork* rw) noexcept nogil:
    """A row's entries sorted by column into rw.ind/rw.val, a repeated column's values summed in their order of
    appearance and in their own precision (as scipy's ``sum_duplicates`` sums them; a zero sum stays an entry);
    returns the number of distinct columns (n >= 1)."""
    cdef index_t* oi = <index_t*>rw.ind
    cdef floating* ov = <floating*>rw.val
    cdef const index_t* si = ind
    cdef const floating* sv = data
    cdef Py_ssize_t k, m
    cdef bint repeated = False
    if not in_order(ind, n):
        rank_entries(ind, n, rw)
        for k in range(n):
            oi[rw.ranks[k]] = ind[k]
            ov[rw.ranks[k]] = data[k]
        for k in range(1, n):
            repeated |= oi[k] == oi[k - 1]
        if not repeated:
            return n
        si, sv = oi, ov
    # equal columns are adjacent, in their order of appearance (the position breaks the tie); a sorted row with
    # repeated columns is merged straight from its place in X (element by element: the rows are short, and a
    # library copy costs more than the loop)
    oi[0] = si[0]
    ov[0] = sv[0]
    m = 0
    for k in range(1, n):
        if si[k] == oi[m]:
            ov[m] = ov[m] + sv[k]
        else:
            m += 1
            oi[m] = si[k]
            ov[m] = sv[k]
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
