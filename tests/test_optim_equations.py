"""Each optimizer and schedule against its update equations, on cases small
enough to check by hand (expected values are written as the arithmetic of
the equations, not copied from a run)."""

import math

import numpy as np
import pytest

from ftrlx import optim


def run(opt, w0, grad_fn, n):
    w = np.array(w0, dtype=float)
    for _ in range(n):
        opt.step(w, grad_fn(w))
    return w


def sq(w):  # gradient of f(w) = w**2
    return 2 * w


# --- schedules ------------------------------------------------------------
def test_schedules_follow_their_formulas():
    assert [optim.InverseSqrt(0.3)(t) for t in range(3)] == [0.3, 0.3 / math.sqrt(2), 0.3 / math.sqrt(3)]
    s = optim.LinearDecay(2.0, tau=10, final_lr=0.5)
    for k in range(15):
        expected = (1 - k / 10) * 2.0 + (k / 10) * 0.5 if k <= 10 else 0.5
        assert s(k) == pytest.approx(expected, rel=1e-15)
    assert optim.LinearDecay(2.0, tau=10)(10) == pytest.approx(0.02)
    assert optim.StepDecay(1.0, step_size=3, gamma=0.1)(7) == pytest.approx(0.01)
    assert optim.ExponentialDecay(1.0, gamma=0.9)(3) == pytest.approx(0.729)
    with pytest.raises(ValueError, match="tau must be an integer >= 1, got 0"):
        optim.LinearDecay(1.0, tau=0)
    with pytest.raises(ValueError, match="gamma must lie in"):
        optim.ExponentialDecay(1.0, gamma=1.5)


def test_optimizer_uses_schedule_at_t_equal_0_1_2():
    w = run(optim.SGD(lr=optim.InverseSqrt(1.0)), [0.0], lambda w: np.array([-1.0]), 3)
    assert w[0] == pytest.approx(1 + 1 / math.sqrt(2) + 1 / math.sqrt(3))


# --- SGD and momentum -------------------------------------------------------
def test_sgd_two_steps():
    np.testing.assert_allclose(run(optim.SGD(lr=0.1), [1.0], sq, 2), [0.64])


@pytest.mark.parametrize("form", ["accumulate", "classic"])
def test_heavy_ball_two_steps(form):
    # b1 = 2, w1 = 0.8; g2 = 1.6, b2 = 0.5*2 + 1.6 = 2.6, w2 = 0.8 - 0.26
    w = run(optim.SGD(lr=0.1, momentum=0.5, momentum_form=form), [1.0], sq, 2)
    np.testing.assert_allclose(w, [0.54], rtol=1e-14)


def test_dampening_applies_from_the_second_step():
    # b1 = g1 = 2 (w = 0.8); b2 = 0.5*2 + (1-0.5)*1.6 = 1.8, w = 0.8 - 0.18
    w = run(optim.SGD(lr=0.1, momentum=0.5, dampening=0.5), [1.0], sq, 2)
    np.testing.assert_allclose(w, [0.62], rtol=1e-14)


def test_ema_momentum_two_steps():
    # v1 = 0.5*2 = 1 (w = 0.9); v2 = 0.5*1 + 0.5*1.8 = 1.4, w = 0.9 - 0.14
    w = run(optim.SGD(lr=0.1, momentum=0.5, momentum_form="ema"), [1.0], sq, 2)
    np.testing.assert_allclose(w, [0.76], rtol=1e-14)


def test_classic_and_accumulate_differ_under_a_schedule():
    lr = optim.ExponentialDecay(0.1, gamma=0.5)
    a = run(optim.SGD(lr=lr, momentum=0.5), [1.0], sq, 2)
    c = run(optim.SGD(lr=lr, momentum=0.5, momentum_form="classic"), [1.0], sq, 2)
    # accumulate: w2 = 0.8 - 0.05*(0.5*2 + 1.6); classic: v2 = 0.5*(-0.2) - 0.05*1.6
    np.testing.assert_allclose(a, [0.8 - 0.05 * 2.6])
    np.testing.assert_allclose(c, [0.8 - 0.1 - 0.08])


def test_classic_nesterov_is_sutskever_at_the_look_ahead_point():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(4, 4))
    A = M @ M.T + np.eye(4)
    grad = lambda x: A @ x  # noqa: E731
    lr, mu = optim.ExponentialDecay(0.02, gamma=0.97), 0.8
    theta, v = rng.normal(size=4), np.zeros(4)
    phi = theta.copy()
    opt = optim.SGD(lr=lr, momentum=mu, nesterov=True, momentum_form="classic")
    for t in range(20):
        v = mu * v - lr(t) * grad(theta + mu * v)
        theta = theta + v
        opt.step(phi, grad(phi))
        np.testing.assert_allclose(phi, theta + mu * v, rtol=1e-10, atol=1e-12)


def test_ema_nesterov_two_steps():
    # v1 = 1, d1 = 0.5*1 + 0.5*2 = 1.5 -> w = 0.85; g2 = 1.7, v2 = 0.5 + 0.85 = 1.35, d2 = 0.675 + 0.85
    w = run(optim.SGD(lr=0.1, momentum=0.5, nesterov=True, momentum_form="ema"), [1.0], sq, 2)
    np.testing.assert_allclose(w, [0.85 - 0.1 * 1.525], rtol=1e-14)


def test_sgd_rejects_inconsistent_momentum_options():
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        optim.SGD(nesterov=True)
    with pytest.raises(ValueError, match="dampening"):
        optim.SGD(momentum=0.9, dampening=0.1, momentum_form="ema")
    with pytest.raises(ValueError, match="momentum_form must be one of"):
        optim.SGD(momentum_form="heavy")


# --- AdaGrad ----------------------------------------------------------------
def test_adagrad_outside_and_inside_eps():
    # r1 = 4 -> w1 = 1 - 0.1*2/(2 + eps); g2 = 2*w1, r2 = 4 + g2**2
    eps = 0.5
    w1 = 1 - 0.1 * 2 / (2 + eps)
    g2 = 2 * w1
    w = run(optim.AdaGrad(lr=0.1, eps=eps), [1.0], sq, 2)
    np.testing.assert_allclose(w, [w1 - 0.1 * g2 / (math.sqrt(4 + g2**2) + eps)], rtol=1e-14)
    w1 = 1 - 0.1 * 2 / math.sqrt(4 + eps)
    g2 = 2 * w1
    w = run(optim.AdaGrad(lr=0.1, eps=eps, eps_placement="inside"), [1.0], sq, 2)
    np.testing.assert_allclose(w, [w1 - 0.1 * g2 / math.sqrt(4 + g2**2 + eps)], rtol=1e-14)


def test_adagrad_eps_zero_leaves_untouched_coordinates_alone():
    w = np.array([1.0, 2.0])
    optim.AdaGrad(lr=0.1, eps=0.0).step(w, np.array([3.0, 0.0]))
    np.testing.assert_array_equal(w, [0.9, 2.0])


def test_adagrad_initial_accumulator_and_lr_decay():
    opt = optim.AdaGrad(lr=0.1, eps=0.0, initial_accumulator_value=5.0, lr_decay=1.0)
    w = run(opt, [0.0], lambda w: np.array([2.0]), 2)
    # step 1: lr 0.1, r = 9; step 2: lr 0.1/2, r = 13
    np.testing.assert_allclose(w, [-0.1 * 2 / 3 - 0.05 * 2 / math.sqrt(13)], rtol=1e-14)


# --- RMSProp ----------------------------------------------------------------
def test_rmsprop_plain_and_centered_two_steps():
    a = 0.5
    w1 = 1 - 0.1 * 2 / (math.sqrt(0.5 * 4) + 0.0)
    g2 = 2 * w1
    v2 = 0.5 * 2 + 0.5 * g2**2
    w = run(optim.RMSProp(lr=0.1, alpha=a, eps=0.0), [1.0], sq, 2)
    np.testing.assert_allclose(w, [w1 - 0.1 * g2 / math.sqrt(v2)], rtol=1e-14)
    # centered: gbar1 = 1, var1 = 2 - 1 = 1
    w1 = 1 - 0.1 * 2 / 1.0
    g2 = 2 * w1
    v2, gbar2 = 0.5 * 2 + 0.5 * g2**2, 0.5 * 1 + 0.5 * g2
    w = run(optim.RMSProp(lr=0.1, alpha=a, eps=0.0, centered=True), [1.0], sq, 2)
    np.testing.assert_allclose(w, [w1 - 0.1 * g2 / math.sqrt(v2 - gbar2**2)], rtol=1e-14)


def test_rmsprop_scalar_uses_the_global_norm_of_all_arrays():
    params = {"a": np.array([0.0]), "b": np.array([0.0])}
    opt = optim.RMSProp(lr=0.1, alpha=0.0, eps=0.0, scalar=True)
    opt.step(params, {"a": np.array([3.0]), "b": np.array([4.0])})
    # v = ||g||^2 = 25 for both arrays: every coordinate moves by lr * g / 5
    np.testing.assert_allclose([params["a"][0], params["b"][0]], [-0.06, -0.08])
    opt.step(params, {"a": np.array([0.0]), "b": np.array([1.0])})
    np.testing.assert_allclose(params["b"], [-0.08 - 0.1 * 1.0 / 1.0])


def test_rmsprop_nesterov_is_goodfellow_algorithm_8_6():
    rng = np.random.default_rng(1)
    M = rng.normal(size=(3, 3))
    A = M @ M.T + np.eye(3)
    grad = lambda x: A @ x - 1.0  # noqa: E731
    lr, rho, mu, delta = 0.01, 0.9, 0.7, 1e-6
    theta, v, r = rng.normal(size=3), np.zeros(3), np.zeros(3)
    phi = theta.copy()
    opt = optim.RMSProp(lr=lr, alpha=rho, eps=delta, momentum=mu, nesterov=True, eps_placement="inside")
    for _ in range(30):
        g = grad(theta + mu * v)  # interim point
        r = rho * r + (1 - rho) * g * g
        v = mu * v - lr / np.sqrt(delta + r) * g
        theta = theta + v
        opt.step(phi, grad(phi))
        np.testing.assert_allclose(phi, theta + mu * v, rtol=1e-10, atol=1e-12)


# --- AdaDelta ---------------------------------------------------------------
def test_adadelta_two_steps():
    rho, eps = 0.5, 0.01
    Eg1 = 0.5 * 4
    D1 = math.sqrt(0 + eps) / math.sqrt(Eg1 + eps) * 2
    ED1 = 0.5 * D1**2
    w1 = 1 - D1
    g2 = 2 * w1
    Eg2 = 0.5 * Eg1 + 0.5 * g2**2
    D2 = math.sqrt(ED1 + eps) / math.sqrt(Eg2 + eps) * g2
    w = run(optim.AdaDelta(lr=1.0, rho=rho, eps=eps), [1.0], sq, 2)
    np.testing.assert_allclose(w, [w1 - D2], rtol=1e-14)


# --- Adam family ------------------------------------------------------------
def test_adam_two_steps():
    b1, b2, lr, eps = 0.9, 0.99, 0.1, 1e-3
    m, v, w = 0.0, 0.0, 1.0
    for t in (1, 2):
        g = 2 * w
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(run(optim.Adam(lr=lr, betas=(b1, b2), eps=eps), [1.0], sq, 2), [w], rtol=1e-14)


def test_amsgrad_keeps_the_largest_raw_second_moment():
    opt = optim.AMSGrad(lr=0.1, betas=(0.0, 0.5), eps=0.0)
    w = np.array([0.0])
    opt.step(w, np.array([4.0]))  # v = 8, vmax = 8
    opt.step(w, np.array([2.0]))  # v = 6, vmax stays 8, m = 2
    assert opt.state[None]["exp_avg_sq"][0] == 6.0 and opt.state[None]["max_exp_avg_sq"][0] == 8.0
    np.testing.assert_allclose(w, [-0.1 - 0.1 * 2 / (math.sqrt(8) / math.sqrt(0.75))], rtol=1e-14)


def test_nadam_two_steps():
    b1, b2, lr, psi = 0.9, 0.999, 0.1, 0.004
    mu = lambda t: b1 * (1 - 0.5 * 0.96 ** (t * psi))  # noqa: E731
    m = v = 0.0
    w, prod = 1.0, 1.0
    for t in (1, 2):
        g = 2 * w
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        prod *= mu(t)
        d = math.sqrt(v / (1 - b2**t)) + 1e-8
        w -= lr * (mu(t + 1) * m / (1 - prod * mu(t + 1)) + (1 - mu(t)) * g / (1 - prod)) / d
    np.testing.assert_allclose(run(optim.NAdam(lr=lr), [1.0], sq, 2), [w], rtol=1e-14)


def test_adamax_two_steps():
    # m1 = 0.2, u1 = 2 -> w1 = 1 - 0.1/0.1 * 0.1 = 0.9; g2 = 1.8, m2 = 0.36, u2 = max(0.5*2, 1.8)
    w = run(optim.AdaMax(lr=0.1, betas=(0.9, 0.5), eps=0.0), [1.0], sq, 2)
    np.testing.assert_allclose(w, [0.9 - 0.1 / (1 - 0.81) * 0.36 / 1.8], rtol=1e-14)


def test_lazy_adam_touches_only_masked_rows_and_uses_global_t():
    table = np.ones((3, 2))
    opt = optim.LazyAdam(lr=0.1)
    g = np.full((3, 2), 0.5)
    for _ in range(999):
        opt.step(table, g, mask=np.array([True, False, False]))
    assert opt.state[None]["exp_avg"][1:].tobytes() == np.zeros((2, 2)).tobytes()
    np.testing.assert_array_equal(table[1:], 1.0)
    before0 = table[0].copy()
    opt.step(table, g, mask=np.array([False, True, False]))
    np.testing.assert_array_equal(table[0], before0)
    # First touch at t = 1000: m = 0.05, v = 0.00025 -> step = lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)
    step = 0.1 * math.sqrt(1 - 0.999**1000) / (1 - 0.9**1000) * 0.05 / (math.sqrt(0.00025) + 1e-7)
    np.testing.assert_allclose(table[1], 1 - step, rtol=1e-12)
    assert 2.4 * 0.1 < step < 2.6 * 0.1  # about 2.5 lr, ALGORITHMS §1.8
    with pytest.raises(ValueError, match="leading dimensions"):
        opt.step(table, g, mask=np.ones(2, dtype=bool))


def test_lazy_adam_default_mask_is_the_nonzero_gradient():
    a, b = np.ones(3), np.ones(3)
    g = np.array([1.0, 0.0, -2.0])
    optim.LazyAdam(lr=0.1).step(a, g)
    optim.LazyAdam(lr=0.1).step(b, g, mask=g != 0)
    assert a.tobytes() == b.tobytes() and a[1] == 1.0


def test_delta_bar_delta_grows_and_shrinks_the_gain():
    opt = optim.DeltaBarDelta(lr=0.1, kappa=0.5, phi=0.5, theta=0.0)
    w = np.array([0.0, 0.0])
    opt.step(w, np.array([1.0, 1.0]))
    opt.step(w, np.array([1.0, -1.0]))  # coordinate 0 agrees, 1 flips
    np.testing.assert_allclose(opt.state[None]["gain"], [1.5, 0.5])
    np.testing.assert_allclose(w, [-0.1 - 0.15, -0.1 + 0.05])


# --- wrappers ---------------------------------------------------------------
def test_uniform_average_from_start_and_ema():
    w = np.array([0.0])
    opt = optim.Averaged(optim.SGD(lr=1.0), start=2)
    for g in (-1.0, -2.0, -3.0, -4.0):  # iterates 1, 3, 6, 10
        opt.step(w, np.array([g]))
    np.testing.assert_allclose(opt.averaged(), [(3 + 6 + 10) / 3])
    w = np.array([0.0])
    opt = optim.Averaged(optim.SGD(lr=1.0), decay=0.5)
    for g in (-1.0, -2.0, -3.0):  # 1; 0.5*1 + 0.5*3 = 2; 0.5*2 + 0.5*6 = 4
        opt.step(w, np.array([g]))
    np.testing.assert_allclose(opt.averaged(), [4.0])
    with pytest.raises(RuntimeError, match="before the first step"):
        optim.Averaged(optim.SGD()).averaged()


def test_clip_by_value_then_global_norm_over_all_arrays():
    params = {"a": np.zeros(2), "b": np.zeros(1)}
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([-10.0])}
    opt = optim.ClipGradient(optim.SGD(lr=1.0), max_value=4.0, max_norm=2.5)
    opt.step(params, grads)
    # value clip -> (3, 0, -4), norm 5 -> scaled by 0.5
    np.testing.assert_allclose(params["a"], [-1.5, 0.0])
    np.testing.assert_allclose(params["b"], [2.0])
    np.testing.assert_array_equal(grads["b"], [-10.0])  # caller's arrays untouched
    with pytest.raises(ValueError, match="max_value and/or max_norm"):
        optim.ClipGradient(optim.SGD())


# --- mini-batches -------------------------------------------------------------
def test_minibatch_full_batch_equals_gd_and_sum_scales_the_mean():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    rows = lambda w, idx: (X[idx] @ w - y[idx])[:, None] * X[idx]  # noqa: E731
    w_batch = optim.fit_minibatch(optim.SGD(lr=0.1), np.zeros(3), rows, 8, batch_size=8, n_epochs=5)
    w_gd = run(optim.SGD(lr=0.1), np.zeros(3), lambda w: X.T @ (X @ w - y) / 8, 5)
    np.testing.assert_allclose(w_batch, w_gd, rtol=1e-13)
    w_sum = optim.fit_minibatch(optim.SGD(lr=0.1 / 8), np.zeros(3), rows, 8, batch_size=8, n_epochs=5, reduction="sum")
    np.testing.assert_allclose(w_sum, w_gd, rtol=1e-12)
    w_sgd = optim.fit_minibatch(optim.SGD(lr=0.1), np.zeros(3), rows, 8, batch_size=1, shuffle=False)
    w_ref = np.zeros(3)
    for i in range(8):
        w_ref -= 0.1 * (X[i] @ w_ref - y[i]) * X[i]
    np.testing.assert_allclose(w_sgd, w_ref, rtol=1e-13)
