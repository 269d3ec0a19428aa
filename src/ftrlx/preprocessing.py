"""Streaming, sparse-safe feature scaling for the sparse online learners.

Three scikit-learn transformers that can be updated chunk by chunk with
``partial_fit`` and never centre the data, so a sparse matrix stays sparse
(the zeros stay zeros) and is never densified:

* :class:`StreamingMaxAbsScaler` divides each feature by the largest |x| seen
  so far, the per-feature scale of "normalized" adaptive updates; every
  output lies in [-1, 1].
* :class:`StreamingStdScaler` divides each feature by its standard deviation
  (implicit zeros included), kept up to date with a numerically stable
  merge of per-chunk means and sums of squared deviations.
* :class:`RowL2Normalizer` scales every row to unit Euclidean norm, as
  Bottou's svmsgd does by default; it learns nothing.

All accept dense arrays and scipy sparse matrices or arrays (CSR, CSC, COO
and the other formats, which are converted to CSR), keep float32 and float64
(other dtypes become float64), reject NaN and infinity, and fix the number
of features at the first ``fit``/``partial_fit``.  Sparse output has the
input's format (CSR for formats other than CSC), and the same kind, matrix
or array.  Statistics are accumulated in float64 whatever the input dtype.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

__all__ = ["StreamingMaxAbsScaler", "StreamingStdScaler", "RowL2Normalizer"]

_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


def _entry_index(X, axis):
    """Row (axis=0) or column (axis=1) of each stored entry of a CSR/CSC matrix."""
    compressed = (X.format == "csr") == (axis == 0)
    if compressed:
        return np.repeat(np.arange(X.indptr.size - 1), np.diff(X.indptr))
    return X.indices


class _StreamingTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Input validation shared by the transformers of this module."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _validate(self, X, *, reset, copy=False):
        # validate_data records n_features_in_ / feature_names_in_ on reset
        # before every check has passed; restore them so that a rejected
        # input leaves the estimator exactly as it was.
        saved = {k: self.__dict__[k] for k in _INPUT_ATTRIBUTES if k in self.__dict__}
        try:
            X = validate_data(self, X, reset=reset, accept_sparse=("csr", "csc"), dtype=FLOAT_DTYPES, copy=copy)
        except Exception:
            for k in _INPUT_ATTRIBUTES:
                self.__dict__.pop(k, None)
            self.__dict__.update(saved)
            raise
        if sp.issparse(X) and not X.has_canonical_format:
            # Duplicate entries add up; max-|x| and sums of squares need them merged.
            X = X.copy()
            X.sum_duplicates()
        return X

    def fit(self, X, y=None):
        """Forget any previous statistics and compute them from ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X = self._validate(X, reset=True)
        self._set_statistics(None, X)
        return self

    def partial_fit(self, X, y=None):
        """Update the statistics with one chunk ``X``.

        The first call fixes ``n_features_in_``; a later chunk with another
        number of features raises ``ValueError``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        first_call = not hasattr(self, "n_samples_seen_")
        X = self._validate(X, reset=first_call)
        self._set_statistics(None if first_call else self, X)
        return self

    def _apply_scale(self, X, copy, inverse):
        """Validate X (copied as ``copy`` says; None: as the ``copy`` parameter says), then divide (or multiply,
        for the inverse) each column by ``scale_``."""
        check_is_fitted(self)
        copy = self.copy if copy is None else copy
        X = self._validate(X, reset=False, copy=copy)
        factor = self.scale_
        if sp.issparse(X):
            f = factor[_entry_index(X, axis=1)]
            X.data[...] = X.data * f if inverse else X.data / f
        elif inverse:
            X *= factor
        else:
            X /= factor
        return X

    def transform(self, X, copy=None):
        """Scale each feature by the learned ``scale_`` (``X / scale_``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to scale.
        copy : bool or None, default=None
            Whether to copy ``X``; ``None`` uses the ``copy`` parameter.

        Returns
        -------
        X_tr : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Same dtype as ``X`` (float32 or float64), sparse if ``X`` is.
        """
        return self._apply_scale(X, copy, inverse=False)

    def inverse_transform(self, X, copy=None):
        """Undo :meth:`transform` (``X * scale_``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Scaled data.
        copy : bool or None, default=None
            Whether to copy ``X``; ``None`` uses the ``copy`` parameter.

        Returns
        -------
        X_orig : {ndarray, sparse matrix} of shape (n_samples, n_features)
        """
        return self._apply_scale(X, copy, inverse=True)


class StreamingMaxAbsScaler(_StreamingTransformer):
    """Scale each feature by the largest absolute value seen so far.

    ``scale_[j] = max |x_ij|`` over every row seen by ``fit``/``partial_fit``
    (1 for a feature that has only been 0), and ``transform`` returns
    ``X / scale_``, so values seen in training land in [-1, 1].  The
    statistic is a running maximum, so ``partial_fit`` over chunks gives
    exactly the ``fit`` of their concatenation.

    Parameters
    ----------
    copy : bool, default=True
        Whether ``transform`` works on a copy of its input; with ``False``
        an input that already is float32/float64 CSR/CSC or a C/F array
        is scaled in place.

    Attributes
    ----------
    max_abs_ : ndarray of shape (n_features,)
        Largest absolute value of each feature, float64.
    scale_ : ndarray of shape (n_features,)
        ``max_abs_`` with zeros replaced by 1.
    n_samples_seen_ : int
        Rows seen since the last ``fit``.
    n_features_in_ : int
        Number of features, fixed by the first call.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> scaler = StreamingMaxAbsScaler()
    >>> scaler.partial_fit(sp.csr_array([[1.0, 0.0, 0.0], [-4.0, 2.0, 0.0]]))
    StreamingMaxAbsScaler()
    >>> scaler.partial_fit(np.array([[2.0, -8.0, 0.0]])).scale_.tolist()
    [4.0, 8.0, 1.0]
    >>> scaler.transform(sp.csr_array([[2.0, 0.0, 5.0]])).toarray().tolist()
    [[0.5, 0.0, 5.0]]
    """

    def __init__(self, *, copy=True):
        self.copy = copy

    def _set_statistics(self, previous, X):
        if sp.issparse(X):
            max_abs = np.zeros(X.shape[1])
            np.maximum.at(max_abs, _entry_index(X, axis=1), np.abs(X.data))
        else:
            max_abs = np.abs(X).max(axis=0).astype(np.float64)
        n = X.shape[0]
        if previous is not None:
            max_abs = np.maximum(max_abs, previous.max_abs_)
            n += previous.n_samples_seen_
        self.max_abs_ = max_abs
        self.scale_ = np.where(max_abs == 0, 1.0, max_abs)
        self.n_samples_seen_ = n


class StreamingStdScaler(_StreamingTransformer):
    """Scale each feature by its standard deviation, without centring.

    ``scale_[j]`` is the population standard deviation (divide by n) of
    feature j over all rows seen, implicit zeros of sparse input included,
    and ``transform`` returns ``X / scale_``: the data is *not* centred, so
    sparse input stays sparse.  The same as
    ``sklearn.preprocessing.StandardScaler(with_mean=False)``, but streaming.

    Each chunk contributes its size n_b, mean m_b and sum of squared
    deviations M_b (computed in two passes, in float64), merged into the
    running totals with Chan, Golub & LeVeque's pairwise update:

        n = n_a + n_b,   d = m_b - m_a,
        m = m_a + d * n_b / n,
        M = M_a + M_b + d^2 * n_a * n_b / n,

    which, unlike accumulating sums of x and x^2, loses no precision when the
    mean is large compared with the spread.  Means are kept relative to
    ``shift_`` so that the differences d are small numbers computed
    accurately.  A feature whose variance is 0,
    or below the rounding noise ``(n * eps * |mean|)^2`` of a constant
    column (eps = float64 machine epsilon), gets scale 1.

    Parameters
    ----------
    copy : bool, default=True
        Whether ``transform`` works on a copy of its input.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Running mean of each feature (kept for the merge; not subtracted).
    shift_ : ndarray of shape (n_features,)
        Reference the merge works relative to: the mean of the first dense
        chunk, or 0 when the first chunk is sparse.
    var_ : ndarray of shape (n_features,)
        Running population variance ``M / n`` of each feature.
    scale_ : ndarray of shape (n_features,)
        ``sqrt(var_)``, with 1 for constant features.
    n_samples_seen_ : int
        Rows seen since the last ``fit``.
    n_features_in_ : int
        Number of features, fixed by the first call.

    References
    ----------
    Chan, Golub & LeVeque, "Updating formulae and a pairwise algorithm for
    computing sample variances", Stanford CS report STAN-CS-79-773, 1979.
    Welford, "Note on a method for calculating corrected sums of squares
    and products", Technometrics 4(3), 1962.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> scaler = StreamingStdScaler()
    >>> _ = scaler.partial_fit(sp.csr_array([[2.0, 0.0], [0.0, 0.0]]))
    >>> _ = scaler.partial_fit(np.array([[2.0, 0.0], [0.0, 0.0]]))
    >>> scaler.var_.tolist(), scaler.scale_.tolist()
    ([1.0, 0.0], [1.0, 1.0])
    >>> scaler.transform(sp.csr_array([[4.0, 3.0]])).toarray().tolist()
    [[4.0, 3.0]]
    """

    def __init__(self, *, copy=True):
        self.copy = copy

    def _set_statistics(self, previous, X):
        n_b = X.shape[0]
        if previous is None:
            # Work relative to a per-feature reference close to the mean (the
            # first chunk's mean; 0 for sparse input, which must stay sparse):
            # with a mean of 1e9 and a spread of 1, differences of raw chunk
            # means would carry absolute errors of ~1e-7 into the merge.
            shift = np.zeros(X.shape[1]) if sp.issparse(X) else X.mean(axis=0, dtype=np.float64)
        else:
            shift = previous.shift_
        if sp.issparse(X):
            cols = _entry_index(X, axis=1)
            p = X.shape[1]
            data = X.data.astype(np.float64)
            mean_b = np.bincount(cols, weights=data, minlength=p) / n_b
            stored = np.bincount(cols, minlength=p)
            m2_b = np.bincount(cols, weights=np.square(data - mean_b[cols]), minlength=p)
            # Each implicit zero deviates from the mean by -mean.
            m2_b += (n_b - stored) * np.square(mean_b)
            offset_b = mean_b - shift
        else:
            D = X - shift
            offset_b = D.mean(axis=0, dtype=np.float64)
            m2_b = np.square(D - offset_b).sum(axis=0, dtype=np.float64)
        if previous is None:
            n, offset, m2 = n_b, offset_b, m2_b
        else:
            n_a, offset_a = previous.n_samples_seen_, previous._offset_mean
            n = n_a + n_b
            delta = offset_b - offset_a
            offset = offset_a + delta * (n_b / n)
            m2 = previous.var_ * n_a + m2_b + np.square(delta) * (n_a * n_b / n)
        var = m2 / n
        mean = shift + offset
        constant = var <= np.square(n * np.finfo(np.float64).eps * mean)
        self.shift_ = shift
        self._offset_mean = offset
        self.mean_ = mean
        self.var_ = var
        self.scale_ = np.where(constant, 1.0, np.sqrt(var))
        self.n_samples_seen_ = n


class RowL2Normalizer(_StreamingTransformer):
    """Scale every row to unit Euclidean (L2) norm; rows of zeros stay zero.

    Stateless: ``fit`` and ``partial_fit`` learn nothing but validate ``X``
    and record ``n_features_in_`` (so that a later chunk of another width is
    rejected), and ``transform`` may be called without fitting.  The norm
    is computed as ``m * ||x / m||`` with ``m = max |x_i|``, which cannot
    overflow or underflow for finite input.

    Parameters
    ----------
    copy : bool, default=True
        Whether ``transform`` works on a copy of its input.

    Attributes
    ----------
    n_features_in_ : int
        Number of features, set by the first ``fit``/``partial_fit``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> RowL2Normalizer().fit_transform(sp.csr_array([[3.0, 0.0, 4.0], [0.0, 0.0, 0.0]])).toarray().tolist()
    [[0.6, 0.0, 0.8], [0.0, 0.0, 0.0]]
    """

    def __init__(self, *, copy=True):
        self.copy = copy

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags

    def fit(self, X, y=None):
        """Validate ``X`` and record ``n_features_in_`` (resetting it).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate(X, reset=True)
        return self

    def partial_fit(self, X, y=None):
        """Validate ``X``; the first call records ``n_features_in_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate(X, reset=not hasattr(self, "n_features_in_"))
        return self

    def transform(self, X, copy=None):
        """Divide each row by its L2 norm.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to normalise.
        copy : bool or None, default=None
            Whether to copy ``X``; ``None`` uses the ``copy`` parameter.

        Returns
        -------
        X_tr : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Same dtype as ``X``, sparse if ``X`` is.
        """
        copy = self.copy if copy is None else copy
        X = self._validate(X, reset=False, copy=copy)
        if sp.issparse(X):
            rows = _entry_index(X, axis=0)
            data = X.data.astype(np.float64)
            m = np.zeros(X.shape[0])
            np.maximum.at(m, rows, np.abs(data))
            safe = np.where(m == 0, 1.0, m)
            norms = m * np.sqrt(np.bincount(rows, weights=np.square(data / safe[rows]), minlength=X.shape[0]))
            X.data[...] = data / np.where(norms == 0, 1.0, norms)[rows]
        else:
            m = np.abs(X).max(axis=1, keepdims=True).astype(np.float64)
            safe = np.where(m == 0, 1.0, m)
            norms = m * np.sqrt(np.square(X / safe).sum(axis=1, keepdims=True))
            X /= np.where(norms == 0, 1.0, norms)
        return X
