"""Concurrent training calls on one estimator run one after the other: no row is lost, nothing is mixed.

The kernels release the GIL, so without the estimator's lock two threads would update the same state at once
(lost steps) and two first calls would each install their own fresh state (one chunk dropped).  Every chunk here
is the same, so that any order of the calls must give bitwise the state of the same calls made in sequence.
"""

import copy
import pickle
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from ftrlx import linear_model as lm

ALL = [getattr(lm, name) for name in lm.__all__ if name.endswith(("Classifier", "Regressor"))]
ids = lambda c: c.__name__  # noqa: E731


def chunk(cls, n_rows=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n_rows, 2000, density=0.01, format="csr", random_state=seed)
    y = rng.integers(0, 2, n_rows)
    return X, (y if cls.__name__.endswith("Classifier") else y.astype(float))


def train(model, X, y):
    if model.__class__.__name__.endswith("Classifier"):
        return model.partial_fit(X, y, classes=[0, 1])
    return model.partial_fit(X, y)


def in_threads(*works):
    """Run each work in a thread of its own, all released at once."""
    start = threading.Barrier(len(works))
    errors = []

    def run(work):
        try:
            start.wait()
            work()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_two_threads_on_a_fitted_model_lose_no_step(cls):
    X, y = chunk(cls)
    n_calls = 6
    model = train(cls(), X, y)
    work = lambda: [train(model, X, y) for _ in range(n_calls)]  # noqa: E731
    in_threads(work, work)
    sequential = train(cls(), X, y)
    for _ in range(2 * n_calls):
        train(sequential, X, y)
    assert model.t_ == sequential.t_ == (2 * n_calls + 1) * X.shape[0]
    np.testing.assert_array_equal(model.state_, sequential.state_)
    np.testing.assert_array_equal(model.gstate_, sequential.gstate_)


@pytest.mark.parametrize("cls", [lm.FTRLClassifier, lm.OGDRegressor], ids=ids)
def test_two_concurrent_first_calls_keep_both_chunks(cls):
    X, y = chunk(cls)
    for _ in range(3):
        model = cls()
        in_threads(lambda: train(model, X, y), lambda: train(model, X, y))
        sequential = train(train(cls(), X, y), X, y)
        assert model.t_ == 2 * X.shape[0]
        np.testing.assert_array_equal(model.state_, sequential.state_)


def test_a_failing_call_in_one_thread_does_not_disturb_the_other():
    X, y = chunk(lm.FTRLClassifier)
    bad = X.copy()
    bad.data[5] = 1e300
    model = train(lm.FTRLClassifier(), X, y)
    outcomes = []

    def work(data):
        for _ in range(4):
            try:
                train(model, data, y)
                outcomes.append("ok")
            except ValueError:
                outcomes.append("refused")

    in_threads(lambda: work(bad), lambda: work(X))
    assert outcomes.count("refused") == 4
    good_calls = outcomes.count("ok")
    reference = train(lm.FTRLClassifier(), X, y)
    for _ in range(good_calls):
        train(reference, X, y)
    assert model.t_ == reference.t_
    np.testing.assert_array_equal(model.state_, reference.state_)


@pytest.mark.parametrize("cls", [lm.FTRLClassifier, lm.LazyAdamRegressor], ids=ids)
def test_the_lock_does_not_travel_with_copies(cls):
    X, y = chunk(cls, n_rows=200)
    model = train(cls(), X, y)
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model), copy.copy(model)):
        assert other.__dict__.get("_lock") is not model.__dict__["_lock"]
        train(other, X, y)
    assert "_lock" not in clone(model).__dict__
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).state_, model.state_)
