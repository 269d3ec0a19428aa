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
