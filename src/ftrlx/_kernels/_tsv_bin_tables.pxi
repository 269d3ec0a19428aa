# Included by _tsv.pyx: the log-bin threshold tables (built once per process, kept in the module) and the test
# entries of the log-bin codes.
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


def bin_token_of(int64_t code):
    """The token of a code, as bytes (for the tests)."""
    cdef char buf[32]
    cdef int n = bin_token(code, buf)
    return buf[:n]
