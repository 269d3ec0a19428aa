"""Train one ftrlx model over many machines with Dask: iterative parameter mixing with sparse merges.

Every Dask worker keeps a replica of the model and trains it with ``partial_fit`` on its own partitions of the
data.  After every ``partitions_per_round`` partitions per worker (a *round*) the replicas are combined into one
model, and the combined model is sent back to every worker, which continues from it (iterative parameter mixing,
McDonald, Hall & Mann, NAACL 2010).  The estimator that comes back is the usual ftrlx estimator: predict with it,
save it with :func:`ftrlx.save`, or go on training it with ``partial_fit``.

What is combined is the optimizer state, coordinate by coordinate, and only where it can have changed: a worker
sends the coordinates (columns) that occurred in the rows it trained on since the last round, as (indices,
values), never a dense vector of every hashed column.  How the state is combined (``combine=``):

``'delta'``
    Every accumulator takes the *sum of the workers' changes* since the round started.  For state that is a sum
    over gradients (FTRL's z and n, RDA's sum of gradients, AdaGrad's squared gradients) this is the state of one
    model that saw every worker's gradients, which is what a single process would have built from the same rows,
    up to the weights the gradients were computed at.  A weight (FOBOS, truncated gradient, AdaGrad's FOBOS
    form, OGD) takes the sum of its moves, caught up to each worker's clock.  Step counters and the global clocks
    of the lazy regularisers add up likewise, so learning rates decay as in one process.
``'average'``
    Every accumulator, and every weight (caught up to its worker's clock first), is the *mean* over the workers
    that trained in the round: McDonald et al.'s parameter mixing.  The step counter is the mean too.
``'touched'``
    Like ``'average'``, but each column is averaged over the workers that touched it only, so that a rare
    feature seen by one worker keeps that worker's change.
``'weights'`` (FTRL only)
    Average the workers' weights and sqrt(n), then solve FTRL's closed form for the z that gives that weight.
``'auto'`` (default)
    ``'delta'``, except for LazyAdam and for OGD with an L1 penalty, which get ``'average'``: Adam's step has
    about the size of the learning rate whatever the gradient, and OGD's cumulative L1 penalty clips every
    worker's weights by the whole pending penalty, so W workers' changes add up to W steps or W clips.  Delta
    merging needs short rounds (a few thousand rows over all workers at first): every worker starts the round
    from the same weights, so the summed changes overshoot when a round is long.  The guide page "Training over
    many machines" gives the measurements behind these choices.

Dask itself is optional (``pip install "ftrlx[dask]"``); it is imported by :func:`fit` only, so the combine
step can be used and tested without it.

Examples
--------
>>> import pytest; distributed = pytest.importorskip("dask.distributed")   # the example needs dask
>>> import dask.bag as db
>>> import ftrlx.dask
>>> from ftrlx import FTRLClassifier
>>> from ftrlx.datasets import make_click_data
>>> X, y = make_click_data(40_000, n_features=2**16, seed=0)
>>> client = distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0")
>>> pieces = client.scatter([[(X[i:i + 1_000], y[i:i + 1_000])] for i in range(0, 30_000, 1_000)])
>>> blocks = db.from_delayed(pieces)        # a bag of 30 (X, y) blocks that already live on the workers
>>> clf = ftrlx.dask.fit(FTRLClassifier(), blocks, client=client, classes=[0, 1])
>>> clf.t_                           # the steps of every worker add up: one per row
30000
>>> print(f"{clf.score(X[30_000:], y[30_000:]):.2f}")
0.91
>>> client.close()
"""

import copy
import math
import numbers
import os
import uuid

from sklearn.base import is_classifier

# The combine step lives in ftrlx._dask_combine (it needs no Dask); its names are used through this module, the
# ones imported as themselves (``x as x``) only re-exported.
from ._dask_combine import COMBINES as COMBINES
from ._dask_combine import Message as Message
from ._dask_combine import Replica, combine, resolve_combine, update_nbytes
from ._dask_combine import Update as Update
from ._dask_combine import apply_update as apply_update
from ._dask_combine import combine_round as combine_round
from ._dask_combine import mix_in_process as mix_in_process

__all__ = ["fit"]

# The classes keep ftrlx.dask as their module: where they were defined before, and the name pickles record.
for _obj in (Message, Update, Replica):
    _obj.__module__ = __name__
del _obj

# ---------------------------------------------------------------- the Dask driver

_REPLICAS = {}  # on each worker process: (job, slot) -> Replica


def _chunks(kind, part, spec):
    """The ``(X, y)`` chunks of one computed partition."""
    if kind == "frame":
        y = part[spec["label"]].to_numpy()
        yield spec["hasher"].transform(part.drop(columns=[spec["label"]])), y
    elif kind == "paths":
        for path in part:
            yield from spec["reader"](os.fspath(path))
    elif kind == "pairs":
        for i, pair in enumerate(part):
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise ValueError(
                    f"ftrlx.dask: element {i} of a bag partition is a {type(pair).__name__}, not an (X, y) pair; "
                    "pass a bag of (X, y) tuples, or a bag of file paths with reader=."
                )
            yield pair
    else:  # "blocks": one block of a dask array X and the matching block of y
        yield part


def _train_round(job, slot, init, update, kind, spec, *parts):
    """One worker's round (a Dask task): start or update the replica, train on ``parts``, return its Message."""
    key = (job, slot)
    if init is not None:
        _REPLICAS[key] = Replica(copy.deepcopy(init), spec["classes"])
    replica = _REPLICAS.get(key)
    if replica is None:
        raise RuntimeError(
            f"ftrlx.dask: worker slot {slot} lost its replica of job {job} (the worker restarted?); run fit again, "
            "from the estimator it returned last or from the start."
        )
    if update is not None:
        replica.apply(update)
    for part in parts:
        for X, y in _chunks(kind, part, spec):
            replica.train(X, y)
    return replica.message()


def _forget(job):
    """Drop a job's replicas from this worker (run on every worker when fit ends)."""
    for key in [k for k in _REPLICAS if k[0] == job]:
        del _REPLICAS[key]


def _import_distributed():
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError as exc:
        raise ImportError(
            'ftrlx.dask.fit needs Dask\'s distributed scheduler: pip install "ftrlx[dask]" '
            '(or pip install "dask[distributed]").'
        ) from exc
    return distributed


def _frame_partitions(data, label, hasher):
    if label is None or hasher is None:
        raise ValueError(
            "ftrlx.dask: a dask DataFrame needs label= (the name of the label column) and hasher= (a "
            "ftrlx.hashing.CategoricalHasher that turns the other columns into features)."
        )
    if label not in data.columns:
        raise ValueError(
            f"ftrlx.dask: label={label!r} is not a column of the DataFrame (columns: {list(data.columns)})."
        )
    return "frame", list(data.to_delayed())


def _array_partitions(X, y):
    if y is None:
        raise ValueError("ftrlx.dask: a dask array X needs y=, a dask array of labels with the same row chunks.")
    if X.ndim != 2 or X.numblocks[1] != 1:
        raise ValueError(
            f"ftrlx.dask: X must be a 2-d dask array in one block of columns, got numblocks={X.numblocks}; "
            "rechunk it with X.rechunk({1: -1})."
        )
    y_chunks = getattr(y, "chunks", None)
    if y_chunks is None or tuple(y_chunks[0]) != tuple(X.chunks[0]):
        raise ValueError(
            f"ftrlx.dask: y must be a dask array with the row chunks of X ({tuple(X.chunks[0])}), got "
            f"{None if y_chunks is None else tuple(y_chunks[0])}; rechunk y with y.rechunk(X.chunks[0])."
        )
    import dask

    blocks = [
        dask.delayed(tuple)([xb, yb], pure=True) for xb, yb in zip(X.to_delayed().ravel(), y.to_delayed().ravel())
    ]
    return "blocks", blocks


def _partitions(data, y, label, hasher, reader):
    """(kind, list of Delayed partitions) of a dask DataFrame, Bag or Array."""
    import dask.array as da
    import dask.bag as db
    import dask.dataframe as dd

    if isinstance(data, dd.DataFrame):
        return _frame_partitions(data, label, hasher)
    if isinstance(data, db.Bag):
        return ("paths" if reader is not None else "pairs"), list(data.to_delayed())
    if isinstance(data, da.Array):
        return _array_partitions(data, y)
    raise ValueError(
        f"ftrlx.dask: data is a {type(data).__name__}; pass a dask DataFrame (with label= and hasher=), a dask "
        "Bag of file paths (with reader=) or of (X, y) pairs, or a dask Array of CSR blocks (with y=)."
    )


def _per_round(n_parts, n_workers, rounds, partitions_per_round):
    """Partitions per worker and round, from whichever of the two was given."""
    longest = math.ceil(n_parts / n_workers)
    if rounds is not None and partitions_per_round is not None:
        raise ValueError("ftrlx.dask: pass rounds= or partitions_per_round=, not both.")
    for name, value in (("rounds", rounds), ("partitions_per_round", partitions_per_round)):
        if value is not None and not (isinstance(value, numbers.Integral) and value >= 1):
            raise ValueError(f"ftrlx.dask: {name} must be a positive integer, got {value!r}.")
    if rounds is not None:
        return math.ceil(longest / rounds)
    return 1 if partitions_per_round is None else int(partitions_per_round)


def _client(distributed, client):
    if client is not None:
        return client
    try:
        return distributed.get_client()
    except ValueError as exc:
        raise ValueError(
            "ftrlx.dask: no Dask client is running; create one (dask.distributed.Client(...)) or pass client=."
        ) from exc


def fit(
    estimator,
    data,
    y=None,
    *,
    client=None,
    rounds=None,
    partitions_per_round=None,
    classes=None,
    combine="auto",
    label=None,
    hasher=None,
    reader=None,
    workers=None,
):
    """Train ``estimator`` over the workers of a Dask cluster by iterative parameter mixing.

    Partition ``i`` goes to worker ``i % W``, and each worker trains its replica on its partitions in order with
    ``partial_fit``.  After every ``partitions_per_round`` of its partitions the replicas are combined (only the
    columns touched in the round travel, as indices and values) and the combined model goes back to every worker.
    The combine step runs in this process, which holds the combined model.

    Parameters
    ----------
    estimator : ftrlx online estimator
        Unfitted, or fitted (training continues from it).  It is updated in place only when the whole run
        succeeds, and returned.
    data : dask DataFrame, dask Bag or dask Array
        A DataFrame (needs ``label`` and ``hasher``); a Bag of file paths (needs ``reader``) or of ``(X, y)``
        pairs; a 2-d Array of CSR (or dense) blocks chunked by rows only (needs ``y``).
    y : dask Array, default=None
        Labels of an Array ``data``, with the same row chunks.
    client : dask.distributed.Client, default=None
        The current client when None.
    rounds : int, default=None
        Number of combine rounds (each worker's partitions are split evenly into them).
    partitions_per_round : int, default=None
        Partitions each worker trains on between two combines (1 when neither this nor ``rounds`` is given).
    classes : array-like, default=None
        All labels, required to start an unfitted classifier (as in ``partial_fit``).
    combine : {'auto', 'delta', 'average', 'touched', 'weights'}, default='auto'
        How the replicas' state is combined (see the module documentation).
    label : str, default=None
        DataFrame input: the label column.
    hasher : ftrlx.hashing.CategoricalHasher, default=None
        DataFrame input: turns the other columns into the CSR features.
    reader : callable, default=None
        Bag of paths input: ``reader(path)`` yields ``(X, y)`` chunks, e.g.
        ``functools.partial(ftrlx.datasets.iter_criteo, hasher=...)``.
    workers : list of str, default=None
        Worker addresses to train on (every worker of the cluster when None).

    Returns
    -------
    estimator

    Examples
    --------
    A dask DataFrame of raw categorical columns, hashed on the workers:

    >>> import pytest; distributed = pytest.importorskip("dask.distributed")   # the example needs dask
    >>> import dask.dataframe as dd, pandas as pd
    >>> from ftrlx import FTRLClassifier, CategoricalHasher
    >>> from ftrlx.datasets import make_click_data
    >>> X, y, raw = make_click_data(20_000, n_fields=8, n_features=2**14, seed=0, return_raw=True)
    >>> frame = pd.DataFrame(raw, columns=[f"f{j}" for j in range(8)]).assign(click=y)
    >>> client = distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0")
    >>> clf = fit(FTRLClassifier(), dd.from_pandas(frame, npartitions=8), client=client, rounds=2,
    ...           classes=[0, 1], label="click", hasher=CategoricalHasher(n_features=2**14))
    >>> clf.t_, clf.n_features_in_
    (20000, 16384)
    >>> client.close()
    """
    distributed = _import_distributed()
    resolve_combine(estimator, combine)
    if classes is None and is_classifier(estimator) and not hasattr(estimator, "state_"):
        raise ValueError(
            f"ftrlx.dask: classes= must be given to start an unfitted {type(estimator).__name__} "
            "(all labels that will ever appear, e.g. classes=[0, 1])."
        )
    client = _client(distributed, client)
    kind, parts = _partitions(data, y, label, hasher, reader)
    addresses = sorted(client.scheduler_info()["workers"]) if workers is None else list(workers)
    if not addresses:
        raise ValueError(
            "ftrlx.dask: the cluster has no workers; start some, or wait for them (client.wait_for_workers(n))."
        )
    addresses = addresses[: max(1, min(len(addresses), len(parts)))]  # every worker used gets a partition
    spec = {"label": label, "hasher": hasher, "reader": reader, "classes": classes}
    master = copy.deepcopy(estimator)
    run = _Run(client, master, kind, spec, addresses, combine)
    try:
        run.train(parts, _per_round(len(parts), len(addresses), rounds, partitions_per_round))
    finally:
        run.close()
    estimator.__dict__.update(master.__dict__)
    return estimator


class _Run:
    """One fit: the master model in this process, a replica per worker slot, the rounds between them."""

    def __init__(self, client, master, kind, spec, addresses, combine):
        self.client, self.master, self.kind, self.spec = client, master, kind, spec
        self.addresses, self.combine = addresses, combine
        self.job = uuid.uuid4().hex
        self.bytes_up, self.bytes_down, self.n_rounds = 0, 0, 0

    def _compute(self, parts, address):
        return self.client.compute(parts, workers=[address]) if parts else []

    def _round_parts(self, parts, r, k):
        W = len(self.addresses)
        mine = [parts[j::W] for j in range(W)]
        return [m[r * k : (r + 1) * k] for m in mine]

    def train(self, parts, k):
        W = len(self.addresses)
        n_rounds = math.ceil(math.ceil(len(parts) / W) / k)
        init = self.client.scatter(self.master, broadcast=True, hash=False)
        update = None
        pending = [self._compute(p, a) for p, a in zip(self._round_parts(parts, 0, k), self.addresses)]
        for r in range(n_rounds):
            futures = [
                self.client.submit(
                    _train_round,
                    self.job,
                    slot,
                    init if r == 0 else None,
                    update,
                    self.kind,
                    self.spec,
                    *pending[slot],
                    workers=[address],
                    allow_other_workers=False,
                    pure=False,
                )
                for slot, address in enumerate(self.addresses)
            ]
            # the inputs stay referenced until the round is gathered: scattered data whose last reference is
            # dropped is forgotten by the scheduler, even while a task still waits for it
            inputs = (update, pending)
            if r + 1 < n_rounds:  # read the next round's partitions while this one trains
                pending = [self._compute(p, a) for p, a in zip(self._round_parts(parts, r + 1, k), self.addresses)]
            messages = self.client.gather(futures)
            del inputs
            update = self._combine(messages)

    def _combine(self, messages):
        """Combine a gathered round in this process; the update, scattered to every worker (None if none)."""
        self.bytes_up += sum(m.idx.nbytes + (0 if m.rows is None else m.rows.nbytes) for m in messages)
        new = combine(self.master, messages, self.combine)
        self.n_rounds += 1
        if new is None:
            return None
        self.bytes_down += update_nbytes(new) * len(self.addresses)
        return self.client.scatter(new, broadcast=True, hash=False)

    def close(self):
        try:
            self.client.run(_forget, self.job)
        except Exception:  # noqa: BLE001 - cleaning up after a failure must not hide it
            pass
