# Included by _tsv.pyx: the chunk assembly entry points (CSR arrays of the parsed pieces of a chunk).
def reduceat_like_numpy(double[::1] run, Py_ssize_t zeros):
    """What ``np.add.reduceat`` gives for one segment: ``run`` followed by ``zeros`` zeros (for the tests)."""
    cdef Py_ssize_t m = run.shape[0]
    if m == 1:
        return run[0]
    return run[0] + pairwise_sum(&run[1], m - 1, m - 1 + zeros)


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
def append_rows(data, indices, indptr, Py_ssize_t row_off, Py_ssize_t pos, const int64_t[::1] row_ptr,
                const uint32_t[::1] cols, vals, Py_ssize_t r0, Py_ssize_t r1):
    """Copy the merged rows r0..r1-1 of a piece (parsed with ``merge=True``) into a chunk's CSR arrays, at row
    ``row_off`` and entry ``pos``; returns the next entry.  The arrays have room for them, and ``indptr[row_off]``
    is ``pos``.  A chunk's rows copied this way are bitwise what :func:`assemble_csr` gives for the same rows parsed
    without merging (the runs were summed by the parse, so this only copies)."""
    if not 0 <= r0 <= r1 < row_ptr.shape[0]:
        raise ValueError(f"rows {r0}..{r1} are not rows of the piece")
    cdef Py_ssize_t n = row_ptr[r1] - row_ptr[r0]
    if pos + n > min(data.shape[0], indices.shape[0]) or row_off + r1 - r0 + 1 > indptr.shape[0]:
        raise ValueError(f"the chunk's arrays have no room for rows {r0}..{r1} at row {row_off}, entry {pos}")
    if r1 > r0:
        pos = assemble_piece(data, indices, indptr, row_off, row_ptr, cols, vals, r0, r1, 0, 0, False, pos, True)
    return pos
