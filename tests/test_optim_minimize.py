"""``ftrlx.optim.minimize`` against ``scipy.optimize.minimize`` and against the
defining properties of each method; the test objectives against finite
differences."""

import warnings

import numpy as np
import pytest
import scipy.optimize

from ftrlx import optim
from ftrlx.optim import _methods, minimize


def random_quadratic(n, seed, condition=None):
    rng = np.random.default_rng(seed)
    Qr, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eig = np.geomspace(1.0, condition, n) if condition else rng.uniform(0.5, 5.0, n)
    Q = Qr @ np.diag(eig) @ Qr.T
    return optim.Quadratic((Q + Q.T) / 2, b=rng.normal(size=n), x0=rng.normal(size=n))


OBJECTIVES = [
    optim.Rosenbrock(),
    optim.Rosenbrock(n=3),
    optim.Beale(),
    random_quadratic(8, 0),
    random_quadratic(6, 1, condition=100.0),
    optim.ill_conditioned_quadratic(),
]
OBJ_IDS = ["rosen2", "rosen3", "beale", "quad8", "quad6-cond100", "illcond2"]


@pytest.mark.parametrize("obj", OBJECTIVES, ids=OBJ_IDS)
@pytest.mark.parametrize(
    "method, scipy_method", [("bfgs", "BFGS"), ("lbfgs", "L-BFGS-B"), ("newton", "trust-exact"), ("cg", "CG")]
)
def test_same_optimum_as_scipy(obj, method, scipy_method):
    ours = minimize(obj, obj.x0, jac=obj.grad, hess=obj.hess, method=method, tol=1e-9, max_iter=5000)
    ref = scipy.optimize.minimize(
        obj,
        obj.x0,
        jac=obj.grad,
        method=scipy_method,
        hess=obj.hess if method == "newton" else None,
        options={"gtol": 1e-10} if scipy_method != "L-BFGS-B" else {"gtol": 1e-12, "ftol": 1e-15},
    )
    assert ours.success, ours.message
    np.testing.assert_allclose(ours.x, ref.x, atol=1e-5)
    np.testing.assert_allclose(ours.x, obj.xmin, atol=1e-6)
    assert ours.fun == pytest.approx(obj.fmin, abs=1e-10)
    assert np.linalg.norm(obj.grad(ours.x)) <= 1e-9


@pytest.mark.parametrize("beta", ["fr", "pr+"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cg_with_exact_steps_finishes_in_at_most_n_steps(beta, seed):
    n = 10
    q = random_quadratic(n, seed, condition=50.0)
    res = minimize(
        q,
        q.x0,
        jac=q.grad,
        hess=q.hess,
        method="cg",
        beta=beta,
        line_search="exact",
        tol=1e-8 * np.linalg.norm(q.grad(q.x0)),
        max_iter=n,
    )
    assert res.success and res.n_iter <= n, res
    np.testing.assert_allclose(res.x, q.xmin, atol=1e-7)
    # Steepest descent with the same exact steps is far from done after n steps.
    sd = minimize(q, q.x0, jac=q.grad, hess=q.hess, method="steepest", line_search="exact", tol=0, max_iter=n)
    assert np.linalg.norm(q.grad(sd.x)) > 1e-4


def test_steepest_descent_exact_steps_give_orthogonal_directions():
    q = random_quadratic(5, 3, condition=20.0)
    res = minimize(q, q.x0, jac=q.grad, hess=q.hess, method="steepest", line_search="exact", max_iter=15, tol=0)
    grads = np.array([q.grad(x) for x in res.trajectory])
    dots = np.einsum("ij,ij->i", grads[1:], grads[:-1])
    np.testing.assert_allclose(
        dots / np.linalg.norm(grads[1:], axis=1) / np.linalg.norm(grads[:-1], axis=1), 0.0, atol=1e-8
    )
    assert np.all(np.diff(res.fun_history) < 0)


@pytest.mark.parametrize("search", ["backtracking", "wolfe"])
def test_steepest_descent_line_searches_reach_the_minimum(search):
    q = random_quadratic(4, 4, condition=10.0)
    res = minimize(q, q.x0, jac=q.grad, method="steepest", line_search=search, tol=1e-8, max_iter=2000)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, q.xmin, atol=1e-7)


def test_damped_newton_step_solves_the_shifted_system():
    q = random_quadratic(4, 5)
    alpha = 0.7
    res = minimize(
        q, q.x0, jac=q.grad, hess=q.hess, method="newton", damping=alpha, line_search="none", max_iter=1, tol=0
    )
    step = np.linalg.solve(q.Q + alpha * np.eye(4), q.grad(q.x0))
    np.testing.assert_allclose(res.trajectory[1], q.x0 - step, rtol=1e-12)
    undamped = minimize(q, q.x0, jac=q.grad, hess=q.hess, method="newton", line_search="none", max_iter=5)
    assert undamped.n_iter == 1 and undamped.success


def test_newton_on_an_indefinite_hessian_still_descends():
    s = optim.Saddle(x0=(0.5, 0.1))
    res = minimize(s, s.x0, jac=s.grad, hess=s.hess, method="newton", max_iter=5, tol=0)
    assert np.all(np.diff(res.fun_history) < 0)  # moves away from the saddle, not onto it


def test_a_run_escaping_to_infinity_is_reported_without_an_overflow_warning():
    # Newton leaves the saddle at a growing rate: the gradient gets past 1e154, whose square overflows, long before
    # it stops being finite; the run is stopped by its own checks, and no RuntimeWarning escapes
    s = optim.Saddle()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = minimize(s, s.x0, jac=s.grad, hess=s.hess, method="newton", max_iter=5000, tol=1e-6)
    assert not res.success and np.isfinite(res.trajectory[:-1]).all()
    assert _methods._norm(np.array([3e200, 4e200])) == pytest.approx(5e200, rel=1e-15)
    assert _methods._norm(np.array([3.0, 4.0])) == 5.0


def test_lbfgs_memory_one_differs_from_bfgs_but_converges():
    r = optim.Rosenbrock(n=4)
    res = minimize(r, r.x0, jac=r.grad, method="lbfgs", memory=1, tol=1e-8, max_iter=5000)
    assert res.success
    np.testing.assert_allclose(res.x, 1.0, atol=1e-6)


def test_coordinate_descent_sweep_is_gauss_seidel():
    q = random_quadratic(5, 6)
    res = minimize(q, q.x0, jac=q.grad, hess=q.hess, method="coordinate", max_iter=1, tol=0)
    x = q.x0.copy()
    for i in range(5):
        x[i] = (q.b[i] - q.Q[i] @ x + q.Q[i, i] * x[i]) / q.Q[i, i]
    np.testing.assert_allclose(res.x, x, rtol=1e-12)
    full = minimize(q, q.x0, jac=q.grad, hess=q.hess, method="coordinate", tol=1e-10, max_iter=5000)
    assert full.success
    np.testing.assert_allclose(full.x, q.xmin, atol=1e-8)


def test_coordinate_descent_lasso_matches_sklearn():
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 6))
    y = X @ np.array([1.5, 0.0, -2.0, 0.0, 0.0, 0.7]) + 0.1 * rng.normal(size=40)
    lam = 0.1
    n = len(y)
    fun = lambda w: 0.5 / n * np.sum((X @ w - y) ** 2)  # noqa: E731
    jac = lambda w: X.T @ (X @ w - y) / n  # noqa: E731
    hess = lambda w: X.T @ X / n  # noqa: E731
    res = minimize(fun, np.zeros(6), jac=jac, hess=hess, method="coordinate", l1=lam, tol=1e-10, max_iter=10000)
    ref = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=100000).fit(X, y)
    assert res.success
    np.testing.assert_allclose(res.x, ref.coef_, atol=1e-8)
    assert np.sum(res.x == 0.0) == np.sum(ref.coef_ == 0.0) >= 1
    assert res.fun == pytest.approx(fun(res.x) + lam * np.abs(res.x).sum())


def test_wolfe_line_search_satisfies_both_conditions():
    rng = np.random.default_rng(8)
    r = optim.Rosenbrock(n=3)
    for _ in range(20):
        x = rng.uniform(-2, 2, size=3)
        g = r.grad(x)
        d = -g
        for c2 in (0.1, 0.9):
            phi = lambda a: (r(x + a * d), float(r.grad(x + a * d) @ d), None)  # noqa: E731
            a, f, _ = optim.wolfe_line_search(phi, r(x), float(g @ d), alpha0=1.0, c2=c2)
            assert f <= r(x) + 1e-4 * a * float(g @ d)
            assert abs(float(r.grad(x + a * d) @ d)) <= c2 * abs(float(g @ d))


def test_first_order_optimizer_driver():
    q = optim.ill_conditioned_quadratic()
    opt = optim.SGD(lr=0.09)
    res = minimize(q, q.x0, jac=q.grad, method=opt, tol=1e-6, max_iter=10000)
    assert res.success and res.trajectory.shape == (res.n_iter + 1, 2)
    assert opt.t == res.n_iter  # the object itself was stepped
    np.testing.assert_allclose(res.x, q.xmin, atol=1e-6)
    np.testing.assert_array_equal(res.trajectory[0], q.x0)
    fixed = minimize(q, q.x0, jac=q.grad, method=optim.SGD(lr=0.09), tol=0, max_iter=17)
    assert fixed.n_iter == 17 and not fixed.success and "max_iter" in fixed.message
    diverged = minimize(q, q.x0, jac=q.grad, method=optim.SGD(lr=5.0), max_iter=2000)
    assert not diverged.success and "diverged" in diverged.message


def test_finite_difference_derivatives_and_jac_true():
    r = optim.Rosenbrock()
    res = minimize(r, r.x0, method="bfgs", tol=1e-5)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-4)
    res = minimize(lambda x: (r(x), r.grad(x)), r.x0, jac=True, method="newton", tol=1e-10)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-9)


@pytest.mark.parametrize(
    "obj",
    [optim.Rosenbrock(n=4), optim.Beale(), optim.Saddle(), random_quadratic(3, 9)],
    ids=["rosen4", "beale", "saddle", "quad"],
)
def test_objective_derivatives_match_finite_differences(obj):
    rng = np.random.default_rng(10)
    for _ in range(5):
        x = obj.x0 + 0.3 * rng.normal(size=obj.x0.size)
        h = 1e-6
        E = np.eye(x.size) * h
        g_fd = np.array([(obj(x + e) - obj(x - e)) / (2 * h) for e in E])
        H_fd = np.array([(obj.grad(x + e) - obj.grad(x - e)) / (2 * h) for e in E])
        np.testing.assert_allclose(obj.grad(x), g_fd, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(obj.hess(x), H_fd, rtol=1e-6, atol=1e-5)


def test_bad_arguments_are_named():
    r = optim.Rosenbrock()
    with pytest.raises(ValueError, match="method must be one of"):
        minimize(r, r.x0, method="nelder-mead")
    with pytest.raises(ValueError, match="x0 must be a non-empty 1-D array"):
        minimize(r, np.ones((2, 2)))
    with pytest.raises(ValueError, match="line_search for 'cg'"):
        minimize(r, r.x0, method="cg", line_search="backtracking")
    with pytest.raises(ValueError, match="l1 is only supported"):
        minimize(r, r.x0, method="bfgs", l1=0.1)
    with pytest.raises(ValueError, match="damping must be >= 0"):
        minimize(r, r.x0, method="newton", damping=-1.0)
