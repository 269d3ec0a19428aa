# Log-bin codes of numbers and their byte tokens, as CategoricalHasher names them, for the compiled Criteo/Avazu
# parser (ftrlx._kernels._tsv); the threshold tables come from ``log_bin_tables`` in that module.
from libc.math cimport floor, fabs
from libc.stdint cimport int16_t, int64_t, uint64_t

from ftrlx._kernels._tsv_defs cimport KMAX, SMALL_INTS, ST_OK, ST_UNSUPPORTED


cdef inline int bin_code(double x, bint integer, const double* thresholds, const int16_t* small,
                         int64_t* code) noexcept nogil:
    """The log-bin code of x (not NaN); ST_UNSUPPORTED beyond the table."""
    cdef double a = fabs(x)
    cdef int64_t c, lo, hi, mid
    if a == 0:
        code[0] = 0
        return ST_OK
    if integer and a < SMALL_INTS:
        c = small[<int64_t>a]
    elif a <= 2.0:
        c = 1 + <int64_t>floor(a)
    else:
        if not (a < thresholds[KMAX - 1]):
            return ST_UNSUPPORTED
        # number of thresholds <= a among the first KMAX - 1
        lo = 0
        hi = KMAX - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if thresholds[mid] <= a:
                lo = mid + 1
            else:
                hi = mid
        c = 4 + lo
    code[0] = -c if x < 0 else c
    return ST_OK


cdef inline int write_uint(uint64_t v, char* out) noexcept nogil:
    cdef char tmp[24]
    cdef int n = 0, i
    while True:
        tmp[n] = <char>(c'0' + v % 10)
        n += 1
        v //= 10
        if v == 0:
            break
    for i in range(n):
        out[i] = tmp[n - 1 - i]
    return n


cdef inline int write_int(int64_t v, char* out) noexcept nogil:
    if v < 0:
        out[0] = c'-'
        return 1 + write_uint(<uint64_t>(-(v + 1)) + 1, out + 1)
    return write_uint(<uint64_t>v, out)


cdef inline int bin_token(int64_t code, char* out) noexcept nogil:
    """Write the byte token of a log-bin code (see CategoricalHasher); returns its length."""
    cdef int64_t a = -code if code < 0 else code
    if code == 0:
        out[0] = c'0'
        return 1
    out[0] = c'-' if code < 0 else c'+'
    if a <= 3:
        out[1] = c's'
        return 2 + write_uint(a - 1, out + 2)
    out[1] = c'l'
    return 2 + write_uint(a - 4, out + 2)
