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
# The pieces, by job: _tsv_defs.pxd (the shared constants and structs), _tsv_simd.pxd (the field split, in C),
# _ranks.pxd (the narrow row sort), _tsv_numbers.pxd and _tsv_cells.pxd (reading the cells), _murmur_stream.pxd
# (hashing a key in pieces), _tsv_logbin.pxd with _tsv_bin_tables.pxi (log-bin codes, their tables), _tsv_emit.pxd
# (hashing the fields of a row) and _tsv_csr.pxd with _tsv_csr.pxi (assembling a chunk). The .pxi files are
# included here: they hold Python-level entry points and module state.
import numpy as np

cimport cython
from libc.math cimport floor, fabs
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memchr

from ftrlx._kernels._murmur cimport murmurhash3_32, murmurhash3_32_pair
from ftrlx._kernels._murmur_stream cimport MState, mstate_finish, mstate_init, mstate_update
from ftrlx._kernels._tsv_cells cimport has_high, parse_hour, parse_label, valid_utf8
from ftrlx._kernels._tsv_csr cimport assemble_rows, pairwise_sum
from ftrlx._kernels._tsv_defs cimport (CL_CR, CL_HIGH, CL_QUOTE, CMAX, FS_SLACK, SLOT_BIN, SLOT_BITS, SLOT_CAT,
                                       SLOT_PAIR, SLOT_VALUE, SRC_FLOAT, SRC_HOUR_OF_DAY, SRC_INT, SRC_RAW,
                                       SRC_WEEKDAY, ST_BAD, ST_OK, ST_UNSUPPORTED, KMAX, SMALL_INTS, Slot,
                                       Source)
from ftrlx._kernels._tsv_emit cimport ColumnMap, RowSort, column_of, emit_row, sign_of
from ftrlx._kernels._tsv_logbin cimport bin_code, bin_token, write_int, write_uint
from ftrlx._kernels._tsv_numbers cimport parse_float, parse_int
from ftrlx._kernels._tsv_simd cimport ftrlx_split

OK = ST_OK
BAD = ST_BAD
UNSUPPORTED = ST_UNSUPPORTED

SOURCE_KINDS = {"raw": SRC_RAW, "int": SRC_INT, "float": SRC_FLOAT, "hour_of_day": SRC_HOUR_OF_DAY,
                "weekday": SRC_WEEKDAY}

SLOT_KINDS = {"cat": SLOT_CAT, "value": SLOT_VALUE, "bin": SLOT_BIN, "pair": SLOT_PAIR}


# ---------------------------------------------------------------------------------------------------------------
# test entries of the hashing and of the cells
# ---------------------------------------------------------------------------------------------------------------
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


def is_valid_utf8(bytes data):
    """(for the tests)"""
    return valid_utf8(data, len(data))


def parse_avazu_hour(bytes cell):
    """``(status, hour, weekday)`` of an hour cell (for the tests)."""
    cdef int h = -1, w = -1
    cdef int st = parse_hour(cell, len(cell), &h, &w)
    return st, h, w


include "_tsv_bin_tables.pxi"


# ---------------------------------------------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------------------------------------------
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
        the pieces are then final rows, for ``append_rows``. Only for values +-1 (no value slots).
    """
    cdef int n_names, sep, quote, label_col, hour_col, flags
    cdef const uint8_t* block_end  # the end of the block being parsed (bounds wide reads)
    cdef int n_sources, n_slots
    cdef Source* sources
    cdef Slot* slots
    cdef Py_ssize_t* fs
    cdef RowSort rows   # the sort space of one row
    cdef ColumnMap cmap
    cdef int* active
    cdef int n_active
    cdef bint need_vals, merge
    cdef uint32_t seed
    cdef object _keep
    cdef object _thresholds_arr, _small_arr
    cdef const double* thresholds
    cdef const int16_t* small

    def __cinit__(self):
        self.sources = NULL
        self.slots = NULL
        self.fs = NULL
        self.rows.keys = NULL
        self.rows.sorted_keys = NULL
        self.rows.keys32 = NULL
        self.rows.place32 = NULL
        self.active = NULL
        self.rows.vrow = NULL

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
        self.cmap.n_features = n_features
        self.cmap.pow2 = (n_features & (n_features - 1)) == 0
        self.cmap.mask = <uint32_t>(n_features - 1)
        self.seed = seed
        self.cmap.signed = signed
        if merge and any(slot[0] == SLOT_VALUE for slot in slots):
            raise ValueError("merged rows need values +-1: numbers as values are summed as NumPy does")
        self.merge = merge
        self.need_vals = need_vals or merge
        self.n_sources = len(sources)
        self.n_slots = len(slots)
        self.sources = <Source*>calloc(max(self.n_sources, 1), sizeof(Source))
        self.slots = <Slot*>calloc(max(self.n_slots, 1), sizeof(Slot))
        self.fs = <Py_ssize_t*>malloc((n_names + 2 + FS_SLACK) * sizeof(Py_ssize_t))
        self.rows.keys = <uint64_t*>malloc((self.n_slots + 1) * sizeof(uint64_t))
        self.rows.sorted_keys = <uint64_t*>malloc((self.n_slots + 1) * sizeof(uint64_t))
        self.rows.keys32 = <int32_t*>malloc((self.n_slots + 8) * sizeof(int32_t))
        self.rows.place32 = <int32_t*>malloc((self.n_slots + 8) * sizeof(int32_t))
        self.active = <int*>malloc((self.n_sources + 1) * sizeof(int))
        # Rows sort faster on 31-bit keys (column << slot_bits | slot), where the output is narrow enough.
        self.rows.slot_bits = max(1, (self.n_slots - 1).bit_length())
        self.rows.narrow = (n_features << self.rows.slot_bits) <= (1 << 31)
        self.rows.vrow = <double*>malloc((self.n_slots + 1) * sizeof(double))
        # keys are below n_features << SLOT_BITS; their top 6 bits pick one of 64 buckets
        self.rows.bucket_shift = max(0, ((n_features - 1) << SLOT_BITS | ((1 << SLOT_BITS) - 1)).bit_length() - 6)
        if not (self.sources and self.slots and self.fs and self.rows.keys and self.rows.sorted_keys
                and self.rows.vrow and self.rows.keys32 and self.rows.place32 and self.active):
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
            s.vcol = column_of(&self.cmap, h)
            s.vsign = sign_of(&self.cmap, h)
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
                s.bcols[code + CMAX] = column_of(&self.cmap, h)
                s.bsigns[code + CMAX] = sign_of(&self.cmap, h)
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
        free(self.rows.keys)
        free(self.rows.sorted_keys)
        free(self.rows.keys32)
        free(self.rows.place32)
        free(self.active)
        free(self.rows.vrow)

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
        # included, so this bounds the rows (untouched capacity costs address space only). The bound is taken
        # from the whole buffer, not the part parsed: the reused buffers of a file have one size, so buffers
        # handed back as ``spare`` fit every later block (a bound a few bytes short would allocate anew).
        cdef Py_ssize_t cap_rows = block.shape[0] // self.n_names + 1
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
        return emit_row(self.slots, self.n_slots, self.sources, self.fs, &self.cmap, &self.rows, self.merge, buf,
                        cols, vals, count)

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


include "_tsv_csr.pxi"
