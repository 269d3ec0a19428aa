"""Models on disk: a small, versioned, checksummed file format.

:func:`save` writes any ftrlx estimator (its ``get_params()`` and
``__getstate__()``) to one file, and :func:`load` reads it back without ever
unpickling, so opening a model file cannot run code.  :func:`export_sparse`
writes only the non-zero weights, and :class:`SparseModel` serves
predictions from such an export.  Pickle and joblib keep working as usual for
ad-hoc use; this format is the one to keep and to ship.

File layout (format version 2)
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

The per-coordinate state ``state_``, a float64 array of shape (n_outputs,
n_features, n_slots), is stored as its rows that are not all zero::

    {"$rows": {"shape": [n_outputs, n_features, n_slots],
               "indptr": i, "indices": j, "values": k}}

where manifest entry ``i`` is an int64 array of n_outputs + 1 row pointers
(from 0 to the number of stored rows), ``j`` the stored rows' feature
indices (int32, or int64 beyond ``2**31 - 1`` features), strictly increasing
within each output, and ``k`` a float64 array with one row of n_slots values
per stored row.  The rows of output ``o`` are ``indices[indptr[o]:indptr[o + 1]]``; every
other row is zero.  A row counts as zero only if all its bits are (a ``-0.0``
is stored), so loading, ``np.zeros`` followed by the scatter of the stored
rows, gives back the saved array bit for bit.  The state starts as zeros and
training writes only the coordinates of the rows it sees, so the file holds
the coordinates the model has touched: its size and the time to write it
follow the model, not the width of the hashed space.  ``$rows`` appears only
there.  A state whose stored rows would take more bytes than the dense array
(a model that has touched most coordinates) is written as a dense ``$array``.

Format version 1 is the same container without ``$rows`` (``state_`` is a
dense ``$array``); this version reads it.

A reader refuses a file whose magic, length or checksum is wrong, and one
whose format version is newer than it knows.  A correct checksum proves only
that the file is intact, not that its content is sane, so :func:`load` also
checks the content against the estimator class it names, which must be one of
the online linear estimators of :mod:`ftrlx.linear_model`: the state may hold
only that class's hyper-parameters and fitted attributes, every array must
have the shape and dtype the class's algorithm needs and be finite, stored
rows must be sorted, unique and within the features, the classes must match
the number of outputs, and the hyper-parameters must pass the estimator's own
validation.  Anything else is a :class:`FormatError` (a ``ValueError``) naming
the file and the attribute.

Files are written to a temporary file in the destination directory
(``.<name>.<pid>@<host>.<random>.tmp``), array by array straight from memory
(no copy of the file is built first), flushed to disk and renamed over the
target, so a crash leaves either the old file or the new one; the next save of
the same target removes temporaries whose writer (on this host) has died.

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

import os

import numpy as np

# The names imported as themselves (``x as x``) are private ones that the rest of ftrlx and its tests use through
# this module; the write hook and the piece and scan sizes are read from here at each use, so setting them here
# takes effect.
from ._io_atomic import _TEMP_NAME as _TEMP_NAME
from ._io_atomic import _host_tag as _host_tag
from ._io_atomic import atomic_write, check_writable
from ._io_checks import (
    _REMEDY,
    _bad,
    _check_fitted,
    _check_names,
    _check_params_entry,
    _check_registered,
    _check_trusted,
    _class_path,
    _decoded,
    _resolve_class,
)
from ._io_container import _PIECE as _PIECE
from ._io_container import FORMAT_VERSION, FormatError, _header, _read_container, _read_kind, _write_container
from ._io_container import MAGIC as MAGIC
from ._io_container import _npy_bytes as _npy_bytes
from ._io_container import _npy_data as _npy_data
from ._io_container import _npy_header as _npy_header
from ._io_container import _write_blob as _write_blob
from ._io_encoding import _SCAN_GROUP as _SCAN_GROUP
from ._io_encoding import _SCAN_ROWS as _SCAN_ROWS
from ._io_encoding import _decode as _decode
from ._io_encoding import _Encoder, _Rows
from ._io_encoding import _touched_rows as _touched_rows
from ._io_sparse import SparseModel, export_sparse

__all__ = [
    "save",
    "load",
    "read_header",
    "export_sparse",
    "SparseModel",
    "FormatError",
    "atomic_write",
    "check_writable",
    "check_storable",
]

# The public names keep ftrlx.io as their module: the one documented, and the one pickles and files record.
for _obj in (FormatError, atomic_write, check_writable, SparseModel, export_sparse):
    _obj.__module__ = __name__
del _obj

_atomic_write = atomic_write  # the name the rest of ftrlx imports


def check_storable(model):
    """Raise the ``TypeError`` that :func:`save` would raise for ``model``'s hyper-parameters, without writing.

    A stream that checkpoints calls this before training, so that a parameter the format cannot hold (a
    ``numpy.random.RandomState`` as ``random_state``, say) is refused at the call, not at the first checkpoint.

    Examples
    --------
    >>> import numpy as np, ftrlx
    >>> check_storable(ftrlx.FTRLClassifier(random_state=0))
    >>> check_storable(ftrlx.FTRLClassifier(random_state=np.random.RandomState(0)))
    Traceback (most recent call last):
    ...
    TypeError: cannot store params['random_state'] of type RandomState: ...
    """
    _Encoder().encode(model.get_params(deep=False), "params")


def _save(model, path, kind, metadata, extra, version=FORMAT_VERSION):
    """Write a model or checkpoint; ``version=1`` writes the dense layout of format version 1."""
    class_path = _class_path(model)
    _check_trusted(class_path, "save")
    _check_registered(type(model), class_path, "save")
    enc = _Encoder()
    header = _header(kind, class_path)
    header.update(
        params=enc.encode(model.get_params(deep=False), "params"),
        state=enc.encode(_storable_state(model, rows=version >= 2), "state"),
        metadata=enc.encode(dict(metadata or {}), "metadata"),
    )
    if extra is not None:
        header["extra"] = enc.encode(extra, "extra")
    _write_container(path, header, enc.arrays, version)


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


def _storable_state(model, rows=True):
    """The state to encode: ``__getstate__()`` with ``state_`` as its stored rows (with ``rows``) and the column
    names as fixed-width strings."""
    state = dict(model.__getstate__())  # (a copy: __getstate__ may hand out the instance's own __dict__)
    dense = state.get("state_")
    if rows and isinstance(dense, np.ndarray) and dense.dtype == np.float64 and dense.ndim == 3 and dense.shape[0]:
        stored = _Rows.from_dense(dense)  # (any other state_ is stored as it is, and refused by load)
        state["state_"] = dense if stored is None else stored
    names = state.get("feature_names_in_")
    if isinstance(names, np.ndarray) and names.dtype.hasobject and all(isinstance(n, str) for n in names.tolist()):
        # scikit-learn keeps column names in an object array; the format stores them as fixed-width strings
        state["feature_names_in_"] = np.array(names.tolist(), dtype=str)
    return state


# hyper-parameters added after the first model files were written, with the value that trains as those did
_ADDED_PARAMS = {"n_jobs": 1, "parallel": "outputs"}


def _build(header, arrays, path="the file"):
    """The estimator of a model or checkpoint file, every attribute and hyper-parameter checked."""
    cls = _resolve_class(header.get("class"), path)
    rows = [] if header["format_version"] >= 2 else None  # the $rows values of the state, if it may have any
    state = _decoded(path, header, "state", arrays, rows=rows)
    if rows and not (len(rows) == 1 and state.get("state_") is rows[0]):
        raise _bad(path, "state", "only state_ can be held as stored rows ($rows), and only once")
    params = _decoded(path, header, "params", arrays)
    for name, default in _ADDED_PARAMS.items():  # files written before these hyper-parameters existed
        if name in cls._get_param_names() and name not in state and name not in params:
            state[name] = params[name] = default
    if _check_names(cls, state, path):
        _check_fitted(cls, state, path)
    _check_params_entry(cls, params, state, path)
    obj = cls.__new__(cls)
    obj.__setstate__(state)
    try:
        obj._validate_params()  # the estimator's own rules, cross-parameter ones included
    except (ValueError, TypeError) as exc:
        raise FormatError(f"{path}: invalid hyper-parameter: {exc}") from None
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
        A ``ValueError`` naming the file, if it is corrupt or truncated
        (checksum or length mismatch), written by a newer format version,
        names a class that is not one of ftrlx's online linear estimators,
        or holds an attribute that such an estimator cannot have (an unknown
        name, an array of the wrong shape or dtype, a non-finite state, an
        invalid hyper-parameter).

    Examples
    --------
    >>> import os, tempfile
    >>> import ftrlx
    >>> path = os.path.join(tempfile.mkdtemp(), "m.ftrlx")
    >>> ftrlx.save(ftrlx.FTRLClassifier(l1=2.0), path)
    >>> ftrlx.load(path).get_params()["l1"]
    2.0
    """
    path = os.fspath(path)
    header, arrays = _read_container(path)
    kind = header.get("kind")
    if kind == "sparse":
        return SparseModel._from_container(header, arrays, path)
    if kind not in ("model", "checkpoint"):
        raise FormatError(f"{path}: header entry 'kind' is {kind!r}, not 'model', 'checkpoint' or 'sparse'; {_REMEDY}")
    return _build(header, arrays, path)


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
    (2, 'ftrlx.FTRLClassifier', {'rows_seen': 0})
    """
    path = os.fspath(path)
    header, _ = _read_container(path, arrays=False)
    placeholders = [f"<array {e['dtype']} shape={tuple(e['shape'])}>" for e in header["arrays"]]
    params, metadata = (_header_mapping(path, header, key, placeholders) for key in ("params", "metadata"))
    out = {
        "format_version": header["format_version"],
        "kind": header.get("kind"),
        "class": header.get("class"),
        "ftrlx_version": header.get("ftrlx_version"),
        "created": header.get("created"),
        "params": params,
        "metadata": metadata,
        "arrays": header["arrays"],
    }
    return out


def _header_mapping(path, header, key, placeholders):
    """A decoded mapping entry of the header for :func:`read_header` (``{}`` if the entry is absent).

    Sparse exports written before this was fixed hold ``params`` and ``metadata`` as plain JSON objects of numbers
    (``{}`` and ``{"n_nonzero": ..., "n_weights": ...}``), not in their encoded form, which made every reader of
    the header (``ftrlx info``, ``predict``, ``evaluate``) fail; such an object, which the encoder never writes
    (its objects are tagged values of one ``$`` key), is read as it is."""
    value = header.get(key, {})
    legacy = (
        header.get("kind") == "sparse"
        and isinstance(value, dict)
        and not any(name.startswith("$") for name in value)
        and all(v is None or isinstance(v, (bool, int, float, str)) for v in value.values())
    )
    if legacy:
        return dict(value)
    return _decoded(path, header, key, placeholders) if key in header else {}


# --------------------------------------------------------------------------


# checkpoints (used by ftrlx.stream)


def _save_checkpoint(model, path, stream_state, metadata=None):
    _save(model, path, "checkpoint", metadata, stream_state)


def _load_checkpoint(path):
    path = os.fspath(path)
    header, arrays = _read_kind(
        path,
        "checkpoint",
        "{path!r} is a saved {found}, not a training checkpoint; pass the file written by fit_stream(checkpoint=...)",
    )
    return _build(header, arrays, path), _decoded(path, header, "extra", arrays)


# --------------------------------------------------------------------------
# sparse export
