"""The NumPy implementation of CategoricalHasher.transform, kept as the reference of the compiled one.

``transform_reference(hasher, X)`` is what ``CategoricalHasher.transform`` computed before the hashing and the
CSR assembly moved to ``ftrlx._kernels._hashing``: columns factorised into Python byte tokens, a MurmurHash3
written in NumPy array operations, rows sorted with ``np.sort``/``np.argsort`` and summed with
``np.add.reduceat``. The tests require the compiled path to agree with it bit for bit.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from ._hashing_tables import _columns_of
from ._hashing_tokens import (
    _as_float,
    _bin_codes_and_tokens,
    _factorize_int_values,
    _mixed_codes_and_tokens,
    _value_token,
)

_C1 = np.uint32(0xCC9E2D51)
_C2 = np.uint32(0x1B873593)


def _rotl(x, r):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _mix_key(k):
    k = k * _C1
    k = _rotl(k, 15)
    return k * _C2


def murmurhash3_32_many_numpy(tokens, seed=0):
    """MurmurHash3 (x86, 32 bit) of many byte strings with NumPy array operations."""
    n = len(tokens)
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=n)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    # Pad every token with zeros to a whole number of 4-byte words plus one,
    # so the tail word of each token can be read like any other word.
    n_words = int(lengths.max()) // 4 + 1
    padded = np.zeros((n, n_words * 4), dtype=np.uint8)
    flat = np.frombuffer(b"".join(tokens), dtype=np.uint8)
    starts = np.cumsum(lengths) - lengths
    rows = np.repeat(np.arange(n), lengths)
    cols = np.arange(flat.size) - np.repeat(starts, lengths)
    padded[rows, cols] = flat
    words = padded.view("<u4").astype(np.uint32, copy=False)

    n_blocks = lengths // 4
    h = np.full(n, seed & 0xFFFFFFFF, dtype=np.uint32)
    for j in range(int(n_blocks.max())):
        active = n_blocks > j
        hk = h ^ _mix_key(words[:, j])
        hk = _rotl(hk, 13) * np.uint32(5) + np.uint32(0xE6546B64)
        h = np.where(active, hk, h)
    has_tail = (lengths & 3) != 0
    tail = words[np.arange(n), n_blocks]
    h = np.where(has_tail, h ^ _mix_key(tail), h)
    h ^= lengths.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


# --------------------------------------------------------------------------
# Columns -> (codes, tokens)
# --------------------------------------------------------------------------
def _factorize(col):
    """Split a column into per-row codes and the tokens of its distinct values.

    Returns ``(codes, tokens)``: ``codes`` is int64 with -1 for missing cells
    and ``tokens[codes[i]]`` is the byte token of row i.
    """
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return _factorize_arrow(col)
    arr = np.asarray(col)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D column, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind in "iub":
        return _factorize_int(arr)
    if kind in "fUS":
        uniques, codes = np.unique(arr, return_inverse=True)
        return _codes_and_tokens(codes.reshape(-1), uniques.tolist())
    try:
        return _factorize_arrow(pa.array(arr, from_pandas=True))
    except (pa.ArrowException, TypeError, ValueError):
        pass
    return _codes_and_tokens(*_mixed_codes_and_tokens(arr))


def _codes_and_tokens(codes, values):
    """Codes into ``values`` -> codes into the non-missing tokens only."""
    tokens = [_value_token(v) for v in values]
    keep = np.array([t is not None for t in tokens], dtype=bool)
    remap = np.full(len(tokens) + 1, -1, dtype=np.int64)
    remap[:-1][keep] = np.arange(int(keep.sum()))
    codes = np.asarray(codes, dtype=np.int64)
    return remap[codes], [t for t in tokens if t is not None]


def _factorize_int(arr):
    if arr.dtype.kind == "b":
        return _codes_and_tokens(arr.astype(np.int64), [False, True])
    codes, values = _factorize_int_values(arr)
    return codes, [str(v).encode() for v in values.tolist()]


def _factorize_arrow(col):
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    indices = col.indices.fill_null(-1) if col.indices.null_count else col.indices
    codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
    values = col.dictionary.to_pylist()
    return _codes_and_tokens(np.where(codes < 0, len(values), codes), values)


# --------------------------------------------------------------------------
# The transform
# --------------------------------------------------------------------------
def transform_reference(hasher, X):
    """``hasher.transform(X)`` computed the NumPy way (the reference of the compiled path)."""
    names, n_rows, get = _columns_of(X)
    categorical, numeric, pairs, dtype = hasher._plan(names)
    n_features = int(hasher.n_features)
    seed = int(hasher.seed)
    mode = hasher.numeric_mode
    index_dtype = np.int32 if n_features < 2**31 else np.int64
    cols, vals = [], []

    def emit(tokens, codes):
        index, sign = _hash(tokens, seed, n_features, hasher.signed)
        # One slot past the tokens stands for "missing": column n_features,
        # which sorts after every real column and is dropped at the end.
        index = np.append(index, n_features).astype(index_dtype)
        cols.append(index[codes])
        vals.append(np.append(sign, 0.0)[codes] if hasher.signed else None)

    token_cache = {}

    def tokens_of(name):
        # Categorical view of a column: its values, or its log-bin tokens.
        if name not in token_cache:
            if name in numeric and mode != "value":
                token_cache[name] = _bin_codes_and_tokens(get(name), name)
            else:
                token_cache[name] = _factorize(get(name))
        return token_cache[name]

    for name in categorical:
        codes, values = tokens_of(name)
        prefix = name.encode("utf-8") + b"\x00"
        emit([prefix + v for v in values], codes)
    for name in numeric:
        if mode in ("value", "both"):
            x = _as_float(get(name), name)
            _check_finite(x, name)
            index, sign = _hash([name.encode("utf-8")], seed, n_features, hasher.signed)
            present = ~np.isnan(x)
            present &= x != 0
            cols.append(np.where(present, index[0], n_features).astype(index_dtype))
            vals.append(np.where(present, x * sign[0], 0.0))
        if mode in ("log_bin", "both"):
            codes, values = tokens_of(name)
            prefix = name.encode("utf-8") + b"\x00"
            emit([prefix + v for v in values], codes)
    for a, b in pairs:
        emit(*_pair_tokens(a, b, tokens_of(a), tokens_of(b), n_rows))
    return _assemble(cols, vals, n_rows, n_features, dtype)


def _check_finite(x, name):
    if np.isinf(x).any():
        raise ValueError(
            f"numeric column {name!r} holds an infinite value; replace it, "
            "or use numeric_mode='log_bin' which gives infinity its own bin"
        )


def _pair_tokens(a, b, view_a, view_b, n_rows):
    """Tokens of the distinct (a, b) value pairs of a chunk and the code of each row."""
    codes_a, values_a = view_a
    codes_b, values_b = view_b
    width = max(len(values_b), 1)
    both = (codes_a >= 0) & (codes_b >= 0)
    pair_codes = np.where(both, codes_a * width + codes_b, -1)
    uniques, inverse = np.unique(pair_codes[both], return_inverse=True)
    head = a.encode("utf-8") + b"\x00"
    mid = b"\x00" + b.encode("utf-8") + b"\x00"
    tokens = [head + values_a[u // width] + mid + values_b[u % width] for u in uniques.tolist()]
    codes = np.full(n_rows, -1, dtype=np.int64)
    codes[both] = inverse.reshape(-1)
    return tokens, codes


def _hash(tokens, seed, n_features, signed):
    h = murmurhash3_32_many_numpy(tokens, seed)
    index = h.astype(np.int64) % n_features
    if signed:
        sign = np.where(h >> np.uint32(31), -1.0, 1.0)
    else:
        sign = np.ones(len(tokens))
    return index, sign


def _assemble(cols, vals, n_rows, n_features, dtype):
    """CSR from one column array per emitted field (n_features = none)."""
    index_dtype = np.int32 if n_features < 2**31 else np.int64
    if not cols or n_rows == 0:
        return sp.csr_matrix((n_rows, n_features), dtype=dtype)
    # Row-major (n_rows, n_fields) blocks: sorting each short row is far
    # cheaper than scipy's general COO -> CSR conversion.
    C = np.ascontiguousarray(np.stack(cols).T)
    if all(v is None for v in vals):
        C.sort(axis=1)
        V = None
    else:
        V = np.stack([np.ones(n_rows) if v is None else v for v in vals]).T
        order = np.argsort(C, axis=1, kind="stable")
        C = np.take_along_axis(C, order, axis=1)
        V = np.take_along_axis(V, order, axis=1)
    real = C != n_features
    starts = real.copy()
    starts[:, 1:] &= C[:, 1:] != C[:, :-1]
    flat_starts = np.flatnonzero(starts.ravel())
    indices = C.ravel()[flat_starts]
    if V is None:
        # Each repeat of a column (a collision) adds one to its run.
        data = np.ones(flat_starts.size, dtype=np.float64)
        repeats = np.flatnonzero((real & ~starts).ravel())
        if repeats.size:
            runs = np.searchsorted(flat_starts, repeats, side="right") - 1
            np.add.at(data, runs, 1.0)
    else:
        # Entries of a run are contiguous; the padding slots after a row's
        # last run add zeros, so each segment sums exactly one run.
        flat_values = np.where(real, V, 0.0).ravel()
        data = np.add.reduceat(flat_values, flat_starts) if flat_starts.size else np.zeros(0)
    counts = starts.sum(axis=1)
    nonzero = data != 0
    if not nonzero.all():
        row_of = np.repeat(np.arange(n_rows), counts)
        counts = np.bincount(row_of[nonzero], minlength=n_rows)
        data, indices = data[nonzero], indices[nonzero]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    if indptr[-1] >= 2**31:
        index_dtype = np.int64
    X = sp.csr_matrix(
        (data.astype(dtype, copy=False), indices.astype(index_dtype), indptr.astype(index_dtype)),
        shape=(n_rows, n_features),
    )
    X.has_sorted_indices = True
    X.has_canonical_format = True
    return X
