"""Feature hashing for categorical and numeric columns.

:class:`CategoricalHasher` turns a table of raw columns (strings, integer ids,
numbers) into a sparse CSR matrix of a fixed width, the input the online
learners expect. Each ``(field, value)`` pair is hashed with 32-bit MurmurHash3
(the same function as :func:`sklearn.utils.murmurhash3_32`) into one of
``n_features`` columns, so no vocabulary has to be kept and every chunk of a
stream can be transformed on its own.

The work is compiled (``ftrlx._kernels._hashing``): Arrow string columns are
hashed straight from their buffers, integer columns are factorised and each
distinct value written in decimal in C, and the CSR rows are sorted and summed
in C. The private modules hold the layers: ``_hashing_tokens`` (what a cell
hashes as), ``_hashing_tables`` (input tables), ``_hashing_views`` (columns
as token tables), ``_hashing_transform`` (the compiled transform) and
``_hashing_reference`` (the former NumPy implementation, which the tests hold
the compiled one to, bit for bit).
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ._hashing_reference import transform_reference
from ._hashing_tables import _columns_of, _names  # noqa: F401 (_names: imported by the readers)
from ._hashing_tokens import _as_float, _log_bin_codes, _log_bin_token, _value_token  # noqa: F401
from ._hashing_transform import transform_compiled
from ._hashing_views import pack_tokens
from ._kernels import _hashing as _kernel

__all__ = ["CategoricalHasher"]

_NUMERIC_MODES = ("value", "log_bin", "both")
_SPEC_VERSION = 1


def murmurhash3_32_many(tokens, seed=0):
    """Hash a sequence of byte strings with 32-bit MurmurHash3.

    The result equals ``sklearn.utils.murmurhash3_32(token, seed, positive=True)``
    for every token, computed in one compiled loop instead of one call each.

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
    if len(tokens) == 0:
        return np.zeros(0, dtype=np.uint32)
    offsets, data = pack_tokens(tokens)
    return _kernel.hash_table(offsets, data, int(seed & 0xFFFFFFFF))


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

    def __init__(
        self,
        n_features=2**20,
        categorical=None,
        numeric=None,
        numeric_mode="value",
        interactions=(),
        signed=False,
        seed=0,
        dtype=np.float64,
    ):
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
            raise ValueError(f"numeric_mode must be one of {_NUMERIC_MODES}, got {self.numeric_mode!r}")
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
                f"spec version {spec['version']} is newer than this ftrlx understands ({_SPEC_VERSION}); upgrade ftrlx"
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
        return transform_compiled(self, X)

    def _transform_reference(self, X):
        """:meth:`transform` computed by the NumPy reference implementation (for tests)."""
        return transform_reference(self, X)
