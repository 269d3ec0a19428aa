"""The compiled kernels, driven through the estimators' ``partial_fit``, against
the eager NumPy oracles of ``ftrlx._reference``.

Streams are random and deliberately awkward: duplicate and unsorted column
indices inside a row, empty rows, zero sample weights, int32/int64 indices,
float32/float64 data, batch sizes 1, 2, 3 and 7, and several ``partial_fit``
chunks. After every chunk ``coef_`` and ``intercept_`` must equal the oracle's
to rtol 1e-10, and at the end so must ``decision_function`` on held-out rows.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from ftrlx._kernels.registry import ALGORITHMS as REGISTRY
from ftrlx._reference import decision_eager, estimators, fit_eager, losses
from ftrlx._reference.streams import fit_eager_ovr, random_csr

RTOL, ATOL = 1e-10, 1e-12

# Several hyper-parameter settings per algorithm: with and without penalties,
# every schedule, both truncation modes, both AdaGrad forms and eps
# placements, a non-zero initial accumulator, enhanced RDA.
LINEAR = {"learning_rate": "linear", "decay_steps": 9, "eta_final": 0.02}
SETTINGS = {
    "ftrl": [
        {"alpha": 0.5, "beta": 1.0, "l1": 0.0, "l2": 0.0},
        {"alpha": 0.3, "beta": 0.5, "l1": 0.05, "l2": 0.3},
        {"alpha": 1.0, "beta": 0.0, "l1": 0.02, "l2": 0.0},
    ],
    "rda": [
        {"l1": 0.0, "gamma": 1.0, "rho": 0.0},
        {"l1": 0.02, "gamma": 2.0, "rho": 0.0},
        {"l1": 0.01, "gamma": 1.5, "rho": 0.1},
    ],
    "fobos": [
        {"eta0": 0.3, "learning_rate": "constant", "l1": 0.0, "l2": 0.0},
        {"eta0": 0.4, "learning_rate": "invsqrt", "l1": 0.03, "l2": 0.2},
        {"eta0": 0.3, "l1": 0.02, "l2": 0.1, **LINEAR},
    ],
    "truncated_gradient": [
        {"eta0": 0.3, "learning_rate": "invsqrt", "gravity": 0.05, "theta": 0.4, "period": 3},
        {"eta0": 0.3, "learning_rate": "constant", "gravity": 0.05, "theta": np.inf, "period": 1},
        {"eta0": 0.3, "gravity": 0.05, "theta": 0.3, "period": 2, "truncation": "rounding", **LINEAR},
    ],
    "adagrad": [
        {"eta0": 0.3, "eps": 0.0, "l1": 0.0, "l2": 0.0},
        {"eta0": 0.3, "eps": 0.1, "eps_placement": "outside", "l1": 0.02, "l2": 0.1},
        {"eta0": 0.3, "eps": 0.1, "eps_placement": "inside", "initial_accumulator": 0.5, "l1": 0.02, "l2": 0.1},
    ],
    "lazy_adam": [
        {"eta0": 0.05},
        {"eta0": 0.1, "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3},
    ],
    "ogd": [
        {"eta0": 0.3, "learning_rate": "invsqrt", "l1": 0.0, "l2": 0.1},
        {"eta0": 0.3, "learning_rate": "constant", "l1": 0.02, "l2": 0.1},
        {"eta0": 0.3, "l1": 0.01, "l2": 0.0, **LINEAR},
    ],
    "passive_aggressive": [
        {"C": 0.5, "variant": "pa1"},
        {"C": 0.2, "variant": "pa2"},
        {"C": 1.0, "variant": "pa"},
    ],
}
# AdaGrad's primal-dual form (its intercept is dual-averaged too).
ADAGRAD_RDA = [
    {"eta0": 0.3, "eps": 0.1, "eps_placement": "outside", "l1": 0.02, "l2": 0.1, "l1_form": "rda"},
    {
        "eta0": 0.3,
        "eps": 0.1,
        "eps_placement": "inside",
        "initial_accumulator": 0.5,
        "l1": 0.02,
        "l2": 0.0,
        "l1_form": "rda",
    },
]

CLASSIFIER_LOSSES = ["log_loss", "hinge", "modified_huber"]
CASES = [
    pytest.param(algo, params, loss, id=f"{algo}-{i}-{loss}")
    for algo, plist in SETTINGS.items()
    for i, params in enumerate(plist)
    for loss in losses(algo)
]


def test_every_algorithm_is_covered():
    assert set(SETTINGS) == set(REGISTRY)


EXAMPLES = settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
MORE_EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def streams(draw, fit_intercept=None):
    """Everything about a run except the algorithm: data, labels, weights, chunks."""
    n_features = draw(st.integers(1, 8))
    n_samples = draw(st.integers(1, 24))
    exact32 = draw(st.booleans())  # float32 data on a 1/8 grid, exact in both widths
    return {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "n_features": n_features,
        "n_samples": n_samples,
        "dtype": np.float32 if exact32 else np.float64,
        "index_dtype": draw(st.sampled_from([np.int32, np.int64])),
        "max_nnz": draw(st.integers(1, 5)),
        "p_empty": draw(st.sampled_from([0.0, 0.2, 0.5])),
        "weights": draw(st.sampled_from(["none", "ones", "with_zeros", "random"])),
        "batch_size": draw(st.sampled_from([1, 2, 3, 7])),
        "fit_intercept": draw(st.booleans()) if fit_intercept is None else fit_intercept,
        "cuts": sorted(draw(st.lists(st.integers(0, n_samples), max_size=2))),
    }


def make_data(s, n_classes=2, regression=False):
    """The arrays of a drawn stream: X (raw CSR), y, sample weights, chunks, held-out X."""
    rng = np.random.default_rng(s["seed"])
    grid = 0.125 if s["dtype"] == np.float32 else None
    X = random_csr(
        rng,
        s["n_samples"],
        s["n_features"],
        max_nnz=s["max_nnz"],
        p_empty=s["p_empty"],
        grid=grid,
        dtype=s["dtype"],
        index_dtype=s["index_dtype"],
    )
    n = s["n_samples"]
    y = rng.normal(size=n) if regression else rng.integers(0, n_classes, size=n)
    sw = {
        "none": None,
        "ones": np.ones(n),
        "with_zeros": rng.choice([0.0, 1.0, 2.0], size=n),
        "random": rng.uniform(0.0, 3.0, size=n),
    }[s["weights"]]
    bounds = [0, *s["cuts"], n]
    chunks = [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    X_test = random_csr(rng, 5, s["n_features"])
    return X, y, sw, chunks, X_test


def make_estimator(algo, params, loss, s, **extra):
    classifier, regressor = estimators(algo)
    cls = regressor if loss == "squared_error" else classifier
    return cls(
        **params, loss=loss, fit_intercept=s["fit_intercept"], batch_size=s["batch_size"], shuffle=False, **extra
    )


def as_float32(X):
    """The same raw CSR (duplicates and order kept) with float32 data."""
    return sp.csr_matrix((X.data.astype(np.float32), X.indices, X.indptr), shape=X.shape)


def _rows(M, a, b):
    # Slicing a CSR with duplicates keeps them (scipy copies the raw row ranges).
    return M[a:b]


def check_against_oracle(algo, params, loss, s):
    regression = loss == "squared_error"
    X, y, sw, chunks, X_test = make_data(s, regression=regression)
    est = make_estimator(algo, params, loss, s)
    y_pm = y if regression else np.where(y == 1, 1.0, -1.0)
    state = None
    for a, b in chunks:
        swc = None if sw is None else sw[a:b]
        if regression:
            est.partial_fit(_rows(X, a, b), y[a:b], sample_weight=swc)
        else:
            est.partial_fit(_rows(X, a, b), y[a:b], classes=[0, 1], sample_weight=swc)
        state = fit_eager(
            algo,
            params,
            _rows(X, a, b),
            y_pm[a:b],
            swc,
            loss=loss,
            batch_size=s["batch_size"],
            fit_intercept=s["fit_intercept"],
            state=state,
        )
        assert_allclose(np.ravel(est.coef_), state.coef(), rtol=RTOL, atol=ATOL)
        assert_allclose(est.intercept_, [state.intercept()], rtol=RTOL, atol=ATOL)
        assert est.t_ == state.t
    assert_allclose(
        est.decision_function(X_test) if not regression else est.predict(X_test),
        decision_eager(state, X_test),
        rtol=RTOL,
        atol=ATOL,
    )
    return est, state


@pytest.mark.parametrize("algo,params,loss", CASES)
@EXAMPLES
@given(s=streams())
def test_kernel_matches_eager_oracle(algo, params, loss, s):
    check_against_oracle(algo, params, loss, s)


@pytest.mark.slow
@pytest.mark.parametrize("algo,params,loss", CASES)
@MORE_EXAMPLES
@given(s=streams())
def test_kernel_matches_eager_oracle_many(algo, params, loss, s):
    check_against_oracle(algo, params, loss, s)


@pytest.mark.parametrize("params", ADAGRAD_RDA)
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
@EXAMPLES
@given(s=streams())
def test_adagrad_rda_form_matches_eager_oracle(params, loss, s):
    check_against_oracle("adagrad", params, loss, s)


def test_adagrad_rda_form_intercept():
    # in l1_form='rda' the intercept is an unregularised coordinate of the same algorithm: dual averaging,
    # b = -eta0 u_b / H_b, not a primal AdaGrad step
    s = {
        "seed": 5,
        "n_features": 4,
        "n_samples": 12,
        "dtype": np.float64,
        "index_dtype": np.int32,
        "max_nnz": 3,
        "p_empty": 0.0,
        "weights": "none",
        "batch_size": 1,
        "fit_intercept": True,
        "cuts": [],
    }
    check_against_oracle("adagrad", ADAGRAD_RDA[0], "squared_error", s)


def test_streams_really_are_awkward():
    # The generator must produce what the comparisons claim to cover.
    seen = set()
    for seed in range(40):
        X = random_csr(np.random.default_rng(seed), 10, 4, max_nnz=4, p_empty=0.2, index_dtype=np.int64)
        assert X.indices.dtype == np.int64 and X.indptr.dtype == np.int64
        for i in range(X.shape[0]):
            idx = X.indices[X.indptr[i] : X.indptr[i + 1]]
            if idx.size == 0:
                seen.add("empty")
            if len(set(idx)) < idx.size:
                seen.add("duplicate")
            if np.any(np.diff(idx) < 0):
                seen.add("unsorted")
    assert seen == {"empty", "duplicate", "unsorted"}


# ---------------------------------------------------------------- identities between kernels


@EXAMPLES
@given(
    s=streams(),
    alpha=st.sampled_from([0.1, 0.5, 2.0]),
    beta=st.sampled_from([0.0, 0.5, 1.0]),
    loss=st.sampled_from(CLASSIFIER_LOSSES),
)
def test_ftrl_without_penalty_equals_adagrad_kernel(s, alpha, beta, loss):
    # docs/guide/algorithms.rst, FTRL-Proximal: FTRL with l1 = l2 = 0 is AdaGrad with eta = alpha and
    # delta = beta outside the square root (kernel against kernel).
    X, y, sw, chunks, X_test = make_data(s)
    ftrl = make_estimator("ftrl", {"alpha": alpha, "beta": beta, "l1": 0.0, "l2": 0.0}, loss, s)
    ada = make_estimator(
        "adagrad",
        {
            "eta0": alpha,
            "eps": beta,
            "eps_placement": "outside",
            "initial_accumulator": 0.0,
            "l1": 0.0,
            "l2": 0.0,
            "l1_form": "fobos",
        },
        loss,
        s,
    )
    for a, b in chunks:
        swc = None if sw is None else sw[a:b]
        for est in (ftrl, ada):
            est.partial_fit(X[a:b], y[a:b], classes=[0, 1], sample_weight=swc)
        assert_allclose(ftrl.coef_, ada.coef_, rtol=RTOL, atol=ATOL)
        assert_allclose(ftrl.intercept_, ada.intercept_, rtol=RTOL, atol=ATOL)
    assert_allclose(ftrl.decision_function(X_test), ada.decision_function(X_test), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- float32 input

ALL_FIRST_SETTINGS = [pytest.param(a, p[-1], id=a) for a, p in SETTINGS.items()]


@pytest.mark.parametrize("algo,params", ALL_FIRST_SETTINGS)
def test_float32_exact_values_give_identical_results(algo, params):
    rng = np.random.default_rng(7)
    X = random_csr(rng, 40, 6, grid=0.125)
    y = rng.integers(0, 2, size=40)
    X32 = as_float32(X)
    assert_array_equal(X32.data.astype(np.float64), X.data)
    s = {"fit_intercept": True, "batch_size": 2}
    loss = losses(algo)[0]
    e64 = make_estimator(algo, params, loss, s).partial_fit(X, y, classes=[0, 1])
    e32 = make_estimator(algo, params, loss, s).partial_fit(X32, y, classes=[0, 1])
    assert_array_equal(e32.coef_, e64.coef_)
    assert_array_equal(e32.intercept_, e64.intercept_)
    assert_array_equal(e32.decision_function(X32), e64.decision_function(X))


@pytest.mark.parametrize("algo,params", ALL_FIRST_SETTINGS)
def test_float32_rounded_values_stay_close(algo, params):
    rng = np.random.default_rng(8)
    X = random_csr(rng, 40, 6)
    y = rng.normal(size=40)
    X32 = as_float32(X)
    assert np.any(X32.data.astype(np.float64) != X.data)  # really rounded
    s = {"fit_intercept": True, "batch_size": 1}
    loss = losses(algo)[-1]  # regression where the algorithm has a regressor
    if loss != "squared_error":
        y = (y > 0).astype(int)
    kw = {} if loss == "squared_error" else {"classes": [0, 1]}
    e64 = make_estimator(algo, params, loss, s).partial_fit(X, y, **kw)
    e32 = make_estimator(algo, params, loss, s).partial_fit(X32, y, **kw)
    assert_allclose(e32.coef_.ravel(), e64.coef_.ravel(), rtol=1e-5, atol=1e-7)
    assert_allclose(e32.intercept_, e64.intercept_, rtol=1e-5, atol=1e-7)
    # and the float32 run is the oracle's run on the rounded values (the
    # estimator sums duplicate entries in the input's own precision)
    X32.sum_duplicates()
    state = fit_eager(algo, params, X32, y if loss == "squared_error" else 2.0 * y - 1.0, loss=loss)
    assert_allclose(e32.coef_.ravel(), state.coef(), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- one-vs-rest


@pytest.mark.parametrize("algo", list(SETTINGS))
@pytest.mark.parametrize("n_classes", [2, 3])
def test_ovr_string_labels_and_class_weight(algo, n_classes):
    params = SETTINGS[algo][1]
    rng = np.random.default_rng(11 + n_classes)
    labels = np.array(["cat", "dog", "eel"][:n_classes])
    X = random_csr(rng, 30, 5)
    y = labels[rng.integers(0, n_classes, size=30)]
    sw = rng.choice([0.0, 0.5, 1.0, 2.0], size=30)
    class_weight = {"cat": 3.0, "dog": 0.5}
    est = estimators(algo)[0](**params, class_weight=class_weight, batch_size=2, shuffle=False)
    states = None
    for a, b in [(0, 13), (13, 30)]:
        est.partial_fit(X[a:b], y[a:b], classes=labels[::-1], sample_weight=sw[a:b])
        states = fit_eager_ovr(
            algo, params, X[a:b], y[a:b], list(labels), sw[a:b], class_weight, states=states, batch_size=2
        )
        assert_allclose(est.coef_, np.array([s.coef() for s in states]), rtol=RTOL, atol=ATOL)
        assert_allclose(est.intercept_, [s.intercept() for s in states], rtol=RTOL, atol=ATOL)
    assert list(est.classes_) == list(labels)
    X_test = random_csr(rng, 6, 5)
    expected = np.column_stack([decision_eager(s, X_test) for s in states])
    assert_allclose(est.decision_function(X_test), expected.squeeze(), rtol=RTOL, atol=ATOL)
    # The weights matter: without them the run is different.
    plain = fit_eager_ovr(algo, params, X, y, list(labels), sw, None, batch_size=2)
    assert not np.allclose([s.coef() for s in plain], [s.coef() for s in states], rtol=1e-6)


# ---------------------------------------------------------------- fit's passes


@pytest.mark.parametrize("algo", list(SETTINGS))
def test_fit_passes_equal_oracle_passes(algo):
    # fit without shuffling: max_iter passes in order, batches restarting each pass.
    params = SETTINGS[algo][1]
    rng = np.random.default_rng(3)
    X = random_csr(rng, 23, 6)
    y = rng.integers(0, 3, size=23)
    est = estimators(algo)[0](**params, max_iter=3, shuffle=False, batch_size=2).fit(X, y)
    states = None
    for _ in range(3):
        states = fit_eager_ovr(algo, params, X, y, [0, 1, 2], states=states, batch_size=2)
    assert est.t_ == states[0].t == 3 * 12
    assert_allclose(est.coef_, np.array([s.coef() for s in states]), rtol=RTOL, atol=ATOL)
    assert_allclose(est.intercept_, [s.intercept() for s in states], rtol=RTOL, atol=ATOL)
