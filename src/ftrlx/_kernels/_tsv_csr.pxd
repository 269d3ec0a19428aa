# The CSR assembly of a chunk of parsed rows (ftrlx._kernels._tsv): the runs of equal columns of each row summed
# as CategoricalHasher's NumPy assembly sums them, bitwise, into data/indices/indptr of either dtype.
from libc.stdint cimport int32_t, int64_t, uint32_t


cdef inline double pairwise_sum(const double* a, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """NumPy's pairwise sum of n float64 values: a[0..m-1] followed by n - m zeros.

    The zeros are not read: adding +0.0 changes nothing, since no partial sum of non-zero values is -0.0.
    """
    cdef double res
    cdef double r[8]
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


ctypedef fused real_t:
    float
    double

ctypedef fused idx_t:
    int32_t
    int64_t


cdef inline void copy_rows(const int64_t* row_ptr, const uint32_t* cols, const double* vals, Py_ssize_t r0,
                           Py_ssize_t r1, real_t* out_data, idx_t* out_idx, idx_t* out_ptr,
                           Py_ssize_t pos) noexcept nogil:
    """Rows [r0, r1) of a merged piece into CSR entries from ``pos``; ``out_ptr[k]`` ends row r0 + k."""
    cdef Py_ssize_t r, i, b = row_ptr[r0], e = row_ptr[r1]
    cdef Py_ssize_t shift = pos - b
    for i in range(b, e):
        out_idx[i + shift] = <idx_t>cols[i]
        out_data[i + shift] = <real_t>vals[i]
    for r in range(r0, r1):
        out_ptr[r - r0] = <idx_t>(row_ptr[r + 1] + shift)


cdef inline Py_ssize_t assemble_rows(const int64_t* row_ptr, const uint32_t* cols, const double* vals,
                                     Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t n_slots, Py_ssize_t tail_zeros,
                                     bint exact, real_t* out_data, idx_t* out_idx, idx_t* out_ptr,
                                     Py_ssize_t pos, bint merged) noexcept nogil:
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
