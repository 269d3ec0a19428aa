"""Lazy == eager: the kernels touch only the coordinates of each row and bring
the others up to date when they are next read; the oracle moves every
coordinate every step. On long streams where most coordinates are absent
for long stretches the two must agree to rtol 1e-10.

Each lazy scheme also checks that skipping the catch-up would have been caught:
an oracle that leaves absent coordinates alone ends far from the eager one.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import ftrlx
from ftrlx._reference import EagerState, decision_eager, fit_eager
from ftrlx._reference.streams import random_csr

RTOL, ATOL = 1e-10, 1e-12
N_FEATURES, N_SAMPLES = 50, 300
ESTIMATOR = {
    "ftrl": "FTRL",
    "rda": "RDA",
    "fobos": "FOBOS",
    "truncated_gradient": "TruncatedGradient",
    "adagrad": "AdaGrad",
    "lazy_adam": "LazyAdam",
    "ogd": "OGD",
}
LINEAR = {"learning_rate": "linear", "decay_steps": 120, "eta_final": 0.01}

# Schemes whose catch-up is a closed form over the skipped steps.
CATCH_UP = [
    ("fobos", {"eta0": 0.5, "learning_rate": "constant", "l1": 0.002, "l2": 0.05}),
    ("fobos", {"eta0": 0.8, "learning_rate": "invsqrt", "l1": 0.003, "l2": 0.1}),
    ("fobos", {"eta0": 0.5, "l1": 0.002, "l2": 0.05, **LINEAR}),
    ("truncated_gradient", {"eta0": 0.5, "learning_rate": "invsqrt", "gravity": 0.004, "theta": 0.3, "period": 3}),
    ("truncated_gradient", {"eta0": 0.5, "gravity": 0.01, "theta": 0.2, "period": 4, **LINEAR}),
    (
        "truncated_gradient",
        {"eta0": 0.5, "learning_rate": "invsqrt", "gravity": 0.0, "theta": 0.05, "period": 5, "truncation": "rounding"},
    ),
    ("adagrad", {"eta0": 0.3, "eps": 0.1, "eps_placement": "outside", "l1": 0.003, "l2": 0.05}),
    (
        "adagrad",
        {"eta0": 0.3, "eps": 0.5, "eps_placement": "inside", "initial_accumulator": 0.1, "l1": 0.003, "l2": 0.05},
    ),
    ("adagrad", {"eta0": 0.3, "eps": 0.0, "l1": 0.005, "l2": 0.0}),
    ("ogd", {"eta0": 0.5, "learning_rate": "invsqrt", "l1": 0.0, "l2": 0.05}),
    ("ogd", {"eta0": 0.5, "learning_rate": "constant", "l1": 0.002, "l2": 0.05}),
]
# Schemes that need no catch-up: every weight is a closed form of the state.
CLOSED_FORM = [
    ("ftrl", {"alpha": 0.5, "beta": 1.0, "l1": 0.05, "l2": 0.5}),
    ("rda", {"l1": 0.002, "gamma": 1.0, "rho": 0.05}),
    ("lazy_adam", {"eta0": 0.05}),
]


def _ids(cases):
    return [f"{algo}-{i}" for i, (algo, _) in enumerate(cases)]


def long_sparse_stream(seed, regression):
    rng = np.random.default_rng(seed)
    X = random_csr(rng, N_SAMPLES, N_FEATURES, max_nnz=3, p_empty=0.0, p_duplicate=0.1)
    w_true = rng.normal(size=N_FEATURES)
    margin = X @ w_true
    y = margin + 0.1 * rng.normal(size=N_SAMPLES) if regression else (margin > 0).astype(int)
    return X, y


def run_both(algo, params, loss, batch_size=1, seed=0, chunks=(100, 200)):
    regression = loss == "squared_error"
    X, y = long_sparse_stream(seed, regression)
    kind = "Regressor" if regression else "Classifier"
    est = getattr(ftrlx, ESTIMATOR[algo] + kind)(**params, loss=loss, batch_size=batch_size, shuffle=False)
    y_pm = y if regression else np.where(y == 1, 1.0, -1.0)
    state = None
    bounds = [0, *chunks, N_SAMPLES]
    for a, b in zip(bounds[:-1], bounds[1:]):
        kw = {} if regression else {"classes": [0, 1]}
        est.partial_fit(X[a:b], y[a:b], **kw)
        state = fit_eager(algo, params, X[a:b], y_pm[a:b], loss=loss, batch_size=batch_size, state=state)
        assert_allclose(np.ravel(est.coef_), state.coef(), rtol=RTOL, atol=ATOL)
        assert_allclose(est.intercept_, [state.intercept()], rtol=RTOL, atol=ATOL)
    X_test = random_csr(np.random.default_rng(seed + 1), 20, N_FEATURES)
    scores = est.predict(X_test) if regression else est.decision_function(X_test)
    assert_allclose(scores, decision_eager(state, X_test), rtol=RTOL, atol=ATOL)
    return X, y_pm, state


def fit_without_catch_up(algo, params, X, y, loss, batch_size):
    """The oracle with absent coordinates frozen: what a kernel that forgot the catch-up computes."""
    state = EagerState(algo, params, X.shape[1])
    model = state.model
    eager_step = model.step

    def step(g, present, t):
        before = model.w.copy()
        eager_step(g, present, t)
        model.w[~present] = before[~present]

    model.step = step
    return fit_eager(algo, params, X, y, loss=loss, batch_size=batch_size, state=state)


def test_stream_has_long_absences():
    X, _ = long_sparse_stream(0, regression=False)
    present = X.toarray() != 0
    gaps = [np.diff(np.flatnonzero(col)).max() for col in present.T if col.sum() > 1]
    assert np.median(gaps) > 20
    assert X.getnnz(axis=1).max() <= 4 and X.getnnz(axis=1).min() >= 1
    # and the kernels get its rows as they are: unsorted, some with a repeated column (sorted and merged inside)
    assert not X.has_canonical_format
    assert any(len(set(X.indices[a:b])) < b - a for a, b in zip(X.indptr[:-1], X.indptr[1:]))


@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
@pytest.mark.parametrize("algo,params", CATCH_UP, ids=_ids(CATCH_UP))
def test_lazy_catch_up_equals_eager(algo, params, loss):
    X, y, state = run_both(algo, params, loss)
    frozen = fit_without_catch_up(algo, params, X, y, loss, batch_size=1)
    assert not np.allclose(frozen.coef(), state.coef(), rtol=1e-6, atol=1e-9), (
        "this stream does not exercise the catch-up"
    )


@pytest.mark.parametrize("algo,params", CLOSED_FORM, ids=_ids(CLOSED_FORM))
def test_closed_form_schemes_equal_eager(algo, params):
    run_both(algo, params, "log_loss")


@pytest.mark.parametrize("algo,params", CATCH_UP[::2], ids=_ids(CATCH_UP[::2]))
def test_lazy_catch_up_equals_eager_in_batches(algo, params):
    run_both(algo, params, "squared_error", batch_size=3, chunks=(100, 151))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("batch_size", [1, 2, 7])
@pytest.mark.parametrize("algo,params", CATCH_UP + CLOSED_FORM, ids=_ids(CATCH_UP + CLOSED_FORM))
def test_lazy_equals_eager_more_streams(algo, params, batch_size, seed):
    for loss in ["log_loss", "hinge", "modified_huber", "squared_error"]:
        run_both(algo, params, loss, batch_size=batch_size, seed=seed)


@pytest.mark.slow
@pytest.mark.parametrize("algo,params", CATCH_UP + CLOSED_FORM, ids=_ids(CATCH_UP + CLOSED_FORM))
def test_lazy_equals_eager_very_long_absences(algo, params):
    # 5000 steps; feature 0 is in every row, the others turn up about once in
    # 500 rows, so their catch-ups span hundreds of steps of decaying rates.
    rng = np.random.default_rng(0)
    n, d = 5000, 10
    mask = rng.random((n, d)) < 0.002
    mask[:, 0] = True
    X = sp.csr_matrix(np.where(mask, rng.normal(size=(n, d)), 0.0))
    y = (X @ (3 * rng.normal(size=d)) + rng.normal(size=n) > 0).astype(int)
    # weaker penalties, so that the rare coordinates keep non-zero weights
    weak = ("l1", "l2", "gravity", "rho") + (("theta",) if params.get("truncation") == "rounding" else ())
    small = {k: v * 0.01 if k in weak else v for k, v in params.items()}
    est = getattr(ftrlx, ESTIMATOR[algo] + "Classifier")(**small, shuffle=False)
    est.partial_fit(X, y, classes=[0, 1])
    state = fit_eager(algo, small, X, np.where(y == 1, 1.0, -1.0))
    assert np.count_nonzero(state.coef()) > 1
    assert_allclose(est.coef_[0], state.coef(), rtol=RTOL, atol=ATOL)
    assert_allclose(est.intercept_, [state.intercept()], rtol=RTOL, atol=ATOL)
