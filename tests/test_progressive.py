"""Progressive margins from the training kernel: ``partial_fit(..., progressive=out)`` fills ``out`` with the
decision value each row had just before the model trained on it, in the same pass.

The slow path it replaces: a loop that calls ``decision_function`` (``predict`` for regressors) on each batch and
then ``partial_fit`` on it.  With canonical and non-canonical rows alike the two agree bitwise: the kernel
computes each margin exactly as the decision kernel does.
"""

import numpy as np
import pytest
from ftrlx._kernels._online import ALGORITHMS
from numpy.testing import assert_array_equal

import ftrlx
from ftrlx._reference import estimators
from ftrlx._reference.streams import random_csr

# penalties on, so that the lazy catch-ups take part
PARAMS = {
    "ftrl": {"alpha": 0.5, "l1": 0.05, "l2": 0.1},
    "rda": {"l1": 0.01, "gamma": 1.0, "rho": 0.05},
    "fobos": {"eta0": 0.4, "l1": 0.01, "l2": 0.05},
    "truncated_gradient": {"eta0": 0.4, "gravity": 0.02, "theta": 0.5, "period": 2},
    "adagrad": {"eta0": 0.3, "eps": 0.1, "l1": 0.01, "l2": 0.05},
    "lazy_adam": {"eta0": 0.05},
    "ogd": {"eta0": 0.3, "l1": 0.005, "l2": 0.05},
    "passive_aggressive": {"C": 0.5, "variant": "pa1"},
}
KINDS = ["binary", "ovr", "regression"]


def test_every_algorithm_is_covered():
    assert set(PARAMS) == set(ALGORITHMS)


def problem(kind, seed=0, n=60, d=9, raw=True):
    rng = np.random.default_rng(seed)
    X = random_csr(rng, n, d, max_nnz=5, p_empty=0.1, p_duplicate=0.3 if raw else 0.0)
    if not raw:
        X.sum_duplicates()
    y = {"binary": rng.integers(0, 2, n), "ovr": rng.integers(0, 3, n), "regression": rng.normal(size=n)}[kind]
    return X, y


def estimator(algo, kind, **kw):
    classifier, regressor = estimators(algo)
    if kind == "regression" and regressor is None:
        pytest.skip(f"{algo} has no regressor")
    cls = regressor if kind == "regression" else classifier
    return cls(**PARAMS[algo], shuffle=False, **kw)


def train(est, X, y, kind, **kw):
    if kind == "regression":
        return est.partial_fit(X, y, **kw)
    return est.partial_fit(X, y, classes=[0, 1] if kind == "binary" else [0, 1, 2], **kw)


def scores(est, X, kind):
    return est.predict(X) if kind == "regression" else est.decision_function(X)


def out_for(kind, n):
    return np.full((n, 3) if kind == "ovr" else n, np.nan)


@pytest.mark.parametrize("raw", [True, False], ids=["non-canonical", "canonical"])
@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("algo", list(PARAMS))
def test_progressive_margins_equal_decision_then_partial_fit(algo, kind, batch_size, raw):
    X, y = problem(kind, raw=raw)
    looped = estimator(algo, kind, batch_size=batch_size)
    expected = out_for(kind, X.shape[0])
    for start in range(0, X.shape[0], batch_size):
        rows = slice(start, start + batch_size)
        # a fresh model has no decision function yet: its margins are the untrained model's, 0
        expected[rows] = scores(looped, X[rows], kind) if hasattr(looped, "state_") else 0.0
        train(looped, X[rows], y[rows], kind)
    streamed = estimator(algo, kind, batch_size=batch_size)
    got = out_for(kind, X.shape[0])
    for start in range(0, X.shape[0], 30):  # two calls: the second continues from the first's state
        train(streamed, X[start : start + 30], y[start : start + 30], kind, progressive=got[start : start + 30])
    assert_array_equal(got, expected)
    assert_array_equal(streamed.state_, looped.state_)
    assert np.any(got != 0.0)


@pytest.mark.parametrize("kind", KINDS)
def test_progressive_leaves_the_model_as_without_it(kind):
    X, y = problem(kind, seed=3)
    a = train(estimator("ftrl", kind, batch_size=2), X, y, kind)
    b = train(estimator("ftrl", kind, batch_size=2), X, y, kind, progressive=out_for(kind, X.shape[0]))
    for name in ("state_", "istate_", "gstate_"):
        assert_array_equal(getattr(a, name), getattr(b, name))


def test_first_rows_of_a_fresh_model_see_margin_zero():
    X, y = problem("binary", seed=1)
    got = np.full(X.shape[0], np.nan)
    ftrlx.FTRLClassifier(batch_size=8).partial_fit(X, y, classes=[0, 1], progressive=got)
    assert_array_equal(got[:8], 0.0)
    assert np.all(np.isfinite(got))


@pytest.mark.parametrize(
    "bad",
    [
        np.empty(59),
        np.empty((60, 1)),
        np.empty(60, dtype=np.float32),
        np.empty(120)[::2],
        [0.0] * 60,
        np.zeros(60).view(np.int64),
    ],
)
def test_bad_progressive_is_rejected_before_training(bad):
    X, y = problem("binary")
    est = ftrlx.FTRLClassifier()
    with pytest.raises(
        ValueError,
        match=r"progressive must be a writeable C-contiguous float64 array of shape "
        r"\(60,\).*numpy\.empty",
    ):
        est.partial_fit(X, y, classes=[0, 1], progressive=bad)
    assert not hasattr(est, "state_") and not hasattr(est, "n_features_in_")
    est.partial_fit(X, y, classes=[0, 1])
    before = est.state_.copy(), est.gstate_.copy()
    with pytest.raises(ValueError, match="progressive"):
        est.partial_fit(X, y, progressive=bad)
    assert_array_equal(est.state_, before[0])
    assert_array_equal(est.gstate_, before[1])


def test_read_only_and_one_vs_rest_shapes_are_named():
    X, y = problem("ovr")
    frozen = np.zeros((60, 3))
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"read-only float64 array of shape \(60, 3\)"):
        ftrlx.RDAClassifier().partial_fit(X, y, classes=[0, 1, 2], progressive=frozen)
    with pytest.raises(ValueError, match=r"shape \(60, 3\) \(one margin per row of X, per class\)"):
        ftrlx.RDAClassifier().partial_fit(X, y, classes=[0, 1, 2], progressive=np.empty(60))
