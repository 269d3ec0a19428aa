"""The compiled path of the Criteo/Avazu readers: blocks read into reused buffers, parsed in threads, in order.

The file is read block by block into a few reused buffers (:func:`~ftrlx.datasets._base.pooled_line_blocks`).
Each block goes to a worker thread that parses and hashes it with its own
:class:`~ftrlx._kernels._tsv.BlockParser` (the parse releases the GIL), a few blocks ahead of the thread that
assembles the chunks. The results are taken in file order, so the chunks, counters and errors are those of one
parser going through the file: a block's parse does not depend on any other block, and its line numbers are
offset once the lines of the blocks before it are known. Rows merged by the parse (values +-1) are copied into
the chunk being filled as soon as their block is parsed, which frees the block's parse buffers for later blocks
at once. Where the kernel stops (a bad line to report, or an input it leaves to pyarrow), the rows not yet
yielded and the rest of the file go to the pyarrow path, as with a single parser.
"""

import collections
import itertools
import os

import numpy as np
import scipy.sparse as sp

from .._kernels import _tsv
from ._base import Recycler, pooled_line_blocks

#: Parser threads when a reader does not set ``parse_threads``: one per core, at most this many.
MAX_PARSE_THREADS = 4
#: Entries (or columns) from which a chunk's indices are int64, as CategoricalHasher makes them.
INT32_LIMIT = 2**31
#: Rows the chunk being filled has room for at first (it grows, for chunks of more rows).
FIRST_ROWS = 2**17


def default_parse_threads():
    """One parser thread per core this process may run on, at most :data:`MAX_PARSE_THREADS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platforms without sched_getaffinity
        cores = os.cpu_count() or 1
    return max(1, min(MAX_PARSE_THREADS, cores))


def check_parse_threads(threads):
    if threads is None:
        return default_parse_threads()
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
        raise ValueError(f"parse_threads must be a non-negative integer or None, got {threads!r}")
    return int(threads)


class _Blocks:
    """The blocks of one pass, with the buffers they live in and their first line numbers."""

    def __init__(self, fh, first_line):
        self.pool = []
        self._it = pooled_line_blocks(fh, self.pool)
        self.line = first_line  # the first line of the next block taken in order

    def __iter__(self):
        return self._it

    def as_text(self, blocks):
        """``(bytes, first_line)`` of ``blocks`` (``(buffer, n)`` pairs taken in order), buffers released."""
        for buf, n in blocks:
            block = bytes(memoryview(buf)[:n])
            self.pool.append(buf)
            yield block, self.line
            self.line += block.count(b"\n")


def compiled_chunks(reader, fh, names, first_line):
    """The chunks of ``reader`` (a TextReader) from the open file ``fh``, after its header (see the module)."""
    blocks = _Blocks(fh, first_line)
    it = iter(blocks)
    first = next(it, None)
    if first is None:
        return
    if names is None:
        names = reader._guess_names(bytes(memoryview(first[0])[: first[1]]))
    needed = reader._columns_needed(names)
    plan = reader._compiled_plan(names, needed)
    if plan:
        plan.outputs = Recycler()
    it = itertools.chain([first], it)
    if not plan:
        reader._switched_at = first_line
        text = ((block, line0, names, needed) for block, line0 in blocks.as_text(it))
        yield from reader._table_chunks(reader._parse_blocks(text))
        return
    threads = check_parse_threads(getattr(reader, "parse_threads", None))
    if threads == 0:
        yield from _assemble(reader, plan, blocks, it, names, needed, _Inline(plan))
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads, thread_name_prefix="ftrlx-parse") as workers:
        yield from _assemble(reader, plan, blocks, it, names, needed, _Workers(plan, workers, threads))


def _parse(plan, buf, n, skip):
    """Parse ``buf[:n]`` with a free parser of ``plan`` (its lines counted from 0)."""
    parser = _pop(plan.parsers)
    if parser is None:
        parser = plan.new_parser()
    try:
        return parser.parse(buf, 0, skip, _pop(plan.spare), n)
    finally:
        plan.parsers.append(parser)


def _pop(free):
    """The last item of the list ``free``, or None: one atomic step, as other threads pop from it too."""
    try:
        return free.pop()
    except IndexError:
        return None


class _Inline:
    """Parse each block when its result is wanted, in the calling thread."""

    def __init__(self, plan):
        self.plan = plan

    def ahead(self):
        return 0

    def submit(self, buf, n, skip):
        return (buf, n, skip)

    def result(self, task):
        return _parse(self.plan, *task)

    def wait(self, tasks):
        pass


class _Workers:
    """Parse blocks in worker threads, ``threads + 1`` blocks ahead of their use at most."""

    def __init__(self, plan, workers, threads):
        self.plan, self.workers, self.threads = plan, workers, threads

    def ahead(self):
        return self.threads + 1

    def submit(self, buf, n, skip):
        return self.workers.submit(_parse, self.plan, buf, n, skip)

    @staticmethod
    def result(task):
        return task.result()

    @staticmethod
    def wait(tasks):
        for task in tasks:
            task.result()


def _assemble(reader, plan, blocks, it, names, needed, parsing):
    """Take the parsed blocks in order, and cut chunks of ``reader.chunk_size`` rows from their rows."""
    skip = reader.on_bad_lines == "skip"
    queued = collections.deque()
    rows = (_Pending if plan.exact else _Copied)(plan, blocks.pool, reader.chunk_size)

    def fill(limit):
        while len(queued) < limit:
            nxt = next(it, None)
            if nxt is None:
                return
            queued.append((nxt, parsing.submit(nxt[0], nxt[1], skip)))

    fill(max(parsing.ahead(), 1))
    while queued:
        (buf, n), task = queued.popleft()
        status, piece, skipped, _, buffers, n_lines = parsing.result(task)
        fill(max(parsing.ahead(), 1))
        line0 = blocks.line
        if status != _tsv.OK:
            parsing.wait([later for _, later in queued])  # the blocks they parse are read again below
            reader._switched_at = line0
            tables = reader._reparse(
                [[None, f, bytes(memoryview(b)[:m]), first, None] for f, (b, m), first in rows.unyielded()],
                names,
                needed,
            )
            rest = itertools.chain([(buf, n)], ((b, m) for (b, m), _ in queued), it)
            text = ((block, first, names, needed) for block, first in blocks.as_text(rest))
            yield from reader._table_chunks(reader._parse_blocks(text), tables)
            return
        blocks.line += n_lines
        reader.skipped += skipped
        if piece[3].size:
            lines = piece[4]
            lines += line0
            yield from rows.add(piece, (buf, n), line0, buffers)
        else:
            plan.spare.append(buffers)
            blocks.pool.append(buf)
    yield from rows.finish()


class _Pending:
    """The exact path's rows: the parsed pieces wait until a chunk's rows are there, then the chunk sums them
    (its runs are summed in NumPy's order, over the whole chunk)."""

    def __init__(self, plan, pool, chunk_size):
        self.plan, self.pool, self.chunk_size = plan, pool, chunk_size
        self.entries, self.n = [], 0  # [piece, first pending row, (block buffer, size), first line, piece buffers]

    def add(self, piece, block, line0, buffers):
        self.entries.append([piece, 0, block, line0, buffers])
        self.n += piece[3].size
        while self.n >= self.chunk_size:
            yield _chunk(self.plan, self.pool, self.entries, self.chunk_size)
            self.n -= self.chunk_size

    def finish(self):
        if self.n:
            yield _chunk(self.plan, self.pool, self.entries, self.n)

    def unyielded(self):
        """``(first row not yielded, block, first line)`` of each block whose rows are not all yielded."""
        return [(first, block, line0) for _, first, block, line0, _ in self.entries]


class _Copied:
    """Merged rows (values +-1, summed by the parse): copied into the chunk being filled as soon as they are
    parsed, so that a piece's buffers are reused at once rather than held until its chunk is complete.  Only the
    blocks' text waits until their rows are yielded: where the kernel stops, the pyarrow path reads the rows not
    yielded again, from the text."""

    def __init__(self, plan, pool, chunk_size):
        self.plan, self.pool, self.chunk_size = plan, pool, chunk_size
        self.entries = []  # [rows copied, first row not yielded, (block buffer, size), first line, rows]
        self.open = None  # the chunk being filled: [data, indices, indptr, y, rows, entries] (arrays with room)

    def _start(self):
        plan, size = self.plan, self.chunk_size
        bound = size * plan.n_slots  # a merged row holds at most one entry per slot
        index_dtype = np.dtype(np.int64 if plan.n_features >= INT32_LIMIT or bound >= INT32_LIMIT else np.int32)
        rows = min(size, FIRST_ROWS)
        indptr = plan.outputs.empty(rows + 1, index_dtype)
        indptr[0] = 0
        entries = max(rows * plan.n_slots, 1)
        self.open = [
            plan.outputs.empty(entries, plan.dtype),
            plan.outputs.empty(entries, index_dtype),
            indptr,
            np.empty(rows),
            0,
            0,
        ]

    def _room(self, rows, entries):
        """Make the chunk being filled hold ``rows`` rows and ``entries`` entries (larger arrays, copied)."""
        chunk = self.open
        for k, need, used in (
            (0, entries, chunk[5]),
            (1, entries, chunk[5]),
            (2, rows + 1, chunk[4] + 1),
            (3, rows, chunk[4]),
        ):
            old = chunk[k]
            if need > old.size:
                new = (np.empty if k == 3 else self.plan.outputs.empty)(max(need, 2 * old.size), old.dtype)
                new[:used] = old[:used]
                chunk[k] = new

    def add(self, piece, block, line0, buffers):
        row_ptr, cols, vals, y, _ = piece
        entry = [0, 0, block, line0, y.size]
        self.entries.append(entry)
        while entry[0] < y.size:
            if self.open is None:
                self._start()
            r, filled, pos = entry[0], self.open[4], self.open[5]
            take = min(y.size - r, self.chunk_size - filled)
            self._room(filled + take, pos + int(row_ptr[r + take] - row_ptr[r]))
            data, indices, indptr, ys = self.open[:4]
            self.open[5] = _tsv.append_rows(data, indices, indptr, filled, pos, row_ptr, cols, vals, r, r + take)
            ys[filled : filled + take] = y[r : r + take]
            self.open[4] = filled + take
            entry[0] = r + take
            if self.open[4] == self.chunk_size:
                if entry[0] == y.size:
                    self.plan.spare.append(buffers)  # copied: reused by later parses from now on
                    buffers = None
                yield self._close()
        if buffers is not None:
            self.plan.spare.append(buffers)

    def _close(self):
        """The filled chunk as ``(X, y)``; every row copied so far is yielded with it."""
        data, indices, indptr, y, n, pos = self.open
        self.open = None
        for entry in self.entries:
            entry[1] = entry[0]
        for entry in self.entries:
            if entry[1] == entry[4]:  # every row of the block is yielded: its buffer is reused by later reads
                self.pool.append(entry[2][0])
        self.entries = [entry for entry in self.entries if entry[1] < entry[4]]
        indices, indptr = indices[:pos], indptr[: n + 1]
        if indices.dtype == np.int64 and self.plan.n_features < INT32_LIMIT and pos < INT32_LIMIT:
            indices, indptr = indices.astype(np.int32), indptr.astype(np.int32)  # the index type of the chunk's size
        return _csr(self.plan, data[:pos], indices, indptr), y[:n]

    def finish(self):
        if self.open is not None and self.open[4]:
            yield self._close()

    def unyielded(self):
        return [(first, block, line0) for _, first, block, line0, _ in self.entries]


def _csr(plan, data, indices, indptr):
    X = sp.csr_matrix((data, indices, indptr), shape=(indptr.size - 1, plan.n_features))
    X.has_sorted_indices = True
    X.has_canonical_format = True
    return X


def _chunk(plan, pool, pending, n):
    """The first n pending rows as ``(X, y)``; consumed pieces leave ``pending``, their buffers reused."""
    slices, ys, done = [], [], []
    while n:
        entry = pending[0]
        (row_ptr, cols, vals, y, _), first = entry[0], entry[1]
        take = min(y.size - first, n)
        slices.append((row_ptr, cols, vals, first, first + take))
        ys.append(y[first : first + take])
        n -= take
        if first + take == y.size:
            done.append(pending.pop(0))
        else:
            entry[1] = first + take
    data, indices, indptr = _tsv.assemble_csr(
        slices, plan.n_slots, plan.n_features, plan.dtype, True, plan.outputs.empty
    )
    y = np.concatenate(ys)
    for entry in done:  # reused by later parses and reads, now that their rows are copied into the chunk
        plan.spare.append(entry[4])
        pool.append(entry[2][0])
    return _csr(plan, data, indices, indptr), y
