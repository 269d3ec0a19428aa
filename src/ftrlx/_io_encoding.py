"""Values of an ftrlx model file's header: their JSON encoding and the stored rows of a state (see
:mod:`ftrlx.io`).

Part of :mod:`ftrlx.io`.  The scan sizes ``_SCAN_ROWS`` and ``_SCAN_GROUP`` are read from :mod:`ftrlx.io` at each
scan, so that setting them there takes effect."""

import math

import numpy as np

from ._io_container import FormatError, _is_count, _public

# value encoding


class _Encoder:
    def __init__(self):
        self.arrays = []

    def _add(self, arr):
        self.arrays.append(arr)
        return len(self.arrays) - 1

    def encode(self, value, where):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
        if isinstance(value, np.ndarray):
            self._check_dtype(value.dtype, where)
            return {"$array": self._add(np.ascontiguousarray(value))}
        if isinstance(value, np.generic):
            self._check_dtype(value.dtype, where)
            return {"$scalar": self._add(np.asarray(value))}
        if isinstance(value, _Rows):
            refs = {name: self._add(getattr(value, name)) for name in _Rows.ARRAYS}
            return {"$rows": dict(shape=list(value.shape), **refs)}
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {
                "$dict": [[self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")] for k, v in value.items()]
            }
        raise TypeError(
            f"cannot store {where} of type {type(value).__name__}: the ftrlx format holds "
            "numbers, strings, NumPy arrays and lists/tuples/dicts of them; "
            "use pickle or joblib for other objects"
        )

    @staticmethod
    def _check_dtype(dtype, where):
        if dtype.hasobject:
            raise TypeError(
                f"cannot store {where}: arrays of dtype object need pickle; "
                "convert it to a numeric or fixed-width string dtype first"
            )
        if dtype.kind not in "biufcmMSUV":  # e.g. StringDType: its buffer holds pointers, not the strings
            raise TypeError(
                f"cannot store {where}: arrays of dtype {dtype} have no plain .npy form; "
                "convert it to a numeric or fixed-width string dtype first"
            )


def _decode(value, arrays, rows=None):
    """Rebuild a value from its JSON form; a FormatError for anything the encoder never writes.

    ``rows`` is None where no ``$rows`` value may appear (format version 1, and every entry but the state); else
    a list that collects each one decoded, so that the caller can check where it was."""
    if isinstance(value, list):
        return [_decode(v, arrays, rows) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise FormatError(f"unknown tagged value {sorted(value)!r} in header")
    ((tag, inner),) = value.items()
    if tag in ("$array", "$scalar"):
        arr = _array_ref(inner, arrays)
        if tag == "$array" or not isinstance(arr, np.ndarray):  # (read_header passes descriptions)
            return arr
        if arr.ndim != 0:
            raise FormatError(f"a $scalar refers to array {inner}, of shape {arr.shape}, not to a 0-d array")
        return arr[()]
    if tag == "$tuple" and isinstance(inner, list):
        return tuple(_decode(v, arrays, rows) for v in inner)
    if tag == "$dict" and isinstance(inner, list):
        return _decode_dict(inner, arrays, rows)
    if tag == "$float" and inner in ("nan", "inf", "-inf"):
        return float(inner)
    if tag == "$rows":
        return _decode_rows(inner, arrays, rows)
    raise FormatError(f"malformed tagged value {{{tag!r}: ...}} in header")


def _array_ref(index, arrays):
    # bool is an int to Python, but never an index the encoder writes
    if type(index) is not int or not 0 <= index < len(arrays):
        raise FormatError(f"reference to array {index!r}, but the file has {len(arrays)} arrays")
    return arrays[index]


def _decode_dict(items, arrays, rows=None):
    out = {}
    for item in items:
        if not (isinstance(item, list) and len(item) == 2):
            raise FormatError("a $dict entry is not a [key, value] pair")
        key = _decode(item[0], arrays, rows)
        try:
            out[key] = _decode(item[1], arrays, rows)
        except TypeError:  # an unhashable key (a list or an array)
            raise FormatError(f"a $dict key of type {type(key).__name__} cannot be a key") from None
    return out


def _decode_rows(inner, arrays, rows):
    """A ``{"$rows": ...}`` value as a :class:`_Rows` (its arrays are checked against the model later)."""
    if rows is None:
        raise FormatError(
            "a $rows value (the stored rows of state_, new in format version 2) appears where the format has none"
        )
    keys = ["indices", "indptr", "shape", "values"]
    if not (isinstance(inner, dict) and sorted(inner) == keys):
        raise FormatError(f"a $rows value must have exactly the entries {', '.join(keys)}")
    shape = inner["shape"]
    if not (isinstance(shape, list) and len(shape) == 3 and all(_is_count(n) for n in shape)):
        raise FormatError(f"the shape of a $rows value must be 3 non-negative integers, found {shape!r}")
    value = _Rows(tuple(shape), *(_array_ref(inner[name], arrays) for name in _Rows.ARRAYS))
    rows.append(value)
    return value


# The estimators' state starts as np.zeros and the kernels write only the coordinates of the rows they train on,
# so a coordinate that no row touched stays all-zero in every slot: a file that stores only the other rows has the
# size of the model, not of its hashed space.
_SCAN_ROWS = 1 << 18  # rows of one output looked at per step: bounds the scan's temporaries to a few MB
_SCAN_GROUP = 32  # rows per group of the scan's first, coarse pass


def _touched_rows(state2d, limit=None):
    """Sorted indices of the rows of a 2-d float64 array that have a bit set (-0.0 counts: bitwise round trips);
    None as soon as there are more than ``limit``.

    One pass over memory, in steps of ``_SCAN_ROWS`` rows (see :func:`_touched_in_step`)."""
    n, slots = state2d.shape
    found, count, step = [], 0, _public("_SCAN_ROWS")
    for lo in range(0, n if slots else 0, step):
        rows = _touched_in_step(np.ascontiguousarray(state2d[lo : lo + step]), slots)
        found.append(lo + rows)
        count += rows.size
        if limit is not None and count > limit:
            return None
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _touched_in_step(block, slots):
    """The rows of a C-contiguous block that have a bit set: the largest 64-bit word of each group of
    ``_SCAN_GROUP`` rows (zero only if the whole group is) picks the groups to look at row by row."""
    words, group = block.reshape(-1).view(np.uint64), _public("_SCAN_GROUP")
    full = block.shape[0] // group * group
    grouped = words[: full * slots]
    groups = np.flatnonzero(grouped.reshape(-1, group * slots).max(axis=1, initial=0))
    picked = grouped.reshape(-1, group, slots)[groups]
    any_bit = picked[:, :, 0].copy()
    for j in range(1, slots):  # slot by slot: a reduction over 2 or 3 values per row is slow in NumPy
        any_bit |= picked[:, :, j]
    flat = np.flatnonzero(any_bit)
    rows = groups[flat // group] * group + flat % group
    if full == block.shape[0]:
        return rows
    rest = full + np.flatnonzero(words[full * slots :].reshape(-1, slots).max(axis=1))
    return np.concatenate([rows, rest])


class _Rows:
    """A float64 array of shape (n_outputs, n_rows, n_slots) held as the rows that are not all zero.

    ``indices[indptr[k]:indptr[k + 1]]`` are the stored rows of output k, strictly increasing, and
    ``values[indptr[k]:indptr[k + 1]]`` their slots; every other row is zero.  Indices are int32 where the rows
    fit (smaller files), else int64."""

    ARRAYS = ("indptr", "indices", "values")

    def __init__(self, shape, indptr, indices, values):
        self.shape, self.indptr, self.indices, self.values = shape, indptr, indices, values

    @classmethod
    def from_dense(cls, dense):
        """The stored rows of a float64 array of 3 dimensions, or None if they would take more bytes than the
        dense array (a model that has touched most coordinates is stored dense, as in format version 1)."""
        n_outputs, n_rows, n_slots = dense.shape
        index_dtype = np.int32 if n_rows <= np.iinfo(np.int32).max else np.int64
        limit = dense.size * 8 // (np.dtype(index_dtype).itemsize + 8 * n_slots)  # (known before any copy)
        indices = []
        for k in range(n_outputs):
            rows = _touched_rows(dense[k], limit - sum(r.size for r in indices))
            if rows is None:
                return None
            indices.append(rows)
        values = [dense[k][rows] for k, rows in enumerate(indices)]
        indptr = np.zeros(n_outputs + 1, dtype=np.int64)
        np.cumsum([rows.size for rows in indices], out=indptr[1:])
        return cls(
            dense.shape,
            indptr,
            np.concatenate(indices).astype(index_dtype),
            np.concatenate(values).reshape(-1, n_slots),
        )

    def output_of(self, j):
        """The output whose stored rows include the j-th."""
        return int(np.searchsorted(self.indptr, j, side="right")) - 1

    def to_dense(self):
        """np.zeros of the shape, then each output's rows scattered in: bitwise the array they were taken from."""
        dense = np.zeros(self.shape, dtype=np.float64)
        for k in range(self.shape[0]):
            lo, hi = self.indptr[k], self.indptr[k + 1]
            dense[k, self.indices[lo:hi]] = self.values[lo:hi]
        return dense


# --------------------------------------------------------------------------
# container
