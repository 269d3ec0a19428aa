"""Streaming reader for Vowpal Wabbit text files, with hashed features."""

import collections

import numpy as np
import scipy.sparse as sp

from .._kernels import _svm
from . import _base
from ._base import ChunkReader, Recycler, open_binary, rechunk_csr, rows_record, split_lines, with_placeholder_labels

__all__ = ["iter_vw"]

_CODE = _svm.VwCode
_SKIP = "fix the line or pass on_bad_lines='skip'"


def iter_vw(
    path, chunk_size=100_000, n_features=2**20, interactions=(), seed=0, binary=True, on_bad_lines="error", labels=True
):
    """Stream a Vowpal Wabbit (VW) text file as hashed CSR chunks with importance weights.

    Each line is one example, ``label [importance [base]] ['tag]|namespace[:weight] feature[:value]
    ... |namespace ...``:

    * before the first ``|`` come the label, then optionally the importance weight (default 1,
      must be finite and >= 0) and VW's base (parsed, then ignored). A tag is the word just before
      the ``|`` when it touches it (``zebra|f ...``) or when it starts with ``'``; it is parsed
      and ignored. A line without a label is an error.
    * ``|name`` (no space after the bar) opens namespace ``name``; ``|`` followed by a space opens
      the default namespace, whose name is empty. ``|name:w`` multiplies every value of the
      namespace by ``w``. One name may appear several times in a line.
    * a feature is a word without ``:``, ``|`` or spaces, optionally followed by ``:value`` (a
      decimal number; default 1). A value that is not a number (VW's ``city:paris``) is an error:
      write such a feature as one word (``city=paris``).
    * empty lines are skipped.

    Feature ``f`` of namespace ``ns`` goes to column ``h % n_features`` with
    ``h = murmurhash3_32(b"ns\\x00f", seed)`` (MurmurHash3 x86 32-bit, as
    ``sklearn.utils.murmurhash3_32(..., positive=True)``), value ``value * namespace weight``.
    Within a row, the entries of one column are added up (in the order of the line), zero sums are
    dropped and the columns are sorted.

    Parameters
    ----------
    path : str or path-like
        The file; ``.gz`` and ``.bz2`` files are decompressed on the fly.
    chunk_size : int, default=100_000
        Rows per chunk (the last chunk is shorter).
    n_features : int, default=2**20
        Number of hashed columns, 1 to 2**31.
    interactions : sequence of str, default=()
        Crossed namespaces, like VW's ``-q ab``: each item is two characters, and ``'ab'`` adds,
        for every feature of a namespace whose name starts with ``a`` and every feature of one
        starting with ``b``, the feature with value ``value_a * value_b`` at column
        ``murmurhash3_32(h_a.to_bytes(4, 'little') + h_b.to_bytes(4, 'little'), seed) %
        n_features``, where ``h_a`` and ``h_b`` are the two 32-bit hashes above. ``'aa'`` adds each
        unordered pair of two different features of those namespaces once (no feature with
        itself). The character ``' '`` stands for the default namespace.
    seed : int, default=0
        Seed of the hash, 0 to 2**32 - 1.
    binary : bool, default=True
        Labels must be -1, 0 or +1 and become 0/1 (label > 0). With False labels are kept as
        written.
    on_bad_lines : {'error', 'skip'}, default='error'
        What to do with a malformed line: raise ``ValueError("file:line: what; remedy")`` or drop
        it and count it in the reader's ``skipped``.
    labels : bool, default=True
        Whether lines start with a label. With False (a file to score) nothing but an optional tag
        may come before the first ``|``, and ``y`` is None.

    Returns
    -------
    reader : iterable of (X, y, sample_weight)
        ``X`` a CSR matrix of shape (rows, n_features) with sorted indices, ``y`` and
        ``sample_weight`` (the importance weights) float64 arrays. The reader has ``rows_read``,
        ``skipped`` and ``n_features`` attributes and can be iterated again. The text is parsed by
        compiled code with the GIL released.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.datasets import iter_vw
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.vw")
    >>> with open(path, "w") as f:
    ...     _ = f.write("1 2.0 'first|user age:0.5 city=paris |ad id=7\\n"
    ...                 "-1 |user:2 age:0.25\\n\\n")
    >>> reader = iter_vw(path, n_features=2**10, interactions=["ua"])
    >>> [(X.shape, X.nnz, y.tolist(), w.tolist()) for X, y, w in reader]
    [((2, 1024), 6, [1.0, 0.0], [2.0, 1.0])]
    >>> X, y, w = next(iter(reader))
    >>> X.getrow(1).data.tolist()  # 0.25 times the namespace weight 2
    [0.5]
    >>> reader.rows_read, reader.skipped
    (2, 0)
    """
    return VwReader(path, chunk_size, n_features, interactions, seed, binary, on_bad_lines, labels)


class VwReader(ChunkReader):
    """Iterable of ``(X, y, sample_weight)`` chunks of a VW file; see :func:`iter_vw`."""

    #: Threads parsing blocks at once; None: one per core (at most 4), 0: none besides the reading thread. Every
    #: setting gives the same chunks and errors.
    parse_threads = None

    def __init__(self, path, chunk_size, n_features, interactions, seed, binary, on_bad_lines, labels=True):
        super().__init__(path, chunk_size, on_bad_lines)
        if labels not in (True, False):
            raise ValueError(f"labels must be True or False, got {labels!r}")
        self.labeled = bool(labels)
        if (
            isinstance(n_features, bool)
            or not isinstance(n_features, (int, np.integer))
            or not 1 <= n_features <= 2**31
        ):
            raise ValueError(f"n_features must be an integer from 1 to 2**31, got {n_features!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
            raise ValueError(f"seed must be an integer from 0 to 2**32 - 1, got {seed!r}")
        self.n_features = int(n_features)
        self.seed = int(seed)
        self.interactions = _check_interactions(interactions)
        self.binary = bool(binary)

    def _chunks(self):
        return rechunk_csr(self._pieces(), self.chunk_size)

    def _pieces(self):
        from concurrent.futures import ThreadPoolExecutor

        from ._text_blocks import check_parse_threads

        threads = check_parse_threads(self.parse_threads)
        if threads == 0:
            yield from self._parsed(lambda call, *args: _Done(call(*args)), 1)
            return
        with ThreadPoolExecutor(threads, thread_name_prefix="ftrlx-parse") as workers:
            yield from self._parsed(workers.submit, threads + 1)

    def _parsed(self, submit, ahead):
        """The pieces of the file's blocks, each parsed by ``submit(call, *args)`` (in a worker thread, ``ahead``
        blocks ahead at most), taken in file order: a block's parse does not depend on the blocks before it, and
        its line numbers are offset once theirs are counted, so the pieces and errors are those of one parse."""
        pairs = "".join(self.interactions).encode("ascii")
        stop = self.on_bad_lines == "error"
        outputs = Recycler(keep=64)  # each block's rows (a chunk may span several blocks): fresh pages cost a fault
        free, pool = [], []  # parsers not parsing, and block buffers handed back

        def parse(buf, n):
            parser = free.pop() if free else _svm.VwParser(self.n_features, self.seed, self.binary, pairs)
            return parser, parser.parse(buf, n, 0, stop, copy=False)

        first_line = 1
        queued = collections.deque()
        with open_binary(self.path) as fh:
            blocks = iter(_base.pooled_line_blocks(fh, pool))

            def fill():
                while len(queued) < ahead:
                    nxt = next(blocks, None)
                    if nxt is None:
                        return
                    buf, n = nxt
                    text = buf
                    if not self.labeled:
                        text = with_placeholder_labels(memoryview(buf)[:n])
                        n = text.size
                    queued.append((buf, text, n, submit(parse, text, n)))

            fill()
            while queued:
                buf, text, n, task = queued.popleft()
                parser, (views, errors, n_lines) = task.result()
                # the rows out of the parser's buffers, which its next block overwrites
                out = tuple(_copied(view, outputs.empty) for view in views)
                free.append(parser)
                fill()
                out[5][...] += first_line
                for line, code, start, end in errors.tolist():
                    self._bad(line + first_line, *_describe(code, bytes(text[start:end]), self.labeled))
                piece = self._piece(*out, outputs.empty)
                if self.track_rows:
                    piece = piece[:2] + (rows_record(out[5], _tags(text, n, out[5] - first_line)),)
                first_line += n_lines
                pool.append(buf)
                yield piece

    def _piece(self, data, indices, indptr, y, weights, lines, empty):
        if indptr[-1] < 2**31:
            narrow = empty(indptr.size, np.dtype(np.int32))[: indptr.size]
            narrow[...] = indptr
            indptr = narrow
        else:
            indices = indices.astype(np.int64)
        X = sp.csr_matrix((data, indices, indptr), shape=(y.size, self.n_features))
        return X, y, weights

    def __repr__(self):
        return f"VwReader({self.path!r}, chunk_size={self.chunk_size}, n_features={self.n_features})"


class _Done:
    """A result already computed, as a finished future."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def _copied(view, empty):
    out = empty(view.size, view.dtype)[: view.size]
    out[...] = view
    return out


def _check_interactions(interactions):
    if isinstance(interactions, (str, bytes)):
        raise ValueError(f"interactions must be a list of two-character strings like ['ab'], got {interactions!r}")
    pairs = []
    for pair in interactions:
        if not (
            isinstance(pair, str)
            and len(pair) == 2
            and pair.isascii()
            and all(c == " " or (c.isprintable() and c not in ":|") for c in pair)
        ):
            raise ValueError(
                f"each interaction must be two ASCII namespace letters like 'ab' "
                f"(' ' for the default namespace), got {pair!r}"
            )
        pairs.append(pair)
    if len(pairs) > 256:
        raise ValueError(f"at most 256 interactions, got {len(pairs)}")
    return tuple(pairs)


def _tags(buf, n, rows):
    """The tag of each line ``rows`` (block line indices) of ``buf[:n]``, without its leading quote ('' if none).

    A tag is the last word before the first ``|`` when it touches the ``|`` or starts with ``'``, as the parser
    reads it. Where the words are found is computed for the whole block at once; only the tags are sliced out.
    """
    data = np.frombuffer(buf, dtype=np.uint8, count=n)
    starts, ends = split_lines(data)
    starts, ends = starts[rows], ends[rows]
    space = (data == 32) | (data == 9) | (data == 11) | (data == 12) | (data == 13) | (data == 10)
    bars = np.flatnonzero(data == 124)
    k = np.searchsorted(bars, starts)
    bar = np.minimum(np.append(bars, n)[k], ends)  # the first '|' of the line, or its end
    filled = np.flatnonzero(~space)
    j = np.searchsorted(filled, bar) - 1  # the last non-blank byte before the bar
    last = np.append(filled, -1)[j]
    has_word = (j >= 0) & (last >= starts)
    gaps = np.flatnonzero(space)
    m = np.searchsorted(gaps, last) - 1  # the blank before that word
    first = np.maximum(np.append(gaps, -1)[m] + 1, starts)
    first = np.where(has_word, first, starts)
    quoted = has_word & (data[np.minimum(first, n - 1)] == 39)
    is_tag = has_word & (((bar < ends) & (last + 1 == bar)) | quoted)
    first = first + quoted
    raw = buf if isinstance(buf, (bytes, bytearray)) else data.tobytes()
    return [
        raw[a:b].decode("utf-8", "replace") if t else None
        for a, b, t in zip(first.tolist(), (last + 1).tolist(), is_tag.tolist())
    ]


def _describe(code, word, labeled=True):
    """``(what, remedy)`` for a bad line: the parser's code and the word at fault."""
    text = word.decode("utf-8", "replace")
    if not labeled and code == _CODE.VW_TOO_MANY_WORDS:
        return (
            "a word before the first '|' besides a tag (a file read without labels)",
            "remove the label, or score the file as a labelled one",
        )
    if code == _CODE.VW_NO_LABEL:
        seen = f" ({text!r} is read as a tag)" if text else ""
        return (f"no label before the first '|'{seen}", "start the line with a label and a space, like '1 |f a b'")
    if code == _CODE.VW_TOO_MANY_WORDS:
        return (
            f"more than 3 words (label, importance, base) before the first '|', besides a tag; the last is {text!r}",
            "mark a tag with a leading ' or make it touch the '|'",
        )
    if code == _CODE.VW_BAD_LABEL:
        return f"label {text!r} is not a number", _SKIP
    if code == _CODE.VW_NOT_BINARY:
        return (f"label {text!r} is not a binary label (-1, 0 or +1)", "pass binary=False to keep labels as written")
    if code == _CODE.VW_BAD_IMPORTANCE:
        return f"importance weight {text!r} is not a finite number >= 0", _SKIP
    if code == _CODE.VW_BAD_BASE:
        return f"base {text!r} is not a number", _SKIP
    if code == _CODE.VW_BAD_NAMESPACE_WEIGHT:
        name, _, weight = text.partition(":")
        return f"weight {weight!r} of namespace {name!r} is not a number", _SKIP
    if code == _CODE.VW_NO_FEATURE_NAME:
        return f"feature {text!r} has no name", _SKIP
    name, _, value = text.partition(":")
    return (
        f"value {value!r} of feature {name!r} is not a number",
        "write a categorical value into the feature's name, like 'city=paris'",
    )
