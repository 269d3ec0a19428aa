"""Feature hashing for categorical and numeric columns.

:class:`CategoricalHasher` turns a table of raw columns (strings, integer ids,
numbers) into a sparse CSR matrix of a fixed width, the input the online
learners expect. Each ``(field, value)`` pair is hashed with 32-bit MurmurHash3
(the same function as :func:`sklearn.utils.murmurhash3_32`) into one of
``n_features`` columns, so no vocabulary has to be kept and every chunk of a
stream can be transformed on its own.

Speed comes from hashing each *distinct* value of a column once per chunk: the
column is factorised (``np.unique`` or pyarrow's ``dictionary_encode``), the
distinct tokens are hashed by a MurmurHash3 written with NumPy array operations,
and the hashes are gathered back to the rows.
"""

import math
import numbers

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["CategoricalHasher"]

_NUMERIC_MODES = ("value", "log_bin", "both")
_SPEC_VERSION = 1

# Integer columns whose values span at most this many codes are factorised
# with a presence table instead of a sort: O(n) instead of O(n log n).
_DENSE_RANGE_LIMIT = 1 << 24


# --------------------------------------------------------------------------
# MurmurHash3 (x86, 32 bit) over many byte strings at once
# --------------------------------------------------------------------------
_C1 = np.uint32(0xCC9E2D51)
_C2 = np.uint32(0x1B873593)


def _rotl(x, r):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _mix_key(k):
    k = k * _C1
    k = _rotl(k, 15)
    return k * _C2


def murmurhash3_32_many(tokens, seed=0):
    """Hash a sequence of byte strings with 32-bit MurmurHash3.

    The result equals ``sklearn.utils.murmurhash3_32(token, seed, positive=True)``
    for every token, computed with array operations instead of one call each.

    Parameters
    ----------
    tokens : sequence of bytes
        The byte strings to hash.
    seed : int, default=0
        Hash seed, in ``[0, 2**32)``.

    Returns
    -------
    hashes : ndarray of uint32, shape (len(tokens),)

    Examples
    --------
    >>> from sklearn.utils import murmurhash3_32
    >>> h = murmurhash3_32_many([b"C1\\x00abc", b"", b"a longer token"], seed=7)
    >>> [int(v) for v in h] == [murmurhash3_32(t, seed=7, positive=True)
    ...                         for t in [b"C1\\x00abc", b"", b"a longer token"]]
    True
    """
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
# Turning cells into byte tokens
# --------------------------------------------------------------------------
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


_INF_CODE = 1 << 40


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
    # Mixed Python objects pyarrow cannot type: map cells through a dict.
    seen = {}
    codes = np.fromiter((seen.setdefault(_value_token(v), len(seen)) for v in arr),
                        dtype=np.int64, count=arr.size)
    return _codes_and_tokens(codes, list(seen))


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
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64), []
    lo, hi = int(arr.min()), int(arr.max())
    if hi - lo < _DENSE_RANGE_LIMIT:
        shifted = (arr - lo).astype(np.int64)
        present = np.zeros(hi - lo + 1, dtype=bool)
        present[shifted] = True
        uniques = np.flatnonzero(present)
        position = np.cumsum(present) - 1
        tokens = [str(v).encode() for v in (uniques + lo).tolist()]
        return position[shifted], tokens
    uniques, codes = np.unique(arr, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), [str(v).encode() for v in uniques.tolist()]


def _factorize_arrow(col):
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    indices = col.indices.fill_null(-1) if col.indices.null_count else col.indices
    codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
    values = col.dictionary.to_pylist()
    return _codes_and_tokens(np.where(codes < 0, len(values), codes), values)


def _as_float(col, name):
    """Numeric column -> float64 array with NaN for missing cells."""
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
                or pa.types.is_boolean(col.type) or pa.types.is_null(col.type)):
            try:
                col = pc.cast(pc.if_else(pc.equal(col, ""), None, col), pa.float64())
            except (pa.ArrowException, TypeError) as exc:
                raise ValueError(
                    f"column {name!r} is declared numeric but holds a value that is "
                    f"not a number ({exc}); list it under categorical instead"
                ) from None
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False)
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
                f"column {name!r} is declared numeric but row {i} holds {v!r}; "
                "list it under categorical instead"
            ) from None
    return out


# --------------------------------------------------------------------------
# Input tables
# --------------------------------------------------------------------------
def _columns_of(X):
    """Return ``(names, n_rows, get)`` for any supported input table."""
    if isinstance(X, (pa.Table, pa.RecordBatch)):
        names = [str(c) for c in X.column_names]
        return names, X.num_rows, lambda name: X.column(name)
    if isinstance(X, dict):
        names = [str(k) for k in X]
        by_name = {str(k): v for k, v in X.items()}
        lengths = {len(v) for v in by_name.values()}
        if len(lengths) > 1:
            raise ValueError(f"the columns of the dict have different lengths {sorted(lengths)}")
        n_rows = lengths.pop() if lengths else 0
        return names, n_rows, by_name.__getitem__
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a pandas DataFrame
        names = [str(c) for c in X.columns]
        if len(set(names)) != len(names):
            raise ValueError("the DataFrame has duplicate column names")
        by_name = dict(zip(names, X.columns))

        def get(name):
            series = X[by_name[name]]
            try:
                return pa.Array.from_pandas(series)
            except (pa.ArrowException, TypeError, ValueError):
                return series.to_numpy()

        return names, len(X), get
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"expected a 2-D array, a DataFrame, a pyarrow Table or a dict of columns; "
            f"got an array of shape {arr.shape}"
        )
    names = [str(i) for i in range(arr.shape[1])]
    return names, arr.shape[0], lambda name: arr[:, int(name)]


def _names(value):
    if value is None:
        return None
    if isinstance(value, (str, bytes, numbers.Integral)):
        value = [value]
    return [str(v) for v in value]


class CategoricalHasher(TransformerMixin, BaseEstimator):
    """Hash categorical and numeric columns into a sparse CSR matrix.

    Each categorical cell becomes the token ``b"<field>\\x00<value>"``, which is
    hashed with 32-bit MurmurHash3 (``seed``) into a column
    ``h % n_features``, with value 1 (or +-1, see ``signed``). Collisions are
    summed. The transformer is stateless: any chunk of a stream can be
    transformed without fitting, and the same row always gives the same output.

    Parameters
    ----------
    n_features : int, default=2**20
        Number of output columns (the hash space). Powers of two are usual.
    categorical : list of str or None, default=None
        Columns hashed as categorical. None means every column not listed in
        ``numeric``.
    numeric : list of str or None, default=None
        Numeric columns, encoded according to ``numeric_mode``.
    numeric_mode : {'value', 'log_bin', 'both'}, default='value'
        ``'value'``: one column per field (the hash of the field name alone)
        holding the number itself. ``'log_bin'``: the number becomes a
        categorical token of its bin, hashed like a categorical value:

        ========================  =========================
        value x                   token
        ========================  =========================
        0                         ``0``
        0 < |x| <= 2              ``s<floor(|x|)>``
        2 < |x| < inf             ``l<floor(ln(|x|)**2)>``
        +-inf                     ``inf``
        ========================  =========================

        with a ``+`` or ``-`` sign in front of every token but ``0``, so
        negative numbers get bins of their own (-1 -> ``-s1``, 3 -> ``+l1``,
        100 -> ``+l21``). This is the squared-log binning used for the
        Criteo count features. ``'both'`` emits the value column and the
        bin token.
    interactions : sequence of (str, str), default=()
        Field pairs ``(a, b)``. Each row with both fields present gets the
        token ``b"a\\x00<va>\\x00b\\x00<vb>"`` with value 1, where a numeric
        field contributes its bin token (``log_bin``/``both``) or its value
        written as a categorical value (``value``).
    signed : bool, default=False
        If True, each token's value is +1 or -1, taken from bit 31 of its hash
        (the column uses the low bits, so for a power-of-two ``n_features``
        below 2**31 the sign is independent of the column). Colliding tokens
        then cancel on average instead of piling up.
    seed : int, default=0
        MurmurHash3 seed, in ``[0, 2**32)``.
    dtype : {np.float64, np.float32}, default=np.float64
        dtype of the output values.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen by :meth:`fit`.
    feature_names_in_ : ndarray of str
        Column names seen by :meth:`fit`.

    Notes
    -----
    Missing cells (None, NaN, empty string, pyarrow nulls) give no feature.
    Numeric zeros give no entry in ``'value'`` mode, and entries that cancel
    to zero (signed collisions) are removed, so the output holds no explicit
    zeros. Categorical integers and integral floats hash alike (``5`` and
    ``5.0`` are both ``b"5"``), so an integer column that pandas turned into
    floats because of missing values hashes as before. The output has sorted,
    summed indices, int32 indices when ``n_features < 2**31``.

    Examples
    --------
    >>> import numpy as np
    >>> from ftrlx.hashing import CategoricalHasher
    >>> data = {"site": np.array(["a", "b", ""], dtype=object),
    ...         "hour": np.array([3, 5, 5]),
    ...         "price": np.array([1.5, np.nan, 0.0])}
    >>> hasher = CategoricalHasher(n_features=2**10, numeric=["price"])
    >>> X = hasher.transform(data)
    >>> X.shape, X.dtype, X.indices.dtype
    ((3, 1024), dtype('float64'), dtype('int32'))
    >>> X.getnnz(axis=1)  # the empty site, the NaN and the zero price give nothing
    array([3, 2, 1], dtype=int32)
    >>> spec = hasher.get_spec()
    >>> (CategoricalHasher.from_spec(spec).transform(data) != X).nnz
    0
    """

    def __init__(self, n_features=2**20, categorical=None, numeric=None, numeric_mode="value",
                 interactions=(), signed=False, seed=0, dtype=np.float64):
        self.n_features = n_features
        self.categorical = categorical
        self.numeric = numeric
        self.numeric_mode = numeric_mode
        self.interactions = interactions
        self.signed = signed
        self.seed = seed
        self.dtype = dtype

    # -- parameters ---------------------------------------------------------
    def _check_params(self):
        n = self.n_features
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 1 <= n <= 2**32:
            raise ValueError(f"n_features must be an integer in [1, 2**32], got {n!r}")
        if self.numeric_mode not in _NUMERIC_MODES:
            raise ValueError(
                f"numeric_mode must be one of {_NUMERIC_MODES}, got {self.numeric_mode!r}"
            )
        seed = self.seed
        if not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
            raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
        dtype = np.dtype(self.dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        numeric = _names(self.numeric) or []
        categorical = _names(self.categorical)
        if categorical is not None:
            both = sorted(set(categorical) & set(numeric))
            if both:
                raise ValueError(f"columns {both} are listed both as categorical and numeric")
        pairs = []
        for pair in self.interactions:
            pair = _names(pair)
            if len(pair) != 2:
                raise ValueError(f"each interaction must be a pair of column names, got {pair!r}")
            pairs.append(tuple(pair))
        return categorical, numeric, pairs, dtype

    def get_spec(self):
        """Return all parameters as a JSON-serialisable dict.

        Returns
        -------
        spec : dict
            Enough to rebuild an identical hasher with :meth:`from_spec`.

        Examples
        --------
        >>> import json
        >>> spec = CategoricalHasher(n_features=16, categorical=["a"]).get_spec()
        >>> json.loads(json.dumps(spec)) == spec
        True
        >>> spec["n_features"], spec["categorical"]
        (16, ['a'])
        """
        categorical, numeric, pairs, dtype = self._check_params()
        return {
            "type": "CategoricalHasher",
            "version": _SPEC_VERSION,
            "hash": "murmurhash3_32",
            "n_features": int(self.n_features),
            "categorical": categorical,
            "numeric": numeric,
            "numeric_mode": self.numeric_mode,
            "interactions": [list(p) for p in pairs],
            "signed": bool(self.signed),
            "seed": int(self.seed),
            "dtype": dtype.name,
        }

    @classmethod
    def from_spec(cls, spec):
        """Rebuild a hasher from the dict of :meth:`get_spec`.

        Parameters
        ----------
        spec : dict
            A dict returned by :meth:`get_spec` (possibly through JSON).

        Returns
        -------
        hasher : CategoricalHasher

        Examples
        --------
        >>> h = CategoricalHasher(n_features=8, signed=True, seed=3)
        >>> CategoricalHasher.from_spec(h.get_spec()).get_spec() == h.get_spec()
        True
        """
        if not isinstance(spec, dict) or spec.get("type") != "CategoricalHasher":
            raise ValueError(
                "spec is not a CategoricalHasher spec (its 'type' entry should be "
                "'CategoricalHasher'); build it with CategoricalHasher.get_spec()"
            )
        if spec.get("version", _SPEC_VERSION) > _SPEC_VERSION:
            raise ValueError(
                f"spec version {spec['version']} is newer than this ftrlx understands "
                f"({_SPEC_VERSION}); upgrade ftrlx"
            )
        return cls(
            n_features=spec["n_features"],
            categorical=spec["categorical"],
            numeric=spec["numeric"] or None,
            numeric_mode=spec["numeric_mode"],
            interactions=[tuple(p) for p in spec["interactions"]],
            signed=spec["signed"],
            seed=spec["seed"],
            dtype=np.dtype(spec["dtype"]).type,
        )

    # -- sklearn API ----------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y=None):
        """Record the input columns; nothing is learnt.

        Parameters
        ----------
        X : DataFrame, pyarrow Table or RecordBatch, dict of 1-D arrays or 2-D array
            The input table.
        y : ignored

        Returns
        -------
        self : CategoricalHasher

        Examples
        --------
        >>> CategoricalHasher().fit({"a": [1, 2], "b": ["x", "y"]}).n_features_in_
        2
        """
        names, _, _ = _columns_of(X)
        self._plan(names)
        self.n_features_in_ = len(names)
        self.feature_names_in_ = np.asarray(names, dtype=object)
        return self

    def _plan(self, names):
        categorical, numeric, pairs, dtype = self._check_params()
        if categorical is None:
            numeric_set = set(numeric)
            categorical = [c for c in names if c not in numeric_set]
        available = set(names)
        wanted = list(categorical) + list(numeric) + [c for p in pairs for c in p]
        missing = [c for c in dict.fromkeys(wanted) if c not in available]
        if missing:
            raise ValueError(
                f"column(s) {missing} not found in the input, which has columns {names}; "
                "check the categorical, numeric and interactions parameters"
            )
        return categorical, numeric, pairs, dtype

    def transform(self, X):
        """Hash a table into a CSR matrix of shape (n_rows, n_features).

        Parameters
        ----------
        X : DataFrame, pyarrow Table or RecordBatch, dict of 1-D arrays or 2-D array
            The rows to hash. A 2-D array's columns are named "0", "1", ...

        Returns
        -------
        Xt : scipy.sparse.csr_matrix
            Sorted indices, duplicates summed, no explicit zeros.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([["a", "x"], ["a", "y"]], dtype=object)
        >>> Xt = CategoricalHasher(n_features=64).transform(X)
        >>> Xt.sum(axis=1).ravel().tolist()  # two tokens per row, unless they collide
        [[2.0, 2.0]]
        """
        names, n_rows, get = _columns_of(X)
        categorical, numeric, pairs, dtype = self._plan(names)
        n_features = int(self.n_features)
        seed = int(self.seed)
        cols, vals = [], []

        index_dtype = np.int32 if n_features < 2**31 else np.int64

        def emit(tokens, codes):
            index, sign = self._hash(tokens, seed, n_features)
            # One slot past the tokens stands for "missing": column n_features,
            # which sorts after every real column and is dropped at the end.
            index = np.append(index, n_features).astype(index_dtype)
            cols.append(index[codes])
            if self.signed:
                vals.append(np.append(sign, 0.0)[codes])
            else:
                vals.append(None)

        token_cache = {}

        def tokens_of(name):
            # Categorical view of a column: its values, or its log-bin tokens.
            if name not in token_cache:
                if name in numeric and self.numeric_mode != "value":
                    token_cache[name] = self._bin_tokens(name, get(name))
                else:
                    token_cache[name] = _factorize(get(name))
            return token_cache[name]

        for name in categorical:
            codes, values = tokens_of(name)
            prefix = name.encode("utf-8") + b"\x00"
            emit([prefix + v for v in values], codes)

        for name in numeric:
            if self.numeric_mode in ("value", "both"):
                x = _as_float(get(name), name)
                if np.isinf(x).any():
                    raise ValueError(
                        f"numeric column {name!r} holds an infinite value; replace it, "
                        "or use numeric_mode='log_bin' which gives infinity its own bin"
                    )
                index, sign = self._hash([name.encode("utf-8")], seed, n_features)
                present = ~np.isnan(x)
                present &= x != 0
                cols.append(np.where(present, index[0], n_features).astype(index_dtype))
                vals.append(np.where(present, x * sign[0], 0.0))
            if self.numeric_mode in ("log_bin", "both"):
                codes, values = tokens_of(name)
                prefix = name.encode("utf-8") + b"\x00"
                emit([prefix + v for v in values], codes)

        for a, b in pairs:
            codes_a, values_a = tokens_of(a)
            codes_b, values_b = tokens_of(b)
            width = max(len(values_b), 1)
            both = (codes_a >= 0) & (codes_b >= 0)
            pair_codes = np.where(both, codes_a * width + codes_b, -1)
            uniques, inverse = np.unique(pair_codes[both], return_inverse=True)
            head = a.encode("utf-8") + b"\x00"
            mid = b"\x00" + b.encode("utf-8") + b"\x00"
            tokens = [head + values_a[u // width] + mid + values_b[u % width]
                      for u in uniques.tolist()]
            codes = np.full(n_rows, -1, dtype=np.int64)
            codes[both] = inverse.reshape(-1)
            emit(tokens, codes)

        return self._assemble(cols, vals, n_rows, n_features, dtype)

    def _bin_tokens(self, name, col):
        codes, valid = _log_bin_codes(_as_float(col, name))
        uniques, inverse = np.unique(codes[valid], return_inverse=True)
        out = np.full(codes.shape, -1, dtype=np.int64)
        out[valid] = inverse.reshape(-1)
        return out, [_log_bin_token(c) for c in uniques.tolist()]

    def _hash(self, tokens, seed, n_features):
        h = murmurhash3_32_many(tokens, seed)
        index = (h.astype(np.int64) % n_features)
        if self.signed:
            sign = np.where(h >> np.uint32(31), -1.0, 1.0)
        else:
            sign = np.ones(len(tokens))
        return index, sign

    @staticmethod
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
            data = np.add.reduceat(flat_values, flat_starts) if flat_starts.size else \
                np.zeros(0)
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
        X = sp.csr_matrix((data.astype(dtype, copy=False), indices.astype(index_dtype),
                           indptr.astype(index_dtype)), shape=(n_rows, n_features))
        X.has_sorted_indices = True
        X.has_canonical_format = True
        return X
