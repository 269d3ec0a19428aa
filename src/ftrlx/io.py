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

import datetime
import functools
import hashlib
import io as _io
import json
import math
import numbers
import os
import re
import secrets
import socket
import struct

import numpy as np
import scipy.sparse as sp

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

MAGIC = b"\x89FTRLX\r\n"
FORMAT_VERSION = 2
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


# --------------------------------------------------------------------------
# the stored rows of a state (format version 2)

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
    found, count = [], 0
    for lo in range(0, n if slots else 0, _SCAN_ROWS):
        rows = _touched_in_step(np.ascontiguousarray(state2d[lo : lo + _SCAN_ROWS]), slots)
        found.append(lo + rows)
        count += rows.size
        if limit is not None and count > limit:
            return None
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _touched_in_step(block, slots):
    """The rows of a C-contiguous block that have a bit set: the largest 64-bit word of each group of
    ``_SCAN_GROUP`` rows (zero only if the whole group is) picks the groups to look at row by row."""
    words = block.reshape(-1).view(np.uint64)
    full = block.shape[0] // _SCAN_GROUP * _SCAN_GROUP
    grouped = words[: full * slots]
    groups = np.flatnonzero(grouped.reshape(-1, _SCAN_GROUP * slots).max(axis=1, initial=0))
    picked = grouped.reshape(-1, _SCAN_GROUP, slots)[groups]
    any_bit = picked[:, :, 0].copy()
    for j in range(1, slots):  # slot by slot: a reduction over 2 or 3 values per row is slow in NumPy
        any_bit |= picked[:, :, j]
    flat = np.flatnonzero(any_bit)
    rows = groups[flat // _SCAN_GROUP] * _SCAN_GROUP + flat % _SCAN_GROUP
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


def _npy_bytes(arr):
    """The complete ``.npy`` blob of ``arr`` in memory (what :func:`_npy_header` and :func:`_npy_data` stream)."""
    buf = _io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _npy_header(arr):
    """The ``.npy`` header of a C-contiguous array, as ``np.save`` writes it (version 1.0, or 2.0 if too long)."""
    fields = np.lib.format.header_data_from_array_1_0(arr)
    for write in (np.lib.format.write_array_header_1_0, np.lib.format.write_array_header_2_0):
        buf = _io.BytesIO()
        try:
            write(buf, fields)
        except ValueError:  # a header over 64 KiB (a structured dtype with many fields) needs version 2.0
            continue
        return buf.getvalue()
    raise TypeError(f"cannot store an array of dtype {arr.dtype}: its .npy header is too long")


_PIECE = 1 << 23  # bytes of array data per write: the checksum and the disk see the array in pieces, never a copy


def _npy_data(arr):
    """The data of a C-contiguous array as byte views of at most ``_PIECE`` bytes (no copy)."""
    flat = arr.reshape(-1).view(np.uint8) if arr.nbytes else np.zeros(0, dtype=np.uint8)
    return [memoryview(flat[lo : lo + _PIECE]) for lo in range(0, flat.size, _PIECE)]


def _write_blob(fh, blob):
    fh.write(blob)


class _HashingWriter:
    def __init__(self, fh):
        self.fh = fh
        self.sha = hashlib.sha256()

    def write(self, data):
        self.sha.update(data)
        self.fh.write(data)


# Temporary files are named ``.<target>.<pid>@<host>.<random>.tmp`` next to the target, so that the next save
# of the same target can tell its own leftovers (from a writer killed before it could clean up) from files of
# writers still at work: a file whose process is gone on this host is stale.
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.(?P<pid>[0-9]+)@(?P<host>[A-Za-z0-9-]*)\.[0-9a-f]+\.tmp\Z", re.DOTALL)
_TEMP_TARGET_MAX = 160  # keeps the temporary's name within the usual 255-byte limit


def _host_tag():
    # the first label of the host name, reduced to characters that are safe in every file system
    return re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname().split(".")[0])[:32]


def _temp_target(base):
    return base[:_TEMP_TARGET_MAX]


def _pid_alive(pid):
    """Whether process ``pid`` exists on this host (True when that cannot be told)."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists but belongs to someone else
        return True
    return True


def _remove_stale_temps(directory, base):
    """Delete the temporary files of target ``base`` left by writers of this host that no longer run."""
    target, host = _temp_target(base), _host_tag()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m is None or m["target"] != target or m["host"] != host:
            continue
        pid = int(m["pid"])
        if pid != os.getpid() and not _pid_alive(pid):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _create_temp(directory, base):
    """Create a new, empty temporary file for target ``base``; return ``(fd, path)``.

    ``os.open`` with mode 0o666 lets the kernel apply the process's umask, as an ordinary ``open()`` would, without
    reading or changing the umask (which is process-wide, so changing it races with other threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    prefix = f".{_temp_target(base)}.{os.getpid()}@{_host_tag()}."
    for _ in range(100):
        tmp = os.path.join(directory, f"{prefix}{secrets.token_hex(8)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file in {directory!r}: every name tried exists")


def _keep_mode(fd, tmp, path):
    """Give the temporary the mode of the file it will replace, if there is one."""
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        return  # a new file keeps the umask's mode
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # pragma: no cover - Windows
        os.chmod(tmp, mode)


def _fsync_directory(directory):
    # Makes the rename itself durable (not possible on every platform).
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


def atomic_write(path, write):
    """Call ``write(fh)`` on a new temporary file, then rename it over ``path``.

    A crash at any point leaves either the previous file or the complete new one.  The temporary file lives in the
    destination directory, so that the final :func:`os.replace` is a rename within one file system (atomic on
    POSIX and Windows); it is flushed to disk first.  The new file gets the mode of the file it replaces, or the
    mode an ordinary ``open()`` would give it (0o666 less the umask).  Temporary files of ``path`` left behind by
    a writer that was killed (its process no longer exists) are removed.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its directory must exist.
    write : callable
        Called once with a binary file object open for writing.

    Raises
    ------
    FileNotFoundError
        If the directory of ``path`` does not exist.

    See Also
    --------
    check_writable : tells before any work whether ``path`` can be written.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.io import atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> atomic_write(path, lambda fh: fh.write(b"first"))
    >>> atomic_write(path, lambda fh: fh.write(b"second"))
    >>> open(path, "rb").read(), os.listdir(os.path.dirname(path))
    (b'second', ['notes.txt'])
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: directory {directory!r} does not exist; create it first")
    base = os.path.basename(path)
    _remove_stale_temps(directory, base)
    fd, tmp = _create_temp(directory, base)
    try:
        with os.fdopen(fd, "wb") as fh:
            _keep_mode(fh.fileno(), tmp, path)
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
    _fsync_directory(directory)


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


def check_writable(path, what="output"):
    """Raise a clear ValueError now if :func:`atomic_write` could not write ``path`` later.

    Call it before a long job whose result goes to ``path``, so that a typo in a directory name costs nothing.
    Writing needs the directory to exist and to be writable (the file is replaced by a rename, so a read-only
    file in a writable directory is fine); ``path`` must not be a directory.

    Parameters
    ----------
    path : str or os.PathLike
        The file that will be written.
    what : str, default="output"
        What the file is for, used in the message (e.g. ``"model output"``, ``"checkpoint"``).

    Raises
    ------
    ValueError
        Naming ``path``, ``what`` and the reason.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.io import check_writable
    >>> directory = tempfile.mkdtemp()
    >>> check_writable(os.path.join(directory, "model.ftrlx"))
    >>> check_writable(os.path.join(directory, "missing", "model.ftrlx"), what="checkpoint")
    Traceback (most recent call last):
    ...
    ValueError: cannot write checkpoint '...model.ftrlx': directory '...missing' does not exist; create it or choose another path
    """
    path = os.fspath(path)
    if not path:
        raise ValueError(f"cannot write {what}: the path is empty; give a file name")
    if os.path.isdir(path):
        raise ValueError(f"cannot write {what} {path!r}: it is a directory; give a file name inside it")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(directory):
        raise ValueError(
            f"cannot write {what} {path!r}: directory {directory!r} does not exist; create it or choose another path"
        )
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write {what} {path!r}: {directory!r} is not a directory; choose another path")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError(
            f"cannot write {what} {path!r}: directory {directory!r} is not writable by this user; "
            "change its permissions or choose another path"
        )


def _write_container(path, header, arrays, version=FORMAT_VERSION):
    """Write a model file atomically: prefix, header, the arrays as .npy blobs streamed from memory, checksum."""
    arrays = [np.require(a, requirements="C") for a in arrays]  # (no copy: the encoder's arrays are C-ordered)
    heads = [_npy_header(a) for a in arrays]
    manifest, offset = [], 0
    for arr, head in zip(arrays, heads):
        nbytes = len(head) + arr.nbytes
        manifest.append({"offset": offset, "nbytes": nbytes, "dtype": arr.dtype.str, "shape": list(arr.shape)})
        offset += nbytes
    header = dict(header, arrays=manifest, payload_nbytes=offset)
    header_bytes = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")

    def write(fh):
        out = _HashingWriter(fh)
        out.write(_PREFIX.pack(MAGIC, version, len(header_bytes)))
        out.write(header_bytes)
        for arr, head in zip(arrays, heads):
            _write_blob(out, head)
            for piece in _npy_data(arr):
                _write_blob(out, piece)
        fh.write(out.sha.digest())

    atomic_write(path, write)


def _read_container(path, *, arrays=True):
    """``(header, arrays)`` of a model file, after checking its length, checksum and manifest."""
    path = os.fspath(path)
    with open(path, "rb") as fh:
        data = fh.read()
    header, start = _parse_container(path, data)
    manifest = _check_manifest(path, header)
    loaded = [_read_npy(path, i, data, start, entry) for i, entry in enumerate(manifest)] if arrays else []
    return header, loaded


def _parse_container(path, data):
    """The header (a dict, with ``format_version`` added) and the payload's offset; the checksum verified."""
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
        payload_nbytes = header["payload_nbytes"]
        if type(payload_nbytes) is not int or payload_nbytes < 0:
            raise ValueError(f"payload_nbytes={payload_nbytes!r} is not a byte count")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise FormatError(f"{path!r} has a corrupt header ({exc!r}); the file is damaged") from None
    end = start + payload_nbytes
    if len(data) != end + _DIGEST_SIZE:
        raise FormatError(
            f"{path!r} is truncated or has trailing bytes: expected {end + _DIGEST_SIZE} bytes, "
            f"found {len(data)}; the file is incomplete or damaged"
        )
    if hashlib.sha256(memoryview(data)[:end]).digest() != data[end:]:
        raise FormatError(f"{path!r} failed its SHA-256 checksum; the file is corrupt")
    if header.get("format") != "ftrlx-model":
        raise FormatError(f"{path!r}: header entry 'format' is {header.get('format')!r}, not 'ftrlx-model'")
    header["format_version"] = version
    return header, start


def _is_count(value):
    return type(value) is int and value >= 0


def _check_manifest(path, header):
    """The list of array entries, each checked to lie inside the payload."""
    manifest = header.get("arrays")
    if not isinstance(manifest, list):
        raise FormatError(f"{path!r}: header entry 'arrays' is not a list; the file is damaged")
    for i, e in enumerate(manifest):
        ok = (
            isinstance(e, dict)
            and _is_count(e.get("offset"))
            and _is_count(e.get("nbytes"))
            and isinstance(e.get("dtype"), str)
            and isinstance(e.get("shape"), list)
            and all(_is_count(n) for n in e["shape"])
        )
        if not ok:
            raise FormatError(f"{path!r}: array {i} of the manifest is malformed ({e!r}); the file is damaged")
        if e["offset"] + e["nbytes"] > header["payload_nbytes"]:
            raise FormatError(
                f"{path!r}: array {i} ends at byte {e['offset'] + e['nbytes']} of a payload of "
                f"{header['payload_nbytes']} bytes; the file is damaged"
            )
    return manifest


def _read_npy(path, i, data, start, entry):
    """Array ``i``: a ``.npy`` blob whose own header must agree with the manifest and with its size."""
    lo = start + entry["offset"]
    blob = _io.BytesIO(memoryview(data)[lo : lo + entry["nbytes"]])
    try:
        version = np.lib.format.read_magic(blob)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f".npy format version {version} is not one ftrlx writes")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(blob)
        if dtype.hasobject:
            raise ValueError("arrays of dtype object are never stored")
        if dtype.str != entry["dtype"] or list(shape) != entry["shape"]:
            raise ValueError(f"it holds {dtype.str} {list(shape)}, the manifest says {entry['dtype']} {entry['shape']}")
        if math.prod(shape) * dtype.itemsize != entry["nbytes"] - blob.tell():
            raise ValueError(f"its {entry['nbytes']} bytes do not fit a {dtype.str} array of shape {tuple(shape)}")
        blob.seek(0)
        return np.lib.format.read_array(blob, allow_pickle=False)
    except (ValueError, TypeError, EOFError, OverflowError) as exc:
        raise FormatError(f"{path!r}: array {i} of the payload is malformed ({exc}); the file is damaged") from None


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
    if not isinstance(class_path, str) or not (class_path + ".").startswith(_TRUSTED_PREFIXES):
        raise FormatError(
            f"refusing to {action} class {class_path!r}: only classes from the ftrlx package "
            "can be stored in an ftrlx model file; use pickle or joblib for other objects"
        )


@functools.cache
def _model_classes():
    """The classes the format holds, by every name a file may give them: the online linear estimators."""
    from ftrlx import linear_model
    from ftrlx.linear_model._base import _OnlineLinearModel

    names = {}
    for name in linear_model.__all__:
        cls = getattr(linear_model, name)
        if isinstance(cls, type) and issubclass(cls, _OnlineLinearModel):
            for module in ("ftrlx", "ftrlx.linear_model", cls.__module__):
                names[f"{module}.{name}"] = cls
    return names


def _check_registered(cls, class_path, action):
    if cls is None or cls not in _model_classes().values():
        raise FormatError(
            f"refusing to {action} class {class_path!r}: the ftrlx model format holds only the online linear "
            "estimators of ftrlx.linear_model (FTRLClassifier, RDARegressor, ...); use pickle or joblib "
            "for other objects (or a newer ftrlx, if one wrote the file)"
        )


def _resolve_class(class_path, path="the file"):
    """The estimator class a file names; only the registered classes, looked up without importing anything."""
    _check_trusted(class_path, "load")
    cls = _model_classes().get(class_path)
    _check_registered(cls, class_path, f"load {path!r} as")
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


# --------------------------------------------------------------------------
# checks of a loaded estimator: a file that passed its checksum is still untrusted input, and the kernels trust
# the state they are given completely (an n_features_in_ larger than the state array reads and writes out of
# bounds), so every attribute is checked against what an estimator of the class can hold.

_FITTED = ("n_features_in_", "state_", "istate_", "gstate_")
_FITTED_OPTIONAL = ("n_iter_", "sparse_coef_", "feature_names_in_")
# the slot (per coordinate and of the intercept) that accumulates squared gradients, so is never negative
_SQUARES_SLOT = {"ftrl": 1, "adagrad": 1, "lazy_adam": 2}
_MAX_STEPS = 2.0**53  # a step counter beyond this is no longer an exact integer in float64
_REMEDY = "the file was altered or damaged; use a copy written by ftrlx.save"


def _bad(path, name, problem, remedy=_REMEDY):
    return FormatError(f"{path}: {name}: {problem}; {remedy}")


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_names(cls, state, path):
    """Only the attributes an estimator of ``cls`` has; returns whether the state is that of a fitted model."""
    from ftrlx.linear_model._base import OnlineClassifierMixin

    params = cls._get_param_names()
    fitted = _FITTED + (("classes_",) if issubclass(cls, OnlineClassifierMixin) else ())
    allowed = set(params) | set(fitted) | set(_FITTED_OPTIONAL)
    for key in state:
        if not isinstance(key, str) or key not in allowed:
            raise _bad(
                path,
                f"state[{key!r}]",
                f"is not an attribute of a {cls.__name__} (it has the "
                f"hyper-parameters {', '.join(params)} and the fitted attributes "
                f"{', '.join(fitted + _FITTED_OPTIONAL)})",
            )
    for name in params:
        if name not in state:
            raise _bad(path, name, f"the hyper-parameter is missing from the state of the {cls.__name__}")
    present = [name for name in fitted + _FITTED_OPTIONAL if name in state]
    missing = [name for name in fitted if name not in state]
    if present and missing:
        raise _bad(path, missing[0], f"is missing, but the file has the fitted attribute {present[0]}")
    return bool(present)


def _first_nonfinite(arr):
    """Index of the first NaN or infinity of ``arr``, or None (in blocks, so a large state needs no big mask)."""
    flat = arr.reshape(-1)
    step = 1 << 20
    for lo in range(0, flat.size, step):
        bad = np.flatnonzero(~np.isfinite(flat[lo : lo + step]))
        if bad.size:
            return np.unravel_index(lo + int(bad[0]), arr.shape)
    return None


def _state_array(path, name, value, shape, why):
    """A float64 array of exactly ``shape``, finite, C-contiguous and writable (the kernels' buffers)."""
    if not isinstance(value, np.ndarray) or value.dtype != np.float64:
        raise _bad(path, name, f"must be a float64 array, found {_describe(value)}")
    if value.shape != shape:
        raise _bad(path, name, f"has shape {value.shape}, but {why} needs {shape}")
    at = _first_nonfinite(value)
    if at is not None:
        raise _bad(path, name, f"holds {value[at]} at index {tuple(int(i) for i in at)}; the state must be finite")
    return np.require(value, requirements=["C", "W"])


def _check_classes(path, classes, n_outputs):
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or classes.dtype.kind not in "biufUS":
        raise _bad(path, "classes_", f"must be a 1-d array of numbers or strings, found {_describe(classes)}")
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        raise _bad(path, "classes_", "holds NaN or infinity")
    if classes.size < 2 or not np.array_equal(np.unique(classes), classes):
        raise _bad(
            path, "classes_", f"must be at least two distinct labels in sorted order, found {classes.tolist()!r}"
        )
    expected = 1 if classes.size == 2 else classes.size
    if n_outputs != expected:
        raise _bad(path, "state_", f"has {n_outputs} outputs, but {classes.size} classes need {expected}")


def _check_step_counter(path, gstate):
    steps = gstate[:, 0]
    if not ((steps >= 0) & (steps <= _MAX_STEPS) & (steps == np.floor(steps))).all():
        raise _bad(
            path,
            "gstate_",
            f"column 0 (t_, steps taken) must hold whole numbers in [0, 2**53], found {steps.tolist()!r}",
        )


def _n_outputs(raw):
    """The number of outputs a state array (or its stored rows) claims; 1 where it claims none."""
    claims = isinstance(raw, _Rows) or (isinstance(raw, np.ndarray) and raw.ndim == 3)
    return raw.shape[0] if claims and raw.shape[0] >= 1 else 1


def _check_fitted(cls, state, path):
    """Shapes, dtypes, finiteness and consistency of the fitted attributes; the arrays made kernel-ready."""
    from ftrlx._kernels import _online
    from ftrlx.linear_model._base import OnlineClassifierMixin

    n_features = state["n_features_in_"]
    if not _is_int(n_features) or n_features < 1:
        raise _bad(path, "n_features_in_", f"must be a positive integer, found {_describe(n_features)}")
    _, n_slots, n_islots = _online.ALGORITHMS[cls._algorithm]
    raw = state["state_"]
    n_outputs = _n_outputs(raw)
    why = f"a {cls.__name__} with n_features_in_={n_features} and {n_outputs} output(s)"
    state["n_features_in_"] = int(n_features)
    shape = (n_outputs, int(n_features), n_slots)
    if isinstance(raw, _Rows):  # format version 2: the stored rows are checked, the rest is zero
        slots = _check_rows(path, "state_", raw, shape, why)
    else:
        state["state_"] = slots = _state_array(path, "state_", raw, shape, why)
    # the small arrays are copied, so that no two attributes can share one buffer
    state["istate_"] = _state_array(path, "istate_", state["istate_"], (n_outputs, n_islots), why).copy()
    state["gstate_"] = _state_array(path, "gstate_", state["gstate_"], (n_outputs, _online.GLOBAL_SLOTS), why).copy()
    _check_step_counter(path, state["gstate_"])
    slot = _SQUARES_SLOT.get(cls._algorithm)
    if slot is not None:
        for name, values in (("state_", slots), ("istate_", state["istate_"])):
            if (values[..., slot] < 0).any():
                raise _bad(path, name, f"slot {slot} accumulates squared gradients but holds a negative value")
    if issubclass(cls, OnlineClassifierMixin):
        _check_classes(path, state["classes_"], n_outputs)
    elif n_outputs != 1:
        raise _bad(path, "state_", f"has {n_outputs} outputs, but a regressor has one")
    _check_optional(path, state, n_features)
    if isinstance(raw, _Rows):
        state["state_"] = _dense_state(path, "state_", raw)


def _check_rows(path, name, rows, shape, why):
    """The stored rows of a state (format version 2) against the ``shape`` the model needs: the arrays' types and
    shapes, the row pointers, the row indices (sorted, each once, in range) and finite values.  Returns the
    values, one row of slots per stored row."""
    if rows.shape != shape:
        raise _bad(path, name, f"has shape {rows.shape}, but {why} needs {shape}")
    n_outputs, n_rows, n_slots = shape
    indptr, indices, values = rows.indptr, rows.indices, rows.values
    if not (isinstance(indptr, np.ndarray) and indptr.dtype == np.int64 and indptr.shape == (n_outputs + 1,)):
        raise _bad(
            path,
            name,
            f"the row pointers of its stored rows must be an int64 array of shape "
            f"({n_outputs + 1},), found {_describe(indptr)}",
        )
    if not (isinstance(indices, np.ndarray) and indices.dtype in (np.int32, np.int64) and indices.ndim == 1):
        raise _bad(
            path, name, f"the indices of its stored rows must be a 1-d int32 or int64 array, found {_describe(indices)}"
        )
    if not (isinstance(values, np.ndarray) and values.dtype == np.float64 and values.shape == (indices.size, n_slots)):
        raise _bad(
            path,
            name,
            f"the values of its {indices.size} stored rows must be a float64 array of shape "
            f"({indices.size}, {n_slots}), found {_describe(values)}",
        )
    if indptr[0] != 0 or indptr[-1] != indices.size or (np.diff(indptr) < 0).any():
        raise _bad(
            path,
            name,
            f"the row pointers must rise from 0 to {indices.size} (the number of stored rows), "
            f"found {indptr.tolist()[:10]!r}",
        )
    for k in range(n_outputs):
        _check_row_indices(path, name, k, indices[indptr[k] : indptr[k + 1]], n_rows)
    at = _first_nonfinite(values)
    if at is not None:
        j, slot = (int(i) for i in at)
        where = (rows.output_of(j), int(indices[j]), slot)
        raise _bad(path, name, f"holds {values[j, slot]} at index {where}; the state must be finite")
    return values


def _check_row_indices(path, name, k, stored, n_rows):
    """The stored rows of output ``k``: strictly increasing (sorted, none twice) and within ``[0, n_rows)``."""
    if not stored.size:
        return
    stored = stored.astype(np.int64)  # (differences of int32 indices could overflow)
    bad = np.flatnonzero(np.diff(stored) <= 0)
    if bad.size:
        i = int(bad[0])
        raise _bad(
            path,
            name,
            f"the stored rows of output {k} must be strictly increasing (sorted, each once), "
            f"found row {stored[i]} then row {stored[i + 1]} at positions {i} and {i + 1}",
        )
    if stored[0] < 0 or stored[-1] >= n_rows:
        row = stored[0] if stored[0] < 0 else stored[-1]
        raise _bad(path, name, f"output {k} stores row {row}, outside [0, {n_rows})")


def _dense_state(path, name, rows):
    """The dense state of checked stored rows (np.zeros maps the pages of the rows never stored lazily)."""
    try:
        return rows.to_dense()
    except (MemoryError, ValueError, OverflowError) as exc:
        raise _bad(
            path,
            name,
            f"a state of shape {rows.shape} cannot be allocated ({exc})",
            remedy="load the model on a machine with more memory",
        ) from None


def _check_optional(path, state, n_features):
    if "n_iter_" in state and not (_is_int(state["n_iter_"]) and state["n_iter_"] >= 0):
        raise _bad(path, "n_iter_", f"must be a non-negative integer, found {_describe(state['n_iter_'])}")
    if "sparse_coef_" in state and not isinstance(state["sparse_coef_"], (bool, np.bool_)):
        raise _bad(path, "sparse_coef_", f"must be True or False, found {_describe(state['sparse_coef_'])}")
    if "feature_names_in_" in state:
        names = state["feature_names_in_"]
        if not (isinstance(names, np.ndarray) and names.dtype.kind == "U" and names.shape == (n_features,)):
            raise _bad(
                path, "feature_names_in_", f"must be {n_features} strings (one per feature), found {_describe(names)}"
            )
        state["feature_names_in_"] = names.astype(object)  # as scikit-learn records them


def _same_value(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    return type(a) is type(b) and repr(a) == repr(b)


def _check_params_entry(cls, params, state, path):
    """The header's ``params`` (what ``ftrlx info`` shows) must be the hyper-parameters the model has."""
    names = cls._get_param_names()
    if not isinstance(params, dict) or sorted(params, key=str) != sorted(names):
        raise _bad(path, "params", f"must name exactly the hyper-parameters of a {cls.__name__}")
    for name in names:
        if not _same_value(params[name], state[name]):
            raise _bad(path, name, f"the header says {params[name]!r} but the model state has {state[name]!r}")


def _decoded(path, header, key, arrays, kind=dict, rows=None):
    try:
        value = _decode(header[key], arrays, rows)
    except KeyError:
        raise FormatError(f"{path}: header entry {key!r} is missing; {_REMEDY}") from None
    except (FormatError, RecursionError) as exc:
        raise FormatError(f"{path}: header entry {key!r}: {exc}; {_REMEDY}") from None
    if not isinstance(value, kind):
        raise _bad(path, key, f"must be a mapping, found {_describe(value)}")
    return value


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
    header, arrays = _read_container(path)
    if header.get("kind") != "checkpoint":
        raise FormatError(
            f"{path!r} is a saved {header.get('kind')}, not a training checkpoint; "
            "pass the file written by fit_stream(checkpoint=...)"
        )
    return _build(header, arrays, path), _decoded(path, header, "extra", arrays)


# --------------------------------------------------------------------------
# sparse export


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
        header, arrays = _read_container(path)
        if header.get("kind") != "sparse":
            raise FormatError(
                f"{os.fspath(path)!r} is a full {header.get('kind')} file, not a sparse export; "
                "use ftrlx.load, or write one with ftrlx.io.export_sparse"
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
