"""What a cell hashes as: the byte-token rules of :class:`ftrlx.hashing.CategoricalHasher`.

These rules are the hashing format: saved models and exported hashing specs
depend on them byte for byte. The compiled fast path
(:mod:`ftrlx._hashing_views`) and the NumPy reference
(:mod:`ftrlx._hashing_reference`) both follow them.
"""

import math
import numbers

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Log-bin code of +-infinity (every finite bin code is far below it).
_INF_CODE = 1 << 40

# Integer columns whose values span at most this many codes are factorised
# with a presence table instead of a sort: O(n) instead of O(n log n).
_DENSE_RANGE_LIMIT = 1 << 24


def _value_token(v):
    """Return the byte token of one categorical cell, or None when missing.

    Strings are UTF-8 encoded, integers (and floats holding an integer, which
    is what an integer column with missing values becomes in pandas) are
    written in decimal, other floats with ``repr``, booleans as True/False.
    """
    if v is None:
        return None
    if isinstance(v, bytes):
        return v or None
    if isinstance(v, str):
        return v.encode("utf-8") if v else None
    if isinstance(v, (bool, np.bool_)):
        return b"True" if v else b"False"
    if isinstance(v, numbers.Integral):
        return str(int(v)).encode()
    if isinstance(v, numbers.Real):
        v = float(v)
        if math.isnan(v):
            return None
        if v.is_integer():
            return str(int(v)).encode()
        return repr(v).encode()
    text = str(v)
    return text.encode("utf-8") if text else None


def _log_bin_token(code):
    """Byte token of a log-bin code produced by :func:`_log_bin_codes`."""
    if code == 0:
        return b"0"
    sign = b"-" if code < 0 else b"+"
    code = abs(code)
    if code == _INF_CODE:
        return sign + b"inf"
    if code <= 3:
        return sign + b"s%d" % (code - 1)
    return sign + b"l%d" % (code - 4)


def _log_bin_codes(x):
    """Integer bin code per value (see CategoricalHasher); NaN gets no code.

    Returns the codes and a mask of the cells that have one.
    """
    valid = ~np.isnan(x)
    a = np.abs(np.where(valid, x, 0.0))
    finite = np.isfinite(a)
    a_fin = np.where(finite, a, 0.0)
    small = a_fin <= 2.0
    with np.errstate(divide="ignore"):
        large_bin = np.floor(np.log(np.where(small, 3.0, a_fin)) ** 2)
    code = np.where(small, 1 + np.floor(a_fin), 4 + large_bin).astype(np.int64)
    code[~finite] = _INF_CODE
    code[a == 0] = 0
    code = np.where(x < 0, -code, code)
    return code, valid


def _factorize_int_values(arr):
    """Integer array -> (per-row codes, distinct values as an integer array).

    ``arr - lo`` is computed in the array's own dtype, so a NumPy int8/int16/int32 column whose values span
    more than that dtype wraps and some values hash as others. That is how such columns have always been
    hashed (saved models depend on it), so it is kept; Arrow columns are widened to int64 before they get here.
    """
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lo, hi = int(arr.min()), int(arr.max())
    if hi - lo < _DENSE_RANGE_LIMIT:
        shifted = (arr - lo).astype(np.int64)
        present = np.zeros(hi - lo + 1, dtype=bool)
        present[shifted] = True
        uniques = np.flatnonzero(present)
        position = np.cumsum(present) - 1
        return position[shifted], uniques + lo
    uniques, codes = np.unique(arr, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), uniques


def _mixed_codes_and_tokens(arr):
    """Mixed Python objects pyarrow cannot type: cells mapped through a dict of their tokens."""
    seen = {}
    codes = np.fromiter((seen.setdefault(_value_token(v), len(seen)) for v in arr), dtype=np.int64, count=arr.size)
    return codes, list(seen)


def _bin_codes_and_tokens(col, name):
    """Log-bin view of a numeric column: per-row codes (-1: NaN) and one token per distinct bin.

    The bins of a chunk are few (tens), so their tokens are built in Python.
    """
    codes, valid = _log_bin_codes(_as_float(col, name))
    uniques, inverse = np.unique(codes[valid], return_inverse=True)
    out = np.full(codes.shape, -1, dtype=np.int64)
    out[valid] = inverse.reshape(-1)
    return out, [_log_bin_token(c) for c in uniques.tolist()]


def _as_float(col, name):
    """Numeric column -> float64 array with NaN for missing cells."""
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return _arrow_as_float(col, name)
    arr = np.asarray(col)
    if arr.dtype.kind in "iubf":
        return arr.astype(np.float64)
    try:
        return pa.array(arr, from_pandas=True).cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowException, TypeError, ValueError):
        pass
    out = np.empty(arr.size, dtype=np.float64)
    for i, v in enumerate(arr.tolist()):
        if v is None or (isinstance(v, str) and v == ""):
            out[i] = np.nan
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise ValueError(
                f"column {name!r} is declared numeric but row {i} holds {v!r}; list it under categorical instead"
            ) from None
    return out


def _arrow_as_float(col, name):
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if not (
        pa.types.is_integer(col.type)
        or pa.types.is_floating(col.type)
        or pa.types.is_boolean(col.type)
        or pa.types.is_null(col.type)
    ):
        try:
            col = pc.cast(pc.if_else(pc.equal(col, ""), None, col), pa.float64())
        except (pa.ArrowException, TypeError) as exc:
            raise ValueError(
                f"column {name!r} is declared numeric but holds a value that is "
                f"not a number ({exc}); list it under categorical instead"
            ) from None
    return col.cast(pa.float64()).to_numpy(zero_copy_only=False)
