"""Shuffled epochs gathered on a second thread (``n_jobs=2``, one output) against the kernel's own gathering.

The path must give bitwise the model of ``n_jobs=1``, and the same errors (the first fault in visiting order, the
row of a divergence), leaving a fitted model as it was when a call fails.  The parts are made tiny here so that
a small matrix has many of them; a spy checks that the path under test was taken.
"""

from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from ftrlx import linear_model as lm
from ftrlx._kernels import registry
from ftrlx._reference import estimators
from ftrlx.linear_model import DivergenceError, _ahead

ALGOS = sorted(registry.ALGORITHMS)
CHECKS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def tiny_parts(entries=24):
    """Parts of about ``entries`` entries, and a count of the calls that took the path."""
    calls = []
    real = _ahead.run_kernel

    def spy(*args):
        calls.append(1)
        return real(*args)

    with mock.patch.object(_ahead, "PART_ENTRIES", entries), mock.patch.object(_ahead, "run_kernel", spy):
        yield calls


def random_rows(seed, n, d, float32=False, int64=False, sort=True, repeats=False):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 7, size=n)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    cols = rng.integers(0, d, size=indptr[-1])
    if repeats:  # a column twice in about a third of the rows
        starts = indptr[:-1][(lengths >= 2) & (rng.random(n) < 0.3)]
        cols[starts + 1] = cols[starts]
    if sort:
        for a, b in zip(indptr[:-1], indptr[1:]):
            cols[a:b] = np.sort(cols[a:b])
    values = rng.integers(-8, 9, size=cols.size) / 4.0 if float32 else rng.normal(size=cols.size)
    index = np.int64 if int64 else np.int32
    X = sp.csr_matrix((values.astype(np.float32 if float32 else np.float64), cols.astype(index), indptr.astype(index)),
                      shape=(n, d))  # fmt: skip
    return X, rng


def both(cls, X, y, sample_weight=None, **params):
    """The model of ``n_jobs=1`` and of ``n_jobs=2``, or the error each raised (as text)."""
    out = []
    for n_jobs in (1, 2):
        try:
            out.append(cls(n_jobs=n_jobs, **params).fit(X, y, sample_weight=sample_weight))
        except (ValueError, DivergenceError) as exc:
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def assert_same_model(a, b):
    for name in ("state_", "istate_", "gstate_"):
        assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("algo", ALGOS)
@CHECKS
@given(
    seed=st.integers(0, 2**32 - 1),
    batch_size=st.sampled_from([1, 3]),
    max_iter=st.sampled_from([1, 2]),
    regression=st.booleans(),
    float32=st.booleans(),
    int64=st.booleans(),
    sort=st.booleans(),
    repeats=st.booleans(),
    weighted=st.booleans(),
)
def test_gathered_ahead_is_bitwise_the_kernels_gathering(
    algo, seed, batch_size, max_iter, regression, float32, int64, sort, repeats, weighted
):
    classifier, regressor = estimators(algo)
    cls = regressor if regression and regressor is not None else classifier
    X, rng = random_rows(seed, 90, 15, float32, int64, sort, repeats)
    y = rng.normal(size=90) if cls is regressor else rng.integers(0, 2, size=90)
    params = dict(batch_size=batch_size, max_iter=max_iter, shuffle=True, random_state=seed % 1000)
    weights = np.where(rng.random(90) < 0.2, 0.0, rng.uniform(0.1, 3.0, size=90)) if weighted else None
    with tiny_parts() as calls:
        one, two = both(cls, X, y, sample_weight=weights, **params)
    assert len(calls) == max_iter  # every epoch of n_jobs=2 took the path, none of n_jobs=1
    assert_same_model(one, two)
    assert_array_equal(one.predict(X), two.predict(X))


def test_the_path_is_left_to_the_kernel_where_it_does_not_apply():
    X, rng = random_rows(1, 120, 10)
    y3 = rng.integers(0, 3, size=120)
    y2 = rng.integers(0, 2, size=120)
    with tiny_parts() as calls:
        one, two = both(lm.FTRLClassifier, X, y3, shuffle=True, random_state=0)  # three outputs
        assert_same_model(one, two)
        both(lm.FTRLClassifier, X, y2, shuffle=False)  # no order to gather
        lm.FTRLClassifier(n_jobs=2, shuffle=True).fit(X[:3], y2[:3])  # fewer rows than two parts
        lm.FTRLClassifier(n_jobs=2, parallel="hogwild", shuffle=True).fit(X, y2)  # the threads train
    assert calls == []


def test_warm_started_fit_continues_the_same_and_a_failure_undoes_it():
    X, rng = random_rows(5, 200, 30, repeats=True)
    y = rng.integers(0, 2, size=200)
    params = dict(warm_start=True, shuffle=True, random_state=4, max_iter=2)
    with tiny_parts() as calls:
        one, two = both(lm.FTRLClassifier, X, y, **params)
        for model in (one, two):
            model.fit(X, y)
        assert_same_model(one, two)
        assert len(calls) == 4
        # a step that diverges in the middle of the epoch: the journal puts back what the epoch changed
        fitted = both(lm.OGDRegressor, X, rng.normal(size=200), eta0=0.01, **params)
        huge = sp.csr_matrix(X * 1e200)
        errors = []
        for model in fitted:
            saved = [getattr(model, name).copy() for name in ("state_", "istate_", "gstate_")]
            model.set_params(eta0=10.0, learning_rate="constant")
            with pytest.raises(DivergenceError) as info:
                model.fit(huge, np.full(200, 1e300))
            errors.append(str(info.value))
            for name, before in zip(("state_", "istate_", "gstate_"), saved):
                assert_array_equal(getattr(model, name), before)
    assert errors[0] == errors[1] and "overflowed" in errors[0]
    assert len(calls) == 4 + 2 + 1


@pytest.mark.parametrize("fault", ["column past the end", "negative column", "nan"])
def test_a_fault_is_reported_at_the_same_row_and_entry(fault):
    X, rng = random_rows(8, 300, 40)
    rows = np.flatnonzero(np.diff(X.indptr) >= 2)
    for row in rows[[40, 200]]:  # two faults: the first met in the shuffled order is the one reported
        at = X.indptr[row] + 1
        if fault == "nan":
            X.data[at] = np.nan
        else:
            X.indices[at] = 40 if fault == "column past the end" else -1
    y = rng.integers(0, 2, size=300)
    with tiny_parts() as calls:
        one, two = both(lm.FTRLClassifier, X, y, shuffle=True, random_state=2)
    assert isinstance(one, str) and one == two
    assert calls or fault == "nan"  # a NaN may be refused before training, by both paths alike


def test_a_divergence_names_the_same_row():
    X, rng = random_rows(3, 200, 20)
    X = sp.csr_matrix(X * 1e200)
    y = np.full(200, 1e300)
    with tiny_parts() as calls:
        one, two = both(lm.OGDRegressor, X, y, eta0=10.0, learning_rate="constant", shuffle=True, random_state=1)
    assert calls and isinstance(one, str) and one == two and "overflowed" in one


def test_parts_are_whole_batches_and_cover_the_epoch():
    X, _ = random_rows(2, 1000, 50)
    with mock.patch.object(_ahead, "PART_ENTRIES", 100):
        rows = _ahead._part_rows(X, 7)
        order = np.random.default_rng(0).permutation(1000).astype(np.int64)
        parts = _ahead._Parts(X, np.zeros(1000), np.ones(1000), order, rows)
    assert rows % 7 == 0 and len(parts.bounds) > 2
    pieces = []
    for p in range(len(parts.bounds)):  # each part is a view of one of two buffers, used in turn
        data, indices, indptr, _, _ = parts.gather(p)
        pieces.append(sp.csr_matrix((data.copy(), indices.copy(), indptr.copy()), shape=(indptr.size - 1, 50)))
    gathered = sp.vstack(pieces)
    expected = X[order]
    assert_array_equal(gathered.indptr, expected.indptr)
    assert_array_equal(gathered.indices, expected.indices)
    assert_array_equal(gathered.data, expected.data)
