"""The ftrlx model container: prefix, JSON header, ``.npy`` arrays and checksum (see :mod:`ftrlx.io`).

Part of :mod:`ftrlx.io`.  The write hook ``_write_blob`` and the piece size ``_PIECE`` are read from
:mod:`ftrlx.io` at each write (:func:`_public`), so that setting them there takes effect."""

import datetime
import hashlib
import io as _io
import json
import math
import os
import struct

import numpy as np

from ._io_atomic import atomic_write

MAGIC = b"\x89FTRLX\r\n"
FORMAT_VERSION = 2
_PREFIX = struct.Struct("<8sIQ")
_DIGEST_SIZE = 32


class FormatError(ValueError):
    """The file is not a readable ftrlx model (corrupt, truncated, too new, untrusted)."""


def _public(name):
    """The attribute ``name`` of :mod:`ftrlx.io`, the module whose write hook and piece and scan sizes are in
    force (they are defined here and in :mod:`ftrlx._io_encoding`, and re-exported there)."""
    from ftrlx import io

    return getattr(io, name)


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
    piece = _public("_PIECE")
    return [memoryview(flat[lo : lo + piece]) for lo in range(0, flat.size, piece)]


def _write_blob(fh, blob):
    fh.write(blob)


class _HashingWriter:
    def __init__(self, fh):
        self.fh = fh
        self.sha = hashlib.sha256()

    def write(self, data):
        self.sha.update(data)
        self.fh.write(data)


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

    write_blob = _public("_write_blob")

    def write(fh):
        out = _HashingWriter(fh)
        out.write(_PREFIX.pack(MAGIC, version, len(header_bytes)))
        out.write(header_bytes)
        for arr, head in zip(arrays, heads):
            write_blob(out, head)
            for piece in _npy_data(arr):
                write_blob(out, piece)
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


def _read_kind(path, kind, wrong):
    """``(header, arrays)`` of a model file whose header entry ``kind`` is ``kind``; a file of another kind raises
    FormatError(``wrong``, formatted with ``path`` and the kind ``found``)."""
    header, arrays = _read_container(path)
    if header.get("kind") != kind:
        raise FormatError(wrong.format(path=path, found=header.get("kind")))
    return header, arrays


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


def _header(kind, class_path):
    from ftrlx import __version__

    return {
        "format": "ftrlx-model",
        "kind": kind,
        "class": class_path,
        "ftrlx_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
