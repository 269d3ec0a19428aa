# Included by _svm.pyx: the decimal numbers of svmlight and VW text, the strict form, correctly rounded.  Included
# rather than cimported from a .pxd (which would make ``parse_number`` inline): inlined into the svmlight line
# parser it added 3% to the instructions of a parse.
from libc.stdint cimport uint8_t, uint64_t
from libc.stdlib cimport strtod

cdef extern from *:
    """
    /* Powers of ten that doubles hold exactly (10**22 < 2**53 * 2**22 is the last one): each literal is exact. */
    static const double ftrlx_pow10[23] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
    };
    """
    const double ftrlx_pow10[23]


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
        v = v * ftrlx_pow10[exp10] if exp10 >= 0 else v / ftrlx_pow10[-exp10]
    else:
        v = strtod(s, <char**>&end_used)
        if end_used != e:
            v = _python_float(s, e)
        out[0] = v
        return 1
    out[0] = -v if negative else v
    return 1
