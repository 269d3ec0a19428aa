"""The parts of the streaming loop on their own: the read-ahead source and the cadences."""

import threading
import time

import numpy as np
import pytest

from ftrlx.stream import prefetch
from ftrlx.stream._loop import _Cadence
from ftrlx.stream._source import HeadStart


def test_prefetch_keeps_order_and_bounds_read_ahead():
    produced = []

    def source():
        for i in range(20):
            produced.append(i)
            yield i

    seen = []
    for item in prefetch(source(), depth=2):
        time.sleep(0.002)
        # at most: the queue (2), the item handed over, and the one being read
        assert len(produced) - len(seen) <= 4
        seen.append(item)
    assert seen == list(range(20))


def test_prefetch_raises_source_errors_in_stream_order():
    def source():
        yield from range(3)
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in prefetch(source(), depth=1):
            got.append(item)
    assert got == [0, 1, 2]


def test_prefetch_reads_in_another_thread_and_stops_when_closed():
    threads, stopped = set(), threading.Event()

    def source():
        try:
            for i in range(1000):
                threads.add(threading.current_thread().name)
                yield i
        finally:
            stopped.set()

    gen = prefetch(source(), depth=2)
    assert next(gen) == 0
    gen.close()
    assert stopped.wait(5)
    assert threads == {"ftrlx-prefetch"}


def test_prefetch_depth_zero_reads_in_the_caller():
    names = []

    def source():
        names.append(threading.current_thread().name)
        yield 1

    assert list(prefetch(source(), depth=0)) == [1]
    assert names == [threading.current_thread().name]


@pytest.mark.parametrize("depth", [-1, 1.5, True, None])
def test_prefetch_rejects_bad_depth(depth):
    with pytest.raises(ValueError, match="prefetch depth"):
        list(prefetch([1], depth=depth))


def _recording(n, names, produced, done=None):
    try:
        for i in range(n):
            names.append(threading.current_thread().name)
            produced.append(i)
            yield i
    finally:
        if done is not None:
            done.set()


def test_head_start_reads_at_most_its_limit_in_another_thread_then_the_rest_in_order():
    names, produced = [], []
    early = HeadStart(_recording(10, names, produced), limit=3)
    deadline = time.monotonic() + 5
    while len(produced) < 3 and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.05)  # room for a fourth item, were the limit not kept
    assert produced == [0, 1, 2]
    assert set(names) == {"ftrlx-head-start"}
    assert list(early.take()) == list(range(10))
    assert names[3:] == [threading.current_thread().name] * 7  # the rest: read by the thread that iterates


def test_head_start_raises_source_errors_after_the_chunks_before_them():
    def source():
        yield 0
        raise OSError("disk gone")

    early = HeadStart(source(), limit=5)
    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in early.take():
            got.append(item)
    assert got == [0]


def test_head_start_of_a_short_stream_ends_it():
    with HeadStart(iter([1, 2]), limit=4) as early:
        assert list(early.take()) == [1, 2]


def test_head_start_closed_without_take_closes_the_stream():
    names, produced, done = [], [], threading.Event()
    with HeadStart(_recording(1000, names, produced, done), limit=2):
        pass
    assert done.is_set()  # the generator was closed: its file would be
    assert len(produced) <= 2


def test_head_start_close_after_take_leaves_the_taken_stream_alone():
    names, produced, done = [], [], threading.Event()
    with HeadStart(_recording(5, names, produced, done), limit=1) as early:
        rest = early.take()
        assert next(rest) == 0
    assert not done.is_set()
    assert list(rest) == [1, 2, 3, 4]


@pytest.mark.parametrize("limit", [0, -1, 1.5, True, None])
def test_head_start_rejects_bad_limit(limit):
    with pytest.raises(ValueError, match="HeadStart limit"):
        HeadStart(iter([1]), limit=limit)


def test_cadence_meets_the_same_multiples_after_a_resume():
    def events(start, steps):
        cadence, rows, out = _Cadence(250, start), start, []
        for n in steps:
            rows += n
            if cadence.due(rows):
                out.append(rows)
        return out

    steps = [100, 120, 90, 300, 40, 200]
    whole = events(0, steps)
    assert whole == [310, 610, 850]
    # stopped after three chunks (310 rows) and resumed from there
    assert events(310, steps[3:]) == [r for r in whole if r > 310]
    assert not _Cadence(None, 0).due(np.int64(10**9))


@pytest.mark.parametrize("broken", [{}, {"chunks_done": "3"}, {"history": [1, 2]}, {"rows_seen": -1}])
def test_resume_from_a_crafted_run_state_is_refused_cleanly(broken, tmp_path):
    import scipy.sparse as sp

    import ftrlx
    from ftrlx.io import _save_checkpoint

    X = sp.random(50, 20, density=0.2, format="csr", random_state=0)
    y = np.arange(50) % 2
    saved = ftrlx.FTRLClassifier().partial_fit(X, y, classes=[0, 1])
    good = {
        "version": 1,
        "chunks_done": 1,
        "rows_read": 50,
        "rows_seen": 50,
        "finished": False,
        "holdout_every": None,
        "history": [],
        "train": {},
        "holdout": {},
    }
    ckpt = tmp_path / "c.ckpt"
    _save_checkpoint(
        saved, ckpt, {k: v for k, v in {**good, **broken}.items() if not (broken == {} and k == "history")}
    )
    est = ftrlx.FTRLClassifier().partial_fit(X[:10], y[:10], classes=[0, 1])
    before = est.coef_.copy()
    with pytest.raises(ValueError, match="run state|history"):
        ftrlx.fit_stream(est, [(X, y)], checkpoint=ckpt, resume=True, progress=False)
    np.testing.assert_array_equal(est.coef_, before)
