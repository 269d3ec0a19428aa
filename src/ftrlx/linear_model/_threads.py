"""Training with several threads: ``n_jobs`` and ``parallel`` of every online estimator.

The compiled kernel (``ftrlx._kernels._online.fit``) releases the GIL for the whole of a call, so plain Python
threads that each run one kernel call train at once.  Three ways to use them (``parallel=``):

``'outputs'``
    One-vs-rest: each class's model is an independent state (its own rows of ``state_``, ``istate_`` and
    ``gstate_``), so the classes train concurrently, one kernel call per class, ``n_jobs`` at a time.  Every
    class sees exactly the rows, in exactly the order, of ``n_jobs=1``: the model is bitwise the same.
``'hogwild'``
    The rows of a call (in their visiting order) are cut into blocks, dealt to ``n_jobs`` threads in turn, and
    every thread trains the same state arrays with one kernel call per block, at once and without locks (Recht,
    Re, Wright & Niu, 2011).  Two threads
    may update one coordinate at the same moment and one update can then be lost or read half-way; sparse rows
    make that rare, and the model is not reproducible.  The intercept is shared too.  The step counter is not:
    each thread counts on a private copy that stands for every thread's steps (``_hogwild``), and the shared
    counter is set to the exact number of steps at the end of the call.
``'deterministic'``
    ``ftrlx.linear_model._deterministic``: rounds of rows, a private copy of the touched columns per thread,
    merged after every round in a fixed order; reproducible for a fixed ``n_jobs``.

Hogwild needs the global state of the algorithm to be a step counter only (which each thread can count on its
own copy).  FOBOS, truncated gradient and OGD keep running clocks of their lazy regularisers in
``gstate_`` that every step reads at its start and writes at its end; two threads interleaving those
read-modify-writes lose whole steps of regularisation, or move a clock backwards, for every coordinate.  Those
estimators are refused with ``parallel='hogwild'`` while the clock moves (a regulariser is on); the deterministic
mode handles them.
"""

import numbers
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._kernels import _check, _online
from . import _guard

PARALLEL = ("outputs", "hogwild", "deterministic")
# a hogwild thread with fewer rows than this is not worth starting; rows per kernel call of a hogwild thread
HOGWILD_MIN_ROWS = 512
HOGWILD_BLOCK = 4096
# entries a thread of the check of X (``scan``) takes at least
SCAN_MIN_ENTRIES = 1 << 20

_pool = None
_pool_lock = threading.Lock()


class NJobs:
    """The ``n_jobs`` constraint: None, or a non-zero integer (negative counts back from the number of cores)."""

    def describe(self):
        return "None, a positive integer or a negative one (-1: every core, -2: all but one, ...), not 0"

    def accepts(self, value):
        if value is None:
            return True
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) and value != 0


def effective_n_jobs(n_jobs):
    """The number of threads ``n_jobs`` stands for, as scikit-learn counts it (joblib's rule: None is 1 outside a
    ``joblib.parallel_config`` context, -1 every core the process may use, -2 one fewer, ...), at least 1."""
    if n_jobs == 1:
        return 1
    import joblib

    return max(1, int(joblib.effective_n_jobs(n_jobs)))


def threaded(est, n_outputs, n_rows):
    """Whether a training call of ``est`` takes the threaded path (any ``n_jobs`` other than one thread)."""
    n_jobs = getattr(est, "n_jobs", 1)
    if n_jobs == 1 or effective_n_jobs(n_jobs) == 1:
        return False
    if getattr(est, "parallel", "outputs") == "outputs":
        return n_outputs > 1
    return n_rows > 0


def scan(X, n_threads):
    """``_check.scan_csr`` of X on ``n_threads`` threads: the same result (the first fault in storage order, or
    whether X is canonical), each thread on a range of rows holding an equal share of the entries.  Below
    ``SCAN_MIN_ENTRIES`` entries a thread each, one thread does it all."""
    n_threads = max(1, min(n_threads, X.indices.shape[0] // SCAN_MIN_ENTRIES))
    if n_threads == 1:
        return _check.scan_csr(X.data, X.indices, X.indptr, X.shape[1])
    n_rows, nnz = X.shape[0], X.indices.shape[0]
    # row boundaries at equal shares of the entries (clipped to the rows: the pointers are not yet checked)
    cuts = np.searchsorted(X.indptr, np.arange(1, n_threads) * (nnz // n_threads), side="left").clip(0, n_rows)
    bounds = [0, *sorted(int(c) for c in cuts), n_rows]
    tasks = [
        (lambda a=a, b=b: _check.scan_rows_range(X.data, X.indices, X.indptr, X.shape[1], a, b))
        for a, b in zip(bounds[:-1], bounds[1:])
    ]
    return _check.combine_scans(_run_all(tasks, n_threads))


def hogwild_refusal(est):
    """Why ``est`` cannot train with ``parallel='hogwild'`` (a sentence), or None when it can."""
    clock = est._global_clock()
    if clock is None:
        return None
    return (
        f"{type(est).__name__}: parallel='hogwild' cannot train this model: {clock} in a global clock that every "
        "step reads and writes, and unsynchronised threads would lose or reverse its steps. Use "
        "parallel='deterministic' (reproducible, merged rounds), or n_jobs=1."
    )


def _executor(n_threads):
    """A shared pool of at least ``n_threads`` threads (the tasks on it never wait for each other)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < n_threads:
            old, _pool = _pool, ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="ftrlx")
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def _run_all(tasks, n_threads):
    """Run the callables ``tasks`` on ``n_threads`` threads (the caller's one among them); their results in order.

    Every thread takes the next task not yet started until none is left, so that more tasks than threads (four
    classes on two threads) share the threads evenly.  Once a task raises (an interrupt, memory), no further task
    starts; those running end, and then the error of the first task that raised, in task order, is raised (tasks
    start in order, so it is the first failing task of all)."""
    if n_threads <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    results, errors = [None] * len(tasks), [None] * len(tasks)
    pending = iter(range(len(tasks)))
    take = threading.Lock()

    def work():
        while True:
            with take:
                i = None if any(e is not None for e in errors) else next(pending, None)
            if i is None:
                return
            try:
                results[i] = tasks[i]()
            except BaseException as exc:  # raised below, once the running tasks have ended
                errors[i] = exc

    helpers = [_executor(n_threads - 1).submit(work) for _ in range(min(n_threads, len(tasks)) - 1)]
    try:
        work()
    finally:
        for helper in helpers:
            helper.result()
    for exc in errors:
        if exc is not None:
            raise exc
    return results


class _Call:
    """What every kernel call of one training call shares (the estimator's parameters, X, the order)."""

    def __init__(self, est, X, order, canonical, progressive):
        self.est, self.X, self.order, self.canonical, self.progressive = est, X, order, canonical, progressive
        self.code = est._slots[0]
        self.params = est._kernel_params()
        from ._support import LOSSES

        self.loss = LOSSES[est.loss]

    def fit(
        self,
        y,
        sw,
        state,
        istate,
        gstate,
        column,
        indptr=None,
        order=None,
        progressive=None,
        journal=None,
        stats=None,
        params=None,
    ):
        """One kernel call (rows ``indptr`` of X, or rows ``order``); returns the kernel's first result, the
        position of a diverged row or -1.  ``journal``: the output's undo journal (one thread per output only)."""
        X, est = self.X, self.est
        return _online.fit(
            self.code,
            self.params if params is None else params,
            X.data,
            X.indices,
            X.indptr if indptr is None else indptr,
            y,
            sw,
            order,
            state,
            istate,
            gstate,
            self.loss,
            est.batch_size,
            est.fit_intercept,
            False,
            self.progressive if progressive is None else progressive,
            column,
            self.canonical,
            journal,
            stats,
        )[0]

    def row(self, position):
        """The row of X at ``position`` in the visiting order."""
        return position if self.order is None else int(self.order[position])


def run_kernel(
    est, X, targets, weights, order, state, istate, gstate, check, canonical, progressive, undo=None, stats=None
):
    """``_run_kernel`` on ``effective_n_jobs(est.n_jobs)`` threads (same arguments, same result).

    With ``check`` (fresh state) X is scanned whole first (one O(nnz) pass that also finds non-finite values, its
    rows shared among the threads: ``scan``): every thread then trains on rows known to be valid.  In ``'outputs'`` mode each output's kernel call keeps
    that output's undo journal (``undo``), so a failed call on a fitted model is undone as with one thread; the
    threads of ``'hogwild'`` and ``'deterministic'`` share an output's state, which no journal records: a call
    that fails in those modes leaves the model partly trained."""
    n_threads = effective_n_jobs(est.n_jobs)
    mode = est.parallel
    if mode == "hogwild":
        refusal = hogwild_refusal(est)
        if refusal:
            raise ValueError(refusal)
    if check:
        code, row, pos = scan(X, n_threads)
        if code > _check.NOT_CANONICAL:
            return (code, row, pos), False
        canonical = code == _check.CANONICAL
    call = _Call(est, X, order, canonical, progressive)
    if mode == "outputs":
        journals = [None] * state.shape[0] if undo is None else undo.journals
        margins = [None if stats is None else np.zeros(1) for _ in range(state.shape[0])]
        tasks = [
            (
                lambda k=k: call.fit(
                    targets[k],
                    weights[k],
                    state[k],
                    istate[k],
                    gstate[k],
                    k,
                    order=order,
                    journal=journals[k],
                    stats=margins[k],
                )
            )
            for k in range(state.shape[0])
        ]
        bad = _run_all(tasks, n_threads)
        if stats is not None:
            stats[0] = max([stats[0]] + [m[0] for m in margins])
    else:
        train = _hogwild if mode == "hogwild" else _deterministic()
        bad = [
            train(call, targets[k], weights[k], state[k], istate[k], gstate[k], k, n_threads)
            for k in range(state.shape[0])
        ]
    for position in bad:  # the first output's failure, as one thread reports it
        if position >= 0:
            # 'outputs' keeps each output's undo journal; the shared state of the other modes has none (fresh
            # state is thrown away whatever the mode)
            raise _guard.divergence_error(est, call.row(position), undone=mode == "outputs" or undo is None)
    return None, canonical


def _deterministic():
    from ._deterministic import train

    return train


def parts(n_rows, n_parts, batch_size):
    """``n_parts`` consecutive (start, stop) ranges covering ``n_rows`` positions, each a whole number of batches
    but the last (some may be empty)."""
    batches = -(-n_rows // batch_size)
    size = -(-batches // n_parts) * batch_size
    return [(min(n_rows, i * size), min(n_rows, (i + 1) * size)) for i in range(n_parts)]


def steps(n_rows, batch_size):
    return -(-n_rows // batch_size)


def _hogwild(call, y, sw, state, istate, gstate, column, n_threads):
    """One output trained by ``n_threads`` lock-free threads; returns the position of the first diverged row, or -1.

    The rows are cut into blocks of ``HOGWILD_BLOCK`` rows, and thread k trains blocks k, k + n_threads, ... one
    kernel call each: the threads move through the rows side by side, so the model meets them roughly in their
    order, as a stream should be met."""
    est = call.est
    n_rows = y.shape[0] if call.order is None else call.order.shape[0]
    n_threads = max(1, min(n_threads, n_rows // HOGWILD_MIN_ROWS))
    size = -(-HOGWILD_BLOCK // est.batch_size) * est.batch_size
    blocks = [(a, min(n_rows, a + size)) for a in range(0, n_rows, size)]
    t0 = gstate[0]
    # Each thread counts steps on a private copy of the global state, which spares the threads a cache line that
    # every step would write, and whose unsynchronised increments would lose steps (the clock is only the step
    # count here: hogwild is refused where a regulariser's clock moves).  Thread k's copy starts at t0 + k + 1 and
    # advances by n_threads a step, so that the algorithms that read the step count (RDA's threshold, the
    # schedules, Adam's bias correction) see the count of every thread's steps, as if the threads took turns; one
    # step ahead, because the others may have stepped before a thread's first read (a fresh RDA model read at
    # step 0 has no scale for the sums the other threads wrote).
    clocks = [gstate.copy() for _ in range(n_threads)]
    for k, clock in enumerate(clocks):
        clock[0] = t0 + k + 1
    params = {**call.params, "clock_step": float(n_threads)}

    def task(k):
        for a, b in blocks[k::n_threads]:
            if call.order is not None:
                bad = call.fit(y, sw, state, istate, clocks[k], column, order=call.order[a:b], params=params)
            else:
                prog = None if call.progressive is None else call.progressive[a:b]
                bad = call.fit(
                    y[a:b],
                    sw[a:b],
                    state,
                    istate,
                    clocks[k],
                    column,
                    indptr=call.X.indptr[a : b + 1],
                    progressive=prog,
                    params=params,
                )
            if bad >= 0:
                return a + bad
        return -1

    bad = _run_all([lambda k=k: task(k) for k in range(n_threads)], n_threads)
    gstate[0] = t0 + sum(steps(b - a, est.batch_size) for a, b in blocks)
    failed = [p for p in bad if p >= 0]
    return min(failed) if failed else -1
