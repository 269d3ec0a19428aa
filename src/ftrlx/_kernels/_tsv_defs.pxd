# The constants and per-configuration structs of the compiled Criteo/Avazu parser (ftrlx._kernels._tsv): statuses,
# source and slot kinds, the split's flags, the key layout and the log-bin bounds, and what the parser keeps per
# source and per slot.
from libc.stdint cimport int64_t, uint8_t, uint32_t

from ftrlx._kernels._murmur_stream cimport MState

cdef enum:
    FS_SLACK = 8  # room for field starts written past the last field

# Statuses of parse and of the per-cell parsers.
cdef enum:
    ST_OK = 0
    ST_BAD = 1
    ST_UNSUPPORTED = 2


# Source kinds: where a field's value comes from.
cdef enum:
    SRC_RAW = 0        # the cell's bytes (a categorical value)
    SRC_INT = 1        # a cell read like Python's int()
    SRC_FLOAT = 2      # a cell read like Python's float()
    SRC_HOUR_OF_DAY = 3  # Avazu: hour of day of the YYMMDDHH hour cell
    SRC_WEEKDAY = 4    # Avazu: weekday (Monday = 0) of the hour cell


# Slot kinds, one per field that CategoricalHasher.transform emits.
cdef enum:
    SLOT_CAT = 0    # b"<name>\x00<value>"
    SLOT_VALUE = 1  # the number itself in the column of b"<name>"
    SLOT_BIN = 2    # b"<name>\x00<log-bin token>"
    SLOT_PAIR = 3   # b"<a>\x00<va>\x00<b>\x00<vb>"


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
