# Part of _online.pyx (included there): rows that are not canonical, trained on in place when each column appears
# once, else merged in a small buffer.

# ---- rows that are not canonical: trained on in place, or merged in a small buffer ----

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
    PAIRS_MAX = 128     # longer rows (n^2 comparisons), and columns past int32, are sorted by qsort


cdef struct RowWork:
    int64_t n_features
    int64_t* keys       # a row's columns as int32 lanes, padded to a multiple of 8
    int32_t* first      # each entry's column's first position in the row (a first one: its merged place)
    Entry* entries      # (column, position) of the rows that qsort searches
    void* ind           # the merged row: columns (index_t) ...
    void* val           # ... and summed values (floating)


cdef enum:
    ROW_INCREASING = 0  # each column once, in increasing order: a canonical row
    ROW_SORTED = 1      # sorted, some column repeated (side by side)
    ROW_UNSORTED = 2


cdef inline int row_order(const index_t* ind, Py_ssize_t n) noexcept nogil:
    """How a row's columns run (a ROW_* code): one pass, two comparisons per entry and no branch."""
    cdef Py_ssize_t k
    cdef bint down = False, flat = False
    for k in range(1, n):
        down |= ind[k] < ind[k - 1]
        flat |= ind[k] == ind[k - 1]
    return ROW_UNSORTED if down else (ROW_SORTED if flat else ROW_INCREASING)


cdef bint find_first(const index_t* ind, Py_ssize_t n, RowWork* rw) noexcept nogil:
    """Whether some column appears twice in a row of n entries (in any order); if so, rw.first[k] = the first
    position of entry k's column."""
    cdef Py_ssize_t k, f
    cdef int32_t* k32 = <int32_t*>rw.keys
    cdef bint repeated = False
    if n <= PAIRS_MAX and rw.n_features <= (<int64_t>1 << 31):
        for k in range(n):
            k32[k] = <int32_t>ind[k]
        if not repeats32_path(k32, n, False):
            return False
        first32_path(k32, n, rw.first, False)
        return True
    for k in range(n):
        rw.entries[k].j = ind[k]
        rw.entries[k].k = k
    qsort(rw.entries, n, sizeof(Entry), compare_entries)
    f = rw.entries[0].k
    rw.first[f] = <int32_t>f
    for k in range(1, n):
        if rw.entries[k].j != rw.entries[k - 1].j:
            f = rw.entries[k].k
        else:
            repeated = True
        rw.first[rw.entries[k].k] = <int32_t>f
    return repeated


cdef Py_ssize_t merged_row(const floating* data, const index_t* ind, Py_ssize_t n, bint sorted_row,
                           RowWork* rw) noexcept nogil:
    """For a row of n >= 2 entries whose columns do not strictly increase (``sorted_row``: ROW_SORTED, else
    ROW_UNSORTED): 0 when it names each column once (it is then trained on as it is, in its own order); else the
    number of its distinct columns, with the merged row in rw.ind/rw.val: each column at its first appearance, a
    repeated column's values summed in their order of appearance and in their own precision (as scipy's
    ``sum_duplicates`` sums them; a zero sum stays an entry).  A sorted row is merged with its repeated columns
    side by side; its merged row is its canonical form."""
    cdef index_t* oi = <index_t*>rw.ind
    cdef floating* ov = <floating*>rw.val
    cdef int32_t* first = rw.first
    cdef Py_ssize_t k, f, m = 0
    if sorted_row:
        # equal columns are adjacent: merged straight from the row's place in X (element by element: the rows
        # are short, and a library copy costs more than the loop)
        oi[0] = ind[0]
        ov[0] = data[0]
        for k in range(1, n):
            if ind[k] == oi[m]:
                ov[m] = ov[m] + data[k]
            else:
                m += 1
                oi[m] = ind[k]
                ov[m] = data[k]
        return m + 1
    if not find_first(ind, n, rw):
        return 0
    for k in range(n):
        f = first[k]
        if f == k:
            first[k] = <int32_t>m
            oi[m] = ind[k]
            ov[m] = data[k]
            m += 1
        else:
            ov[first[f]] = ov[first[f]] + data[k]
    return m


cdef inline Py_ssize_t open_row(const floating* data, const index_t* indices, const index_t* indptr, Py_ssize_t i,
                                bint canonical, RowWork* rw, const floating** val, const index_t** ind) noexcept nogil:
    """Point ``val``/``ind`` at row i with each column once and return its length: the row itself when it names
    each column once (``canonical``: every row is known to be canonical), else its merged copy in ``rw``."""
    cdef Py_ssize_t m, k0 = indptr[i], n = indptr[i + 1] - indptr[i]
    cdef int order
    val[0] = data + k0
    ind[0] = indices + k0
    if canonical:
        return n
    order = row_order(indices + k0, n)
    if order == ROW_INCREASING:
        return n
    m = merged_row(data + k0, indices + k0, n, order == ROW_SORTED, rw)
    if m == 0:
        return n
    n = m
    val[0] = <const floating*>rw.val
    ind[0] = <const index_t*>rw.ind
    return n
