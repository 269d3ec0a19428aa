"""The compiled path of the Criteo/Avazu readers: blocks read into reused buffers, parsed in threads, in order.

The file is read block by block into a few reused buffers (:func:`~ftrlx.datasets._base.pooled_line_blocks`).
Each block goes to a worker thread that parses and hashes it with its own
:class:`~ftrlx._kernels._tsv.BlockParser` (the parse releases the GIL), a few blocks ahead of the thread that
assembles the chunks. The results are taken in file order, so the chunks, counters and errors are those of one
parser going through the file: a block's parse does not depend on any other block, and its line numbers are
offset once the lines of the blocks before it are known. Where the kernel stops (a bad line to report, or an
input it leaves to pyarrow), the rows not yet yielded and the rest of the file go to the pyarrow path, as with a
single parser.
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
    pending, n_pending = [], 0  # [piece, first pending row, (block buffer, size), first line, piece buffers]

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
                [[p, f, bytes(memoryview(b)[:m]), line0, r] for p, f, (b, m), line0, r in pending], names, needed
            )
            rest = itertools.chain([(buf, n)], ((b, m) for (b, m), _ in queued), it)
            text = ((block, first, names, needed) for block, first in blocks.as_text(rest))
            yield from reader._table_chunks(reader._parse_blocks(text), tables)
            return
        blocks.line += n_lines
        reader.skipped += skipped
        rows = piece[3].size
        if rows:
            lines = piece[4]
            lines += line0
            pending.append([piece, 0, (buf, n), line0, buffers])
            n_pending += rows
        else:
            plan.spare.append(buffers)
            blocks.pool.append(buf)
        while n_pending >= reader.chunk_size:
            yield _chunk(plan, blocks.pool, pending, reader.chunk_size)
            n_pending -= reader.chunk_size
    if n_pending:
        yield _chunk(plan, blocks.pool, pending, n_pending)


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
    if plan.exact:
        data, indices, indptr = _tsv.assemble_csr(
            slices, plan.n_slots, plan.n_features, plan.dtype, True, plan.outputs.empty
        )
    else:  # the rows were merged by the parse
        data, indices, indptr = _tsv.concat_rows(slices, plan.n_features, plan.dtype, plan.outputs.empty)
    y = np.concatenate(ys)
    for entry in done:  # reused by later parses and reads, now that their rows are copied into the chunk
        plan.spare.append(entry[4])
        pool.append(entry[2][0])
    X = sp.csr_matrix((data, indices, indptr), shape=(indptr.size - 1, plan.n_features))
    X.has_sorted_indices = True
    X.has_canonical_format = True
    return X, y
