"""Compiled parse-and-hash path of the Criteo/Avazu readers.

``BlockParser.parse`` takes one block of whole lines (as ``ftrlx.datasets._base.iter_line_blocks`` yields them)
and, with the GIL released, splits each line into fields, validates it the way the Python readers do and hashes
its fields into per-row lists of ``(column, value)`` entries, sorted by column (stably: ties keep the order in
which ``CategoricalHasher.transform`` emits its fields). ``assemble_csr`` then sums each row's runs of equal
columns, drops zero sums and writes the CSR arrays of one chunk, bitwise as ``CategoricalHasher`` would.

Anything rare that the Python path treats in a way this module does not reproduce (a stray carriage return, a
quote, a cell that Python's ``int``/``float`` might read differently, a value outside the log-bin table, invalid
UTF-8, ...) makes ``parse`` answer *unsupported*; a bad line answers *bad* when bad lines are errors. The reader
then hands the rest of the file to the Python path, which gives its own result or error.
"""
import numpy as np

cimport cython
from libc.math cimport floor, fabs, isfinite
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, calloc, free, strtod
from libc.string cimport memcpy, memchr

from ftrlx._kernels._murmur cimport (murmurhash3_32, murmurhash3_32_pair, murmur_block, murmur_fmix,
                                     murmur_mix_key)

cdef extern from "<math.h>" nogil:
    double NAN

# Two hot loops in C, for the vector instructions Cython cannot express: the field split compares 16 bytes at a
# time with SSE2 (part of every x86-64; a byte loop elsewhere), and the row sort is compiled twice, for AVX2 and
# for the baseline, with GCC picking one when the module loads. Both give the same results on every path.
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif

    #define FTRLX_CL_CR 2
    #define FTRLX_CL_QUOTE 4
    #define FTRLX_CL_HIGH 8

    /* Field starts of the line buf[s:e] into fs (fs[k] follows the k-th separator, the index clamped at
       cap + 1 so a line with too many fields cannot write past fs); returns the number of separators and sets
       *flags to the carriage returns, quotes (quote >= 0) and non-ASCII bytes seen. */
    static int ftrlx_split(const uint8_t* buf, Py_ssize_t s, Py_ssize_t e, int sep, int quote,
                           Py_ssize_t* fs, int cap, int* flags) {
        int nf = 0, k, f = 0;
        Py_ssize_t p = s;
        fs[0] = s;
    #if defined(__SSE2__)
        uint8_t tail[16];
        unsigned cr = 0, quotes = 0, high = 0, valid, m;
        const __m128i vsep = _mm_set1_epi8((char)sep), vcr = _mm_set1_epi8(13);
        const __m128i vquote = _mm_set1_epi8((char)(quote >= 0 ? quote : 13));
        __m128i w;
        while (p < e) {
            valid = 0xFFFFu;
            if (p + 16 <= e) {
                w = _mm_loadu_si128((const __m128i*)(buf + p));
            } else {  /* never read past the line's end: the last bytes go through a zeroed copy */
                memset(tail, 0, 16);
                memcpy(tail, buf + p, (size_t)(e - p));
                w = _mm_loadu_si128((const __m128i*)tail);
                valid = (1u << (e - p)) - 1u;
            }
            m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, vsep)) & valid;
            cr |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, vcr)) & valid;
            if (quote >= 0)
                quotes |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, vquote)) & valid;
            high |= (unsigned)_mm_movemask_epi8(w);
            while (m) {
                k = nf < cap ? nf : cap;
                fs[k + 1] = p + __builtin_ctz(m) + 1;
                nf++;
                m &= m - 1;
            }
            p += 16;
        }
        if (cr) f |= FTRLX_CL_CR;
        if (quotes) f |= FTRLX_CL_QUOTE;
        if (high) f |= FTRLX_CL_HIGH;
    #else
        for (; p < e; p++) {
            uint8_t c = buf[p];
            if (c == (uint8_t)sep) {
                k = nf < cap ? nf : cap;
                fs[k + 1] = p + 1;
                nf++;
            } else if (c == 13) {
                f |= FTRLX_CL_CR;
            } else if (quote >= 0 && c == (uint8_t)quote) {
                f |= FTRLX_CL_QUOTE;
            } else if (c >= 0x80) {
                f |= FTRLX_CL_HIGH;
            }
        }
    #endif
        *flags = f;
        return nf;
    }

    /* Sort n distinct non-negative keys by counting, for each, the keys below it: no data-dependent branch,
       and the counting loop vectorizes (a row holds a few dozen keys). keys must have room for a multiple of
       8: it is padded with INT32_MAX, which no key counts, so the vector loop needs no scalar remainder. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    __attribute__((target_clones("avx2", "default")))
    #endif
    static void ftrlx_rank_sort(int32_t* keys, int n, int32_t* out) {
        int i, j, r, padded = (n + 7) & ~7;
        int32_t v;
        for (j = n; j < padded; j++)
            keys[j] = INT32_MAX;
        for (i = 0; i < n; i++) {
            v = keys[i];
            r = 0;
            for (j = 0; j < padded; j++)
                r += keys[j] < v;
            out[r] = v;
        }
    }
    """
    int ftrlx_split(const uint8_t* buf, Py_ssize_t s, Py_ssize_t e, int sep, int quote, Py_ssize_t* fs, int cap,
                    int* flags) nogil
    void ftrlx_rank_sort(int32_t* keys, int n, int32_t* out) nogil

cdef enum:
    FS_SLACK = 8  # room for field starts written past the last field

# Statuses of parse and of the per-cell parsers.
cdef enum:
    ST_OK = 0
    ST_BAD = 1
    ST_UNSUPPORTED = 2

OK = ST_OK
BAD = ST_BAD
UNSUPPORTED = ST_UNSUPPORTED

# Source kinds: where a field's value comes from.
cdef enum:
    SRC_RAW = 0        # the cell's bytes (a categorical value)
    SRC_INT = 1        # a cell read like Python's int()
    SRC_FLOAT = 2      # a cell read like Python's float()
    SRC_HOUR_OF_DAY = 3  # Avazu: hour of day of the YYMMDDHH hour cell
    SRC_WEEKDAY = 4    # Avazu: weekday (Monday = 0) of the hour cell

SOURCE_KINDS = {"raw": SRC_RAW, "int": SRC_INT, "float": SRC_FLOAT, "hour_of_day": SRC_HOUR_OF_DAY,
                "weekday": SRC_WEEKDAY}

# Slot kinds, one per field that CategoricalHasher.transform emits.
cdef enum:
    SLOT_CAT = 0    # b"<name>\x00<value>"
    SLOT_VALUE = 1  # the number itself in the column of b"<name>"
    SLOT_BIN = 2    # b"<name>\x00<log-bin token>"
    SLOT_PAIR = 3   # b"<a>\x00<va>\x00<b>\x00<vb>"

SLOT_KINDS = {"cat": SLOT_CAT, "value": SLOT_VALUE, "bin": SLOT_BIN, "pair": SLOT_PAIR}

# What the split saw in a line (the values of ftrlx_split's FTRLX_CL_* flags).
cdef enum:
    CL_CR = 2
    CL_QUOTE = 4
    CL_HIGH = 8

# A row's sort key is column << SLOT_BITS | slot: the slot breaks ties, so the sort is stable.
cdef enum:
    SLOT_BITS = 16
    MAX_CELL = 64      # longer numeric cells go to the Python path (Python's int() has a digit limit)
    MAX_INT_DIGITS = 18  # significant digits that fit an int64 exactly

# The log-bin table: codes 4 + k for k < KMAX - 1 (values below 2**65); larger values are unsupported.
cdef enum:
    KMAX = 2048
    SMALL_INTS = 1 << 14
    CMAX = 4 + KMAX  # |code| bound of the per-slot tables (a little slack above the largest code)


# ---------------------------------------------------------------------------------------------------------------
# MurmurHash3 over a key given in pieces
# ---------------------------------------------------------------------------------------------------------------
cdef struct MState:
    uint32_t h       # state after the whole 4-byte blocks seen so far
    uint32_t carry   # the bytes of an unfinished block, little-endian
    int32_t ntail    # how many bytes carry holds (0-3)
    uint32_t total   # bytes seen


cdef inline void mstate_init(MState* s, uint32_t seed) noexcept nogil:
    s.h = seed
    s.carry = 0
    s.ntail = 0
    s.total = 0


cdef inline void mstate_update(MState* s, const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Feed n more bytes; the blocks straddling pieces are put together in ``carry``."""
    cdef Py_ssize_t i = 0
    cdef uint32_t w
    cdef int t = s.ntail, sh
    s.total += <uint32_t>n
    if t == 0:
        while i + 4 <= n:
            memcpy(&w, p + i, 4)
            s.h = murmur_block(s.h, w)
            i += 4
    else:
        sh = 8 * t
        while i + 4 <= n:
            memcpy(&w, p + i, 4)
            s.h = murmur_block(s.h, s.carry | (w << sh))
            s.carry = w >> (32 - sh)
            i += 4
    while i < n:
        s.carry |= (<uint32_t>p[i]) << (8 * t)
        t += 1
        i += 1
        if t == 4:
            s.h = murmur_block(s.h, s.carry)
            s.carry = 0
            t = 0
    s.ntail = t


cdef inline uint32_t mstate_finish(const MState* s) noexcept nogil:
    cdef uint32_t h = s.h
    if s.ntail:
        h ^= murmur_mix_key(s.carry)
    return murmur_fmix(h, s.total)


def murmur3(bytes key, uint32_t seed=0):
    """MurmurHash3_x86_32 of ``key`` through the shared header (for the tests)."""
    return murmurhash3_32(key, len(key), seed)


def murmur3_pair(bytes a, bytes b, uint32_t seed=0):
    """The hash of ``a + b`` through the header's two-piece helper (for the tests)."""
    cdef bytearray scratch = bytearray(len(a) + len(b) + 1)
    return murmurhash3_32_pair(a, len(a), b, len(b), seed, scratch)


def murmur3_pieces(pieces, uint32_t seed=0):
    """The hash of ``b"".join(pieces)``, fed piece by piece as the parser does (for the tests)."""
    cdef MState s
    cdef bytes piece
    mstate_init(&s, seed)
    for piece in pieces:
        mstate_update(&s, piece, len(piece))
    return mstate_finish(&s)


# ---------------------------------------------------------------------------------------------------------------
# log-bin codes
# ---------------------------------------------------------------------------------------------------------------
_TABLES = None


def _numpy_bin(d):
    """The large-value bin floor(ln(d)**2), computed exactly as CategoricalHasher documents it, with NumPy."""
    return np.floor(np.log(d) ** 2)


def log_bin_tables(window=256):
    """NumPy's bins made exact in C: (thresholds, small-integer codes), or None if NumPy's log misbehaves.

    ``thresholds[k - 1]`` is the smallest double d > 2 with ``floor(np.log(d)**2) >= k``, found by bisection on
    the bit patterns of doubles. Each threshold is then checked ``window`` doubles on either side, far wider than
    the rounding error of log, so a value's bin is the number of thresholds at or below it, for every double.
    ``small[a]`` is the code of the integer a, computed directly with NumPy.
    """
    global _TABLES
    if _TABLES is not None:
        return _TABLES if _TABLES is not False else None
    k = np.arange(1, KMAX + 1, dtype=np.float64)
    lo = np.full(KMAX, np.float64(2.0).view(np.int64))
    top = np.float64(1e20)
    hi = np.full(KMAX, top.view(np.int64))
    if _numpy_bin(top) < KMAX:  # pragma: no cover - ln(1e20)**2 is about 2120
        _TABLES = False
        return None
    while True:
        active = hi - lo > 1
        if not active.any():
            break
        mid = lo + (hi - lo) // 2
        reached = _numpy_bin(mid.view(np.float64)) >= k
        hi = np.where(active & reached, mid, hi)
        lo = np.where(active & ~reached, mid, lo)
    offsets = np.arange(-window, window, dtype=np.int64)
    around = _numpy_bin((hi[:, None] + offsets[None, :]).view(np.float64))
    expected = np.where(offsets[None, :] < 0, k[:, None] - 1, k[:, None])
    spaced = np.all(np.diff(hi) > 2 * window)
    if not (np.array_equal(around, expected) and spaced):  # pragma: no cover - would mean a non-monotone log
        _TABLES = False
        return None
    a = np.arange(SMALL_INTS, dtype=np.float64)
    with np.errstate(divide="ignore"):
        small = np.where(a <= 2.0, 1 + np.floor(a), 4 + _numpy_bin(np.maximum(a, 3.0)))
    small[0] = 0
    _TABLES = (hi.view(np.float64).copy(), small.astype(np.int16))
    return _TABLES


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


def bin_codes(double[::1] x, bint integer=False):
    """Log-bin codes of the values of x (NaN gives 0 and False), as the parser computes them (for the tests).

    Returns ``(codes, ok)``; ``ok`` is False where the value is NaN or beyond the table.
    """
    tables = log_bin_tables()
    cdef double[::1] thresholds = tables[0]
    cdef int16_t[::1] small = tables[1]
    codes = np.zeros(x.shape[0], dtype=np.int64)
    ok = np.zeros(x.shape[0], dtype=bool)
    cdef int64_t[::1] c = codes
    cdef uint8_t[::1] k = ok.view(np.uint8)
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        if x[i] == x[i]:
            k[i] = bin_code(x[i], integer, &thresholds[0], &small[0], &c[i]) == ST_OK
    return codes, ok


cdef int bin_token(int64_t code, char* out) noexcept nogil:
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


def bin_token_of(int64_t code):
    """The token of a code, as bytes (for the tests)."""
    cdef char buf[32]
    cdef int n = bin_token(code, buf)
    return buf[:n]


# ---------------------------------------------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------------------------------------------
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


cdef int parse_int(const uint8_t* p, Py_ssize_t n, const uint8_t* end, double* out) noexcept nogil:
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


cdef int parse_float(const uint8_t* p, Py_ssize_t n, double* out) noexcept nogil:
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


def parse_number(bytes cell, bint integer):
    """``(status, value)`` of one numeric cell, as the parser reads it (for the tests).

    The cell is followed by digits, as in a line, which the 8-byte reads must ignore.
    """
    cdef double v = 0
    cdef bytes line = cell + b"98765432\t"
    cdef const uint8_t* p = line
    cdef Py_ssize_t n = len(cell)
    cdef int st = parse_int(p, n, p + len(line), &v) if integer else parse_float(p, n, &v)
    return st, v


cdef inline bint has_high(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if p[i] >= 0x80:
            return True
    return False


cdef bint valid_utf8(const uint8_t* p, Py_ssize_t n) noexcept nogil:
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


def is_valid_utf8(bytes data):
    """(for the tests)"""
    return valid_utf8(data, len(data))


cdef int parse_label(const uint8_t* p, Py_ssize_t n, double* y) noexcept nogil:
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


cdef int parse_hour(const uint8_t* p, Py_ssize_t n, int* hour, int* weekday) noexcept nogil:
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


def parse_avazu_hour(bytes cell):
    """``(status, hour, weekday)`` of an hour cell (for the tests)."""
    cdef int h = -1, w = -1
    cdef int st = parse_hour(cell, len(cell), &h, &w)
    return st, h, w


# ---------------------------------------------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------------------------------------------
cdef struct Source:
    int kind
    int col            # field index (for derived sources: the hour field)
    bint need_text     # a pair hashes its value text (numeric, value mode)
    bint need_bintext  # a pair hashes its log-bin token (numeric, other modes)
    bint need_code     # a bin slot or a pair uses its log-bin code
    bint active        # read per row (numbers, derived values, raw cells of pairs)
    # per row
    bint present
    const uint8_t* ptr
    Py_ssize_t len
    double x
    int64_t code
    char text[32]


cdef struct Slot:
    int kind
    int src
    int src_b
    int raw_col        # categorical slots of a raw cell: its field (read straight from the split)
    MState head        # the hash state after the prefix (b"<name>\x00" or, for pairs, b"<a>\x00")
    const uint8_t* mid  # pairs: b"\x00<b>\x00"
    Py_ssize_t mid_len
    uint32_t vcol      # value slots: the column of b"<name>"
    double vsign
    uint32_t* bcols    # bin slots: column of each code, index code + CMAX
    double* bsigns


@cython.final
cdef class BlockParser:
    """Parse and hash blocks of lines for one reader configuration (see the module docstring).

    Parameters
    ----------
    n_names : int
        Fields per line.
    sep : int
        Separator byte.
    quote : int
        Quote byte, or -1 when quotes are data.
    label_col : int
        Field of the 0/1 label.
    hour_col : int
        Field of the Avazu hour to validate, or -1.
    sources : list of (kind, field)
        The values the slots read, kinds from ``SOURCE_KINDS``. Numeric sources are validated in list order.
    slots : list of (kind, source, source_b, prefix, mid)
        The emitted fields in emission order, kinds from ``SLOT_KINDS``; ``prefix``/``mid`` are bytes (for value
        slots ``prefix`` is the field name, hashed alone).
    n_features, seed, signed, value_mode :
        As in the hasher; ``value_mode`` is True for numeric_mode 'value' (pairs see the value text).
    need_vals : bool
        Write each entry's value (else every value is one).
    merge : bool, default=False
        Sum each row's entries of the same column (in slot order) and drop zero sums, as ``assemble_csr`` does:
        the pieces are then final rows, for ``concat_rows``. Only for values +-1 (no value slots).
    """
    cdef int n_names, sep, quote, label_col, hour_col, flags
    cdef const uint8_t* block_end  # the end of the block being parsed (bounds wide reads)
    cdef int n_sources, n_slots
    cdef Source* sources
    cdef Slot* slots
    cdef Py_ssize_t* fs
    cdef uint64_t* keys
    cdef uint64_t* sorted_keys
    cdef int32_t* keys32
    cdef int32_t* sorted32
    cdef int bucket_shift, slot_bits
    cdef bint narrow
    cdef int* active
    cdef int n_active
    cdef double* vrow
    cdef uint64_t n_features
    cdef uint32_t mask
    cdef bint pow2, signed, need_vals, merge
    cdef uint32_t seed
    cdef object _keep
    cdef object _thresholds_arr, _small_arr
    cdef const double* thresholds
    cdef const int16_t* small

    def __cinit__(self):
        self.sources = NULL
        self.slots = NULL
        self.fs = NULL
        self.keys = NULL
        self.sorted_keys = NULL
        self.keys32 = NULL
        self.sorted32 = NULL
        self.active = NULL
        self.vrow = NULL

    def __init__(self, int n_names, int sep, int quote, int label_col, int hour_col, sources, slots,
                 uint64_t n_features, uint32_t seed, bint signed, bint value_mode, bint need_vals,
                 bint merge=False):
        cdef int i
        tables = log_bin_tables()
        if tables is None:  # pragma: no cover
            raise ValueError("log-bin tables unavailable")
        if not 1 <= n_features <= (1 << 32):
            raise ValueError("n_features out of range")
        if len(slots) >= (1 << SLOT_BITS):
            raise ValueError("too many fields")
        self._thresholds_arr, self._small_arr = tables
        cdef double[::1] th = self._thresholds_arr
        cdef int16_t[::1] sm = self._small_arr
        self.thresholds = &th[0]
        self.small = &sm[0]
        self.n_names = n_names
        self.sep = sep
        self.quote = quote
        self.label_col = label_col
        self.hour_col = hour_col
        self.n_features = n_features
        self.pow2 = (n_features & (n_features - 1)) == 0
        self.mask = <uint32_t>(n_features - 1)
        self.seed = seed
        self.signed = signed
        if merge and any(slot[0] == SLOT_VALUE for slot in slots):
            raise ValueError("merged rows need values +-1: numbers as values are summed as NumPy does")
        self.merge = merge
        self.need_vals = need_vals or merge
        self.n_sources = len(sources)
        self.n_slots = len(slots)
        self.sources = <Source*>calloc(max(self.n_sources, 1), sizeof(Source))
        self.slots = <Slot*>calloc(max(self.n_slots, 1), sizeof(Slot))
        self.fs = <Py_ssize_t*>malloc((n_names + 2 + FS_SLACK) * sizeof(Py_ssize_t))
        self.keys = <uint64_t*>malloc((self.n_slots + 1) * sizeof(uint64_t))
        self.sorted_keys = <uint64_t*>malloc((self.n_slots + 1) * sizeof(uint64_t))
        self.keys32 = <int32_t*>malloc((self.n_slots + 8) * sizeof(int32_t))
        self.sorted32 = <int32_t*>malloc((self.n_slots + 8) * sizeof(int32_t))
        self.active = <int*>malloc((self.n_sources + 1) * sizeof(int))
        # Rows sort faster on 31-bit keys (column << slot_bits | slot), where the output is narrow enough.
        self.slot_bits = max(1, (self.n_slots - 1).bit_length())
        self.narrow = (n_features << self.slot_bits) <= (1 << 31)
        self.vrow = <double*>malloc((self.n_slots + 1) * sizeof(double))
        # keys are below n_features << SLOT_BITS; their top 6 bits pick one of 64 buckets
        self.bucket_shift = max(0, ((n_features - 1) << SLOT_BITS | ((1 << SLOT_BITS) - 1)).bit_length() - 6)
        if not (self.sources and self.slots and self.fs and self.keys and self.sorted_keys and self.vrow
                and self.keys32 and self.sorted32 and self.active):
            raise MemoryError()
        for i, (kind, col) in enumerate(sources):
            self.sources[i].kind = kind
            self.sources[i].col = col
        self._keep = []
        for i, (kind, src, src_b, prefix, mid) in enumerate(slots):
            self._init_slot(i, kind, src, src_b, prefix, mid, value_mode)
        self.n_active = 0
        for i in range(self.n_sources):
            if self.sources[i].kind != SRC_RAW:
                self.sources[i].active = True
            if self.sources[i].active:
                self.active[self.n_active] = i
                self.n_active += 1

    cdef _init_slot(self, int i, int kind, int src, int src_b, bytes prefix, bytes mid, bint value_mode):
        cdef Slot* s = &self.slots[i]
        cdef uint32_t h
        cdef int64_t code
        cdef char tok[32]
        cdef int n
        cdef MState st
        s.kind = kind
        s.src = src
        s.src_b = src_b
        s.raw_col = -1
        if kind == SLOT_CAT and self.sources[src].kind == SRC_RAW:
            s.raw_col = self.sources[src].col
        mstate_init(&s.head, self.seed)
        mstate_update(&s.head, prefix, len(prefix))
        self._keep.append(mid)
        s.mid = mid
        s.mid_len = len(mid)
        if kind == SLOT_VALUE:
            h = murmurhash3_32(prefix, len(prefix), self.seed)
            s.vcol = self.column(h)
            s.vsign = self.sign(h)
        elif kind == SLOT_BIN:
            self.sources[src].need_code = True
            s.bcols = <uint32_t*>malloc((2 * CMAX + 1) * sizeof(uint32_t))
            s.bsigns = <double*>malloc((2 * CMAX + 1) * sizeof(double))
            if not (s.bcols and s.bsigns):
                raise MemoryError()
            for code in range(-CMAX, CMAX + 1):
                n = bin_token(code, tok)
                st = s.head
                mstate_update(&st, <uint8_t*>tok, n)
                h = mstate_finish(&st)
                s.bcols[code + CMAX] = self.column(h)
                s.bsigns[code + CMAX] = self.sign(h)
        elif kind == SLOT_PAIR:
            for j in (src, src_b):
                self.sources[j].active = True
                if self.sources[j].kind in (SRC_INT, SRC_FLOAT):
                    if value_mode:
                        self.sources[j].need_text = True
                    else:
                        self.sources[j].need_code = True
                        self.sources[j].need_bintext = True

    def __dealloc__(self):
        cdef int i
        if self.slots != NULL:
            for i in range(self.n_slots):
                free(self.slots[i].bcols)
                free(self.slots[i].bsigns)
        free(self.sources)
        free(self.slots)
        free(self.fs)
        free(self.keys)
        free(self.sorted_keys)
        free(self.keys32)
        free(self.sorted32)
        free(self.active)
        free(self.vrow)

    cdef inline uint32_t column(self, uint32_t h) noexcept nogil:
        if self.pow2:
            return h & self.mask
        return <uint32_t>(h % self.n_features)

    cdef inline double sign(self, uint32_t h) noexcept nogil:
        if self.signed and (h >> 31):
            return -1.0
        return 1.0

    @property
    def n_slots(self):
        return self.n_slots

    def parse(self, const uint8_t[::1] block not None, int64_t line0, bint skip, spare=None, Py_ssize_t size=-1):
        """Parse one block; returns ``(status, piece, skipped, line, buffers, n_lines)``.

        ``block`` is any contiguous buffer of bytes (bytes, or a reused bytearray); its first ``size`` bytes
        (all by default) are parsed. ``piece`` is ``(row_ptr, cols, vals, y, lines)`` for the rows kept
        (``vals`` None when every value is one) and ``skipped`` the bad lines dropped (when ``skip``). On
        ST_BAD (a bad line, ``skip`` False) or ST_UNSUPPORTED, ``piece`` is None and ``line`` the line that
        stopped the parse. ``piece`` holds views of ``buffers``, which may be handed back as ``spare`` for a
        later block once the piece is consumed (fresh memory costs a page fault per 4 KiB). ``n_lines`` is
        the number of lines of the block (its newlines), where the parse went through it (else -1): the
        next block starts at line ``line0 + n_lines``. Separate parsers may parse in separate threads at
        once (the parse releases the GIL); one parser parses one block at a time.
        """
        cdef Py_ssize_t n = block.shape[0] if size < 0 else size
        if n > block.shape[0]:
            raise ValueError(f"size {n} exceeds the block's {block.shape[0]} bytes")
        cdef const uint8_t* buf = &block[0] if block.shape[0] else <const uint8_t*>b""
        # A line of the right shape holds n_names - 1 separators and a label: at least n_names bytes, newline
        # included, so this bounds the rows (untouched capacity costs address space only).
        cdef Py_ssize_t cap_rows = n // self.n_names + 1
        cdef Py_ssize_t cap_entries = cap_rows * self.n_slots
        if spare is None or spare[3].shape[0] < cap_rows or spare[1].shape[0] < cap_entries \
                or (spare[2] is None) == self.need_vals:
            spare = (np.empty(cap_rows + 1, dtype=np.int64), np.empty(max(cap_entries, 1), dtype=np.uint32),
                     np.empty(max(cap_entries, 1), dtype=np.float64) if self.need_vals else None,
                     np.empty(cap_rows, dtype=np.float64), np.empty(cap_rows, dtype=np.int64))
        row_ptr, cols, vals, y, lines = spare
        cdef int64_t[::1] rp = row_ptr
        cdef uint32_t[::1] cv = cols
        cdef double[::1] vv
        cdef double* vp = NULL
        if vals is not None:
            vv = vals
            vp = &vv[0]
        cdef double[::1] yv = y
        cdef int64_t[::1] lv = lines
        cdef Py_ssize_t n_rows = 0, n_entries = 0, skipped = 0
        cdef int64_t stop_line = -1
        cdef int status
        with nogil:
            status = self.parse_lines(buf, n, line0, skip, &rp[0], &cv[0], vp, &yv[0], &lv[0],
                                      &n_rows, &n_entries, &skipped, &stop_line)
        if status != ST_OK:
            return status, None, skipped, stop_line, spare, -1
        piece = (row_ptr[:n_rows + 1], cols[:n_entries], None if vals is None else vals[:n_entries],
                 y[:n_rows], lines[:n_rows])
        return ST_OK, piece, skipped, -1, spare, stop_line - line0

    cdef int parse_lines(self, const uint8_t* buf, Py_ssize_t n, int64_t line0, bint skip, int64_t* row_ptr,
                         uint32_t* cols, double* vals, double* y, int64_t* lines, Py_ssize_t* n_rows,
                         Py_ssize_t* n_entries, Py_ssize_t* skipped, int64_t* stop_line) noexcept nogil:
        cdef Py_ssize_t pos = 0, s, e, rows = 0, ent = 0
        cdef const uint8_t* nl
        cdef int64_t line = line0
        cdef int st
        cdef int count
        row_ptr[0] = 0
        self.block_end = buf + n
        while pos < n:
            nl = <const uint8_t*>memchr(buf + pos, c'\n', n - pos)
            e = n if nl == NULL else nl - buf
            s = pos
            pos = e + 1
            if e > s and buf[e - 1] == 13:
                e -= 1
            if e > s:
                st = self.parse_line(buf, s, e, &y[rows], cols + ent,
                                     NULL if vals == NULL else vals + ent, &count)
                if st == ST_OK:
                    lines[rows] = line
                    ent += count
                    rows += 1
                    row_ptr[rows] = ent
                elif st == ST_BAD and skip:
                    skipped[0] += 1
                else:
                    stop_line[0] = line
                    n_rows[0] = rows
                    n_entries[0] = ent
                    return st
            line += 1
        n_rows[0] = rows
        n_entries[0] = ent
        stop_line[0] = line  # one past the last line: the caller counts the block's lines from it
        return ST_OK

    cdef int parse_line(self, const uint8_t* buf, Py_ssize_t s, Py_ssize_t e, double* y, uint32_t* cols,
                        double* vals, int* count) noexcept nogil:
        """Split, validate and hash one non-empty line [s, e)."""
        cdef int nf = self.split(buf, s, e)
        cdef int st
        cdef int flags = self.flags
        if flags & CL_QUOTE:
            return ST_UNSUPPORTED  # quoted values: the Python path counts fields with the csv module
        if nf != self.n_names - 1:
            return ST_BAD
        if flags & CL_CR:
            return ST_UNSUPPORTED  # pyarrow ends a record at a lone carriage return
        self.fs[self.n_names] = e + 1
        if flags & CL_HIGH:
            st = self.check_text_cells(buf)
            if st != ST_OK:
                return st
        cdef Py_ssize_t a = self.fs[self.label_col]
        st = parse_label(buf + a, self.fs[self.label_col + 1] - 1 - a, y)
        if st != ST_OK:
            return st
        st = self.read_sources(buf)
        if st != ST_OK:
            return st
        return self.emit(buf, cols, vals, count)

    cdef inline int split(self, const uint8_t* buf, Py_ssize_t s, Py_ssize_t e) noexcept nogil:
        """Field starts of the line [s, e) into ``fs``; returns the separators and sets ``flags``."""
        return ftrlx_split(buf, s, e, self.sep, self.quote, self.fs, self.n_names, &self.flags)

    cdef int check_text_cells(self, const uint8_t* buf) noexcept nogil:
        """A line with non-ASCII bytes: every cell pyarrow converts must be valid UTF-8 (else it rejects the
        block), and non-ASCII labels, numbers and hours are left to Python's own parsers."""
        cdef int i, col
        cdef Py_ssize_t a, b
        if self.cell_has_high(buf, self.label_col):
            return ST_UNSUPPORTED
        if self.hour_col >= 0 and self.cell_has_high(buf, self.hour_col):
            return ST_UNSUPPORTED
        for i in range(self.n_sources):
            col = self.sources[i].col
            if self.sources[i].kind == SRC_RAW:
                a = self.fs[col]
                b = self.fs[col + 1] - 1
                if not valid_utf8(buf + a, b - a):
                    return ST_UNSUPPORTED
            elif self.cell_has_high(buf, col):
                return ST_UNSUPPORTED
        return ST_OK

    cdef inline bint cell_has_high(self, const uint8_t* buf, int col) noexcept nogil:
        return has_high(buf + self.fs[col], self.fs[col + 1] - 1 - self.fs[col])

    cdef int read_sources(self, const uint8_t* buf) noexcept nogil:
        """Validate the numeric cells (in the reader's order) and the hour, and set every source's value."""
        cdef int i, st, hour = 0, weekday = 0
        cdef Source* src
        cdef Py_ssize_t a, b
        cdef double x
        if self.hour_col >= 0:
            a = self.fs[self.hour_col]
            st = parse_hour(buf + a, self.fs[self.hour_col + 1] - 1 - a, &hour, &weekday)
            if st != ST_OK:
                return st
        for i in range(self.n_active):
            src = &self.sources[self.active[i]]
            a = self.fs[src.col]
            b = self.fs[src.col + 1] - 1
            if src.kind == SRC_RAW:
                src.ptr = buf + a
                src.len = b - a
                src.present = b > a
                continue
            if src.kind == SRC_HOUR_OF_DAY or src.kind == SRC_WEEKDAY:
                src.len = write_uint(hour if src.kind == SRC_HOUR_OF_DAY else weekday, src.text)
                src.ptr = <const uint8_t*>src.text
                src.present = True
                continue
            if src.kind == SRC_INT:
                st = parse_int(buf + a, b - a, self.block_end, &x)
            else:
                st = parse_float(buf + a, b - a, &x)
            if st != ST_OK:
                return st
            src.x = x
            src.present = x == x
            if not src.present:
                continue
            if src.need_code:
                st = bin_code(x, src.kind == SRC_INT, self.thresholds, self.small, &src.code)
                if st != ST_OK:
                    return st
            if src.need_text:
                st = self.value_text(src)
                if st != ST_OK:
                    return st
        for i in range(self.n_active):
            src = &self.sources[self.active[i]]
            if src.need_bintext and src.present:
                src.len = bin_token(src.code, src.text)
                src.ptr = <const uint8_t*>src.text
        return ST_OK

    cdef int value_text(self, Source* src) noexcept nogil:
        """A number's categorical token: integral values in decimal (repr of other floats is left to Python)."""
        cdef double x = src.x
        if x != floor(x) or not (fabs(x) < 9.2e18):
            return ST_UNSUPPORTED
        src.len = write_int(<int64_t>x, src.text)
        src.ptr = <const uint8_t*>src.text
        return ST_OK

    cdef int emit(self, const uint8_t* buf, uint32_t* cols, double* vals, int* count) noexcept nogil:
        """Hash the slots of the current row; entries sorted by column, ties in slot order."""
        cdef int i, m = 0, sb = self.slot_bits
        cdef Slot* sl
        cdef Source* a
        cdef Source* b
        cdef MState st
        cdef uint32_t h, col
        cdef double v
        cdef Py_ssize_t start, length
        cdef uint64_t* keys = self.keys
        cdef int32_t* keys32 = self.keys32
        cdef double* vrow = self.vrow
        cdef bint narrow = self.narrow
        for i in range(self.n_slots):
            sl = &self.slots[i]
            if sl.raw_col >= 0:
                start = self.fs[sl.raw_col]
                length = self.fs[sl.raw_col + 1] - 1 - start
                if length == 0:
                    continue
                st = sl.head
                mstate_update(&st, buf + start, length)
                h = mstate_finish(&st)
                col = self.column(h)
                v = self.sign(h)
            else:
                a = &self.sources[sl.src]
                if not a.present:
                    continue
                if sl.kind == SLOT_CAT:
                    st = sl.head
                    mstate_update(&st, a.ptr, a.len)
                    h = mstate_finish(&st)
                    col = self.column(h)
                    v = self.sign(h)
                elif sl.kind == SLOT_VALUE:
                    if a.x == 0:
                        continue
                    col = sl.vcol
                    v = a.x * sl.vsign
                elif sl.kind == SLOT_BIN:
                    col = sl.bcols[a.code + CMAX]
                    v = sl.bsigns[a.code + CMAX]
                else:
                    b = &self.sources[sl.src_b]
                    if not b.present:
                        continue
                    st = sl.head
                    mstate_update(&st, a.ptr, a.len)
                    mstate_update(&st, sl.mid, sl.mid_len)
                    mstate_update(&st, b.ptr, b.len)
                    h = mstate_finish(&st)
                    col = self.column(h)
                    v = self.sign(h)
            if narrow:
                keys32[m] = <int32_t>((col << sb) | <uint32_t>i)
            else:
                keys[m] = ((<uint64_t>col) << SLOT_BITS) | <uint64_t>i
            vrow[i] = v
            m += 1
        if narrow:
            self.write_narrow(m, cols, vals)
        else:
            self.write_wide(m, cols, vals)
        if self.merge:
            m = merge_runs(cols, vals, m)
        count[0] = m
        return ST_OK

    cdef inline void write_narrow(self, int m, uint32_t* cols, double* vals) noexcept nogil:
        cdef int32_t* keys = self.sorted32
        cdef int i, sb = self.slot_bits
        cdef int32_t mask = (1 << sb) - 1
        ftrlx_rank_sort(self.keys32, m, keys)
        for i in range(m):
            cols[i] = <uint32_t>(keys[i] >> sb)
        if vals != NULL:
            for i in range(m):
                vals[i] = self.vrow[keys[i] & mask]

    cdef inline void write_wide(self, int m, uint32_t* cols, double* vals) noexcept nogil:
        cdef uint64_t* keys = self.sorted_keys
        cdef int i
        sort_keys(self.keys, m, self.bucket_shift, keys)
        for i in range(m):
            cols[i] = <uint32_t>(keys[i] >> SLOT_BITS)
        if vals != NULL:
            for i in range(m):
                vals[i] = self.vrow[keys[i] & ((1 << SLOT_BITS) - 1)]


cdef inline int merge_runs(uint32_t* cols, double* vals, int m) noexcept nogil:
    """Sum the runs of equal columns of a sorted row in place, in order, dropping zero sums; the new length.

    As ``assemble_rows`` sums the runs of values +-1 (any order gives the same sum for those)."""
    cdef int i = 0, j, out = 0
    cdef uint32_t c
    cdef double v
    while i < m:
        c = cols[i]
        v = vals[i]
        j = i + 1
        while j < m and cols[j] == c:
            v += vals[j]
            j += 1
        if v != 0:
            cols[out] = c
            vals[out] = v
            out += 1
        i = j
    return out


cdef inline void sort_keys(const uint64_t* keys, int n, int shift, uint64_t* a) noexcept nogil:
    """Sort the distinct keys of a row into ``a``.

    Hashed columns are uniform, so one counting pass on the top 6 bits leaves a row of a few dozen keys nearly
    sorted, and the insertion sort that finishes the job rarely moves anything (a plain insertion sort
    mispredicts a branch for almost every key).
    """
    cdef int i, j
    cdef int start[65]
    cdef uint64_t v
    for i in range(65):
        start[i] = 0
    for i in range(n):
        start[(keys[i] >> shift) + 1] += 1
    for i in range(64):
        start[i + 1] += start[i]
    for i in range(n):
        j = <int>(keys[i] >> shift)
        a[start[j]] = keys[i]
        start[j] += 1
    for i in range(1, n):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


# ---------------------------------------------------------------------------------------------------------------
# assembling a chunk
# ---------------------------------------------------------------------------------------------------------------
cdef double pairwise_sum(const double* a, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """NumPy's pairwise sum of n float64 values: a[0..m-1] followed by n - m zeros.

    The zeros are not read: adding +0.0 changes nothing, since no partial sum of non-zero values is -0.0.
    """
    cdef double res, r[8]
    cdef Py_ssize_t i, j, lim, n2
    if m <= 0:
        return 0.0
    if n < 8:
        res = 0.0
        for i in range(m):
            res += a[i]
        return res
    if n <= 128:
        for j in range(8):
            r[j] = a[j] if j < m else 0.0
        lim = n - n % 8
        i = 8
        while i < lim and i < m:
            for j in range(8):
                if i + j < m:
                    r[j] += a[i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(lim, m):
            res += a[i]
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return pairwise_sum(a, min(m, n2), n2) + pairwise_sum(a + n2, m - n2, n - n2)


def reduceat_like_numpy(double[::1] run, Py_ssize_t zeros):
    """What ``np.add.reduceat`` gives for one segment: ``run`` followed by ``zeros`` zeros (for the tests)."""
    cdef Py_ssize_t m = run.shape[0]
    if m == 1:
        return run[0]
    return run[0] + pairwise_sum(&run[1], m - 1, m - 1 + zeros)


ctypedef fused real_t:
    float
    double

ctypedef fused idx_t:
    int32_t
    int64_t


cdef void copy_rows(const int64_t* row_ptr, const uint32_t* cols, const double* vals, Py_ssize_t r0, Py_ssize_t r1,
                    real_t* out_data, idx_t* out_idx, idx_t* out_ptr, Py_ssize_t pos) noexcept nogil:
    """Rows [r0, r1) of a merged piece into CSR entries from ``pos``; ``out_ptr[k]`` ends row r0 + k."""
    cdef Py_ssize_t r, i, b = row_ptr[r0], e = row_ptr[r1]
    cdef Py_ssize_t shift = pos - b
    for i in range(b, e):
        out_idx[i + shift] = <idx_t>cols[i]
        out_data[i + shift] = <real_t>vals[i]
    for r in range(r0, r1):
        out_ptr[r - r0] = <idx_t>(row_ptr[r + 1] + shift)


cdef Py_ssize_t assemble_rows(const int64_t* row_ptr, const uint32_t* cols, const double* vals,
                              Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t n_slots, Py_ssize_t tail_zeros,
                              bint exact, real_t* out_data, idx_t* out_idx, idx_t* out_ptr,
                              Py_ssize_t pos, bint merged=False) noexcept nogil:
    """Sum the runs of rows [r0, r1) of a piece into CSR entries from ``pos``; ``out_ptr[k]`` ends row r0 + k.

    As CategoricalHasher's assembly: values one (``vals`` NULL) count the entries of a run; otherwise the run is
    summed as ``np.add.reduceat`` sums its segment of the chunk's row-major (rows x fields) block, which for a
    row's last run also holds the padding of the row's missing fields and of every empty row after it
    (``tail_zeros``: those of the pieces after this one). With ``exact`` False the values are +-1, so any order
    gives the same sum. ``merged``: the piece's runs were summed by the parse already; the rows are copied.
    """
    cdef Py_ssize_t r, i, j, b, e, q, z, m
    if merged:
        copy_rows(row_ptr, cols, vals, r0, r1, out_data, out_idx, out_ptr, pos)
        return pos + row_ptr[r1] - row_ptr[r0]
    cdef uint32_t c
    cdef double v
    for r in range(r0, r1):
        b = row_ptr[r]
        e = row_ptr[r + 1]
        i = b
        while i < e:
            c = cols[i]
            j = i + 1
            while j < e and cols[j] == c:
                j += 1
            m = j - i
            if vals == NULL:
                v = <double>m
            elif m == 1:
                v = vals[i]
            elif not exact:
                v = vals[i]
                for q in range(i + 1, j):
                    v += vals[q]
            else:
                z = 0
                if j == e:
                    z = n_slots - (e - b)
                    q = r + 1
                    while q < r1 and row_ptr[q + 1] == row_ptr[q]:
                        z += n_slots
                        q += 1
                    if q == r1:
                        z += tail_zeros
                v = vals[i] + pairwise_sum(vals + i + 1, m - 1, m - 1 + z)
            if v != 0:
                out_idx[pos] = <idx_t>c
                out_data[pos] = <real_t>v
                pos += 1
            i = j
        out_ptr[r - r0] = <idx_t>pos
    return pos


cdef Py_ssize_t assemble_piece(object data, object indices, object indptr, Py_ssize_t row_off,
                               const int64_t[::1] row_ptr, const uint32_t[::1] cols, object vals,
                               Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t n_slots, Py_ssize_t tail_zeros,
                               bint exact, Py_ssize_t pos, bint merged=False):
    cdef const double[::1] vv
    cdef const double* vp = NULL
    if vals is not None:
        vv = vals
        if vv.shape[0]:
            vp = &vv[0]
    cdef const uint32_t* cp = &cols[0] if cols.shape[0] else NULL
    cdef float[::1] d32
    cdef double[::1] d64
    cdef int32_t[::1] i32
    cdef int32_t[::1] p32
    cdef int64_t[::1] i64
    cdef int64_t[::1] p64
    cdef bint f32 = data.dtype == np.float32
    cdef bint x32 = indices.dtype == np.int32
    # one row pointer past the pointer of the row before the slice
    if f32:
        d32 = data
    else:
        d64 = data
    if x32:
        i32 = indices
        p32 = indptr
    else:
        i64 = indices
        p64 = indptr
    with nogil:
        if f32 and x32:
            pos = assemble_rows(&row_ptr[0], cp, vp, r0, r1, n_slots, tail_zeros, exact, &d32[0], &i32[0],
                                &p32[row_off + 1], pos, merged)
        elif f32:
            pos = assemble_rows(&row_ptr[0], cp, vp, r0, r1, n_slots, tail_zeros, exact, &d32[0], &i64[0],
                                &p64[row_off + 1], pos, merged)
        elif x32:
            pos = assemble_rows(&row_ptr[0], cp, vp, r0, r1, n_slots, tail_zeros, exact, &d64[0], &i32[0],
                                &p32[row_off + 1], pos, merged)
        else:
            pos = assemble_rows(&row_ptr[0], cp, vp, r0, r1, n_slots, tail_zeros, exact, &d64[0], &i64[0],
                                &p64[row_off + 1], pos, merged)
    return pos


def assemble_csr(slices, Py_ssize_t n_slots, uint64_t n_features, dtype, bint exact, empty=np.empty):
    """CSR arrays ``(data, indices, indptr)`` of the rows of ``slices``, a chunk.

    ``slices`` is a list of ``(row_ptr, cols, vals, r0, r1)``: rows r0..r1-1 of parsed pieces, in order.
    ``exact`` (numeric_mode 'value'/'both') sums runs as NumPy's reduceat; the index dtype follows
    CategoricalHasher (int32 unless n_features >= 2**31 or the chunk holds 2**31 entries or more).
    ``empty(size, dtype)`` gives the output arrays (uninitialised, contiguous, of that size or longer).
    """
    cdef Py_ssize_t n_rows = 0, bound = 0, pos = 0, row_off = 0, k
    for row_ptr, _cols, _vals, r0, r1 in slices:
        n_rows += r1 - r0
        bound += row_ptr[r1] - row_ptr[r0]
    wide = n_features >= 2**31 or bound >= 2**31
    index_dtype = np.int64 if wide else np.int32
    data = empty(max(bound, 1), np.dtype(dtype))
    indices = empty(max(bound, 1), np.dtype(index_dtype))
    indptr = empty(n_rows + 1, np.dtype(index_dtype))[:n_rows + 1]
    indptr[0] = 0
    tails = _tail_zeros(slices, n_slots) if exact else [0] * len(slices)
    for k, (row_ptr, cols, vals, r0, r1) in enumerate(slices):
        pos = assemble_piece(data, indices, indptr, row_off, row_ptr, cols, vals, r0, r1, n_slots, tails[k],
                             exact, pos)
        row_off += r1 - r0
    data = data[:pos]
    indices = indices[:pos]
    if wide and n_features < 2**31 and pos < 2**31:
        indices = indices.astype(np.int32)
        indptr = indptr.astype(np.int32)
    return data, indices, indptr


def _tail_zeros(slices, Py_ssize_t n_slots):
    """Per slice: the padding slots of the empty rows that start the slices after it (up to a non-empty row)."""
    tails = [0] * len(slices)
    after = 0
    for k in range(len(slices) - 1, -1, -1):
        tails[k] = after
        row_ptr, _, _, r0, r1 = slices[k]
        counts = np.diff(row_ptr[r0:r1 + 1])
        nonempty = np.flatnonzero(counts)
        if nonempty.size:
            after = int(nonempty[0]) * n_slots
        else:
            after += (r1 - r0) * n_slots
    return tails


# ---------------------------------------------------------------------------------------------------------------
# a chunk of merged rows
# ---------------------------------------------------------------------------------------------------------------
def concat_rows(slices, uint64_t n_features, dtype, empty=np.empty):
    """CSR arrays ``(data, indices, indptr)`` of a chunk of merged rows (parsed with ``merge=True``).

    ``slices`` as in :func:`assemble_csr`; the result is bitwise what ``assemble_csr`` gives for the same rows
    parsed without merging (the runs were summed by the parse, so this only copies).
    """
    cdef Py_ssize_t n_rows = 0, total = 0, pos = 0, row_off = 0
    for row_ptr, _cols, _vals, r0, r1 in slices:
        n_rows += r1 - r0
        total += row_ptr[r1] - row_ptr[r0]
    index_dtype = np.dtype(np.int64 if n_features >= 2**31 or total >= 2**31 else np.int32)
    data = empty(max(total, 1), np.dtype(dtype))
    indices = empty(max(total, 1), index_dtype)
    indptr = empty(n_rows + 1, index_dtype)[:n_rows + 1]
    indptr[0] = 0
    for row_ptr, cols, vals, r0, r1 in slices:
        pos = assemble_piece(data, indices, indptr, row_off, row_ptr, cols, vals, r0, r1, 0, 0, False, pos, True)
        row_off += r1 - r0
    return data[:total], indices[:total], indptr
