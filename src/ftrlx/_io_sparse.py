"""Sparse weight exports: :func:`export_sparse` and the :class:`SparseModel` that serves them (see
:mod:`ftrlx.io`).

Part of :mod:`ftrlx.io`, which re-exports both names (``ftrlx.io.SparseModel`` is the name files and pickles
record)."""

import os

import numpy as np
import scipy.sparse as sp

from ._io_checks import _REMEDY, _bad, _check_classes, _class_path, _decoded, _describe, _is_int
from ._io_container import FormatError, _header, _read_kind, _write_container
from ._io_encoding import _Encoder

_LINKS = {"log_loss": "logistic"}
_LINK_NAMES = ("logistic", "identity")


def export_sparse(model, path, hasher=None, *, metadata=None):
    """Write only the non-zero weights of a fitted linear model.

    The file (the same container as :func:`save`, kind ``"sparse"``) holds,
    per row of ``coef_``, the indices and values of its non-zero weights, plus
    the intercepts, classes, loss and link function, the number of features
    and, when given, the specification of the feature hasher, so that
    :class:`SparseModel` can score raw rows.  With strong L1 it is a small
    fraction of the full model.

    Parameters
    ----------
    model : fitted linear estimator
        Anything with ``coef_`` and ``intercept_`` (and ``classes_`` for a
        classifier).
    path : str or os.PathLike
    hasher : object with ``get_spec()``, optional
        The hasher that produced the model's features, typically
        ``reader.hasher`` of an ftrlx dataset reader.
    metadata : dict, optional
        Extra information for the header, as in :func:`save` (``ftrlx info``
        shows it).  The entries ``n_nonzero`` and ``n_weights`` are always the
        export's own counts.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import ftrlx
    >>> from ftrlx.io import export_sparse, SparseModel
    >>> X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    >>> model = ftrlx.FTRLClassifier(l1=0.0, random_state=0).fit(X, [1, 0, 1])
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.ftrlx")
    >>> export_sparse(model, path)
    >>> served = SparseModel.load(path)
    >>> np.allclose(served.predict_proba(X), model.predict_proba(X), rtol=1e-12)
    True
    """
    coef = getattr(model, "coef_", None)
    if coef is None:
        raise ValueError(f"{type(model).__name__} is not fitted (no coef_); fit it before exporting")
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    indptr, indices, values = [0], [], []
    for row in coef:
        nz = np.flatnonzero(row)
        indices.append(nz.astype(np.int64))
        values.append(row[nz])
        indptr.append(indptr[-1] + nz.size)
    classes = getattr(model, "classes_", None)
    loss = getattr(model, "loss", None)
    state = {
        "indptr": np.asarray(indptr, dtype=np.int64),
        "indices": np.concatenate(indices),
        "values": np.concatenate(values),
        "intercept": np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64)),
        "n_features": int(coef.shape[1]),
        "classes": None if classes is None else np.asarray(classes),
        "loss": loss,
        "link": _LINKS.get(loss, "identity"),
        "estimator": _class_path(model),
        "hasher_spec": None if hasher is None else hasher.get_spec(),
    }
    enc = _Encoder()
    header = _header("sparse", "ftrlx.io.SparseModel")
    header.update(
        params=enc.encode({}, "params"),  # (encoded like every mapping, so that read_header can decode it)
        state=enc.encode(state, "state"),
        metadata=enc.encode(
            dict(metadata or {}, n_nonzero=int(state["indices"].size), n_weights=int(coef.size)), "metadata"
        ),
    )
    _write_container(path, header, enc.arrays)


_SPARSE_KEYS = (
    "indptr",
    "indices",
    "values",
    "intercept",
    "n_features",
    "classes",
    "loss",
    "link",
    "estimator",
    "hasher_spec",
)


def _check_sparse_entries(path, s):
    """The entries of a sparse export that its constructor takes as given: types, labels, link, hasher."""
    for name, dtype in (("indptr", np.int64), ("indices", np.int64), ("values", np.float64), ("intercept", np.float64)):
        if not (isinstance(s[name], np.ndarray) and s[name].dtype == dtype and s[name].ndim == 1):
            raise _bad(path, name, f"must be a 1-d {np.dtype(dtype).name} array, found {_describe(s[name])}")
    if not _is_int(s["n_features"]):
        raise _bad(path, "n_features", f"must be an integer, found {_describe(s['n_features'])}")
    for name in ("loss", "estimator"):
        if s[name] is not None and not isinstance(s[name], str):
            raise _bad(path, name, f"must be a string, found {_describe(s[name])}")
    if s["link"] not in _LINK_NAMES:
        raise _bad(path, "link", f"must be one of {', '.join(map(repr, _LINK_NAMES))}, found {_describe(s['link'])}")
    if s["classes"] is not None:
        n_out = s["indptr"].size - 1
        _check_classes(path, s["classes"], n_out)
    spec = s["hasher_spec"]
    if spec is not None:
        from ftrlx.hashing import CategoricalHasher

        try:
            width = CategoricalHasher.from_spec(spec).get_spec()["n_features"]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise _bad(path, "hasher_spec", f"is not a valid hasher specification ({exc!r})") from None
        if width != s["n_features"]:
            raise _bad(path, "hasher_spec", f"hashes into {width} columns, but the weights have {s['n_features']}")


def _check_sparse_weights(model, where):
    """Row pointers, column indices and values of the weights, and the intercepts: the scoring product reads
    them without checking.  Returns the number of output rows."""
    indptr, indices, values = model.indptr, model.indices, model.values
    if model.n_features_in_ < 1:
        raise ValueError(f"{where}: n_features is {model.n_features_in_}, it must be positive")
    if indptr.ndim != 1 or indptr.size < 2 or indptr[0] != 0 or (np.diff(indptr) < 0).any():
        raise ValueError(f"{where}: indptr must start at 0 and never decrease, found {indptr.tolist()[:10]!r}")
    if indices.ndim != 1 or values.shape != indices.shape or indptr[-1] != indices.size:
        raise ValueError(
            f"{where}: indptr ends at {indptr[-1]}, but there are {indices.size} indices and {values.size} values"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= model.n_features_in_):
        raise ValueError(f"{where}: a weight index lies outside [0, {model.n_features_in_})")
    if not np.isfinite(values).all():
        raise ValueError(f"{where}: the weight values hold NaN or infinity")
    n_out = indptr.size - 1
    if model.intercept.shape != (n_out,):
        raise ValueError(
            f"{where}: intercept has shape {model.intercept.shape}, expected ({n_out},) to match the weight rows"
        )
    if not np.isfinite(model.intercept).all():
        raise ValueError(f"{where}: the intercepts hold NaN or infinity")
    return n_out


class SparseModel:
    """Predictions from a sparse weight export (see :func:`export_sparse`).

    Attributes
    ----------
    indptr, indices, values : ndarray
        Non-zero weights of each output row, CSR style.
    intercept : ndarray of shape (n_outputs,)
    classes_ : ndarray or None
        Class labels for a classifier.
    loss, link : str
        The training loss and the link (``"logistic"`` or ``"identity"``).
    n_features_in_ : int
    hasher_spec : dict or None
        Specification of the feature hasher, if one was recorded.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import ftrlx
    >>> from ftrlx.io import export_sparse, SparseModel
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> model = ftrlx.FTRLClassifier(l1=0.0, random_state=0).fit(X, [1, 0])
    >>> path = os.path.join(tempfile.mkdtemp(), "w.ftrlx")
    >>> export_sparse(model, path)
    >>> served = SparseModel.load(path)
    >>> served.n_nonzero, served.link
    (2, 'logistic')
    >>> bool((served.predict(X) == model.predict(X)).all())
    True
    """

    def __init__(
        self,
        indptr,
        indices,
        values,
        intercept,
        n_features,
        classes=None,
        loss=None,
        link="identity",
        hasher_spec=None,
        estimator=None,
    ):
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.values = np.asarray(values, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.n_features_in_ = int(n_features)
        self.classes_ = classes
        self.loss = loss
        self.link = link
        self.hasher_spec = hasher_spec
        self.estimator = estimator
        self._hasher = None
        n_out = _check_sparse_weights(self, "SparseModel")
        # A (n_features, n_outputs) CSC-free representation: one sparse matrix
        # whose columns are the weight rows, so scoring is one sparse product.
        self._w = sp.csr_matrix((self.values, self.indices, self.indptr), shape=(n_out, self.n_features_in_)).T.tocsr()

    @classmethod
    def load(cls, path):
        """Read a file written by :func:`export_sparse`."""
        path = os.fspath(path)
        header, arrays = _read_kind(
            path,
            "sparse",
            "{path!r} is a full {found} file, not a sparse export; use ftrlx.load, or write one with "
            "ftrlx.io.export_sparse",
        )
        return cls._from_container(header, arrays, path)

    @classmethod
    def _from_container(cls, header, arrays, path="the file"):
        s = _decoded(path, header, "state", arrays)
        names = sorted(s, key=str)
        if names != sorted(_SPARSE_KEYS):
            raise _bad(
                path,
                "state",
                f"a sparse export holds exactly {', '.join(sorted(_SPARSE_KEYS))}; found {', '.join(map(str, names))}",
            )
        _check_sparse_entries(path, s)
        try:
            return cls(
                s["indptr"],
                s["indices"],
                s["values"],
                s["intercept"],
                s["n_features"],
                classes=s["classes"],
                loss=s["loss"],
                link=s["link"],
                hasher_spec=s["hasher_spec"],
                estimator=s["estimator"],
            )
        except ValueError as exc:
            raise FormatError(f"{path}: {exc}; {_REMEDY.replace('ftrlx.save', 'export_sparse')}") from None

    @property
    def n_nonzero(self):
        """Number of stored (non-zero) weights."""
        return int(self.indices.size)

    @property
    def hasher(self):
        """The recorded feature hasher, rebuilt from :attr:`hasher_spec`."""
        if self.hasher_spec is None:
            raise ValueError(
                "this export has no hasher specification; pass hasher=reader.hasher to export_sparse to score raw rows"
            )
        if self._hasher is None:
            from ftrlx.hashing import CategoricalHasher

            self._hasher = CategoricalHasher.from_spec(self.hasher_spec)
        return self._hasher

    def _features(self, X):
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
        else:
            X = np.asarray(X, dtype=np.float64)
            if X.ndim != 2:
                raise ValueError(f"X must be 2-d, got an array of shape {X.shape}")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the model was trained with "
                f"{self.n_features_in_}; hash raw input with the recorded hasher"
            )
        values = X.data if sp.issparse(X) else X
        if not np.isfinite(values).all():
            # the scores would be NaN (or a class picked from NaN): name the first bad entry instead
            if sp.issparse(X):
                coo = X.tocoo()
                at = int(np.flatnonzero(~np.isfinite(coo.data))[0])
                row, col, value = int(coo.row[at]), int(coo.col[at]), coo.data[at]
            else:
                row, col = (int(i) for i in np.argwhere(~np.isfinite(X))[0])
                value = X[row, col]
            raise ValueError(
                f"SparseModel: Input X contains NaN or infinity ({value} in row {row}, column {col}); "
                "remove or impute those values."
            )
        return X

    def decision_function(self, X):
        """Linear scores ``X @ w + b``, shape (n_samples,) for one output row."""
        X = self._features(X)
        scores = np.asarray(X @ self._w.toarray() if not sp.issparse(X) else (X @ self._w).toarray())
        scores = scores + self.intercept
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X):
        """Class probabilities (logistic link only), shape (n_samples, n_classes)."""
        if self.link != "logistic":
            raise AttributeError(
                f"predict_proba needs a model trained with loss='log_loss', this one used "
                f"loss={self.loss!r}; use decision_function"
            )
        from ._margins import probabilities

        return probabilities(self.decision_function(X))

    def predict(self, X):
        """Class labels for a classifier, scores for a regressor."""
        d = self.decision_function(X)
        if self.classes_ is None:
            return d
        if d.ndim == 1:
            return np.asarray(self.classes_)[(d > 0).astype(np.intp)]
        return np.asarray(self.classes_)[d.argmax(axis=1)]

    def transform_raw(self, rows):
        """Hash raw rows with the recorded hasher into a CSR feature matrix."""
        return self.hasher.transform(rows)

    def predict_proba_raw(self, rows):
        """:meth:`predict_proba` on raw rows, hashed with the recorded hasher."""
        return self.predict_proba(self.transform_raw(rows))
