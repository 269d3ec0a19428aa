# Included by _svm.pyx: sorting the entries of one svmlight or VW row by column, a stable merge sort over runs sorted
# by insertion, then the entries of each column summed in their original order.  Included rather than cimported
# from a .pxd (which would make ``sort_and_sum`` inline): inlined into its callers, the folding path of
# ``emit_rows`` ran 1.29 times slower (200k rows, one thread).
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
