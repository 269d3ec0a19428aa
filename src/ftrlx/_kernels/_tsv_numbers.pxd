# The numeric cells of the compiled Criteo/Avazu parser (ftrlx._kernels._tsv), read as Python's int() and float()
# read them, or left to the Python path (ST_UNSUPPORTED) where this reading could differ.
from libc.math cimport isfinite
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.stdlib cimport strtod
from libc.string cimport memcpy

from ftrlx._kernels._tsv_defs cimport MAX_CELL, MAX_INT_DIGITS, ST_BAD, ST_OK, ST_UNSUPPORTED

cdef extern from "<math.h>" nogil:
    double NAN


cdef inline bint int_special(uint8_t c) noexcept nogil:
    # Bytes that Python's int() might accept around or between digits (whitespace, '_') or that start a
    # non-ASCII character (Unicode digits and spaces): the Python path decides.
    return c >= 0x80 or c == c'_' or c == c' ' or (9 <= c <= 13) or (0x1c <= c <= 0x1f)


cdef inline bint float_special(uint8_t c) noexcept nogil:
    # as int_special, plus the letters of inf, infinity and nan
    return int_special(c) or c == c'i' or c == c'I' or c == c'n' or c == c'N'


cdef inline bint eight_digits(const uint8_t* p, Py_ssize_t n, int64_t* v) noexcept nogil:
    """The value of the n (1-8) ASCII digits at p, reading 8 bytes from p; False if one is not a digit.

    The digits are moved to the top of a little-endian word, the bytes below filled with '0', every byte
    checked to lie in '0'..'9' and the word folded into its value by three multiplications: no branch per
    digit, whose count varies from cell to cell.
    """
    cdef uint64_t w
    memcpy(&w, p, 8)
    if n < 8:
        w = (w << (8 * (8 - n))) | (0x3030303030303030ULL >> (8 * n))
    if ((w & 0xF0F0F0F0F0F0F0F0ULL) | (((w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) \
            != 0x3333333333333333ULL:
        return False
    w = ((w & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8
    w = ((w & 0x00FF00FF00FF00FFULL) * 6553601) >> 16
    v[0] = <int64_t>(((w & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32)
    return True


cdef inline int parse_int(const uint8_t* p, Py_ssize_t n, const uint8_t* end, double* out) noexcept nogil:
    """A cell as Python's int() reads it, converted to float64; empty is NaN (missing).

    ``end`` bounds the memory after the cell that may be read (up to 8 bytes are loaded at once).
    """
    cdef Py_ssize_t i = 0
    cdef int64_t v = 0
    cdef int sig = 0
    cdef bint neg = False
    cdef uint8_t c, d
    if n == 0:
        out[0] = NAN
        return ST_OK
    if n > MAX_CELL:
        return ST_UNSUPPORTED
    if p[0] == c'+' or p[0] == c'-':
        neg = p[0] == c'-'
        i = 1
    if i == n:
        return ST_BAD
    if n - i <= 8 and p + i + 8 <= end and eight_digits(p + i, n - i, &v):
        out[0] = <double>(-v if neg else v)
        return ST_OK
    while i < n:
        c = p[i]
        d = c - c'0'
        if d > 9:
            return ST_UNSUPPORTED if int_special(c) else ST_BAD
        if v != 0 or d != 0:
            sig += 1
        v = v * 10 + d
        if sig > MAX_INT_DIGITS:
            return ST_UNSUPPORTED
        i += 1
    # int -> float rounds to nearest, as Python's int.__float__ does; -0 is the integer 0
    out[0] = <double>(-v if neg else v)
    return ST_OK


cdef inline int parse_float(const uint8_t* p, Py_ssize_t n, double* out) noexcept nogil:
    """A cell as Python's float() reads it, restricted to plain decimal notation; empty is NaN."""
    cdef Py_ssize_t i = 0, digits = 0
    cdef uint8_t c
    cdef char buf[MAX_CELL + 1]
    cdef char* end
    cdef double v
    if n == 0:
        out[0] = NAN
        return ST_OK
    if n > MAX_CELL:
        return ST_UNSUPPORTED
    for i in range(n):
        c = p[i]
        if float_special(c):
            return ST_UNSUPPORTED
    for i in range(n):
        c = p[i]
        if not ((c'0' <= c <= c'9') or c == c'.' or c == c'e' or c == c'E' or c == c'+' or c == c'-'):
            return ST_BAD
    # [+-]? (D+ ('.' D*)? | '.' D+) ([eE] [+-]? D+)?
    i = 0
    if p[i] == c'+' or p[i] == c'-':
        i += 1
    while i < n and c'0' <= p[i] <= c'9':
        i += 1
        digits += 1
    if i < n and p[i] == c'.':
        i += 1
        while i < n and c'0' <= p[i] <= c'9':
            i += 1
            digits += 1
    if digits == 0:
        return ST_BAD
    if i < n and (p[i] == c'e' or p[i] == c'E'):
        i += 1
        if i < n and (p[i] == c'+' or p[i] == c'-'):
            i += 1
        digits = 0
        while i < n and c'0' <= p[i] <= c'9':
            i += 1
            digits += 1
        if digits == 0:
            return ST_BAD
    if i != n:
        return ST_BAD
    # strtod rounds correctly, like Python's float(); a locale with another decimal point stops it early
    memcpy(buf, p, n)
    buf[n] = 0
    v = strtod(buf, &end)
    if end != buf + n or not isfinite(v):
        return ST_UNSUPPORTED
    out[0] = v
    return ST_OK
