# The other cells of the compiled Criteo/Avazu parser (ftrlx._kernels._tsv): the 0/1 label, Avazu's hour, and the
# byte checks (non-ASCII bytes, well-formed UTF-8) that decide which lines the Python path must read.
from libc.stdint cimport int64_t, uint8_t

from ftrlx._kernels._tsv_defs cimport ST_BAD, ST_OK, ST_UNSUPPORTED


cdef inline bint has_high(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if p[i] >= 0x80:
            return True
    return False


cdef inline bint valid_utf8(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF)."""
    cdef Py_ssize_t i = 0, k, need
    cdef uint8_t c, lo, hi
    while i < n:
        c = p[i]
        if c < 0x80:
            i += 1
            continue
        lo = 0x80
        hi = 0xBF
        if 0xC2 <= c <= 0xDF:
            need = 1
        elif 0xE0 <= c <= 0xEF:
            need = 2
            if c == 0xE0:
                lo = 0xA0
            elif c == 0xED:
                hi = 0x9F
        elif 0xF0 <= c <= 0xF4:
            need = 3
            if c == 0xF0:
                lo = 0x90
            elif c == 0xF4:
                hi = 0x8F
        else:
            return False
        if i + need >= n:
            return False
        if not (lo <= p[i + 1] <= hi):
            return False
        for k in range(2, need + 1):
            if not (0x80 <= p[i + k] <= 0xBF):
                return False
        i += need + 1
    return True


cdef inline int parse_label(const uint8_t* p, Py_ssize_t n, double* y) noexcept nogil:
    if n == 1 and (p[0] == c'0' or p[0] == c'1'):
        y[0] = <double>(p[0] - c'0')
        return ST_OK
    return ST_UNSUPPORTED if has_high(p, n) else ST_BAD


cdef inline int days_in_month(int year, int month) noexcept nogil:
    if month == 2:
        return 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28
    if month == 4 or month == 6 or month == 9 or month == 11:
        return 30
    return 31


cdef inline int parse_hour(const uint8_t* p, Py_ssize_t n, int* hour, int* weekday) noexcept nogil:
    """Avazu's YYMMDDHH, as datetime.date reads it; weekday Monday = 0."""
    cdef int i, yy, mm, dd, hh, y, m, era, yoe, doy, doe
    cdef int64_t days
    if has_high(p, n):
        return ST_UNSUPPORTED
    if n != 8:
        return ST_BAD
    for i in range(8):
        if not (c'0' <= p[i] <= c'9'):
            return ST_BAD
    yy = (p[0] - c'0') * 10 + (p[1] - c'0')
    mm = (p[2] - c'0') * 10 + (p[3] - c'0')
    dd = (p[4] - c'0') * 10 + (p[5] - c'0')
    hh = (p[6] - c'0') * 10 + (p[7] - c'0')
    y = 2000 + yy
    if mm < 1 or mm > 12 or dd < 1 or dd > days_in_month(y, mm) or hh > 23:
        return ST_BAD
    # days since 1970-01-01 (a Thursday), by the civil-from-days inverse
    m = mm
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + dd - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = <int64_t>era * 146097 + doe - 719468
    hour[0] = hh
    weekday[0] = <int>((days + 3) % 7)
    return ST_OK
