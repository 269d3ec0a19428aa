"""Plumbing shared by the file readers: opening, line blocks, re-chunking."""

import bz2
import collections
import gzip
import os
import sys

import numpy as np
import scipy.sparse as sp

# Bytes of text handed to a parser at once. Small enough to keep memory flat,
# large enough that the per-block overhead vanishes.
BLOCK_BYTES = 1 << 23

_ON_BAD_LINES = ("error", "skip")


#: The path that names standard input.
STDIN = "-"
_GZIP_MAGIC = b"\x1f\x8b"


def open_binary(path):
    """Open ``path`` for reading bytes, decompressing .gz and .bz2 files.

    ``"-"`` is standard input (decompressed when it starts with the gzip magic bytes); closing it leaves the
    process's standard input open.
    """
    return _without_bom(_open_binary(os.fspath(path)))


def _open_binary(path):
    if path == STDIN:
        fh = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
        if fh.peek(2)[:2] != _GZIP_MAGIC:
            return fh
        unzipped = gzip.GzipFile(fileobj=fh, mode="rb")
        unzipped.myfileobj = fh  # closed with it, as a file GzipFile opened itself
        return unzipped
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


_BOM = b"\xef\xbb\xbf"


def _without_bom(fh):
    """``fh`` past a UTF-8 byte-order mark at its start, if it has one."""
    try:
        if fh.peek(3)[:3] == _BOM:
            fh.read(3)
    except (OSError, EOFError):
        pass  # a damaged stream: the reader that reads it reports it
    return fh


def read_error(path, exc):
    """A ValueError naming ``path`` for an input that cannot be decompressed or decoded (``exc``), or None when
    ``exc`` is not such an error."""
    import zlib

    import pyarrow as pa

    if isinstance(exc, gzip.BadGzipFile):
        what = f"not a valid gzip file ({exc})"
    elif isinstance(exc, EOFError):
        what = "the compressed stream ends early (a truncated file?)"
    elif isinstance(exc, zlib.error):
        what = f"the gzip data is corrupt ({exc})"
    elif isinstance(exc, OSError) and "Invalid data stream" in str(exc):
        what = "not a valid bz2 file"
    elif isinstance(exc, UnicodeDecodeError):
        what = f"the text is not UTF-8 (byte {exc.object[exc.start : exc.start + 1]!r})"
    elif isinstance(exc, OverflowError):
        what = f"a number is too large ({exc})"
    elif isinstance(exc, pa.ArrowInvalid):
        what = " ".join(str(exc).split())
    else:
        return None
    return ValueError(f"{path}: cannot read the file: {what}")


def open_binary_write(path, compresslevel=1):
    """Open ``path`` for writing bytes, compressing when it ends in .gz/.bz2."""
    path = os.fspath(path)
    if path.endswith(".gz"):
        # mtime=0 keeps the output byte-identical from run to run.
        return gzip.GzipFile(path, "wb", compresslevel=compresslevel, mtime=0)
    if path.endswith(".bz2"):
        return bz2.open(path, "wb", compresslevel=max(compresslevel, 1))
    return open(path, "wb")


def check_chunk_size(chunk_size):
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return int(chunk_size)


def check_on_bad_lines(on_bad_lines):
    if on_bad_lines not in _ON_BAD_LINES:
        raise ValueError(f"on_bad_lines must be 'error' or 'skip', got {on_bad_lines!r}")
    return on_bad_lines


def bad_line(name, line, what, remedy=None):
    """The error for a malformed input line: ``file:line: what (remedy)``."""
    message = f"{name}:{line}: {what}"
    if remedy:
        message += f"; {remedy}"
    return ValueError(message)


#: Per-row record of a reader in row-tracking mode: the row's line number in the file and its id (or None).
ROW_DTYPE = np.dtype([("line", np.int64), ("id", object)])

#: Bytes a line starts with in a file read without labels: a placeholder label the parsers accept.
_NO_LABEL = b"0 "


def rows_record(lines, ids=None):
    """The :data:`ROW_DTYPE` array of rows at ``lines`` with ``ids`` (a sequence, or None)."""
    rows = np.empty(len(lines), dtype=ROW_DTYPE)
    rows["line"] = lines
    rows["id"] = None if ids is None else ids
    return rows


def data_line_starts(buf, starts, ends, comment=None):
    """Which lines of a block hold data: a non-blank byte first, and not ``comment``."""
    blank = (buf == 32) | (buf == 9) | (buf == 10) | (buf == 13) | (buf == 11) | (buf == 12)
    nonblank = np.flatnonzero(~blank)
    if nonblank.size == 0:
        return np.zeros(starts.size, dtype=bool)
    k = np.searchsorted(nonblank, starts)
    first = nonblank[np.minimum(k, nonblank.size - 1)]
    data = (k < nonblank.size) & (first < ends)
    if comment is not None:
        data &= buf[first] != comment
    return data


def with_placeholder_labels(block, comment=None):
    """``block`` (whole lines) with :data:`_NO_LABEL` put before every data line, as a uint8 array.

    Lines keep their numbers; blank lines (and comment lines) are left as they are.
    """
    buf = np.frombuffer(block, dtype=np.uint8)
    starts, ends = split_lines(buf)
    at = starts[data_line_starts(buf, starts, ends, comment)]
    prefix = np.frombuffer(_NO_LABEL, dtype=np.uint8)
    out = np.insert(buf, np.repeat(at, prefix.size), np.tile(prefix, at.size))
    return out


def iter_line_blocks(fh, first_line=1, block_bytes=None):
    """Yield ``(block, first_line_number)`` where block holds whole lines.

    Every block ends with a newline (one is added after a last line that
    lacks it), so the number of lines in it is its count of newlines.
    """
    block_bytes = block_bytes or BLOCK_BYTES
    line = first_line
    rest = b""
    while True:
        data = fh.read(block_bytes)
        if not data:
            break
        data = rest + data
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        block, rest = data[: cut + 1], data[cut + 1 :]
        yield block, line
        line += block.count(b"\n")
    if rest:
        yield rest + b"\n", line


# Room in a block buffer for the part of a line cut by the previous block's end (longer lines grow the buffer).
_LINE_SLACK = 1 << 16


def pooled_line_blocks(fh, pool, block_bytes=None):
    """Yield ``(buffer, n)``: the bytearray ``buffer`` holds whole lines in ``buffer[:n]``, the last one ending
    with a newline (one is added after a last line without it).

    The blocks are those of :func:`iter_line_blocks`, read straight into buffers taken from the list ``pool``
    (a new one when it is empty), with no copy of the text besides the few bytes of a line cut by a block's end.
    A buffer is the caller's until the caller appends it to ``pool`` again, when its content is no longer needed:
    several blocks may be in use at once (parsed in several threads, say), and reused buffers cost no page
    faults, where a fresh multi-megabyte bytes object per block (and the copies that cut it into lines) cost
    more than the parse.
    """
    step = block_bytes or BLOCK_BYTES
    rest = b""
    while True:
        buf = pool.pop() if pool else bytearray(step + _LINE_SLACK)
        filled = len(rest)
        if len(buf) < filled + step:  # a line longer than a block: make room
            buf.extend(bytes(filled + step - len(buf)))
        buf[:filled] = rest
        while True:
            with memoryview(buf) as view:
                got = fh.readinto(view[filled : filled + step])
            if not got:
                break
            filled += got
            cut = buf.rfind(b"\n", 0, filled) + 1
            if cut:
                break
            if len(buf) < filled + step:
                buf.extend(bytes(filled + step - len(buf)))
        if not got:
            if filled:
                if len(buf) == filled:
                    buf.append(10)
                else:
                    buf[filled] = 10
                yield buf, filled + 1
            else:
                pool.append(buf)
            return
        rest = bytes(buf[cut:filled])
        yield buf, cut


def split_lines(buf):
    """Start and end offsets of the lines of a block (ends exclude \\n and \\r)."""
    ends = np.flatnonzero(buf == 10)
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    has_cr = np.zeros(ends.size, dtype=bool)
    nonempty = ends > starts
    has_cr[nonempty] = buf[ends[nonempty] - 1] == 13
    return starts, ends - has_cr


def count_in_lines(buf, starts, ends, byte):
    """How many times ``byte`` occurs in each line, without a Python loop."""
    hits = np.flatnonzero(buf == byte)
    return np.searchsorted(hits, ends) - np.searchsorted(hits, starts)


class Recycler:
    """Output arrays of earlier chunks, handed out again once nothing else refers to them.

    A chunk's arrays are fresh memory otherwise, and the first write to every page of them costs a page fault
    (zeroing a page as well): about as much as assembling the chunk. An array is reused only when its one
    remaining reference is this object's own (in CPython every view, memoryview or buffer export of an array
    holds a reference to it), so a chunk the consumer keeps is never written to; up to ``keep`` arrays are kept.
    """

    def __init__(self, keep=12):
        self.keep = keep
        self.arrays = []

    def empty(self, size, dtype):
        arrays = self.arrays
        best = small = None  # the smallest unused array of this dtype that fits; an unused one too small
        for i in range(len(arrays)):
            if arrays[i].dtype == dtype and _unused(arrays, i):
                if arrays[i].size >= size:
                    if best is None or arrays[i].size < arrays[best].size:
                        best = i
                else:
                    small = i
        if best is not None:
            out = arrays.pop(best)
            arrays.append(out)
            return out
        if not _RECYCLABLE:
            return np.empty(size, dtype=dtype)
        if small is not None:  # replaced by the new one
            del arrays[small]
        out = np.empty(size + size // 8, dtype=dtype)  # room for the next chunks, a little larger or smaller
        arrays.append(out)
        if len(arrays) > self.keep:
            del arrays[0]
        return out


def _references(arrays, i):
    return sys.getrefcount(arrays[i])


# The count of an array that only the list holds, as _references sees it (the interpreter may or may not count
# the argument); reference counts tell whether an array is in use only on CPython.
_FREE = _references([np.empty(1)], 0)
_RECYCLABLE = sys.implementation.name == "cpython" and _FREE <= 2


def _unused(arrays, i):
    return _references(arrays, i) == _FREE


def rechunk_csr(pieces, chunk_size, extra=False):
    """Regroup a stream of ``(X, y[, extra])`` pieces into chunks of exactly
    ``chunk_size`` rows (the last one shorter). Widths may grow along the
    stream; earlier pieces are widened with empty columns.

    A chunk is what ``scipy.sparse.vstack`` gives for the row slices of the pieces it takes (a piece taken whole
    and alone is yielded as it is), but the pieces are never sliced: each chunk's arrays are written once, from
    the rows of the pieces.
    """
    buf = collections.deque()  # [piece, first row not yet taken]
    outputs = Recycler()
    n_buffered = 0
    for piece in pieces:
        if piece[0].shape[0] == 0:
            continue
        buf.append([piece, 0])
        n_buffered += piece[0].shape[0]
        while n_buffered >= chunk_size:
            yield _take(buf, chunk_size, outputs)
            n_buffered -= chunk_size
    if n_buffered:
        yield _take(buf, n_buffered, outputs)


def _take(buf, n, outputs):
    """The first n rows of the buffered pieces; the pieces used up leave ``buf``."""
    parts = []  # (piece, first row, end row)
    while n:
        entry = buf[0]
        piece, a = entry
        b = min(piece[0].shape[0], a + n)
        parts.append((piece, a, b))
        n -= b - a
        if b == piece[0].shape[0]:
            buf.popleft()
        else:
            entry[1] = b
    if len(parts) == 1 and parts[0][1] == 0 and parts[0][2] == parts[0][0][0].shape[0]:
        return parts[0][0]
    return _stack(parts, outputs)


def _stack(parts, outputs):
    """The CSR matrix (and companion arrays) of rows [a, b) of each piece, stacked in order."""
    width = max(piece[0].shape[1] for piece, _, _ in parts)
    starts = [int(piece[0].indptr[a]) for piece, a, _ in parts]
    ends = [int(piece[0].indptr[b]) for piece, _, b in parts]
    nnz = sum(e - s for s, e in zip(starts, ends))
    index_dtype = np.int64 if max(nnz, width) > np.iinfo(np.int32).max else np.int32
    data = outputs.empty(max(nnz, 1), parts[0][0][0].data.dtype)[:nnz]
    np.concatenate([piece[0].data[s:e] for (piece, _, _), s, e in zip(parts, starts, ends)], out=data)
    indices = outputs.empty(max(nnz, 1), np.dtype(index_dtype))[:nnz]
    np.concatenate([piece[0].indices[s:e] for (piece, _, _), s, e in zip(parts, starts, ends)], out=indices)
    n_rows = sum(b - a for _, a, b in parts)
    indptr = outputs.empty(n_rows + 1, np.dtype(index_dtype))[: n_rows + 1]
    indptr[0] = 0
    row, offset = 1, 0
    for (piece, a, b), s, e in zip(parts, starts, ends):
        indptr[row : row + b - a] = piece[0].indptr[a + 1 : b + 1].astype(index_dtype) - (s - offset)
        row += b - a
        offset += e - s
    X = sp.csr_matrix((data, indices, indptr), shape=(n_rows, width))
    rest = tuple(np.concatenate([piece[k][a:b] for piece, a, b in parts]) for k in range(1, len(parts[0][0])))
    return (X,) + rest


class ChunkReader:
    """Base of the readers: a re-iterable object yielding ``(X, y)`` chunks.

    Each iteration opens the input anew and resets ``rows_read`` and
    ``skipped``, so the same reader can serve several passes (epochs).
    """

    #: Whether the lines hold labels (readers that can read unlabelled lines set it from their ``labels=``).
    labeled = True
    #: Row tracking, for scoring files line by line (the command line's ``predict``): when True, chunks are
    #: ``(X, y, rows)`` with ``rows`` a :data:`ROW_DTYPE` array (each row's line number, and id where the reader
    #: knows one), and ``bad_lines`` lists the line numbers of the lines skipped, in the order they were read.
    track_rows = False

    def __init__(self, path, chunk_size, on_bad_lines="error"):
        self.path = os.fspath(path)
        self.chunk_size = check_chunk_size(chunk_size)
        self.on_bad_lines = check_on_bad_lines(on_bad_lines)
        self.rows_read = 0
        self.skipped = 0
        self.bad_lines = []

    def __iter__(self):
        self.rows_read = 0
        self.skipped = 0
        self.bad_lines = []
        chunks = self._chunks()
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - only decoding errors are translated
                error = read_error(self.path, exc)
                if error is None:
                    raise
                raise error from exc
            self.rows_read += chunk[0].shape[0]
            if not self.labeled and chunk[1] is not None:
                chunk = (chunk[0], None) + tuple(chunk[2:])
            yield chunk

    def _chunks(self):  # pragma: no cover - every reader defines it
        raise NotImplementedError

    def _bad(self, line, what, remedy=None):
        """Raise for a bad line, or count it when skipping; True means skip."""
        if self.on_bad_lines == "error":
            if remedy is None:
                remedy = "fix the line or pass on_bad_lines='skip'"
            raise bad_line(self.path, line, what, remedy)
        self._skip_lines((line,))
        return True

    def _skip_lines(self, lines):
        """Count the skipped ``lines`` (and list them when tracking rows)."""
        self.skipped += len(lines)
        if self.track_rows:
            self.bad_lines.extend(int(n) for n in lines)

    def __repr__(self):
        return f"{type(self).__name__}({self.path!r}, chunk_size={self.chunk_size})"
