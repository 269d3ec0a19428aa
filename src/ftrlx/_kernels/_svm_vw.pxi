# Included by _svm.pyx: the Vowpal Wabbit parser. It reads the module's byte tables (_SPACE, _VW_STOP) and shares
# the block checks and array views of the svmlight parser.
# What a line can be; the reader turns the codes into messages.
cpdef enum VwCode:
    VW_ROW = 0
    VW_BLANK = 1
    VW_NO_LABEL = 2
    VW_TOO_MANY_WORDS = 3
    VW_BAD_LABEL = 4
    VW_NOT_BINARY = 5
    VW_BAD_IMPORTANCE = 6
    VW_BAD_BASE = 7
    VW_BAD_NAMESPACE_WEIGHT = 8
    VW_NO_FEATURE_NAME = 9
    VW_BAD_VALUE = 10
    VW_NO_MEMORY = 11


cdef inline uint32_t vw_pair_hash(uint32_t a, uint32_t b, uint32_t seed) noexcept nogil:
    """The hash of a crossed pair: MurmurHash3 of the two feature hashes as 8 little-endian bytes."""
    cdef char key[8]
    cdef int i
    for i in range(4):
        key[i] = <char>((a >> (8 * i)) & 0xFF)
        key[4 + i] = <char>((b >> (8 * i)) & 0xFF)
    return murmurhash3_32(key, 8, seed)


def _vw_feature_hash(bytes namespace, bytes feature, uint32_t seed):
    """The 32-bit hash of a feature (before the modulo), for the tests."""
    key = namespace + b"\x00" + feature
    return murmurhash3_32(<const char*>key, len(key), seed)


def _vw_pair_hash(uint32_t a, uint32_t b, uint32_t seed):
    """The 32-bit hash of a crossed pair of feature hashes (before the modulo), for the tests."""
    return vw_pair_hash(a, b, seed)


cdef struct Header:
    # The words before the first '|': the first three and the last one, and how many.
    const char* start[3]
    const char* stop[3]
    const char* last_start
    const char* last_stop
    Py_ssize_t n_words


cdef void _header_words(const char* p, const char* bar, Header* h) noexcept nogil:
    cdef const char* t
    h.n_words = 0
    h.last_start = h.last_stop = p
    while True:
        while p < bar and _SPACE[<uint8_t>p[0]]:
            p += 1
        if p == bar:
            return
        t = p
        while p < bar and not _SPACE[<uint8_t>p[0]]:
            p += 1
        if h.n_words < 3:
            h.start[h.n_words] = t
            h.stop[h.n_words] = p
        h.last_start, h.last_stop = t, p
        h.n_words += 1


cdef class VwParser:
    """Parses VW text blocks into hashed CSR rows; the buffers are reused from block to block."""
    cdef uint32_t n_features, seed
    cdef bint binary
    cdef uint8_t pairs[512]
    cdef Py_ssize_t n_pairs
    # output, per row and per entry
    cdef Vec labels, weights, lines, indptr, indices, data, errors
    cdef Py_ssize_t n_rows, nnz, n_errors
    cdef int64_t n_lines
    # one row: its features (hash, value, namespace letter), its entries and their sorting space, the hash key
    cdef Vec f_hash, f_value, f_group, e_col, e_value, t_col, t_value, key

    def __init__(self, uint32_t n_features, uint32_t seed, bint binary, bytes pairs):
        if n_features < 1 or len(pairs) % 2 or len(pairs) > 512:
            raise ValueError("VwParser: n_features >= 1 and at most 256 pairs of namespace letters")
        self.n_features, self.seed, self.binary = n_features, seed, binary
        self.n_pairs = len(pairs) // 2
        memcpy(self.pairs, <const char*>pairs, len(pairs))

    def __dealloc__(self):
        free(self.labels.p); free(self.weights.p); free(self.lines.p); free(self.indptr.p)
        free(self.indices.p); free(self.data.p); free(self.errors.p)
        free(self.f_hash.p); free(self.f_value.p); free(self.f_group.p)
        free(self.e_col.p); free(self.e_value.p); free(self.t_col.p); free(self.t_value.p); free(self.key.p)

    cdef int _label(self, Header* h, const char** bad_start, const char** bad_stop) noexcept nogil:
        """Label, importance and base from the header words (a tag, if any, already dropped); on a fault
        ``bad_start..bad_stop`` is the word to name."""
        cdef double label, weight = 1.0, base
        bad_start[0], bad_stop[0] = h.last_start, h.last_stop
        if h.n_words == 0:
            return VW_NO_LABEL
        if h.n_words > 3:
            return VW_TOO_MANY_WORDS
        bad_start[0], bad_stop[0] = h.start[0], h.stop[0]
        if not parse_number(h.start[0], h.stop[0], &label):
            return VW_BAD_LABEL
        if self.binary and not (label == -1.0 or label == 0.0 or label == 1.0):
            return VW_NOT_BINARY
        if h.n_words >= 2:
            bad_start[0], bad_stop[0] = h.start[1], h.stop[1]
            if not parse_number(h.start[1], h.stop[1], &weight) or not (weight >= 0.0 and isfinite(weight)):
                return VW_BAD_IMPORTANCE
        if h.n_words == 3:
            bad_start[0], bad_stop[0] = h.start[2], h.stop[2]
            if not parse_number(h.start[2], h.stop[2], &base):
                return VW_BAD_BASE
        if reserve(&self.labels, self.n_rows + 1, 8) < 0 or reserve(&self.weights, self.n_rows + 1, 8) < 0:
            return VW_NO_MEMORY
        (<double*>self.labels.p)[self.n_rows] = ((1.0 if label > 0 else 0.0) if self.binary else label)
        (<double*>self.weights.p)[self.n_rows] = weight
        return VW_ROW

    cdef int _features(self, const char* p, const char* end, Py_ssize_t* n_out, const char** bad_start,
                       const char** bad_stop) noexcept nogil:
        """Hash the features of the sections from ``p`` (a '|') to the end of the line."""
        cdef const char* t
        cdef const char* colon
        cdef const char* name_end
        cdef Py_ssize_t n = 0, prefix
        cdef double ns_weight, value
        cdef uint8_t group
        cdef char* key = <char*>self.key.p
        while p < end:   # p is at a '|'
            p += 1
            ns_weight, group, prefix = 1.0, 32, 0
            if p < end and not _VW_STOP[<uint8_t>p[0]]:
                t = p
                while p < end and not _VW_STOP[<uint8_t>p[0]]:
                    p += 1
                colon = <const char*>memchr(t, 58, p - t)
                name_end = colon if colon != NULL else p
                if colon != NULL and not parse_number(colon + 1, p, &ns_weight):
                    bad_start[0], bad_stop[0] = t, p
                    return VW_BAD_NAMESPACE_WEIGHT
                if name_end > t:
                    group = <uint8_t>t[0]
                prefix = name_end - t
                memcpy(key, t, prefix)
            key[prefix] = 0
            prefix += 1
            while True:
                while p < end and _SPACE[<uint8_t>p[0]]:
                    p += 1
                if p == end or p[0] == c'|':
                    break
                t = p
                while p < end and not _VW_STOP[<uint8_t>p[0]]:
                    p += 1
                colon = <const char*>memchr(t, 58, p - t)
                name_end = colon if colon != NULL else p
                bad_start[0], bad_stop[0] = t, p
                if name_end == t:
                    return VW_NO_FEATURE_NAME
                value = 1.0
                if colon != NULL and not parse_number(colon + 1, p, &value):
                    return VW_BAD_VALUE
                if (reserve(&self.f_hash, n + 1, 4) < 0 or reserve(&self.f_value, n + 1, 8) < 0
                        or reserve(&self.f_group, n + 1, 1) < 0):
                    return VW_NO_MEMORY
                memcpy(key + prefix, t, name_end - t)
                (<uint32_t*>self.f_hash.p)[n] = murmurhash3_32(key, prefix + (name_end - t), self.seed)
                (<double*>self.f_value.p)[n] = value * ns_weight
                (<uint8_t*>self.f_group.p)[n] = group
                n += 1
        n_out[0] = n
        return VW_ROW

    cdef Py_ssize_t _n_crossed(self, Py_ssize_t n) noexcept nogil:
        cdef Py_ssize_t counts[256]
        cdef Py_ssize_t i, total = 0
        cdef uint8_t a, b
        cdef const uint8_t* group = <const uint8_t*>self.f_group.p
        for i in range(256):
            counts[i] = 0
        for i in range(n):
            counts[group[i]] += 1
        for i in range(self.n_pairs):
            a, b = self.pairs[2 * i], self.pairs[2 * i + 1]
            total += counts[a] * (counts[a] - 1) // 2 if a == b else counts[a] * counts[b]
        return total

    cdef int _entries(self, Py_ssize_t n) noexcept nogil:
        """Columns and values of the row's n features and their crossings, sorted and summed, appended."""
        cdef Py_ssize_t total = n + self._n_crossed(n), i, j, k = 0, pair, m
        cdef uint8_t a, b
        if (reserve(&self.e_col, total, 8) < 0 or reserve(&self.e_value, total, 8) < 0
                or reserve(&self.t_col, total, 8) < 0 or reserve(&self.t_value, total, 8) < 0):
            return VW_NO_MEMORY
        cdef const uint32_t* h = <const uint32_t*>self.f_hash.p
        cdef const double* v = <const double*>self.f_value.p
        cdef const uint8_t* group = <const uint8_t*>self.f_group.p
        cdef int64_t* col = <int64_t*>self.e_col.p
        cdef double* val = <double*>self.e_value.p
        for i in range(n):
            col[k] = h[i] % self.n_features
            val[k] = v[i]
            k += 1
        for pair in range(self.n_pairs):
            a, b = self.pairs[2 * pair], self.pairs[2 * pair + 1]
            for i in range(n):
                if group[i] != a:
                    continue
                for j in range(i + 1 if a == b else 0, n):
                    if group[j] == b:
                        col[k] = vw_pair_hash(h[i], h[j], self.seed) % self.n_features
                        val[k] = v[i] * v[j]
                        k += 1
        m = sort_and_sum(col, val, total, <int64_t*>self.t_col.p, <double*>self.t_value.p, True)
        if reserve(&self.indices, self.nnz + m, 4) < 0 or reserve(&self.data, self.nnz + m, 8) < 0:
            return VW_NO_MEMORY
        for i in range(m):
            (<int32_t*>self.indices.p)[self.nnz + i] = <int32_t>col[i]
            (<double*>self.data.p)[self.nnz + i] = val[i]
        self.nnz += m
        return VW_ROW

    cdef int _line(self, const char* s, const char* end, const char** bad_start,
                   const char** bad_stop) noexcept nogil:
        cdef const char* p = s
        cdef const char* bar
        cdef Header h
        cdef Py_ssize_t n = 0
        cdef int code
        while p < end and _SPACE[<uint8_t>p[0]]:
            p += 1
        if p == end:
            return VW_BLANK
        bar = <const char*>memchr(s, 124, end - s)
        if bar == NULL:
            bar = end
        _header_words(s, bar, &h)
        # A tag is the last word when it touches the '|' or starts with a quote.
        if h.n_words and ((bar < end and h.last_stop == bar) or h.last_start[0] == c"'"):
            h.n_words -= 1
        code = self._label(&h, bad_start, bad_stop)
        if code != VW_ROW:
            return code
        if reserve(&self.key, end - s + 2, 1) < 0:
            return VW_NO_MEMORY
        code = self._features(bar, end, &n, bad_start, bad_stop)
        if code != VW_ROW:
            return code
        return self._entries(n)

    cdef int _parse(self, const char* buf, Py_ssize_t n, int64_t first_line, bint stop_at_bad) noexcept nogil:
        cdef Py_ssize_t pos = 0, nnz_before
        cdef int64_t line = first_line
        cdef const char* end
        cdef const char* bad_start
        cdef const char* bad_stop
        cdef int64_t* e
        cdef int code
        self.n_rows = self.nnz = self.n_errors = 0
        if reserve(&self.indptr, 1, 8) < 0:
            return -1
        (<int64_t*>self.indptr.p)[0] = 0
        while pos < n:
            end = <const char*>memchr(buf + pos, 10, n - pos)
            if end == NULL:
                end = buf + n
            nnz_before = self.nnz
            code = self._line(buf + pos, end, &bad_start, &bad_stop)
            if code == VW_NO_MEMORY:
                return -1
            if code == VW_ROW:
                if reserve(&self.lines, self.n_rows + 1, 8) < 0 or reserve(&self.indptr, self.n_rows + 2, 8) < 0:
                    return -1
                (<int64_t*>self.lines.p)[self.n_rows] = line
                self.n_rows += 1
                (<int64_t*>self.indptr.p)[self.n_rows] = self.nnz
            elif code != VW_BLANK:
                self.nnz = nnz_before
                if reserve(&self.errors, 4 * self.n_errors + 4, 8) < 0:
                    return -1
                e = <int64_t*>self.errors.p + 4 * self.n_errors
                e[0], e[1], e[2], e[3] = line, code, bad_start - buf, bad_stop - buf
                self.n_errors += 1
                if stop_at_bad:
                    pos = end - buf + 1
                    line += 1 + _count_lines(buf + pos, n - pos)
                    break
            pos = end - buf + 1
            line += 1
        self.n_lines = line - first_line
        return 0

    def parse(self, const unsigned char[::1] block, Py_ssize_t n, int64_t first_line, bint stop_at_bad,
              empty=None, bint copy=True):
        """Parse ``block[:n]`` (whole lines, the first numbered ``first_line``).

        Returns ``(data, indices, indptr, labels, weights, lines), errors``: arrays of the good rows (float64
        values, int32 columns, int64 row pointers), fresh or from ``empty(size, dtype)`` (which gives arrays of
        that size or larger, as ``ftrlx.datasets._base.Recycler.empty``), and one row ``(line, code, start, end)``
        of the int64 array ``errors`` per bad line, ``block[start:end]`` being the word at fault. With
        ``stop_at_bad`` parsing stops at the first bad line. The third result is the number of lines in the block.
        With ``copy`` False the rows' arrays are views of the parser's own buffers, valid until its next parse.
        """
        _check_block(block, n)
        cdef const char* buf = <const char*>&block[0] if n > 0 else NULL
        cdef int status
        with nogil:
            status = self._parse(buf, n, first_line, stop_at_bad)
        if status < 0:
            raise MemoryError("out of memory parsing a VW block")
        rows = self.n_rows
        indices = (np.asarray(<int32_t[:self.nnz]><int32_t*>self.indices.p) if self.nnz
                   else np.empty(0, dtype=np.int32))
        views = (_view_f64(<double*>self.data.p, self.nnz), indices, _view_i64(<int64_t*>self.indptr.p, rows + 1),
                 _view_f64(<double*>self.labels.p, rows), _view_f64(<double*>self.weights.p, rows),
                 _view_i64(<int64_t*>self.lines.p, rows))
        out = tuple(_copy_out(v, empty) for v in views) if copy else views
        return out, _view_i64(<int64_t*>self.errors.p, 4 * self.n_errors).copy().reshape(-1, 4), self.n_lines


def _copy_out(view, empty):
    # a copy of ``view`` (which the parser's next block overwrites), in an array from ``empty`` when given
    if empty is None:
        return view.copy()
    out = empty(view.size, view.dtype)[:view.size]
    out[...] = view
    return out
