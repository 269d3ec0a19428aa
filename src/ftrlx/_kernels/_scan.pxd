# The checks every kernel relies on, for a run of CSR rows: row pointers within the stored entries, column indices
# in [0, n_features), finite values; and whether the rows are canonical (strictly increasing columns, hence no
# duplicates).  Used on its own (ftrlx._kernels._check.scan_csr) and by the training driver, which checks each
# block of rows just before training on it, while the block is still in cache.
from cython cimport floating
from libc.math cimport isfinite
from libc.stdint cimport int64_t

from ftrlx._kernels._common cimport index_t

cdef enum:
    CSR_CANONICAL = 0
    CSR_NOT_CANONICAL = 1       # valid, but some row has unsorted or repeated column indices
    CSR_BAD_INDPTR = 2
    CSR_NEGATIVE_INDEX = 3
    CSR_INDEX_TOO_LARGE = 4
    CSR_NOT_FINITE = 5


cdef struct CSRFault:
    int code            # one of the CSR_* codes
    Py_ssize_t row      # the row of the first fault (-1 when there is none)
    Py_ssize_t pos      # its position in data/indices (for CSR_BAD_INDPTR: the offending row pointer's value)


cdef inline int check_indptr(const index_t* indptr, Py_ssize_t n_rows, Py_ssize_t nnz, CSRFault* fault) noexcept nogil:
    """Row pointers start at 0, never decrease and end within the nnz stored entries (O(n_rows))."""
    cdef Py_ssize_t i
    fault.code, fault.row, fault.pos = CSR_CANONICAL, -1, -1
    if indptr[0] != 0:
        fault.code, fault.row, fault.pos = CSR_BAD_INDPTR, 0, indptr[0]
        return fault.code
    for i in range(n_rows):
        if indptr[i + 1] < indptr[i] or indptr[i + 1] > nnz:
            fault.code, fault.row, fault.pos = CSR_BAD_INDPTR, i, indptr[i + 1]
            return fault.code
    return fault.code


cdef inline bint increasing(const index_t* ind, Py_ssize_t n) noexcept nogil:
    """Whether n column indices strictly increase (a canonical row): one comparison per entry, no branch."""
    cdef Py_ssize_t k
    cdef bint out_of_order = False
    for k in range(1, n):
        out_of_order |= ind[k] <= ind[k - 1]
    return not out_of_order


cdef inline bint within(const index_t* ind, Py_ssize_t n, Py_ssize_t n_features) noexcept nogil:
    """Whether n column indices (n >= 1, in any order) all lie in [0, n_features): their least and greatest, found
    without a branch (a row out of order would mispredict a comparison with the previous index half the time)."""
    cdef Py_ssize_t k
    cdef index_t lo = ind[0], hi = ind[0]
    for k in range(1, n):
        lo = ind[k] if ind[k] < lo else lo
        hi = ind[k] if ind[k] > hi else hi
    return lo >= 0 and hi < n_features


cdef inline int row_fault(const floating* data, const index_t* indices, Py_ssize_t i, Py_ssize_t k0, Py_ssize_t k1,
                          Py_ssize_t n_features, bint finite, CSRFault* fault) noexcept nogil:
    """The first fault of row i, element by element (the slow path, for a row the fast checks flagged)."""
    cdef Py_ssize_t k
    cdef int64_t j, previous = -1
    cdef int code = CSR_CANONICAL
    for k in range(k0, k1):
        j = indices[k]
        if j < 0:
            code = CSR_NEGATIVE_INDEX
        elif j >= n_features:
            code = CSR_INDEX_TOO_LARGE
        elif finite and not isfinite(data[k]):
            code = CSR_NOT_FINITE
        else:
            if j <= previous:
                fault.code = CSR_NOT_CANONICAL
            previous = j
            continue
        fault.code, fault.row, fault.pos = code, i, k
        return code
    return fault.code


cdef inline int scan_rows(const floating* data, const index_t* indices, const index_t* indptr,
                          const int64_t* order, Py_ssize_t r0, Py_ssize_t r1,
                          Py_ssize_t n_features, bint finite, CSRFault* fault) noexcept nogil:
    """Check rows r0..r1-1 (rows order[r] when order is given); return and record the first fault's code, else
    CSR_NOT_CANONICAL or CSR_CANONICAL.  ``finite=False`` leaves out the values (the training driver finds a
    non-finite value through the margin it makes non-finite).  Precondition: ``check_indptr`` has passed, so every
    row's entries lie within the nnz stored ones (both callers run it once, before any block).

    The fast path costs one comparison per entry: a row whose indices strictly increase is canonical, and its
    indices are all in range when the first is >= 0 and the last < n_features.  A row out of order is not
    canonical, and its indices are in range when their least and greatest are.  Only a row out of range (or
    holding a non-finite value) is looked at element by element."""
    cdef Py_ssize_t r, i, k, k0, k1
    cdef bint flagged
    fault.code, fault.row, fault.pos = CSR_CANONICAL, -1, -1
    for r in range(r0, r1):
        i = order[r] if order != NULL else r
        k0 = indptr[i]
        k1 = indptr[i + 1]
        if k1 == k0:
            continue
        if increasing(indices + k0, k1 - k0):
            flagged = indices[k0] < 0 or indices[k1 - 1] >= n_features
        else:
            flagged = not within(indices + k0, k1 - k0, n_features)
            if fault.code == CSR_CANONICAL:
                fault.code = CSR_NOT_CANONICAL
        if finite:
            for k in range(k0, k1):
                flagged |= not isfinite(data[k])
        if flagged and row_fault(data, indices, i, k0, k1, n_features, finite, fault) > CSR_NOT_CANONICAL:
            return fault.code
    return fault.code
