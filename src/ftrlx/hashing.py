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

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ._hashing_core import _EXACT, _NUMERIC_MODES, _SPEC_VERSION, HashingCore  # noqa: F401
from ._hashing_tables import _columns_of, _names  # noqa: F401 (_names: imported by the readers)
from ._hashing_tokens import _as_float, _log_bin_codes, _log_bin_token, _value_token  # noqa: F401
from ._hashing_views import pack_tokens
from ._kernels import _hashing as _kernel

__all__ = ["CategoricalHasher"]


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


class CategoricalHasher(TransformerMixin, BaseEstimator, HashingCore):
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


_EXACT.add(CategoricalHasher)
