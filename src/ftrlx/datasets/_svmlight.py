"""Streaming reader for svmlight / libsvm files."""

import io

import numpy as np
import scipy.sparse as sp

from .._kernels import _svm
from . import _base
from ._base import (
    ChunkReader,
    data_line_starts,
    iter_line_blocks,
    open_binary,
    rechunk_csr,
    rows_record,
    split_lines,
    with_placeholder_labels,
)

__all__ = ["iter_svmlight"]

_BINARY_LABELS = (-1.0, 0.0, 1.0)


def iter_svmlight(
    path,
    chunk_size=100_000,
    n_features=None,
    zero_based="auto",
    binary=True,
    dtype=np.float64,
    on_bad_lines="error",
    fold=False,
    labels=True,
):
    """Stream an svmlight/libsvm file as CSR chunks.

    Lines look like ``label index:value index:value ... # comment``; indices
    must increase along a line, ``qid:`` tokens are ignored, and blank or
    comment-only lines are skipped. Only one block of text (a few MB) is held
    at a time. Each block is parsed by compiled code with the GIL released,
    so a thread can read the next chunk while another trains; only a line
    that is not in the plain form (a malformed one, or a number written like
    ``1_000`` or ``nan``) is handed to Python, to name what is wrong with it.

    Parameters
    ----------
    path : str or path-like
        The file; ``.gz`` and ``.bz2`` files are decompressed on the fly.
    chunk_size : int, default=100_000
        Rows per chunk (the last chunk is shorter).
    n_features : int or None, default=None
        Width of every chunk. An index beyond it is an error. With None the
        width grows: each chunk is as wide as the largest index read so far
        (plus one; the reader reads ahead by one block of a few MB), so chunks
        of one file can differ in width. Pass it
        whenever it is known (a9a: 123) so every chunk has the same width.
    zero_based : bool or 'auto', default='auto'
        Whether indices start at 0. 'auto' decides from the first block of the
        file: zero-based when it holds an index 0, else one-based (a later
        index 0 in a file read as one-based is then an error).
    binary : bool, default=True
        Map classification labels -1/0/+1 to 0/1 (any other label is an
        error). With False labels are returned as written.
    dtype : numpy dtype, default=np.float64
        dtype of the feature values (labels are always float64).
    on_bad_lines : {'error', 'skip'}, default='error'
        What to do with a malformed line: raise ``ValueError("file:line:
        ...")`` or drop it and count it in the reader's ``skipped``.
    fold : bool, default=False
        Only with ``n_features``: fold an index ``j >= n_features`` (zero-based,
        after the shift of one-based files) to ``j % n_features`` instead of
        raising. Entries that land on one column are added up (in the order of
        the line, in float64, then cast to ``dtype``; a sum of zero is kept as
        a stored zero) and every row stays sorted. This trains a stream at a
        fixed width without knowing its largest index in advance; the folded
        columns share weights, as in feature hashing.
    labels : bool, default=True
        Whether lines start with a label. With False every line starts with
        its first ``index:value`` pair (a file to score) and ``y`` is None;
        a line that holds a label is then an error.

    Returns
    -------
    reader : iterable of (X, y)
        ``X`` a CSR matrix with sorted indices, ``y`` float64 (None with
        ``labels=False``). The reader has ``rows_read`` and ``skipped``
        attributes, ``zero_based_used`` (the convention applied, once
        decided) and can be iterated again.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.datasets import iter_svmlight
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.svm")
    >>> with open(path, "w") as f:
    ...     _ = f.write("+1 1:0.5 3:1\\n# a comment\\n-1 2:2\\n+1 qid:7 3:1\\n")
    >>> reader = iter_svmlight(path, chunk_size=2, n_features=3)
    >>> [(X.shape, y.tolist()) for X, y in reader]
    [((2, 3), [1.0, 0.0]), ((1, 3), [1.0])]
    >>> reader.rows_read
    3
    >>> X, y = next(iter(reader))
    >>> X.toarray()
    array([[0.5, 0. , 1. ],
           [0. , 2. , 0. ]])
    >>> with open(path, "w") as f:
    ...     _ = f.write("1 2:1 5:0.5 7:2\\n")
    >>> X, y = next(iter(iter_svmlight(path, n_features=3, fold=True)))
    >>> X.indices.tolist(), X.data.tolist()  # zero-based 1, 4, 6 -> 1, 1, 0
    ([0, 1], [2.0, 1.5])
    """
    return SvmlightReader(path, chunk_size, n_features, zero_based, binary, dtype, on_bad_lines, fold, labels)


class SvmlightReader(ChunkReader):
    """Iterable of ``(X, y)`` chunks of an svmlight file; see :func:`iter_svmlight`."""

    # Which parser reads the blocks: "compiled", or "python" (scikit-learn's parser, with a Python
    # parser for blocks it rejects: the reader as it was before the compiled one, kept for the tests).
    _engine = "compiled"

    def __init__(self, path, chunk_size, n_features, zero_based, binary, dtype, on_bad_lines, fold=False, labels=True):
        super().__init__(path, chunk_size, on_bad_lines)
        if labels not in (True, False):
            raise ValueError(f"labels must be True or False, got {labels!r}")
        self.labeled = bool(labels)
        if n_features is not None and (isinstance(n_features, bool) or int(n_features) != n_features or n_features < 1):
            raise ValueError(f"n_features must be a positive integer or None, got {n_features!r}")
        if zero_based not in (True, False, "auto"):
            raise ValueError(f"zero_based must be True, False or 'auto', got {zero_based!r}")
        self.n_features = None if n_features is None else int(n_features)
        self.zero_based = zero_based
        self.binary = bool(binary)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        if fold not in (True, False):
            raise ValueError(f"fold must be True or False, got {fold!r}")
        if fold and self.n_features is None:
            raise ValueError("fold=True folds indices modulo n_features; pass n_features too")
        self.fold = bool(fold)

    @property
    def zero_based_used(self):
        """Whether the indices were read as zero-based: ``zero_based``, or what 'auto' decided from the
        first block (None before that block has been read)."""
        offset = getattr(self, "_offset", {True: 0, False: 1}.get(self.zero_based))
        return None if offset is None else offset == 0

    def _chunks(self):
        self._offset = {True: 0, False: 1}.get(self.zero_based)
        self._width = 0
        return rechunk_csr(self._pieces(), self.chunk_size)

    def _pieces(self):
        with open_binary(self.path) as fh:
            if self._engine == "python":
                if self.fold:
                    raise ValueError("the Python engine does not fold indices")
                for block, first_line in iter_line_blocks(fh):
                    if not self.labeled:
                        block = with_placeholder_labels(block, comment=35).tobytes()
                    yield self._parse_block(block, first_line)
                return
            self._parser = _svm.SvmlightParser()
            self._outputs = _base.Recycler(keep=32)  # each block's rows (a chunk may span several): fresh pages fault
            first_line = 1
            for buf, n in reused_line_blocks(fh):
                if not self.labeled:
                    buf = with_placeholder_labels(memoryview(buf)[:n], comment=35)
                    n = buf.size
                piece, n_lines = self._parse_block_compiled(buf, n, first_line)
                first_line += n_lines
                yield piece

    # -- compiled parsing ----------------------------------------------------
    def _parse_block_compiled(self, buf, n, first_line):
        """Parse the whole lines ``buf[:n]``: the piece ``(X, y)`` and the number of lines."""
        stop = self.on_bad_lines == "error"
        raw, failed, n_lines = self._parser.parse(buf, n, first_line, stop)
        bad = []
        for line, start, end in failed.tolist():
            what = _line_problem(bytes(buf[start:end]))
            if what is None:
                # A form only Python reads (1_000, nan, ...): parse the whole block in Python.
                raw, bad = _parse_lines(bytes(buf[:n]), first_line, stop)
                break
            bad.append((line, what))
        if bad and stop:
            self._finish_raw(*raw)  # faults of earlier lines found only after parsing come first
            self._bad(*bad[0])
        for line, what in bad:
            self._bad(line, what)
        return self._finish_raw(*raw), n_lines

    def _finish_raw(self, labels, lines, indptr, indices, values):
        """Apply the options to raw rows: report or drop bad rows, shift, fold, cast."""
        n = labels.size
        if n and self._offset is None:
            self._offset = 0 if (indices.size and indices.min() == 0) else 1
        offset = self._offset or 0
        unusable = _unusable_rows(labels, indptr, indices, values)
        if unusable is not None:
            mask, describe = unusable
            if self.on_bad_lines == "error":
                r = int(np.flatnonzero(mask)[0])
                self._finish_raw(*_rows(labels, lines, indptr, indices, values, np.arange(n) < r))
                self._bad(int(lines[r]), describe(r))
            self._skip_lines(lines[mask])
            labels, lines, indptr, indices, values = _rows(labels, lines, indptr, indices, values, ~mask)
            n = labels.size
        limit = -1 if self.n_features is None else self.n_features
        problems = np.empty(n, dtype=np.uint8)
        n_bad, nnz, largest = _svm.check_rows(labels, indptr, indices, offset, limit, self.binary, self.fold, problems)
        if n_bad:
            if self.on_bad_lines == "error":
                self._report_row(labels, lines, indptr, indices, problems, offset)
            self._skip_lines(lines[problems != 0])
        if self.n_features is not None:
            width = self.n_features
        else:
            self._width = max(self._width, largest + 1)
            width = self._width
        index_dtype = np.dtype(np.int32 if width < 2**31 and nnz < 2**31 else np.int64)
        outputs = getattr(self, "_outputs", None)
        empty = np.empty if outputs is None else outputs.empty
        y = empty(n - n_bad, np.dtype(np.float64))[: n - n_bad]
        out_indptr = empty(n - n_bad + 1, index_dtype)[: n - n_bad + 1]
        out_indices = empty(nnz, index_dtype)[:nnz]
        out_values = empty(nnz, np.dtype(self.dtype))[:nnz]
        _, nnz = _svm.emit_rows(
            labels,
            indptr,
            indices,
            values,
            problems,
            offset,
            limit,
            self.fold,
            self.binary,
            y,
            out_indptr,
            out_indices,
            out_values,
        )
        X = sp.csr_matrix((out_values[:nnz], out_indices[:nnz], out_indptr), shape=(y.size, width))
        if self.track_rows:
            return X, y, rows_record(lines[problems == 0] if n_bad else lines)
        return X, y

    def _report_row(self, labels, lines, indptr, indices, problems, offset):
        """Raise for the first row with a problem (the lowest problem bit first)."""
        r = int(np.flatnonzero(problems)[0])
        bits = int(problems[r])
        if bits & _svm.RowProblem.ZERO_INDEX:
            message = self._zero_index_message()
        elif bits & _svm.RowProblem.INDEX_TOO_LARGE:
            message = self._too_large_message(int(indices[indptr[r + 1] - 1]), offset)
        else:
            message = _label_message(labels[r])
        self._bad(int(lines[r]), *message)

    # -- messages shared by both engines ---------------------------------------
    def _zero_index_message(self):
        how = (
            "zero_based=False"
            if self.zero_based is False
            else ("zero_based='auto' found no index 0 in the first block")
        )
        return (f"feature index 0 in a file read as one-based ({how})", "pass zero_based=True")

    def _too_large_message(self, index, offset):
        limit = self.n_features - 1 + offset
        return (
            f"feature index {index} is beyond n_features={self.n_features} (largest allowed index: {limit})",
            "pass a larger n_features or fold=True",
        )

    # -- the Python engine ---------------------------------------------------
    def _parse_block(self, block, first_line):
        buf = np.frombuffer(block, dtype=np.uint8)
        starts, ends = split_lines(buf)
        data_lines = first_line + np.flatnonzero(data_line_starts(buf, starts, ends, 35))
        parsed = None
        if data_lines.size:
            from sklearn.datasets import load_svmlight_file  # here: importing sklearn.datasets takes 0.3 s

            try:
                X, y = load_svmlight_file(io.BytesIO(block), zero_based=True, dtype=np.float64)
            except (ValueError, OverflowError):
                pass
            else:
                if X.shape[0] == data_lines.size:
                    parsed = X, y, data_lines
        else:
            parsed = sp.csr_matrix((0, 0)), np.zeros(0), data_lines
        if parsed is None:
            parsed = self._parse_block_slowly(block, first_line)
        return self._finish(*parsed)

    def _parse_block_slowly(self, block, first_line):
        """Python parser, run only on blocks the fast parser rejected."""
        stop = self.on_bad_lines == "error"
        (labels, lines, indptr, indices, data), bad = _parse_lines(block, first_line, stop)
        parsed = _build(data, indices, indptr, labels, lines)
        if bad and stop:
            # Faults of earlier lines found only after parsing come first.
            self._finish(*parsed)
            self._bad(*bad[0])
        for line, what in bad:
            self._bad(line, what)
        return parsed

    def _finish(self, X, y, lines):
        """Check indices and labels row by row, drop or report bad rows."""
        n = y.size
        if n and self._offset is None:
            self._offset = 0 if (X.nnz and X.indices.min() == 0) else 1
        offset = self._offset or 0
        row_of = np.repeat(np.arange(n), np.diff(X.indptr))
        # (row mask, message builder), in the order the compiled engine checks a row: a label or value that is not
        # finite first, then the indices, then the label's class
        problems = []
        unusable = _unusable_rows(y, X.indptr, X.indices, X.data)
        if unusable is not None:
            problems.append((unusable[0], lambda r: (unusable[1](r),)))
        if offset == 1:
            zero_rows = np.zeros(n, dtype=bool)
            zero_rows[row_of[X.indices == 0]] = True
            problems.append((zero_rows, lambda r: self._zero_index_message()))
        if self.n_features is not None:
            too_big = np.zeros(n, dtype=bool)
            over = X.indices - offset >= self.n_features
            too_big[row_of[over]] = True
            problems.append(
                (too_big, lambda r: self._too_large_message(X.indices[X.indptr[r] : X.indptr[r + 1]].max(), offset))
            )
        if self.binary:
            not_binary = ~np.isin(y, _BINARY_LABELS)
            problems.append((not_binary, lambda r: _label_message(y[r])))
        bad = np.zeros(n, dtype=bool)
        for mask, _ in problems:
            bad |= mask
        if self.on_bad_lines == "error" and bad.any():
            r = int(np.flatnonzero(bad)[0])
            message = next(message for mask, message in problems if mask[r])
            self._bad(int(lines[r]), *message(r))
        if bad.any():
            self._skip_lines(lines[bad])
            keep = np.flatnonzero(~bad)
            X, y = X[keep], y[keep]
        if self.binary:
            y = (y > 0).astype(np.float64)
        indices = X.indices - offset
        if self.n_features is not None:
            width = self.n_features
        else:
            if indices.size:
                self._width = max(self._width, int(indices.max()) + 1)
            width = self._width
        index_dtype = np.int32 if width < 2**31 and X.nnz < 2**31 else np.int64
        out = sp.csr_matrix(
            (X.data.astype(self.dtype, copy=False), indices.astype(index_dtype), X.indptr.astype(index_dtype)),
            shape=(y.size, width),
        )
        if self.track_rows:
            return out, y.astype(np.float64, copy=False), rows_record(lines[~bad])
        return out, y.astype(np.float64, copy=False)


def reused_line_blocks(fh):
    """Yield ``(buffer, n)``: the bytearray ``buffer`` holds whole lines in ``buffer[:n]``, the last
    one ending with a newline (one is added after a last line without it).

    The blocks are those of :func:`~ftrlx.datasets._base.iter_line_blocks` (the bytes left over
    after the last newline, plus the next BLOCK_BYTES read), but the text is read into one
    buffer, reused from block to block: allocating new multi-megabyte bytes objects for every
    block (and touching their fresh pages) cost ten times the reading. The buffer is valid until
    the next step.
    """
    pool = []
    for buf, n in _base.pooled_line_blocks(fh, pool):
        yield buf, n
        pool.append(buf)


def _unusable_rows(labels, indptr, indices, values):
    """Rows the parsers read but no model can use: a label or value that is not finite (nan, inf, or too large for
    a float64). ``(mask, describe)`` with ``describe(r)`` saying what is wrong with row r, or None when every row
    is usable."""
    bad_values = ~np.isfinite(values)
    bad_labels = ~np.isfinite(labels)
    if not (bad_values.any() or bad_labels.any()):
        return None
    mask = bad_labels.copy()
    mask[np.repeat(np.arange(labels.size), np.diff(indptr))[bad_values]] = True

    def describe(r):
        if bad_labels[r]:
            return f"label {float(labels[r])!r} is not a finite number"
        k = int(np.flatnonzero(bad_values[indptr[r] : indptr[r + 1]])[0]) + indptr[r]
        return f"value {float(values[k])!r} of feature {int(indices[k])} is not a finite number"

    return mask, describe


def _rows(labels, lines, indptr, indices, values, keep):
    """The raw rows where ``keep`` is True."""
    lengths = np.diff(indptr)
    entries = np.repeat(keep, lengths)
    new_indptr = np.zeros(int(keep.sum()) + 1, dtype=indptr.dtype)
    np.cumsum(lengths[keep], out=new_indptr[1:])
    return labels[keep], lines[keep], new_indptr, indices[entries], values[entries]


def _label_message(label):
    return (f"label {label:g} is not a binary label (-1, 0 or +1)", "pass binary=False to keep labels as written")


def _parse_lines(block, first_line, stop_at_bad):
    """Parse a block in Python: raw ``(labels, lines, indptr, indices, values)`` arrays (file
    indices) and the bad lines as ``(line, what)``; with stop_at_bad, stop at the first one.
    """
    data, indices, indptr, labels, lines, bad = [], [], [0], [], [], []
    for number, raw in enumerate(block.split(b"\n")[:-1], start=first_line):
        tokens = raw.split(b"#", 1)[0].split()
        if not tokens:
            continue
        row = _parse_tokens(tokens)
        if isinstance(row, str):
            bad.append((number, row))
            if stop_at_bad:
                break
            continue
        label, idx, val = row
        labels.append(label)
        indices.extend(idx)
        data.extend(val)
        indptr.append(len(indices))
        lines.append(number)
    raw = (
        np.asarray(labels, dtype=np.float64),
        np.asarray(lines, dtype=np.int64),
        np.asarray(indptr, dtype=np.int64),
        np.asarray(indices, dtype=np.int64),
        np.asarray(data, dtype=np.float64),
    )
    return raw, bad


def _line_problem(raw):
    """What is wrong with one line, or None when Python reads it (then the block is parsed
    in Python)."""
    tokens = raw.split(b"#", 1)[0].split()
    row = _parse_tokens(tokens) if tokens else None
    return row if isinstance(row, str) else None


def _build(data, indices, indptr, labels, lines):
    """Raw (file-indexed) CSR, labels and line numbers from the arrays of _parse_lines."""
    width = int(indices.max()) + 1 if indices.size else 0
    X = sp.csr_matrix((data, indices, indptr), shape=(labels.size, width))
    return X, labels, lines


def _parse_tokens(tokens):
    """Parse one line's tokens; a str return value describes what is wrong."""
    label = tokens[0].decode("utf-8", "replace")
    try:
        label_value = float(label)
    except ValueError:
        return f"label {label!r} is not a number"
    idx, val = [], []
    previous = -1
    for token in tokens[1:]:
        name, colon, value = token.partition(b":")
        text = token.decode("utf-8", "replace")
        if not colon:
            return f"token {text!r} is not of the form index:value"
        if name == b"qid":
            continue
        name_text = name.decode("utf-8", "replace")
        try:
            index = int(name)
        except ValueError:
            return f"feature index {name_text!r} is not an integer"
        if index < 0:
            return f"feature index {index} is negative"
        try:
            number = float(value)
        except ValueError:
            return f"value {value.decode('utf-8', 'replace')!r} of feature {index} is not a number"
        if index <= previous:
            return f"feature indices must increase along a line, but {index} comes after {previous}"
        previous = index
        idx.append(index)
        val.append(number)
    return label_value, idx, val
