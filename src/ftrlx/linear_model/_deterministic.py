"""Deterministic data-parallel training (``parallel='deterministic'``): the same model run after run.

The rows of a call (in their visiting order) are cut into *rounds* of up to ``n_jobs * ROUND_ROWS`` rows (shorter
while the model is young, see ``plan``), and each round into ``n_jobs`` consecutive parts, a whole number of
batches each: a fixed partition, given the number of threads, the number of rows and the model's step count.  In a round every thread

1. loads a private copy of the state of the columns its rows touch (``_parallel.load_rows``), and a copy of the
   round-start intercept and global state;
2. trains its part on that copy with the ordinary kernel, ``_online.fit``;

and once every thread has finished (a barrier), the copies are merged into the shared state over the touched
columns only (``_parallel.merge_rows``; a column touched by several threads is merged by the lowest-numbered of
them, summing in thread order), then the next round begins (another barrier).  Nothing depends on which thread
runs first, so the bits are the same on every run.  No step is O(n_features): the private copies are full-size
arrays (allocated once per estimator and number of threads, and mapped by the system only where rows land), of
which a round reads and writes the touched columns only, recognised by a per-column round stamp.

What a merge does with each slot of the state, per algorithm (the registry's slot kinds, see the estimators'
``_merge_kinds``): for FTRL, z and n are sums over the
gradients, and their changes in a round add up (n through sqrt(n) squared): the merged state is that of one
model that saw every thread's gradients, each computed at weights at most one round old.  RDA's sum of gradients
and AdaGrad's squared gradients add up in the same way; so do the moves of the weights of FOBOS, truncated
gradient, OGD and AdaGrad's FOBOS form, caught up to each thread's clock first; the step counter and the clocks
of the lazy regularisers add up as well, so schedules decay as in one thread.  LazyAdam's moves are averaged over
the threads that touched a column (its step has the size of the learning rate whatever the gradient, so summed
moves would be n_jobs steps), and so are OGD's with an L1 penalty (its cumulative penalty clips each thread's
weight by the whole pending penalty, so summed clips would be n_jobs clips).  ``docs/guide/scale_out.rst`` gives the measurements.

A row whose margin overflows stops the call after its round: the rounds before it are merged, the failing round
is dropped.
"""

import threading
import weakref

import numpy as np

from .._kernels import _parallel
from ._threads import parts

# rows per thread and round: at most, and at first (see ``plan``)
ROUND_ROWS = 2048
MIN_ROUND_ROWS = 64
GROWTH = 32

# the merge kernel's code of each slot kind of the registry ("stampK" is STAMP + K)
_CODES = {"value": _parallel.VALUE, "sqrt": _parallel.SQRT, "weight": _parallel.WEIGHT}
_CODES.update({f"stamp{k}": _parallel.STAMP + k for k in range(3)})

_BUFFERS = weakref.WeakKeyDictionary()
_BUFFERS_LOCK = threading.Lock()


def _kinds(est):
    slots, islots, mean = est._merge_kinds()
    return np.array([_CODES[k] for k in slots], np.int32), np.array([_CODES[k] for k in islots], np.int32), mean


class _Buffers:
    """One estimator's private copies: (threads, n_features, n_slots) states, their round stamps, the next id."""

    def __init__(self, n_threads, n_features, n_slots):
        self.shape = (n_threads, n_features, n_slots)
        self.privates = np.zeros(self.shape)  # mapped lazily: touched pages only
        self.stamps = np.zeros((n_threads, n_features), np.int64)  # round ids start at 1
        self.next_id = 1
        self.lock = threading.Lock()  # one training call at a time uses them


def _buffers(est, n_threads, n_features, n_slots):
    with _BUFFERS_LOCK:
        buf = _BUFFERS.get(est)
        if buf is None or buf.shape != (n_threads, n_features, n_slots):
            buf = _BUFFERS[est] = _Buffers(n_threads, n_features, n_slots)
        return buf


def plan(n_rows, n_threads, batch_size, seen=0):
    """The rounds: for each, the (start, stop) positions of every thread's part.

    ``seen`` is the number of rows the model has trained on before the call.  A round's parts grow with it, from
    ``MIN_ROUND_ROWS`` to ``ROUND_ROWS`` rows (a quarter of the rows seen over the threads): the threads of a round
    all start from the same weights, so their summed changes overshoot when a round is long next to what the
    model has learnt, which matters most at the start, where the adaptive steps are large."""
    rounds, done = [], 0
    while done < n_rows:
        per = min(ROUND_ROWS, max(MIN_ROUND_ROWS, (seen + done) // (GROWTH * n_threads)))
        per = -(-per // batch_size) * batch_size
        if n_rows - done >= per * n_threads:
            rounds.append([(done + k * per, done + (k + 1) * per) for k in range(n_threads)])
            done += per * n_threads
        else:
            rounds.append([(done + a, done + b) for a, b in parts(n_rows - done, n_threads, batch_size)])
            done = n_rows
    return rounds


def _capacity(X, order, rounds):
    """Room for the columns of the largest part: its number of entries."""
    lengths = np.diff(X.indptr)
    if order is not None:
        lengths = lengths[order]
    ends = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    bounds = np.array([ab for r in rounds for ab in r], dtype=np.int64).reshape(-1, 2)
    return max(1, int((ends[bounds[:, 1]] - ends[bounds[:, 0]]).max()))


class _Run:
    """The state of one deterministic training call for one output."""

    def __init__(self, call, y, sw, state, istate, gstate, column, n_threads, buffers):
        self.call, self.y, self.sw, self.column = call, y, sw, column
        self.state, self.istate, self.gstate = state, istate, gstate
        self.n = n_threads
        self.buf = buffers
        n_rows = y.shape[0] if call.order is None else call.order.shape[0]
        self.rounds = plan(n_rows, n_threads, call.est.batch_size, int(gstate[0]) * call.est.batch_size)
        self.kinds, self.ikinds, self.mean = _kinds(call.est)
        self.first_id = buffers.next_id
        buffers.next_id += len(self.rounds)
        # round-start intercept and clock, double-buffered: round r reads [r % 2], its merge writes [(r + 1) % 2]
        self.istates0 = np.stack([istate, istate])
        self.clocks0 = np.stack([gstate, gstate])
        self.istates = np.empty((n_threads, istate.shape[0]))
        self.clocks = np.empty((n_threads, gstate.shape[0]))
        cap = _capacity(call.X, call.order, self.rounds)
        self.touched = np.empty((n_threads, cap), np.int64)
        self.failed = [-1] * n_threads
        self.merged = 0
        self.barrier = threading.Barrier(n_threads)

    def _train_part(self, k, a, b, private):
        call = self.call
        if b <= a:
            return -1
        if call.order is not None:
            bad = call.fit(
                self.y, self.sw, private, self.istates[k], self.clocks[k], self.column, order=call.order[a:b]
            )
        else:
            prog = None if call.progressive is None else call.progressive[a:b]
            bad = call.fit(
                self.y[a:b],
                self.sw[a:b],
                private,
                self.istates[k],
                self.clocks[k],
                self.column,
                indptr=call.X.indptr[a : b + 1],
                progressive=prog,
            )
        return -1 if bad < 0 else a + bad

    def worker(self, k):
        X, order, buf = self.call.X, self.call.order, self.buf
        private, stamp, touched = buf.privates[k], buf.stamps[k], self.touched[k]
        params = self.call.params
        code = self.call.code
        for r, ranges in enumerate(self.rounds):
            rid = self.first_id + r
            a, b = ranges[k]
            self.istates[k] = self.istates0[r % 2]
            self.clocks[k] = self.clocks0[r % 2]
            n_touched = _parallel.load_rows(X.indices, X.indptr, order, a, b, self.state, private, stamp, rid, touched)
            self.failed[k] = self._train_part(k, a, b, private)
            self.barrier.wait()
            if max(self.failed) >= 0:
                return
            _parallel.merge_rows(
                code,
                params,
                self.kinds,
                self.mean,
                k,
                touched,
                n_touched,
                buf.stamps,
                rid,
                buf.privates,
                self.state,
                self.clocks,
                self.clocks0[r % 2],
            )
            if k == 0:
                _parallel.merge_globals(
                    code,
                    self.ikinds,
                    self.mean,
                    self.istates,
                    self.istates0[r % 2],
                    self.clocks,
                    self.clocks0[r % 2],
                    self.istates0[(r + 1) % 2],
                    self.clocks0[(r + 1) % 2],
                )
                self.merged = r + 1
            self.barrier.wait()

    def guarded(self, k):
        try:
            self.worker(k)
        except BaseException:
            self.barrier.abort()  # the other threads stop at their next barrier instead of waiting forever
            raise

    def finish(self):
        """Install the intercept and clock of the last merged round; the position of a diverged row, or -1."""
        self.istate[...] = self.istates0[self.merged % 2]
        self.gstate[...] = self.clocks0[self.merged % 2]
        failed = [p for p in self.failed if p >= 0]
        return min(failed) if failed else -1


def train(call, y, sw, state, istate, gstate, column, n_threads):
    """Train one output on ``n_threads`` threads in merged rounds; the position of a diverged row, or -1."""
    buf = _buffers(call.est, n_threads, state.shape[0], state.shape[1])
    with buf.lock:
        run = _Run(call, y, sw, state, istate, gstate, column, n_threads, buf)
        errors = []

        def side(k):
            try:
                run.guarded(k)
            except threading.BrokenBarrierError:
                pass
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=side, args=(k,), name=f"ftrlx-{k}") for k in range(1, n_threads)]
        for t in threads:
            t.start()
        try:
            run.guarded(0)
        except threading.BrokenBarrierError:
            pass
        finally:
            for t in threads:
                t.join()
        if errors:
            raise errors[0]
        return run.finish()
