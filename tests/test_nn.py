"""Tests for ftrlx.nn: finite differences, PyTorch autograd, equivalences, errors."""

import copy

import numpy as np
import pytest

from ftrlx.nn import BatchNorm, GroupNorm, InstanceNorm, LayerNorm


def _layer_and_input(kind, rng):
    """A small float64 layer with non-trivial gamma/beta and a matching input."""
    if kind == "batch2d":
        layer, shape = BatchNorm(3), (5, 3)
    elif kind == "batch4d":
        layer, shape = BatchNorm(2), (3, 2, 2, 3)
    elif kind == "layer1":
        layer, shape = LayerNorm(4), (3, 4)
    elif kind == "layer2":
        layer, shape = LayerNorm((2, 3)), (2, 2, 2, 3)
    elif kind == "instance3d":
        layer, shape = InstanceNorm(3), (2, 3, 4)
    elif kind == "instance4d":
        layer, shape = InstanceNorm(2), (2, 2, 2, 3)
    elif kind == "group":
        layer, shape = GroupNorm(2, 4), (2, 4, 3)
    elif kind == "group2d":
        layer, shape = GroupNorm(2, 6), (3, 6)
    else:
        raise AssertionError(kind)
    layer.gamma = rng.normal(1.0, 0.5, layer.gamma_shape)
    layer.beta = rng.normal(0.0, 0.5, layer.gamma_shape)
    # Distinct scales per position so no group is near-constant.
    x = rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=shape) + 1.5
    return layer, x


KINDS = ["batch2d", "batch4d", "layer1", "layer2", "instance3d", "instance4d", "group", "group2d"]


def _numerical_gradient(f, a, h=1e-4):
    """Central differences with one Richardson step (error O(h^4))."""
    grad = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        orig = a[idx]

        def d(step):
            a[idx] = orig + step
            up = f()
            a[idx] = orig - step
            down = f()
            a[idx] = orig
            return (up - down) / (2 * step)

        grad[idx] = (4 * d(h / 2) - d(h)) / 3
    return grad


@pytest.mark.parametrize(
    "kind, training",
    [(kind, True) for kind in KINDS] + [("batch2d", False), ("batch4d", False)],
)
def test_backward_matches_finite_differences(kind, training):
    rng = np.random.default_rng(KINDS.index(kind))
    layer, x = _layer_and_input(kind, rng)
    if isinstance(layer, BatchNorm):
        layer.running_mean = rng.normal(size=layer.num_features)
        layer.running_var = rng.uniform(0.5, 2.0, size=layer.num_features)
        layer.train(training)
    R = rng.normal(size=x.shape)

    probe = copy.deepcopy(layer)

    def loss():
        return float(np.sum(probe.forward(x) * R))

    gamma, beta = probe.gamma, probe.beta
    num_dx = _numerical_gradient(loss, x)
    num_dgamma = _numerical_gradient(loss, gamma)
    num_dbeta = _numerical_gradient(loss, beta)

    layer.forward(x)
    dx, dgamma, dbeta = layer.backward(R)
    assert dx.shape == x.shape and dgamma.shape == layer.gamma_shape
    assert layer.dgamma is dgamma and layer.dbeta is dbeta
    for analytic, numeric in [(dx, num_dx), (dgamma, num_dgamma), (dbeta, num_dbeta)]:
        # atol covers the O(eps * |L| / h) rounding of the differences; the
        # gradients here are O(1), so rtol is what binds.
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", ["batch4d", "layer2", "instance3d", "group"])
def test_forward_output_statistics(kind):
    """With gamma=1, beta=0 every normalisation group has mean 0 and variance var/(var+eps)."""
    rng = np.random.default_rng(7)
    layer, x = _layer_and_input(kind, rng)
    layer.gamma = np.ones(layer.gamma_shape)
    layer.beta = np.zeros(layer.gamma_shape)
    layer.eps = 0.0
    y = layer.forward(x)
    if kind == "batch4d":
        axes, yv = (0, 2, 3), y
    elif kind == "layer2":
        axes, yv = (2, 3), y
    elif kind == "instance3d":
        axes, yv = (2,), y
    else:
        axes, yv = (2,), y.reshape(2, 2, -1)
    np.testing.assert_allclose(yv.mean(axis=axes), 0, atol=1e-14)
    np.testing.assert_allclose(yv.var(axis=axes), 1, rtol=1e-12)


def test_batch_norm_running_statistics_by_hand():
    bn = BatchNorm(2, momentum=0.25)
    batches = [np.array([[1.0, 4.0], [3.0, 0.0], [8.0, 2.0]]), np.array([[0.0, 1.0], [2.0, 5.0]])]
    rm, rv = np.zeros(2), np.ones(2)
    for b in batches:
        bn.forward(b)
        rm = 0.75 * rm + 0.25 * b.mean(axis=0)
        rv = 0.75 * rv + 0.25 * b.var(axis=0, ddof=1)
    np.testing.assert_allclose(bn.running_mean, rm, rtol=1e-15)
    np.testing.assert_allclose(bn.running_var, rv, rtol=1e-15)
    assert bn.num_batches_tracked == 2
    # Cumulative average when momentum is None.
    cum = BatchNorm(2, momentum=None)
    for b in batches:
        cum.forward(b)
    np.testing.assert_allclose(cum.running_mean, (batches[0].mean(0) + batches[1].mean(0)) / 2, rtol=1e-15)
    # Eval mode uses and keeps the running statistics.
    bn.eval()
    x = np.array([[2.0, 2.0]])
    np.testing.assert_allclose(bn.forward(x), (x - rm) / np.sqrt(rv + bn.eps), rtol=1e-14)
    np.testing.assert_allclose(bn.running_mean, rm, rtol=1e-15)
    assert bn.num_batches_tracked == 2


def test_group_norm_extremes_equal_layer_and_instance_norm():
    rng = np.random.default_rng(3)
    C = 4
    x = rng.normal(size=(3, C, 2, 3))
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    R = rng.normal(size=x.shape)

    g1 = GroupNorm(1, C)
    g1.gamma, g1.beta = gamma, beta
    ln = LayerNorm((C, 2, 3))
    ln.gamma = np.broadcast_to(gamma[:, None, None], (C, 2, 3)).copy()
    ln.beta = np.broadcast_to(beta[:, None, None], (C, 2, 3)).copy()
    np.testing.assert_allclose(g1.forward(x), ln.forward(x), rtol=1e-13)
    dx_g, dgam_g, _ = g1.backward(R)
    dx_l, dgam_l, _ = ln.backward(R)
    np.testing.assert_allclose(dx_g, dx_l, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dgam_g, dgam_l.sum(axis=(1, 2)), rtol=1e-12)

    gc = GroupNorm(C, C)
    inorm = InstanceNorm(C)
    for layer in (gc, inorm):
        layer.gamma, layer.beta = gamma, beta
    np.testing.assert_allclose(gc.forward(x), inorm.forward(x), rtol=1e-13)
    for a, b in zip(gc.backward(R), inorm.backward(R)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layer", [BatchNorm(2, dtype=np.float32), LayerNorm(2, dtype=np.float32)])
def test_float32_layers(layer):
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    y = layer.forward(x)
    dx, dgamma, dbeta = layer.backward(np.ones_like(x))
    assert y.dtype == dx.dtype == dgamma.dtype == dbeta.dtype == np.float32


# --- errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, exc, match",
    [
        (lambda: GroupNorm(3, 4), ValueError, "not divisible by num_groups=3"),
        (lambda: GroupNorm(0, 4), ValueError, "num_groups"),
        (lambda: BatchNorm(3, eps=-1e-5), ValueError, "eps"),
        (lambda: LayerNorm(3, eps=-1.0), ValueError, "eps"),
        (lambda: InstanceNorm(3, eps=np.nan), ValueError, "eps"),
        (lambda: GroupNorm(1, 2, eps="1e-5"), TypeError, "eps"),
        (lambda: BatchNorm(3, momentum=1.5), ValueError, "momentum"),
        (lambda: BatchNorm(2.0), TypeError, "num_features"),
        (lambda: BatchNorm(2, dtype=np.int32), ValueError, "dtype"),
        (lambda: LayerNorm(()), ValueError, "empty"),
        (lambda: LayerNorm((2, 0)), ValueError, "normalized_shape"),
        (lambda: LayerNorm("ab"), TypeError, "normalized_shape"),
    ],
)
def test_bad_construction_raises(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


@pytest.mark.parametrize(
    "layer, x, match",
    [
        (BatchNorm(3), np.ones(3), "1-d"),
        (BatchNorm(3), np.ones((4, 2)), "2 channels"),
        (BatchNorm(3), np.ones((1, 3)), "more than one value"),
        (InstanceNorm(2), np.ones((4, 2)), "2-d"),
        (InstanceNorm(2), np.ones((4, 3, 5)), "3 channels"),
        (InstanceNorm(2), np.ones((4, 2, 1)), "more than one spatial"),
        (GroupNorm(2, 4), np.ones((4, 6, 2)), "6 channels"),
        (LayerNorm((2, 3)), np.ones((4, 3, 2)), "normalized_shape"),
        (LayerNorm(2), np.array([[1.0, np.nan]]), "NaN"),
        (BatchNorm(2), np.array([[1.0, np.inf], [0.0, 0.0]]), "NaN or infinity"),
        (GroupNorm(1, 2), np.array([["a", "b"]]), "numeric"),
        (LayerNorm(2, eps=0.0), np.array([[1.0, 1.0]]), "zero variance"),
    ],
)
def test_bad_input_raises_and_leaves_layer_unchanged(layer, x, match):
    state = copy.deepcopy(layer.__dict__)
    with pytest.raises((ValueError, TypeError), match=match):
        layer.forward(x)
    assert state.keys() == layer.__dict__.keys()
    for key, value in state.items():
        np.testing.assert_equal(layer.__dict__[key], value)


def test_backward_errors():
    ln = LayerNorm(3)
    with pytest.raises(RuntimeError, match="before forward"):
        ln.backward(np.ones((2, 3)))
    ln.forward(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"dy has shape \(3, 2\)"):
        ln.backward(np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        ln.backward(np.full((2, 3), np.nan))
    assert ln.dgamma is None
    ln.gamma = np.ones(4)
    with pytest.raises(ValueError, match="gamma has shape"):
        ln.forward(np.ones((2, 3)))


def test_bad_running_statistics_raise_in_eval_mode():
    bn = BatchNorm(2).eval()
    bn.running_var = np.array([1.0, -0.5])
    with pytest.raises(ValueError, match="running_var has negative"):
        bn.forward(np.ones((3, 2)))
    bn.running_var = np.ones(3)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        bn.forward(np.ones((3, 2)))


def test_failed_training_forward_keeps_running_statistics():
    bn = BatchNorm(2)
    bn.forward(np.array([[1.0, 2.0], [3.0, 7.0]]))
    before = (bn.running_mean.copy(), bn.running_var.copy(), bn.num_batches_tracked)
    with pytest.raises(ValueError):
        bn.forward(np.array([[1.0, np.nan], [3.0, 7.0]]))
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_var, before[1])
    assert bn.num_batches_tracked == before[2]


# --- PyTorch oracle --------------------------------------------------------------


def _torch_grads(fn, x, gamma, beta, R):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(gamma, requires_grad=True)
    bt = torch.tensor(beta, requires_grad=True)
    y = fn(xt, gt, bt)
    y.backward(torch.tensor(R))
    return y.detach().numpy(), xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


def _compare(layer, x, R, fn):
    y = layer.forward(x)
    ours = (y,) + layer.backward(R)
    theirs = _torch_grads(fn, x, layer.gamma, layer.beta, R)
    for name, a, b in zip(["y", "dx", "dgamma", "dbeta"], ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["batch2d", "batch4d"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_against_torch(kind, momentum):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(11)
    layer, x = _layer_and_input(kind, rng)
    layer.momentum = momentum
    C = layer.num_features
    rm, rv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    tracked = 0
    for step in range(3):
        x = rng.normal(size=x.shape) * 2 + step
        R = rng.normal(size=x.shape)
        tracked += 1
        factor = 1.0 / tracked if momentum is None else momentum
        _compare(layer, x, R, lambda xt, g, b: F.batch_norm(xt, rm, rv, g, b, True, factor, layer.eps))
        np.testing.assert_allclose(layer.running_mean, rm.numpy(), rtol=1e-12)
        np.testing.assert_allclose(layer.running_var, rv.numpy(), rtol=1e-12)
    layer.eval()
    x = rng.normal(size=x.shape)
    R = rng.normal(size=x.shape)
    _compare(layer, x, R, lambda xt, g, b: F.batch_norm(xt, rm, rv, g, b, False, 0.1, layer.eps))


_TORCH_NORMS = {
    "layer": lambda F, layer: lambda xt, g, b: F.layer_norm(xt, layer.normalized_shape, g, b, layer.eps),
    "instance": lambda F, layer: lambda xt, g, b: F.instance_norm(xt, weight=g, bias=b, eps=layer.eps),
}


@pytest.mark.torch
@pytest.mark.parametrize(
    "kind, seeds, norm",
    [
        ("layer1", (12, 0), "layer"),
        ("layer2", (12, 0), "layer"),
        ("instance3d", (13, 1), "instance"),
        ("instance4d", (13, 1), "instance"),
    ],
)
def test_layer_and_instance_norm_against_torch(kind, seeds, norm):
    torch = pytest.importorskip("torch")
    layer, x = _layer_and_input(kind, np.random.default_rng(seeds[0]))
    R = np.random.default_rng(seeds[1]).normal(size=x.shape)
    _compare(layer, x, R, _TORCH_NORMS[norm](torch.nn.functional, layer))


@pytest.mark.torch
@pytest.mark.parametrize("groups", [1, 2, 4])
def test_group_norm_against_torch(groups):
    torch = pytest.importorskip("torch")
    layer = GroupNorm(groups, 4, eps=1e-3)
    rng = np.random.default_rng(14 + groups)
    layer.gamma, layer.beta = rng.normal(size=4), rng.normal(size=4)
    x = rng.normal(size=(3, 4, 2, 3))
    R = rng.normal(size=x.shape)
    fn = lambda xt, g, b: torch.nn.functional.group_norm(xt, groups, g, b, layer.eps)  # noqa: E731
    _compare(layer, x, R, fn)
