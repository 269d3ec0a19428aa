"""One pass over a CSR matrix checking everything the kernels rely on (see ``_scan.pxd``).

The first fault in storage order is reported, whatever its kind, so that an error message can name its row and
column.
"""
from cython cimport floating

from ftrlx._kernels._common cimport index_t
from ftrlx._kernels._scan cimport *

# result codes, for ftrlx._validation
CANONICAL = CSR_CANONICAL
NOT_CANONICAL = CSR_NOT_CANONICAL
BAD_INDPTR = CSR_BAD_INDPTR
NEGATIVE_INDEX = CSR_NEGATIVE_INDEX
INDEX_TOO_LARGE = CSR_INDEX_TOO_LARGE
NOT_FINITE = CSR_NOT_FINITE


def scan_csr(const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
             Py_ssize_t n_features):
    """Return ``(code, row, position)``: the first fault and where it is, or ``(CANONICAL or NOT_CANONICAL, -1, -1)``.

    ``position`` indexes ``data``/``indices`` (for BAD_INDPTR it is the offending row pointer's value).
    """
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, nnz = indices.shape[0]
    cdef CSRFault fault
    if data.shape[0] != nnz or n_rows < 0:
        return BAD_INDPTR, -1, data.shape[0]
    cdef const floating* X = &data[0] if nnz > 0 else NULL
    cdef const index_t* ind = &indices[0] if nnz > 0 else NULL
    with nogil:
        if check_indptr(&indptr[0], n_rows, nnz, &fault) == CSR_CANONICAL:
            scan_rows(X, ind, &indptr[0], NULL, 0, n_rows, n_features, True, &fault)
    return fault.code, fault.row, fault.pos


def check_row_pointers(const index_t[::1] indptr, Py_ssize_t nnz):
    """``(code, row, position)`` of ``scan_csr`` for the row pointers alone (O(n_rows)): BAD_INDPTR and where, or
    ``(CANONICAL, -1, -1)`` when they start at 0, never decrease and end within the ``nnz`` stored entries."""
    cdef CSRFault fault
    if indptr.shape[0] < 1:
        return BAD_INDPTR, -1, 0
    with nogil:
        check_indptr(&indptr[0], indptr.shape[0] - 1, nnz, &fault)
    return fault.code, fault.row, fault.pos


def scan_rows_range(const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
                    Py_ssize_t n_features, Py_ssize_t r0, Py_ssize_t r1):
    """``scan_csr`` for rows r0..r1-1 alone (clipped to the matrix): the pieces of one scan that threads share.

    The range's row pointers are checked first (BAD_INDPTR at the first row whose pointer is out of order or past
    the stored entries, and at row 0 for a first pointer that is not 0; the range's first pointer is checked
    against the one before it), then its entries: the first fault of the
    range and where, else ``(CANONICAL or NOT_CANONICAL, -1, -1)``.  ``combine_scans`` makes the ranges' results
    the whole matrix's."""
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, nnz = indices.shape[0], i
    cdef CSRFault fault
    if data.shape[0] != nnz or n_rows < 0:
        return BAD_INDPTR, -1, data.shape[0]
    r0 = min(max(r0, 0), n_rows)
    r1 = min(max(r1, r0), n_rows)
    cdef const floating* X = &data[0] if nnz > 0 else NULL
    cdef const index_t* ind = &indices[0] if nnz > 0 else NULL
    fault.code, fault.row, fault.pos = CSR_CANONICAL, -1, -1
    with nogil:
        if indptr[0] != 0:
            fault.code, fault.row, fault.pos = CSR_BAD_INDPTR, 0, indptr[0]
        else:
            # from the pointer before the range's first: its rows' entries then lie within the stored ones
            for i in range(max(r0 - 1, 0), r1):
                if indptr[i + 1] < indptr[i] or indptr[i + 1] > nnz:
                    fault.code, fault.row, fault.pos = CSR_BAD_INDPTR, i, indptr[i + 1]
                    break
        if fault.code == CSR_CANONICAL:
            scan_rows(X, ind, &indptr[0], NULL, r0, r1, n_features, True, &fault)
    return fault.code, fault.row, fault.pos


def combine_scans(results):
    """The whole matrix's ``scan_csr`` result from those of ``scan_rows_range`` on consecutive ranges covering it,
    in row order: its row pointers are checked before any entry, so the first range's BAD_INDPTR comes first; then
    the first range's fault; else NOT_CANONICAL where any range is so."""
    results = list(results)
    for res in results:
        if res[0] == BAD_INDPTR:
            return res
    for res in results:
        if res[0] > NOT_CANONICAL:
            return res
    if any(res[0] == NOT_CANONICAL for res in results):
        return NOT_CANONICAL, -1, -1
    return CANONICAL, -1, -1
