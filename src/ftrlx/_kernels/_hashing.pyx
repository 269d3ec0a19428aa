"""Compiled core of ``ftrlx.hashing.CategoricalHasher``: hashing tokens and assembling the CSR matrix.

A column's categorical view is a *token table* (``offsets``/``data``, laid out like an Arrow binary array:
token ``e`` is ``data[offsets[e]:offsets[e + 1]]``) plus ``codes``, the token of each row (-1: missing; None:
row ``r`` is token ``r``). An empty token is a missing cell too. Arrow string arrays are token tables as they
are, so their values are hashed straight from Arrow's buffers.

Every emitted field fills one column ``j`` of two row-major blocks: ``C[r, j]``, the output column of row r's
token (``n_features`` when it has none), and ``V[r, j]``, its value (only when values are not all one).
``assemble_csr`` turns the blocks into CSR rows.
"""
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from ftrlx._kernels._murmur cimport murmurhash3_32

cdef enum:
    PAIRWISE_BLOCK = 128  # numpy's pairwise summation sums blocks of at most this many values with 8 accumulators
ctypedef fused integer_t:
    int64_t
    uint64_t

ctypedef fused index_out_t:
    int32_t
    int64_t

# A row's sort key packs (column, field) as column << field_bits | field.
ctypedef fused key_t:
    uint32_t
    uint64_t


# ---------------------------------------------------------------------------------------------------------------
# token tables
# ---------------------------------------------------------------------------------------------------------------
cdef inline const uint8_t* data_pointer(const uint8_t[::1] data):
    return &data[0] if data.shape[0] > 0 else NULL  # an empty table has no first byte to point at


cdef Py_ssize_t longest_token(const int64_t[::1] offsets, Py_ssize_t n_data) except -1:
    """Length of the longest token; ValueError if the offsets are not a valid table over n_data bytes."""
    cdef Py_ssize_t e, n = offsets.shape[0] - 1, longest = 0, bad = -1
    if n < 0:
        raise ValueError("a token table needs at least one offset")
    with nogil:
        for e in range(n):
            if offsets[e] < 0 or offsets[e + 1] < offsets[e] or offsets[e + 1] > n_data:
                bad = e
                break
            if offsets[e + 1] - offsets[e] > longest:
                longest = offsets[e + 1] - offsets[e]
    if bad >= 0 or (n == 0 and not 0 <= offsets[0] <= n_data):
        raise ValueError(f"token {bad} has offsets outside the {n_data} bytes of its table")
    return longest


cdef inline int64_t check_codes(const int64_t[::1] codes, Py_ssize_t n_rows, Py_ssize_t n_tokens) except -2:
    """Validate a codes array (None allowed: the identity); return -1, or raise ValueError naming a bad code."""
    cdef Py_ssize_t r
    if codes is None:
        if n_tokens != n_rows:
            raise ValueError(f"{n_tokens} tokens for {n_rows} rows and no codes")
        return -1
    if codes.shape[0] != n_rows:
        raise ValueError(f"{codes.shape[0]} codes for {n_rows} rows")
    for r in range(n_rows):
        if codes[r] >= n_tokens:
            raise ValueError(f"row {r} has code {codes[r]}, but there are {n_tokens} tokens")
    return -1


cdef const uint8_t* validity_pointer(const uint8_t[::1] validity, Py_ssize_t offset, Py_ssize_t n_rows) except? NULL:
    """The bytes of an Arrow validity bitmap covering bits offset .. offset + n_rows (None: every row is valid)."""
    if validity is None:
        return NULL
    if offset < 0 or validity.shape[0] * 8 < offset + n_rows:
        raise ValueError(f"a validity bitmap of {validity.shape[0]} bytes cannot cover rows {offset} to "
                         f"{offset + n_rows}")
    return &validity[0] if validity.shape[0] > 0 else NULL


cdef inline bint is_valid(const uint8_t* bits, Py_ssize_t i) noexcept nogil:
    return bits == NULL or (bits[i >> 3] >> (i & 7)) & 1


def hash_table(const int64_t[::1] offsets, const uint8_t[::1] data, uint32_t seed):
    """MurmurHash3 (x86, 32 bit) of every token of a table, as a uint32 array."""
    cdef Py_ssize_t e, n = offsets.shape[0] - 1
    longest_token(offsets, data.shape[0])
    out = np.empty(n, dtype=np.uint32)
    cdef uint32_t[::1] h = out
    cdef const uint8_t* d = data_pointer(data)
    with nogil:
        for e in range(n):
            h[e] = murmurhash3_32(<const char*>d + offsets[e], offsets[e + 1] - offsets[e], seed)
    return out


# ---------------------------------------------------------------------------------------------------------------
# decimal integers
# ---------------------------------------------------------------------------------------------------------------
cdef inline Py_ssize_t write_decimal(uint64_t magnitude, bint negative, uint8_t* out) noexcept nogil:
    """Write ``-``?digits (as Python's ``str(int)``) at out; return the length (at most 21)."""
    cdef uint8_t digits[24]
    cdef Py_ssize_t n = 0, i, length = 0
    while True:
        digits[n] = <uint8_t>(48 + magnitude % 10)
        magnitude //= 10
        n += 1
        if magnitude == 0:
            break
    if negative:
        out[0] = 45  # '-'
        length = 1
    for i in range(n):
        out[length + i] = digits[n - 1 - i]
    return length + n


def decimal_table(const integer_t[::1] values):
    """Token table of ``str(v).encode()`` for each int64 or uint64 value: ``(offsets, data)``."""
    cdef Py_ssize_t i, n = values.shape[0], pos = 0
    offsets_arr = np.empty(n + 1, dtype=np.int64)
    data_arr = np.empty(21 * n, dtype=np.uint8)
    cdef int64_t[::1] offsets = offsets_arr
    cdef uint8_t[::1] data = data_arr
    cdef uint8_t* out = &data[0] if n > 0 else NULL
    with nogil:
        offsets[0] = 0
        for i in range(n):
            # The magnitude of INT64_MIN does not fit an int64: negate in unsigned arithmetic.
            if integer_t is int64_t and values[i] < 0:
                pos += write_decimal(<uint64_t>0 - <uint64_t>values[i], True, out + pos)
            else:
                pos += write_decimal(<uint64_t>values[i], False, out + pos)
            offsets[i + 1] = pos
    return offsets_arr, data_arr[:pos]


# ---------------------------------------------------------------------------------------------------------------
# hashing fields into the C/V blocks
# ---------------------------------------------------------------------------------------------------------------
cdef struct Slots:
    # Where a field's hashes go: C row j (column per row) and V row j (value per row, or NULL).
    int64_t* cols
    double* vals
    int64_t n_features
    uint32_t modulus   # n_features, when it is not a power of two (then it is below 2**32)
    uint64_t mask      # n_features - 1, when it is a power of two (h & mask == h % n_features)
    bint signed


cdef inline Slots make_slots(int64_t[:, ::1] C, double[:, ::1] V, Py_ssize_t j, int64_t n_features,
                             bint signed) except *:
    cdef Slots s
    if not 1 <= n_features <= (<int64_t>1 << 32):
        raise ValueError(f"n_features must be in [1, 2**32], got {n_features}")
    if not 0 <= j < C.shape[0] or (V is not None and (V.shape[0] != C.shape[0] or V.shape[1] != C.shape[1])):
        raise ValueError(f"field {j} is outside blocks of shape {C.shape[0]} x {C.shape[1]}")
    s.cols = &C[j, 0] if C.shape[1] > 0 else NULL
    s.vals = &V[j, 0] if V is not None and V.shape[1] > 0 else NULL
    s.n_features = n_features
    s.signed = signed
    s.mask = 0
    s.modulus = 0
    if n_features & (n_features - 1) == 0:
        s.mask = <uint64_t>(n_features - 1)
    else:
        s.modulus = <uint32_t>n_features
    return s


cdef inline void put_hash(const Slots* s, Py_ssize_t r, uint32_t h) noexcept nogil:
    # A 32-bit remainder (or a mask) instead of a 64-bit division: the same column, several times faster.
    s.cols[r] = <int64_t>(h & s.mask) if s.modulus == 0 else <int64_t>(h % s.modulus)
    if s.vals != NULL:
        # The sign comes from bit 31, the column from the low bits: independent for power-of-two widths.
        s.vals[r] = -1.0 if s.signed and (h >> 31) else 1.0


cdef inline void put_missing(const Slots* s, Py_ssize_t r) noexcept nogil:
    # Column n_features sorts after every real column; assemble_csr drops it.
    s.cols[r] = s.n_features
    if s.vals != NULL:
        s.vals[r] = 0.0


cdef void hash_prefixed(char* scratch, Py_ssize_t n_prefix, const int64_t* offsets, const uint8_t* data,
                        Py_ssize_t n_tokens, uint32_t seed, const Slots* s) noexcept nogil:
    """Slot r = the hash of token r after ``scratch[:n_prefix]`` (the field prefix); empty tokens are missing."""
    cdef Py_ssize_t e, length
    for e in range(n_tokens):
        length = offsets[e + 1] - offsets[e]
        if length == 0:
            put_missing(s, e)
            continue
        memcpy(scratch + n_prefix, data + offsets[e], length)
        put_hash(s, e, murmurhash3_32(scratch, n_prefix + length, seed))


cdef void gather_slots(const Slots* tokens, const int64_t* codes, Py_ssize_t n_rows, const Slots* rows) noexcept nogil:
    """Row r gets the slot of token codes[r] (code -1: missing)."""
    cdef Py_ssize_t r
    cdef int64_t e
    for r in range(n_rows):
        e = codes[r]
        if e < 0:
            put_missing(rows, r)
        else:
            rows.cols[r] = tokens.cols[e]
            if rows.vals != NULL:
                rows.vals[r] = tokens.vals[e]


def emit_tokens(const uint8_t[::1] prefix, const int64_t[::1] codes, const int64_t[::1] offsets,
                const uint8_t[::1] data, const uint8_t[::1] validity, Py_ssize_t validity_offset, uint32_t seed,
                int64_t n_features, bint signed, int64_t[:, ::1] C, double[:, ::1] V, Py_ssize_t j):
    """Fill field j (row j of the field-major blocks C and V; V may be None) with the hashed ``prefix + token``.

    Row r is token ``codes[r]`` (codes None: token r); it is missing if that is -1, if the token is empty or if
    bit ``validity_offset + r`` of the Arrow validity bitmap ``validity`` (None: all valid) is clear.
    """
    cdef Slots rows = make_slots(C, V, j, n_features, signed)
    cdef Slots tokens = rows
    cdef Py_ssize_t r, n_rows = C.shape[1], n_prefix = prefix.shape[0], n_tokens = offsets.shape[0] - 1
    cdef Py_ssize_t longest = longest_token(offsets, data.shape[0])
    check_codes(codes, n_rows, n_tokens)
    cdef const uint8_t* bits = validity_pointer(validity, validity_offset, n_rows)
    cdef const int64_t* code = &codes[0] if codes is not None and n_rows > 0 else NULL
    cdef const uint8_t* d = data_pointer(data)
    cdef char* scratch = <char*>malloc(n_prefix + longest + 1)
    if scratch == NULL:
        raise MemoryError()
    if code != NULL:  # hash each distinct token once, into a table of its own
        tokens.cols = <int64_t*>malloc((n_tokens + 1) * sizeof(int64_t))
        tokens.vals = <double*>malloc((n_tokens + 1) * sizeof(double))
        if tokens.cols == NULL or tokens.vals == NULL:
            free(scratch)
            free(tokens.cols)
            free(tokens.vals)
            raise MemoryError()
    if n_prefix:
        memcpy(scratch, &prefix[0], n_prefix)
    with nogil:
        hash_prefixed(scratch, n_prefix, &offsets[0], d, n_tokens, seed, &tokens)
        if code != NULL:
            gather_slots(&tokens, code, n_rows, &rows)
        if bits != NULL:
            for r in range(n_rows):
                if not is_valid(bits, validity_offset + r):
                    put_missing(&rows, r)
    free(scratch)
    if code != NULL:
        free(tokens.cols)
        free(tokens.vals)


cdef inline Py_ssize_t token_of(const int64_t* codes, const uint8_t* bits, Py_ssize_t bit0, Py_ssize_t r,
                                const int64_t* offsets, int64_t* start) noexcept nogil:
    """Length of row r's token (0: missing) and, in start, where it begins."""
    cdef int64_t e = r if codes == NULL else codes[r]
    if e < 0 or not is_valid(bits, bit0 + r):
        return 0
    start[0] = offsets[e]
    return offsets[e + 1] - offsets[e]


def emit_pairs(const uint8_t[::1] head, const uint8_t[::1] mid,
               const int64_t[::1] codes_a, const int64_t[::1] offsets_a, const uint8_t[::1] data_a,
               const uint8_t[::1] validity_a, Py_ssize_t validity_offset_a,
               const int64_t[::1] codes_b, const int64_t[::1] offsets_b, const uint8_t[::1] data_b,
               const uint8_t[::1] validity_b, Py_ssize_t validity_offset_b,
               uint32_t seed, int64_t n_features, bint signed, int64_t[:, ::1] C, double[:, ::1] V,
               Py_ssize_t j):
    """Fill field j with the hash of ``head + token_a + mid + token_b``; rows missing either side get none.

    Each side is given as to :func:`emit_tokens`.
    """
    cdef Slots rows = make_slots(C, V, j, n_features, signed)
    cdef Py_ssize_t r, n_rows = C.shape[1], n_head = head.shape[0], n_mid = mid.shape[0]
    cdef Py_ssize_t longest_a = longest_token(offsets_a, data_a.shape[0])
    cdef Py_ssize_t longest_b = longest_token(offsets_b, data_b.shape[0])
    check_codes(codes_a, n_rows, offsets_a.shape[0] - 1)
    check_codes(codes_b, n_rows, offsets_b.shape[0] - 1)
    cdef const uint8_t* bits_a = validity_pointer(validity_a, validity_offset_a, n_rows)
    cdef const uint8_t* bits_b = validity_pointer(validity_b, validity_offset_b, n_rows)
    cdef const int64_t* code_a = &codes_a[0] if codes_a is not None and n_rows > 0 else NULL
    cdef const int64_t* code_b = &codes_b[0] if codes_b is not None and n_rows > 0 else NULL
    cdef const uint8_t* da = data_pointer(data_a)
    cdef const uint8_t* db = data_pointer(data_b)
    cdef const uint8_t* m = &mid[0] if n_mid > 0 else NULL
    cdef char* scratch = <char*>malloc(n_head + longest_a + n_mid + longest_b + 1)
    cdef int64_t start_a = 0, start_b = 0
    cdef Py_ssize_t la, lb
    if scratch == NULL:
        raise MemoryError()
    if n_head:
        memcpy(scratch, &head[0], n_head)
    with nogil:
        for r in range(n_rows):
            la = token_of(code_a, bits_a, validity_offset_a, r, &offsets_a[0], &start_a)
            lb = token_of(code_b, bits_b, validity_offset_b, r, &offsets_b[0], &start_b)
            if la == 0 or lb == 0:
                put_missing(&rows, r)
                continue
            # The token is built after the head, in place: a's value, the middle, b's value.
            memcpy(scratch + n_head, da + start_a, la)
            memcpy(scratch + n_head + la, m, n_mid)
            memcpy(scratch + n_head + la + n_mid, db + start_b, lb)
            put_hash(&rows, r, murmurhash3_32(scratch, n_head + la + n_mid + lb, seed))
    free(scratch)


# ---------------------------------------------------------------------------------------------------------------
# CSR assembly
# ---------------------------------------------------------------------------------------------------------------
cdef double pairwise_sum(const double* a, Py_ssize_t k, Py_ssize_t n) noexcept nogil:
    """numpy's pairwise summation of n values of which only the first k may be non-zero (the rest are +0.0).

    Mirrors the order of numpy's float64 add reduction (blocks of up to 128 values summed with 8 accumulators,
    larger ones split in two at a multiple of 8), so that sums are bitwise those of ``np.add.reduceat``. Adding
    +0.0 leaves every value but -0.0 unchanged, and no value here is -0.0, so the zeros need not be added.
    """
    cdef double r[8]
    cdef double res
    cdef Py_ssize_t i, t, n2, stop
    if k <= 0:
        return 0.0
    if n < 8:
        res = -0.0
        for i in range(k if k < n else n):
            res += a[i]
        return res
    if n <= PAIRWISE_BLOCK:
        for t in range(8):
            r[t] = a[t] if t < k else 0.0
        stop = n - n % 8
        i = 8
        while i < stop and i < k:
            for t in range(8):
                if i + t < k:
                    r[t] += a[i + t]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(stop, k if k < n else n):
            res += a[i]
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return pairwise_sum(a, k, n2) + pairwise_sum(a + n2, k - n2, n - n2)


def reduceat_sum(const double[::1] values, Py_ssize_t n):
    """``np.add.reduceat`` of one segment: ``values`` followed by ``n - len(values)`` zeros (for tests)."""
    cdef Py_ssize_t k = values.shape[0]
    if k == 0 or n < k:
        raise ValueError("need 1 <= len(values) <= n")
    return values[0] + pairwise_sum(&values[0] + 1, k - 1, n - 1)


cdef inline void insertion_sort(key_t* keys, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, k
    cdef key_t key
    for i in range(1, n):
        key = keys[i]
        k = i
        while k > 0 and keys[k - 1] > key:
            keys[k] = keys[k - 1]
            k -= 1
        keys[k] = key


def row_keys(const int64_t[:, ::1] C, key_t[:, ::1] keys, int field_bits):
    """keys[r, t] = C[t, r] << field_bits | t: the field-major slots as row-major sort keys.

    With ``field_bits`` 0 a key is the bare column (enough when every slot counts one). Sorting a row's keys
    orders its slots by column, and equal columns by field, as a stable sort by column would.
    """
    cdef Py_ssize_t F = C.shape[0], n_rows = C.shape[1], r0, r, t, stop
    cdef uint64_t field
    if keys.shape[0] != n_rows or keys.shape[1] != F:
        raise ValueError("keys must have shape (n_rows, n_fields)")
    if n_rows == 0 or F == 0:
        return
    with nogil:
        # Blocks of rows, so that both the reads (one run per field) and the writes stay in cache.
        for r0 in range(0, n_rows, 256):
            stop = r0 + 256 if r0 + 256 < n_rows else n_rows
            for t in range(F):
                field = <uint64_t>t if field_bits > 0 else 0
                for r in range(r0, stop):
                    keys[r, t] = <key_t>(((<uint64_t>C[t, r]) << field_bits) | field)


cdef inline Py_ssize_t empty_rows_after(const key_t* keys, Py_ssize_t r, Py_ssize_t n_rows, Py_ssize_t F,
                                        uint64_t missing, bint rows_sorted) noexcept nogil:
    """How many rows right after row r hold only missing slots (keys >= missing)."""
    cdef Py_ssize_t count = 0, q, t
    for q in range(r + 1, n_rows):
        if rows_sorted:
            if keys[q * F] < missing:
                return count
        else:
            for t in range(F):
                if keys[q * F + t] < missing:
                    return count
        count += 1
    return count


cdef Py_ssize_t walk_rows(const key_t* keys, Py_ssize_t n_rows, Py_ssize_t F, int field_bits, const double* V,
                          int64_t n_features, bint rows_sorted, index_out_t* indices, double* data,
                          int64_t* indptr, key_t* row, double* run) noexcept nogil:
    """CSR rows from the rows of sort keys (sorted here unless rows_sorted). Returns the number of entries."""
    cdef Py_ssize_t r, t, pos, end, n_segment, p = 0
    cdef uint64_t field_mask = (<uint64_t>1 << field_bits) - 1, missing = (<uint64_t>n_features) << field_bits
    cdef uint64_t col
    cdef double value
    indptr[0] = 0
    for r in range(n_rows):
        memcpy(row, keys + r * F, F * sizeof(key_t))
        if not rows_sorted:
            insertion_sort(row, F)
        pos = 0
        while pos < F and row[pos] < missing:
            col = row[pos] >> field_bits
            end = pos + 1
            while end < F and (row[end] >> field_bits) == col:
                end += 1
            if V == NULL:
                value = <double>(end - pos)  # each token adds one
            else:
                # The flat segment np.add.reduceat summed over the row-major blocks: this run, plus, after a
                # row's last run, the row's missing slots and every slot of the empty rows that follow (zeros,
                # which only shape the pairwise summation).
                n_segment = end - pos
                if end == F or row[end] >= missing:
                    n_segment = F - pos + F * empty_rows_after(keys, r, n_rows, F, missing, rows_sorted)
                for t in range(pos, end):
                    run[t - pos] = V[<Py_ssize_t>(row[t] & field_mask) * n_rows + r]
                value = run[0] + pairwise_sum(run + 1, end - pos - 1, n_segment - 1)
            if value != 0.0:  # signed collisions that cancel leave no entry
                indices[p] = <index_out_t>col
                data[p] = value
                p += 1
            pos = end
        indptr[r + 1] = p
    return p


def assemble_csr(const key_t[:, ::1] keys, int field_bits, bint rows_sorted, const double[:, ::1] V,
                 int64_t n_features, index_out_t[::1] indices, double[::1] data, int64_t[::1] indptr):
    """Walk each row's sort keys (see row_keys): sum repeated columns, drop missing slots and zeros; return nnz.

    Rows are sorted here (an insertion sort, for short rows) unless ``rows_sorted``. V is field-major
    (n_fields, n_rows), None when every slot counts one (then field_bits may be 0). ``indices`` and ``data``
    need room for keys.size entries, ``indptr`` n_rows + 1. Repeated columns are summed in field order, exactly
    as the NumPy assembly (a stable argsort and ``np.add.reduceat`` over row-major blocks) summed them.
    """
    cdef Py_ssize_t n_rows = keys.shape[0], F = keys.shape[1], nnz
    if V is not None and (V.shape[0] != F or V.shape[1] != n_rows or (F - 1) >> field_bits):
        raise ValueError("V must be (n_fields, n_rows) and field_bits must hold every field")
    if data.shape[0] < n_rows * F or indices.shape[0] < n_rows * F or indptr.shape[0] != n_rows + 1:
        raise ValueError("indices and data need keys.size entries and indptr n_rows + 1")
    if index_out_t is int32_t and n_features > (<int64_t>1 << 31):
        raise ValueError(f"int32 indices cannot hold columns up to {n_features}")
    if n_rows == 0 or F == 0:
        indptr[:] = 0
        return 0
    cdef key_t* row = <key_t*>malloc(F * sizeof(key_t))
    cdef double* run = <double*>malloc(F * sizeof(double))
    if row == NULL or run == NULL:
        free(row)
        free(run)
        raise MemoryError()
    cdef const double* v = &V[0, 0] if V is not None else NULL
    with nogil:
        nnz = walk_rows(&keys[0, 0], n_rows, F, field_bits, v, n_features, rows_sorted, &indices[0], &data[0],
                        &indptr[0], row, run)
    free(row)
    free(run)
    return nnz
