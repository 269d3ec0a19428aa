"""The row routines of ``_ranks.pxd``, each path of them callable on one row of keys, for the tests that compare
the paths with each other and with NumPy (the processor's own path, or ``generic``: the plain loops that
processors without AVX2 run)."""
from libc.stdint cimport int32_t

from ftrlx._kernels._ranks cimport first32_path, ranks32_path, repeats32_path

import numpy as np


def _padded(const int32_t[::1] keys):
    # the routines read (and the repeats write) the keys rounded up to a multiple of 8
    out = np.zeros((keys.shape[0] + 7) & ~7, dtype=np.int32)
    out[: keys.shape[0]] = keys
    return out


def row_repeats(const int32_t[::1] keys, bint generic=False):
    """Whether some of a row's columns (all >= 0) repeats, as the training kernels find it for a row out of
    order."""
    cdef Py_ssize_t n = keys.shape[0]
    cdef int32_t[::1] k = _padded(keys)
    cdef bint out = False
    if n > 0:
        with nogil:
            out = repeats32_path(&k[0], n, generic)
    return bool(out)


def row_first(const int32_t[::1] keys, bint generic=False):
    """The first position of each of a row's columns (all >= 0), as the training kernels find it for a row out
    of order that repeats a column."""
    cdef Py_ssize_t n = keys.shape[0]
    first = np.empty(n, dtype=np.int32)
    cdef int32_t[::1] k = _padded(keys), f = first
    if n > 0:
        with nogil:
            first32_path(&k[0], n, &f[0], generic)
    return first


def row_ranks(const int32_t[::1] keys, bint generic=False):
    """The place of each of a row's distinct keys in their sorted order, as the Criteo/Avazu parser ranks the
    hashed fields of a row."""
    cdef Py_ssize_t n = keys.shape[0]
    ranks = np.empty((n + 7) & ~7, dtype=np.int32)
    cdef int32_t[::1] k = _padded(keys), r = ranks
    if n > 0:
        with nogil:
            ranks32_path(&k[0], &r[0], n, generic)
    return ranks[:n]
