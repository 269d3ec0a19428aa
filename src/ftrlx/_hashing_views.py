"""Columns as token tables, for the compiled hasher (``ftrlx._kernels._hashing``).

A :class:`TokenView` is the categorical view of one column of a chunk: a
table of byte tokens laid out like an Arrow binary array (``offsets`` and
``data``) and ``codes``, the token of each row (-1 for a missing cell; None
when row ``r`` is token ``r``), plus the Arrow validity bitmap of the rows
when the column has nulls. An empty token also stands for a missing cell,
which is what an empty string is.

Where the views come from, fastest first:

- Arrow string and binary arrays (plain, large, sliced, chunked) are token
  tables as they are: their values are hashed straight from Arrow's offsets
  and data buffers, nulls become code -1. Dictionary arrays with such a
  dictionary hash the dictionary once.
- Integers (NumPy or Arrow) are factorised, and each distinct integer is
  written in decimal in C.
- Floats are factorised; distinct values holding an integer below 2**63 in
  magnitude are written in decimal in C. The other distinct values (fractions,
  infinities, huge integers) need Python's ``repr``/``int`` formatting, so they
  alone take the Python path of :func:`ftrlx._hashing_tokens._value_token`.
- Anything else (booleans, NumPy fixed-width strings, dates, decimals, mixed
  Python objects) goes through :func:`_value_token` once per distinct value,
  exactly as before the compiled path existed.

Every route gives each row the token :func:`_value_token` gives its cell.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._hashing_tokens import _bin_codes_and_tokens, _factorize_int_values, _mixed_codes_and_tokens, _value_token
from ._kernels import _hashing

_EMPTY_BYTES = np.zeros(0, dtype=np.uint8)
# Floats of at least this magnitude may hold integers int64 cannot: Python formats those.
_INT64_LIMIT = 2.0**63


class TokenView:
    """Row codes into a token table (see the module docstring)."""

    __slots__ = ("codes", "offsets", "data", "validity", "validity_offset")

    def __init__(self, codes, offsets, data, validity=None, validity_offset=0):
        self.codes = None if codes is None else np.ascontiguousarray(codes, dtype=np.int64)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        self.data = data if data is not None else _EMPTY_BYTES
        # An Arrow validity bitmap (bit validity_offset + r clear: row r is null), or None.
        self.validity = validity
        self.validity_offset = validity_offset

    @classmethod
    def from_tokens(cls, codes, tokens):
        """View over byte tokens, None (a missing value) standing for an empty token."""
        offsets, data = pack_tokens([b"" if t is None else t for t in tokens])
        return cls(codes, offsets, data)


def pack_tokens(tokens):
    """A sequence of byte strings as a token table ``(offsets, data)``."""
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)), out=offsets[1:])
    data = np.frombuffer(b"".join(tokens), dtype=np.uint8)
    return offsets, data


def column_view(col):
    """The TokenView of a categorical column (any type the hasher accepts)."""
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return arrow_view(col)
    arr = np.asarray(col)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D column, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind == "b":
        return TokenView.from_tokens(arr.astype(np.int64), [b"False", b"True"])
    if kind in "iu":
        return int_view(arr)
    if kind == "f":
        uniques, codes = np.unique(arr, return_inverse=True)
        return float_view(codes.reshape(-1), uniques)
    if kind in "US":
        uniques, codes = np.unique(arr, return_inverse=True)
        return TokenView.from_tokens(codes.reshape(-1), map(_value_token, uniques.tolist()))
    try:
        return arrow_view(pa.array(arr, from_pandas=True))
    except (pa.ArrowException, TypeError, ValueError):
        pass
    return TokenView.from_tokens(*_mixed_codes_and_tokens(arr))


def bin_view(col, name):
    """The TokenView of a numeric column's log-bin tokens."""
    codes, tokens = _bin_codes_and_tokens(col, name)
    return TokenView.from_tokens(codes, tokens)


# --------------------------------------------------------------------------
# Distinct values -> token tables
# --------------------------------------------------------------------------
def decimal_table(values):
    """Token table of the decimal text of each integer of an integer array."""
    wide = np.uint64 if values.dtype.kind == "u" else np.int64
    return _hashing.decimal_table(np.ascontiguousarray(values, dtype=wide))


def float_view(codes, values):
    """TokenView of codes into distinct float values: integers in decimal (in C), the rest via ``_value_token``."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        integral = np.isfinite(x) & (np.floor(x) == x) & (np.abs(x) < _INT64_LIMIT)
    if integral.all():
        return TokenView(codes, *decimal_table(x.astype(np.int64)))
    # The table holds the integral values first, then the others (formatted in Python); codes follow them.
    offsets, data = decimal_table(x[integral].astype(np.int64))
    rest_offsets, rest_data = pack_tokens([_value_token(v) or b"" for v in x[~integral].tolist()])
    offsets = np.concatenate([offsets, rest_offsets[1:] + offsets[-1]])
    data = np.concatenate([data, rest_data])
    new_entry = np.empty(x.size + 1, dtype=np.int64)
    new_entry[:-1][integral] = np.arange(int(integral.sum()))
    new_entry[:-1][~integral] = np.arange(int(integral.sum()), x.size)
    new_entry[-1] = -1  # code -1 (missing) stays -1
    return TokenView(new_entry[codes], offsets, data)


def int_view(arr):
    """Integer array -> TokenView: factorised, each distinct integer written in decimal in C."""
    codes, values = _factorize_int_values(arr)
    return TokenView(codes, *decimal_table(values))


# --------------------------------------------------------------------------
# Arrow
# --------------------------------------------------------------------------
def _is_binary_like(t):
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t)


def _is_fast_value_type(t):
    return _is_binary_like(t) or pa.types.is_integer(t) or pa.types.is_float32(t) or pa.types.is_float64(t)


def arrow_view(col):
    """TokenView of an Arrow column."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if _is_binary_like(col.type):
        return TokenView(None, *binary_table(col), *_validity(col))
    if pa.types.is_integer(col.type) and not pa.types.is_uint64(col.type):
        # Factorised in NumPy (a presence table for a short range) rather than by Arrow's hash table; the
        # null slots are filled with a value the column holds anyway and masked by the validity bitmap.
        # Widened first: the factorisation subtracts the minimum, which would wrap in a narrow type.
        low = pc.min(col)
        filled = col.fill_null(low if low.is_valid else 0) if col.null_count else col
        view = int_view(filled.to_numpy(zero_copy_only=False).astype(np.int64))
        view.validity, view.validity_offset = _validity(col)
        return view
    if not pa.types.is_dictionary(col.type):
        if not _is_fast_value_type(col.type):
            return _arrow_view_python(col)
        col = pc.dictionary_encode(col)
    if not _is_fast_value_type(col.dictionary.type):
        return _arrow_view_python(col)
    indices = col.indices.fill_null(-1) if col.indices.null_count else col.indices
    codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return dictionary_view(codes, col.dictionary)


def _validity(arr):
    """``(bitmap bytes, bit offset)`` of an Arrow array's nulls, or ``(None, 0)`` when it has none."""
    bitmap = arr.buffers()[0]
    if not arr.null_count or bitmap is None:
        return None, 0
    return np.frombuffer(bitmap, dtype=np.uint8), arr.offset


def binary_table(arr):
    """The token table of an Arrow string/binary array, from its own buffers (no copy of the bytes)."""
    wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    _, offsets_buf, data_buf = arr.buffers()
    n = len(arr)
    if offsets_buf is None or offsets_buf.size == 0:  # an empty array may have no offsets
        return np.zeros(n + 1, dtype=np.int64), None
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32)
    offsets = offsets[arr.offset : arr.offset + n + 1].astype(np.int64)
    data = None
    if data_buf is not None and data_buf.size:
        data = np.frombuffer(data_buf, dtype=np.uint8)
    return offsets, data


def dictionary_view(codes, dictionary):
    """Codes into an Arrow dictionary of strings, binaries, integers or floats."""
    if dictionary.null_count:
        # A dictionary entry that is null is a missing cell, whatever its slot holds.
        null_entry = np.append(dictionary.is_null().to_numpy(zero_copy_only=False), False)
        codes = np.where(null_entry[codes], -1, codes)
        dictionary = dictionary.fill_null(0) if not _is_binary_like(dictionary.type) else dictionary
    t = dictionary.type
    if _is_binary_like(t):
        return TokenView(codes, *binary_table(dictionary))
    values = dictionary.to_numpy(zero_copy_only=False)
    if pa.types.is_integer(t):
        return TokenView(codes, *decimal_table(values))
    return float_view(codes, values)


def _arrow_view_python(col):
    """Types the compiled path does not cover: one ``_value_token`` per dictionary value."""
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    indices = col.indices.fill_null(-1) if col.indices.null_count else col.indices
    codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return TokenView.from_tokens(codes, map(_value_token, col.dictionary.to_pylist()))
