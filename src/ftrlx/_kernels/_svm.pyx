"""Compiled parsers for svmlight/libsvm and Vowpal Wabbit text, one block of whole lines at a time.

Both parse with the GIL released, so that a thread can read the next chunk while another one trains.

svmlight: :class:`SvmlightParser` accepts the strict form of a line (decimal numbers, unsigned indices of at most
18 digits, increasing along the line) and leaves every other line to the Python parser of
``ftrlx.datasets._svmlight``, which names what is wrong or, for the rare forms Python accepts and this parser does
not (``1_000``, ``nan``, a label with non-ASCII digits), parses the block itself. Both produce the same raw arrays
(file indices, float64 values); :func:`check_rows` and :func:`emit_rows` then apply the reader's options.

VW: :class:`VwParser` parses ``label [importance [base]] ['tag]|namespace[:weight] feature[:value] ...`` and
hashes the features; see ``ftrlx.datasets.iter_vw`` for the grammar and the hashing.
"""
# The pieces, by job: _growbuf.pxd (growable buffers), _svm_number.pxi (decimal numbers), _svm_rowsort.pxi (sorting
# and summing a row) and _svm_vw.pxi (the VW parser, reading this module's byte tables); the .pxi files are
# included here.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t
from libc.math cimport isfinite
from libc.stdlib cimport free
from libc.string cimport memchr, memcpy

import numpy as np

from ftrlx._kernels._growbuf cimport Vec, reserve
from ftrlx._kernels._murmur cimport murmurhash3_32

# _SPACE: what bytes.split() splits on, except '\n', which ends a line. _SVM_STOP ends an svmlight token (a space
# or the '#' of a comment); _VW_STOP ends a VW word (a space or the '|' of a namespace).
cdef uint8_t _SPACE[256]
cdef uint8_t _SVM_STOP[256]
cdef uint8_t _VW_STOP[256]


def _fill_tables():
    cdef int c
    for c in range(256):
        _SPACE[c] = c in (9, 11, 12, 13, 32)
        _SVM_STOP[c] = _SPACE[c] or c == 35 or c == 10
        _VW_STOP[c] = _SPACE[c] or c == 124


_fill_tables()


include "_svm_number.pxi"
include "_svm_rowsort.pxi"


# --------------------------------------------------------------------------------------------------------------------
# Test entries of the shared pieces; block checks and array views
# --------------------------------------------------------------------------------------------------------------------
def _sort_and_sum(int64_t[::1] col, double[::1] val, bint drop_zeros=False):
    """Python entry to ``sort_and_sum`` for the tests: the new length (the arrays are rewritten in place)."""
    cdef Py_ssize_t n = col.shape[0], m
    tmp_col = np.empty(max(n, 1), dtype=np.int64)
    tmp_val = np.empty(max(n, 1), dtype=np.float64)
    cdef int64_t[::1] tc = tmp_col
    cdef double[::1] tv = tmp_val
    if n == 0:
        return 0
    with nogil:
        m = sort_and_sum(&col[0], &val[0], n, &tc[0], &tv[0], drop_zeros)
    return m


def _parse_number(bytes token):
    """Python entry to ``parse_number`` for the tests: the value, or None when the token is not a decimal."""
    cdef const char* s = token
    cdef double v = 0.0
    if parse_number(s, s + len(token), &v):
        return v
    return None


def _check_block(const unsigned char[::1] block, Py_ssize_t n):
    """The parsers read ``block[:n]``, which must end with a newline (it stops every scan)."""
    if not 0 <= n <= block.shape[0]:
        raise ValueError(f"n={n} is outside the block of {block.shape[0]} bytes")
    if n and block[n - 1] != 10:
        raise ValueError("a block must end with a newline")


cdef inline object _view_f64(double* p, Py_ssize_t n):
    return np.asarray(<double[:n]>p) if n > 0 else np.empty(0)


cdef inline object _view_i64(int64_t* p, Py_ssize_t n):
    return np.asarray(<int64_t[:n]>p) if n > 0 else np.empty(0, dtype=np.int64)


# --------------------------------------------------------------------------------------------------------------------
# svmlight
# --------------------------------------------------------------------------------------------------------------------
cdef int64_t _count_lines(const char* p, Py_ssize_t n) noexcept nogil:
    cdef int64_t count = 0
    cdef const char* end = p + n
    while p < end:
        p = <const char*>memchr(p, 10, end - p)
        if p == NULL:
            break
        count += 1
        p += 1
    return count


cdef int _svm_line(const char** at, double* label, int64_t* idx, double* val, Py_ssize_t* n_entries) noexcept nogil:
    """Parse the line at ``at[0]``: 0 for a row, 1 for a blank or comment line, -1 for a line not in the strict
    form; ``at[0]`` is left inside the line, before or at its '\\n'. Every scan stops at the '\\n' that ends the
    block (a sentinel), so no scan needs the line's end; ``idx``/``val`` need room for all entries of the line.
    """
    cdef const char* p = at[0]
    cdef const char* t
    cdef int64_t index, previous = -1
    cdef Py_ssize_t k = 0
    cdef unsigned int d
    cdef int n_digits, status = -1
    while _SPACE[<uint8_t>p[0]]:
        p += 1
    if p[0] == 10 or p[0] == c'#':
        at[0] = p
        return 1
    t = p
    while not _SVM_STOP[<uint8_t>p[0]]:
        p += 1
    if not parse_number(t, p, label):
        at[0] = p
        return -1
    while True:
        while _SPACE[<uint8_t>p[0]]:
            p += 1
        if p[0] == 10 or p[0] == c'#':
            status = 0
            break
        if p[0] == c'q' and p[1] == c'i' and p[2] == c'd' and p[3] == c':':
            while not _SVM_STOP[<uint8_t>p[0]]:
                p += 1
            continue
        index = 0
        n_digits = 0
        while True:
            d = <uint8_t>p[0] - 48u
            if d > 9:
                break
            index = index * 10 + d
            n_digits += 1
            p += 1
        if n_digits == 0 or n_digits > 18 or p[0] != c':' or index <= previous:
            break
        p += 1
        t = p
        while not _SVM_STOP[<uint8_t>p[0]]:
            p += 1
        if p - t == 1 and <unsigned int>(<uint8_t>t[0] - 48u) <= 9:   # the common value "1"
            val[k] = <double>(<uint8_t>t[0] - 48u)
        elif not parse_number(t, p, &val[k]):
            break
        idx[k] = index
        k += 1
        previous = index
    at[0] = p
    n_entries[0] = k
    return status


cdef class SvmlightParser:
    """Parses svmlight blocks into raw arrays; the buffers are reused from block to block.

    The arrays :meth:`parse` returns are views of those buffers: they are valid until the next call.
    """
    cdef Vec labels, lines, indptr, indices, values, failed
    cdef Py_ssize_t n_rows, nnz, n_failed
    cdef int64_t n_lines

    def __dealloc__(self):
        free(self.labels.p)
        free(self.lines.p)
        free(self.indptr.p)
        free(self.indices.p)
        free(self.values.p)
        free(self.failed.p)

    cdef int _parse(self, const char* buf, Py_ssize_t n, int64_t first_line, bint stop_at_bad) noexcept nogil:
        """Parse buf[:n], which ends with a newline."""
        cdef Py_ssize_t k = 0, r = 0, nnz = 0, n_failed = 0
        cdef int64_t line = first_line
        cdef const char* start = buf
        cdef const char* p
        cdef const char* block_end = buf + n
        cdef int64_t* failed
        cdef int status
        # An entry takes at least 4 bytes ("i:v" and a separator), a row at least 2 ("y\\n").
        if (reserve(&self.indices, n // 4 + 1, 8) < 0 or reserve(&self.values, n // 4 + 1, 8) < 0
                or reserve(&self.indptr, 1, 8) < 0):
            return -1
        (<int64_t*>self.indptr.p)[0] = 0
        while start < block_end:
            if (reserve(&self.labels, r + 1, 8) < 0 or reserve(&self.lines, r + 1, 8) < 0
                    or reserve(&self.indptr, r + 2, 8) < 0):
                return -1
            p = start
            status = _svm_line(&p, <double*>self.labels.p + r, <int64_t*>self.indices.p + nnz,
                               <double*>self.values.p + nnz, &k)
            if p[0] != 10:   # stopped at a comment or a fault
                p = <const char*>memchr(p, 10, block_end - p)
            if status == 0:
                (<int64_t*>self.lines.p)[r] = line
                nnz += k
                r += 1
                (<int64_t*>self.indptr.p)[r] = nnz
            elif status < 0:
                if reserve(&self.failed, 3 * n_failed + 3, 8) < 0:
                    return -1
                failed = <int64_t*>self.failed.p + 3 * n_failed
                failed[0], failed[1], failed[2] = line, start - buf, p - buf
                n_failed += 1
                if stop_at_bad:
                    line += 1 + _count_lines(p + 1, block_end - p - 1)
                    break
            start = p + 1
            line += 1
        self.n_rows, self.nnz, self.n_failed, self.n_lines = r, nnz, n_failed, line - first_line
        return 0

    def parse(self, const unsigned char[::1] block, Py_ssize_t n, int64_t first_line, bint stop_at_bad):
        """Parse ``block[:n]`` (whole lines, the first numbered ``first_line``).

        Returns ``(labels, lines, indptr, indices, values), failed, n_lines``: the rows in the strict form (file
        indices, float64 values, the line number of each row); for every other non-blank line, a row
        ``(line number, start, end)`` of the int64 array ``failed`` (its bytes are ``block[start:end]``); and the
        number of lines in the block. With ``stop_at_bad`` parsing stops at the first such line.
        """
        _check_block(block, n)
        cdef const char* buf = <const char*>&block[0] if n > 0 else NULL
        cdef int status
        with nogil:
            status = self._parse(buf, n, first_line, stop_at_bad)
        if status < 0:
            raise MemoryError("out of memory parsing an svmlight block")
        raw = (_view_f64(<double*>self.labels.p, self.n_rows), _view_i64(<int64_t*>self.lines.p, self.n_rows),
               _view_i64(<int64_t*>self.indptr.p, self.n_rows + 1),
               _view_i64(<int64_t*>self.indices.p, self.nnz), _view_f64(<double*>self.values.p, self.nnz))
        failed = _view_i64(<int64_t*>self.failed.p, 3 * self.n_failed).reshape(-1, 3)
        return raw, failed, self.n_lines


# Problems of a parsed row, as bits (several may hold); the reader reports the lowest bit first.
cpdef enum RowProblem:
    ZERO_INDEX = 1
    INDEX_TOO_LARGE = 2
    LABEL_NOT_BINARY = 4


def check_rows(const double[::1] labels, const int64_t[::1] indptr, const int64_t[::1] indices, int64_t offset,
               int64_t n_features, bint binary, bint fold, uint8_t[::1] problems):
    """Mark in ``problems`` what is wrong with each row: an index 0 when ``offset`` is 1, an index at or beyond
    ``n_features`` (-1: no limit; never with ``fold``), a label other than -1/0/+1 (with ``binary``).

    Indices increase along a row, so its first and last entries decide. Returns ``(n_bad, nnz_kept,
    largest_column)``, the last over the good rows (-1 when they are empty), offset subtracted.
    """
    cdef Py_ssize_t n = labels.shape[0], r, a, b, n_bad = 0, kept = 0
    cdef int64_t largest = -1, last
    cdef double y
    cdef uint8_t bits
    with nogil:
        for r in range(n):
            a, b = indptr[r], indptr[r + 1]
            bits = 0
            if b > a:
                if offset == 1 and indices[a] == 0:
                    bits |= ZERO_INDEX
                if not fold and n_features >= 0 and indices[b - 1] - offset >= n_features:
                    bits |= INDEX_TOO_LARGE
            if binary:
                y = labels[r]
                if not (y == -1.0 or y == 0.0 or y == 1.0):
                    bits |= LABEL_NOT_BINARY
            problems[r] = bits
            if bits:
                n_bad += 1
            else:
                kept += b - a
                if b > a:
                    last = indices[b - 1] - offset
                    if last > largest:
                        largest = last
    return n_bad, kept, largest


ctypedef fused index_t:
    int32_t
    int64_t

ctypedef fused value_t:
    float
    double


cdef Py_ssize_t _fold_row(const int64_t* idx, const double* val, Py_ssize_t n, int64_t offset, int64_t n_features,
                          Vec* work) noexcept nogil:
    """Fold a row's columns modulo ``n_features`` into the work buffers (4 arrays of n items: columns, values and
    their sorting space), sorted, with the entries of one column summed; -1 when memory runs out.
    """
    if reserve(work, 4 * n, 8) < 0:
        return -1
    cdef int64_t* col = <int64_t*>work.p
    cdef double* v = <double*>(col + n)
    cdef Py_ssize_t j
    for j in range(n):
        col[j] = (idx[j] - offset) % n_features
        v[j] = val[j]
    return sort_and_sum(col, v, n, <int64_t*>(v + n), <double*>(col + 3 * n), False)


def emit_rows(const double[::1] labels, const int64_t[::1] indptr, const int64_t[::1] indices,
              const double[::1] values, const uint8_t[::1] problems, int64_t offset, int64_t n_features, bint fold,
              bint binary, double[::1] out_labels, index_t[::1] out_indptr, index_t[::1] out_indices,
              value_t[::1] out_values):
    """Write the rows without problems as the final CSR arrays: indices minus ``offset`` (folded modulo
    ``n_features`` with ``fold``), values cast, labels mapped to 0/1 with ``binary``. Returns ``(rows, nnz)``.
    """
    cdef Py_ssize_t n = labels.shape[0], r, j, a, b, m, row = 0, nnz = 0
    cdef Vec work
    work.p = NULL
    work.cap = 0
    cdef int64_t* col
    cdef double* v
    cdef bint failed = False
    with nogil:
        out_indptr[0] = 0
        for r in range(n):
            if problems[r]:
                continue
            a, b = indptr[r], indptr[r + 1]
            if fold and b > a and indices[b - 1] - offset >= n_features:
                m = _fold_row(&indices[a], &values[a], b - a, offset, n_features, &work)
                if m < 0:
                    failed = True
                    break
                col = <int64_t*>work.p
                v = <double*>(col + (b - a))
                for j in range(m):
                    out_indices[nnz + j] = <index_t>col[j]
                    out_values[nnz + j] = <value_t>v[j]
                nnz += m
            else:
                for j in range(a, b):
                    out_indices[nnz] = <index_t>(indices[j] - offset)
                    out_values[nnz] = <value_t>values[j]
                    nnz += 1
            out_labels[row] = (1.0 if labels[r] > 0 else 0.0) if binary else labels[r]
            row += 1
            out_indptr[row] = <index_t>nnz
        free(work.p)
    if failed:
        raise MemoryError("out of memory folding an svmlight row")
    return row, nnz


include "_svm_vw.pxi"
