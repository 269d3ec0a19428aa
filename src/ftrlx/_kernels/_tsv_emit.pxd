# Hashing the fields of one parsed row (ftrlx._kernels._tsv): each slot's key hashed into a column and a sign,
# the row's entries sorted by column (ties in slot order) and, for merged rows, the runs of equal columns summed.
from libc.stdint cimport int32_t, uint8_t, uint32_t, uint64_t

from ftrlx._kernels._murmur_stream cimport MState, mstate_finish, mstate_update
from ftrlx._kernels._tsv_defs cimport (CMAX, SLOT_BITS, SLOT_CAT, SLOT_BIN, SLOT_VALUE, ST_OK, Slot, Source)
from ftrlx._kernels._ranks cimport insertion_sort_u64, ranks32


cdef struct ColumnMap:
    # a 32-bit hash to its column and sign
    uint64_t n_features
    uint32_t mask      # n_features - 1, used when n_features is a power of two
    bint pow2
    bint signed


cdef struct RowSort:
    # the sort space of one row: its keys (column << slot bits | slot) and the value of each slot
    uint64_t* keys
    uint64_t* sorted_keys
    int32_t* keys32
    int32_t* place32    # the place of each narrow key in the sorted row
    double* vrow
    int bucket_shift   # wide keys: the shift that leaves their top 6 bits
    int slot_bits      # narrow keys: the bits of the slot
    bint narrow        # whether the keys fit 31 bits (then keys32 and place32 are used)


cdef inline uint32_t column_of(const ColumnMap* m, uint32_t h) noexcept nogil:
    if m.pow2:
        return h & m.mask
    return <uint32_t>(h % m.n_features)


cdef inline double sign_of(const ColumnMap* m, uint32_t h) noexcept nogil:
    if m.signed and (h >> 31):
        return -1.0
    return 1.0


cdef inline int emit_row(Slot* slots, int n_slots, Source* sources, const Py_ssize_t* fs, const ColumnMap* cmap,
                         RowSort* rs, bint merge, const uint8_t* buf, uint32_t* cols, double* vals,
                         int* count) noexcept nogil:
    """Hash the slots of the current row; entries sorted by column, ties in slot order."""
    cdef int i, m = 0, sb = rs.slot_bits
    cdef Slot* sl
    cdef Source* a
    cdef Source* b
    cdef MState st
    cdef uint32_t h, col
    cdef double v
    cdef Py_ssize_t start, length
    cdef uint64_t* keys = rs.keys
    cdef int32_t* keys32 = rs.keys32
    cdef double* vrow = rs.vrow
    cdef bint narrow = rs.narrow
    for i in range(n_slots):
        sl = &slots[i]
        if sl.raw_col >= 0:
            start = fs[sl.raw_col]
            length = fs[sl.raw_col + 1] - 1 - start
            if length == 0:
                continue
            st = sl.head
            mstate_update(&st, buf + start, length)
            h = mstate_finish(&st)
            col = column_of(cmap, h)
            v = sign_of(cmap, h)
        else:
            a = &sources[sl.src]
            if not a.present:
                continue
            if sl.kind == SLOT_CAT:
                st = sl.head
                mstate_update(&st, a.ptr, a.len)
                h = mstate_finish(&st)
                col = column_of(cmap, h)
                v = sign_of(cmap, h)
            elif sl.kind == SLOT_VALUE:
                if a.x == 0:
                    continue
                col = sl.vcol
                v = a.x * sl.vsign
            elif sl.kind == SLOT_BIN:
                col = sl.bcols[a.code + CMAX]
                v = sl.bsigns[a.code + CMAX]
            else:
                b = &sources[sl.src_b]
                if not b.present:
                    continue
                st = sl.head
                mstate_update(&st, a.ptr, a.len)
                mstate_update(&st, sl.mid, sl.mid_len)
                mstate_update(&st, b.ptr, b.len)
                h = mstate_finish(&st)
                col = column_of(cmap, h)
                v = sign_of(cmap, h)
        if narrow:
            keys32[m] = <int32_t>((col << sb) | <uint32_t>i)
        else:
            keys[m] = ((<uint64_t>col) << SLOT_BITS) | <uint64_t>i
        vrow[i] = v
        m += 1
    if narrow:
        write_narrow(rs, m, cols, vals)
    else:
        write_wide(rs, m, cols, vals)
    if merge:
        m = merge_runs(cols, vals, m)
    count[0] = m
    return ST_OK


cdef inline void write_narrow(const RowSort* rs, int m, uint32_t* cols, double* vals) noexcept nogil:
    cdef int32_t* keys = rs.keys32
    cdef int32_t* place = rs.place32   # each key's place in the sorted row
    cdef int i, sb = rs.slot_bits
    cdef int32_t mask = (1 << sb) - 1
    ranks32(keys, place, m)
    for i in range(m):
        cols[place[i]] = <uint32_t>(keys[i] >> sb)
    if vals != NULL:
        for i in range(m):
            vals[place[i]] = rs.vrow[keys[i] & mask]


cdef inline void write_wide(const RowSort* rs, int m, uint32_t* cols, double* vals) noexcept nogil:
    cdef uint64_t* keys = rs.sorted_keys
    cdef int i
    sort_keys(rs.keys, m, rs.bucket_shift, keys)
    for i in range(m):
        cols[i] = <uint32_t>(keys[i] >> SLOT_BITS)
    if vals != NULL:
        for i in range(m):
            vals[i] = rs.vrow[keys[i] & ((1 << SLOT_BITS) - 1)]


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
    insertion_sort_u64(a, n)
