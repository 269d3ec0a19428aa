"""Checks run on every optimizer found in ``ftrlx.optim`` (river's ``optim/test_.py`` idea).

Each optimizer class provides ``_unit_test_params()`` (a small valid instance)
and ``_convergence_params()`` (settings plus an iteration budget); new
optimizers are picked up automatically.
"""

import copy
import pickle

import numpy as np
import pytest

from ftrlx import optim
from ftrlx.optim.base import all_optimizers, all_schedules

OPTIMIZERS = all_optimizers()
SCHEDULES = all_schedules()
IDS = [c.__name__ for c in OPTIMIZERS]

# The common problem: f(x) = x'Qx/2 - b'x, condition number 10, gradient norm 1 at x0.
Q = np.diag([1.0, 2.0, 5.0, 10.0])
B = np.array([1.0, -1.0, 0.5, 0.0])
XSTAR = np.linalg.solve(Q, B)
_d = np.array([1.0, 1.0, -1.0, 1.0])
X0 = XSTAR + np.linalg.solve(Q, _d / np.linalg.norm(_d))


def grad(x):
    return Q @ x - B


def build(cls, params=None):
    kw = cls._unit_test_params() if params is None else params
    return cls(**copy.deepcopy(kw))


def _canon(value):
    if isinstance(value, dict):
        return tuple((repr(k), _canon(v)) for k, v in value.items())
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    return repr(value)


def snapshot(obj):
    """A bitwise fingerprint of an optimizer's step count and state (and its inner optimizer's)."""
    inner = getattr(obj, "optimizer", None)
    return (obj.t, _canon(obj.state)) + ((inner.t, _canon(inner.state)) if inner is not None else ())


def test_discovery_finds_the_catalogue():
    names = set(IDS)
    assert {
        "SGD",
        "AdaGrad",
        "RMSProp",
        "AdaDelta",
        "Adam",
        "AMSGrad",
        "NAdam",
        "AdaMax",
        "LazyAdam",
        "DeltaBarDelta",
        "Averaged",
        "ClipGradient",
    } <= names
    assert {"Constant", "InverseSqrt", "LinearDecay", "StepDecay", "ExponentialDecay"} <= {
        c.__name__ for c in SCHEDULES
    }


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=IDS)
def test_converges_on_convex_quadratic(cls):
    kw, budget = cls._convergence_params()
    opt = build(cls, kw)
    x = X0.copy()
    assert np.linalg.norm(grad(x)) == pytest.approx(1.0)
    for _ in range(budget):
        g = grad(x)
        if np.linalg.norm(g) <= 1e-6:
            break
        opt.step(x, g)
    assert np.linalg.norm(grad(x)) <= 1e-6, f"{cls.__name__} after {budget} steps: {x}"
    np.testing.assert_allclose(x, XSTAR, atol=1e-5)
    if hasattr(opt, "averaged"):
        np.testing.assert_allclose(opt.averaged(), XSTAR, atol=1e-5)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=IDS)
def test_pickle_round_trip_continues_identically(cls):
    opt = build(cls)
    params = {"w": X0.copy(), "bias": np.array([0.5])}
    for _ in range(3):
        opt.step(params, {"w": grad(params["w"]), "bias": 2 * params["bias"]})
    clone_opt, clone_params = pickle.loads(pickle.dumps((opt, params)))
    assert snapshot(clone_opt) == snapshot(opt)
    for o, p in ((opt, params), (clone_opt, clone_params)):
        for _ in range(3):
            o.step(p, {"w": grad(p["w"]), "bias": 2 * p["bias"]})
    assert params["w"].tobytes() == clone_params["w"].tobytes()
    assert snapshot(clone_opt) == snapshot(opt)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=IDS)
def test_zero_state_restarts_from_scratch(cls):
    opt = build(cls)
    x1 = X0.copy()
    for _ in range(4):
        opt.step(x1, grad(x1))
    opt.zero_state()
    assert opt.t == 0 and opt.state == {}
    x2, x3 = X0.copy(), X0.copy()
    opt.step(x2, grad(x2))
    build(cls).step(x3, grad(x3))
    assert x2.tobytes() == x3.tobytes()


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=IDS)
def test_list_params_match_single_array(cls):
    if cls is optim.RMSProp or (cls._unit_test_params().get("max_norm") is not None):
        pytest.skip("global-norm methods couple the arrays by design")
    a, b = build(cls), build(cls)
    x = X0.copy()
    parts = [X0[:2].copy(), X0[2:].copy()]
    for _ in range(5):
        a.step(x, grad(x))
        g = grad(np.concatenate(parts))
        b.step(parts, [g[:2], g[2:]])
    np.testing.assert_array_equal(np.concatenate(parts), x)


def _bad_settings(opt):
    """Yield (description, mutate) pairs that make ``opt`` invalid."""
    target = opt.optimizer if hasattr(opt, "optimizer") else opt
    yield "negative lr", lambda: setattr(target, "lr", -0.1)
    yield "nan lr", lambda: setattr(target, "lr", float("nan"))
    if hasattr(target, "betas"):
        yield "beta1 = 1", lambda: setattr(target, "betas", (1.0, 0.999))
        yield "beta2 < 0", lambda: setattr(target, "betas", (0.9, -0.1))
    for name in ("momentum", "alpha", "rho", "theta"):
        if hasattr(target, name):
            yield f"{name} = 1", lambda name=name: setattr(target, name, 1.0)
    if hasattr(target, "eps"):
        yield "negative eps", lambda: setattr(target, "eps", -1e-8)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=IDS)
def test_invalid_input_raises_and_changes_nothing(cls):
    opt = build(cls)
    x = X0.copy()
    opt.step(x, grad(x))
    bad_grads = [
        ("wrong shape", np.ones(3), ValueError),
        ("nan", np.array([0.1, np.nan, 0.0, 0.0]), ValueError),
        ("inf", np.array([0.1, 0.0, np.inf, 0.0]), ValueError),
        ("dict for array", {"w": grad(x)}, TypeError),
        ("strings", np.array(["a", "b", "c", "d"]), TypeError),
    ]
    for what, g, err in bad_grads:
        before_x, before_state = x.tobytes(), snapshot(opt)
        with pytest.raises(err):
            opt.step(x, g)
        assert x.tobytes() == before_x, what
        assert snapshot(opt) == before_state, what
    # A non-finite entry in the second array must not let the first one move.
    params = {"a": X0.copy(), "b": np.ones(2)}
    opt2 = build(cls)
    with pytest.raises(ValueError, match="non-finite"):
        opt2.step(params, {"a": grad(params["a"]), "b": np.array([1.0, np.inf])})
    assert params["a"].tobytes() == X0.tobytes() and opt2.state == {} and opt2.t == 0
    with pytest.raises(ValueError, match="shape"):
        opt2.step(params, {"a": grad(params["a"]), "b": np.ones(3)})
    assert params["a"].tobytes() == X0.tobytes() and opt2.state == {}

    n_bad = len(list(_bad_settings(opt)))
    assert n_bad >= 2
    for i in range(n_bad):
        trial = copy.deepcopy(opt)
        what, mutate = list(_bad_settings(trial))[i]
        xt = x.copy()
        before_x, before_state = xt.tobytes(), snapshot(trial)
        mutate()
        with pytest.raises((ValueError, TypeError)):
            trial.step(xt, grad(xt))
        assert xt.tobytes() == before_x, what
        assert snapshot(trial) == before_state, what


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=IDS)
def test_constructor_rejects_negative_lr(cls):
    kw = cls._unit_test_params()
    if "optimizer" in kw:
        with pytest.raises(TypeError, match="Optimizer"):
            cls(**{**kw, "optimizer": "adam"})
    else:
        with pytest.raises(ValueError, match="lr must be finite and >= 0, got -1.0"):
            cls(**{**kw, "lr": -1.0})


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=IDS)
def test_accepts_a_schedule(cls):
    kw = cls._unit_test_params()
    if "optimizer" in kw:
        pytest.skip("wrappers take the schedule of the wrapped optimizer")
    const = build(cls, {**kw, "lr": kw.get("lr", 0.01)})
    sched = build(cls, {**kw, "lr": optim.Constant(kw.get("lr", 0.01))})
    x1, x2 = X0.copy(), X0.copy()
    for _ in range(3):
        const.step(x1, grad(x1))
        sched.step(x2, grad(x2))
    np.testing.assert_array_equal(x1, x2)


@pytest.mark.parametrize("cls", SCHEDULES, ids=[c.__name__ for c in SCHEDULES])
def test_schedules_are_non_negative_and_picklable(cls):
    s = cls(**cls._unit_test_params())
    values = [s(t) for t in range(0, 500, 7)]
    assert all(v >= 0 for v in values)
    assert pickle.loads(pickle.dumps(s)) == s
    with pytest.raises(ValueError, match="step index"):
        s(-1)
