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
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.math cimport isfinite
from libc.stdlib cimport free, realloc, strtod
from libc.string cimport memchr, memcpy

import numpy as np

from ftrlx._kernels._murmur cimport murmurhash3_32

# _SPACE: what bytes.split() splits on, except '\n', which ends a line. _SVM_STOP ends an svmlight token (a space
# or the '#' of a comment); _VW_STOP ends a VW word (a space or the '|' of a namespace).
cdef uint8_t _SPACE[256]
cdef uint8_t _SVM_STOP[256]
cdef uint8_t _VW_STOP[256]
# Powers of ten that doubles hold exactly (10**22 < 2**53 * 2**22 is the last one).
cdef double _POW10[23]


def _fill_tables():
    cdef int c
    for c in range(256):
        _SPACE[c] = c in (9, 11, 12, 13, 32)
        _SVM_STOP[c] = _SPACE[c] or c == 35 or c == 10
        _VW_STOP[c] = _SPACE[c] or c == 124
    _POW10[0] = 1.0
    for c in range(1, 23):
        _POW10[c] = _POW10[c - 1] * 10.0


_fill_tables()


# --------------------------------------------------------------------------------------------------------------------
# Shared pieces: growable buffers, numbers, sorting a row
# --------------------------------------------------------------------------------------------------------------------
cdef struct Vec:
    void* p
    Py_ssize_t cap   # in items


cdef int reserve(Vec* v, Py_ssize_t need, size_t item) noexcept nogil:
    """Make room for ``need`` items of ``item`` bytes; -1 when memory runs out (the old buffer stays valid)."""
    if need <= v.cap:
        return 0
    cdef Py_ssize_t cap = max(need, 2 * v.cap, 64)
    cdef void* q = realloc(v.p, cap * item)
    if q == NULL:
        return -1
    v.p = q
    v.cap = cap
    return 0


cdef inline double _python_float(const char* s, const char* e) noexcept nogil:
    with gil:
        return float(s[:e - s])


cdef inline int _read_digits(const char** at, const char* e, uint64_t* mantissa, int* significant) noexcept nogil:
    """Append the decimal digits at ``at[0]`` to the mantissa (which may wrap past 19 digits: then only strtod's
    result is used), counting the significant ones; return how many digits were read."""
    cdef const char* p = at[0]
    cdef unsigned int d
    while p < e:
        d = <uint8_t>p[0] - 48u
        if d > 9:
            break
        significant[0] += mantissa[0] != 0 or d != 0
        mantissa[0] = mantissa[0] * 10 + d
        p += 1
    cdef int n = p - at[0]
    at[0] = p
    return n


cdef int parse_number(const char* s, const char* e, double* out) noexcept nogil:
    """Parse a decimal number ``[+-]digits[.digits][(e|E)[+-]digits]`` (digits on at least one side of the point)
    spanning exactly s..e into ``out``, correctly rounded; return 0 when s..e is not of that form.

    Up to 15 significant digits and a power of ten up to 22 the value is one exact product or quotient of two
    exact doubles, hence correctly rounded (Clinger's fast path). Longer numbers go to strtod, which rounds
    correctly too; should the C locale's decimal point not be '.', Python's float() does it.
    """
    cdef const char* p = s
    cdef const char* end_used
    cdef bint negative = False, exp_negative = False
    cdef uint64_t mantissa = 0
    cdef int significant = 0, exp10 = 0, digits, exponent = 0, exp_digits = 0
    cdef unsigned int d
    cdef double v
    if p < e and (p[0] == c'+' or p[0] == c'-'):
        negative = p[0] == c'-'
        p += 1
    digits = _read_digits(&p, e, &mantissa, &significant)
    if p < e and p[0] == c'.':
        p += 1
        exp10 = -_read_digits(&p, e, &mantissa, &significant)
        digits -= exp10
    if digits == 0:
        return 0
    if p < e and (p[0] == c'e' or p[0] == c'E'):
        p += 1
        if p < e and (p[0] == c'+' or p[0] == c'-'):
            exp_negative = p[0] == c'-'
            p += 1
        while p < e:
            d = <uint8_t>p[0] - 48u
            if d > 9:
                break
            if exponent < 100000:
                exponent = exponent * 10 + d
            exp_digits += 1
            p += 1
        if exp_digits == 0:
            return 0
    if p != e:
        return 0
    exp10 += -exponent if exp_negative else exponent
    if mantissa == 0 and significant == 0:
        v = 0.0
    elif significant <= 15 and -22 <= exp10 <= 22:
        v = <double>mantissa
        v = v * _POW10[exp10] if exp10 >= 0 else v / _POW10[-exp10]
    else:
        v = strtod(s, <char**>&end_used)
        if end_used != e:
            v = _python_float(s, e)
        out[0] = v
        return 1
    out[0] = -v if negative else v
    return 1


cdef void _insertion_sort(int64_t* col, double* val, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef int64_t c
    cdef double v
    for i in range(1, n):
        c = col[i]
        v = val[i]
        j = i
        while j > 0 and col[j - 1] > c:
            col[j] = col[j - 1]
            val[j] = val[j - 1]
            j -= 1
        col[j] = c
        val[j] = v


cdef void _merge_pass(const int64_t* col, const double* val, int64_t* out_col, double* out_val, Py_ssize_t n,
                      Py_ssize_t width) noexcept nogil:
    """Merge neighbouring sorted runs of ``width`` items; ties keep the left run first (stable)."""
    cdef Py_ssize_t lo, mid, hi, i, j, k
    lo = 0
    while lo < n:
        mid = min(lo + width, n)
        hi = min(lo + 2 * width, n)
        i, j, k = lo, mid, lo
        while i < mid and j < hi:
            if col[j] < col[i]:
                out_col[k] = col[j]
                out_val[k] = val[j]
                j += 1
            else:
                out_col[k] = col[i]
                out_val[k] = val[i]
                i += 1
            k += 1
        while i < mid:
            out_col[k] = col[i]
            out_val[k] = val[i]
            i += 1
            k += 1
        while j < hi:
            out_col[k] = col[j]
            out_val[k] = val[j]
            j += 1
            k += 1
        lo = hi


cdef Py_ssize_t sort_and_sum(int64_t* col, double* val, Py_ssize_t n, int64_t* tmp_col, double* tmp_val,
                             bint drop_zeros) noexcept nogil:
    """Sort a row's entries by column, stably, then add up the entries of each column in their original order
    (so the sums do not depend on the sort); drop the zero sums when asked. Returns the new length; the result is
    in ``col``/``val``. The tmp arrays hold n items.
    """
    cdef Py_ssize_t run = 16, start, width, i, m
    cdef int64_t* a_col = col
    cdef double* a_val = val
    cdef int64_t* b_col = tmp_col
    cdef double* b_val = tmp_val
    cdef int64_t* swap_col
    cdef double* swap_val
    cdef int64_t c
    cdef double s
    start = 0
    while start < n:
        _insertion_sort(col + start, val + start, min(run, n - start))
        start += run
    width = run
    while width < n:
        _merge_pass(a_col, a_val, b_col, b_val, n, width)
        swap_col, swap_val = a_col, a_val
        a_col, a_val = b_col, b_val
        b_col, b_val = swap_col, swap_val
        width *= 2
    m = 0
    i = 0
    while i < n:
        c = a_col[i]
        s = a_val[i]
        i += 1
        while i < n and a_col[i] == c:
            s += a_val[i]
            i += 1
        if drop_zeros and s == 0:
            continue
        col[m] = c
        val[m] = s
        m += 1
    return m


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


# --------------------------------------------------------------------------------------------------------------------
# Vowpal Wabbit
# --------------------------------------------------------------------------------------------------------------------
# What a line can be; the reader turns the codes into messages.
cpdef enum VwCode:
    VW_ROW = 0
    VW_BLANK = 1
    VW_NO_LABEL = 2
    VW_TOO_MANY_WORDS = 3
    VW_BAD_LABEL = 4
    VW_NOT_BINARY = 5
    VW_BAD_IMPORTANCE = 6
    VW_BAD_BASE = 7
    VW_BAD_NAMESPACE_WEIGHT = 8
    VW_NO_FEATURE_NAME = 9
    VW_BAD_VALUE = 10
    VW_NO_MEMORY = 11


cdef inline uint32_t vw_pair_hash(uint32_t a, uint32_t b, uint32_t seed) noexcept nogil:
    """The hash of a crossed pair: MurmurHash3 of the two feature hashes as 8 little-endian bytes."""
    cdef char key[8]
    cdef int i
    for i in range(4):
        key[i] = <char>((a >> (8 * i)) & 0xFF)
        key[4 + i] = <char>((b >> (8 * i)) & 0xFF)
    return murmurhash3_32(key, 8, seed)


def _vw_feature_hash(bytes namespace, bytes feature, uint32_t seed):
    """The 32-bit hash of a feature (before the modulo), for the tests."""
    key = namespace + b"\x00" + feature
    return murmurhash3_32(<const char*>key, len(key), seed)


def _vw_pair_hash(uint32_t a, uint32_t b, uint32_t seed):
    """The 32-bit hash of a crossed pair of feature hashes (before the modulo), for the tests."""
    return vw_pair_hash(a, b, seed)


cdef struct Header:
    # The words before the first '|': the first three and the last one, and how many.
    const char* start[3]
    const char* stop[3]
    const char* last_start
    const char* last_stop
    Py_ssize_t n_words


cdef void _header_words(const char* p, const char* bar, Header* h) noexcept nogil:
    cdef const char* t
    h.n_words = 0
    h.last_start = h.last_stop = p
    while True:
        while p < bar and _SPACE[<uint8_t>p[0]]:
            p += 1
        if p == bar:
            return
        t = p
        while p < bar and not _SPACE[<uint8_t>p[0]]:
            p += 1
        if h.n_words < 3:
            h.start[h.n_words] = t
            h.stop[h.n_words] = p
        h.last_start, h.last_stop = t, p
        h.n_words += 1


cdef class VwParser:
    """Parses VW text blocks into hashed CSR rows; the buffers are reused from block to block."""
    cdef uint32_t n_features, seed
    cdef bint binary
    cdef uint8_t pairs[512]
    cdef Py_ssize_t n_pairs
    # output, per row and per entry
    cdef Vec labels, weights, lines, indptr, indices, data, errors
    cdef Py_ssize_t n_rows, nnz, n_errors
    cdef int64_t n_lines
    # one row: its features (hash, value, namespace letter), its entries and their sorting space, the hash key
    cdef Vec f_hash, f_value, f_group, e_col, e_value, t_col, t_value, key

    def __init__(self, uint32_t n_features, uint32_t seed, bint binary, bytes pairs):
        if n_features < 1 or len(pairs) % 2 or len(pairs) > 512:
            raise ValueError("VwParser: n_features >= 1 and at most 256 pairs of namespace letters")
        self.n_features, self.seed, self.binary = n_features, seed, binary
        self.n_pairs = len(pairs) // 2
        memcpy(self.pairs, <const char*>pairs, len(pairs))

    def __dealloc__(self):
        free(self.labels.p); free(self.weights.p); free(self.lines.p); free(self.indptr.p)
        free(self.indices.p); free(self.data.p); free(self.errors.p)
        free(self.f_hash.p); free(self.f_value.p); free(self.f_group.p)
        free(self.e_col.p); free(self.e_value.p); free(self.t_col.p); free(self.t_value.p); free(self.key.p)

    cdef int _label(self, Header* h, const char** bad_start, const char** bad_stop) noexcept nogil:
        """Label, importance and base from the header words (a tag, if any, already dropped); on a fault
        ``bad_start..bad_stop`` is the word to name."""
        cdef double label, weight = 1.0, base
        bad_start[0], bad_stop[0] = h.last_start, h.last_stop
        if h.n_words == 0:
            return VW_NO_LABEL
        if h.n_words > 3:
            return VW_TOO_MANY_WORDS
        bad_start[0], bad_stop[0] = h.start[0], h.stop[0]
        if not parse_number(h.start[0], h.stop[0], &label):
            return VW_BAD_LABEL
        if self.binary and not (label == -1.0 or label == 0.0 or label == 1.0):
            return VW_NOT_BINARY
        if h.n_words >= 2:
            bad_start[0], bad_stop[0] = h.start[1], h.stop[1]
            if not parse_number(h.start[1], h.stop[1], &weight) or not (weight >= 0.0 and isfinite(weight)):
                return VW_BAD_IMPORTANCE
        if h.n_words == 3:
            bad_start[0], bad_stop[0] = h.start[2], h.stop[2]
            if not parse_number(h.start[2], h.stop[2], &base):
                return VW_BAD_BASE
        if reserve(&self.labels, self.n_rows + 1, 8) < 0 or reserve(&self.weights, self.n_rows + 1, 8) < 0:
            return VW_NO_MEMORY
        (<double*>self.labels.p)[self.n_rows] = ((1.0 if label > 0 else 0.0) if self.binary else label)
        (<double*>self.weights.p)[self.n_rows] = weight
        return VW_ROW

    cdef int _features(self, const char* p, const char* end, Py_ssize_t* n_out, const char** bad_start,
                       const char** bad_stop) noexcept nogil:
        """Hash the features of the sections from ``p`` (a '|') to the end of the line."""
        cdef const char* t
        cdef const char* colon
        cdef const char* name_end
        cdef Py_ssize_t n = 0, prefix
        cdef double ns_weight, value
        cdef uint8_t group
        cdef char* key = <char*>self.key.p
        while p < end:   # p is at a '|'
            p += 1
            ns_weight, group, prefix = 1.0, 32, 0
            if p < end and not _VW_STOP[<uint8_t>p[0]]:
                t = p
                while p < end and not _VW_STOP[<uint8_t>p[0]]:
                    p += 1
                colon = <const char*>memchr(t, 58, p - t)
                name_end = colon if colon != NULL else p
                if colon != NULL and not parse_number(colon + 1, p, &ns_weight):
                    bad_start[0], bad_stop[0] = t, p
                    return VW_BAD_NAMESPACE_WEIGHT
                if name_end > t:
                    group = <uint8_t>t[0]
                prefix = name_end - t
                memcpy(key, t, prefix)
            key[prefix] = 0
            prefix += 1
            while True:
                while p < end and _SPACE[<uint8_t>p[0]]:
                    p += 1
                if p == end or p[0] == c'|':
                    break
                t = p
                while p < end and not _VW_STOP[<uint8_t>p[0]]:
                    p += 1
                colon = <const char*>memchr(t, 58, p - t)
                name_end = colon if colon != NULL else p
                bad_start[0], bad_stop[0] = t, p
                if name_end == t:
                    return VW_NO_FEATURE_NAME
                value = 1.0
                if colon != NULL and not parse_number(colon + 1, p, &value):
                    return VW_BAD_VALUE
                if (reserve(&self.f_hash, n + 1, 4) < 0 or reserve(&self.f_value, n + 1, 8) < 0
                        or reserve(&self.f_group, n + 1, 1) < 0):
                    return VW_NO_MEMORY
                memcpy(key + prefix, t, name_end - t)
                (<uint32_t*>self.f_hash.p)[n] = murmurhash3_32(key, prefix + (name_end - t), self.seed)
                (<double*>self.f_value.p)[n] = value * ns_weight
                (<uint8_t*>self.f_group.p)[n] = group
                n += 1
        n_out[0] = n
        return VW_ROW

    cdef Py_ssize_t _n_crossed(self, Py_ssize_t n) noexcept nogil:
        cdef Py_ssize_t counts[256]
        cdef Py_ssize_t i, total = 0
        cdef uint8_t a, b
        cdef const uint8_t* group = <const uint8_t*>self.f_group.p
        for i in range(256):
            counts[i] = 0
        for i in range(n):
            counts[group[i]] += 1
        for i in range(self.n_pairs):
            a, b = self.pairs[2 * i], self.pairs[2 * i + 1]
            total += counts[a] * (counts[a] - 1) // 2 if a == b else counts[a] * counts[b]
        return total

    cdef int _entries(self, Py_ssize_t n) noexcept nogil:
        """Columns and values of the row's n features and their crossings, sorted and summed, appended."""
        cdef Py_ssize_t total = n + self._n_crossed(n), i, j, k = 0, pair, m
        cdef uint8_t a, b
        if (reserve(&self.e_col, total, 8) < 0 or reserve(&self.e_value, total, 8) < 0
                or reserve(&self.t_col, total, 8) < 0 or reserve(&self.t_value, total, 8) < 0):
            return VW_NO_MEMORY
        cdef const uint32_t* h = <const uint32_t*>self.f_hash.p
        cdef const double* v = <const double*>self.f_value.p
        cdef const uint8_t* group = <const uint8_t*>self.f_group.p
        cdef int64_t* col = <int64_t*>self.e_col.p
        cdef double* val = <double*>self.e_value.p
        for i in range(n):
            col[k] = h[i] % self.n_features
            val[k] = v[i]
            k += 1
        for pair in range(self.n_pairs):
            a, b = self.pairs[2 * pair], self.pairs[2 * pair + 1]
            for i in range(n):
                if group[i] != a:
                    continue
                for j in range(i + 1 if a == b else 0, n):
                    if group[j] == b:
                        col[k] = vw_pair_hash(h[i], h[j], self.seed) % self.n_features
                        val[k] = v[i] * v[j]
                        k += 1
        m = sort_and_sum(col, val, total, <int64_t*>self.t_col.p, <double*>self.t_value.p, True)
        if reserve(&self.indices, self.nnz + m, 4) < 0 or reserve(&self.data, self.nnz + m, 8) < 0:
            return VW_NO_MEMORY
        for i in range(m):
            (<int32_t*>self.indices.p)[self.nnz + i] = <int32_t>col[i]
            (<double*>self.data.p)[self.nnz + i] = val[i]
        self.nnz += m
        return VW_ROW

    cdef int _line(self, const char* s, const char* end, const char** bad_start,
                   const char** bad_stop) noexcept nogil:
        cdef const char* p = s
        cdef const char* bar
        cdef Header h
        cdef Py_ssize_t n = 0
        cdef int code
        while p < end and _SPACE[<uint8_t>p[0]]:
            p += 1
        if p == end:
            return VW_BLANK
        bar = <const char*>memchr(s, 124, end - s)
        if bar == NULL:
            bar = end
        _header_words(s, bar, &h)
        # A tag is the last word when it touches the '|' or starts with a quote.
        if h.n_words and ((bar < end and h.last_stop == bar) or h.last_start[0] == c"'"):
            h.n_words -= 1
        code = self._label(&h, bad_start, bad_stop)
        if code != VW_ROW:
            return code
        if reserve(&self.key, end - s + 2, 1) < 0:
            return VW_NO_MEMORY
        code = self._features(bar, end, &n, bad_start, bad_stop)
        if code != VW_ROW:
            return code
        return self._entries(n)

    cdef int _parse(self, const char* buf, Py_ssize_t n, int64_t first_line, bint stop_at_bad) noexcept nogil:
        cdef Py_ssize_t pos = 0, nnz_before
        cdef int64_t line = first_line
        cdef const char* end
        cdef const char* bad_start
        cdef const char* bad_stop
        cdef int64_t* e
        cdef int code
        self.n_rows = self.nnz = self.n_errors = 0
        if reserve(&self.indptr, 1, 8) < 0:
            return -1
        (<int64_t*>self.indptr.p)[0] = 0
        while pos < n:
            end = <const char*>memchr(buf + pos, 10, n - pos)
            if end == NULL:
                end = buf + n
            nnz_before = self.nnz
            code = self._line(buf + pos, end, &bad_start, &bad_stop)
            if code == VW_NO_MEMORY:
                return -1
            if code == VW_ROW:
                if reserve(&self.lines, self.n_rows + 1, 8) < 0 or reserve(&self.indptr, self.n_rows + 2, 8) < 0:
                    return -1
                (<int64_t*>self.lines.p)[self.n_rows] = line
                self.n_rows += 1
                (<int64_t*>self.indptr.p)[self.n_rows] = self.nnz
            elif code != VW_BLANK:
                self.nnz = nnz_before
                if reserve(&self.errors, 4 * self.n_errors + 4, 8) < 0:
                    return -1
                e = <int64_t*>self.errors.p + 4 * self.n_errors
                e[0], e[1], e[2], e[3] = line, code, bad_start - buf, bad_stop - buf
                self.n_errors += 1
                if stop_at_bad:
                    pos = end - buf + 1
                    line += 1 + _count_lines(buf + pos, n - pos)
                    break
            pos = end - buf + 1
            line += 1
        self.n_lines = line - first_line
        return 0

    def parse(self, const unsigned char[::1] block, Py_ssize_t n, int64_t first_line, bint stop_at_bad):
        """Parse ``block[:n]`` (whole lines, the first numbered ``first_line``).

        Returns ``(data, indices, indptr, labels, weights, lines), errors``: fresh arrays of the good rows (float64
        values, int32 columns, int64 row pointers) and one row ``(line, code, start, end)`` of the int64 array
        ``errors`` per bad line, ``block[start:end]`` being the word at fault. With ``stop_at_bad`` parsing stops
        at the first bad line. The third result is the number of lines in the block.
        """
        _check_block(block, n)
        cdef const char* buf = <const char*>&block[0] if n > 0 else NULL
        cdef int status
        with nogil:
            status = self._parse(buf, n, first_line, stop_at_bad)
        if status < 0:
            raise MemoryError("out of memory parsing a VW block")
        rows = self.n_rows
        data = _view_f64(<double*>self.data.p, self.nnz).copy()
        indices = (np.asarray(<int32_t[:self.nnz]><int32_t*>self.indices.p).copy() if self.nnz
                   else np.empty(0, dtype=np.int32))
        out = (data, indices, _view_i64(<int64_t*>self.indptr.p, rows + 1).copy(),
               _view_f64(<double*>self.labels.p, rows).copy(), _view_f64(<double*>self.weights.p, rows).copy(),
               _view_i64(<int64_t*>self.lines.p, rows).copy())
        return out, _view_i64(<int64_t*>self.errors.p, 4 * self.n_errors).copy().reshape(-1, 4), self.n_lines
