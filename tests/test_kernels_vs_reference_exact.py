"""The compiled kernels against the eager NumPy oracles of ``ftrlx._reference`` on small cases built by hand, at
the edges: LazyAdam's first step of a late coordinate and its epsilon = 0, the logistic derivative at large
margins, penalties changed between ``partial_fit`` calls, the hinge at margin one and the truncation at theta,
exactly.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import ftrlx
from ftrlx._reference import fit_eager
from ftrlx._reference.streams import fit_eager_ovr, random_csr

RTOL, ATOL = 1e-10, 1e-12


# ---------------------------------------------------------------- LazyAdam's late first step


@pytest.mark.parametrize("t_first", [2, 10, 1000])
def test_lazy_adam_first_step_of_a_late_coordinate(t_first):
    # docs/guide/algorithms.rst, LazyAdam: the bias correction uses the global step, so a
    # coordinate first seen at step t moves by
    # eta0 sqrt(1 - b2^t) / (1 - b1^t) * (1 - b1) |g| / (sqrt(1 - b2) |g| + eps).
    eta0, b1, b2, eps = 0.1, 0.9, 0.999, 1e-7
    n = t_first
    cols = np.r_[np.zeros(n - 1, dtype=np.int32), 1]
    X = sp.csr_matrix((np.ones(n), cols, np.arange(n + 1)), shape=(n, 2))
    y = np.ones(n, dtype=int)
    est = ftrlx.LazyAdamClassifier(
        eta0=eta0, beta1=b1, beta2=b2, epsilon=eps, loss="hinge", fit_intercept=False, shuffle=False
    )
    est.partial_fit(X[: n - 1], y[: n - 1], classes=[0, 1])
    assert est.t_ == n - 1 and est.coef_[0, 1] == 0.0
    est.partial_fit(X[n - 1 :], y[n - 1 :])
    # hinge with y = +1 and margin 0: dloss = -1, so g = -1 and the step is upward
    step = eta0 * np.sqrt(1 - b2**n) / (1 - b1**n) * (1 - b1) / (np.sqrt(1 - b2) + eps)
    assert_allclose(est.coef_[0, 1], step, rtol=1e-12)
    if n == 1000:
        assert 2.5 < step / eta0 < 2.52  # "about 2.5 lr" (0.795 * 0.1 / sqrt(0.001))


# ---------------------------------------------------------------- logistic derivative


def test_log_loss_gradient_is_exact_at_large_margins():
    # A margin of 20 after one step: the asymptote exp(-z) of the derivative
    # is off by exp(-20) ~ 2e-9 relative, which rtol 1e-10 resolves.
    X = sp.csr_matrix(np.array([[1.0, 0.0], [20.0, 1.0]]))
    y = np.array([1, 1])
    params = {"eta0": 1.0, "learning_rate": "constant", "l1": 0.0, "l2": 0.0}
    est = ftrlx.FOBOSClassifier(**params, fit_intercept=False, shuffle=False)
    est.partial_fit(X, y, classes=[0, 1])
    state = fit_eager("fobos", params, X, [1.0, 1.0], fit_intercept=False)
    margin = 20.0 * 0.5
    assert margin >= 10
    assert_allclose(est.coef_[0], state.coef(), rtol=RTOL)
    # with margin 10 in FOBOS after one step of 0.5; push it to 20 with a third row
    X3 = sp.csr_matrix(np.array([[1.0, 0.0], [40.0, 0.0], [40.0, 1.0]]))
    est = ftrlx.FOBOSClassifier(**params, fit_intercept=False, shuffle=False)
    est.partial_fit(X3, [1, 1, 1], classes=[0, 1])
    state = fit_eager("fobos", params, X3, [1.0, 1.0, 1.0], fit_intercept=False)
    assert 20.0 - 1 < 40.0 * state.coef()[0] < 40  # the third row's margin is about 20
    assert_allclose(est.coef_[0], state.coef(), rtol=RTOL)


# ---------------------------------------------------------------- penalties changed mid-stream


@pytest.mark.parametrize("after", [{"l1": 0.0, "l2": 0.0}, {"l1": 0.0, "l2": 0.05}, {"l1": 0.01, "l2": 0.0}])
def test_ogd_penalties_changed_between_partial_fit_calls(after):
    # set_params between calls: the lazily kept scale (L2) of absent coordinates must still be caught up, and an
    # L1 of 0 applies no penalty from then on, as in the eager oracle.
    before = {"eta0": 0.3, "learning_rate": "constant", "l1": 0.02, "l2": 0.1}
    rng = np.random.default_rng(5)
    X = random_csr(rng, 40, 8)
    y = rng.integers(0, 2, size=40)
    est = ftrlx.OGDClassifier(**before)
    est.partial_fit(X[:20], y[:20], classes=[0, 1])
    states = fit_eager_ovr("ogd", before, X[:20], y[:20], [0, 1])
    est.set_params(**after)
    for state in states:
        state.model.p.update(after)
    est.partial_fit(X[20:], y[20:])
    states = fit_eager_ovr("ogd", {**before, **after}, X[20:], y[20:], [0, 1], states=states)
    assert_allclose(est.coef_, np.array([s.coef() for s in states]), rtol=RTOL, atol=ATOL)
    assert_allclose(est.intercept_, [s.intercept() for s in states], rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- boundaries, exactly


def test_hinge_at_margin_exactly_one_takes_the_subgradient():
    # Margin 1 exactly: the kink belongs to the active side (dloss = -y), so
    # the second row moves the weight again.
    X = sp.csr_matrix(np.array([[1.0], [1.0]]))
    params = {"eta0": 1.0, "learning_rate": "constant", "l1": 0.0, "l2": 0.0}
    est = ftrlx.FOBOSClassifier(**params, loss="hinge", fit_intercept=False, shuffle=False)
    est.partial_fit(X, [1, 1], classes=[0, 1])
    state = fit_eager("fobos", params, X, [1.0, 1.0], loss="hinge", fit_intercept=False)
    assert_array_equal(state.coef(), [2.0])
    assert_array_equal(est.coef_[0], state.coef())


def test_truncation_includes_theta_itself():
    # T1 acts on |w| <= theta: a weight landing exactly on theta is truncated.
    X = sp.csr_matrix(np.array([[1.0]]))
    params = {"eta0": 0.5, "learning_rate": "constant", "gravity": 0.1, "theta": 0.25, "period": 1}
    est = ftrlx.TruncatedGradientRegressor(**params, fit_intercept=False, shuffle=False)
    est.partial_fit(X, [0.5])
    state = fit_eager("truncated_gradient", params, X, [0.5], loss="squared_error", fit_intercept=False)
    assert_allclose(state.coef(), [0.25 - 0.05], rtol=1e-15)  # 0.5 * 0.5 lands on theta
    assert_allclose(est.coef_, state.coef(), rtol=RTOL)


# ---------------------------------------------------------------- LazyAdam with epsilon = 0

# A present coordinate whose gradients have all been zero has m = v = 0: with epsilon = 0 its step is 0/0, which
# must mean "no move" (the weight stays put), not NaN.


def test_lazy_adam_eps0_zero_gradient_keeps_weight():
    # Row 2 has margin > 1 under hinge (dloss = 0) and is coordinate 1's first
    # row (the oracle's side is checked in test_reference_oracles.py).
    X = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 1.0]]))
    params = {"eta0": 2.0, "epsilon": 0.0}
    est = ftrlx.LazyAdamClassifier(**params, loss="hinge", fit_intercept=False, shuffle=False)
    est.partial_fit(X, [1, 1], classes=[0, 1])
    state = fit_eager("lazy_adam", params, X, [1.0, 1.0], loss="hinge", fit_intercept=False)
    assert_allclose(est.coef_[0], state.coef(), rtol=RTOL)


def test_lazy_adam_eps0_zero_weight_first_row():
    # the intercept's first step has g = 0 (zero sample weight)
    X = sp.csr_matrix(np.array([[1.0], [1.0]]))
    est = ftrlx.LazyAdamRegressor(eta0=0.1, epsilon=0.0, shuffle=False)
    est.partial_fit(X, [1.0, 1.0], sample_weight=[0.0, 1.0])
    state = fit_eager("lazy_adam", {"eta0": 0.1, "epsilon": 0.0}, X, [1.0, 1.0], [0.0, 1.0], loss="squared_error")
    assert_allclose(est.coef_, state.coef(), rtol=RTOL)
    assert_allclose(est.intercept_, [state.intercept()], rtol=RTOL)
