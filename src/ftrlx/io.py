"""Models on disk: a small, versioned, checksummed file format.

:func:`save` writes any ftrlx estimator (its ``get_params()`` and
``__getstate__()``) to one file, and :func:`load` reads it back without ever
unpickling, so opening a model file cannot run code.  :func:`export_sparse`
writes only the non-zero weights, and :class:`SparseModel` serves
predictions from such an export.  Pickle and joblib keep working as usual for
ad-hoc use; this format is the one to keep and to ship.

File layout (format version 1)
------------------------------
All integers are little-endian.

=========  ============  ===================================================
offset     size          content
=========  ============  ===================================================
0          8             magic ``b"\\x89FTRLX\\r\\n"`` (the high byte and the
                         CR LF catch 7-bit and text-mode transfers)
8          4             format version, uint32
12         8             header length ``H``, uint64
20         H             header, UTF-8 JSON object (below)
20+H       P             payload: the arrays, each a complete ``.npy`` blob
                         (NumPy format, never pickled objects), back to back
20+H+P     32            SHA-256 of every byte before it (magic to payload)
=========  ============  ===================================================

Header keys: ``format`` (``"ftrlx-model"``), ``kind`` (``"model"``,
``"checkpoint"`` or ``"sparse"``), ``class`` (import path of the estimator,
always under ``ftrlx.``), ``ftrlx_version``, ``created`` (UTC, ISO 8601),
``params`` (``get_params(deep=False)``), ``state`` (``__getstate__()``),
``metadata`` (free-form, e.g. rows trained on), ``arrays`` (the manifest: per
array its ``offset`` into the payload, ``nbytes``, ``dtype`` and ``shape``),
and ``payload_nbytes`` (``P``).

Values in ``params``, ``state`` and ``metadata`` are JSON with these tagged
forms: ``{"$array": i}`` (the i-th manifest entry), ``{"$scalar": i}`` (a
NumPy scalar stored as a 0-d array, so its dtype survives), ``{"$tuple":
[...]}``, ``{"$dict": [[key, value], ...]}`` (keys of any encodable type) and
``{"$float": "nan" | "inf" | "-inf"}``.  Finite floats are written with
Python's shortest round-trip repr, so every value reads back bit for bit.

A reader refuses a file whose magic, length or checksum is wrong, and one
whose format version is newer than it knows.  Files are written to a
temporary file in the destination directory, flushed to disk and renamed over
the target, so a crash leaves either the old file or the new one.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> import ftrlx
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
>>> model = ftrlx.FTRLClassifier(random_state=0).fit(X, [1, 0, 1])
>>> path = os.path.join(tempfile.mkdtemp(), "model.ftrlx")
>>> ftrlx.save(model, path)
>>> again = ftrlx.load(path)
>>> np.array_equal(again.predict_proba(X), model.predict_proba(X))
True
"""

import datetime
import hashlib
import importlib
import io as _io
import json
import math
import os
import struct
import tempfile

import numpy as np
import scipy.sparse as sp

__all__ = ["save", "load", "read_header", "export_sparse", "SparseModel", "FormatError"]

MAGIC = b"\x89FTRLX\r\n"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIQ")
_DIGEST_SIZE = 32
# Only classes below these module prefixes may be named in a file.
_TRUSTED_PREFIXES = ("ftrlx.",)


class FormatError(ValueError):
    """The file is not a readable ftrlx model (corrupt, truncated, too new, untrusted)."""


# --------------------------------------------------------------------------
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
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {
                "$dict": [
                    [self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")]
                    for k, v in value.items()
                ]
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


def _decode(value, arrays):
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if isinstance(value, dict):
        if "$array" in value:
            return arrays[value["$array"]]
        if "$scalar" in value:
            return arrays[value["$scalar"]][()]
        if "$tuple" in value:
            return tuple(_decode(v, arrays) for v in value["$tuple"])
        if "$dict" in value:
            return {_decode(k, arrays): _decode(v, arrays) for k, v in value["$dict"]}
        if "$float" in value:
            return float(value["$float"])
        raise FormatError(f"unknown tagged value {sorted(value)!r} in header")
    return value


# --------------------------------------------------------------------------
# container


def _npy_bytes(arr):
    buf = _io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _write_blob(fh, blob):
    fh.write(blob)


class _HashingWriter:
    def __init__(self, fh):
        self.fh = fh
        self.sha = hashlib.sha256()

    def write(self, data):
        self.sha.update(data)
        self.fh.write(data)


def _atomic_write(path, write):
    """Call ``write(fh)`` on a temporary file and rename it over ``path``.

    The temporary file lives in the destination directory so that the final
    :func:`os.replace` is a rename within one file system, which POSIX and
    Windows both make atomic.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"cannot write {path!r}: directory {directory!r} does not exist; create it first"
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp creates the file private (0600); give the result the mode an
        # ordinary open() would have, or keep the mode of the file replaced.
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    # Make the rename itself durable (not possible on every platform).
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _write_container(path, header, arrays):
    blobs = [_npy_bytes(a) for a in arrays]
    manifest, offset = [], 0
    for arr, blob in zip(arrays, blobs):
        manifest.append(
            {"offset": offset, "nbytes": len(blob), "dtype": arr.dtype.str, "shape": list(arr.shape)}
        )
        offset += len(blob)
    header = dict(header, arrays=manifest, payload_nbytes=offset)
    header_bytes = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")

    def write(fh):
        out = _HashingWriter(fh)
        out.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header_bytes)))
        out.write(header_bytes)
        for blob in blobs:
            _write_blob(out, blob)
        fh.write(out.sha.digest())

    _atomic_write(path, write)


def _read_container(path, *, arrays=True):
    path = os.fspath(path)
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < _PREFIX.size or data[:8] != MAGIC:
        raise FormatError(f"{path!r} is not an ftrlx model file (bad magic bytes)")
    _, version, header_len = _PREFIX.unpack_from(data)
    if version > FORMAT_VERSION:
        raise FormatError(
            f"{path!r} uses model format version {version}, but this ftrlx reads versions "
            f"up to {FORMAT_VERSION}; upgrade ftrlx to load it"
        )
    if version < 1:
        raise FormatError(f"{path!r} has an invalid format version {version}")
    start = _PREFIX.size + header_len
    if start > len(data):
        raise FormatError(f"{path!r} is truncated (header cut short); the file is incomplete")
    try:
        header = json.loads(data[_PREFIX.size : start].decode("utf-8"))
        payload_nbytes = int(header["payload_nbytes"])
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"{path!r} has a corrupt header ({exc}); the file is damaged") from None
    end = start + payload_nbytes
    if len(data) != end + _DIGEST_SIZE:
        raise FormatError(
            f"{path!r} is truncated or has trailing bytes: expected {end + _DIGEST_SIZE} bytes, "
            f"found {len(data)}; the file is incomplete or damaged"
        )
    if hashlib.sha256(memoryview(data)[:end]).digest() != data[end:]:
        raise FormatError(f"{path!r} failed its SHA-256 checksum; the file is corrupt")
    header["format_version"] = version
    loaded = []
    if arrays:
        for entry in header["arrays"]:
            lo = start + entry["offset"]
            blob = _io.BytesIO(memoryview(data)[lo : lo + entry["nbytes"]])
            loaded.append(np.lib.format.read_array(blob, allow_pickle=False))
    return header, loaded


def _class_path(obj):
    cls = type(obj)
    # Prefer the public name (ftrlx.FTRLClassifier) so files survive moves of
    # the private module that defines the class.
    if cls.__module__.startswith("ftrlx."):
        import ftrlx

        if cls.__name__ in getattr(ftrlx, "__all__", ()) and getattr(ftrlx, cls.__name__) is cls:
            return f"ftrlx.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _check_trusted(class_path, action):
    if not (class_path + ".").startswith(_TRUSTED_PREFIXES):
        raise FormatError(
            f"refusing to {action} class {class_path!r}: only classes from the ftrlx package "
            "can be stored in an ftrlx model file; use pickle or joblib for other objects"
        )


def _resolve_class(class_path):
    _check_trusted(class_path, "load")
    module_name, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        raise FormatError(
            f"class {class_path!r} does not exist in this version of ftrlx; "
            "load the file with the ftrlx version that wrote it"
        ) from None
    from sklearn.base import BaseEstimator

    if (not isinstance(cls, type) or not cls.__module__.startswith(_TRUSTED_PREFIXES)
            or not issubclass(cls, BaseEstimator)):
        raise FormatError(f"{class_path!r} is not an ftrlx estimator class; refusing to load it")
    return cls


def _header(kind, class_path):
    from ftrlx import __version__

    return {
        "format": "ftrlx-model",
        "kind": kind,
        "class": class_path,
        "ftrlx_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _save(model, path, kind, metadata, extra):
    class_path = _class_path(model)
    _check_trusted(class_path, "save")
    if not hasattr(model, "get_params") or not hasattr(model, "__getstate__"):
        raise TypeError(
            f"cannot save {type(model).__name__}: expected an estimator with get_params() "
            "and __getstate__()"
        )
    enc = _Encoder()
    header = _header(kind, class_path)
    header.update(
        params=enc.encode(model.get_params(deep=False), "params"),
        state=enc.encode(model.__getstate__(), "state"),
        metadata=enc.encode(dict(metadata or {}), "metadata"),
    )
    if extra is not None:
        header["extra"] = enc.encode(extra, "extra")
    _write_container(path, header, enc.arrays)


def save(model, path, *, metadata=None):
    """Write an ftrlx estimator to ``path`` atomically.

    Parameters
    ----------
    model : estimator
        An ftrlx estimator (fitted or not).  Its ``get_params()`` and
        ``__getstate__()`` must hold only numbers, strings, NumPy arrays and
        lists, tuples and dicts of those.
    path : str or os.PathLike
        Destination.  An existing file is replaced only once the new one is
        completely on disk.
    metadata : dict, optional
        Extra JSON-able information stored in the header (shown by
        ``ftrlx info``), e.g. ``{"rows_seen": 1000}``.

    Raises
    ------
    FormatError
        If ``model`` is not an ftrlx class.
    TypeError
        If its state holds a value the format cannot store.

    See Also
    --------
    load, export_sparse

    Examples
    --------
    >>> import os, tempfile
    >>> import ftrlx
    >>> path = os.path.join(tempfile.mkdtemp(), "m.ftrlx")
    >>> ftrlx.save(ftrlx.FTRLClassifier(alpha=0.05), path, metadata={"note": "untrained"})
    >>> ftrlx.load(path).alpha
    0.05
    """
    _save(model, path, "model", metadata, None)


def _build(header, arrays):
    cls = _resolve_class(header["class"])
    state = _decode(header["state"], arrays)
    if not isinstance(state, dict):
        raise FormatError("the model state in the file is not a mapping; the file is damaged")
    obj = cls.__new__(cls)
    if hasattr(obj, "__setstate__"):
        obj.__setstate__(state)
    else:  # pragma: no cover - every ftrlx estimator derives from BaseEstimator
        obj.__dict__.update(state)
    return obj


def load(path):
    """Read a model written by :func:`save` (or a checkpoint or sparse export).

    Nothing in the file is unpickled or executed: the header names the class,
    which must live in the ``ftrlx`` package, and the arrays are plain
    ``.npy`` data.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    estimator or SparseModel
        A sparse export loads as a :class:`SparseModel`.

    Raises
    ------
    FormatError
        If the file is corrupt or truncated (checksum or length mismatch),
        written by a newer format version, or names a class outside ftrlx.

    Examples
    --------
    >>> import os, tempfile
    >>> import ftrlx
    >>> path = os.path.join(tempfile.mkdtemp(), "m.ftrlx")
    >>> ftrlx.save(ftrlx.FTRLClassifier(l1=2.0), path)
    >>> ftrlx.load(path).get_params()["l1"]
    2.0
    """
    header, arrays = _read_container(path)
    if header.get("kind") == "sparse":
        return SparseModel._from_container(header, arrays)
    return _build(header, arrays)


def read_header(path):
    """Return the JSON header of a model file (checksum verified, arrays not decoded).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict
        With keys ``format_version``, ``kind``, ``class``, ``ftrlx_version``,
        ``created``, ``params`` (decoded, arrays replaced by a short
        description), ``metadata`` and ``arrays`` (the manifest).

    Examples
    --------
    >>> import os, tempfile
    >>> import ftrlx
    >>> from ftrlx.io import read_header
    >>> path = os.path.join(tempfile.mkdtemp(), "m.ftrlx")
    >>> ftrlx.save(ftrlx.FTRLClassifier(), path, metadata={"rows_seen": 0})
    >>> h = read_header(path)
    >>> h["format_version"], h["class"], h["metadata"]
    (1, 'ftrlx.FTRLClassifier', {'rows_seen': 0})
    """
    header, _ = _read_container(path, arrays=False)
    placeholders = [
        f"<array {e['dtype']} shape={tuple(e['shape'])}>" for e in header["arrays"]
    ]
    out = {
        "format_version": header["format_version"],
        "kind": header.get("kind"),
        "class": header.get("class"),
        "ftrlx_version": header.get("ftrlx_version"),
        "created": header.get("created"),
        "params": _decode(header.get("params", {}), placeholders),
        "metadata": _decode(header.get("metadata", {}), placeholders),
        "arrays": header["arrays"],
    }
    return out


# --------------------------------------------------------------------------
# checkpoints (used by ftrlx.stream)


def _save_checkpoint(model, path, stream_state, metadata=None):
    _save(model, path, "checkpoint", metadata, stream_state)


def _load_checkpoint(path):
    header, arrays = _read_container(path)
    if header.get("kind") != "checkpoint":
        raise FormatError(
            f"{os.fspath(path)!r} is a saved {header.get('kind')}, not a training checkpoint; "
            "pass the file written by fit_stream(checkpoint=...)"
        )
    return _build(header, arrays), _decode(header["extra"], arrays)


# --------------------------------------------------------------------------
# sparse export


_LINKS = {"log_loss": "logistic"}


def export_sparse(model, path, hasher=None):
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
        raise ValueError(
            f"{type(model).__name__} is not fitted (no coef_); fit it before exporting"
        )
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
        params={},
        state=enc.encode(state, "state"),
        metadata={"n_nonzero": int(state["indices"].size), "n_weights": int(coef.size)},
    )
    _write_container(path, header, enc.arrays)


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

    def __init__(self, indptr, indices, values, intercept, n_features, classes=None,
                 loss=None, link="identity", hasher_spec=None, estimator=None):
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
        n_out = self.indptr.size - 1
        if self.intercept.shape != (n_out,):
            raise ValueError(
                f"intercept has shape {self.intercept.shape}, expected ({n_out},) "
                "to match the weight rows"
            )
        # A (n_features, n_outputs) CSC-free representation: one sparse matrix
        # whose columns are the weight rows, so scoring is one sparse product.
        self._w = sp.csr_matrix(
            (self.values, self.indices, self.indptr), shape=(n_out, self.n_features_in_)
        ).T.tocsr()

    @classmethod
    def load(cls, path):
        """Read a file written by :func:`export_sparse`."""
        header, arrays = _read_container(path)
        if header.get("kind") != "sparse":
            raise FormatError(
                f"{os.fspath(path)!r} is a full {header.get('kind')} file, not a sparse export; "
                "use ftrlx.load, or write one with ftrlx.io.export_sparse"
            )
        return cls._from_container(header, arrays)

    @classmethod
    def _from_container(cls, header, arrays):
        s = _decode(header["state"], arrays)
        return cls(s["indptr"], s["indices"], s["values"], s["intercept"], s["n_features"],
                   classes=s["classes"], loss=s["loss"], link=s["link"],
                   hasher_spec=s["hasher_spec"], estimator=s["estimator"])

    @property
    def n_nonzero(self):
        """Number of stored (non-zero) weights."""
        return int(self.indices.size)

    @property
    def hasher(self):
        """The recorded feature hasher, rebuilt from :attr:`hasher_spec`."""
        if self.hasher_spec is None:
            raise ValueError(
                "this export has no hasher specification; pass hasher=reader.hasher to "
                "export_sparse to score raw rows"
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
        from scipy.special import expit

        d = self.decision_function(X)
        if d.ndim == 1:
            p = expit(d)
            return np.column_stack([1.0 - p, p])
        p = expit(d)
        total = p.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total == 0, 1.0 / p.shape[1], p / total)

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
