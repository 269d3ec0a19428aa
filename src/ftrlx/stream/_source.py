"""The source of a stream: chunks read ahead in a background thread, and the checks of each chunk's shape."""

import collections
import queue
import threading

import numpy as np

_DONE = object()
# how long closing the stream waits for the reader thread to finish the chunk it is reading
_JOIN_SECONDS = 30.0


class _Failure:
    """An exception raised by the source, carried to the consumer in stream order."""

    def __init__(self, exc):
        self.exc = exc


def prefetch(chunks, depth=2):
    """Iterate ``chunks`` in a background thread, at most ``depth`` chunks ahead of the consumer.

    The compiled readers of ``ftrlx.datasets`` parse and hash with the GIL released, and so do the training
    kernels: reading chunk k+1 while the caller trains on chunk k then uses two cores, and a job runs about as fast
    as the slower of the two stages.  Memory stays bounded: at most ``depth`` chunks wait in the queue, plus the
    one being read and the one being trained on.  An exception of the source is raised by the consumer at the point
    of the stream where it happened (every chunk before it is delivered first).  Closing the generator (or leaving
    the consuming loop) stops the reader at its next chunk.

    Parameters
    ----------
    chunks : iterable
        Any iterable; it is iterated in one background thread (so it must not need to run in the main thread).
    depth : int, default=2
        Chunks read ahead.  ``0`` iterates ``chunks`` in the calling thread (no thread at all).

    Yields
    ------
    chunk
        The items of ``chunks``, in order.

    Examples
    --------
    >>> from ftrlx.stream import prefetch
    >>> list(prefetch(range(5), depth=2))
    [0, 1, 2, 3, 4]
    >>> def failing():
    ...     yield 1
    ...     raise OSError("disk gone")
    >>> got = []
    >>> try:
    ...     for item in prefetch(failing()):
    ...         got.append(item)
    ... except OSError as exc:
    ...     print(got, exc)
    [1] disk gone
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0:
        raise ValueError(f"prefetch depth must be a non-negative integer, got {depth!r}")
    if depth == 0:
        yield from chunks
        return
    slots = queue.Queue(maxsize=int(depth))
    stop = threading.Event()

    def put(item):
        # wait for room, but give up when the consumer has gone
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read():
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Failure(exc))
            return
        put(_DONE)

    reader = threading.Thread(target=read, name="ftrlx-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            item = _get(slots)
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        # the reader stops at its next chunk; one blocked on a silent pipe is left behind (it is a daemon)
        reader.join(timeout=_JOIN_SECONDS)


class HeadStart:
    """The first chunks of a stream, read in a background thread while the caller does other work.

    A command spends its first half second importing scikit-learn and the estimators: Python code, holding the GIL,
    on one core.  The compiled readers parse and hash with the GIL released, so reading the first chunks meanwhile
    puts the other core to work.  :meth:`take` stops the reading at the chunk in progress and returns an iterator
    over the whole stream, in order: the chunks read so far, then the rest, read by whichever thread iterates it.
    At most ``limit`` chunks are held.  An exception of the stream is raised by that iterator after the chunks
    before it, as the stream itself would raise it.  Leaving the ``with`` block without :meth:`take` (an error of
    the caller's own work) stops the thread and closes the stream.

    The thread is joined without a timeout: ``chunks`` must not block indefinitely (a regular file, not a pipe).
    """

    def __init__(self, chunks, limit=2):
        if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
            raise ValueError(f"HeadStart limit must be a positive integer, got {limit!r}")
        self._chunks = iter(chunks)
        self._limit = int(limit)
        self._held = collections.deque()
        self._failure = None
        self._ended = False
        self._taken = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="ftrlx-head-start", daemon=True)
        self._thread.start()

    def _read(self):
        try:
            while len(self._held) < self._limit and not self._stop.is_set():
                chunk = next(self._chunks, _DONE)
                if chunk is _DONE:
                    self._ended = True
                    return
                self._held.append(chunk)
        except BaseException as exc:  # noqa: BLE001 - raised by the iterator of take(), in stream order
            self._failure = exc

    def _halt(self):
        self._stop.set()
        self._thread.join()

    def take(self):
        """The whole stream, from its first chunk (the reading ahead stops first)."""
        self._halt()
        self._taken = True
        return self._replay()

    def _replay(self):
        held = self._held
        while held:
            yield held.popleft()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        if not self._ended:
            yield from self._chunks

    def close(self):
        """Stop reading ahead, drop the chunks held and close the stream (a no-op after :meth:`take`: the stream
        is then the taken iterator's)."""
        if self._taken:
            return
        self._halt()
        self._held.clear()
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _get(slots):
    # a timeout lets the main thread run its signal handlers (Ctrl-C) while it waits
    while True:
        try:
            return slots.get(timeout=0.1)
        except queue.Empty:
            continue


def split_chunk(chunk, index):
    """``(X, y, sample_weight or None)`` of one chunk, with its shapes checked."""
    if not isinstance(chunk, (tuple, list)) or len(chunk) not in (2, 3):
        raise TypeError(
            f"chunk {index} is a {type(chunk).__name__}; fit_stream expects (X, y) or (X, y, sample_weight) tuples"
        )
    X, y = chunk[0], np.asarray(chunk[1])
    w = None if len(chunk) == 2 else chunk[2]
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"chunk {index}: X has {X.shape[0]} rows but y has {y.shape[0]} labels")
    return X, y, w


def head(X, y, w, k):
    """The first ``k`` rows of a chunk."""
    return X[:k], y[:k], (None if w is None else np.asarray(w)[:k])
