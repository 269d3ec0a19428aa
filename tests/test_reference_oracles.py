"""Self-tests of the eager oracles in ``ftrlx._reference``.

The oracles are the yardstick for the kernels, so they are checked against
each other through the identities of the specification and against short
runs worked out by hand.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from ftrlx._reference import canonical_csr, decision_eager, fit_eager


def _stream(seed, n=60, d=7, density=0.4):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng, data_rvs=lambda k: rng.normal(size=k))
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    sw = rng.choice([0.0, 0.5, 1.0, 2.0], size=n)
    return X, y, sw


def _run(algo, params, seed=0, **kw):
    X, y, sw = _stream(seed)
    s = fit_eager(algo, params, X, y, sw, **kw)
    return s.coef(), s.intercept()


@pytest.mark.parametrize("loss", ["log_loss", "hinge", "modified_huber"])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_ftrl_without_penalty_is_adagrad(loss, batch_size):
    # With l1 = l2 = 0, FTRL-Proximal is AdaGrad with eta = alpha and
    # delta = beta added outside the square root (docs/guide/algorithms.rst, FTRL-Proximal).
    ftrl = _run("ftrl", {"alpha": 0.3, "beta": 0.7}, loss=loss, batch_size=batch_size)
    ada = _run(
        "adagrad",
        {"eta0": 0.3, "eps": 0.7, "eps_placement": "outside", "initial_accumulator": 0.0, "l1_form": "fobos"},
        loss=loss,
        batch_size=batch_size,
    )
    assert_allclose(ftrl[0], ada[0], rtol=1e-10, atol=1e-12)
    assert_allclose(ftrl[1], ada[1], rtol=1e-10, atol=1e-12)
    assert np.abs(ftrl[0]).max() > 1e-3  # the run actually moved


@pytest.mark.parametrize(
    "schedule",
    [{"learning_rate": "constant"}, {"learning_rate": "invsqrt"}, {"learning_rate": "linear", "decay_steps": 30}],
)
def test_truncated_gradient_limit_is_fobos(schedule):
    # theta = inf, period = 1, gravity = l1: truncated gradient is FOBOS-L1.
    tg = _run("truncated_gradient", {"eta0": 0.2, "gravity": 0.15, "theta": np.inf, "period": 1, **schedule})
    fobos = _run("fobos", {"eta0": 0.2, "l1": 0.15, "l2": 0.0, **schedule})
    assert_allclose(tg[0], fobos[0], rtol=1e-12, atol=1e-15)
    assert_allclose(tg[1], fobos[1], rtol=1e-12)
    assert 0 < np.count_nonzero(tg[0]) < tg[0].size  # the threshold acted on some


@pytest.mark.parametrize("algo", ["ogd", "truncated_gradient"])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_unregularised_sgd_family_agrees(algo, batch_size):
    # FOBOS and OGD without penalties, and TG without gravity, are plain SGD.
    params = {"eta0": 0.2, "learning_rate": "linear", "decay_steps": 10, "eta_final": 0.05}
    ref = _run("fobos", params, batch_size=batch_size)
    got = _run(algo, params, batch_size=batch_size)
    assert_allclose(got[0], ref[0], rtol=1e-12)
    assert_allclose(got[1], ref[1], rtol=1e-12)


def test_ftrl_by_hand():
    # Two rows, hinge loss, alpha = beta = 1, l1 = 0.2, no intercept.
    X = sp.csr_matrix(np.array([[1.0, 0.0], [2.0, 1.0]]))
    s = fit_eager("ftrl", {"alpha": 1.0, "beta": 1.0, "l1": 0.2}, X[:1], [1.0], loss="hinge", fit_intercept=False)
    # g0 = -1: sigma = 1, z0 = -1, n0 = 1, w0 = (1 - 0.2) / (1 + 1) = 0.4
    assert_allclose(s.coef(), [0.4, 0.0], rtol=1e-15)
    fit_eager("ftrl", None, X[1:], [-1.0], loss="hinge", state=s)
    # p = 0.8 > -1, dloss = +1; g = (2, 1)
    # coord 0: sigma = (sqrt(5) - 1), z0 = -1 + 2 - 0.4 sigma, n0 = 5
    z0 = 1.0 - 0.4 * (np.sqrt(5.0) - 1.0)
    w0 = -(z0 - 0.2) / (1.0 + np.sqrt(5.0))
    # coord 1: sigma = 1, z1 = 1 (w1 was 0), n1 = 1, w1 = -(1 - 0.2) / 2
    assert_allclose(s.coef(), [w0, -0.4], rtol=1e-14)
    assert s.t == 2


def test_rda_by_hand():
    # Enhanced RDA: w = -soft(u, l1 t + gamma rho sqrt(t)) / (gamma sqrt(t)).
    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0], [3.0, -1.0]]))
    p = {"l1": 0.1, "gamma": 2.0, "rho": 0.05}
    s = fit_eager("rda", p, X, [1.0, -1.0, -1.0], loss="squared_error", fit_intercept=False)
    # y are real targets here: row 1 p=0 -> dloss=-1, u=(-1, 0);
    # row 2 empty: u unchanged; row 3 sees the t=2 weights, thr = 0.2 + 0.1 sqrt(2)
    thr2 = 0.2 + 0.1 * np.sqrt(2.0)
    w0 = (1.0 - thr2) / (2.0 * np.sqrt(2.0))
    dl = 3.0 * w0 + 1.0
    u = np.array([-1.0 + 3.0 * dl, -dl])
    thr3 = 0.3 + 0.1 * np.sqrt(3.0)
    expected = -np.sign(u) * np.maximum(np.abs(u) - thr3, 0) / (2.0 * np.sqrt(3.0))
    assert_allclose(s.coef(), expected, rtol=1e-14)
    assert np.all(expected != 0)


def test_fobos_and_ogd_by_hand():
    # One coordinate, constant eta = 0.5, l1 = 0.1, l2 = 1, squared error, y = 1.
    X = sp.csr_matrix(np.array([[1.0], [0.0]]))
    p = {"eta0": 0.5, "learning_rate": "constant", "l1": 0.1, "l2": 1.0}
    fob = fit_eager("fobos", p, X, [1.0, 0.0], loss="squared_error", fit_intercept=False)
    # step 1: v = 0.5, soft(0.5, 0.05) / 1.5 = 0.3; step 2 (absent): soft(0.3, 0.05)/1.5
    assert_allclose(fob.coef(), [(0.3 - 0.05) / 1.5], rtol=1e-15)
    ogd = fit_eager("ogd", p, X, [1.0, 0.0], loss="squared_error", fit_intercept=False)
    # step 1: w = 0.5, cumulative penalty u = 0.05 clips it to 0.45 (q = -0.05);
    # step 2: the row is empty, so only the decay acts: 0.5 * 0.45.
    assert_allclose(ogd.coef(), [0.225], rtol=1e-15)
    X3 = sp.csr_matrix(np.array([[1.0], [0.0], [1.0]]))
    ogd = fit_eager("ogd", p, X3, [1.0, 0.0, 0.0], loss="squared_error", fit_intercept=False)
    # step 3: w = 0.5 * 0.225 - 0.5 * 0.225 = 0 before the penalty; u = 0.15 stays owed.
    assert_allclose(ogd.coef(), [0.0], atol=1e-17)
    assert_allclose(ogd.model.q[0], -0.05)
    assert_allclose(ogd.model.u, 0.15)


def test_truncated_gradient_by_hand():
    # period 2, theta 0.3, gravity 0.1, constant eta 1, squared error.
    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
    p = {"eta0": 1.0, "learning_rate": "constant", "gravity": 0.1, "theta": 0.3, "period": 2}
    s = fit_eager("truncated_gradient", p, X, [0.25, 0.5], loss="squared_error", fit_intercept=False)
    # after step 2: w = (0.25, 0.5); truncation with alpha = 2 * 1 * 0.1 = 0.2 hits
    # only |w| <= 0.3: w0 -> 0.05, w1 stays.
    assert_allclose(s.coef(), [0.05, 0.5], rtol=1e-14)
    s = fit_eager(
        "truncated_gradient", {**p, "truncation": "rounding"}, X, [0.25, 0.5], loss="squared_error", fit_intercept=False
    )
    assert_allclose(s.coef(), [0.0, 0.5])


@pytest.mark.parametrize("placement,h1", [("outside", 0.5 + 2.0), ("inside", np.sqrt(4.0 + 0.5))])
def test_adagrad_by_hand(placement, h1):
    X = sp.csr_matrix(np.array([[2.0]]))
    p = {"eta0": 1.0, "eps": 0.5, "eps_placement": placement, "l1": 0.1, "l2": 0.2}
    s = fit_eager("adagrad", p, X, [1.0], loss="squared_error", fit_intercept=False)
    # g = -2, n = 4: v = 2 / H, w = soft(v, 0.1 / H) / (1 + 0.2 / H)
    assert_allclose(s.coef(), [(2.0 - 0.1) / h1 / (1 + 0.2 / h1)], rtol=1e-15)
    s = fit_eager(
        "adagrad",
        {**p, "l1_form": "rda", "initial_accumulator": 1.0},
        X,
        [1.0],
        loss="squared_error",
        fit_intercept=False,
    )
    h1 = 0.5 + np.sqrt(5.0) if placement == "outside" else np.sqrt(5.5)
    assert_allclose(s.coef(), [(2.0 - 0.1) / (h1 + 0.2)], rtol=1e-15)


def test_lazy_adam_late_first_step():
    # A coordinate first seen at round t moves by
    # eta0 sqrt(1 - b2^t) / (1 - b1^t) * (1 - b1) / (sqrt(1 - b2) + eps / |g|).
    t0 = 1000
    X = sp.csr_matrix((np.ones(t0), np.r_[np.zeros(t0 - 1, int), 1], np.arange(t0 + 1)), shape=(t0, 2))
    s = fit_eager("lazy_adam", {"eta0": 0.1, "epsilon": 0.0}, X, np.ones(t0), loss="hinge", fit_intercept=False)
    b1, b2 = 0.9, 0.999
    step = 0.1 * np.sqrt(1 - b2**t0) / (1 - b1**t0) * (1 - b1) / np.sqrt(1 - b2)
    assert_allclose(s.coef()[1], step, rtol=1e-13)
    assert 2.5 < step / 0.1 < 2.52


def test_duplicates_and_order_do_not_matter():
    X, y, sw = _stream(3, n=20, d=5)
    # Split every stored value in two, reverse each row: same matrix, not canonical.
    indptr = 2 * X.indptr
    data = np.repeat(X.data / 2.0, 2)
    indices = np.repeat(X.indices, 2)
    for i in range(X.shape[0]):
        a, b = indptr[i], indptr[i + 1]
        data[a:b], indices[a:b] = data[a:b][::-1], indices[a:b][::-1]
    Xd = sp.csr_matrix((data, indices, indptr), shape=X.shape)
    assert not Xd.has_canonical_format
    a = fit_eager("ftrl", {"l1": 0.01}, X, y, sw)
    b = fit_eager("ftrl", {"l1": 0.01}, Xd, y, sw)
    assert_allclose(a.coef(), b.coef(), rtol=1e-13)
    assert_allclose(decision_eager(a, Xd), decision_eager(b, X), rtol=1e-13)
    assert canonical_csr(Xd).nnz == X.nnz


def test_lazy_adam_zero_gradients_do_not_move_with_eps0():
    # m = v = 0 with epsilon = 0 is 0/0; the oracle defines it as no move.
    X = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 1.0]]))
    s = fit_eager("lazy_adam", {"eta0": 2.0, "epsilon": 0.0}, X, [1.0, 1.0], loss="hinge", fit_intercept=False)
    assert s.coef()[1] == 0.0 and np.isfinite(s.coef()[0]) and s.coef()[0] > 2.0
    s = fit_eager("lazy_adam", {"eta0": 0.1, "epsilon": 0.0}, X[:, :1], [1.0, 1.0], [0.0, 1.0], loss="squared_error")
    assert np.all(np.isfinite(s.coef())) and np.isfinite(s.intercept())
    assert s.intercept() > 0
